"""Consistency proofs computed from tlog-tiles equal the issuer's proofs from stored nodes, and verify."""

from __future__ import annotations

import random

import pytest

from provenance import merkle
from provenance.errors import ProofError
from provenance.issue.tree import MemoryTree
from provenance.tiles import Tile, consistency_proof_from_tiles


def _tree(size: int) -> MemoryTree:
    tree = MemoryTree()
    for i in range(size):
        tree.append_hash(i.to_bytes(32, "big"))
    return tree


def _reader(tree: MemoryTree):  # type: ignore[no-untyped-def]
    def read(tile: Tile) -> bytes:
        level, start = tile.hash_level * 8, tile.index * 256
        nodes = tree.get_nodes([(level, start + j) for j in range(tile.width)])
        return b"".join(nodes[(level, start + j)] for j in range(tile.width))

    return read


def test_tile_proofs_equal_the_issuers_and_verify() -> None:
    tree = _tree(70_000)
    rng = random.Random(7)
    pairs = [(1, 2), (3, 7), (256, 257), (255, 70_000), (1000, 65_536), (65_536, 70_000), (69_999, 70_000)]
    pairs += [tuple(sorted(rng.sample(range(1, 70_001), 2))) for _ in range(40)]  # type: ignore[misc]
    for first, second in pairs:
        proof = consistency_proof_from_tiles(first, second, _reader(tree))
        assert proof == tree.consistency_proof(first, second), (first, second)
        merkle.verify_consistency(first, second, tree.root(first), tree.root(second), proof)


def test_a_forged_tile_gives_a_proof_that_fails() -> None:
    tree = _tree(600)
    honest = _reader(tree)

    def forged(tile: Tile) -> bytes:
        data = bytearray(honest(tile))
        data[0] ^= 1
        return bytes(data)

    proof = consistency_proof_from_tiles(100, 600, forged)
    with pytest.raises(ProofError):
        merkle.verify_consistency(100, 600, tree.root(100), tree.root(600), proof)
