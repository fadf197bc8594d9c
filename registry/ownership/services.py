"""Claim, verify, delegate, contest: every change to identifier ownership, each in one transaction.

A claim grants nothing until staff verify it (``prefix_claim_approve``); only then do
declarations inside the prefix sign ``identifiers_verified`` as true. Nothing here
tells a label anything about another label's pending claims: a claim on a prefix
someone else claimed (or holds) is accepted as pending and left to staff.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from provenance import identifiers
from provenance.errors import IdentifierError
from registry.catalog.models import Label, Membership
from registry.errors import Conflict, NotFound, ValidationFailed
from registry.ownership import prefixes
from registry.ownership.models import ContestRequest, PrefixClaim, PrefixDelegation

EVIDENCE_MAX = 4000
NOTE_MAX = 2000


def _text(value: str | None, field: str, *, required: bool, max_len: int, what: str) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(f"{what} is required", fields={field: [f"Say {what.lower()}."]})
    if len(text) > max_len:
        raise ValidationFailed(f"{what} is too long", fields={field: [f"At most {max_len} characters."]})
    return text


@transaction.atomic
def prefix_claim_create(*, label: Label, kind: str, prefix: str, evidence: str, actor: Any = None) -> PrefixClaim:
    """A pending claim. Refused only for what the label itself did (the same prefix claimed twice)."""
    if kind not in prefixes.KINDS:
        raise ValidationFailed("choose the kind of prefix", fields={"kind": ["Choose ISRC or GS1."]})
    try:
        stored = prefixes.normalize_prefix(kind, prefix)
    except prefixes.PrefixError as exc:
        raise ValidationFailed(str(exc), fields={"prefix": [str(exc)]}) from None
    evidence = _text(evidence, "evidence", required=True, max_len=EVIDENCE_MAX, what="Evidence")
    mine = PrefixClaim.objects.filter(
        label=label, kind=kind, prefix=stored, status__in=[PrefixClaim.PENDING, PrefixClaim.VERIFIED]
    ).first()
    if mine is not None:
        raise Conflict(
            f"{label.name} claimed {mine.display} already ({mine.get_status_display().lower()})",
            fields={"prefix": ["You claimed this prefix already."]},
        )
    return PrefixClaim.objects.create(label=label, kind=kind, prefix=stored, evidence=evidence, created_by=actor)


def _notify(claim: PrefixClaim, subject: str, body: str) -> None:
    """Email the label's contact and owners when staff decide, after the decision commits."""
    owners = Membership.objects.filter(label=claim.label, role=Membership.OWNER).values_list("user__email", flat=True)
    to = sorted({e for e in [claim.label.contact_email, *owners] if e})
    if to:
        transaction.on_commit(lambda: send_mail(subject, body, None, to))


def _decidable(claim: PrefixClaim) -> PrefixClaim:
    claim = PrefixClaim.objects.select_for_update().select_related("label").get(pk=claim.pk)
    if claim.status != PrefixClaim.PENDING:
        raise Conflict(f"the claim on {claim.display} by {claim.label.name} was {claim.status} already")
    return claim


@transaction.atomic
def prefix_claim_approve(*, claim: PrefixClaim, reviewer: Any, note: str = "") -> PrefixClaim:
    """Verify a pending claim, unless another label holds it or an overlapping prefix (verified)."""
    note = _text(note, "note", required=False, max_len=NOTE_MAX, what="The note")
    claim = _decidable(claim)
    holders = PrefixClaim.objects.select_for_update().filter(kind=claim.kind, status=PrefixClaim.VERIFIED)
    for held in holders.exclude(label=claim.label).select_related("label"):
        if prefixes.overlap(claim.kind, held.prefix, claim.prefix):
            raise Conflict(
                f"{held.label.name} holds {held.display} (verified), which overlaps {claim.display}: "
                "revoke that claim first, or ask its holder to delegate"
            )
    claim.status = PrefixClaim.VERIFIED
    claim.decision_note = note
    claim.decided_by = reviewer
    claim.decided_at = timezone.now()
    try:
        with transaction.atomic():
            claim.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    except IntegrityError:  # a concurrent approval of the same prefix won
        raise Conflict(f"{claim.display} was verified for another label meanwhile") from None
    body = (
        f"Registry staff verified that {claim.label.name} holds the {claim.get_kind_display()} {claim.display}.\n\n"
        "Declarations you sign from now on say that their identifiers inside it are verified; "
        "declarations signed before keep what they said until you sign a new version.\n"
        + (f"\nNote from staff: {note}\n" if note else "")
    )
    _notify(claim, f"Prefix {claim.display} verified", body)
    return claim


