"""The one server-side draft store (docs/architecture.md): unsigned work by label, member and key.

``store(request, label)`` reads and writes like a small dict (``get``, ``[key] =``,
``pop``), so views keep their shape; rows live in ``registry.labels.models.Draft``.
Keys used: ``labels:draft:<release id>`` (a release's next version, see
``registry.labels.drafts``; when it started from a DDEX file it also holds the file's
answers and where each answer came from, see ``registry.labels.imports``),
``labels:import`` (a parsed DDEX message) and ``labels:import-ai:<release id>``
(the AI answers that message states, ``imports.file_answers``, until the first draft).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from registry.catalog.models import Label
from registry.labels.models import Draft


class DraftStore:
    def __init__(self, label: Label | int, user: Any) -> None:
        self.label_id = label if isinstance(label, int) else label.pk
        self.user = user

    def _rows(self, key: str) -> Any:
        return Draft.objects.filter(label_id=self.label_id, user=self.user, key=key)

    def get(self, key: str, default: Any = None) -> Any:
        row = self._rows(key).only("data").first()
        return row.data if row is not None else default

    def __setitem__(self, key: str, data: Any) -> None:
        Draft.objects.update_or_create(label_id=self.label_id, user=self.user, key=key, defaults={"data": data})

    def pop(self, key: str, default: Any = None) -> Any:
        row = self._rows(key).only("data").first()
        if row is None:
            return default
        row.delete()
        return row.data


def store(request: HttpRequest, label: Label | int) -> DraftStore:
    """The signed-in member's drafts at ``label`` (label views check membership first)."""
    return DraftStore(label, request.user)
