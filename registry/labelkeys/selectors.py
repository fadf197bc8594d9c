"""Reads of label keys: a label's co-sign-only policy as published (docs/protocol.md §14.5)."""

from __future__ import annotations

from typing import Any

from registry.catalog.models import Label
from registry.labelkeys.models import LabelPolicyEvent


def policy(label: Label | int) -> dict[str, Any]:
    """The label's co-sign-only policy: on or off, and the log index of the (signed, logged) event that set it."""
    label_id = label if isinstance(label, int) else label.pk
    newest = LabelPolicyEvent.objects.filter(label_id=label_id).order_by("-sequence").first()
    return {"cosign_only": bool(newest and newest.cosign_only), "policy_index": newest.leaf_id if newest else None}
