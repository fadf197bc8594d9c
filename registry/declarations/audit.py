"""The declarations half of ``audit_log``: what every declaration leaf must agree with.

Registered with ``registry.transparency.audit`` by this app's ``ready()``, so the
log's audit runs it without the transparency app importing declarations.
"""

from __future__ import annotations

import json

from provenance import bundle as pbundle
from provenance import dsse, statement
from provenance.disclosure import summary_text
from provenance.errors import ProvenanceError
from provenance.keys import KeySet
from registry.catalog.models import Release
from registry.declarations.models import Declaration
from registry.transparency.audit import CHUNK, AuditFailure, AuditReport
from registry.transparency.models import SigningKey


def audit_declarations(report: AuditReport, keys: KeySet, using: str) -> None:
    """Every declaration against its leaf: signature, statement, stored columns, summaries, chain and bundle."""
    verifier = pbundle.Verifier(keys)
    previous: dict[int, tuple[int, str]] = {}  # release id -> (version, leaf hash hex)
    declared_leaves = 0
    qs = (
        Declaration.objects.using(using)
        .select_related("leaf", "key")
        .prefetch_related("recordings")
        .order_by("release_id", "version")
    )
    for decl in qs.iterator(chunk_size=CHUNK):
        where = f"declaration of release {decl.statement.get('release', {}).get('upc')} v{decl.version}"
        try:
            envelope = json.loads(decl.leaf.data)
            payload, key = dsse.verify_envelope(envelope, keys)
            signed = statement.parse_statement(payload)
        except (ProvenanceError, ValueError) as exc:
            raise AuditFailure(f"{where} (leaf {decl.leaf_id}): {exc}") from exc
        if key.kid != decl.key.kid:
            raise AuditFailure(f"{where}: signed by {key.kid}, recorded as {decl.key.kid}")
        if signed != decl.statement:
            raise AuditFailure(f"{where}: the stored statement differs from the signed one")
        d = signed["declaration"]
        if (d["version"], d["status"], d["supersedes"], d["reason"] or "") != (
            decl.version,
            decl.status,
            decl.supersedes,
            decl.reason,
        ):
            raise AuditFailure(f"{where}: the stored columns differ from the signed statement")
        # Lookups serve these derived texts: they must say exactly what was signed.
        if decl.summary != summary_text(signed):
            raise AuditFailure(f"{where}: the stored disclosure summary differs from the signed statement")
        indexed = {rec.isrc: rec for rec in decl.recordings.all()}
        if set(indexed) != {t["isrc"] for t in signed["tracks"]}:
            raise AuditFailure(f"{where}: the ISRC index differs from the signed tracks")
        packed = decl.track_summaries.encode()
        for isrc, rec in indexed.items():
            if rec.summary_in(packed) != summary_text(signed, isrc):
                raise AuditFailure(f"{where}: the stored summary of {isrc} differs from the signed statement")
        if len(packed) != sum(rec.summary_length for rec in indexed.values()):
            raise AuditFailure(f"{where}: the stored track summaries hold text no ISRC names")
        prev = previous.get(decl.release_id)
        if decl.version != (prev[0] + 1 if prev else 1):
            raise AuditFailure(f"{where}: the version chain has a gap")
        if prev and d["supersedes"] != prev[1]:
            raise AuditFailure(f"{where}: supersedes {d['supersedes']} but the previous version is leaf {prev[1]}")
        leaf_hex = bytes(decl.leaf.leaf_hash).hex()
        previous[decl.release_id] = (decl.version, leaf_hex)
        result = verifier.verify(json.loads(decl.bundle))
        if not result.valid:
            failed = result.failed
            raise AuditFailure(
                f"{where}: stored bundle fails {failed.name if failed else '?'}: {failed.detail if failed else ''}"
            )
        if json.loads(decl.bundle)["envelope"] != envelope:
            raise AuditFailure(f"{where}: the stored bundle holds a different envelope than leaf {decl.leaf_id}")
        if decl.key.status == SigningKey.REVOKED:
            report.warnings.append(f"{where} is signed by revoked key {decl.key.kid}")
        report.declarations += 1
        declared_leaves += 1
    # Lookups answer Release.current_declaration: it must be the newest version, or a
    # stale (say, pre-withdrawal) answer could be served while the log looks fine.
    newest = {release_id: version for release_id, (version, _) in previous.items()}
    pointers = Release.objects.using(using).filter(current_declaration__isnull=False)
    for release_id, upc, version in pointers.values_list("id", "upc", "current_declaration__version").iterator():
        if newest.get(release_id) != version:
            raise AuditFailure(
                f"release {upc} answers version {version}, but its newest version is {newest.get(release_id)}"
            )
    missing = set(newest) - set(pointers.values_list("id", flat=True))
    if missing:
        upcs = ", ".join(Release.objects.using(using).filter(id__in=missing).values_list("upc", flat=True)[:5])
        raise AuditFailure(f"declared release(s) {upcs} answer no declaration at all")
    # Leaves of other kinds (label key events, dispute steps) are counted by their apps' checks;
    # registry/transparency/audit.py requires every leaf to be accounted for.
    report.entries += declared_leaves
