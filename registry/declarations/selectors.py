"""Reads of declarations, shared by the API and the public pages, in a constant number of queries.

A release answers its current (newest) version. A recording answers the
newest current declaration among the releases that hold it (docs/protocol.md §12),
and lists the other releases' UPCs in ``also_in``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from provenance.disclosure import summary_of
from registry.catalog.models import Release
from registry.declarations.models import Declaration
from registry.declarations.stored_answers import recording_answers

_DECL_FIELDS = (
    "id",
    "uid",
    "release_id",
    "version",
    "status",
    "reason",
    "declared_at",
    "contains_ai",
    "statement",
    "bundle",
    "leaf_id",
    "key_id",
    "supersedes",
    "via",
)


@dataclass
class RecordingAnswer:
    isrc: str
    declaration: Declaration
    also_in: list[str] = field(default_factory=list)


def _declarations(ids: Iterable[int]) -> dict[int, Declaration]:
    ids = list(set(ids))
    if not ids:
        return {}
    return {
        d.pk: d
        for d in Declaration.objects.filter(pk__in=ids)
        .select_related("release__label", "key")
        .only(
            *_DECL_FIELDS,
            "release__upc",
            "release__title",
            "release__public_disputes",
            "release__current_declaration",
            "release__label__name",
            "release__label__verified",
            "release__label__is_demo",
            "release__label__id",
            "key__kid",
            "key__status",
        )
    }


def release_by_upc(upc: str) -> Declaration | None:
    """The current declaration of a release, as a model (for pages): 2 queries."""
    decl_id = (
        Release.objects.filter(upc=upc, current_declaration__isnull=False)
        .values_list("current_declaration_id", flat=True)
        .first()
    )
    return _declarations([decl_id]).get(decl_id) if decl_id else None


def recording_by_isrc(isrc: str) -> RecordingAnswer | None:
    """The recording's answer as a model (for pages), chosen by the same rule as the API's."""
    stored = recording_answers([isrc]).get(isrc)
    if stored is None:
        return None
    decl = _declarations([stored.declaration_id])[stored.declaration_id]
    return RecordingAnswer(isrc=isrc, declaration=decl, also_in=list(stored.also_in))


def history(release_id: int) -> list[Declaration]:
    """Every version, oldest first."""
    return list(Declaration.objects.filter(release_id=release_id).select_related("key").order_by("version"))


def disclosure_summary(decl: Declaration, isrc: str | None = None) -> dict[str, Any]:
    """The plain summary a platform displays: levels, persona, Apple tags, DDEX values.

    With ``isrc``, the summary is about that track; otherwise about the release.
    """
    return summary_of(decl.statement, isrc)
