"""The command line, run as a platform would run it: a subprocess with files, no Django, no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.cli import main
from provenance.encoding import b64decode, b64encode
from tests.provenance import factory

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "provenance", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[factory.Registry, Path, Path]:
    reg = factory.registry_with_log(4)
    bundle, jwks = tmp_path / "bundle.json", tmp_path / "jwks.json"
    bundle.write_text(json.dumps(reg.bundle(2)))
    jwks.write_text(json.dumps(reg.jwks()))
    return reg, bundle, jwks


def test_verify_exits_0_with_a_valid_line_for_a_good_bundle(files: tuple[factory.Registry, Path, Path]) -> None:
    _, bundle, jwks = files
    done = _run("verify", str(bundle), "--jwks", str(jwks))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("VALID")
    assert f"leaf 2 of 4 in {factory.ORIGIN}" in done.stdout
    assert "django" not in done.stderr.lower()


def test_verify_exits_1_naming_the_failed_check_for_a_tampered_bundle(
    files: tuple[factory.Registry, Path, Path],
) -> None:
    reg, bundle, jwks = files
    data = reg.bundle(2)
    payload = b64decode(data["envelope"]["payload"]).replace(b"Aurora", b"Borealis")
    data["envelope"]["payload"] = b64encode(payload)
    bundle.write_text(json.dumps(data))
    done = _run("verify", str(bundle), "--jwks", str(jwks))
    assert done.returncode == 1
    assert done.stdout.startswith("INVALID statement_signature:")


def test_verify_json_lists_every_check(files: tuple[factory.Registry, Path, Path]) -> None:
    reg, bundle, jwks = files
    data = reg.bundle(2)
    data["log"]["index"] = 1
    bundle.write_text(json.dumps(data))
    done = _run("verify", str(bundle), "--jwks", str(jwks), "--json")
    assert done.returncode == 1
    out = json.loads(done.stdout)
    assert out["valid"] is False
    assert [c["name"] for c in out["checks"]][-1] == "inclusion_proof" and out["checks"][-1]["ok"] is False


def test_verify_reports_unreadable_input_as_invalid(tmp_path: Path, files: tuple[factory.Registry, Path, Path]) -> None:
    _, bundle, jwks = files
    assert main(["verify", str(tmp_path / "missing.json"), "--jwks", str(jwks)]) == 1
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["verify", str(bundle), "--jwks", str(tmp_path / "bad.json")]) == 1


def test_inspect_prints_the_title_tracks_and_levels(files: tuple[factory.Registry, Path, Path]) -> None:
    _, bundle, _ = files
    done = _run("inspect", str(bundle))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"Release   Aurora (UPC {factory.upc(3)}), released 2025-04-01" in out
    assert "Label     Northern Lights Records (DPID PADPIDA3897722461G) — verified" in out
    assert "AI        release: Partly AI; artwork: Partly AI" in out
    assert f" 1. Song number 1 (ISRC {factory.isrc(1)}): Partly AI" in out
    assert "composition none, lyrics none, vocals all, instrumentation none, production partly" in out
    assert f" 3. Song number 3 (ISRC {factory.isrc(3)}): No AI" in out
    assert "tools: Suno v4" in out
    assert "Log       registry.example.org/log leaf 2 of 4" in out
    assert "not verified" in out


def test_inspect_shows_consent_for_imitated_voices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = factory.track(1, vocals="all")
    t["voice_likeness"] = {"imitates_real_person": True, "consent_reference": "Licence 2025-07"}
    reg = factory.Registry()
    reg.declare(factory.statement(tracks=[t]))
    path = tmp_path / "b.json"
    path.write_text(json.dumps(reg.bundle(0)["envelope"]))  # a bare envelope is accepted too
    assert main(["inspect", str(path)]) == 0
    assert "voice imitates a real person; consent: Licence 2025-07" in capsys.readouterr().out


def test_inspect_fails_cleanly_on_garbage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"envelope": {"payload": "%%"}}))
    assert main(["inspect", str(path)]) == 1
    assert "cannot inspect" in capsys.readouterr().err


def test_verify_refuses_a_bundle_with_a_duplicated_envelope(files: tuple[factory.Registry, Path, Path]) -> None:
    reg, bundle, jwks = files
    # A last-wins parser sees the logged envelope (leaf 2), a first-wins parser the other release's (leaf 0).
    rest = ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in reg.bundle(2).items())
    bundle.write_text(f'{{"envelope":{json.dumps(reg.bundle(0)["envelope"])},{rest}}}')
    done = _run("verify", str(bundle), "--jwks", str(jwks))
    assert done.returncode == 1
    assert done.stdout.startswith("INVALID bundle_format: the bundle is not valid protocol JSON: duplicate object")
    assert "'envelope'" in done.stdout


def test_verify_refuses_a_jwks_with_a_duplicated_keys_member(files: tuple[factory.Registry, Path, Path]) -> None:
    reg, bundle, jwks = files
    mallory = factory.registry_with_log(1)
    # The registry's keys first, Mallory's second: a last-wins verifier would trust Mallory's bundle.
    jwks.write_text(f'{{"keys":{json.dumps(reg.jwks()["keys"])},"keys":{json.dumps(mallory.jwks()["keys"])}}}')
    bundle.write_text(json.dumps(mallory.bundle(0)))
    done = _run("verify", str(bundle), "--jwks", str(jwks))
    assert done.returncode == 1
    assert done.stdout.startswith("INVALID input: the JWKS is not valid protocol JSON: duplicate object member 'keys'")


HOSTILE = "\x1b[2J\x1b[32mVALID"


def _hostile_bundle(tmp_path: Path) -> tuple[Path, Path]:
    """A genuinely signed bundle whose label put terminal escapes, a newline and a bidi override in its text."""
    t = factory.track(1, vocals="all")
    t["title"] = "Song\u202eevil"
    t["tools"] = ["Suno\x9b2J"]  # C1 CSI: the one-byte form of ESC [
    reg = factory.Registry()
    reg.declare(factory.statement(tracks=[t], release={**_RELEASE, "title": HOSTILE}, reason=None))
    bundle, jwks = tmp_path / "hostile.json", tmp_path / "jwks.json"
    bundle.write_text(json.dumps(reg.bundle(0)))
    jwks.write_text(json.dumps(reg.jwks()))
    return bundle, jwks


_RELEASE = {"upc": factory.upc(1), "release_date": "2025-04-01", "artwork": "none"}


def _assert_safe(out: str) -> None:
    for ch in ("\x1b", "\x9b", "\u202e", "\x7f"):
        assert ch not in out


def test_inspect_prints_terminal_escapes_from_the_statement_escaped(tmp_path: Path) -> None:
    bundle, _ = _hostile_bundle(tmp_path)
    done = _run("inspect", str(bundle))
    assert done.returncode == 0, done.stderr
    _assert_safe(done.stdout)
    assert "Release   \\x1b[2J\\x1b[32mVALID (UPC " in done.stdout
    assert " 1. Song\\u202eevil (ISRC " in done.stdout
    assert "tools: Suno\\x9b2J" in done.stdout
    assert not any(line.startswith(("VALID", "\x1b")) for line in done.stdout.splitlines())


def test_verify_prints_a_valid_bundles_hostile_title_escaped(tmp_path: Path) -> None:
    bundle, jwks = _hostile_bundle(tmp_path)
    done = _run("verify", str(bundle), "--jwks", str(jwks))
    assert done.returncode == 0, done.stdout
    _assert_safe(done.stdout)
    assert done.stdout.count("\n") == 1 and "\\x1b[2J\\x1b[32mVALID" in done.stdout
    as_json = _run("verify", str(bundle), "--jwks", str(jwks), "--json")
    _assert_safe(as_json.stdout)
    assert json.loads(as_json.stdout)["valid"] is True


def _release_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two releases with their own ISRCs (GBXYZ2n0000m); the bundles of both and the JWKS."""
    reg = factory.Registry()
    for n in (1, 2):
        tracks = [{**factory.track(m, vocals="all" if m == 1 else "none"), "isrc": f"GBXYZ2{n}0000{m}"} for m in (1, 2)]
        reg.declare(factory.statement(release_number=n, tracks=tracks))
    paths = tmp_path / "first.json", tmp_path / "second.json", tmp_path / "jwks.json"
    for i, path in enumerate(paths[:2]):
        path.write_text(json.dumps(reg.bundle(i)))
    paths[2].write_text(json.dumps(reg.jwks()))
    return paths


