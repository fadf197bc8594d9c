"""Backup and restore: a pg_dump restored into a fresh database audits clean and proves every earlier bundle."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from provenance import bundle as pbundle
from provenance import merkle
from provenance.checkpoint import parse_checkpoint
from registry.declarations.services import declaration_amend, declaration_withdraw
from registry.transparency.keys import jwks
from tests import factories

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs pg_dump and pg_restore"),
]


def _pg_env() -> dict[str, str]:
    s = connection.settings_dict
    return {
        **os.environ,
        "PGHOST": s["HOST"] or "127.0.0.1",
        "PGPORT": str(s["PORT"] or 5432),
        "PGUSER": s["USER"] or "postgres",
        "PGPASSWORD": s["PASSWORD"] or "",
    }


ROOT = Path(__file__).resolve().parents[2]
PROOFS = """
import json, sys
from registry.transparency import log
cp = log.latest_checkpoint()
sizes = json.loads(sys.argv[1])
out = {"checkpoint": cp.note, "inclusion": {}, "consistency": {}, "declarations": Declaration.objects.count()}
for index, size in sizes:
    out["inclusion"][str(index)] = [h.hex() for h in log.inclusion_proof(index, cp.tree_size)]
    out["consistency"][str(size)] = [h.hex() for h in log.consistency_proof(size, cp.tree_size)]
print(json.dumps(out))
"""


def _in_restored(url: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update({"DATABASE_URL": url, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "registry.settings"})
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def restored(transactional_db, keys, label, tmp_path):
    """Declare, dump the live database, restore it into a fresh database; yield its URL and the bundles."""
    issued = []
    for i in range(5):
        release = factories.make_release(label, tracks=2, title=f"Backup {i}")
        issued.append(factories.declare(release, ["none", "partly", "all", "none", "partly"][i]))
    issued.append(declaration_amend(release=issued[1].release, reason="amended before the backup"))
    issued.append(declaration_withdraw(release=issued[2].release, reason="withdrawn before the backup"))
    bundles = [json.loads(d.bundle) for d in issued]

    env = _pg_env()
    source = connection.settings_dict["NAME"]
    target = f"{source}_restored"
    dump = tmp_path / "registry.dump"
    subprocess.run(["pg_dump", "--format=custom", "--file", str(dump), source], check=True, env=env, timeout=120)
    subprocess.run(["dropdb", "--if-exists", target], check=True, env=env, timeout=60)
    subprocess.run(["createdb", target], check=True, env=env, timeout=60)
    subprocess.run(
        ["pg_restore", "--exit-on-error", "--no-owner", "--dbname", target, str(dump)], check=True, env=env, timeout=120
    )
    url = f"postgres://{env['PGUSER']}:{env['PGPASSWORD']}@{env['PGHOST']}:{env['PGPORT']}/{target}"
    try:
        yield url, bundles, jwks()
    finally:
        subprocess.run(["dropdb", "--if-exists", target], env=env, timeout=60)


def test_the_restored_log_audits_clean_and_proves_every_earlier_bundle(restored):
    url, bundles, keyset = restored
    audit = _in_restored(url, ["manage.py", "audit_log"])
    assert audit.returncode == 0, audit.stderr
    assert audit.stdout.startswith(f"OK: {len(bundles)} leaves")

    sizes = [[b["log"]["index"], b["log"]["tree_size"]] for b in bundles]
    done = _in_restored(url, ["manage.py", "shell", "-c", PROOFS.replace("sys.argv[1]", repr(json.dumps(sizes)))])
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["declarations"] == len(bundles)
    current = parse_checkpoint(answer["checkpoint"])
    verifier = pbundle.Verifier.from_jwks(keyset)
    for b in bundles:
        # Each bundle still verifies as issued...
        assert verifier.verify(b).valid
        # ...and the restored log proves it is in, and that its checkpoint is a prefix of the current one.
        index, size = b["log"]["index"], b["log"]["tree_size"]
        inclusion = [bytes.fromhex(h) for h in answer["inclusion"][str(index)]]
        merkle.verify_inclusion(index, current.size, pbundle.envelope_leaf_hash(b["envelope"]), inclusion, current.root)
        consistency = [bytes.fromhex(h) for h in answer["consistency"][str(size)]]
        merkle.verify_consistency(
            size, current.size, parse_checkpoint(b["log"]["checkpoint"]).root, current.root, consistency
        )


def test_the_restored_database_keeps_refusing_edits(restored):
    url = restored[0]
    done = _in_restored(
        url,
        [
            "manage.py",
            "shell",
            "-c",
            "from django.db import connection\nconnection.cursor().execute(\"UPDATE transparency_logleaf SET data = 'x'\")",
        ],
    )
    assert done.returncode != 0
    assert "append-only" in done.stderr
