"""`python -m provenance monitor` reads the registry's tiles and its cosigned checkpoint, with a pinned policy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from registry.witnessing.rounds import witness_round
from tests import factories


def _monitor(url: str, state: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "provenance", "monitor", "--url", url, "--state", str(state), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_the_monitor_follows_cosigned_checkpoints_through_tiles(
    live_server: Any, witnessing, declared, label, tmp_path
):
    import urllib.request

    witness_round()
    policy = tmp_path / "policy"
    policy.write_bytes(urllib.request.urlopen(live_server.url + "/tlog/policy").read())  # noqa: S310 - local
    state = tmp_path / "monitor.json"
    first = _monitor(live_server.url, state, "--policy", str(policy))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "cosigned by witness.example/w1, witness.example/w2" in first.stdout
    for n in range(3):
        factories.declare(factories.make_release(label, tracks=1 + n))
    witness_round()
    grown = _monitor(live_server.url, state, "--policy", str(policy), "--max-age", "600")
    assert grown.returncode == 0, grown.stdout + grown.stderr
    assert "OK consistent:" in grown.stdout  # the proof was computed from /tlog/ tiles and checked


def test_the_monitor_reports_a_missing_quorum(live_server: Any, witnessing, declared, tmp_path, settings):
    policy = tmp_path / "policy"
    import urllib.request

    policy.write_bytes(urllib.request.urlopen(live_server.url + "/tlog/policy").read())  # noqa: S310 - local
    # No round yet: /tlog/checkpoint is the log's own, cosigned by nobody.
    out = _monitor(live_server.url, tmp_path / "m.json", "--policy", str(policy))
    assert out.returncode == 1 and "ERROR quorum not met" in out.stdout
