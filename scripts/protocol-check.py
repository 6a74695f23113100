#!/usr/bin/env python3
"""Independent check of docs/PROTOCOL.md: rebuild the documented test vectors with only
an ed25519 library (PyNaCl), blake3 and a few lines of SCALE, following the document's
rules rather than cairn's code. Needs `pip install pynacl blake3`.

Usage: python3 scripts/protocol-check.py [docs/PROTOCOL.md]
"""
import re
import sys

import hashlib

import blake3
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from scale import compact, u64


def parse_vectors(text):
    vectors, name, block = {}, None, False
    for line in text.splitlines():
        if line.startswith(("#### Vector: ", "#### Execution vector: ", "#### Signature vector: ")):
            name = line.split(": ", 1)[1].strip()
            vectors[name] = {}
        elif line.startswith("```"):
            block = (not block) and name is not None
            if not block:
                name = None
        elif block and "=" in line:
            field, value = (s.strip() for s in line.split("=", 1))
            vectors[name][field] = vectors[name].get(field, "") + value
    return vectors






def h(data):
    return blake3.blake3(data).digest()


def check(label, got, want):
    if got.hex() != want:
        sys.exit(f"MISMATCH {label}:\n  rebuilt  {got.hex()}\n  document {want}")
    print(f"ok  {label}")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "docs/PROTOCOL.md"
    vectors = parse_vectors(open(path, encoding="utf-8").read())
    chain_id = h(b"cairn protocol test vectors")
    alice = SigningKey(bytes(range(0x01, 0x21)))
    bob = SigningKey(bytes(range(0x41, 0x61)))
    sender = bytes(alice.verify_key)

    ops = {
        "tx-put": (0, bytes([0]) + compact(8) + b"greeting" + compact(12) + b"hello, cairn"),
        "tx-transfer": (1, bytes([2]) + bytes(bob.verify_key) + u64(1_000_000)),
    }
    tx_hashes = []
    for name, (nonce, op) in ops.items():
        v = vectors[name]
        payload = chain_id + sender + u64(nonce) + op
        signing = b"cairn/tx/v1" + payload
        signature = alice.sign(signing).signature
        tx = payload + signature
        check(f"{name} public_key", sender, v["public_key"])
        check(f"{name} payload", payload, v["payload"])
        check(f"{name} signing_bytes", signing, v["signing_bytes"])
        check(f"{name} signature", signature, v["signature"])
        check(f"{name} transaction", tx, v["transaction"])
        check(f"{name} tx_hash", h(tx), v["tx_hash"])
        tx_hashes.append(h(tx))

    leaf = lambda x: h(b"\x00" + x)
    node = lambda l, r: h(b"\x01" + l + r)
    root = node(leaf(tx_hashes[0]), leaf(tx_hashes[1]))
    check("merkle-two-transactions root", root, vectors["merkle-two-transactions"]["root"])
    proof = u64(1) + u64(2) + compact(1) + leaf(tx_hashes[0])
    check("merkle-two-transactions proof_1", proof, vectors["merkle-two-transactions"]["proof_1"])
    three = [h(bytes([i])) for i in range(3)]
    root3 = node(node(leaf(three[0]), leaf(three[1])), leaf(three[2]))
    check("merkle-three-leaves root", root3, vectors["merkle-three-leaves"]["root"])
    check("merkle-empty root", h(b""), vectors["merkle-empty"]["root"])

    genesis_qc = chain_id + u64(0) + u64(0) + bytes(32) + u64(0) + compact(0)
    # state_height 0 and a zero state_root: the claim that vouches for nothing.
    header = (chain_id + u64(1) + u64(1) + chain_id + root + u64(0) + bytes(32)
              + (1).to_bytes(2, "little") + u64(1_795_000_000_000) + genesis_qc)
    check("block-header header", header, vectors["block-header"]["header"])
    check("block-header block_id", h(header), vectors["block-header"]["block_id"])

    validator = SigningKey(bytes(range(0x81, 0xA1)))
    vote_data = h(header) + u64(1) + u64(1) + chain_id + u64(0)
    signing = b"cairn/vote/v1" + chain_id + vote_data
    vote = vote_data + (1).to_bytes(2, "little") + validator.sign(signing).signature
    check("vote signing_bytes", signing, vectors["vote"]["signing_bytes"])
    check("vote vote", vote, vectors["vote"]["vote"])
    check_timeouts(vectors, chain_id, validator, vote_data, vote[-64:])
    check_state_hash_chain(vectors["state-hash-chain"], chain_id, sender)
    check_signature_vectors(vectors, vectors["tx-put"]["payload"])
    print("all vectors rebuilt from the document's rules")


def u16(n):
    return n.to_bytes(2, "little")


