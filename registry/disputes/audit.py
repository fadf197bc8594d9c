"""The disputes half of ``audit_log``: every dispute step's leaf, statement, chain, stored columns and bundle."""

from __future__ import annotations

import json

from provenance import bundle as pbundle
from provenance import disputes as pdisputes
from provenance import dsse
from provenance.errors import ProvenanceError
from provenance.keys import KeySet
from registry.catalog.models import Release
from registry.disputes import selectors
from registry.disputes.models import Dispute, DisputeStep
from registry.transparency.audit import CHUNK, AuditFailure, AuditReport


def audit_disputes(report: AuditReport, keys: KeySet, using: str) -> None:
    verifier = pbundle.Verifier(keys)
    previous: dict[int, tuple[int, str]] = {}  # dispute id -> (sequence, leaf hash hex)
    steps = (
        DisputeStep.objects.using(using)
        .select_related("leaf", "dispute__declaration__leaf")
        .order_by("dispute_id", "sequence")
    )
    count = 0
    for row in steps.iterator(chunk_size=CHUNK):
        where = f"dispute {row.dispute.uid} step {row.sequence} (leaf {row.leaf_id})"
        try:
            envelope = json.loads(row.leaf.data)
            payload, _ = dsse.verify_envelope(envelope, keys)
            if envelope["payloadType"] != pdisputes.DISPUTE_PAYLOAD_TYPE:
                raise ProvenanceError(f"payloadType is {envelope['payloadType']!r}")
            st = pdisputes.parse_dispute_step(payload)
        except (ProvenanceError, ValueError) as exc:
            raise AuditFailure(f"{where}: {exc}") from exc
        if st != row.statement:
            raise AuditFailure(f"{where}: the stored statement differs from the signed one")
        d = st["dispute"]
        if (d["id"], d["sequence"], d["step"], st["actor"]["role"], st["outcome"] or "", st["content_sha256"]) != (
            str(row.dispute.uid), row.sequence, row.step, row.role, row.outcome, row.content_sha256,
        ):  # fmt: skip
            raise AuditFailure(f"{where}: the stored columns differ from the signed statement")
        prev = previous.get(row.dispute_id)
        if row.sequence != (prev[0] + 1 if prev else 1) or d["previous"] != (prev[1] if prev else None):
            raise AuditFailure(f"{where}: the dispute's chain of steps is broken")
        decl = row.dispute.declaration
        if st["declaration"]["leaf_hash"] != bytes(decl.leaf.leaf_hash).hex() or st["declaration"]["id"] != str(
            decl.uid
        ):
            raise AuditFailure(f"{where}: names another declaration than the dispute's")
        if row.nonce is not None:  # erased words (dispute_erase) leave the commitment alone
            words = pdisputes.content_commitment(bytes(row.nonce), text=row.text, evidence=row.evidence)
            if words != st["content_sha256"]:
                raise AuditFailure(f"{where}: the stored text does not match its logged commitment")
        result = pdisputes.verify_dispute_bundle(json.loads(row.bundle), verifier)
        if not result.valid:
            failed = result.failed
            raise AuditFailure(f"{where}: stored bundle fails {failed.name if failed else '?'}")
        if json.loads(row.bundle)["envelope"] != envelope:
            raise AuditFailure(f"{where}: the stored bundle holds another envelope than its leaf")
        previous[row.dispute_id] = (row.sequence, bytes(row.leaf.leaf_hash).hex())
        count += 1
    report.entries += count
    # Lookups splice Release.public_disputes: it must say what the dispute rows say.
    releases = set(Dispute.objects.using(using).values_list("release_id", flat=True).distinct())
    stored = dict(Release.objects.using(using).exclude(public_disputes="[]").values_list("id", "public_disputes"))
    views = selectors.for_releases(releases | set(stored))
    for release_id, found in views.items():
        expected = [d.to_dict() for d in found]
        if json.loads(stored.get(release_id, "[]")) != expected:
            raise AuditFailure(f"release {release_id}: the disputes its answers show differ from its dispute rows")
