"""The dashboard: statuses, search, pagination, label switcher, a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.catalog.models import Membership
from registry.catalog.services import membership_add
from tests import factories

pytestmark = pytest.mark.django_db


def test_label_home_redirects_to_the_first_label(owner_client, label):
    assert owner_client.get("/label/")["Location"] == f"/label/{label.pk}/"


def test_users_without_a_label_are_told_how_to_get_one(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", "n@example.com", "x"))
    html = client.get("/label/").content.decode()
    assert "not a member of any label" in html and "/label/apply/" in html


def test_it_lists_releases_with_their_status(owner_client, label, declared, keys):
    undeclared = factories.make_release(label, title="Quiet Hours")
    withdrawn = factories.make_release(label, title="Gone Girl")
    factories.declare(withdrawn)
    from registry.declarations.services import declaration_withdraw

    declaration_withdraw(release=withdrawn, reason="Mistake")
    html = owner_client.get(f"/label/{label.pk}/").content.decode()
    assert "Signals" in html and "active v1" in html
    assert "Quiet Hours" in html and "not declared" in html
    assert "withdrawn (v2)" in html
    assert f"/label/{label.pk}/releases/{undeclared.upc}/declare/" in html


def test_search_finds_by_title_upc_and_isrc(owner_client, label, keys):
    a = factories.make_release(label, title="Blue Monday", tracks=2)
    b = factories.make_release(label, title="Red Tuesday", tracks=2)
    isrc = b.tracks.first().recording.isrc
    base = f"/label/{label.pk}/?q="
    assert "Blue Monday" in owner_client.get(base + "blue").content.decode()
    assert "Red Tuesday" not in owner_client.get(base + "blue").content.decode()
    assert "Blue Monday" in owner_client.get(base + a.upc).content.decode()
    hyphenated = f"{isrc[:2]}-{isrc[2:5]}-{isrc[5:7]}-{isrc[7:]}"
    html = owner_client.get(base + hyphenated).content.decode()
    assert "Red Tuesday" in html and "Blue Monday" not in html
    assert html.count("Red Tuesday") == 1  # listed once, not once per matching track
    assert "No release matches" in owner_client.get(base + "zzz").content.decode()


def test_it_paginates_25_per_page_in_constant_queries(owner_client, label, keys):
    for i in range(3):
        factories.make_release(label, title=f"Album {i:02d}")
    owner_client.get(f"/label/{label.pk}/")  # warm up session and content types
    with CaptureQueriesContext(connection) as few:
        assert owner_client.get(f"/label/{label.pk}/").status_code == 200
    for i in range(3, 30):
        factories.declare(factories.make_release(label, title=f"Album {i:02d}"))
    with CaptureQueriesContext(connection) as many:
        first = owner_client.get(f"/label/{label.pk}/")
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert len(many) <= 7
    html = first.content.decode()
    assert "Page 1 of 2" in html and html.count("<tr>") == 26  # header + 25
    second = owner_client.get(f"/label/{label.pk}/?page=2").content.decode()
    assert second.count("<tr>") == 6
    assert owner_client.get(f"/label/{label.pk}/?page=zzz").status_code == 200


def test_several_labels_get_a_switcher(owner, owner_client, label, other_label):
    membership_add(label=other_label, user=owner, role=Membership.SUBMITTER)
    html = owner_client.get(f"/label/{label.pk}/").content.decode()
    assert "Switch label" in html and f'href="/label/{other_label.pk}/"' in html
    assert owner_client.get(f"/label/{other_label.pk}/").status_code == 200
