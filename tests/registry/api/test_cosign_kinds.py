"""Co-signing every kind of version through the API (docs/protocol.md §14.2): first versions, withdrawals, bulk."""

from __future__ import annotations

from typing import Any

import pytest

from provenance import jcs
from provenance.bundle import MEDIA_TYPE_COSIGNED, Verifier
from provenance.encoding import b64decode
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import sign_pae
from provenance.keys import KeySet
from provenance.labelsign import sign_prepared
from registry.catalog.models import Release
from registry.declarations.models import Declaration
from registry.labelkeys import services
from registry.labelkeys.models import PreparedDeclaration
from registry.transparency.models import LogLeaf
from tests.registry.api.conftest import bearer, error_of, post_json, release_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def label_key(label: Any, staff: Any, owner: Any) -> Any:
    key = generate_private_key()
    services.key_attest(label=label, public_key=public_bytes(key), actor=staff, reason="first key", holder=owner)
    return key


def _verified(keys: Any, bundle: dict[str, Any]) -> Any:
    result = Verifier(KeySet.from_jwks(keys), require_label_signature=True).verify(jcs.canonicalize(bundle))
    assert result.valid, result.summary()
    return result


def _submit(client: Any, token: str, upc: str, prepared: dict[str, Any], signature: dict[str, str]) -> Any:
    body = {"prepared": prepared["prepared"], "signature": signature}
    return post_json(client, f"/api/v1/releases/{upc}/submit", body, **bearer(token))


def test_a_new_release_is_prepared_signed_by_the_label_and_logged_as_a_co_signed_first_version(
    client, keys, label, label_token, label_key
):
    body = release_payload(tracks=2, level="partly")
    r = post_json(client, "/api/v1/releases/prepare", body, **bearer(label_token))
    assert r.status_code == 201, r.content
    prepared = r.json()
    st = jcs.loads(b64decode(prepared["payload"]))
    assert st["declaration"]["version"] == 1 and st["label"]["key_head"] == prepared["key_head"]
    # Prepared, not declared: the release is the label's private working copy until the label signs.
    release = Release.objects.get(label=label, upc=body["upc"])
    assert release.current_declaration_id is None
    assert client.get(f"/api/v1/releases/{body['upc']}").status_code == 404

    r = _submit(client, label_token, body["upc"], prepared, sign_prepared(prepared, label_key))
    assert r.status_code == 200, r.content
    bundle = r.json()["bundle"]
    assert bundle["mediaType"] == MEDIA_TYPE_COSIGNED and bundle["envelope"]["payload"] == prepared["payload"]
    assert _verified(keys, bundle).label_key.kid == prepared_kid(label_key)
    assert r.json()["declaration"]["version"] == 1


def prepared_kid(key: Any) -> str:
    from provenance.keys import thumbprint

    return thumbprint(public_bytes(key))


def test_a_refused_first_version_prepare_leaves_no_release_behind(client, label, label_token):
    body = release_payload()
    r = post_json(client, "/api/v1/releases/prepare", body, **bearer(label_token))
    assert r.status_code == 400 and "no active signing key" in error_of(r)["message"]
    assert not Release.objects.filter(label=label, upc=body["upc"]).exists()


def test_a_prepared_release_never_submitted_is_prepared_again_with_the_declare_action(
    client, keys, label, label_token, label_key
):
    body = release_payload(tracks=1)
    first = post_json(client, "/api/v1/releases/prepare", body, **bearer(label_token)).json()
    # The same body again: the release is in the catalog already, so creating it again is refused.
    again = post_json(client, "/api/v1/releases/prepare", body, **bearer(label_token))
    assert again.status_code in (400, 409), again.content
    isrc = body["tracks"][0]["isrc"]
    r = post_json(
        client,
        f"/api/v1/releases/{body['upc']}/prepare",
        {"action": "declare", "ai": {isrc: body["tracks"][0]["ai"]}},
        **bearer(label_token),
    )
    assert r.status_code == 201, r.content
    second = r.json()
    assert _submit(client, label_token, body["upc"], second, sign_prepared(second, label_key)).status_code == 200
    # The first prepare now builds on a version that exists: 409, nothing logged.
    before = LogLeaf.objects.count()
    r = _submit(client, label_token, body["upc"], first, sign_prepared(first, label_key))
    assert r.status_code == 409, r.content
    assert LogLeaf.objects.count() == before
    # Declaring a declared release is refused at prepare.
    r = post_json(
        client, f"/api/v1/releases/{body['upc']}/prepare", {"action": "declare", "ai": {}}, **bearer(label_token)
    )
    assert r.status_code == 409, r.content


