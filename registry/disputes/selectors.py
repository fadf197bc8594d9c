"""Reads of disputes: what the public pages and API show (no words, ever), and who may read the words."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from provenance.statement import format_timestamp
from registry.catalog.models import Membership
from registry.disputes.models import ROLE_LABELS, Dispute


@dataclass(frozen=True)
class PublicDispute:
    """A dispute as anyone may see it: who (a role), on what, its state and its log leaves. Never its words."""

    id: str
    opener_role: str
    isrc: str | None
    part: str
    version: int
    status: str
    opened_at: str  # RFC 3339, whole seconds
    log_indexes: list[int]

    @property
    def description(self) -> str:
        """Who disputes what, and its state: "an artist: vocals of USSKG1912345 — open"."""
        on = (self.part if self.part == "artwork" else "UPC") if self.isrc is None else f"{self.part} of {self.isrc}"
        return f"{ROLE_LABELS[self.opener_role]}: {on} — {self.status}"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PublicDispute:
        return cls(
            id=d["id"], opener_role=d["opened_by"], isrc=d["isrc"], part=d["part"], version=d["declaration_version"],
            status=d["status"], opened_at=d["opened_at"], log_indexes=d["log_indexes"],
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "opened_by": self.opener_role,
            "isrc": self.isrc,
            "part": self.part,
            "declaration_version": self.version,
            "status": self.status,
            "opened_at": self.opened_at,
            "log_indexes": self.log_indexes,
        }


def _public(rows: Iterable[Dispute]) -> list[PublicDispute]:
    return [
        PublicDispute(
            id=str(d.uid),
            opener_role=d.opener_role,
            isrc=d.isrc or None,
            part=d.part,
            version=d.declaration.version,
            status=d.status,
            opened_at=format_timestamp(d.created_at),
            log_indexes=[s.leaf_id for s in d.steps.all()],
        )
        for d in rows
    ]


def for_releases(release_ids: Iterable[int]) -> dict[int, list[PublicDispute]]:
    """Every dispute on these releases, oldest first, by release id: two queries whatever the count."""
    ids = list(release_ids)
    out: dict[int, list[PublicDispute]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = list(
        Dispute.objects.filter(release_id__in=ids)
        .select_related("declaration")
        .prefetch_related("steps")
        .order_by("created_at", "id")
    )
    for d, view in zip(rows, _public(rows), strict=True):
        out[d.release_id].append(view)
    return out


def for_release(release_id: int, *, isrc: str | None = None) -> list[PublicDispute]:
    found = for_releases([release_id])[release_id]
    return found if isrc is None else [d for d in found if d.isrc in (None, isrc)]


def of_label(label_id: int) -> list[Dispute]:
    """The label's disputes, open first, with their steps (the label reads the words: they are about its declaration)."""
    rows = (
        Dispute.objects.filter(label_id=label_id)
        .select_related("release", "declaration")
        .prefetch_related("steps")
        .order_by("created_at", "id")
    )
    return sorted(rows, key=lambda d: not d.is_open)


def may_read(user: Any, dispute: Dispute) -> bool:
    """The words of a dispute are for its opener, the disputed label's members and staff; nobody else."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.pk == dispute.opened_by_id:
        return True
    return Membership.objects.filter(label_id=dispute.label_id, user=user).exists()


def public_json(release_id: int) -> str:
    """The release's disputes as stored in ``Release.public_disputes`` (answers splice it, pages read it)."""
    views = for_releases([release_id])[release_id]
    return json.dumps([d.to_dict() for d in views], separators=(",", ":"), ensure_ascii=False)


def published(release: Any, *, isrc: str | None = None) -> list[PublicDispute]:
    """The release's stored public disputes (no query), for an ISRC its own and the release-wide ones."""
    found = [PublicDispute.from_dict(d) for d in json.loads(release.public_disputes or "[]")]
    return [d for d in found if isrc is None or d.isrc in (None, isrc)]