@transaction.atomic
def prefix_claim_reject(*, claim: PrefixClaim, reviewer: Any, note: str) -> PrefixClaim:
    note = _text(note, "note", required=True, max_len=NOTE_MAX, what="A note")
    claim = _decidable(claim)
    claim.status = PrefixClaim.REJECTED
    claim.decision_note = note
    claim.decided_by = reviewer
    claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    body = (
        f"Registry staff could not verify that {claim.label.name} holds the {claim.get_kind_display()} "
        f"{claim.display}:\n\n{note}\n\nYou may claim it again with more evidence.\n"
    )
    _notify(claim, f"Prefix {claim.display} not verified", body)
    return claim


@transaction.atomic
def prefix_claim_revoke(*, claim: PrefixClaim, reviewer: Any, note: str) -> PrefixClaim:
    """Staff withdraw a verified prefix (issued in error, moved to another holder); its delegations end too."""
    note = _text(note, "note", required=True, max_len=NOTE_MAX, what="A note")
    claim = PrefixClaim.objects.select_for_update().select_related("label").get(pk=claim.pk)
    if claim.status != PrefixClaim.VERIFIED:
        raise Conflict(f"the claim on {claim.display} by {claim.label.name} is {claim.status}, not verified")
    now = timezone.now()
    claim.status = PrefixClaim.REVOKED
    claim.decision_note = note
    claim.decided_by = reviewer
    claim.decided_at = now
    claim.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    claim.delegations.filter(revoked_at__isnull=True).update(revoked_at=now)
    body = (
        f"Registry staff revoked the verification of {claim.display} ({claim.get_kind_display()}) for "
        f"{claim.label.name}:\n\n{note}\n\nDeclarations you sign from now on no longer count it as yours.\n"
    )
    _notify(claim, f"Prefix {claim.display} no longer verified", body)
    return claim


def _label_by_reference(reference: str) -> Label:
    """A label named by its DDEX Party ID or its public page (``/labels/12/`` or ``12``)."""
    text = (reference or "").strip()
    try:
        return Label.objects.get(dpid=identifiers.normalize_dpid(text))
    except (IdentifierError, Label.DoesNotExist):
        pass
    digits = text.rstrip("/").rsplit("/", 1)[-1]
    if digits.isdigit():
        label = Label.objects.filter(pk=int(digits)).first()
        if label is not None:
            return label
    raise NotFound(
        "no label found: give its DDEX Party ID or the address of its public page",
        fields={"label": ["Give the label's DDEX Party ID or the address of its page on this registry."]},
    )


@transaction.atomic
def prefix_delegate(*, label: Label, claim_id: int, to: str, actor: Any = None) -> PrefixDelegation:
    """The holder of a verified prefix lets another label declare inside it as verified."""
    claim = PrefixClaim.objects.select_for_update().filter(pk=claim_id, label=label).first()
    if claim is None:
        raise NotFound("no such claim among yours")
    if claim.status != PrefixClaim.VERIFIED:
        raise Conflict("only a verified prefix can be delegated", fields={"label": ["Wait until staff verify it."]})
    delegate = _label_by_reference(to)
    if delegate.pk == label.pk:
        raise ValidationFailed("a label cannot delegate to itself", fields={"label": ["Name another label."]})
    if claim.delegations.filter(label=delegate, revoked_at__isnull=True).exists():
        raise Conflict(f"{claim.display} is delegated to {delegate.name} already", fields={"label": ["Already."]})
    return PrefixDelegation.objects.create(claim=claim, label=delegate, created_by=actor)


@transaction.atomic
def delegation_revoke(*, label: Label, delegation_id: int) -> PrefixDelegation:
    delegation = (
        PrefixDelegation.objects.select_for_update()
        .select_related("claim", "label")
        .filter(pk=delegation_id, claim__label=label, revoked_at__isnull=True)
        .first()
    )
    if delegation is None:
        raise NotFound("no such delegation among yours")
    delegation.revoked_at = timezone.now()
    delegation.save(update_fields=["revoked_at"])
    return delegation


