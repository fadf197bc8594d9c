"""The observations half of ``audit_log``: platform key chains replay, every observation's leaf, signatures and columns."""

from __future__ import annotations

import json
from hashlib import sha256

from provenance import bundle as pbundle
from provenance import dsse, labelkeys
from provenance import observations as pobs
from provenance.errors import ProvenanceError
from provenance.keys import KeySet
from registry.catalog.models import Release
from registry.observations import selectors
from registry.observations.models import Observation, PlatformKeyEvent, PlatformSigningKey
from registry.transparency.audit import CHUNK, AuditFailure, AuditReport


def audit_platform_keys(report: AuditReport, keys: KeySet, using: str) -> None:
    chains: dict[int, list[tuple[int, dict]]] = {}
    rows = PlatformKeyEvent.objects.using(using).select_related("leaf").order_by("platform_id", "sequence")
    for row in rows:
        chains.setdefault(row.platform_id, []).append((row.leaf_id, json.loads(row.leaf.data)))
        report.entries += 1
    for platform_id, entries in chains.items():
        try:
            history = labelkeys.replay(entries, keys, labelkeys.PLATFORM)
        except ProvenanceError as exc:
            raise AuditFailure(f"platform {platform_id}'s key events: {exc}") from exc
        if history.label_id != str(platform_id):
            raise AuditFailure(f"platform {platform_id}'s key events name platform {history.label_id}")
        stored = {k.kid: k.status for k in PlatformSigningKey.objects.using(using).filter(platform_id=platform_id)}
        replayed = {kid: "active" if s.revoked_at is None else "revoked" for kid, s in history.keys.items()}
        if stored != replayed:
            raise AuditFailure(f"platform {platform_id}'s stored keys differ from its logged key events")


def audit_observations(report: AuditReport, keys: KeySet, using: str) -> None:
    verifier = pbundle.Verifier(keys)
    count = 0
    for row in Observation.objects.using(using).select_related("leaf").order_by("leaf_id").iterator(chunk_size=CHUNK):
        where = f"observation {row.uid} (leaf {row.leaf_id})"
        try:
            envelope = json.loads(row.leaf.data)
            payload, _ = dsse.verify_envelope(envelope, keys)
            if envelope["payloadType"] != pobs.OBSERVATION_PAYLOAD_TYPE:
                raise ProvenanceError(f"payloadType is {envelope['payloadType']!r}")
            st = pobs.parse_observation(payload)
        except (ProvenanceError, ValueError) as exc:
            raise AuditFailure(f"{where}: {exc}") from exc
        columns = (row.isrc, str(row.platform_id), row.payload_sha256)
        if st != row.statement or columns != (
            st["recording"]["isrc"],
            st["platform"]["id"],
            sha256(payload).hexdigest(),
        ):
            raise AuditFailure(f"{where}: the stored statement or columns differ from the signed one")
        stored_bundle = json.loads(row.bundle)
        if stored_bundle["envelope"] != envelope:
            raise AuditFailure(f"{where}: the stored bundle holds another envelope than its leaf")
        result = pobs.verify_observation_bundle(stored_bundle, verifier)
        if not result.valid:
            failed = result.failed
            raise AuditFailure(
                f"{where}: stored bundle fails {failed.name if failed else '?'}: {failed.detail if failed else ''}"
            )
        count += 1
    report.entries += count
    # Lookups splice Release.public_observations: it must say what the observation rows say.
    releases = set(Observation.objects.using(using).values_list("release_id", flat=True).distinct())
    stored = dict(
        Release.objects.using(using).exclude(public_observations="[]").values_list("id", "public_observations")
    )
    for release_id in releases | set(stored):
        if stored.get(release_id, "[]") != selectors.public_json(release_id):
            raise AuditFailure(f"release {release_id}: the observations its answers show differ from the rows")
