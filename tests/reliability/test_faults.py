"""Faults on PostgreSQL: concurrent writer processes, a writer killed mid-transaction, a database restart.

The registry runs under gunicorn (several worker processes) and is driven by
separate client processes over HTTP, as in production.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from registry.api.tokens import label_token_create
from registry.catalog.models import Release
from registry.declarations.models import Declaration
from registry.transparency.audit import audit_log
from registry.transparency.models import LogLeaf
from tests import factories
from tests.reliability.server import ROOT, Gunicorn, registry_env, request

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PROCESSES = 8
PER_PROCESS = 6


@pytest.fixture
def server(keys):
    gunicorn = Gunicorn()
    yield gunicorn
    gunicorn.stop()


@pytest.fixture
def token(label, owner):
    return label_token_create(label=label, name="fault tests", created_by=owner)[1]


def _clients(mode: str, url: str, token: str, *args: str, processes: int = PROCESSES) -> list[dict]:
    env = registry_env()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.clients", mode, url, token, str(w), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(processes)
    ]
    return [json.loads(p.communicate(timeout=600)[0]) for p in procs]


def _contiguous() -> int:
    indexes = list(LogLeaf.objects.order_by("index").values_list("index", flat=True))
    assert indexes == list(range(len(indexes)))
    return len(indexes)


def test_concurrent_processes_declaring_and_amending_one_release_lose_nothing(server, token, label):
    shared = factories.make_release(label, tracks=1, title="Shared")
    factories.declare(shared, "none")
    results = _clients("declare_and_amend", server.url, token, str(PER_PROCESS), shared.upc)

    assert all(not r["errors"] for r in results), [r["errors"] for r in results if r["errors"]]
    created = [upc for r in results for upc in r["created"]]
    assert len(created) == PROCESSES * PER_PROCESS == Release.objects.exclude(pk=shared.pk).count()
    amendments = sum(r["amended_shared"] for r in results)
    versions = list(Declaration.objects.filter(release=shared).order_by("version").values_list("version", flat=True))
    assert versions == list(range(1, amendments + 2))  # no lost version, no duplicate number
    assert _contiguous() == 1 + len(created) + amendments
    assert audit_log().declarations == Declaration.objects.count()


KILLED_WRITER = """
import os, signal, sys, time
import django
django.setup()
from django.db import transaction
from registry.catalog.models import Release
from registry.declarations.services import declaration_create
from tests import factories
release = Release.objects.get(upc=sys.argv[1])
with transaction.atomic():
    declaration_create(release=release, ai={t.recording.isrc: factories.track_ai("all") for t in release.tracks.select_related("recording")})
    print("SIGNED AND APPENDED, NOT COMMITTED", flush=True)
    time.sleep(120)
"""


def test_a_writer_killed_mid_transaction_leaves_no_half_declaration(server, token, label):
    factories.declare(factories.make_release(label, tracks=1, title="Before"), "none")
    victim = factories.make_release(label, tracks=2, title="Victim")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, victim.upc],
        cwd=ROOT,
        env=registry_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().startswith("SIGNED AND APPENDED")
        # While it holds the log lock, another writer waits...
        from tests.reliability.clients import release_body

        waiting = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import json,sys; from tests.reliability.server import request; print(json.dumps(request('POST', '{server.url}/api/v1/releases', json.loads(sys.argv[1]), '{token}')))",
                json.dumps(release_body(99, 1)),
            ],
            cwd=ROOT,
            env=registry_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)
        assert waiting.poll() is None
    finally:
        proc.kill()  # SIGKILL: no cleanup, no rollback from the client side
        proc.wait()
    status, body = json.loads(waiting.communicate(timeout=60)[0])
    assert status == 201, body
    assert not Declaration.objects.filter(release=victim).exists()
    assert Release.objects.get(pk=victim.pk).current_declaration is None
    assert _contiguous() == 2  # "Before" and the waiting writer; no orphan leaf
    assert audit_log().declarations == 2
    # The victim can still be declared normally afterwards.
    factories.declare(Release.objects.get(pk=victim.pk), "all")
    assert _contiguous() == 3


def _pg_cluster() -> tuple[str, str] | None:
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return None
    versions = sorted(os.listdir("/etc/postgresql"))
    return (versions[-1], "main") if versions else None


@pytest.mark.slow
@pytest.mark.skipif(
    _pg_cluster() is None or os.geteuid() != 0, reason="needs a local PostgreSQL cluster that this user can restart"
)
@pytest.mark.skipif(
    os.environ.get("REGISTRY_NO_PG_RESTART") == "1",
    reason="REGISTRY_NO_PG_RESTART=1: the database is shared, do not restart it",
)
def test_the_database_restarting_under_load_leaves_a_consistent_log_and_the_app_recovers(server, token):
    version, cluster = _pg_cluster()
    clients = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.reliability.clients",
                "keep_declaring",
                server.url,
                token,
                str(w),
                "12",
                "400",
            ],
            cwd=ROOT,
            env=registry_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    time.sleep(3)
    connection.close()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, "restart", "--mode", "fast"],
        check=True,
        timeout=120,
    )
    results = [json.loads(c.communicate(timeout=300)[0]) for c in clients]

    acknowledged = {u for r in results for u in r["acknowledged"]}
    attempted = {u for r in results for u in r["attempted"]}
    failures = [f for r in results for f in r["failed"]]
    assert acknowledged, "no declaration succeeded at all"
    assert failures, "the restart was not felt by any request"
    assert all(status in (0, 503) for status, _ in failures), failures  # refused or unavailable, never a 500
    # The same gunicorn, never restarted, serves writes again.
    from tests.reliability.clients import release_body

    status, body = request("POST", f"{server.url}/api/v1/releases", release_body(77, 1), token)
    assert status == 201, body
    stored = set(Release.objects.values_list("upc", flat=True))
    assert acknowledged <= stored  # nothing acknowledged was lost
    assert stored - {body["upc"]} <= attempted
    _contiguous()
    assert audit_log().declarations == Declaration.objects.count()