def test_a_withdrawal_is_co_signed_and_a_bad_signature_withdraws_nothing(
    client, keys, declared, label_token, label_key
):
    upc = declared.release.upc
    body = {"action": "withdraw", "reason": "Released in error", "expected_version": 1}
    prepared = post_json(client, f"/api/v1/releases/{upc}/prepare", body, **bearer(label_token)).json()
    st = jcs.loads(b64decode(prepared["payload"]))
    assert st["declaration"]["status"] == "withdrawn" and st["declaration"]["reason"] == "Released in error"

    bad = sign_pae(b64decode(prepared["payload"]) + b" ", label_key)
    r = _submit(client, label_token, upc, prepared, bad)
    assert r.status_code == 400 and "does not verify" in error_of(r)["message"]
    assert Declaration.objects.filter(release=declared.release).count() == 1

    r = _submit(client, label_token, upc, prepared, sign_prepared(prepared, label_key))
    assert r.status_code == 200, r.content
    assert r.json()["declaration"]["status"] == "withdrawn"
    _verified(keys, r.json()["bundle"])


def test_an_unknown_action_or_a_malformed_body_is_refused_at_prepare(client, declared, label_token, label_key):
    upc = declared.release.upc
    for body in ({"action": "erase", "reason": "x"}, {"action": "withdraw"}, ["not", "an", "object"]):
        r = post_json(client, f"/api/v1/releases/{upc}/prepare", body, **bearer(label_token))
        assert r.status_code == 400, (body, r.content)
        error_of(r)
    assert not PreparedDeclaration.objects.exists()


def test_bulk_prepare_and_submit_sign_each_item_and_one_bad_signature_refuses_only_its_item(
    client, keys, label, declared, label_token, label_key
):
    new = [release_payload(tracks=1) for _ in range(2)]
    items = [
        *new,
        {"action": "amend", "upc": declared.release.upc, "reason": "Retitled", "title": "Signals (Remastered)"},
        {"action": "withdraw", "upc": "00000000000000", "reason": "Not ours"},
    ]
    r = post_json(client, "/api/v1/releases/bulk/prepare", {"releases": items}, **bearer(label_token))
    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["prepared", "prepared", "prepared", "error"]
    assert results[3]["error"]["code"] in ("not_found", "invalid")
    prepared = results[:3]

    signatures = [sign_prepared(p, label_key) for p in prepared]
    signatures[1] = sign_pae(b64decode(prepared[1]["payload"]) + b"x", label_key)  # the label's slip
    body = {
        "releases": [{"prepared": p["prepared"], "signature": sig} for p, sig in zip(prepared, signatures, strict=True)]
    }
    body["releases"].append({"prepared": "nope"})
    r = post_json(client, "/api/v1/releases/bulk/submit", body, **bearer(label_token))
    assert r.status_code == 200, r.content
    answer = r.json()
    assert (answer["logged"], answer["refused"]) == (2, 2)
    assert [x["status"] for x in answer["results"]] == ["created", "error", "amended", "error"]
    assert "does not verify" in answer["results"][1]["error"]["message"]
    for x in (answer["results"][0], answer["results"][2]):
        _verified(keys, x["declaration"]["bundle"])
    assert Release.objects.get(upc=new[1]["upc"]).current_declaration_id is None

    # Submitting again signs nothing twice.
    r = post_json(client, "/api/v1/releases/bulk/submit", body, **bearer(label_token))
    assert r.json()["logged"] == 0 and "submitted already" in r.json()["results"][0]["error"]["message"]


