"""Idempotency-Key on label writes: the same request replays, a different one under the same key is refused."""

from __future__ import annotations

from registry.api.models import IdempotencyRecord
from registry.catalog.models import Release
from registry.declarations.models import Declaration
from tests.registry.api.conftest import bearer, error_of, post_json, release_payload


def test_the_same_key_and_body_replays_the_first_answer_and_creates_nothing_new(client, keys, label_token):
    payload = release_payload()
    headers = {**bearer(label_token), "HTTP_IDEMPOTENCY_KEY": "create-1"}
    first = post_json(client, "/api/v1/releases", payload, **headers)
    assert first.status_code == 201
    counts = (Release.objects.count(), Declaration.objects.count())
    again = post_json(client, "/api/v1/releases", payload, **headers)
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert (Release.objects.count(), Declaration.objects.count()) == counts


def test_the_same_key_with_a_different_body_is_refused(client, keys, label_token):
    headers = {**bearer(label_token), "HTTP_IDEMPOTENCY_KEY": "create-2"}
    assert post_json(client, "/api/v1/releases", release_payload(), **headers).status_code == 201
    counts = (Release.objects.count(), Declaration.objects.count())
    r = post_json(client, "/api/v1/releases", release_payload(), **headers)
    assert r.status_code == 422
    assert error_of(r)["code"] == "idempotency_key_reused"
    assert (Release.objects.count(), Declaration.objects.count()) == counts


def test_the_same_key_on_another_endpoint_is_refused(client, label_token, declared):
    headers = {**bearer(label_token), "HTTP_IDEMPOTENCY_KEY": "k"}
    upc = declared.release.upc
    assert (
        post_json(client, f"/api/v1/releases/{upc}/amend", {"reason": "x", "artwork": "partly"}, **headers).status_code
        == 200
    )
    r = post_json(client, f"/api/v1/releases/{upc}/withdraw", {"reason": "x"}, **headers)
    assert r.status_code == 422


def test_an_amendment_retried_with_its_key_is_signed_once(client, label_token, declared):
    headers = {**bearer(label_token), "HTTP_IDEMPOTENCY_KEY": "amend-1"}
    url = f"/api/v1/releases/{declared.release.upc}/amend"
    first = post_json(client, url, {"reason": "Fix", "artwork": "partly"}, **headers)
    again = post_json(client, url, {"reason": "Fix", "artwork": "partly"}, **headers)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert Declaration.objects.filter(release=declared.release).count() == 2


def test_a_withdrawal_retried_with_its_key_replays_instead_of_conflicting(client, label_token, declared):
    headers = {**bearer(label_token), "HTTP_IDEMPOTENCY_KEY": "withdraw-1"}
    url = f"/api/v1/releases/{declared.release.upc}/withdraw"
    assert post_json(client, url, {"reason": "Pulled"}, **headers).status_code == 200
    again = post_json(client, url, {"reason": "Pulled"}, **headers)
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"


def test_a_refused_write_stores_nothing_so_a_corrected_retry_may_reuse_the_key(client, keys, label_token):
    headers = {**bearer(label_token), "HTTP_IDEMPOTENCY_KEY": "retry-me"}
    bad = release_payload(upc="12345")
    assert post_json(client, "/api/v1/releases", bad, **headers).status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert post_json(client, "/api/v1/releases", release_payload(), **headers).status_code == 201


def test_keys_are_per_label(client, keys, label_token, other_token):
    first = post_json(client, "/api/v1/releases", release_payload(), **bearer(label_token), HTTP_IDEMPOTENCY_KEY="same")
    second = post_json(
        client, "/api/v1/releases", release_payload(), **bearer(other_token), HTTP_IDEMPOTENCY_KEY="same"
    )
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second


def test_an_unusable_key_is_a_400(client, keys, label_token):
    r = post_json(client, "/api/v1/releases", release_payload(), **bearer(label_token), HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert r.status_code == 400
    assert "Idempotency-Key" in error_of(r)["fields"]
    assert not Release.objects.exists()
