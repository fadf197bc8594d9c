"""The log as C2SP tlog-tiles (docs/protocol.md §5.3): tiles read from the stored tree, full ones kept in storage.

A hash tile at level L, index N is 256 consecutive stored nodes of tree level
8·L (``LogNode``, which keeps every complete subtree), read by one primary-key
range query; an entry bundle is 256 consecutive ``LogLeaf.data``, each the
exact bytes whose RFC 9162 leaf hash is ``LogLeaf.leaf_hash``.

Invariants this module relies on:

- a tile is served only when every hash or entry in it exists in the committed
  log, so its bytes can never change afterwards: a full tile is immutable, and
  so is a partial tile of a given width;
- full tiles are written to the ``tlog`` storage under their path (so object
  storage behind a CDN can serve them as they are) after the append that
  completes them commits (:func:`write_completed`, outside the log lock), and
  on a miss when first asked for; writing is idempotent (same bytes, same
  name) and never holds a lock, and a failed write costs only a later miss;
- what is read back from storage is checked for shape (8,192 bytes; 256
  entries) before it is served, so a torn or foreign file is regenerated,
  never served as immutable.

Partial tiles are computed from the database on each request and never stored.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db.models import Max

from provenance import tiles as ptiles
from provenance.errors import ProofError
from provenance.issue.tree import node_id
from provenance.limits import ENTRY_MAX
from provenance.merkle import HASH_SIZE
from provenance.tiles import ENTRIES, TILE_HEIGHT, TILE_WIDTH, Tile
from registry.transparency.models import Checkpoint, LogLeaf, LogNode

logger = logging.getLogger(__name__)

STORAGE_ALIAS = "tlog"


class ForeignTiles(Exception):
    """The ``tlog`` storage holds tiles of another log (a database reset or swapped, storage kept)."""


class EntryTooLarge(Exception):
    """A leaf over ENTRY_MAX (logged before the limit existed): its entry bundle cannot be encoded."""


class AtomicFileSystemStorage(FileSystemStorage):
    """FileSystemStorage that writes through a temporary file and a rename, and overwrites.

    A reader never sees half a tile, and two processes writing the same tile
    (identical bytes) both succeed instead of the second getting a ``_x7Gq1``
    alternative name.
    """

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name

    def _save(self, name: str, content: object) -> str:
        path = self.path(name)
        directory = os.path.dirname(path)
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in content.chunks():  # type: ignore[attr-defined]
                    out.write(chunk)
            if self.file_permissions_mode is not None:
                os.chmod(tmp, self.file_permissions_mode)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return name


def storage() -> Storage:
    return storages[STORAGE_ALIAS]


def published_size(using: str | None = None) -> int:
    """The size of the latest checkpoint: what tiles may be served for (0 before the first append)."""
    qs = Checkpoint.objects.all() if using is None else Checkpoint.objects.using(using)
    return qs.aggregate(m=Max("tree_size"))["m"] or 0


def exists_in(tile: Tile, size: int) -> bool:
    """Whether ``tile`` is part of the tree of ``size`` (every hash or entry in it is)."""
    return tile.leaf_range()[1] <= size


def hash_tile_bytes(tile: Tile, using: str | None = None) -> bytes | None:
    """The tile's hashes from the stored nodes, or None if the log does not hold all of them."""
    level = TILE_HEIGHT * int(tile.level)
    first = node_id(level, tile.index * TILE_WIDTH)
    qs = LogNode.objects.all() if using is None else LogNode.objects.using(using)
    rows = list(qs.filter(id__gte=first, id__lt=first + tile.width).order_by("id").values_list("hash", flat=True))
    if len(rows) != tile.width:
        return None
    return b"".join(bytes(h) for h in rows)


def entry_bundle_bytes(tile: Tile, using: str | None = None) -> bytes | None:
    """The bundle of the tile's entries from the stored leaves, or None if the log does not hold all of them."""
    start, end = tile.leaf_range()
    qs = LogLeaf.objects.all() if using is None else LogLeaf.objects.using(using)
    rows = list(qs.filter(index__gte=start, index__lt=end).order_by("index").values_list("index", "data"))
    if len(rows) != tile.width:
        return None
    entries = [data.encode("utf-8") for _, data in rows]
    for (index, _), entry in zip(rows, entries, strict=True):
        if len(entry) > ENTRY_MAX:
            raise EntryTooLarge(f"leaf {index} is {len(entry)} bytes, over the {ENTRY_MAX}-byte entry limit")
    return ptiles.encode_entry_bundle(entries)


