"""Who sees what: anonymous → login, other label's member → 404, submitter on owner pages → 403, staff → 404."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.registry.labels.conftest import signed_in

pytestmark = pytest.mark.django_db

MEMBER_PAGES = [
    "/label/{label}/",
    "/label/{label}/releases/new/",
    "/label/{label}/releases/import/",
    "/label/{label}/releases/{upc}/",
    "/label/{label}/releases/{upc}/edit/",
    "/label/{label}/releases/{upc}/declare/",
    "/label/{label}/releases/{upc}/review/",
    "/label/{label}/releases/{upc}/withdraw/",
    "/label/{label}/releases/{upc}/signed/1/",
]
OWNER_PAGES = ["/label/{label}/tokens/", "/label/{label}/members/"]
OWNER_POSTS = [
    "/label/{label}/tokens/1/revoke/",
    "/label/{label}/invitations/1/revoke/",
    "/label/{label}/members/1/role/",
    "/label/{label}/members/1/remove/",
]


def pages(templates, label, release):
    return [t.format(label=label.pk, upc=release.upc) for t in templates]


def test_anonymous_visitors_are_sent_to_login(label, declared):
    release = declared.release
    client = Client()
    for path in [*pages(MEMBER_PAGES + OWNER_PAGES, label, release), "/label/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path
    for path in pages(OWNER_POSTS, label, release):
        assert client.post(path)["Location"].startswith("/accounts/login/")


def test_a_member_of_another_label_gets_404_everywhere(rival, label, declared):
    client = signed_in(rival)
    for path in pages(MEMBER_PAGES + OWNER_PAGES, label, declared.release):
        assert client.get(path).status_code == 404, path
    for path in pages(OWNER_POSTS, label, declared.release):
        assert client.post(path).status_code == 404, path


def test_staff_without_membership_get_404(staff, label, declared):
    client = signed_in(staff)
    for path in pages(MEMBER_PAGES + OWNER_PAGES, label, declared.release):
        assert client.get(path).status_code == 404, path


def test_submitters_get_403_on_owner_pages(submitter, label, declared):
    client = signed_in(submitter)
    for path in pages(OWNER_PAGES, label, declared.release):
        assert client.get(path).status_code == 403, path
    for path in pages(OWNER_POSTS, label, declared.release):
        assert client.post(path).status_code == 403, path
    for path in pages(MEMBER_PAGES, label, declared.release):
        assert client.get(path).status_code in (200, 302), path


def test_a_release_of_another_label_is_404_inside_my_own_label(owner, label, other_label, keys):
    from tests import factories

    theirs = factories.make_release(other_label)
    client = signed_in(owner)
    for step in ("", "edit/", "declare/", "withdraw/", "review/"):
        assert client.get(f"/label/{label.pk}/releases/{theirs.upc}/{step}").status_code == 404


def test_nonsense_ids_are_404_not_500(owner_client, label):
    assert owner_client.get("/label/999999/").status_code == 404
    assert owner_client.get(f"/label/{label.pk}/releases/not-a-upc/").status_code == 404
    assert owner_client.get(f"/label/{label.pk}/releases/000000000000/signed/9/").status_code == 404


def test_forms_are_csrf_protected(owner, label, release):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    for path in (f"/label/{label.pk}/releases/{release.upc}/declare/", f"/label/{label.pk}/tokens/", "/label/apply/"):
        assert client.post(path, {"name": "x"}).status_code == 403, path