def test_another_labels_prepared_statement_cannot_be_submitted(client, declared, label_token, other_token, label_key):
    upc = declared.release.upc
    prepared = post_json(
        client, f"/api/v1/releases/{upc}/prepare", {"reason": "x", "title": "Other"}, **bearer(label_token)
    ).json()
    body = {"releases": [{"prepared": prepared["prepared"], "signature": sign_prepared(prepared, label_key)}]}
    r = post_json(client, "/api/v1/releases/bulk/submit", body, **bearer(other_token))
    assert r.status_code == 200 and r.json()["results"][0]["error"]["fields"] == {"prepared": ["Unknown."]}
    assert Declaration.objects.filter(release=declared.release).count() == 1


def test_a_statement_prepared_on_the_web_is_refused_by_the_api_submit(
    client, keys, label, release, label_token, label_key
):
    from registry.labels import drafts

    draft = {
        "artwork": "none",
        "ai": {
            t.recording.isrc: {
                "parts": dict.fromkeys(("composition", "lyrics", "vocals", "instrumentation", "production"), "none")
            }
            for t in release.tracks.all()
        },
    }
    prepared = drafts.declaration_prepare_draft(release=release, draft=draft)
    assert prepared.kind == PreparedDeclaration.FIRST
    answer = services.prepared_answer(prepared)
    for url in (f"/api/v1/releases/{release.upc}/submit", "/api/v1/releases/bulk/submit"):
        body = {"prepared": prepared.pk, "signature": sign_prepared(answer, label_key)}
        r = post_json(client, url, body if "bulk" not in url else {"releases": [body]}, **bearer(label_token))
        assert r.status_code in (400, 200), r.content
        error = error_of(r) if r.status_code == 400 else r.json()["results"][0]["error"]
        assert "prepared on the web" in error["message"]
    assert not Declaration.objects.filter(release=release).exists()


