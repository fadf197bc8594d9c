"""Key rotation and revocation while writers are busy: no bundle ever issued stops verifying, except by revocation.

Gunicorn (3 workers) serves the registry; separate client processes declare
releases over HTTP and threads amend one shared release, while this process
rotates the statement key several times and the checkpoint key twice. Then
every bundle ever issued must verify against the final JWKS and the log must
pass its audit. Revoking the first statement key must turn the *next* answer
about its declarations invalid (lookup + /api/v1/verify + the public proof
panel) and leave the others valid; ``resign_declarations`` restores them.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time

import pytest
from django.core.management import call_command

from provenance.bundle import Verifier
from registry.api.tokens import label_token_create
from registry.declarations.models import Declaration
from registry.transparency.audit import audit_log
from registry.transparency.keys import key_revoke, key_rotate
from registry.transparency.models import SigningKey
from tests import factories
from tests.reliability.server import ROOT, Gunicorn, registry_env, request

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
WRITERS = 6
SECONDS = 10.0
STATEMENT_ROTATIONS = 4
CHECKPOINT_ROTATIONS = 2


@pytest.fixture
def server(keys):
    gunicorn = Gunicorn(workers=3, threads=2)
    yield gunicorn
    gunicorn.stop()


def _writers(url: str, token: str) -> list[subprocess.Popen]:
    env = registry_env()
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.clients", "keep_declaring", url, token, str(40 + w)]
            + [str(SECONDS), "400"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(WRITERS)
    ]


def _amender(url: str, token: str, upc: str, stop: threading.Event, out: list) -> None:
    n = 0
    while not stop.is_set():
        status, body = request(
            "POST",
            f"{url}/api/v1/releases/{upc}/amend",
            {"reason": f"pass {n}", "title": f"Shared, pass {n} of {threading.get_ident()}"},
            token,
        )
        out.append(status if status == 200 else (status, str(body)[:200]))
        n += 1


def _verdicts(url: str) -> tuple[Verifier, dict[int, bool]]:
    status, jwks = request("GET", f"{url}/.well-known/jwks.json")
    assert status == 200
    verifier = Verifier.from_jwks(jwks)
    return verifier, {d.pk: verifier.verify(json.loads(d.bundle)).valid for d in Declaration.objects.all()}


def _lookup_valid(url: str, verifier: Verifier, upc: str) -> tuple[bool, bool, int]:
    status, answer = request("GET", f"{url}/api/v1/releases/{upc}")
    assert status == 200, answer
    offline = verifier.verify(answer["bundle"]).valid
    status, verdict = request("POST", f"{url}/api/v1/verify", answer["bundle"])
    assert status == 200
    return offline, verdict["valid"], answer["disclosure"]["version"]


def _page_says_valid(url: str, upc: str) -> bool:
    status, page = request("GET", f"{url}/releases/{upc}/")
    assert status == 200
    assert ('class="verify-result valid"' in page) != ('class="verify-result invalid"' in page), "one verdict"
    return 'class="verify-result valid"' in page


def test_rotating_keys_under_load_keeps_every_bundle_valid_and_revocation_bites_at_once(server, label, owner):
    token = label_token_create(label=label, name="key load", created_by=owner)[1]
    first_key = SigningKey.objects.get(purpose="statement", status="active")
    early = factories.make_release(label, tracks=1, title="Signed by the first key")
    factories.declare(early, "none")
    shared = factories.make_release(label, tracks=1, title="Amended all along")
    factories.declare(shared, "partly")

    stop = threading.Event()
    amendments: list = []
    amenders = [
        threading.Thread(target=_amender, args=(server.url, token, shared.upc, stop, amendments)) for _ in range(2)
    ]
    writers = _writers(server.url, token)
    for t in amenders:
        t.start()
    rotations = []
    step = SECONDS / (STATEMENT_ROTATIONS + 1)
    for i in range(STATEMENT_ROTATIONS):
        time.sleep(step)
        rotations.append(key_rotate(purpose="statement"))
        if i < CHECKPOINT_ROTATIONS:
            rotations.append(key_rotate(purpose="checkpoint"))
    results = [json.loads(p.communicate(timeout=300)[0]) for p in writers]
    stop.set()
    for t in amenders:
        t.join(timeout=60)

    # Nothing failed, nothing was lost.
    failed = [f for r in results for f in r["failed"]] + [a for a in amendments if a != 200]
    assert not failed, failed[:10]
    acknowledged = [upc for r in results for upc in r["acknowledged"]]
    assert len(acknowledged) >= WRITERS * 5, "the writers did work during the rotations"
    assert set(acknowledged) <= set(Declaration.objects.values_list("release__upc", flat=True))
    signing_keys = set(Declaration.objects.values_list("key__kid", flat=True))
    assert len(signing_keys) >= 3, "declarations were signed by several generations of the key"

    # Every bundle ever issued verifies with the final JWKS (retired keys included); the log audits clean.
    verifier, verdicts = _verdicts(server.url)
    invalid = [pk for pk, ok in verdicts.items() if not ok]
    if invalid:
        d = Declaration.objects.select_related("key").get(pk=invalid[0])
        detail = verifier.verify(json.loads(d.bundle)).summary()
        pytest.fail(f"{len(invalid)} of {len(verdicts)} bundles no longer verify, e.g. {d.key.kid}: {detail}")
    report = audit_log()
    assert report.declarations == Declaration.objects.count() == len(verdicts)

    # Revoke the first statement key: its signatures are invalid at the very next answer, the rest stay valid.
    key_revoke(kid=first_key.kid, reason="test: key compromise")
    verifier, verdicts = _verdicts(server.url)
    by_key = dict(Declaration.objects.values_list("pk", "key__kid"))
    assert {pk for pk, ok in verdicts.items() if not ok} == {pk for pk, kid in by_key.items() if kid == first_key.kid}
    assert _lookup_valid(server.url, verifier, early.upc)[:2] == (False, False)
    assert not _page_says_valid(server.url, early.upc)
    assert _lookup_valid(server.url, verifier, shared.upc)[:2] == (True, True)  # amended since by newer keys
    assert _page_says_valid(server.url, shared.upc)
    newest = Declaration.objects.exclude(key=first_key).exclude(release=shared).latest("pk").release
    assert _lookup_valid(server.url, verifier, newest.upc)[:2] == (True, True)

    # The runbook: re-sign what the revoked key signed; current answers are valid again.
    out = io.StringIO()
    call_command("resign_declarations", stdout=out)
    assert "re-signed" in out.getvalue()
    offline, online, version = _lookup_valid(server.url, verifier, early.upc)
    assert (offline, online, version) == (True, True, 2)
    assert _page_says_valid(server.url, early.upc)
    audit = audit_log()
    assert audit.declarations == Declaration.objects.count()


def test_a_declaration_signed_while_a_rotation_commits_stays_valid_after_the_key_retires(keys, label):
    """The rotation stamps the old key's not_after, then takes a while to commit (a production KDF is slow).

    A writer signing in that window must not sign with the old key a statement dated after its not_after:
    once the rotation commits, such a bundle would be "outside the validity window of retired key".
    """
    from django.db import connection, transaction

    release = factories.make_release(label, tracks=1, title="Signed during a rotation")
    rotated, release_rotation = threading.Event(), threading.Event()
    retired_at = []

    def slow_rotation() -> None:
        try:
            with transaction.atomic():
                retired_at.append(key_rotate(purpose="statement")[0].not_after)
                rotated.set()
                release_rotation.wait(timeout=5)
        finally:
            connection.close()

    rotator = threading.Thread(target=slow_rotation)
    rotator.start()
    assert rotated.wait(timeout=30)
    # Statements are dated to the second: write in the next second after the old key's not_after.
    time.sleep(1.05 - retired_at[0].microsecond / 1e6)
    timer = threading.Timer(0.5, release_rotation.set)  # the writer may block on the rotation: let it finish
    timer.start()
    decl = factories.declare(release, "none")
    rotator.join(timeout=30)
    timer.cancel()
    key_rotate(purpose="statement")  # whatever key signed it is retired now

    from registry.transparency.keys import jwks

    result = Verifier.from_jwks(jwks()).verify(json.loads(Declaration.objects.get(pk=decl.pk).bundle))
    assert result.valid, result.summary()
