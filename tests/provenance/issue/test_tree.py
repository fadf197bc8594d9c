"""Proof generation from stored subtrees, node ids and the compact range (provenance/issue/tree.py)."""

from __future__ import annotations

import pytest

from provenance import merkle
from provenance.errors import ProofError
from provenance.issue import tree as gen
from provenance.issue.tree import CompactRange, MemoryTree

N = 64
DATA = [b"leaf %d" % i for i in range(N)]


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    return MemoryTree(DATA)


def test_generation_refuses_impossible_requests(tree: MemoryTree) -> None:
    with pytest.raises(ProofError):
        tree.inclusion_proof(5, 5)
    with pytest.raises(ProofError):
        tree.consistency_proof(6, 5)
    with pytest.raises(ProofError, match="no node"):
        tree.inclusion_proof(0, N + 1)


def test_plan_nodes_asks_only_for_complete_aligned_subtrees_and_few_of_them() -> None:
    for size in range(1, 200):
        for index in (0, size // 2, size - 1):
            nodes = gen.plan_nodes(gen.inclusion_ranges(index, size))
            assert len(nodes) <= 2 * size.bit_length()
            for level, i in nodes:
                assert (i + 1) << level <= size


def test_appending_completes_exactly_the_full_ancestors() -> None:
    t = MemoryTree(DATA[:7])
    new = dict(gen.CompactRange.at(7, t.get_nodes).append(merkle.leaf_hash(DATA[7])))
    assert sorted(new) == [(0, 7), (1, 3), (2, 1), (3, 0)]
    assert new[(3, 0)] == MemoryTree(DATA[:8]).root()


def test_the_right_edge_is_one_complete_subtree_per_set_bit_largest_first() -> None:
    assert gen.right_edge(0) == []
    assert gen.right_edge(1) == [(0, 0)]
    assert gen.right_edge(8) == [(3, 0)]
    assert gen.right_edge(13) == [(3, 0), (2, 2), (0, 12)]  # leaves 0-7, 8-11, 12
    for size in range(200):
        # The same subtrees the root of the tree of that size is planned from.
        assert gen.right_edge(size) == (gen.plan_nodes([(0, size)]) if size else [])


def test_a_compact_range_gives_every_root_and_completes_exactly_the_stored_nodes(tree: MemoryTree) -> None:
    edge = CompactRange()
    completed: dict[tuple[int, int], bytes] = {}
    for size in range(N):
        assert edge.size == size and edge.root() == tree.root(size)
        completed.update(edge.append(merkle.leaf_hash(DATA[size])))
        # Taken up from the store at any size, it carries on alike.
        assert CompactRange.at(size + 1, tree.get_nodes).root() == tree.root(size + 1)
    assert edge.root() == tree.root(N)
    assert completed == tree.nodes


def test_a_compact_range_refuses_a_store_without_its_nodes_and_a_wrong_count_of_hashes() -> None:
    with pytest.raises(ProofError, match="no node"):
        CompactRange.at(5, MemoryTree(DATA[:4]).get_nodes)
    with pytest.raises(ProofError, match="2 right-edge nodes, not 1"):
        CompactRange(5, [merkle.EMPTY_ROOT])


@pytest.mark.parametrize(("level", "index"), [(0, 0), (0, 7), (3, 1), (47, 1), (5, 2**48 - 1)])
def test_a_node_id_keeps_level_and_index_apart(level: int, index: int) -> None:
    nid = gen.node_id(level, index)
    assert (gen.node_level(nid), gen.node_index(nid)) == (level, index)
    assert gen.node_id(0, index) == index  # a leaf's id is its index
