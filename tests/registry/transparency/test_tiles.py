"""The log served as C2SP tlog-tiles under /tlog/, through HTTP: what a client rebuilds from tiles is the checkpoint."""

from __future__ import annotations

import gzip

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from provenance import merkle
from provenance import tiles as ptiles
from provenance.checkpoint import parse_checkpoint
from provenance.issue.tree import MemoryTree
from provenance.limits import ENTRY_MAX
from provenance.tiles import ENTRIES, Tile
from registry.declarations.services import NextVersion, version_preview
from registry.errors import ValidationFailed
from registry.transparency import log, tiles
from registry.transparency.models import LogLeaf
from tests import factories

IMMUTABLE = "public, max-age=31536000, immutable"


def _data(i: int) -> str:
    # Some entries longer than 255 bytes, so that both bytes of the uint16 length prefix are exercised.
    return f'{{"leaf":{i},"pad":"{"x" * (300 if i % 7 == 0 else i % 5)}"}}'


def _get(client, path: str):
    return client.get(f"/tlog/{path}")


def _checkpoint(client, keys):
    response = _get(client, "checkpoint")
    assert response.status_code == 200
    cp = parse_checkpoint(response.content.decode())
    return cp


def _root_from_http(client, size: int) -> bytes:
    def read(tile: Tile) -> bytes:
        response = _get(client, tile.path())
        assert response.status_code == 200, (tile.path(), response.content[:200])
        assert response["Content-Type"] == "application/octet-stream"
        return response.content

    return ptiles.root_from_tiles(size, read)


def _check_entries(client, size: int) -> None:
    """Every entry bundle hashes to its level-0 tile, and to the leaf hashes the log stores."""
    stored = [bytes(h) for h in LogLeaf.objects.order_by("index").values_list("leaf_hash", flat=True)]
    assert len(stored) == size
    seen = []
    for bundle in ptiles.tiles_of(size, ENTRIES):
        hashes = ptiles.entry_hashes(_get(client, bundle.path()).content, bundle.width)
        level0 = ptiles.split_hashes(_get(client, Tile(0, bundle.index, bundle.width).path()).content, bundle.width)
        assert hashes == level0
        seen += hashes
    assert seen == stored


# --- paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tile", "path"),
    [
        (Tile(0, 0), "tile/0/000"),
        (Tile(0, 999), "tile/0/999"),
        (Tile(0, 1000), "tile/0/x001/000"),
        (Tile(1, 1234067), "tile/1/x001/x234/067"),
        (Tile(2, 1234067, 8), "tile/2/x001/x234/067.p/8"),
        (Tile(ENTRIES, 1234067), "tile/entries/x001/x234/067"),
        (Tile(ENTRIES, 5, 255), "tile/entries/005.p/255"),
        (Tile(63, 0, 1), "tile/63/000.p/1"),
    ],
)
def test_tile_paths_are_spelled_as_tlog_tiles_says(tile, path):
    assert tile.path() == path
    assert ptiles.parse_tile_path(path) == tile


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1",  # not zero-padded
        "tile/0/0001",
        "tile/0/x000/001",  # a leading zero group
        "tile/0/001/000",  # inner elements need the x
        "tile/0/x001",  # the last element has none
        "tile/00/000",  # leading zero in the level
        "tile/64/000",  # levels are 0–63
        "tile/-1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",  # a full tile has no .p
        "tile/0/000.p/010",
        "tile/0/000.p/",
        "tile/0/000/",
        "tile/data/000",  # Go's name for entries, not C2SP's
        "tile/8/0/000",  # Go's height, not C2SP's
        "tile/0/000.P/5",
        "tile/entries/000.p/5/",
        "tile/0/x001/x234/067\n",
    ],
)
def test_malformed_tile_paths_are_refused(path):
    with pytest.raises(ptiles.TilePathError):
        ptiles.parse_tile_path(path)


# --- through HTTP -------------------------------------------------------------------


def test_an_empty_log_has_no_checkpoint_and_no_tiles(client, keys):
    assert _get(client, "checkpoint").status_code == 404
    assert _get(client, "tile/0/000.p/1").status_code == 404
    assert _get(client, "tile/entries/000").status_code == 404
    assert ptiles.root_from_tiles(0, lambda t: b"") == merkle.EMPTY_ROOT


