"""RFC 9162 (Certificate Transparency 2.0) Merkle trees over audit entry hashes: roots,
incremental roots, inclusion proofs and their verification. Pure and blocking-free."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class Accumulator:
    """The root of a growing tree in O(log n) memory: the roots of its perfect subtrees, largest
    first (the tree's "frontier"). Appending is amortised one node hash per leaf."""

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()) -> None:
        if len(frontier) != size.bit_count():
            raise ValueError("a frontier has one subtree per set bit of the size")
        self.size = size
        self._stack = list(frontier)

    def append(self, leaf: bytes) -> None:
        """Add a leaf's hash (already `leaf_hash`ed) at the end."""
        self._stack.append(leaf)
        self.size += 1
        carry = self.size
        while carry & 1 == 0:
            right = self._stack.pop()
            self._stack.append(node_hash(self._stack.pop(), right))
            carry >>= 1

    def root(self) -> bytes:
        """The RFC 9162 root of the leaves so far."""
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1]
        for subtree in reversed(self._stack[:-1]):
            root = node_hash(subtree, root)
        return root

    @property
    def frontier(self) -> list[bytes]:
        """The perfect subtrees' roots, largest first (store it to resume without the leaves)."""
        return list(self._stack)


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """The root over leaf hashes."""
    acc = Accumulator()
    for leaf in leaves:
        acc.append(leaf)
    return acc.root()


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf `index` in the tree of `leaves`, deepest sibling first."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    lo, hi, m = 0, len(leaves), index
    # Walk down from the root, noting each sibling subtree; then reverse to deepest-first.
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(tree_root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            path.append(tree_root(leaves[lo : lo + k]))
            lo, m = lo + k, m - k
    path.reverse()
    return path


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or None if the proof cannot be
    one for a tree of `size`."""
    if not 0 <= index < size:
        return None
    fn, sn, root = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            root = node_hash(sibling, root)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            root = node_hash(root, sibling)
        fn, sn = fn >> 1, sn >> 1
    return root if sn == 0 else None