def check_timeouts(vectors, chain_id, validator, vote_data, vote_signature):
    """Section 7: a one-signer QC, a timeout on it, a TC, and a timeout carrying the TC."""
    v, w = vectors["timeout"], vectors["timeout-cert"]
    signer = u16(1)
    qc_round = 1
    qc = vote_data + compact(1) + signer + vote_signature
    check("timeout quorum_cert", qc, v["quorum_cert"])

    def timeout_signing(round_):
        return b"cairn/timeout/v1" + chain_id + u64(round_) + u64(qc_round)

    signing = timeout_signing(2)
    signature = validator.sign(signing).signature
    check("timeout signing_bytes", signing, v["signing_bytes"])
    timeout = u64(2) + qc + b"\x00" + signer + signature
    check("timeout timeout", timeout, v["timeout"])

    # The TC carries the QC of the highest reported round (here the only one).
    tc = u64(2) + qc + compact(1) + signer + u64(qc_round) + signature
    check("timeout-cert timeout_cert", tc, w["timeout_cert"])
    signing = timeout_signing(3)
    check("timeout-cert signing_bytes", signing, w["signing_bytes"])
    after_tc = u64(3) + qc + b"\x01" + tc + signer + validator.sign(signing).signature
    check("timeout-cert timeout", after_tc, w["timeout"])


def check_state_hash_chain(v, chain_id, alice):
    """Section 11: the genesis change list from the rules, then S_0, S_1, S_2."""
    check("state-hash-chain chain_id", chain_id, v["chain_id"])
    admin = bytes([1, 2])  # Some(Role::Admin)
    genesis_e = compact(1) + bytes([2]) + alice + admin + u64(5_000_000) + u64(0)
    check("state-hash-chain genesis_e", genesis_e, v["genesis_e"])
    s = h(b"cairn/state/v1/genesis" + chain_id + genesis_e)
    check("state-hash-chain s_0", s, v["s_0"])
    for height in (1, 2):
        changes = bytes.fromhex(v[f"block_{height}_e"])
        receipts = bytes.fromhex(v[f"block_{height}_receipts"])
        s = h(b"cairn/state/v1" + s + u64(height) + h(changes) + h(receipts))
        check(f"state-hash-chain s_{height}", s, v[f"s_{height}"])



# Section 3's rule (ZIP-215 plus the key check), written from the document in plain
# integers: extended Edwards coordinates on -x^2 + y^2 = 1 + d x^2 y^2 over GF(p).
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1, 1, 0)


def add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    e, f = (y1 - x1) * (y2 - x2) % P, (y1 + x1) * (y2 + x2) % P
    g, h2 = 2 * D * t1 * t2 % P, 2 * z1 * z2 % P
    e, f, g, h2 = f - e, h2 - g, h2 + g, f + e
    return (e * f % P, g * h2 % P, f * g % P, e * h2 % P)


def mul(n, point):
    out = IDENTITY
    while n:
        if n & 1:
            out = add(out, point)
        point, n = add(point, point), n >> 1
    return out


def is_identity(point):
    x, y, z, _ = point
    return x % P == 0 and (y - z) % P == 0


def decode_point(data, canonical):
    """RFC 8032 5.1.3; with canonical=False, y >= p and "-0" are accepted (ZIP-215)."""
    n = int.from_bytes(data, "little")
    y, sign = n & (2**255 - 1), n >> 255
    if canonical and y >= P:
        return None
    y %= P
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if (v * x * x - u) % P:
        x = x * SQRT_M1 % P
    if (v * x * x - u) % P:
        return None
    if x == 0 and sign and canonical:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


BASE = decode_point((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"), True)


def rule_accepts(key, signing, sig):
    a = decode_point(key, canonical=True)
    if a is None or is_identity(mul(8, a)):
        return False  # step 1: not a canonical point, or of small order
    r = decode_point(sig[:32], canonical=False)
    s = int.from_bytes(sig[32:], "little")
    if r is None or s >= L:
        return False  # steps 2 and 3
    k = int.from_bytes(hashlib.sha512(sig[:32] + key + signing).digest(), "little") % L
    neg = lambda q: ((P - q[0]) % P, q[1], q[2], (P - q[3]) % P)
    # step 4: [8]([s]B - R - [k]A) is the identity
    return is_identity(mul(8, add(mul(s, BASE), neg(add(r, mul(k, a))))))


def libsodium_accepts(key, signing, sig):
    try:
        VerifyKey(key).verify(signing, sig)
        return True
    except (BadSignatureError, ValueError):
        return False


def check_signature_vectors(vectors, tx_put_payload):
    """Section 3: each signature vector's verdict, by the rule and by libsodium."""
    names = [n for n in vectors if n.startswith("sig-")]
    if not names:
        sys.exit("MISMATCH: no signature vectors in section 3")
    verdict = lambda ok: "accept" if ok else "refuse"
    for name in names:
        v = vectors[name]
        if v["message"] != tx_put_payload:
            sys.exit(f"MISMATCH {name}: message is not the tx-put payload")
        key, sig = bytes.fromhex(v["public_key"]), bytes.fromhex(v["signature"])
        signing = v["domain"].encode() + bytes.fromhex(v["message"])
        for label, ok in (("verdict", rule_accepts(key, signing, sig)),
                          ("libsodium", libsodium_accepts(key, signing, sig))):
            if verdict(ok) != v[label]:
                sys.exit(f"MISMATCH {name} {label}: rebuilt {verdict(ok)}, document {v[label]}")
            print(f"ok  {name} {label} {v[label]}")


if __name__ == "__main__":
    main()
