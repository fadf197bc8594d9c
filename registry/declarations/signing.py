"""The one place that signs a statement and appends it to the log, and claims its identifiers.

``sign_and_log`` runs inside the transaction of the service that built the
statement (``registry.declarations.services``): the key row lock, the log lock
(``registry.transparency.log``) and the identifier claims all commit together,
or nothing does. Lock order: the release row (taken by the caller), then the
identifier claims, then the statement key row, then the log; never the other way round.

The statement key row is locked in two modes (``_statement_key``): declarations and the
entries that follow them (disputes, observations) take it **shared** (``FOR SHARE``), so
concurrent batches and single writers sign at the same time and queue only on the log
lock; label and platform key events and label policy events take it **exclusive**
(``FOR NO KEY UPDATE``), and a key rotation ``FOR UPDATE``. Both conflict with the shared
mode, so such an event waits for every signer holding the key and is logged after them,
and a signer that waits for it reads what it committed (a co-sign-only policy turned on:
docs/protocol.md §14.5). A transaction never takes the exclusive mode after the shared one
(an upgrade two signers could deadlock on): nothing that signs a declaration logs a key or
policy event. Checked by tests/registry/declarations/test_batch.py (concurrent batches,
single writers and a policy event) and by ``audit_log``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from provenance import jcs, statement
from provenance.disclosure import summary_texts
from provenance.encoding import b64encode
from provenance.issue.sign import cosign_envelope, envelope_size, make_bundle, sign_envelope
from provenance.limits import ENTRY_MAX
from registry.bulk_insert import insert_missing, insert_rows, update_column
from registry.catalog.models import Release
from registry.declarations import cache as lookup_cache
from registry.declarations.models import Declaration, DeclaredRecording, IdentifierClaim, pack_track_summaries
from registry.errors import Conflict, PermissionDenied, ValidationFailed
from registry.ownership.selectors import takeovers
from registry.transparency import log
from registry.transparency.keys import active_key, load_private_key
from registry.transparency.models import SigningKey


def _statement_key(*, exclusive: bool = False) -> tuple[SigningKey, Any]:
    """The active statement key, row-locked until commit, so a rotation cannot retire it while we sign.

    key_rotate() locks the same row before it stamps the old key's not_after, so it waits for signers
    holding the key, and its not_after falls after their declared_at. A signer that waited for a rotation
    finds the row no longer active (PostgreSQL re-checks it on unlock) and reads again: the new key.
    Without this, a statement dated after a retired key's not_after would be signed by it: invalid.
    ``exclusive``: key and policy events, which every signer's shared lock orders (module docstring).
    """
    for _ in range(3):
        rows = SigningKey.objects.filter(purpose=SigningKey.STATEMENT, status=SigningKey.ACTIVE).order_by("pk")
        if exclusive or connection.vendor != "postgresql":  # SQLite: its write transaction is the lock
            key = rows.select_for_update(no_key=True).first()
        else:  # Django has no select_for_share(): the same query, FOR SHARE
            sql, params = rows[:1].query.sql_with_params()
            key = next(iter(SigningKey.objects.raw(f"{sql} FOR SHARE", params)), None)
        if key is not None:
            return key, load_private_key(key)
    return active_key(SigningKey.STATEMENT)  # none active: the usual clear error


def _wanted(release: Release, st: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(IdentifierClaim.UPC, release.upc)] + [(IdentifierClaim.ISRC, t["isrc"]) for t in st["tracks"]]


def unclaimed(release: Release, st: Mapping[str, Any], *, take_over: bool = True) -> list[tuple[str, str]]:
    """The statement's identifiers this label does not hold yet: nobody's, or another label's that it may take over.

    Conflict when another label holds one (it signed it first), unless ``take_over`` and the
    label holds a verified registrant prefix covering that ISRC which the holder does not
    (``ownership.selectors.takeovers``: verified prefixes take precedence over first-signed).
    """
    wanted = _wanted(release, st)
    holders = IdentifierClaim.holders(wanted)
    others = {w: holders[w] for w in wanted if holders.get(w, release.label_id) != release.label_id}
    allowed = takeovers(release.label_id, others) if others else set()
    _refuse(release, [w for w in others if w not in allowed], may_take=set() if take_over else allowed)
    return [w for w in wanted if w not in holders or w in allowed]


def refuse_held(release: Release, st: Mapping[str, Any], *, take_over: bool = True) -> None:
    """Conflict when another label holds one of the statement's identifiers (it signed it first)."""
    unclaimed(release, st, take_over=take_over)


