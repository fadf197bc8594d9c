"""The admin: staff can browse every model without errors; signed rows and identities are read-only."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from registry.api.models import PlatformKey
from registry.api.tokens import platform_key_check

CHANGELISTS = [
    "catalog/label",
    "catalog/artist",
    "catalog/release",
    "catalog/recording",
    "declarations/declaration",
    "transparency/signingkey",
    "transparency/checkpoint",
    "labels/labelapplication",
    "labels/invitation",
    "api/platformkey",
    "api/labeltoken",
]


@pytest.mark.parametrize("path", CHANGELISTS)
def test_staff_can_browse_every_changelist(client, staff, declared, path):
    client.force_login(staff)
    assert client.get(f"/admin/{path}/").status_code == 200


def test_signed_declarations_cannot_be_changed_or_deleted_in_the_admin(client, staff, declared):
    client.force_login(staff)
    page = client.get(f"/admin/declarations/declaration/{declared.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.post(f"/admin/declarations/declaration/{declared.pk}/delete/").status_code == 403


def test_a_release_cannot_be_moved_to_another_label_or_renumbered_in_the_admin(client, staff, declared, other_label):
    client.force_login(staff)
    release = declared.release
    page = client.get(f"/admin/catalog/release/{release.pk}/change/")
    assert b'name="upc"' not in page.content and b'name="label"' not in page.content


def test_members_of_labels_are_not_staff(client, owner):
    client.force_login(owner)
    assert client.get("/admin/catalog/label/").status_code == 302


def test_a_platform_key_is_issued_once_and_stored_only_as_a_digest(db):
    out = io.StringIO()
    call_command("create_platform_key", "Example Streaming", email="ops@example.com", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    row = PlatformKey.objects.get()
    assert key.startswith("adrp_") and key not in (row.digest, row.public_id)
    assert platform_key_check(key) == row
