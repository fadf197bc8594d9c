"""`python -m provenance monitor` follows the real registry, and alarms on a forged fork, a split view and a rollback."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from provenance.encoding import b64encode
from provenance.issue.sign import sign_checkpoint
from provenance.issue.tree import MemoryTree
from registry.transparency.keys import active_key
from registry.transparency.models import LogLeaf
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def monitor(url: str, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provenance", "monitor", "--url", url, "--state", str(state), "--source", "api"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


class ForgedLog:
    """A second log server, signed with the registry's (stolen) checkpoint key, that serves a forked history."""

    def __init__(self, leaves: list[bytes], jwks: dict) -> None:
        self.tree = MemoryTree(leaves)
        _, private = active_key("checkpoint")
        self.private = private
        self.size = self.tree.size
        self.jwks = jwks
        forged = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # noqa: ANN002
                pass

            def do_GET(self) -> None:  # noqa: N802
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/api/v1/log/checkpoint":
                    body = sign_checkpoint(
                        settings.REGISTRY_LOG_ORIGIN, forged.size, forged.tree.root(forged.size), forged.private
                    ).encode()
                    kind = "text/plain; charset=utf-8"
                elif url.path == "/api/v1/log/consistency":
                    first, second = int(query["first"]), int(query["second"])
                    proof = [b64encode(h) for h in forged.tree.consistency_proof(first, second)]
                    body, kind = (
                        json.dumps({"first": first, "second": second, "proof": proof}).encode(),
                        "application/json",
                    )
                elif url.path == "/.well-known/jwks.json":
                    body, kind = json.dumps(forged.jwks).encode(), "application/json"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def _declare(label, n: int) -> None:
    for i in range(n):
        factories.declare(factories.make_release(label, tracks=1, title=f"Monitored {factories.upc()}-{i}"), "partly")


def test_the_monitor_follows_an_honest_registry(live_server, keys, label, tmp_path):
    _declare(label, 3)
    state = tmp_path / "monitor.json"
    first = monitor(live_server.url, state)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "pinned 2 key(s)" in first.stdout and "OK first checkpoint: size 3" in first.stdout
    _declare(label, 2)
    second = monitor(live_server.url, state)
    assert second.returncode == 0, second.stdout
    assert "OK consistent: 3 -> 5" in second.stdout
    assert monitor(live_server.url, state).stdout.strip() == "OK unchanged at size 5"


def test_the_monitor_alarms_when_a_forged_log_forks_the_history(live_server, keys, label, tmp_path):
    _declare(label, 4)
    state = tmp_path / "monitor.json"
    assert monitor(live_server.url, state).returncode == 0  # saw size 4
    jwks = json.loads(state.read_text())["jwks"]
    honest = [d.encode() for d in LogLeaf.objects.order_by("index").values_list("data", flat=True)]
    # The forger rewrites leaf 2 (say, to hide an AI declaration) and appends more leaves:
    # a validly signed checkpoint of size 6 that is not an extension of size 4.
    forged = ForgedLog([*honest[:2], b'{"forged": true}', honest[3], b"x", b"y"], jwks)
    try:
        fork = monitor(forged.url, state)
        assert fork.returncode == 3, fork.stdout
        assert "ALARM fork: size 6 is not an extension of size 4" in fork.stdout
        assert fork.stdout.count("--- evidence: signed checkpoint ---") == 2
        # Same size, different root: a split view.
        forged.size = 4
        split = monitor(forged.url, state)
        assert split.returncode == 3 and "ALARM fork: two different roots signed for size 4" in split.stdout
        # A validly signed smaller tree: a rollback.
        forged.size = 2
        rollback = monitor(forged.url, state)
        assert rollback.returncode == 3 and "ALARM rollback: the log shrank from 4 to 2" in rollback.stdout
    finally:
        forged.close()
    # The honest registry still checks out from the same state.
    assert monitor(live_server.url, state).returncode == 0


def test_the_monitor_refuses_a_checkpoint_signed_by_another_key(live_server, keys, label, tmp_path):
    _declare(label, 2)
    state = tmp_path / "monitor.json"
    assert monitor(live_server.url, state).returncode == 0
    jwks = json.loads(state.read_text())["jwks"]
    impostor = ForgedLog([b"a", b"b", b"c"], jwks)
    from provenance.issue.keys import generate_private_key

    impostor.private = generate_private_key()
    try:
        out = monitor(impostor.url, state)
        assert out.returncode == 3 and "ALARM bad_signature" in out.stdout
    finally:
        impostor.close()
