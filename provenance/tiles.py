"""C2SP tlog-tiles (docs/protocol.md §5.3): tile paths, entry bundles, and a tree hash rebuilt from tiles.

A tile at level ``L``, index ``N`` holds up to 256 consecutive hashes of tree
level ``8·L``: hash ``i`` is the subtree over leaves
``[(N·256 + i)·256^L, (N·256 + i + 1)·256^L)``. A full tile has 256 (8,192
bytes); the rightmost tile of a level is partial, of width
``(size >> 8·L) mod 256``, and is addressed with a ``.p/<W>`` suffix.
Entry bundles hold the level-0 entries themselves, each prefixed with its
length as a big-endian uint16. What a client needs: the path of a tile, which
tiles a tree size needs, and the tree hash from them; the registry's side
(reading them from the database) is registry/transparency/tiles.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from provenance.errors import ProofError
from provenance.limits import ENTRY_MAX
from provenance.merkle import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes, 8,192 bytes in a full hash tile
LEVEL_MAX = 63
ENTRIES = "entries"  # the level name of entry bundles in paths
_INDEX_GROUPS_MAX = 7  # 21 digits: every tile index of a tree of up to 2^64 entries

_LEVEL = r"(?P<level>entries|0|[1-9][0-9]?)"
_INDEX = r"(?P<index>(?:x[0-9]{3}/)*[0-9]{3})"
_WIDTH = r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
_PATH = re.compile(rf"tile/{_LEVEL}/{_INDEX}{_WIDTH}")


class TilePathError(ValueError):
    """A path that is not a tile path as tlog-tiles spells it (a 400, not a 404)."""


@dataclass(frozen=True)
class Tile:
    """Level ``level`` (``ENTRIES`` for an entry bundle), index ``index``, ``width`` hashes or entries."""

    level: int | str
    index: int
    width: int = TILE_WIDTH

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def hash_level(self) -> int:
        """The level whose hashes hash the entries: 0 for an entry bundle."""
        return 0 if self.level == ENTRIES else int(self.level)

    def path(self) -> str:
        return tile_path(self.level, self.index, self.width)

    def leaf_range(self) -> tuple[int, int]:
        """The entries ``[start, end)`` this tile's hashes span (its start and end index for a full tile)."""
        span = 1 << (TILE_HEIGHT * self.hash_level)
        start = self.index * TILE_WIDTH * span
        return start, start + self.width * span


def encode_index(index: int) -> str:
    """``1234067`` → ``x001/x234/067``: zero-padded 3-digit elements, all but the last prefixed with ``x``."""
    if index < 0:
        raise ValueError("a tile index is not negative")
    groups = []
    while True:
        index, rest = divmod(index, 1000)
        groups.append(f"{rest:03d}")
        if index == 0:
            break
    return "/".join(["x" + g for g in reversed(groups[1:])] + [groups[0]])


def tile_path(level: int | str, index: int, width: int = TILE_WIDTH) -> str:
    """The tile's path under the log's prefix: ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``."""
    if level != ENTRIES and not (isinstance(level, int) and 0 <= level <= LEVEL_MAX):
        raise ValueError(f"tile level {level!r} is not entries or 0–{LEVEL_MAX}")
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"tile width {width} is not 1–{TILE_WIDTH}")
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{encode_index(index)}{suffix}"


def parse_tile_path(path: str) -> Tile:
    """The tile a path names; :class:`TilePathError` unless it is spelled exactly as tlog-tiles says.

    Only the canonical spelling is accepted: no leading zero groups (``x000/001``),
    no leading zeros in the level or width, width 1–255, level 0–63.
    """
    m = _PATH.fullmatch(path)
    if m is None:
        raise TilePathError(f"not a tile path: {path[:100]!r}")
    groups = m["index"].split("/")
    if len(groups) > _INDEX_GROUPS_MAX:
        raise TilePathError("a tile index beyond any tree of 2^64 entries")
    if len(groups) > 1 and groups[0] == "x000":
        raise TilePathError("a tile index has no leading zero groups")
    index = int("".join(g.removeprefix("x") for g in groups))
    level: int | str = m["level"] if m["level"] == ENTRIES else int(m["level"])
    if level != ENTRIES and int(level) > LEVEL_MAX:
        raise TilePathError(f"a tile level is 0–{LEVEL_MAX}")
    width = int(m["width"]) if m["width"] else TILE_WIDTH
    if m["width"] and width >= TILE_WIDTH:
        raise TilePathError(f"a partial tile is 1–{TILE_WIDTH - 1} wide")
    return Tile(level, index, width)


def tile_for(level: int | str, index: int, size: int) -> Tile | None:
    """Tile ``index`` of ``level`` as it is in a tree of ``size`` (full or partial), None if it is empty."""
    hashes = size >> (TILE_HEIGHT * (0 if level == ENTRIES else int(level)))
    width = min(hashes - index * TILE_WIDTH, TILE_WIDTH)
    return Tile(level, index, width) if width > 0 else None


def tiles_of(size: int, level: int | str = 0) -> Iterator[Tile]:
    """Every non-empty tile of ``level`` in a tree of ``size``, left to right (a mirror's reading list)."""
    index = 0
    while (tile := tile_for(level, index, size)) is not None:
        yield tile
        index += 1