def tile_bytes(tile: Tile, using: str | None = None) -> bytes | None:
    if tile.level == ENTRIES:
        return entry_bundle_bytes(tile, using)
    return hash_tile_bytes(tile, using)


def well_formed(tile: Tile, data: bytes) -> bool:
    """Whether ``data`` has the shape of ``tile`` (not whether it is the log's: the checkpoint says that)."""
    try:
        if tile.level == ENTRIES:
            ptiles.parse_entry_bundle(data, tile.width)
        else:
            return len(data) == HASH_SIZE * tile.width  # what split_hashes checks, without the split
    except ProofError:
        return False
    return True


def read_stored(tile: Tile) -> bytes | None:
    """A full tile from the ``tlog`` storage, or None if it is not there (or not whole)."""
    try:
        with storage().open(tile.path(), "rb") as f:
            data = f.read()
    except OSError:  # FileNotFoundError, and what remote backends raise for a missing object
        return None
    if not well_formed(tile, data):
        logger.warning("stored tile %s is malformed (%d bytes): regenerating it", tile.path(), len(data))
        return None
    return bytes(data)


def store(tile: Tile, data: bytes) -> None:
    """Write a full tile; a failure is logged, not raised: the tile is generated again on its next miss."""
    assert tile.full
    try:
        storage().save(tile.path(), ContentFile(data))
    except Exception:  # any backend's error: the append or the answer must not fail for a cache write
        logger.exception("could not write tile %s to the %s storage", tile.path(), STORAGE_ALIAS)


def full_tile(tile: Tile, using: str | None = None) -> bytes | None:
    """A full tile: from storage, else generated from the database and stored (None if not in the log)."""
    data = read_stored(tile)
    if data is None:
        data = tile_bytes(tile, using)
        if data is not None:
            store(tile, data)
    return data


def completed_by(start: int, size: int) -> Iterator[Tile]:
    """The full tiles (hash tiles of every level, and entry bundles) that appending ``[start, size)`` completed."""
    level = 0
    while (TILE_WIDTH << (TILE_HEIGHT * level)) <= size:
        span = TILE_WIDTH << (TILE_HEIGHT * level)  # entries under one full tile of this level
        for index in range(start // span, size // span):
            if (index + 1) * span > start:
                yield Tile(level, index)
                if level == 0:
                    yield Tile(ENTRIES, index)
        level += 1


def _write_if_missing(tile: Tile, using: str) -> bool:
    if read_stored(tile) is not None:
        return False
    try:
        data = tile_bytes(tile, using)
    except EntryTooLarge as exc:
        logger.warning("%s: %s", tile.path(), exc)
        return False
    if data is None:
        return False
    store(tile, data)
    return True


def write_completed(start: int, size: int, using: str = "default") -> None:
    """Store the full tiles that appending ``[start, size)`` completed (run after that append commits)."""
    for tile in completed_by(start, size):
        _write_if_missing(tile, using)


def foreign_tiles(using: str = "default") -> str | None:
    """Why the ``tlog`` storage does not hold this log's tiles, or None if it does (or holds none yet).

    Stored full tiles are served as immutable without a look at the database
    (StoredTileMiddleware), so storage kept across a database reset, or shared by
    two registries, would serve another tree. The first level-0 tile and entry
    bundle settle it: they are the log's first 256 leaves, which no two logs share.
    """
    size = published_size(using)
    for tile in (Tile(0, 0), Tile(ENTRIES, 0)):
        stored = read_stored(tile)
        if stored is None:
            continue
        if size < TILE_WIDTH:
            return f"storage holds {tile.path()} but this log has only {size} published entries"
        if stored != tile_bytes(tile, using):
            return f"storage's {tile.path()} is not this log's (its first {TILE_WIDTH} leaves differ)"
    return None


def write_missing(using: str = "default") -> int:
    """Store every full tile of the published tree that storage lacks (a backfill); returns how many were written.

    Refuses (:class:`ForeignTiles`) if storage holds another log's tiles: "missing" would skip them.
    """
    if (problem := foreign_tiles(using)) is not None:
        raise ForeignTiles(
            f"the {STORAGE_ALIAS} storage holds another log's tiles: {problem}. Empty it (docs/operations.md, "
            '"Tile storage"); every full tile is then written again from the database'
        )
    return sum(_write_if_missing(tile, using) for tile in completed_by(0, published_size(using)))
