#!/usr/bin/env python3
"""Independent check of docs/PROTOCOL.md: rebuild the documented test vectors with only
an ed25519 library (PyNaCl), blake3 and a few lines of SCALE, following the document's
rules rather than cairn's code. Needs `pip install pynacl blake3`.

Usage: python3 scripts/protocol-check.py [docs/PROTOCOL.md]
"""
import re
import sys

import blake3
from nacl.signing import SigningKey

from scale import compact, u64


def parse_vectors(text):
    vectors, name, block = {}, None, False
    for line in text.splitlines():
        if line.startswith("#### Vector: ") or line.startswith("#### Execution vector: "):
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
    header = (chain_id + u64(1) + u64(1) + chain_id + root + bytes(32)
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


if __name__ == "__main__":
    main()
