"""POST /api/v1/lookup: order, duplicates, invalid items, the 1000 limit and a constant query count."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from provenance import identifiers
from registry.declarations.services import declaration_amend
from tests import factories
from tests.registry.api.conftest import error_of, post_json


def _isrcs(release: Any) -> list[str]:
    return [t.recording.isrc for t in release.tracks.select_related("recording")]


def test_it_answers_isrcs_first_then_upcs_each_in_request_order_with_duplicates(client, declared):
    a, b, _ = _isrcs(declared.release)
    unknown = factories.isrc()
    body = {"upcs": [declared.release.upc, factories.upc(5)], "isrcs": [b, unknown, identifiers.format_isrc(a), b]}
    r = post_json(client, "/api/v1/lookup", body)
    assert r.status_code == 200
    results = r.json()["results"]
    assert [(x.get("isrc") or x.get("upc"), x["status"]) for x in results] == [
        (b, "declared"),
        (unknown, "not_declared"),
        (a, "declared"),
        (b, "declared"),
        (declared.release.upc, "declared"),
        (factories.upc(5), "not_declared"),
    ]
    assert results[1] == {"isrc": unknown, "status": "not_declared"}
    assert results[0] == results[3]
    assert results[2]["disclosure"]["track"]["contains_ai"] == "all"


def test_it_answers_a_malformed_identifier_in_its_place_without_failing_the_rest(client, declared):
    upc = declared.release.upc
    r = post_json(client, "/api/v1/lookup", {"isrcs": ["nope", ""], "upcs": ["12345", upc]})
    assert r.status_code == 200
    results = r.json()["results"]
    assert results[0]["isrc"] == "nope" and results[0]["status"] == "invalid"
    assert "12 characters" in results[0]["error"]
    assert results[1]["status"] == "invalid"
    assert results[2] == {"upc": "12345", "status": "invalid", "error": results[2]["error"]}
    assert results[3]["status"] == "declared"


def test_it_refuses_more_than_the_maximum_number_of_identifiers(client, db):
    isrcs = [factories.isrc(i) for i in range(600)]
    upcs = [factories.upc(i) for i in range(401)]
    r = post_json(client, "/api/v1/lookup", {"isrcs": isrcs, "upcs": upcs})
    assert r.status_code == 400
    assert "at most 1000" in error_of(r)["message"]


def test_it_accepts_exactly_the_maximum(client, db):
    r = post_json(client, "/api/v1/lookup", {"isrcs": [factories.isrc(i) for i in range(1000)]})
    assert r.status_code == 200
    assert len(r.json()["results"]) == 1000


@override_settings(REGISTRY_LOOKUP_MAX=3)
def test_the_maximum_comes_from_settings(client, db):
    r = post_json(client, "/api/v1/lookup", {"isrcs": ["a", "b"], "upcs": ["c", "d"]})
    assert r.status_code == 400


def test_it_refuses_a_body_of_the_wrong_shape(client, db):
    for body in ({"isrcs": "USSKG1912345"}, {"isrcs": [{"x": 1}]}, [1, 2], "text"):
        r = post_json(client, "/api/v1/lookup", body)
        assert r.status_code == 400, body
        error_of(r)


def test_an_empty_lookup_answers_no_results(client, db):
    r = post_json(client, "/api/v1/lookup", {})
    assert r.status_code == 200
    assert r.json() == {"results": []}


def _lookup_many(client, label, n, django_assert_max_num_queries, budget):
    releases = [factories.make_release(label, tracks=2) for _ in range(2)]
    for rel in releases:
        factories.declare(rel, "partly")
    isrcs = [i for rel in releases for i in _isrcs(rel)]
    ids = (isrcs * (n // len(isrcs) + 1))[:n]
    upcs = ([rel.upc for rel in releases] * n)[:n]
    with django_assert_max_num_queries(budget) as ctx:
        r = post_json(client, "/api/v1/lookup", {"isrcs": ids, "upcs": upcs})
    assert r.status_code == 200
    assert len(r.json()["results"]) == 2 * n
    return len(ctx.captured_queries)


def test_a_bulk_lookup_of_one_takes_a_constant_number_of_queries(client, keys, label, django_assert_max_num_queries):
    assert _lookup_many(client, label, 1, django_assert_max_num_queries, 4) <= 4


def test_a_bulk_lookup_of_500_takes_the_same_number_of_queries(client, keys, label, django_assert_max_num_queries):
    assert _lookup_many(client, label, 500, django_assert_max_num_queries, 4) <= 4


def test_each_bulk_answer_is_byte_for_byte_the_single_lookups_answer(client, keys, label):
    releases = [factories.make_release(label, tracks=3) for _ in range(2)]
    shared = _isrcs(releases[0])[0]  # also on a single: an answer with also_in
    releases.append(factories.make_release(label, title="Single", track_list=[{"isrc": shared, "title": "Hit"}]))
    for rel in releases:
        factories.declare(rel, "partly")
    # An amendment: the bulk answers the current version, as GET does.
    declaration_amend(
        release=releases[0], reason="The first track is AI after all.", ai={shared: factories.track_ai("all")}
    )
    isrcs = [i for rel in releases for i in _isrcs(rel)] + [factories.isrc(), shared]
    upcs = [rel.upc for rel in releases] + [factories.upc(7)]
    singles = [client.get(f"/api/v1/recordings/{i}").content for i in isrcs]
    singles += [client.get(f"/api/v1/releases/{u}").content for u in upcs]
    r = post_json(client, "/api/v1/lookup", {"isrcs": isrcs, "upcs": upcs})
    assert r.status_code == 200
    assert r.content == b'{"results":[' + b",".join(singles) + b"]}"
