"""The label keys half of ``audit_log``: every label's key and policy events replay as chains, and the stored rows agree."""

from __future__ import annotations

import json

from provenance import labelkeys
from provenance.errors import ProvenanceError
from provenance.keys import KeySet
from registry.declarations.models import Declaration
from registry.labelkeys.models import LabelKey, LabelKeyEvent, LabelPolicyEvent
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


def audit_label_policies(report: AuditReport, keys: KeySet, using: str) -> None:
    """Each label's policy events replay (§14.5): registry- and label-signed, chained, and as stored."""
    chains: dict[int, list[tuple[int, dict]]] = {}
    stored: dict[int, list[bool]] = {}
    rows = 0
    for row in LabelPolicyEvent.objects.using(using).select_related("leaf").order_by("label_id", "sequence"):
        chains.setdefault(row.label_id, []).append((row.leaf_id, json.loads(row.leaf.data)))
        stored.setdefault(row.label_id, []).append(row.cosign_only)
        rows += 1
    report.entries += rows
    for label_id, entries in chains.items():
        events = LabelKeyEvent.objects.using(using).select_related("leaf").filter(label_id=label_id)
        try:
            history = labelkeys.replay(
                [(e.leaf_id, json.loads(e.leaf.data)) for e in events.order_by("sequence")], keys
            )
            state = labelkeys.replay_policy(entries, keys, history)
        except ProvenanceError as exc:
            raise AuditFailure(f"label {label_id}'s policy events: {exc}") from exc
        if [on for _, on, _ in state.changes] != stored[label_id]:
            raise AuditFailure(f"label {label_id}'s stored policy differs from its logged policy events")
        # What the policy promises: no declaration of the label that only the registry signed while it was on.
        first_on = min((i for i, on, _ in state.changes if on), default=None)
        if first_on is None:
            continue
        declared = Declaration.objects.using(using).filter(release__label_id=label_id, leaf_id__gt=first_on)
        for index, st in declared.values_list("leaf_id", "statement"):
            if state.at(index) and st["label"].get("key_head") is None:
                raise AuditFailure(
                    f"leaf {index}: a declaration of label {label_id} signed by the registry alone, "
                    "while the label's co-sign-only policy was on"
                )
