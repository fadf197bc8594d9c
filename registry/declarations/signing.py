"""The one place that signs a statement and appends it to the log, and claims its identifiers.

``sign_and_log`` runs inside the transaction of the service that built the
statement (``registry.declarations.services``): the key row lock, the log lock
(``registry.transparency.log``) and the identifier claims all commit together,
or nothing does. Lock order: the release row (taken by the caller), then the
identifier claims, then the statement key row, then the log; never the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import timezone

from provenance import jcs, statement
from provenance.disclosure import summary_text
from provenance.issue.sign import envelope_size, make_bundle, sign_envelope
from provenance.limits import ENTRY_MAX
from registry.catalog.models import Release
from registry.declarations import cache as lookup_cache
from registry.declarations.models import Declaration, DeclaredRecording, IdentifierClaim
from registry.errors import Conflict, ValidationFailed
from registry.transparency import log
from registry.transparency.keys import active_key, load_private_key
from registry.transparency.models import SigningKey


def _statement_key() -> tuple[SigningKey, Any]:
    """The active statement key, row-locked until commit, so a rotation cannot retire it while we sign.

    key_rotate() locks the same row before it stamps the old key's not_after, so it waits for signers
    holding the key, and its not_after falls after their declared_at. A signer that waited for a rotation
    finds the row no longer active (PostgreSQL re-checks it on unlock) and reads again: the new key.
    Without this, a statement dated after a retired key's not_after would be signed by it: invalid.
    """
    for _ in range(3):
        key = (
            SigningKey.objects.select_for_update(no_key=True)
            .filter(purpose=SigningKey.STATEMENT, status=SigningKey.ACTIVE)
            .first()
        )
        if key is not None:
            return key, load_private_key(key)
    return active_key(SigningKey.STATEMENT)  # none active: the usual clear error


def _wanted(release: Release, st: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(IdentifierClaim.UPC, release.upc)] + [(IdentifierClaim.ISRC, t["isrc"]) for t in st["tracks"]]


def unclaimed(release: Release, st: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The statement's identifiers nobody holds yet; Conflict when another label holds one (it signed it first)."""
    wanted = _wanted(release, st)
    holders = IdentifierClaim.holders(wanted)
    _refuse(release, [w for w in wanted if holders.get(w, release.label_id) != release.label_id])
    return [w for w in wanted if w not in holders]


def refuse_held(release: Release, st: Mapping[str, Any]) -> None:
    """Conflict when another label holds one of the statement's identifiers (it signed it first)."""
    unclaimed(release, st)


def _refuse(release: Release, taken: list[tuple[str, str]]) -> None:
    if not taken:
        return
    fields: dict[str, list[str]] = {}
    names = []
    for kind, value in taken:
        name = f"{'UPC' if kind == IdentifierClaim.UPC else 'ISRC'} {value}"
        names.append(name)
        field = "upc" if kind == IdentifierClaim.UPC else f"isrc.{value}"
        fields.setdefault(field, []).append(f"{name} belongs to another label, which declared it first.")
    if len(names) == 1:
        raise Conflict(f"{names[0]} belongs to another label, which declared it first", fields=fields)
    raise Conflict(f"{', '.join(names)} belong to another label, which declared them first", fields=fields)


def refuse_oversized(st: Mapping[str, Any], size: int | None = None) -> None:
    """ValidationFailed when the signed statement would be a log entry over ``ENTRY_MAX`` bytes.

    tlog-tiles entry bundles carry each entry's length in 16 bits (docs/protocol.md §5.3), so
    a larger entry could never be mirrored; it is refused before signing, by preview and signing alike.
    """
    size = envelope_size(statement.statement_bytes(st)) if size is None else size
    if size <= ENTRY_MAX:
        return
    tracks = len(st["tracks"])
    message = (
        f"this declaration of {tracks} tracks would be a log entry of {size:,} bytes, over the log's limit of "
        f"{ENTRY_MAX:,} bytes per entry: declare fewer tracks per release, or shorter texts and tool lists"
    )
    raise ValidationFailed(message, fields={"tracks": [message]})


def _claim(release: Release, new: list[tuple[str, str]]) -> None:
    """Hold the identifiers that were unclaimed; refuse (rolling the version back) if another label just took one.

    Inserted with ON CONFLICT DO NOTHING, then read back: a label that claimed the same
    identifier a moment earlier wins, and this transaction is undone. Done before the log
    lock is taken (lock order: release, claims, statement key, log), so a race on an
    identifier never holds up other labels' appends; an amendment usually claims nothing
    new, and then costs no query here.
    """
    if not new:
        return
    IdentifierClaim.objects.bulk_create(
        [IdentifierClaim(kind=k, value=v, label_id=release.label_id) for k, v in new],
        ignore_conflicts=True,
    )
    holders = IdentifierClaim.holders(new)
    _refuse(release, [w for w in new if holders.get(w) != release.label_id])


def sign_and_log(
    *,
    release: Release,
    st: dict[str, Any],
    actor: Any,
    via: str,
) -> Declaration:
    """The only place that signs a statement and appends it to the log (inside the caller's transaction)."""
    _claim(release, unclaimed(release, st))  # before signing and the log lock: a refusal costs no leaf
    key, private = _statement_key()
    # Dated now, under the key's lock: inside the key's validity window however long we waited for it.
    st["declaration"]["declared_at"] = statement.format_timestamp(timezone.now())
    envelope = sign_envelope(statement.statement_bytes(st), private)
    leaf_data = jcs.canonicalize(envelope).decode("ascii")
    refuse_oversized(st, len(leaf_data))  # before the log lock: a refusal costs no leaf
    # Everything derived from the statement is computed before the log lock is taken:
    # appends are serialized, so work under the lock caps the registry's write rate.
    release_summary = summary_text(st)
    track_summaries = {t["isrc"]: summary_text(st, t["isrc"]) for t in st["tracks"]}
    appended = log.append_one(leaf_data)
    bundle = make_bundle(
        envelope,
        origin=settings.REGISTRY_LOG_ORIGIN,
        index=appended.index,
        tree_size=appended.tree_size,
        proof=appended.inclusion_proof,
        checkpoint=appended.checkpoint,
    )
    decl = st["declaration"]
    declaration = Declaration.objects.create(
        uid=decl["id"],
        release=release,
        version=decl["version"],
        status=decl["status"],
        reason=decl["reason"] or "",
        supersedes=decl["supersedes"],
        declared_at=statement.parse_timestamp(decl["declared_at"]),
        declared_by=actor if getattr(actor, "is_authenticated", False) else None,
        via=via,
        contains_ai=st["release"]["contains_ai"],
        statement=st,
        leaf_id=appended.index,
        key=key,
        bundle=jcs.canonicalize(bundle).decode("utf-8"),
        summary=release_summary,
    )
    DeclaredRecording.objects.bulk_create(
        [
            DeclaredRecording(
                declaration=declaration,
                isrc=t["isrc"],
                position=t["position"],
                contains_ai=t["contains_ai"],
                summary=track_summaries[t["isrc"]],
            )
            for t in st["tracks"]
        ]
    )
    lookup_cache.invalidate_on_commit(upc=release.upc, statement=st, previous_id=release.current_declaration_id)
    release.current_declaration = declaration
    release.save(update_fields=["current_declaration"])
    return declaration
