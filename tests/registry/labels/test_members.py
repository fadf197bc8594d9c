"""Owners manage members: change roles, remove people, with confirmation; a label always keeps an owner."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from registry.catalog.models import Membership
from registry.catalog.services import membership_add
from tests.registry.labels.conftest import signed_in

pytestmark = pytest.mark.django_db


def membership(label: Any, user: Any) -> Membership:
    return Membership.objects.get(label=label, user=user)


def role_url(label: Any, m: Membership) -> str:
    return f"/label/{label.pk}/members/{m.pk}/role/"


def remove_url(label: Any, m: Membership) -> str:
    return f"/label/{label.pk}/members/{m.pk}/remove/"


def roles(label: Any) -> dict[str, str]:
    return dict(Membership.objects.filter(label=label).values_list("user__username", "role"))


def test_the_members_page_offers_labelled_actions(owner_client, label, owner, submitter):
    html = owner_client.get(f"/label/{label.pk}/members/").content.decode()
    sam = membership(label, submitter)
    assert f'action="{role_url(label, sam)}"' in html and f'action="{remove_url(label, sam)}"' in html
    assert 'Make owner<span class="visually-hidden">: sam</span>' in html
    # The only owner is told why there is nothing to do on their own row.
    assert "The only owner: make someone else an owner before you step down or leave." in html
    assert f'action="{remove_url(label, membership(label, owner))}"' not in html


def test_an_owner_promotes_and_demotes_a_member(owner_client, label, submitter):
    sam = membership(label, submitter)
    response = owner_client.post(role_url(label, sam), {"role": "owner"})
    assert response["Location"] == f"/label/{label.pk}/members/"
    assert roles(label)["sam"] == "owner"
    assert "sam is now owner." in owner_client.get(response["Location"]).content.decode()
    assert signed_in(submitter).get(f"/label/{label.pk}/members/").status_code == 200
    owner_client.post(role_url(label, sam), {"role": "submitter"})
    assert roles(label)["sam"] == "submitter"


def test_an_unknown_role_changes_nothing(owner_client, label, submitter):
    sam = membership(label, submitter)
    response = owner_client.post(role_url(label, sam), {"role": "admin"}, follow=True)
    assert "role must be owner or submitter" in response.content.decode()
    assert roles(label)["sam"] == "submitter"


def test_removing_asks_for_confirmation_first(owner_client, label, submitter, release):
    sam = membership(label, submitter)
    page = owner_client.post(remove_url(label, sam))
    html = page.content.decode()
    assert page.status_code == 200 and "Remove sam from Northern Lights Records?" in html
    assert 'name="confirm"' in html and "Cancel" in html
    assert roles(label)["sam"] == "submitter"  # asking removed nobody
    response = owner_client.post(remove_url(label, sam), {"confirm": "1"})
    assert response["Location"] == f"/label/{label.pk}/members/"
    assert "sam" not in roles(label)
    # Sam loses access at once.
    assert signed_in(submitter).get(f"/label/{label.pk}/releases/{release.upc}/").status_code == 404


def test_the_last_owner_cannot_step_down_or_leave(owner_client, label, owner):
    me = membership(label, owner)
    response = owner_client.post(role_url(label, me), {"role": "submitter"}, follow=True)
    html = response.content.decode()
    assert "You are the only owner of Northern Lights Records: make someone else an owner before stepping down" in html
    response = owner_client.post(remove_url(label, me), {"confirm": "1"}, follow=True)
    assert "You are the only owner of Northern Lights Records: make someone else an owner before leaving" in (
        response.content.decode()
    )
    assert roles(label) == {"olivia": "owner"}


def test_with_another_owner_an_owner_may_step_down_or_leave(owner_client, label, owner, submitter):
    membership_add(label=label, user=submitter, role=Membership.OWNER)
    response = owner_client.post(role_url(label, membership(label, owner)), {"role": "submitter"})
    assert response["Location"] == f"/label/{label.pk}/"  # no longer allowed on the members page
    assert owner_client.get(f"/label/{label.pk}/members/").status_code == 403
    # Sam, now the only owner, cannot be demoted by anyone.
    sam_client = signed_in(submitter)
    sam_client.post(role_url(label, membership(label, submitter)), {"role": "submitter"})
    assert roles(label) == {"olivia": "submitter", "sam": "owner"}
    # Olivia is promoted again and leaves.
    membership_add(label=label, user=owner, role=Membership.OWNER)
    page = owner_client.post(remove_url(label, membership(label, owner)))
    assert "Leave Northern Lights Records?" in page.content.decode()
    response = owner_client.post(remove_url(label, membership(label, owner)), {"confirm": "1"})
    assert response["Location"] == "/label/"
    assert roles(label) == {"sam": "owner"}


def test_submitters_get_403_and_change_nothing(submitter_client, label, owner, submitter):
    for m in (membership(label, owner), membership(label, submitter)):
        assert submitter_client.post(role_url(label, m), {"role": "owner"}).status_code == 403
        assert submitter_client.post(remove_url(label, m), {"confirm": "1"}).status_code == 403
    assert roles(label) == {"olivia": "owner", "sam": "submitter"}


def test_outsiders_get_404_or_the_login_page(label, owner, submitter, rival, staff, other_label):
    sam = membership(label, submitter)
    anonymous = Client().post(remove_url(label, sam), {"confirm": "1"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    for outsider in (rival, staff):
        client = signed_in(outsider)
        assert client.post(role_url(label, sam), {"role": "owner"}).status_code == 404
        assert client.post(remove_url(label, sam), {"confirm": "1"}).status_code == 404
    # A membership of another label is not reachable through my own label either.
    theirs = membership(other_label, rival)
    client = signed_in(owner)
    assert client.post(role_url(label, theirs), {"role": "submitter"}).status_code == 404
    assert client.post(remove_url(label, theirs), {"confirm": "1"}).status_code == 404
    assert roles(label) == {"olivia": "owner", "sam": "submitter"} and roles(other_label) == {"rita": "owner"}


def test_member_actions_are_post_only_and_csrf_protected(owner, label, submitter):
    sam = membership(label, submitter)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get(role_url(label, sam)).status_code == 405
    assert client.get(remove_url(label, sam)).status_code == 405
    assert client.post(role_url(label, sam), {"role": "owner"}).status_code == 403
    assert client.post(remove_url(label, sam), {"confirm": "1"}).status_code == 403
    assert roles(label) == {"olivia": "owner", "sam": "submitter"}