def test_verify_with_an_isrc_prints_that_tracks_disclosure_from_the_signed_statement(tmp_path: Path) -> None:
    first, _, jwks = _release_files(tmp_path)
    done = _run("verify", str(first), "--jwks", str(jwks), "--isrc", "GB-XYZ-21-00001")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("VALID:") and lines[0].endswith("answers ISRC GBXYZ2100001")
    assert "Disclosure, derived from the signed statement" in lines[1]
    assert "  Track       1. Song number 1 (ISRC GBXYZ2100001): Partly AI" in lines
    assert any("vocals all" in line for line in lines) and "GBXYZ2100002" not in done.stdout
    assert "  Artists     The Lanterns: Human artist using AI" in lines
    as_json = json.loads(_run("verify", str(first), "--jwks", str(jwks), "--isrc", "GBXYZ2100001", "--json").stdout)
    assert as_json["checks"][-1]["name"] == "identifier" and as_json["disclosure"]["track"]["isrc"] == "GBXYZ2100001"


def test_verify_with_an_isrc_of_another_release_exits_1_naming_the_identifier_check(tmp_path: Path) -> None:
    first, second, jwks = _release_files(tmp_path)
    # The second release's bundle is valid, but it is no answer about the first release's recording.
    done = _run("verify", str(second), "--jwks", str(jwks), "--isrc", "GBXYZ2100001")
    assert done.returncode == 1
    assert done.stdout.startswith("INVALID identifier: ISRC GBXYZ2100001 is not a track of release ")
    assert "Disclosure" not in done.stdout
    assert main(["verify", str(first), "--jwks", str(jwks), "--upc", factory.upc(2)]) == 1
    assert main(["verify", str(first), "--jwks", str(jwks), "--upc", factory.upc(1)]) == 0
