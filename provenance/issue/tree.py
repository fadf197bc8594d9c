"""Proof generation for the RFC 9162 §2.1 tree (docs/protocol.md §5): the issuer's half of provenance/merkle.py.

Generation is written against a tiny storage interface: a function that
returns the hashes of complete, aligned subtrees, addressed as
``(level, index)`` (the subtree of leaves ``[index·2^level, (index+1)·2^level)``).
Any range hash a proof needs decomposes into O(log n) such subtrees, so a
database that stores every complete subtree answers any proof for any earlier
tree size with O(log n) reads in one batch (:func:`plan_nodes` says which).
:class:`MemoryTree` is the in-memory store used by tests and tools.

Appending goes through :class:`CompactRange`, which holds only the right edge
of the tree; :func:`node_id` is how a store keys the nodes it keeps.
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


# --- node ids and the compact range ------------------------------------------

NODE_INDEX_BITS = 48  # 2^48 leaves: far beyond any catalog; the level takes the bits above
_INDEX_MASK = (1 << NODE_INDEX_BITS) - 1


def node_id(level: int, index: int) -> int:
    """One integer naming node ``(level, index)``, the key a store files it under (``LogNode.id``)."""
    return (level << NODE_INDEX_BITS) | index


def node_level(nid: int) -> int:
    return nid >> NODE_INDEX_BITS


def node_index(nid: int) -> int:
    return nid & _INDEX_MASK


def right_edge(size: int) -> list[Node]:
    """The compact range of ``[0, size)``: one complete subtree per set bit of ``size``, the largest first.

    A tree grows only from these nodes: appending leaf ``size`` hashes it into
    the smallest ones (as many as ``size`` has trailing one bits), and the root
    of the tree of ``size`` is their hashes folded from the right.
    """
    nodes: list[Node] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


class CompactRange:
    """A growing tree held as the hashes of its :func:`right_edge` only: O(log n) memory at any size.

    The one implementation of "complete subtrees on the right edge" (as
    transparency-dev/merkle's compact.Range from leaf 0): the registry's log
    appends through it, its audit recomputes every stored node and checkpoint
    root through it in one streaming pass over the leaves, and the bench writes
    a synthetic log's nodes with it. It relies on one invariant of the store,
    that every complete subtree is stored under :func:`node_id` as soon as its
    last leaf is appended; the audit (registry/transparency/audit.py) checks it.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if size < 0 or len(hashes) != size.bit_count():
            raise ProofError(
                f"a tree of size {size} has {max(size, 0).bit_count()} right-edge nodes, not {len(hashes)}"
            )
        self.size = size
        self._hashes = list(hashes)  # the hashes of right_edge(size), in its order

    @classmethod
    def at(cls, size: int, get_nodes: NodeGetter) -> CompactRange:
        """The range of a stored tree of ``size`` leaves, read in one batch."""
        nodes = right_edge(size)
        found = get_nodes(nodes) if nodes else {}
        try:
            return cls(size, [found[n] for n in nodes])
        except KeyError as exc:
            raise ProofError(f"the store has no node {exc.args[0]}") from exc

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        """Append leaf hash ``leaf`` at index ``size``; return the nodes it completes, itself first, the largest last."""
        index = self.size
        hashes = self._hashes
        completed = [((0, index), leaf)]
        h, level, i = leaf, 0, index
        while i & 1:  # one merge per trailing one bit: with the left sibling that waited on the edge
            h = node_hash(hashes.pop(), h)
            level, i = level + 1, i >> 1
            completed.append(((level, i), h))
        hashes.append(h)
        self.size = index + 1
        return completed

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The hashes of the right edge's complete subtrees, the largest (leftmost) first."""
        return tuple(self._hashes)

    def root(self) -> bytes:
        """MTH of the tree so far (RFC 9162 §2.1.1)."""
        if not self._hashes:
            return EMPTY_ROOT
        current = self._hashes[-1]
        for h in reversed(self._hashes[:-1]):
            current = node_hash(h, current)
        return current


class MemoryTree:
    """An append-only tree in memory that stores every complete subtree."""

    def __init__(self, leaf_data: Iterable[bytes] = ()) -> None:
        self.nodes: dict[Node, bytes] = {}
        self.size = 0
        self._edge = CompactRange()
        for data in leaf_data:
            self.append(data)

    def get_nodes(self, wanted: Sequence[Node]) -> Mapping[Node, bytes]:
        return {n: self.nodes[n] for n in wanted if n in self.nodes}

    def append(self, data: bytes) -> int:
        return self.append_hash(leaf_hash(data))

    def append_hash(self, leaf: bytes) -> int:
        index = self.size
        self.nodes.update(self._edge.append(leaf))
        self.size += 1
        return index

    def root(self, size: int | None = None) -> bytes:
        return tree_root(self.size if size is None else size, self.get_nodes)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self.size if size is None else size, self.get_nodes)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        return consistency_proof(first, self.size if second is None else second, self.get_nodes)