@transaction.atomic
def contest_create(*, label: Label, kind: str, identifier: str, note: str = "", actor: Any = None) -> ContestRequest:
    """Record that ``label`` contests another label's declaration inside one of its verified prefixes.

    Only identifiers listed by ``selectors.intrusions`` qualify (checked again here). The contest
    opens a signed dispute as a rights holder on the identifier (``registry.disputes``, docs/protocol.md
    §15): the other label is told and answers, staff resolve it there, and the declaration's pages
    say it is disputed. The request row keeps the prefix behind it for staff.
    """
    from registry.disputes.services import dispute_open
    from registry.ownership.selectors import intrusions

    note = _text(note, "note", required=False, max_len=NOTE_MAX, what="The note")
    match = next((i for i in intrusions(label.pk) if i.kind == kind and i.identifier == identifier), None)
    if match is None:
        raise NotFound("that identifier is not declared by another label inside one of your verified prefixes")
    if ContestRequest.objects.filter(
        label=label, kind=kind, identifier=identifier, status=ContestRequest.OPEN
    ).exists():
        raise Conflict("you contested this already; registry staff have it")
    current = match.release.current_declaration
    assert current is not None  # an intrusion is a current declaration
    dispute = dispute_open(
        declaration=current,
        actor=actor,
        role="rights_holder",
        isrc=identifier if kind == "isrc" else "",
        part="identifier",
        text=note or f"{identifier} is inside {match.claim.display}, verified as {label.name}'s.",
        evidence=f"Prefix {match.claim.display} verified by registry staff for {label.name}.",
        identity=f"{label.name} (label {label.pk}), holder of the verified prefix {match.claim.display}",
    )
    return ContestRequest.objects.create(
        label=label,
        claim=match.claim,
        kind=kind,
        identifier=identifier,
        release=match.release,
        declared_version=match.version,
        note=note,
        created_by=actor,
        dispute=dispute,
    )


def takeover_contest(*, declaration: Any, taken: Sequence[Any], actor: Any = None) -> list[ContestRequest]:
    """After ``declaration`` took ISRCs over from their first signers (``declarations.signing._claim``), contest
    each first signer's current declarations of them: a dispute (rights holder, part identifier) each, signed and
    logged in the same transaction, and a contest request per ISRC for staff. Nothing of theirs is rewritten.
    """
    from registry.declarations.models import DeclaredRecording
    from registry.disputes.services import dispute_open_for_prefix_holder
    from registry.ownership.selectors import covering_claim

    label = declaration.release.label
    made = []
    for item in taken:
        claim = covering_claim(label.pk, item.kind, item.value)
        rows = (
            DeclaredRecording.objects.filter(isrc=item.value, declaration__release__label_id=item.previous)
            .filter(declaration__release__current_declaration=F("declaration_id"))
            .select_related("declaration__release", "declaration__leaf")
            .order_by("declaration__release__upc")
        )
        first = None
        for row in rows:
            if row.declaration.status != "active":
                continue  # a withdrawal takes no dispute
            dispute = dispute_open_for_prefix_holder(
                declaration=row.declaration,
                label=label,
                isrc=item.value,
                actor=actor,
                text=(
                    f"{item.value} is inside {claim.display if claim else 'a registrant prefix'}, verified as "
                    f"{label.name}'s, which declared it (version {declaration.version} of {declaration.release.upc})."
                ),
                evidence=f"Registrant prefix {claim.display if claim else ''} verified by registry staff.",
            )
            first = first or (row, dispute)
        if first is not None and claim is not None:
            row, dispute = first
            if not ContestRequest.objects.filter(
                label=label, kind=item.kind, identifier=item.value, status=ContestRequest.OPEN
            ).exists():
                made.append(
                    ContestRequest.objects.create(
                        label=label,
                        claim=claim,
                        kind=item.kind,
                        identifier=item.value,
                        release=row.declaration.release,
                        declared_version=row.declaration.version,
                        note="Taken over by a declaration of the prefix holder.",
                        dispute=dispute,
                        created_by=actor if getattr(actor, "is_authenticated", False) else None,
                    )  # fmt: skip
                )
    return made