def test_the_checkpoint_is_the_signed_note_byte_for_byte_and_cached_briefly(client, keys):
    factories.fill_log(3, _data)
    response = _get(client, "checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=10"
    assert response.content.decode() == log.latest_checkpoint().note


def test_a_client_rebuilds_the_checkpoint_root_from_tiles_alone_at_every_size(client, keys):
    for size in (1, 255, 256, 257, 511, 513, 65_536, 65_536 + 256 + 3):
        factories.fill_log(size - log.tree_size(), _data)
        cp = _checkpoint(client, keys)
        assert cp.size == size
        assert _root_from_http(client, size) == cp.root, size
        if size < 1000:
            _check_entries(client, size)


def test_a_tree_of_70000_is_the_tiles_tlog_tiles_lists(client, keys):
    """The spec's example: 273 full level-0 tiles, one of width 112, one full level-1 tile, widths 17 and 1 above."""
    factories.fill_log(70_000, _data)
    for path in ("tile/0/272", "tile/0/273.p/112", "tile/1/000", "tile/1/001.p/17", "tile/2/000.p/1"):
        assert _get(client, path).status_code == 200, path
    for path in ("tile/0/273", "tile/1/001", "tile/2/000", "tile/3/000.p/1", "tile/entries/274.p/1"):
        assert _get(client, path).status_code == 404, path
    reference = MemoryTree(_data(i).encode() for i in range(70_000))
    level1 = _get(client, "tile/1/000").content
    assert ptiles.split_hashes(level1, 256)[5] == reference.nodes[(8, 5)]
    assert ptiles.split_hashes(_get(client, "tile/2/000.p/1").content, 1) == [reference.nodes[(16, 0)]]


def test_full_tiles_are_immutable_and_partial_ones_short_lived(client, keys):
    factories.fill_log(300, _data)
    full = _get(client, "tile/0/000")
    assert full.status_code == 200 and len(full.content) == 8192
    assert full["Cache-Control"] == IMMUTABLE
    bundle = _get(client, "tile/entries/000")
    assert bundle["Cache-Control"] == IMMUTABLE
    partial = _get(client, "tile/0/001.p/44")
    assert partial.status_code == 200 and len(partial.content) == 44 * 32
    assert partial["Cache-Control"] == "public, max-age=60"
    # A partial tile of an earlier size is the start of the full tile, and is served as long as it exists.
    assert _get(client, "tile/0/000.p/5").content == full.content[: 5 * 32]
    assert len(ptiles.parse_entry_bundle(_get(client, "tile/entries/001.p/44").content, 44)) == 44


def test_tiles_beyond_the_tree_are_404(client, keys):
    factories.fill_log(257, _data)
    for path in (
        "tile/0/001",
        "tile/0/001.p/2",
        "tile/0/002.p/1",
        "tile/1/000",
        "tile/1/000.p/2",
        "tile/2/000.p/1",
        "tile/entries/001",
        "tile/entries/001.p/2",
        "tile/5/x999/x999/999",
        "tile/0/x281/x474/x976/x710/x656/000",  # 2^48 leaves and beyond: never read from the node table
    ):
        response = _get(client, path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_no_path_under_tlog_is_a_500(client, keys):
    factories.fill_log(260, _data)
    odd = [
        "",
        "tile",
        "tile/",
        "tile/0",
        "tile/0/",
        "tile/0/abc",
        "tile/0/000.p/abc",
        "tile/%00/000",
        "tile/0/000%0a",
        "tile/99999999999999999999/000",
        "tile/0/" + "x999/" * 2000 + "999",
        "tile/entries/" + "x999/" * 30 + "999",
        "checkpoint/",
        "tile/0/000/../000",
        "tile/0/000.p/1.p/1",
        "tile/ 0/000",
    ]
    for path in odd:
        response = _get(client, path)
        assert response.status_code in (400, 404), (path, response.status_code)
    assert client.post("/tlog/tile/0/000").status_code == 405
    assert client.head("/tlog/tile/0/000").status_code == 200


def test_full_tiles_are_stored_and_then_served_without_a_query(client, keys, tlog_storage):
    factories.fill_log(256 * 2 + 1, _data)
    first = _get(client, "tile/0/001")
    assert (tlog_storage / "tile/0/001").read_bytes() == first.content
    with CaptureQueriesContext(connection) as queries:
        again = _get(client, "tile/0/001")
        bundle = _get(client, "tile/entries/001")
    assert again.content == first.content
    assert (tlog_storage / "tile/entries/001").read_bytes() == bundle.content
    assert len(queries) == 2  # the bundle's first request generated it; the stored tile needed none
    # Partial tiles are never stored.
    _get(client, "tile/0/002.p/1")
    assert not (tlog_storage / "tile/0/002.p").exists()


def test_a_torn_or_foreign_stored_tile_is_regenerated_not_served(client, keys, tlog_storage):
    factories.fill_log(256, _data)
    good = _get(client, "tile/0/000").content
    (tlog_storage / "tile/0/000").write_bytes(good[:100])
    (tlog_storage / "tile/entries/000").parent.mkdir(parents=True, exist_ok=True)
    (tlog_storage / "tile/entries/000").write_bytes(b"\x00\x05abc")
    assert _get(client, "tile/0/000").content == good
    assert (tlog_storage / "tile/0/000").read_bytes() == good
    entries = ptiles.parse_entry_bundle(_get(client, "tile/entries/000").content, 256)
    assert entries[3] == _data(3).encode()


def test_the_append_that_completes_a_tile_stores_it_once_committed(
    keys, tlog_storage, django_capture_on_commit_callbacks
):
    factories.fill_log(250, _data)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        log.append([_data(i) for i in range(250, 258)])
    assert len(callbacks) == 1
    assert len((tlog_storage / "tile/0/000").read_bytes()) == 8192
    bundle = (tlog_storage / "tile/entries/000").read_bytes()
    assert [merkle.leaf_hash(e) for e in ptiles.parse_entry_bundle(bundle, 256)] == [
        bytes(h) for h in LogLeaf.objects.filter(index__lt=256).order_by("index").values_list("leaf_hash", flat=True)
    ]
    # An append that completes no tile schedules nothing.
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        log.append([_data(258)])
    assert callbacks == []


def test_completed_tiles_are_those_whose_end_falls_in_the_appended_range():
    assert list(tiles.completed_by(0, 255)) == []
    assert list(tiles.completed_by(255, 256)) == [Tile(0, 0), Tile(ENTRIES, 0)]
    assert list(tiles.completed_by(256, 511)) == []
    done = list(tiles.completed_by(65_000, 65_536 + 256))
    assert Tile(1, 0) in done and Tile(0, 256) in done and Tile(0, 253) in done and Tile(0, 252) not in done


def test_write_missing_backfills_every_full_tile(keys, tlog_storage):
    factories.fill_log(256 * 3 + 7, _data)
    assert tiles.write_missing() == 6
    assert tiles.write_missing() == 0
    assert sorted(p.name for p in (tlog_storage / "tile/0").iterdir()) == ["000", "001", "002"]


# --- the entry size limit -------------------------------------------------------------


def test_a_declaration_over_the_entry_limit_is_refused_before_it_is_signed(keys, label):
    release = factories.make_release(label, tracks=6)
    tools = [f"Tool {i} " + "x" * 190 for i in range(50)]
    with pytest.raises(ValidationFailed) as refused:
        factories.declare(release, "all", tools=tools)
    assert f"{ENTRY_MAX:,} bytes" in refused.value.message
    assert LogLeaf.objects.count() == 0


def test_the_preview_refuses_what_signing_would(keys, label):
    release = factories.make_release(label, tracks=6)
    tools = [f"Tool {i} " + "x" * 190 for i in range(50)]
    ai = {t.recording.isrc: factories.track_ai("all", tools=tools) for t in release.tracks.select_related("recording")}
    with pytest.raises(ValidationFailed, match="over the log's limit"):
        version_preview(release=release, change=NextVersion(ai=ai))


def test_an_ordinary_release_fits_with_room_to_spare(keys, label):
    """About 400 bytes per track: a 12-track album is a tenth of the limit."""
    declaration = factories.declare(factories.make_release(label, tracks=12), "partly", tools=["Suno v4"])
    assert len(declaration.leaf.data) < ENTRY_MAX / 8


def test_the_write_tiles_command_backfills(keys, tlog_storage):
    from io import StringIO

    from django.core.management import call_command

    factories.fill_log(256 + 1, _data)
    out = StringIO()
    call_command("write_tiles", stdout=out)
    assert out.getvalue().startswith("2 full tile(s) written; tree size 257")
    assert (tlog_storage / "tile/entries/000").exists()


def _plant(tlog_storage, path: str, data: bytes) -> None:
    (tlog_storage / path).parent.mkdir(parents=True, exist_ok=True)
    (tlog_storage / path).write_bytes(data)


def test_write_tiles_refuses_a_storage_that_holds_another_logs_tiles(keys, tlog_storage):
    """A database reset with its tile storage kept: the stored tiles are another tree's, and "missing" would
    keep serving them. The backfill names the difference and writes nothing."""
    from django.core.management import CommandError, call_command

    _plant(tlog_storage, "tile/0/000", bytes(range(32)) * 256)  # well formed, so it would be served
    factories.fill_log(256 * 2, _data)
    with pytest.raises(CommandError, match="another log's tiles: storage's tile/0/000 is not this log's"):
        call_command("write_tiles")
    assert not (tlog_storage / "tile/0/001").exists()
    assert not (tlog_storage / "tile/entries/000").exists()


def test_write_tiles_refuses_stored_tiles_of_a_log_this_one_has_not_reached(keys, tlog_storage):
    from django.core.management import CommandError, call_command

    _plant(tlog_storage, "tile/entries/000", ptiles.encode_entry_bundle([b"old"] * 256))
    factories.fill_log(3, _data)
    with pytest.raises(CommandError, match="holds tile/entries/000 but this log has only 3 published entries"):
        call_command("write_tiles")


def test_write_tiles_accepts_its_own_log_again(keys, tlog_storage):
    from io import StringIO

    from django.core.management import call_command

    factories.fill_log(256 + 1, _data)
    call_command("write_tiles", stdout=StringIO())
    out = StringIO()
    call_command("write_tiles", stdout=out)
    assert out.getvalue().startswith("0 full tile(s) written")


def test_a_leaf_over_the_limit_logged_before_it_is_a_404_not_a_500(client, keys):
    factories.fill_log(3, lambda i: "x" * (ENTRY_MAX + 1) if i == 1 else _data(i))
    response = _get(client, "tile/entries/000.p/3")
    assert response.status_code == 404
    assert "leaf 1" in response.json()["error"]["message"]
    assert _get(client, "tile/0/000.p/3").status_code == 200  # its hash is in the tree all the same


def test_a_stored_tile_is_answered_before_sessions_and_the_url_resolver(client, keys, tlog_storage):
    """The middleware serves stored full tiles (bench row 8b); security headers still apply, no cookie is set."""
    factories.fill_log(256, _data)
    first = _get(client, "tile/entries/000")  # generated and stored by the view
    _get(client, "tile/0/000")
    with CaptureQueriesContext(connection) as queries:
        plain = client.get("/tlog/tile/0/000")
        zipped = client.get("/tlog/tile/entries/000", HTTP_ACCEPT_ENCODING="gzip")
    assert not queries.captured_queries
    assert plain.status_code == 200 and plain["Cache-Control"] == "public, max-age=31536000, immutable"
    assert plain["X-Content-Type-Options"] == "nosniff" and not plain.cookies
    hashes = client.get("/tlog/tile/0/000", HTTP_ACCEPT_ENCODING="gzip")  # hashes do not compress: sent as they are
    assert "Content-Encoding" not in hashes and hashes.content == plain.content and len(plain.content) == 8192
    assert "Accept-Encoding" in hashes["Vary"]
    assert zipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped["Vary"]
    assert gzip.decompress(zipped.content) == first.content
    # A path the middleware cannot read goes on to the view, which explains it.
    assert client.get("/tlog/tile/0/0").status_code == 400
