"""Go's golang.org/x/mod/sumdb/tlog reads the registry's log as C2SP tlog-tiles, over HTTP.

The Go program (go/tiles/tiles.go) opens /tlog/checkpoint with sumdb/note, reads
hash tiles through a tlog.TileReader (which checks each tile against the
checkpoint's tree hash), computes inclusion and consistency proofs from them and
checks each record read from its entry bundle. Go's tile paths carry the height
(tile/8/L/N, tile/8/data/N); the program maps them onto C2SP's (tile/L/N,
tile/entries/N).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from provenance import checkpoint as pcheckpoint
from registry.transparency.models import SigningKey
from tests import factories

GOPATH = "/usr/share/gocode"
SOURCE = Path(__file__).parent / "go" / "tiles" / "tiles.go"
SIZE = 70_000  # two levels of full tiles and three partial ones, as in tlog-tiles' own example

pytestmark = pytest.mark.skipif(
    shutil.which("go") is None or not Path(GOPATH, "src/golang.org/x/mod/sumdb/tlog").exists(),
    reason="needs Debian's golang-go and golang-golang-x-mod-dev (installed by .ci/run)",
)


@pytest.fixture(scope="module")
def gotiles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("go") / "tiles"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOFLAGS": "", "GOCACHE": str(out.parent / "cache")}
    subprocess.run(["go", "build", "-o", str(out), str(SOURCE)], check=True, env=env, capture_output=True, timeout=300)
    return out


def _data(i: int) -> str:
    return f'{{"leaf":{i},"pad":"{"x" * (i % 300)}"}}'


def _run(binary: Path, request: dict) -> dict:
    done = subprocess.run([str(binary)], input=json.dumps(request), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _verifier_key() -> str:
    key = SigningKey.objects.get(purpose="checkpoint", status="active")
    return pcheckpoint.verifier_key(settings.REGISTRY_LOG_ORIGIN, bytes(key.public_key))


@pytest.mark.django_db(transaction=True)
def test_go_tlog_proves_records_and_trees_from_our_tiles(gotiles, live_server, keys):
    factories.fill_log(SIZE, _data)
    indexes = [0, 1, 255, 256, 257, 65_535, 65_536, SIZE - 1]
    old_sizes = [1, 255, 256, 257, 65_536, 69_000, SIZE]
    result = _run(
        gotiles,
        {"url": f"{live_server.url}/tlog", "verifier_key": _verifier_key(), "indexes": indexes, "old_sizes": old_sizes},
    )
    root = base64.b64encode(factories.stored_root(SIZE)).decode()
    assert result["size"] == SIZE and result["root"] == root
    assert result["tree_hash"] == root
    assert result["inclusion"] == ["ok"] * len(indexes)
    assert result["consistency"] == ["ok"] * len(old_sizes)
    fetched = set(result["fetched"])
    assert {"tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1", "tile/1/000"} <= fetched


@pytest.mark.django_db(transaction=True)
def test_go_tlog_refuses_a_stored_tile_that_is_not_the_logs(gotiles, live_server, keys, tlog_storage):
    factories.fill_log(600, _data)
    forged = tlog_storage / "tile/0/001"
    forged.parent.mkdir(parents=True, exist_ok=True)
    forged.write_bytes(bytes(8192))  # the right shape, the wrong hashes: served, and caught by the client
    result = _run(
        gotiles,
        {"url": f"{live_server.url}/tlog", "verifier_key": _verifier_key(), "indexes": [300, 5], "old_sizes": []},
    )
    assert result["inclusion"][0] != "ok"
    assert "inconsistent" in result["inclusion"][0] or "invalid" in result["inclusion"][0]
