"""Reads of observations: what pages and answers show, apart from what the label declared (docs/protocol.md §16.4)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from provenance.vocabulary import LEVEL_LABELS, PART_LABELS, PARTS
from registry.observations.models import Observation


@dataclass(frozen=True)
class PublicObservation:
    """An observation as anyone may see it: who observed what, when, how, and its log leaf."""

    id: str
    platform_id: str
    platform: str
    isrc: str
    observed: dict[str, str]
    method: str
    observed_at: str
    declaration_version: int | None
    log_index: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "platform": {"id": self.platform_id, "name": self.platform},
            "isrc": self.isrc,
            "observed": self.observed,
            "method": self.method,
            "observed_at": self.observed_at,
            "declaration_version": self.declaration_version,
            "log_index": self.log_index,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PublicObservation:
        return cls(
            id=d["id"], platform_id=d["platform"]["id"], platform=d["platform"]["name"], isrc=d["isrc"],
            observed=dict(d["observed"]), method=d["method"], observed_at=d["observed_at"],
            declaration_version=d["declaration_version"], log_index=d["log_index"],
        )  # fmt: skip

    @property
    def levels(self) -> list[tuple[str, str, str]]:
        """(part, its label, the level's label) in the vocabulary's order of parts."""
        return [(p, PART_LABELS[p], LEVEL_LABELS[self.observed[p]]) for p in PARTS if p in self.observed]

    def disagreements(self, declared: Mapping[str, str]) -> list[str]:
        """Plain sentences for each part where the platform saw another level than the label declared."""
        return [
            f"{PART_LABELS[p]}: the label declared “{LEVEL_LABELS[declared[p]]}”, "
            f"{self.platform} observed “{LEVEL_LABELS[self.observed[p]]}”"
            for p in PARTS
            if p in self.observed and p in declared and declared[p] != self.observed[p]
        ]


def _public(row: Observation) -> PublicObservation:
    st = row.statement
    return PublicObservation(
        id=str(row.uid),
        platform_id=st["platform"]["id"],
        platform=st["platform"]["name"],
        isrc=row.isrc,
        observed=dict(st["observed"]),
        method=st["method"],
        observed_at=st["observed_at"],
        declaration_version=st["declaration"]["version"] if st["declaration"] else None,
        log_index=row.leaf_id,
    )


def for_releases(release_ids: Iterable[int]) -> dict[int, list[PublicObservation]]:
    """The shown (not hidden) observations of these releases, oldest first, by release id: one query."""
    ids = list(release_ids)
    out: dict[int, list[PublicObservation]] = {i: [] for i in ids}
    rows = Observation.objects.filter(release_id__in=ids, hidden_at__isnull=True).order_by("leaf_id")
    for row in rows:
        out[row.release_id].append(_public(row))
    return out


def public_json(release_id: int) -> str:
    """The release's observations as stored in ``Release.public_observations`` (answers splice it, pages read it)."""
    views = for_releases([release_id])[release_id]
    return json.dumps([o.to_dict() for o in views], separators=(",", ":"), ensure_ascii=False)


def published(release: Any, *, isrc: str | None = None) -> list[PublicObservation]:
    """The release's stored public observations (no query), for an ISRC only its own."""
    found = [PublicObservation.from_dict(d) for d in json.loads(release.public_observations or "[]")]
    return [o for o in found if isrc is None or o.isrc == isrc]
