"""The few access checks every view uses (Zulip style): one place decides who touches what.

A label's data is reachable only through these. Another label's release
answers "not found", so probing never confirms what is in someone's drafts.
"""

from __future__ import annotations

from typing import Any

from registry.catalog.models import Label, Membership, Release
from registry.errors import NotFound, PermissionDenied


def memberships_of(user: Any) -> list[Membership]:
    if user is None or not user.is_authenticated:
        return []
    return list(Membership.objects.filter(user=user).select_related("label").order_by("label__name"))


def access_label(user: Any, label_id: int | str, *, owner: bool = False) -> tuple[Label, Membership]:
    """The label ``label_id`` if ``user`` is a member (an owner when ``owner``)."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("sign in to act for a label")
    try:
        membership = Membership.objects.select_related("label").get(user=user, label_id=int(label_id))
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise NotFound("no such label among yours") from None
    if owner and membership.role != Membership.OWNER:
        raise PermissionDenied("only the label's owners can do this")
    return membership.label, membership


def access_release(label: Label, upc: str) -> Release:
    """A release of ``label`` by UPC; another label's release is "not found"."""
    try:
        return Release.objects.select_related("label", "current_declaration").get(label=label, upc=upc)
    except Release.DoesNotExist:
        raise NotFound(f"no release {upc} in {label.name}'s catalog") from None
