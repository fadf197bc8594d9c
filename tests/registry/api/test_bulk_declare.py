"""POST /api/v1/releases/bulk: JSON and NDJSON, a result per item, one checkpoint per request, idempotent, safe."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.db import DatabaseError, connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from registry.api.models import IdempotencyRecord
from registry.catalog.models import Recording, Release
from registry.declarations import signing
from registry.declarations.models import Declaration, IdentifierClaim
from registry.transparency.audit import audit_log
from registry.transparency.models import Checkpoint, LogLeaf
from tests import factories
from tests.registry.api.conftest import bearer, error_of, post_json, release_payload, track_payload

URL = "/api/v1/releases/bulk"


def snapshot() -> tuple[int, ...]:
    return (
        Release.objects.count(),
        Recording.objects.count(),
        Declaration.objects.count(),
        LogLeaf.objects.count(),
        Checkpoint.objects.count(),
        IdentifierClaim.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def post_ndjson(client: APIClient, items: list[Any], **extra: Any) -> Any:
    body = "\n".join(json.dumps(item) for item in items) + "\n"
    return client.generic("POST", URL, body, content_type="application/x-ndjson", **extra)


def test_a_bulk_of_50_with_3_bad_items_logs_47_with_one_checkpoint(client, keys, label_token, label):
    items = [release_payload(tracks=2) for _ in range(50)]
    del items[4]["genre"]  # a new release needs a genre
    items[18]["tracks"][0]["ai"]["voice_likeness"] = {"imitates_real_person": True}  # no consent reference
    items[33]["upc"] = "123"  # not a UPC
    checkpoints = Checkpoint.objects.count()

    r = post_json(client, URL, {"releases": items}, **bearer(label_token))

    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["logged"], body["refused"]) == (47, 3)
    results = body["results"]
    assert [x["index"] for x in results] == list(range(50))
    failed = {x["index"]: x for x in results if x["status"] == "error"}
    assert set(failed) == {4, 18, 33}
    assert failed[4]["error"]["fields"] == {"genre": ["This field is required."]}
    assert "consent reference" in failed[18]["error"]["message"]
    assert "upc" in failed[33]["error"]["fields"]
    assert all(x["declaration"] is None for x in failed.values())
    ok = [x for x in results if x["status"] == "created"]
    assert all(x["error"] is None and x["declaration"]["declaration"]["version"] == 1 for x in ok)
    assert [x["upc"] for x in ok] == [items[i]["upc"] for i in range(50) if i not in failed]
    # One checkpoint for the request; every bundle carries it; nothing of the refused items exists.
    assert Checkpoint.objects.count() == checkpoints + 1
    assert len({json.dumps(x["declaration"]["bundle"]["log"]["checkpoint"]) for x in ok}) == 1
    assert not Release.objects.filter(upc__in=[items[4]["upc"], items[18]["upc"]]).exists()
    assert Release.objects.filter(label=label).count() == 47
    report = audit_log()
    assert report.leaves == report.declarations == 47


def test_ndjson_is_read_one_release_per_line(client, keys, label_token):
    items = [release_payload(tracks=1), {**release_payload(tracks=1), "action": "declare"}]
    r = post_ndjson(client, items, **bearer(label_token))
    assert r.status_code == 200, r.content
    assert [x["status"] for x in r.json()["results"]] == ["created", "created"]
    lookup = client.get(f"/api/v1/releases/{items[1]['upc']}")
    assert lookup.status_code == 200


def test_an_item_whose_identifier_another_label_holds_fails_alone(client, keys, label_token, other_token):
    theirs = release_payload(tracks=1)
    assert post_json(client, "/api/v1/releases", theirs, **bearer(other_token)).status_code == 201
    items = [release_payload(tracks=1), release_payload(track_list=track_payload(1)), release_payload(tracks=1)]
    items[1]["tracks"][0]["isrc"] = theirs["tracks"][0]["isrc"]
    r = post_json(client, URL, {"releases": items}, **bearer(label_token))
    assert [x["status"] for x in r.json()["results"]] == ["created", "error", "created"]
    assert r.json()["results"][1]["error"]["code"] == "conflict"
    assert not Release.objects.filter(upc=items[1]["upc"]).exists()


def test_amend_and_withdraw_items_sign_new_versions(client, keys, label_token):
    first, second = release_payload(tracks=1), release_payload(tracks=1)
    post_json(client, URL, {"releases": [first, second]}, **bearer(label_token))
    isrc = first["tracks"][0]["isrc"]
    items = [
        {"action": "amend", "upc": first["upc"], "reason": "AI vocals", "ai": {isrc: factories.track_ai("all")}},
        {"action": "withdraw", "upc": second["upc"], "reason": "Released by mistake.", "expected_version": 1},
        {"action": "withdraw", "upc": "999999999993", "reason": "Not ours."},
        {"action": "publish", "upc": first["upc"]},
        {"action": "amend", "upc": second["upc"]},
    ]
    r = post_json(client, URL, {"releases": items}, **bearer(label_token))
    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["amended", "withdrawn", "error", "error", "error"]
    assert results[0]["declaration"]["declaration"]["version"] == 2
    assert results[1]["declaration"]["declaration"]["status"] == "withdrawn"
    assert results[2]["error"]["code"] == "not_found"
    assert results[3]["error"]["fields"] == {"action": ["One of declare, amend, withdraw."]}
    assert "reason" in results[4]["error"]["fields"]
    audit_log()


def test_a_no_change_amendment_is_refused_alone_in_a_bulk_request(client, keys, label_token):
    first, second = release_payload(tracks=1), release_payload(tracks=1)
    post_json(client, URL, {"releases": [first, second]}, **bearer(label_token))
    isrc = second["tracks"][0]["isrc"]
    items = [
        {
            "action": "amend",
            "upc": first["upc"],
            "reason": "Nothing new.",
            "ai": {first["tracks"][0]["isrc"]: first["tracks"][0]["ai"]},
        },
        {"action": "amend", "upc": second["upc"], "reason": "AI vocals", "ai": {isrc: factories.track_ai("all")}},
    ]
    r = post_json(client, URL, {"releases": items}, **bearer(label_token))
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["logged"], body["refused"]) == (1, 1)
    refused, amended = body["results"]
    assert refused["status"] == "error" and refused["error"]["code"] == "unchanged"
    assert refused["error"]["message"].startswith("nothing changes from version 1")
    assert amended["status"] == "amended" and amended["declaration"]["declaration"]["version"] == 2
    assert Declaration.objects.filter(release__upc=first["upc"]).count() == 1
    audit_log()


def test_another_labels_token_cannot_amend_or_withdraw_my_releases(client, keys, label_token, other_token):
    mine = release_payload(tracks=1)
    post_json(client, URL, {"releases": [mine]}, **bearer(label_token))
    before = snapshot()
    items = [
        {"action": "amend", "upc": mine["upc"], "reason": "hijack", "title": "Mine now"},
        {"action": "withdraw", "upc": mine["upc"], "reason": "hijack"},
    ]
    r = post_json(client, URL, {"releases": items}, **bearer(other_token))
    assert r.status_code == 200
    assert [x["error"]["code"] for x in r.json()["results"]] == ["not_found", "not_found"]
    assert "Mine now" not in r.content.decode() and mine["title"] not in r.content.decode()
    assert snapshot()[:6] == before[:6]
    assert Release.objects.get(upc=mine["upc"]).current_declaration.version == 1


def test_an_idempotent_replay_answers_the_same_results_and_logs_nothing(client, keys, label_token):
    items = [release_payload(tracks=1) for _ in range(3)]
    del items[1]["genre"]
    key = {"HTTP_IDEMPOTENCY_KEY": "catalog-2026-05-01", **bearer(label_token)}
    first = post_json(client, URL, {"releases": items}, **key)
    before = snapshot()
    again = post_ndjson(client, items, **key)  # the same releases as NDJSON are the same request
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert snapshot() == before
    other = post_json(client, URL, {"releases": items[:1]}, **key)
    assert other.status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "content_type", "status", "says"),
    [
        ("[]", "application/json", 400, "releases"),
        ('{"releases": {}}', "application/json", 400, "releases"),
        ('{"releases": []}', "application/json", 400, "no release"),
        ("{", "application/json", 400, "JSON parse error"),
        ('{"a": 1}\n{', "application/x-ndjson", 400, "line 2"),
        (b"\xff", "application/x-ndjson", 400, "UTF-8"),
        ('{"releases": [' + ",".join(["{}"] * 101) + "]}", "application/json", 400, "at most 100"),
        ("releases=1", "application/x-www-form-urlencoded", 415, "Unsupported media type"),
        ('{"releases": [' + "[" * 40 + "]" * 40 + "]}", "application/json", 400, "deeper"),
    ],
)
def test_a_malformed_request_is_a_4xx_with_the_reason_and_changes_nothing(
    client, keys, label_token, body, content_type, status, says
):
    before = snapshot()
    r = client.generic(
        "POST",
        URL,
        body if isinstance(body, bytes) else body.encode(),
        content_type=content_type,
        **bearer(label_token),
    )
    assert r.status_code == status, r.content
    assert says in error_of(r)["message"]
    assert snapshot() == before


def test_a_body_over_the_limit_is_a_413(client, keys, label_token, settings):
    from registry.api.views import bulk

    r = client.generic(
        "POST", URL, b" " * (bulk.BULK_BODY_MAX + 1), content_type="application/json", **bearer(label_token)
    )
    assert r.status_code == 413


@pytest.mark.parametrize(
    "item",
    [
        None,
        1,
        "release",
        [],
        {},
        {"action": None},
        {"action": ["amend"]},
        {"action": "amend", "upc": {"x": 1}},
        {"action": "withdraw", "upc": 12345678905},
        {"action": "amend", "upc": "0" * 40, "reason": "x"},
        {"upc": None, "tracks": "x"},
        {"tracks": [None], "artists": [1]},
        {"title": "\u0000", "genre": "\ud800"},
    ],
)
def test_crafted_items_are_refused_one_by_one_never_with_a_5xx(client, keys, label_token, item):
    good = release_payload(tracks=1)
    r = post_json(client, URL, {"releases": [item, good]}, **bearer(label_token))
    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert results[0]["status"] == "error" and set(results[0]["error"]) == {"code", "message", "fields"}
    assert results[1]["status"] == "created"


def test_tokens_and_platform_keys_are_checked_as_on_the_single_endpoints(client, keys, platform_key, revoked_token):
    body = {"releases": [release_payload()]}
    assert post_json(client, URL, body).status_code == 401
    assert post_json(client, URL, body, **bearer(revoked_token)).status_code == 401
    assert post_json(client, URL, body, **bearer(platform_key)).status_code == 403
    assert Release.objects.count() == 0


def test_each_item_counts_against_the_write_quota(client, keys, label_token, settings):
    settings.REGISTRY_THROTTLE = True
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "write": "5/min"},
    }
    from rest_framework.settings import api_settings

    api_settings.reload()
    try:
        too_many = post_json(
            client, URL, {"releases": [release_payload(tracks=1) for _ in range(6)]}, **bearer(label_token)
        )
        assert too_many.status_code == 400 and "at most 5 per request" in error_of(too_many)["message"]
        assert (
            post_json(
                client, URL, {"releases": [release_payload(tracks=1) for _ in range(4)]}, **bearer(label_token)
            ).status_code
            == 200
        )
        over = post_json(
            client, URL, {"releases": [release_payload(tracks=1) for _ in range(2)]}, **bearer(label_token)
        )
        assert over.status_code == 429
        assert Release.objects.count() == 4
    finally:
        settings.REGISTRY_THROTTLE = False
        api_settings.reload()


def test_a_batch_that_cannot_be_committed_logs_nothing_and_says_so_for_every_item(
    client, keys, label_token, monkeypatch
):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("could not serialize access")

    monkeypatch.setattr(signing.log, "append", broken)
    before = snapshot()
    items = [release_payload(tracks=1) for _ in range(3)]
    r = post_json(client, URL, {"releases": items}, HTTP_IDEMPOTENCY_KEY="k1", **bearer(label_token))
    assert r.status_code == 503 and r["Retry-After"] == "1"
    body = r.json()
    assert body["error"]["code"] == "not_logged"
    assert [x["error"]["code"] for x in body["results"]] == ["not_logged"] * 3
    assert snapshot() == before  # the Idempotency-Key was not used up either
    monkeypatch.undo()
    assert (
        post_json(client, URL, {"releases": items}, HTTP_IDEMPOTENCY_KEY="k1", **bearer(label_token)).status_code == 200
    )


def test_the_queries_of_a_bulk_request_do_not_depend_on_the_log(client, keys, label_token):
    from django.db import connection

    def queries(n: int) -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            r = post_json(
                client, URL, {"releases": [release_payload(tracks=3) for _ in range(n)]}, **bearer(label_token)
            )
        assert r.status_code == 200 and r.json()["logged"] == n
        return [q["sql"] for q in ctx.captured_queries]

    small, large = queries(5), queries(25)
    for sql in (small, large):
        assert sum("transparency_checkpoint" in q and q.startswith("INSERT") for q in sql) == 1
        # One insert of the declarations (an INSERT, or on PostgreSQL a COPY: registry/bulk_insert.py).
        assert (
            sum(q.startswith(("INSERT", "COPY")) and 'declarations_declaration"' in q.split("(")[0] for q in sql) == 1
        )
    # New releases are built, claimed, signed and logged together: no query per item (2026-12: ~34 for a
    # request of 5 or of 25 new releases, on SQLite and PostgreSQL alike).
    assert abs(len(large) - len(small)) <= 2, (len(small), len(large))
    assert len(large) <= 40, len(large)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_bulk_requests_of_two_labels_interleave_into_one_clean_log(keys, label_token, other_token):
    def sender(i: int) -> None:
        client = APIClient()
        token = label_token if i % 2 == 0 else other_token
        for _ in range(3):
            r = post_json(client, URL, {"releases": [release_payload(tracks=2) for _ in range(15)]}, **bearer(token))
            assert r.status_code == 200 and r.json()["logged"] == 15, r.content[:300]

    errors: list[BaseException] = []

    def wrapped(i: int) -> None:
        try:
            sender(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert LogLeaf.objects.count() == 4 * 3 * 15
    assert Checkpoint.objects.count() == 4 * 3
    report = audit_log()
    assert report.leaves == report.declarations == 180


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_senders_of_one_label_log_each_release_once_and_a_shared_idempotency_key_once(keys, label_token):
    # A distributor's pipeline: three senders at once with the same token, each its own requests, and all
    # three retrying one request with the same Idempotency-Key. Every release is logged once, the keyed
    # request once (the others replay its answer), the leaves contiguous and the audit clean.
    shared = {"releases": [release_payload(tracks=2) for _ in range(10)]}
    answers: dict[int, list[Any]] = {}
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def sender(i: int) -> None:
        try:
            client = APIClient()
            barrier.wait()
            own = [
                post_json(
                    client, URL, {"releases": [release_payload(tracks=3) for _ in range(20)]}, **bearer(label_token)
                )
                for _ in range(2)
            ]
            keyed = post_json(client, URL, shared, HTTP_IDEMPOTENCY_KEY="pipeline-7", **bearer(label_token))
            answers[i] = [*own, keyed]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for own_a, own_b, _ in answers.values():
        assert own_a.status_code == own_b.status_code == 200 and own_a.json()["logged"] == own_b.json()["logged"] == 20
    keyed = [a[2] for a in answers.values()]
    assert all(r.status_code == 200 for r in keyed)
    assert sum(r.get("Idempotent-Replayed") != "true" for r in keyed) == 1
    assert len({r.content for r in keyed}) == 1 and keyed[0].json()["logged"] == 10
    total = 3 * 2 * 20 + 10
    assert list(LogLeaf.objects.order_by("index").values_list("index", flat=True)) == list(range(total))
    assert LogLeaf.objects.values("data").distinct().count() == total
    assert Release.objects.count() == Declaration.objects.count() == total
    report = audit_log()
    assert report.leaves == report.declarations == total