TAKE_OVER_ALONE = (
    "Your verified registrant prefix covers it: declare this release on its own (not in a batch) to take it over."
)


def _refuse(release: Release, taken: list[tuple[str, str]], *, may_take: Set[tuple[str, str]] = frozenset()) -> None:
    taken = [*taken, *sorted(may_take)]
    if not taken:
        return
    fields: dict[str, list[str]] = {}
    names = []
    for kind, value in taken:
        name = f"{'UPC' if kind == IdentifierClaim.UPC else 'ISRC'} {value}"
        names.append(name)
        field = "upc" if kind == IdentifierClaim.UPC else f"isrc.{value}"
        fields.setdefault(field, []).append(f"{name} belongs to another label, which declared it first.")
        if (kind, value) in may_take:
            fields[field].append(TAKE_OVER_ALONE)
    if len(names) == 1:
        raise Conflict(f"{names[0]} belongs to another label, which declared it first", fields=fields)
    raise Conflict(f"{', '.join(names)} belong to another label, which declared them first", fields=fields)


def refuse_oversized(st: Mapping[str, Any], size: int | None = None) -> None:
    """ValidationFailed when the signed statement would be a log entry over ``ENTRY_MAX`` bytes.

    tlog-tiles entry bundles carry each entry's length in 16 bits (docs/protocol.md §5.3), so
    a larger entry could never be mirrored; it is refused before signing, by preview and signing alike.
    """
    if size is None:
        # The length of the canonical bytes without making them (they are made once, when signed): exact.
        size = envelope_size(jcs.canonical_length(st))
    if size <= ENTRY_MAX:
        return
    tracks = len(st["tracks"])
    message = (
        f"this declaration of {tracks} tracks would be a log entry of {size:,} bytes, over the log's limit of "
        f"{ENTRY_MAX:,} bytes per entry: declare fewer tracks per release, or shorter texts and tool lists"
    )
    raise ValidationFailed(message, fields={"tracks": [message]})


@dataclass(frozen=True)
class TakenOver:
    """An ISRC whose claim moved to the label signing now, from ``previous`` (its first signer)."""

    kind: str
    value: str
    previous: int


def _claim(release: Release, new: list[tuple[str, str]]) -> list[TakenOver]:
    """Hold the identifiers that were unclaimed; refuse (rolling the version back) if another label just took one.

    Inserted with ON CONFLICT DO NOTHING, then read back: a label that claimed the same
    identifier a moment earlier wins, and this transaction is undone. Done before the log
    lock is taken (lock order: release, claims, statement key, log), so a race on an
    identifier never holds up other labels' appends; an amendment usually claims nothing
    new, and then costs no query here.

    An identifier another label holds that this label may take over (``unclaimed``) moves to
    this label: its row is locked (in the same sorted order), checked again and updated.
    Returns those moved, for ``registry.ownership.services.takeover_contest``.
    """
    if not new:
        return []
    inserted = _insert_claims(sorted((k, v, release.label_id) for k, v in new))
    holders = _holders_after(new, inserted)
    others = {w: holders[w] for w in new if holders.get(w) != release.label_id}
    moved: list[TakenOver] = []
    if others:
        rows = list(
            IdentifierClaim.objects.select_for_update()
            .filter(kind=IdentifierClaim.ISRC, value__in=[v for k, v in others if k == IdentifierClaim.ISRC])
            .order_by("kind", "value")
        )
        allowed = takeovers(release.label_id, {(r.kind, r.value): r.label_id for r in rows})
        for row in rows:
            if (row.kind, row.value) in allowed:
                moved.append(TakenOver(row.kind, row.value, row.label_id))
        if moved:
            IdentifierClaim.objects.filter(pk__in=[r.pk for r in rows if (r.kind, r.value) in allowed]).update(
                label_id=release.label_id, claimed_at=timezone.now()
            )
        others = {w: h for w, h in others.items() if w not in allowed}
    _refuse(release, list(others))
    return moved


