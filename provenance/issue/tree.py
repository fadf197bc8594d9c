"""Proof generation for the RFC 9162 §2.1 tree (docs/protocol.md §5): the issuer's half of provenance/merkle.py.

Generation is written against a tiny storage interface: a function that
returns the hashes of complete, aligned subtrees, addressed as
``(level, index)`` (the subtree of leaves ``[index·2^level, (index+1)·2^level)``).
Any range hash a proof needs decomposes into O(log n) such subtrees, so a
database that stores every complete subtree answers any proof for any earlier
tree size with O(log n) reads in one batch (:func:`plan_nodes` says which).
:class:`MemoryTree` is the in-memory store used by tests and tools.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from provenance.errors import ProofError
from provenance.merkle import EMPTY_ROOT, leaf_hash, node_hash

Node = tuple[int, int]  # (level, index)
NodeGetter = Callable[[Sequence[Node]], Mapping[Node, bytes]]


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, for small trees and cross-checks."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(root_from_leaf_hashes(hashes[:k]), root_from_leaf_hashes(hashes[k:]))


def _range_nodes(start: int, end: int, out: list[Node]) -> None:
    """Complete aligned subtrees whose hashes give MTH(D[start:end])."""
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        out.append((n.bit_length() - 1, start // n))
        return
    k = _split(n)
    _range_nodes(start, start + k, out)
    _range_nodes(start + k, end, out)


def _range_hash(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        return nodes[(n.bit_length() - 1, start // n)]
    k = _split(n)
    return node_hash(_range_hash(start, start + k, nodes), _range_hash(start + k, end, nodes))


def _inclusion_ranges(index: int, start: int, end: int, out: list[tuple[int, int]]) -> None:
    # PATH(m, D[n]) of RFC 9162 §2.1.3.1, recorded as ranges, leaf to root.
    n = end - start
    if n == 1:
        return
    k = _split(n)
    if index - start < k:
        _inclusion_ranges(index, start, start + k, out)
        out.append((start + k, end))
    else:
        _inclusion_ranges(index, start + k, end, out)
        out.append((start, start + k))


def _consistency_ranges(m: int, start: int, end: int, complete: bool, out: list[tuple[int, int]]) -> None:
    # SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1, recorded as ranges.
    n = end - start
    if m == n:
        if not complete:
            out.append((start, end))
        return
    k = _split(n)
    if m <= k:
        _consistency_ranges(m, start, start + k, complete, out)
        out.append((start + k, end))
    else:
        _consistency_ranges(m - k, start + k, end, False, out)
        out.append((start, start + k))


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    out: list[tuple[int, int]] = []
    _inclusion_ranges(index, 0, size, out)
    return out


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    out: list[tuple[int, int]] = []
    if 0 < first < second:
        _consistency_ranges(first, 0, second, True, out)
    return out


def plan_nodes(ranges: Iterable[tuple[int, int]]) -> list[Node]:
    """Every stored node needed to hash ``ranges``; fetch them in one batch."""
    out: list[Node] = []
    for start, end in ranges:
        _range_nodes(start, end, out)
    return list(dict.fromkeys(out))


def hashes_for_ranges(ranges: Sequence[tuple[int, int]], get_nodes: NodeGetter) -> list[bytes]:
    nodes = get_nodes(plan_nodes(ranges))
    try:
        return [_range_hash(start, end, nodes) for start, end in ranges]
    except KeyError as exc:
        raise ProofError(f"the store has no node {exc.args[0]}") from exc


def inclusion_proof(index: int, size: int, get_nodes: NodeGetter) -> list[bytes]:
    return hashes_for_ranges(inclusion_ranges(index, size), get_nodes)


def consistency_proof(first: int, second: int, get_nodes: NodeGetter) -> list[bytes]:
    return hashes_for_ranges(consistency_ranges(first, second), get_nodes)


def tree_root(size: int, get_nodes: NodeGetter) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return hashes_for_ranges([(0, size)], get_nodes)[0]


def nodes_completed_by_append(index: int, leaf: bytes, get_nodes: NodeGetter) -> dict[Node, bytes]:
    """Nodes that become complete when leaf ``index`` is appended: (0, index) and its full ancestors.

    Reads at most log2(index) existing nodes (the left siblings), in one batch.
    """
    new: dict[Node, bytes] = {(0, index): leaf}
    needed: list[Node] = []
    level, i = 0, index
    while i % 2 == 1:
        needed.append((level, i - 1))
        level, i = level + 1, i // 2
    siblings = get_nodes(needed) if needed else {}
    current, level, i = leaf, 0, index
    while i % 2 == 1:
        current = node_hash(siblings[(level, i - 1)], current)
        level, i = level + 1, i // 2
        new[(level, i)] = current
    return new


class MemoryTree:
    """An append-only tree in memory that stores every complete subtree."""

    def __init__(self, leaf_data: Iterable[bytes] = ()) -> None:
        self.nodes: dict[Node, bytes] = {}
        self.size = 0
        for data in leaf_data:
            self.append(data)

    def get_nodes(self, wanted: Sequence[Node]) -> Mapping[Node, bytes]:
        return {n: self.nodes[n] for n in wanted if n in self.nodes}

    def append(self, data: bytes) -> int:
        return self.append_hash(leaf_hash(data))

    def append_hash(self, leaf: bytes) -> int:
        index = self.size
        self.nodes.update(nodes_completed_by_append(index, leaf, self.get_nodes))
        self.size += 1
        return index

    def root(self, size: int | None = None) -> bytes:
        return tree_root(self.size if size is None else size, self.get_nodes)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self.size if size is None else size, self.get_nodes)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        return consistency_proof(first, self.size if second is None else second, self.get_nodes)
