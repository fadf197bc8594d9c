"""provenance stands alone: every module imports, and the CLI runs, with Django made unimportable."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import provenance

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
