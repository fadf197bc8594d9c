"""The label keys half of ``audit_log``: every label's key events replay as a chain, and the stored keys agree."""

from __future__ import annotations

import json

from provenance import labelkeys
from provenance.errors import ProvenanceError
from provenance.keys import KeySet
from registry.labelkeys.models import LabelKey, LabelKeyEvent
from registry.transparency.audit import AuditFailure, AuditReport


def audit_label_keys(report: AuditReport, keys: KeySet, using: str) -> None:
    chains: dict[int, list[tuple[int, dict]]] = {}
    rows = 0
    for row in LabelKeyEvent.objects.using(using).select_related("leaf").order_by("label_id", "sequence"):
        chains.setdefault(row.label_id, []).append((row.leaf_id, json.loads(row.leaf.data)))
        rows += 1
    report.entries += rows
    for label_id, entries in chains.items():
        try:
            history = labelkeys.replay(entries, keys)
        except ProvenanceError as exc:
            raise AuditFailure(f"label {label_id}'s key events: {exc}") from exc
        stored = {k.kid: k.status for k in LabelKey.objects.using(using).filter(label_id=label_id)}
        replayed = {kid: "active" if s.revoked_at is None else "revoked" for kid, s in history.keys.items()}
        if stored != replayed:
            raise AuditFailure(f"label {label_id}'s stored keys differ from its logged key events")
