"""Prepared co-signing statements expire: deleted by `manage.py expire_prepared` with the releases they created, capped per label."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from provenance.issue.keys import generate_private_key, public_bytes
from provenance.labelsign import sign_prepared
from registry.catalog.models import Release
from registry.declarations.models import Declaration
from registry.labelkeys import services
from registry.labelkeys.models import PreparedDeclaration
from tests.registry.api.conftest import bearer, error_of, post_json, release_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def label_key(label: Any, staff: Any, owner: Any) -> Any:
    key = generate_private_key()
    services.key_attest(label=label, public_key=public_bytes(key), actor=staff, reason="first key", holder=owner)
    return key


def _expire(*prepared_ids: int) -> None:
    """What fifteen minutes do to these prepared statements."""
    PreparedDeclaration.objects.filter(pk__in=prepared_ids).update(expires_at=timezone.now() - timedelta(seconds=1))


def _prepare_new(client: Any, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = release_payload(tracks=1)
    r = post_json(client, "/api/v1/releases/prepare", body, **bearer(token))
    assert r.status_code == 201, r.content
    return body, r.json()


def test_an_unsubmitted_first_version_prepare_and_the_release_it_created_are_deleted_once_expired(
    client, keys, label, declared, label_token, label_key
):
    body, prepared = _prepare_new(client, label_token)
    upc = declared.release.upc
    amend = post_json(
        client, f"/api/v1/releases/{upc}/prepare", {"reason": "x", "title": "Other"}, **bearer(label_token)
    )
    assert amend.status_code == 201
    call_command("expire_prepared")  # nothing expired yet: nothing goes
    assert PreparedDeclaration.objects.count() == 2 and Release.objects.filter(upc=body["upc"]).exists()

    _expire(prepared["prepared"], amend.json()["prepared"])
    call_command("expire_prepared")
    assert not PreparedDeclaration.objects.exists()
    assert not Release.objects.filter(label=label, upc=body["upc"]).exists()  # the private release it created
    assert Release.objects.get(pk=declared.release.pk).current_declaration_id == declared.pk  # declared: kept
    r = post_json(
        client,
        f"/api/v1/releases/{body['upc']}/submit",
        {"prepared": prepared["prepared"], "signature": sign_prepared(prepared, label_key)},
        **bearer(label_token),
    )
    assert r.status_code == 404, r.content  # the release is gone, nothing is signed
    assert not Declaration.objects.filter(release__upc=body["upc"]).exists()


def test_a_created_release_prepared_again_is_kept_while_the_new_prepare_is_open(
    client, keys, label, label_token, label_key
):
    body, first = _prepare_new(client, label_token)
    _expire(first["prepared"])
    again = post_json(
        client,
        f"/api/v1/releases/{body['upc']}/prepare",
        {"action": "declare", "ai": {body["tracks"][0]["isrc"]: body["tracks"][0]["ai"]}},
        **bearer(label_token),
    )
    assert again.status_code == 201, again.content
    call_command("expire_prepared")
    assert Release.objects.filter(label=label, upc=body["upc"]).exists()
    assert list(PreparedDeclaration.objects.values_list("pk", flat=True)) == [again.json()["prepared"]]
    # Submitted, it is declared: expiring its prepared statements later leaves it alone.
    r = post_json(
        client,
        f"/api/v1/releases/{body['upc']}/submit",
        {"prepared": again.json()["prepared"], "signature": sign_prepared(again.json(), label_key)},
        **bearer(label_token),
    )
    assert r.status_code == 200, r.content
    _expire(again.json()["prepared"])
    call_command("expire_prepared")
    assert Release.objects.get(label=label, upc=body["upc"]).current_declaration.version == 1


def test_a_label_at_its_cap_of_open_prepared_statements_is_refused_with_429_and_nothing_is_created(
    client, keys, label, declared, label_token, label_key, other_label, other_token, staff, rival, monkeypatch
):
    monkeypatch.setattr(services, "PREPARED_OPEN_MAX", 3)
    opened = [_prepare_new(client, label_token)[1]["prepared"] for _ in range(3)]
    releases = Release.objects.filter(label=label).count()

    body = release_payload(tracks=1)
    r = post_json(client, "/api/v1/releases/prepare", body, **bearer(label_token))
    assert r.status_code == 429, r.content
    assert error_of(r)["code"] == "throttled" and "3 prepared statements" in error_of(r)["message"]
    assert 0 < int(r["Retry-After"]) <= 15 * 60 + 1
    assert Release.objects.filter(label=label).count() == releases  # the refused prepare created no release
    upc = declared.release.upc
    r = post_json(client, f"/api/v1/releases/{upc}/prepare", {"reason": "x", "title": "Other"}, **bearer(label_token))
    assert r.status_code == 429
    r = post_json(
        client, "/api/v1/releases/bulk/prepare", {"releases": [release_payload(tracks=1)]}, **bearer(label_token)
    )
    assert r.status_code == 200 and r.json()["results"][0]["error"]["code"] == "throttled"
    assert PreparedDeclaration.objects.filter(label=label).count() == 3

    # Another label is not held back by this one's prepares.
    services.key_attest(
        label=other_label, public_key=public_bytes(generate_private_key()), actor=staff, reason="first", holder=rival
    )
    assert (
        post_json(client, "/api/v1/releases/prepare", release_payload(tracks=1), **bearer(other_token)).status_code
        == 201
    )

    # One expires: the next prepare deletes the label's expired ones (and the release it created) and goes through.
    _expire(opened[0])
    assert post_json(client, "/api/v1/releases/prepare", body, **bearer(label_token)).status_code == 201
    assert not PreparedDeclaration.objects.filter(pk=opened[0]).exists()
    assert PreparedDeclaration.objects.filter(label=label).count() == 3


def test_expire_prepared_refuses_a_negative_interval():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("expire_prepared", "--interval", "-1")


def test_a_created_release_a_member_keeps_a_web_draft_of_is_kept_when_its_prepare_expires(
    client, keys, label, owner, label_token, label_key
):
    from registry.labels.drafts import session_key
    from registry.labels.models import Draft

    body, prepared = _prepare_new(client, label_token)
    release = Release.objects.get(label=label, upc=body["upc"])
    Draft.objects.create(label=label, user=owner, key=session_key(release), data={"artwork": "none", "ai": {}})
    _expire(prepared["prepared"])
    call_command("expire_prepared")
    assert Release.objects.filter(pk=release.pk).exists()  # the member's work on the web
    assert not PreparedDeclaration.objects.exists()  # the expired statement itself goes


def test_the_artists_an_expired_prepare_created_go_with_its_release_and_the_labels_own_stay(
    client, keys, label, declared, label_token, label_key
):
    from registry.catalog.models import Artist

    roster = set(Artist.objects.filter(label=label).values_list("name", flat=True))
    assert roster  # the declared release's artists
    body = release_payload(tracks=1)
    body["artists"] = [
        {"name": "Spam Artist 1", "isni": None, "persona": "human"},
        {"name": sorted(roster)[0], "isni": None, "persona": "human"},  # one the label has already
    ]
    r = post_json(client, "/api/v1/releases/prepare", body, **bearer(label_token))
    assert r.status_code == 201, r.content
    assert Artist.objects.filter(label=label, name="Spam Artist 1").exists()
    _expire(r.json()["prepared"])
    call_command("expire_prepared")
    assert not Release.objects.filter(label=label, upc=body["upc"]).exists()
    assert set(Artist.objects.filter(label=label).values_list("name", flat=True)) == roster