def _insert_claims(rows: Sequence[tuple[str, str, int]]) -> dict[tuple[str, str], int] | None:
    """Insert claims (kind, value, label id) in the order given, skipping identifiers held already.

    Callers pass them sorted: an INSERT … ON CONFLICT DO NOTHING waits for a concurrent
    transaction that inserted the same identifier, so two transactions claiming overlapping
    sets wait for each other in one global order, never in a cycle (no deadlock).
    Returns the claims inserted, {(kind, value): label id} (``bulk_insert.insert_missing``), or
    None when the database cannot say (SQLite): the caller reads the holders back.
    """
    now = timezone.now()
    inserted = insert_missing(
        IdentifierClaim,
        ("kind", "value", "label_id", "claimed_at"),
        [(k, v, label_id, now) for k, v, label_id in rows],
        returning=("kind", "value", "label_id"),
    )
    return None if inserted is None else {(k, v): label_id for k, v, label_id in inserted}


def _holders_after(wanted: Sequence[tuple[str, str]], inserted: dict[tuple[str, str], int] | None) -> dict[Any, int]:
    """Who holds each of ``wanted`` after ``_insert_claims``: ours as inserted, the rest (held already) read."""
    if inserted is None:
        return IdentifierClaim.holders(wanted)
    rest = [w for w in wanted if w not in inserted]
    return inserted | (IdentifierClaim.holders(rest) if rest else {})


def claim_many(entries: Sequence[tuple[Release, Mapping[str, Any]]]) -> dict[int, Conflict]:
    """Claim the identifiers of every entry in one sorted insert; the entries refused, by position.

    An entry is refused when another label holds one of its identifiers now, including one
    that a concurrent transaction (or an earlier entry of this batch, of another label)
    claimed a moment earlier. The caller must then roll back to before this call and try
    again without the refused entries: this function never deletes a claim it inserted.
    """
    wanted = [_wanted(release, st) for release, st in entries]
    holders = IdentifierClaim.holders(w for ws in wanted for w in ws)
    new = sorted(
        {(k, v, release.label_id) for (release, _), ws in zip(entries, wanted, strict=True) for k, v in ws}
        - {(k, v, label_id) for (k, v), label_id in holders.items()}
    )
    if new:
        holders = holders | _holders_after([(k, v) for k, v, _ in new], _insert_claims(new))
    refused: dict[int, Conflict] = {}
    for i, ((release, _), ws) in enumerate(zip(entries, wanted, strict=True)):
        taken = [w for w in ws if holders.get(w) != release.label_id]
        if taken:
            try:
                _refuse(release, taken)
            except Conflict as exc:
                refused[i] = exc
    return refused


class CosignRequired(PermissionDenied):
    """The label requires its own signature on every declaration (docs/protocol.md §14.5)."""

    code = "cosign_required"


def cosign_only(label_ids: Iterable[int]) -> set[int]:
    """Which of these labels have their co-sign-only policy on (their newest logged policy event), in one query."""
    from registry.labelkeys.models import LabelPolicyEvent

    wanted = set(label_ids)
    if not wanted:
        return set()
    newest: dict[int, bool] = {}
    rows = LabelPolicyEvent.objects.filter(label_id__in=wanted).order_by("label_id", "sequence")
    for label_id, on in rows.values_list("label_id", "cosign_only"):
        newest[label_id] = on
    return {label_id for label_id, on in newest.items() if on}


def cosign_required() -> CosignRequired:
    return CosignRequired(
        "this label requires co-signature: its co-sign-only policy (logged, signed by the label's key) refuses "
        "a declaration the registry alone signs; prepare it, sign it with a label key, and submit it "
        "(docs/protocol.md §14.2)",
        fields={"signature": ["Required by the label's co-sign-only policy."]},
    )


def refuse_uncosigned(label_ids: Iterable[int]) -> None:
    """CosignRequired when one of these labels' co-sign-only policy is on (docs/protocol.md §14.5).

    Called for registry-only declarations: by the builders as a clear early refusal, and by
    the signers after the statement key's row lock. Every log append (declarations, key and
    policy events) takes that lock first, so a policy event and a declaration are ordered by
    it: a declaration signed after the policy turned on reads it, one signed before is logged
    before it. No time and no cache takes part.
    """
    if cosign_only(label_ids):
        raise cosign_required()