# --- entry bundles --------------------------------------------------------------


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Entries, each prefixed with its length as a big-endian uint16 (at most ``ENTRY_MAX`` bytes each)."""
    out = bytearray()
    for entry in entries:
        if len(entry) > ENTRY_MAX:
            raise ValueError(f"an entry of {len(entry)} bytes is over the {ENTRY_MAX}-byte limit of entry bundles")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def parse_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """The entries of a bundle; :class:`ProofError` if it is truncated or (given ``width``) has another count."""
    entries, pos = [], 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise ProofError("the entry bundle ends inside a length prefix")
        n = int.from_bytes(data[pos : pos + 2], "big")
        if pos + 2 + n > len(data):
            raise ProofError("the entry bundle ends inside an entry")
        entries.append(data[pos + 2 : pos + 2 + n])
        pos += 2 + n
    if width is not None and len(entries) != width:
        raise ProofError(f"the entry bundle holds {len(entries)} entries, not {width}")
    return entries


def split_hashes(data: bytes, width: int) -> list[bytes]:
    """The hashes of a hash tile of ``width``; :class:`ProofError` unless it is exactly ``32·width`` bytes."""
    if len(data) != HASH_SIZE * width:
        raise ProofError(f"a tile of width {width} is {HASH_SIZE * width} bytes, not {len(data)}")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def entry_hashes(data: bytes, width: int) -> list[bytes]:
    """The RFC 9162 leaf hashes of a bundle's entries: the level-0 tile it corresponds to."""
    return [leaf_hash(e) for e in parse_entry_bundle(data, width)]


# --- the tree hash from tiles -----------------------------------------------------


def _perfect_root(hashes: Sequence[bytes]) -> bytes:
    """MTH of a power-of-two number of subtree hashes."""
    level = list(hashes)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def _right_edge(size: int) -> Iterator[tuple[int, int]]:
    """The complete subtrees ``(level, index)`` that make up a tree of ``size``, the largest first."""
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            yield level, start >> level
            start += 1 << level


def tiles_for_root(size: int) -> list[Tile]:
    """The hash tiles a client reads to compute the tree hash at ``size`` (at most one per level)."""
    out: dict[Tile, None] = {}
    for level, index in _right_edge(size):
        tile_level, rest = divmod(level, TILE_HEIGHT)
        first = index << rest  # its first hash on tree level 8·tile_level
        tile = tile_for(tile_level, first // TILE_WIDTH, size)
        assert tile is not None
        out[tile] = None
    return list(out)


def root_from_tiles(size: int, read: Callable[[Tile], bytes]) -> bytes:
    """MTH of the tree of ``size`` from the hash tiles ``read`` returns (:func:`tiles_for_root` says which).

    Compare it with a verified checkpoint's root: if they are equal, every tile
    read is the log's. ``read`` may be a cache, a directory or HTTP.
    """
    if size == 0:
        return EMPTY_ROOT
    tiles = {t: split_hashes(read(t), t.width) for t in tiles_for_root(size)}
    edge = []
    for level, index in _right_edge(size):
        tile_level, rest = divmod(level, TILE_HEIGHT)
        first = index << rest
        hashes = tiles[tile_for(tile_level, first // TILE_WIDTH, size)]  # type: ignore[index]
        offset = first % TILE_WIDTH
        edge.append(_perfect_root(hashes[offset : offset + (1 << rest)]))
    root = edge[-1]
    for h in reversed(edge[:-1]):
        root = node_hash(h, root)
    return root


# --- proofs from tiles (a monitor's view) -------------------------------------------


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _subproof_ranges(m: int, start: int, end: int, complete: bool, out: list[tuple[int, int]]) -> None:
    # SUBPROOF(m, D[start:end], b) of RFC 9162 §2.1.4.1, as leaf ranges. The issuer's twin is
    # provenance/issue/tree.py (from stored nodes); verifying never imports the issuing side, and
    # tests/provenance/test_tiles_proofs.py checks the two give the same proofs.
    n = end - start
    if m == n:
        if not complete:
            out.append((start, end))
        return
    k = _split(n)
    if m <= k:
        _subproof_ranges(m, start, start + k, complete, out)
        out.append((start + k, end))
    else:
        _subproof_ranges(m - k, start + k, end, False, out)
        out.append((start, start + k))


class TileReader:
    """Subtree hashes of the tree of ``size`` from its hash tiles (each tile read once)."""

    def __init__(self, size: int, read: Callable[[Tile], bytes]) -> None:
        self.size = size
        self.read = read
        self._tiles: dict[Tile, list[bytes]] = {}

    def _hashes(self, tile: Tile) -> list[bytes]:
        if tile not in self._tiles:
            self._tiles[tile] = split_hashes(self.read(tile), tile.width)
        return self._tiles[tile]

    def subtree(self, level: int, index: int) -> bytes:
        """MTH of the complete subtree of leaves ``[index·2^level, (index+1)·2^level)``."""
        tile_level, rest = divmod(level, TILE_HEIGHT)
        first = index << rest
        tile = tile_for(tile_level, first // TILE_WIDTH, self.size)
        offset = first % TILE_WIDTH
        if tile is None or offset + (1 << rest) > tile.width:
            raise ProofError(f"subtree {level}/{index} is not complete in a tree of size {self.size}")
        return _perfect_root(self._hashes(tile)[offset : offset + (1 << rest)])

    def range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the tree's RFC 9162 structure has as a node."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self.subtree(n.bit_length() - 1, start // n)
        k = _split(n)
        return node_hash(self.range_hash(start, start + k), self.range_hash(start + k, end))


def consistency_proof_from_tiles(first: int, second: int, read: Callable[[Tile], bytes]) -> list[bytes]:
    """The RFC 9162 consistency proof from ``first`` to ``second``, built from the tiles of tree ``second``.

    Verify it with :func:`provenance.merkle.verify_consistency` against the two
    checkpoints' roots: tiles are unsigned, the proof check is what trusts them.
    """
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from size {first} to size {second}")
    ranges: list[tuple[int, int]] = []
    if 0 < first < second:
        _subproof_ranges(first, 0, second, True, ranges)
    reader = TileReader(second, read)
    return [reader.range_hash(start, end) for start, end in ranges]