def _bulk_prepared(client: Any, token: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = post_json(client, "/api/v1/releases/bulk/prepare", {"releases": items}, **bearer(token))
    assert r.status_code == 200, r.content
    assert all(x["status"] == "prepared" for x in r.json()["results"]), r.content
    return r.json()["results"]


def test_a_bulk_submit_is_logged_as_one_batch_with_one_checkpoint_and_each_bundle_verifies(
    client, keys, label, declared, label_token, label_key
):
    new = [release_payload(tracks=2) for _ in range(3)]
    amend = {"action": "amend", "upc": declared.release.upc, "reason": "Retitled", "title": "Signals (Live)"}
    prepared = _bulk_prepared(client, label_token, [*new, amend])
    leaves_before = LogLeaf.objects.count()
    body = {"releases": [{"prepared": p["prepared"], "signature": sign_prepared(p, label_key)} for p in prepared]}
    r = post_json(client, "/api/v1/releases/bulk/submit", body, **bearer(label_token))
    assert r.status_code == 200, r.content
    answer = r.json()
    assert (answer["logged"], answer["refused"]) == (4, 0)
    assert [x["status"] for x in answer["results"]] == ["created", "created", "created", "amended"]
    bundles = [x["declaration"]["bundle"] for x in answer["results"]]
    # One batch: contiguous leaves, and every bundle proves its leaf against the batch's one checkpoint.
    assert LogLeaf.objects.count() == leaves_before + 4
    assert len({b["log"]["checkpoint"] for b in bundles}) == 1
    assert sorted(b["log"]["index"] for b in bundles) == list(range(leaves_before, leaves_before + 4))
    for b in bundles:
        assert b["mediaType"] == MEDIA_TYPE_COSIGNED
        assert _verified(keys, b).label_key.kid == prepared_kid(label_key)
    assert PreparedDeclaration.objects.filter(pk__in=[p["prepared"] for p in prepared], used=True).count() == 4


def test_a_version_that_landed_since_prepare_refuses_only_its_item_of_a_bulk_submit(
    client, keys, label, declared, label_token, label_key
):
    upc = declared.release.upc
    new = release_payload(tracks=1)
    prepared = _bulk_prepared(
        client, label_token, [new, {"action": "amend", "upc": upc, "reason": "Retitled", "title": "Signals (Live)"}]
    )
    # A version lands in between (registry-only, through the ordinary amend door).
    r = post_json(
        client, f"/api/v1/releases/{upc}/amend", {"reason": "Typo", "title": "Signals II"}, **bearer(label_token)
    )
    assert r.status_code == 200, r.content
    body = {"releases": [{"prepared": p["prepared"], "signature": sign_prepared(p, label_key)} for p in prepared]}
    r = post_json(client, "/api/v1/releases/bulk/submit", body, **bearer(label_token))
    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["created", "error"]
    assert results[1]["error"]["code"] == "conflict" and "prepare" in results[1]["error"]["message"]
    assert Release.objects.get(label=label, upc=upc).current_declaration.version == 2  # the one in between
    assert not PreparedDeclaration.objects.get(pk=prepared[1]["prepared"]).used
    _verified(keys, results[0]["declaration"]["bundle"])


def test_a_prepared_statement_named_twice_in_a_bulk_submit_is_logged_once(client, keys, label, label_token, label_key):
    (prepared,) = _bulk_prepared(client, label_token, [release_payload(tracks=1)])
    item = {"prepared": prepared["prepared"], "signature": sign_prepared(prepared, label_key)}
    r = post_json(client, "/api/v1/releases/bulk/submit", {"releases": [item, item]}, **bearer(label_token))
    assert r.status_code == 200, r.content
    assert [x["status"] for x in r.json()["results"]] == ["created", "error"]
    assert r.json()["results"][1]["error"]["fields"] == {"prepared": ["Named twice."]}
    assert Declaration.objects.filter(release__upc=prepared["upc"]).count() == 1


def test_a_bulk_submit_signed_by_a_key_of_another_label_logs_nothing(
    client, label, other_label, declared, label_token, staff, rival
):
    services.key_attest(
        label=label, public_key=public_bytes(generate_private_key()), actor=staff, reason="first", holder=None
    )
    stranger = generate_private_key()
    services.key_attest(label=other_label, public_key=public_bytes(stranger), actor=staff, reason="first", holder=rival)
    prepared = _bulk_prepared(
        client, label_token, [{"action": "amend", "upc": declared.release.upc, "reason": "x", "title": "Other"}]
    )
    before = LogLeaf.objects.count()
    body = {"releases": [{"prepared": p["prepared"], "signature": sign_prepared(p, stranger)} for p in prepared]}
    r = post_json(client, "/api/v1/releases/bulk/submit", body, **bearer(label_token))
    assert r.status_code == 200 and r.json()["logged"] == 0, r.content
    assert r.json()["results"][0]["error"]["code"] == "invalid"
    assert LogLeaf.objects.count() == before


def test_the_queries_of_a_co_signed_bulk_submit_are_one_batch_and_the_key_history_is_read_once(
    client, keys, label, label_token, label_key
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(n: int) -> list[str]:
        prepared = _bulk_prepared(client, label_token, [release_payload(tracks=3) for _ in range(n)])
        body = {"releases": [{"prepared": p["prepared"], "signature": sign_prepared(p, label_key)} for p in prepared]}
        with CaptureQueriesContext(connection) as ctx:
            r = post_json(client, "/api/v1/releases/bulk/submit", body, **bearer(label_token))
        assert r.status_code == 200 and r.json()["logged"] == n, r.content
        return [q["sql"] for q in ctx.captured_queries]

    small, large = queries(2), queries(8)
    for sql in (small, large):
        assert sum("transparency_checkpoint" in q and q.startswith("INSERT") for q in sql) == 1
        assert (
            sum(q.startswith(("INSERT", "COPY")) and 'declarations_declaration"' in q.split("(")[0] for q in sql) == 1
        )
        # The label's key events, with their leaves, are read for the bundles once per batch, not per item.
        assert sum('"labelkeys_labelkeyevent"' in q and "transparency_logleaf" in q for q in sql) == 1
    # Each item is an existing release built in a savepoint of its own, as the unsigned bulk path builds an
    # amendment (its prepared row, its signature's key, the release and its catalog rows): 2026-12, 10 queries
    # per item on SQLite. A query per item more would show here.
    assert (len(large) - len(small)) / 6 <= 10, (len(small), len(large))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_bulk_and_single_submits_of_the_same_prepares_log_each_once_and_the_log_audits_clean(
    keys, label, label_token, label_key, declared
):
    import threading

    from django.db import connections
    from rest_framework.test import APIClient

    from registry.transparency.audit import audit_log

    client = APIClient()
    new = [release_payload(tracks=2) for _ in range(6)]
    amend = {"action": "amend", "upc": declared.release.upc, "reason": "Retitled", "title": "Signals (Live)"}
    prepared = _bulk_prepared(client, label_token, [*new, amend])
    items = [{"prepared": p["prepared"], "signature": sign_prepared(p, label_key)} for p in prepared]
    # Two bulk requests naming all of them in opposite orders, and single submits of two of them, at once.
    bodies: list[tuple[str, Any]] = [
        ("/api/v1/releases/bulk/submit", {"releases": items}),
        ("/api/v1/releases/bulk/submit", {"releases": items[::-1]}),
        (f"/api/v1/releases/{prepared[0]['upc']}/submit", items[0]),
        (f"/api/v1/releases/{prepared[6]['upc']}/submit", items[6]),
    ]
    barrier = threading.Barrier(len(bodies))
    answers: list[Any] = [None] * len(bodies)
    errors: list[BaseException] = []

    def send(i: int) -> None:
        try:
            barrier.wait()
            url, body = bodies[i]
            answers[i] = post_json(APIClient(), url, body, **bearer(label_token))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(a.status_code in (200, 409) for a in answers), [a.content[:300] for a in answers]
    # Each prepared statement was logged exactly once, whoever won it; the others were told "submitted already".
    logged = [x for a in answers[:2] for x in a.json()["results"] if x["status"] != "error"]
    logged += [a for a in answers[2:] if a.status_code == 200]
    assert len(logged) == 7
    refused = [x["error"]["message"] for a in answers[:2] for x in a.json()["results"] if x["status"] == "error"]
    refused += [a.json()["error"]["message"] for a in answers[2:] if a.status_code != 200]
    assert len(refused) == 2 * 7 + 2 - 7 and all("submitted already" in m for m in refused), refused
    assert PreparedDeclaration.objects.filter(used=True).count() == 7
    report = audit_log()
    assert report.declarations == Declaration.objects.count() == 8  # the declared fixture's and these seven


def test_a_statement_prepared_before_the_registrys_statement_key_rotated_refuses_only_its_item(
    client, keys, label, label_token, label_key
):
    import time

    from registry.transparency.keys import key_rotate

    (before,) = _bulk_prepared(client, label_token, [release_payload(tracks=1)])
    time.sleep(1.01)  # the JWKS publishes whole seconds: the new key starts after the prepared date
    key_rotate(purpose="statement")
    (after,) = _bulk_prepared(client, label_token, [release_payload(tracks=1)])
    body = {
        "releases": [{"prepared": p["prepared"], "signature": sign_prepared(p, label_key)} for p in (before, after)]
    }
    r = post_json(client, "/api/v1/releases/bulk/submit", body, **bearer(label_token))
    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["error", "created"]
    assert results[0]["error"]["code"] == "conflict" and "statement key changed" in results[0]["error"]["message"]
    assert not PreparedDeclaration.objects.get(pk=before["prepared"]).used