@dataclass(frozen=True)
class LabelSignature:
    """A label's signature over a prepared statement (docs/protocol.md §14.2), checked by the caller
    (``registry.labelkeys.services``) against an active key of the label, under the label's row lock."""

    signature: dict[str, str]  # {"keyid", "sig"} over PAE(statement payloadType, statement bytes)
    history: Sequence[int]  # log indexes of the label's key events, in order: the bundle's label_keys


@dataclass
class _Signed:
    release: Release
    st: dict[str, Any]
    leaf_data: str
    envelope: dict[str, Any]
    summary: str
    track_summaries: str  # Declaration.track_summaries
    track_places: dict[str, tuple[int, int]]  # each ISRC's (summary_at, summary_length) in it
    history: Sequence[int] | None = None


def _sign(
    release: Release, st: dict[str, Any], private: Any, declared_at: str, cosigned: LabelSignature | None = None
) -> _Signed:
    """Sign ``st`` dated ``declared_at`` and derive what is stored with it; all before the log lock.

    A co-signed statement keeps the date it was prepared with: the label signed those bytes.
    """
    if cosigned is None:
        st["declaration"]["declared_at"] = declared_at
        envelope = sign_envelope(statement.statement_bytes(st), private)
    else:
        envelope = cosign_envelope(statement.statement_bytes(st), private, signatures=[cosigned.signature])
    leaf_data = jcs.canonicalize_envelope(envelope).decode("ascii")
    refuse_oversized(st, len(leaf_data))  # before the log lock: a refusal costs no leaf
    # Everything derived from the statement is computed before the log lock is taken:
    # appends are serialized, so work under the lock caps the registry's write rate.
    summary, texts = summary_texts(st)  # summary_text's, each byte for byte (audit_log compares)
    track_summaries, track_places = pack_track_summaries(texts)
    return _Signed(
        release=release,
        st=st,
        leaf_data=leaf_data,
        envelope=envelope,
        summary=summary,
        track_summaries=track_summaries,
        track_places=track_places,
        history=cosigned.history if cosigned is not None else None,
    )


def _label_keys(history: Sequence[int], tree_size: int) -> list[tuple[int, dict[str, Any], list[bytes]]]:
    """The label's key events with their inclusion proofs against the declaration's checkpoint."""
    import json

    from registry.transparency.models import LogLeaf

    data = dict(LogLeaf.objects.filter(index__in=history).values_list("index", "data"))
    return [(i, json.loads(data[i]), log.inclusion_proof(i, tree_size)) for i in history]


def _history(
    seen: dict[tuple[int, ...], Any], history: Sequence[int], tree_size: int
) -> list[tuple[int, dict[str, Any], list[bytes]]]:
    key = (tree_size, *history)
    if key not in seen:
        seen[key] = _label_keys(history, tree_size)
    return seen[key]


_DECLARATION_COLUMNS = [f.attname for f in Declaration._meta.concrete_fields if not f.primary_key]


def _insert_declarations(declarations: list[Declaration]) -> None:
    """A batch's declarations in one insert (``bulk_insert``), their primary keys read back by leaf (unique)."""
    now = timezone.now()
    for d in declarations:
        d.created_at = now  # auto_now_add, as bulk_create would set it
    insert_rows(
        Declaration, _DECLARATION_COLUMNS, ([getattr(d, c) for c in _DECLARATION_COLUMNS] for d in declarations)
    )
    ids = dict(Declaration.objects.filter(leaf_id__in=[d.leaf_id for d in declarations]).values_list("leaf_id", "pk"))
    for d in declarations:
        d.pk = ids[d.leaf_id]
        d._state.adding, d._state.db = False, "default"


