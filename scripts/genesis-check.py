#!/usr/bin/env python3
"""Independent check of docs/GENESIS.md: rebuild the genesis-hash test vector from the
document's rules alone, with an ed25519 library (PyNaCl), blake3 and a few lines of
SCALE and base58, without cairn's code. Needs `pip install pynacl blake3`.

Usage: python3 scripts/genesis-check.py [docs/GENESIS.md]
"""
import datetime
import json
import re
import sys

import blake3
from nacl.signing import SigningKey

from scale import compact, u64

DEFAULT_PARAMS = [  # docs/GENESIS.md section 2, in hashing order
    ("round_timeout_ms", 1000),
    ("max_round_timeout_ms", 30000),
    ("heartbeat_ms", 5000),
    ("max_block_txs", 2000),
    ("max_block_bytes", 4194304),
    ("max_tx_bytes", 66816),
]
ROLE_BYTE = {"reader": 0, "writer": 1, "admin": 2}
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def vector(text, name):
    """The JSON document and the `field = hex` fields of vector `name`."""
    start = text.index(f"#### Vector: {name}\n")
    blocks = re.findall(r"```(\w*)\n(.*?)```", text[start:], re.S)
    (json_info, document), (text_info, body) = blocks[0], blocks[1]
    assert (json_info, text_info) == ("json", "text"), (json_info, text_info)
    fields = {}
    for line in body.splitlines():
        field, value = (s.strip() for s in line.split("=", 1))
        fields[field] = fields.get(field, "") + value
    return json.loads(document), fields




def string(s):
    data = s.encode("utf-8")
    return compact(len(data)) + data




def base58_decode(s):
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * (len(s) - len(s.lstrip("1"))) + body


def unix_ms(text):
    assert text.endswith("Z"), "the vector uses Z"
    when = datetime.datetime.fromisoformat(text[:-1] + "+00:00")
    return round(when.timestamp() * 1000)


def canonical(doc):
    out = string(doc["chain_name"]) + u64(unix_ms(doc["genesis_time"]))
    params = doc.get("params", {})
    for field, default in DEFAULT_PARAMS:
        out += u64(params.get(field, default))
    out += compact(len(doc["validators"]))
    for v in doc["validators"]:
        peer = base58_decode(v["peer_id"])
        assert peer[:6] == bytes.fromhex("002408011220") and len(peer) == 38, "ed25519 identity peer id"
        # The vector's address is already in canonical multiaddr text form.
        out += string(v["name"]) + bytes.fromhex(v["consensus_key"])
        out += compact(len(peer)) + peer + string(v["address"])
    out += compact(len(doc["accounts"]))
    for a in doc["accounts"]:
        out += b"\x00" if a.get("name") is None else b"\x01" + string(a["name"])
        out += bytes.fromhex(a["public_key"]) + bytes([ROLE_BYTE[a["role"]]]) + u64(a["balance"])
    return out


def public(seed_hex):
    return SigningKey(bytes.fromhex(seed_hex)).verify_key.encode()


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "docs/GENESIS.md"
    doc, fields = vector(open(path, encoding="utf-8").read(), "genesis-example")
    v0 = doc["validators"][0]
    assert public(fields["consensus_seed"]).hex() == v0["consensus_key"], "consensus key"
    assert public(fields["network_seed"]).hex() == fields["network_key"], "network key"
    assert base58_decode(v0["peer_id"])[6:].hex() == fields["network_key"], "peer id embeds the network key"
    assert public(fields["account_seed"]).hex() == doc["accounts"][0]["public_key"], "account key"
    encoded = canonical(doc)
    assert encoded.hex() == fields["canonical"], f"canonical:\n{encoded.hex()}\n{fields['canonical']}"
    digest = blake3.blake3(b"cairn/genesis/v1" + encoded).hexdigest()
    assert digest == fields["genesis_hash"], f"genesis hash {digest} != {fields['genesis_hash']}"
    print(f"genesis-example: ok ({digest})")


if __name__ == "__main__":
    main()
