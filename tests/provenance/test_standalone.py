"""provenance stands alone: every module imports, and the CLI runs, with Django made unimportable; verifying needs no issuing code."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import provenance
from tests.provenance import factory

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
sys.modules["django"] = None          # any `import django…` now raises ImportError
sys.modules["rest_framework"] = None
import provenance
for mod in pkgutil.walk_packages(provenance.__path__, "provenance."):
    if mod.name != "provenance.__main__":
        importlib.import_module(mod.name)
from provenance.cli import main
sys.argv = ["provenance", "--help"]
try:
    main()
except SystemExit as exc:
    assert exc.code == 0
print("standalone", sorted(m for m in sys.modules if m.startswith("provenance")).__len__())
"""


def test_every_provenance_module_imports_without_django() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    modules = [m.name for m in pkgutil.walk_packages(provenance.__path__, "provenance.")]
    assert int(done.stdout.strip().split()[-1]) >= len(modules)


VERIFY_ONLY = """
import sys, textwrap
import provenance
from provenance.cli import main
example = provenance.__doc__.split("::\\n\\n", 1)[1].split("\\n\\n", 1)[0]
exec(textwrap.dedent(example))
assert main(["verify", "bundle.json", "--jwks", "jwks.json", "--isrc", "GBXYZ2500001"]) == 0
print(sorted(m for m in sys.modules if m.startswith("provenance.issue")))
"""


def test_verifying_through_the_front_door_imports_nothing_of_the_issuing_side(tmp_path: Path) -> None:
    reg = factory.registry_with_log(3)
    (tmp_path / "bundle.json").write_text(json.dumps(reg.bundle(1)))
    (tmp_path / "jwks.json").write_text(json.dumps(reg.jwks()))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", VERIFY_ONLY], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # The example in provenance/__init__.py ran and said VALID, so did the CLI, and neither loaded provenance.issue.
    assert lines[0].startswith("VALID: release") and lines[1].startswith("VALID: release")
    assert lines[-1] == "[]"