def _record(signed: list[_Signed], key: SigningKey, actor: Any, via: str) -> list[Declaration]:
    """Append the signed leaves (one log lock, one checkpoint) and store their declarations, in bulk."""
    appended = log.append([s.leaf_data for s in signed])
    histories: dict[tuple[int, ...], Any] = {}  # one batch, one tree size: a label's key history is proven once
    declared_by = actor if getattr(actor, "is_authenticated", False) else None
    declarations = []
    for s, a in zip(signed, appended, strict=True):
        bundle = make_bundle(
            s.envelope,
            origin=settings.REGISTRY_LOG_ORIGIN,
            index=a.index,
            tree_size=a.tree_size,
            proof=a.inclusion_proof,
            checkpoint=a.checkpoint,
            label_keys=_history(histories, s.history, a.tree_size) if s.history is not None else None,
        )
        decl = s.st["declaration"]
        declarations.append(
            Declaration(
                uid=decl["id"],
                release=s.release,
                version=decl["version"],
                status=decl["status"],
                reason=decl["reason"] or "",
                supersedes=decl["supersedes"],
                declared_at=statement.parse_timestamp(decl["declared_at"]),
                declared_by=declared_by,
                via=via,
                contains_ai=s.st["release"]["contains_ai"],
                statement=s.st,
                leaf_id=a.index,
                key=key,
                bundle=jcs.canonicalize(bundle).decode("utf-8"),
                summary=s.summary,
                track_summaries=s.track_summaries,
            )
        )
    if len(declarations) == 1:
        declarations[0].save(force_insert=True)  # one INSERT, as before batches existed
    else:
        _insert_declarations(declarations)
    insert_rows(
        DeclaredRecording,
        ("declaration_id", "isrc", "position", "contains_ai", "summary_at", "summary_length"),
        (
            (declaration.pk, t["isrc"], t["position"], t["contains_ai"], *s.track_places[t["isrc"]])
            for s, declaration in zip(signed, declarations, strict=True)
            for t in s.st["tracks"]
        ),
    )
    releases = []
    for s, declaration in zip(signed, declarations, strict=True):
        lookup_cache.invalidate_on_commit(
            upc=s.release.upc, statement=s.st, previous_id=s.release.current_declaration_id
        )
        s.release.current_declaration = declaration
        releases.append(s.release)
    if len(releases) == 1:
        releases[0].save(update_fields=["current_declaration"])
    else:
        update_column(Release, "current_declaration", [(r.pk, r.current_declaration_id) for r in releases])
    return declarations


def sign_and_log(
    *,
    release: Release,
    st: dict[str, Any],
    actor: Any,
    via: str,
    cosigned: LabelSignature | None = None,
    restates: bool = False,
) -> Declaration:
    """The only place that signs a statement and appends it to the log (inside the caller's transaction).

    With ``cosigned``, the statement was prepared (and dated) earlier and the label signed it;
    the registry adds its own signature, and the bundle carries the label's key history.
    ``restates``: a withdrawal or a re-sign, which repeat a signed version's identifiers and
    claim nothing: they are not refused for an ISRC the holder of its prefix took over since.
    When this version takes ISRCs over, the earlier holders' declarations are contested
    (a dispute each, signed and logged after this version, in this transaction).
    """
    # Before signing and the log lock: a refusal costs no leaf.
    moved = [] if restates else _claim(release, unclaimed(release, st))
    key, private = _statement_key()
    if cosigned is None:
        refuse_uncosigned([release.label_id])  # under the key's lock: ordered against policy events
    if cosigned is not None:
        refuse_prepared_before(st, _key_start(key))
    # Dated now, under the key's lock: inside the key's validity window however long we waited for it.
    signed = _sign(release, st, private, statement.format_timestamp(timezone.now()), cosigned)
    declaration = _record([signed], key, actor, via)[0]
    if moved:
        from registry.ownership.services import takeover_contest  # ownership builds on declarations

        takeover_contest(declaration=declaration, taken=moved, actor=actor)
    return declaration


def sign_and_log_entry(*, payload_type: str, payload: bytes, signatures: Sequence[dict[str, str]]) -> log.Appended:
    """Sign and append a statement of another kind (a label key event, docs/protocol.md §14.1).

    The caller checked ``signatures`` (the label's) and holds the lock that orders its kind's
    events; the registry's signature is added here, the only place that signs.
    """
    return _sign_entry(payload_type=payload_type, payload=payload, signatures=signatures, exclusive=True)[0]


