"""RFC 9162 Merkle trees: roots against the RFC's recursive definition, inclusion proofs for
every leaf of many tree sizes, and proofs that must fail."""

from __future__ import annotations

import hashlib

import pytest

from doorstep.gateway.audit.merkle import (
    EMPTY_ROOT,
    Accumulator,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    tree_root,
)


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 §2.1.1 defines it (recursive, on leaf hashes)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def leaves_of(n: int) -> list[bytes]:
    return [leaf_hash(f"entry {i}".encode()) for i in range(n)]


def test_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert tree_root([]) == EMPTY_ROOT


@pytest.mark.parametrize("n", [*range(1, 34), 64, 65, 100, 1000])
def test_root_matches_the_rfc_definition(n: int) -> None:
    leaves = leaves_of(n)
    assert tree_root(leaves) == reference_root(leaves)


def test_an_accumulator_resumes_from_its_frontier() -> None:
    leaves = leaves_of(77)
    first = Accumulator()
    for leaf in leaves[:45]:
        first.append(leaf)
    resumed = Accumulator(first.size, first.frontier)
    for leaf in leaves[45:]:
        resumed.append(leaf)
    assert resumed.root() == reference_root(leaves)
    with pytest.raises(ValueError, match="frontier"):
        Accumulator(45, first.frontier[:-1])


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33])
def test_every_leaf_has_a_proof_that_leads_to_the_root(n: int) -> None:
    leaves = leaves_of(n)
    root = tree_root(leaves)
    for index, leaf in enumerate(leaves):
        path = inclusion_proof(index, leaves)
        assert root_from_inclusion(index, n, leaf, path) == root


def test_wrong_proofs_do_not_lead_to_the_root() -> None:
    leaves = leaves_of(13)
    root = tree_root(leaves)
    path = inclusion_proof(6, leaves)
    assert root_from_inclusion(6, 13, leaves[7], path) != root  # another leaf
    assert root_from_inclusion(7, 13, leaves[6], path) != root  # another position
    bigger = tree_root([*leaves, leaf_hash(b"one more")])
    assert root_from_inclusion(6, 14, leaves[6], path) != bigger  # another tree's root
    assert root_from_inclusion(6, 7, leaves[6], path) is None  # a shape that size lacks
    assert root_from_inclusion(6, 13, leaves[6], path[:-1]) != root  # cut short
    assert root_from_inclusion(6, 13, leaves[6], [*path, path[0]]) is None  # too long
    assert root_from_inclusion(13, 13, leaves[6], path) is None
    with pytest.raises(ValueError, match="leaf 13 is not in a tree of 13"):
        inclusion_proof(13, leaves)
