"""The few lines of SCALE that the document checks need (docs/PROTOCOL.md section 1),
written from the document, not from cairn's code."""


def compact(n):
    """SCALE compact encoding of a length `n` < 2**30, smallest mode that fits."""
    if n < 1 << 6:
        return bytes([n << 2])
    if n < 1 << 14:
        return ((n << 2) | 1).to_bytes(2, "little")
    if n < 1 << 30:
        return ((n << 2) | 2).to_bytes(4, "little")
    raise ValueError("too long")


def u64(n):
    """A u64, little-endian."""
    return n.to_bytes(8, "little")