def sign_and_log_bundled(
    *,
    payload_type: str,
    payload: bytes,
    signatures: Sequence[dict[str, str]] = (),
    key_history: tuple[str, Sequence[int]] | None = None,
) -> tuple[log.Appended, dict[str, Any]]:
    """Sign and append a statement of another kind (a dispute step §15, a platform's observation §16).

    Returns the appended leaf and its v1 bundle (inclusion proof against the append's checkpoint),
    which the caller stores and serves, as declarations' bundles are. ``signatures`` were checked by
    the caller (a platform's); ``key_history`` = (member, log indexes) adds the signer's key events
    with inclusion proofs against the same checkpoint, as ``platform_keys`` (§16.3).
    """
    appended, envelope = _sign_entry(payload_type=payload_type, payload=payload, signatures=signatures, exclusive=False)
    bundle = make_bundle(
        envelope,
        origin=settings.REGISTRY_LOG_ORIGIN,
        index=appended.index,
        tree_size=appended.tree_size,
        proof=appended.inclusion_proof,
        checkpoint=appended.checkpoint,
    )
    if key_history is not None:
        member, indexes = key_history
        bundle[member] = [
            {"index": i, "envelope": e, "inclusion_proof": [b64encode(h) for h in p]}
            for i, e, p in _label_keys(indexes, appended.tree_size)
        ]
    return appended, bundle


def _sign_entry(
    *, payload_type: str, payload: bytes, signatures: Sequence[dict[str, str]], exclusive: bool
) -> tuple[log.Appended, dict[str, Any]]:
    _, private = _statement_key(exclusive=exclusive)
    envelope = cosign_envelope(payload, private, payload_type=payload_type, signatures=signatures)
    leaf_data = jcs.canonicalize(envelope).decode("ascii")
    if len(leaf_data) > ENTRY_MAX:
        raise ValidationFailed(f"this entry would be {len(leaf_data):,} bytes, over the log's {ENTRY_MAX:,}")
    return log.append([leaf_data])[0], envelope


def sign_and_log_many(
    *,
    entries: Sequence[tuple[Release, dict[str, Any]]],
    actor: Any,
    via: str,
    cosigned: Sequence[LabelSignature | None] | None = None,
) -> list[Declaration]:
    """Sign statements whose identifiers the caller has claimed (``claim_many``) and append them as one batch.

    Inside the caller's transaction: one statement-key lock, one log lock, one checkpoint
    for all of them, and they commit together or not at all. Every release must be locked
    by the caller, and appear once. Each entry's size was checked before (``refuse_oversized``
    on the unsigned statement is exact), so a refusal here is a bug and fails the whole batch.
    ``cosigned``: per entry, the label's signature of a prepared statement (dated at prepare)
    or None (registry only, dated now). A statement key rotated since an entry was prepared
    refuses the whole batch (Conflict): rare, and the caller checked it per item before.
    """
    if not entries:
        return []
    label_sigs = list(cosigned) if cosigned is not None else [None] * len(entries)
    key, private = _statement_key()
    # The batch's registry-only items were checked as built; again here, under the key's lock.
    refuse_uncosigned([release.label_id for (release, _), c in zip(entries, label_sigs, strict=True) if c is None])
    not_before = _key_start(key)
    for (_, st), c in zip(entries, label_sigs, strict=True):
        if c is not None:
            refuse_prepared_before(st, not_before)
    declared_at = statement.format_timestamp(timezone.now())  # under the key's lock, as in sign_and_log
    signed = [_sign(release, st, private, declared_at, c) for (release, st), c in zip(entries, label_sigs, strict=True)]
    return _record(signed, key, actor, via)


def statement_key_not_before() -> datetime | None:
    """The active statement key's first whole second (as the JWKS publishes it), read without its lock; None if none.

    A statement prepared (dated) before it cannot be signed by it: for a clear per-item refusal
    before a batch; ``sign_and_log_many`` checks again under the lock.
    """
    key = SigningKey.objects.filter(purpose=SigningKey.STATEMENT, status=SigningKey.ACTIVE).only("not_before").first()
    return _key_start(key) if key is not None else None


def _key_start(key: SigningKey) -> datetime:
    return key.not_before.replace(microsecond=0)  # the JWKS publishes whole seconds


def refuse_prepared_before(st: Mapping[str, Any], not_before: datetime | None) -> None:
    """409 for a statement prepared (dated) before the statement key's first second: the key rotated since
    prepare, and it may not vouch for an earlier date (docs/protocol.md §4)."""
    if not_before is not None and statement.parse_timestamp(st["declaration"]["declared_at"]) < not_before:
        raise Conflict("the registry's statement key changed since this statement was prepared: prepare it again")
