"""Disputes: open, answer, resolve, withdraw, erase (docs/protocol.md §15). Every door calls these.

Each step is a statement signed by the registry and logged through
``registry.declarations.signing`` (the one place that signs). The statement holds
the declaration's leaf hash and identifiers, the roles, the outcome and a
commitment to the words; the words stay in the database (``DisputeStep.text``,
``evidence``), where ``dispute_erase`` deletes them. A dispute never changes a
declaration: the label amends through the ordinary write path.

Lock order: the release row, then the dispute row (answer, resolve), then the
statement key, then the log (inside ``signing``), as a declaration's signing takes
the release before the key; a step's sequence is read under the dispute's lock. The
release row's lock also orders rewrites of ``Release.public_disputes``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from provenance import disputes as pdisputes
from provenance import jcs
from registry.api.throttles import Quota
from registry.api.tokens import Credential
from registry.catalog.models import Label, Membership, Release
from registry.declarations import cache as lookup_cache
from registry.declarations import signing
from registry.declarations.models import Declaration
from registry.disputes import selectors
from registry.disputes.models import ROLE_LABELS, Dispute, DisputeStep
from registry.errors import Conflict, PermissionDenied, RateLimited, ValidationFailed
from registry.labels.email_proof import proven_emails

# Limits on what a step says (a named rule, read by the forms and the API).
TEXT_MAX = 4000
EVIDENCE_MAX = 10000
IDENTITY_MAX = 2000
# Throttle scopes (rates in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], counters in CACHES["shared"]).
OPEN_PER_ACCOUNT = "dispute_account"
OPEN_PER_DECLARATION = "dispute_declaration"
OPEN_PER_CREDENTIAL = "dispute_credential"  # an API credential: a platform key, or another label's token
# The role an API credential opens as: a platform key as a platform, a label token as a rights holder.
CREDENTIAL_ROLES = {"adrp": "platform", "adrl": "rights_holder"}


def _words(value: str, name: str, limit: int, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(f"{name} is required", fields={name: ["Required."]})
    if len(value) > limit:
        raise ValidationFailed(f"{name} is over {limit} characters", fields={name: [f"At most {limit} characters."]})
    return value


def _target(declaration: Declaration, isrc: str, part: str) -> dict[str, Any]:
    st = declaration.statement
    if part not in pdisputes.DISPUTED_PARTS:
        raise ValidationFailed(f"unknown part {part!r}", fields={"part": ["Choose a part."]})
    if part == "artwork":
        isrc = ""
    elif (isrc or part != "identifier") and isrc not in {t["isrc"] for t in st["tracks"]}:
        raise ValidationFailed("choose a track of this release", fields={"isrc": ["Not a track of this release."]})
    return {
        "id": str(declaration.uid),
        "version": declaration.version,
        "leaf_hash": bytes(declaration.leaf.leaf_hash).hex(),
        "upc": st["release"]["upc"],
        "isrc": isrc or None,
        "part": part,
    }


def _log_step(
    *, dispute: Dispute, target: dict[str, Any], step: str, role: str, outcome: str | None, actor: Any,
    text: str, evidence: str = "",
) -> DisputeStep:  # fmt: skip
    """Build, sign and log the dispute's next step; store it with its words and bundle."""
    previous = dispute.steps.select_related("leaf").order_by("-sequence").first() if dispute.pk else None
    nonce = os.urandom(pdisputes.NONCE_BYTES)
    st = pdisputes.build_dispute_step(
        registry=settings.REGISTRY_LOG_ORIGIN,
        dispute_id=str(dispute.uid),
        sequence=previous.sequence + 1 if previous else 1,
        previous=bytes(previous.leaf.leaf_hash).hex() if previous else None,
        step=step,
        declaration=target,
        role=role,
        outcome=outcome,
        content_sha256=pdisputes.content_commitment(nonce, text=text, evidence=evidence),
    )
    _invalidate_answers(dispute)
    appended, bundle = signing.sign_and_log_bundled(
        payload_type=pdisputes.DISPUTE_PAYLOAD_TYPE, payload=jcs.canonicalize(st)
    )
    return DisputeStep.objects.create(
        dispute=dispute,
        sequence=st["dispute"]["sequence"],
        step=step,
        role=role,
        outcome=outcome or "",
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        leaf_id=appended.index,
        statement=st,
        bundle=jcs.canonicalize(bundle).decode("utf-8"),
        content_sha256=st["content_sha256"],
        text=text,
        evidence=evidence,
        nonce=nonce,
    )


def _invalidate_answers(dispute: Dispute) -> None:
    """API answers carry the release's disputes: drop the cached ones of its UPC and ISRCs."""
    if not lookup_cache.enabled():
        return
    release = dispute.release
    current = Declaration.objects.filter(pk=release.current_declaration_id).values_list("statement", flat=True).first()
    if current is not None:
        lookup_cache.invalidate_on_commit(upc=release.upc, statement=current, previous_id=None)


def _spend(scope: str, ident: str, what: str) -> Quota | None:
    quota = Quota.of(scope, ident)
    if quota is not None:
        wait = quota.spend(1)
        if wait:
            raise RateLimited(f"too many disputes {what}: try again in {int(wait) + 1} seconds", wait=wait)
    return quota


def dispute_open(
    *,
    declaration: Declaration,
    actor: Any,
    role: str,
    isrc: str,
    part: str,
    text: str,
    evidence: str = "",
    identity: str = "",
) -> Dispute:
    """An artist, a rights holder or a platform disputes the current version of a declaration.

    ``actor`` is a signed-in account whose email address is proven (the pages), or an API
    credential (``registry.api.tokens.Credential``): a platform key opens as a platform, a
    label token as a rights holder on another label's declaration (``CREDENTIAL_ROLES``).
    Checked, then counted against the opener's and the release's limits, then signed and
    logged in one transaction. The counters are spent outside it, so a refused or failed
    opening costs the same on Redis and on the database store; a failure after counting
    gives the units back.
    """
    release = declaration.release
    if isinstance(actor, Credential):
        if role != CREDENTIAL_ROLES[actor.kind]:
            raise PermissionDenied(
                f"this credential opens disputes as {ROLE_LABELS[CREDENTIAL_ROLES[actor.kind]]}, not {role}",
                fields={"role": [f"Use {CREDENTIAL_ROLES[actor.kind]}."]},
            )
        if actor.is_label and actor.label_id == release.label_id:
            raise PermissionDenied("a label corrects its own declaration by amending it, not by disputing it")
        opener = {"opened_by_platform_id": actor.id} if actor.is_platform else {"opened_by_label_id": actor.label_id}
        scope, ident = OPEN_PER_CREDENTIAL, f"{actor.kind}{actor.id}"
    else:
        if not getattr(actor, "is_authenticated", False):
            raise PermissionDenied("sign in to open a dispute")
        if not proven_emails(actor):
            raise PermissionDenied("confirm your email address before opening a dispute")
        if role not in pdisputes.OPENER_ROLES:
            raise ValidationFailed(f"unknown role {role!r}", fields={"role": ["Choose who you are."]})
        if Membership.objects.filter(label_id=release.label_id, user=actor).exists():
            raise PermissionDenied("a label corrects its own declaration by amending it, not by disputing it")
        opener = {"opened_by": actor}
        scope, ident = OPEN_PER_ACCOUNT, str(actor.pk)
    if release.current_declaration_id != declaration.pk or declaration.status != Declaration.ACTIVE:
        raise Conflict("only the current version of a declaration can be disputed")
    target = _target(declaration, isrc, part)
    text = _words(text, "text", TEXT_MAX, required=True)
    evidence = _words(evidence, "evidence", EVIDENCE_MAX, required=False)
    identity = _words(identity, "identity", IDENTITY_MAX, required=False)
    spent = [_spend(scope, ident, "from this account" if scope == OPEN_PER_ACCOUNT else "with this credential")]
    try:
        spent.append(_spend(OPEN_PER_DECLARATION, str(declaration.release_id), "about this release"))
        # A version signed since the page was read still leaves this one disputable: the statement
        # names the version it disputes by leaf hash, and the dispute says so beside the newer one.
        dispute = _opened(declaration, target, role=role, opener=opener, actor=actor, text=text, evidence=evidence,
                          identity=identity)  # fmt: skip
    except BaseException:
        for quota in spent:
            if quota is not None:
                quota.refund(1)  # nothing was opened: the try does not count
        raise
    return dispute


@transaction.atomic
def _opened(
    declaration: Declaration, target: dict[str, Any], *, role: str, opener: dict[str, Any], actor: Any, text: str,
    evidence: str, identity: str,
) -> Dispute:  # fmt: skip
    release = declaration.release
    _lock_release(release.pk)
    dispute = Dispute.objects.create(
        declaration=declaration,
        release=release,
        label_id=release.label_id,
        isrc=target["isrc"] or "",
        part=target["part"],
        opener_role=role,
        identity=identity,
        **opener,
    )
    _log_step(dispute=dispute, target=target, step="opened", role=role, outcome=None, actor=actor,
              text=text, evidence=evidence)  # fmt: skip
    _publish(dispute)
    _notify_label(dispute, f"A declaration of {release.title} is disputed", _opened_body(dispute, text))
    _notify_staff(dispute, f"New dispute on {release.title} ({release.upc})")
    return dispute


def dispute_open_for_prefix_holder(
    *, declaration: Declaration, label: Label, isrc: str, text: str, evidence: str, actor: Any = None
) -> Dispute:
    """Open a rights holder's dispute on an identifier for ``label``, the holder of its verified prefix.

    Called by the registry when a prefix holder's declaration takes an ISRC over from its first
    signer (``registry.ownership.services.takeover_contest``), in that declaration's transaction:
    one dispute per declaration taken over from, caused by a signed version, so not rate-limited.
    """
    target = _target(declaration, isrc, "identifier")
    return _opened(
        declaration, target, role="rights_holder", opener={"opened_by_label": label}, actor=actor,
        text=_words(text, "text", TEXT_MAX, required=True), evidence=_words(evidence, "evidence", EVIDENCE_MAX,
        required=False), identity=f"{label.name} (label {label.pk}), holder of the verified prefix",
    )  # fmt: skip


def is_opener(actor: Any, dispute: Dispute) -> bool:
    """Whether ``actor`` (an account or an API credential) opened ``dispute``."""
    if isinstance(actor, Credential):
        if actor.is_platform:
            return dispute.opened_by_platform_id == actor.id
        return dispute.opened_by_label_id is not None and dispute.opened_by_label_id == actor.label_id
    return getattr(actor, "is_authenticated", False) and actor.pk == dispute.opened_by_id


def is_disputed_label(actor: Any, dispute: Dispute) -> bool:
    """Whether ``actor`` speaks for the disputed declaration's label: a member, or one of its API tokens."""
    if isinstance(actor, Credential):
        return actor.is_label and actor.label_id == dispute.label_id
    return (
        getattr(actor, "is_authenticated", False)
        and Membership.objects.filter(label_id=dispute.label_id, user=actor).exists()
    )


def _lock_release(release_id: int) -> None:
    Release.objects.select_for_update(of=("self",)).filter(pk=release_id).values_list("pk", flat=True).first()


def _locked(dispute: Dispute) -> Dispute:
    """The dispute, row-locked after its release (lock order above)."""
    _lock_release(dispute.release_id)
    return (
        Dispute.objects.select_for_update().select_related("declaration__leaf", "release", "label").get(pk=dispute.pk)
    )


def _publish(dispute: Dispute) -> None:
    """Rewrite the release's public disputes (what answers splice), under the release's lock."""
    Release.objects.filter(pk=dispute.release_id).update(public_disputes=selectors.public_json(dispute.release_id))


def _target_of(dispute: Dispute) -> dict[str, Any]:
    first = dispute.steps.order_by("sequence").first()
    assert first is not None
    return dict(first.statement["declaration"])


@transaction.atomic
def dispute_answer(*, dispute: Dispute, actor: Any, outcome: str, text: str) -> DisputeStep:
    """The label answers: it will amend (a new version, through the ordinary write path), or contests with a reason.

    Only a member of the disputed declaration's label answers, once, while the dispute is open.
    """
    if not is_disputed_label(actor, dispute):
        raise PermissionDenied("only the label answers a dispute on its declaration")
    dispute = _locked(dispute)
    if dispute.status != Dispute.OPEN:
        raise Conflict(f"this dispute is {dispute.get_status_display().lower()}: it takes no answer now")
    if outcome not in pdisputes.OUTCOMES["answered"]:
        raise ValidationFailed("answer 'amend' or 'contest'", fields={"outcome": ["Choose amend or contest."]})
    text = _words(text, "text", TEXT_MAX, required=outcome == "contest")
    step = _log_step(dispute=dispute, target=_target_of(dispute), step="answered", role="label", outcome=outcome,
                     actor=actor, text=text)  # fmt: skip
    dispute.status = Dispute.ANSWERED
    dispute.save(update_fields=["status", "updated_at"])
    _publish(dispute)
    what = "will amend the declaration" if outcome == "amend" else "contests the dispute"
    _notify_opener(dispute, f"{dispute.label.name} answered your dispute", f"{dispute.label.name} {what}.\n\n{text}")
    _notify_staff(dispute, f"Dispute answered: {dispute.label.name} {what}")
    return step


@transaction.atomic
def dispute_resolve(*, dispute: Dispute, actor: Any, outcome: str, text: str = "") -> DisputeStep:
    """Staff uphold or reject a dispute; its opener withdraws it. Either closes it, signed and logged."""
    if outcome not in pdisputes.OUTCOMES["resolved"]:
        raise ValidationFailed("resolve as upheld, rejected or withdrawn", fields={"outcome": ["Choose one."]})
    if outcome == "withdrawn":
        if not is_opener(actor, dispute):
            raise PermissionDenied("only the dispute's opener withdraws it")
    elif not getattr(actor, "is_staff", False):
        raise PermissionDenied("only registry staff resolve a dispute")
    dispute = _locked(dispute)
    if not dispute.is_open:
        raise Conflict(f"this dispute is {dispute.get_status_display().lower()} already")
    text = _words(text, "text", TEXT_MAX, required=False)
    role = dispute.opener_role if outcome == "withdrawn" else "staff"
    step = _log_step(dispute=dispute, target=_target_of(dispute), step="resolved", role=role, outcome=outcome,
                     actor=actor, text=text)  # fmt: skip
    dispute.status = outcome
    dispute.save(update_fields=["status", "updated_at"])
    _publish(dispute)
    subject = f"Dispute on {dispute.release.title}: {outcome}"
    body = f"The dispute on {dispute.release.title} ({dispute.on}) is {outcome}.\n\n{text}"
    _notify_opener(dispute, subject, body)
    _notify_label(dispute, subject, body)
    return step


@transaction.atomic
def dispute_erase(*, dispute: Dispute, actor: Any) -> Dispute:
    """Delete a dispute's words on request (claim, evidence, identity, answers, and their nonces).

    The log keeps each step's commitment and references, which stay verifiable; without the
    nonce the commitment matches nothing anyone can guess.
    """
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied("only registry staff erase a dispute's text")
    dispute = _locked(dispute)
    DisputeStep.objects.filter(dispute=dispute).update(text="", evidence="", nonce=None)
    dispute.identity = ""
    dispute.erased_at = timezone.now()
    dispute.save(update_fields=["identity", "erased_at", "updated_at"])
    return dispute


# --- email ---------------------------------------------------------------------------------------


def _opened_body(dispute: Dispute, text: str) -> str:
    return (
        f"{ROLE_LABELS[dispute.opener_role].capitalize()} disputes the declaration of {dispute.release.title} "
        f"(UPC {dispute.release.upc}, version {dispute.declaration.version}): {dispute.on}.\n\n"
        f"Claim: {text}\n\n"
        "Answer it on your label's disputes page: amend the declaration, or contest the claim with a reason. "
        "A dispute never changes your declaration by itself; registry staff resolve it."
    )


def _send(subject: str, body: str, to: Sequence[str]) -> None:
    if to:
        transaction.on_commit(lambda: send_mail(subject, body, None, list(to)))


def _notify_label(dispute: Dispute, subject: str, body: str) -> None:
    members = Membership.objects.filter(label_id=dispute.label_id).values_list("user__email", flat=True)
    _send(subject, body, sorted({e for e in members if e}))


def _notify_opener(dispute: Dispute, subject: str, body: str) -> None:
    if dispute.opened_by_platform_id is not None:
        to = [dispute.opened_by_platform.contact_email]
    elif dispute.opened_by_label_id is not None:
        owners = Membership.objects.filter(label_id=dispute.opened_by_label_id, role=Membership.OWNER)
        to = [dispute.opened_by_label.contact_email, *owners.values_list("user__email", flat=True)]
    else:
        to = [dispute.opened_by.email] if dispute.opened_by is not None else []
    _send(subject, body, sorted({e for e in to if e}))


def _notify_staff(dispute: Dispute, subject: str) -> None:
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    _send(
        subject,
        f"{subject}\nReview it in the admin: dispute {dispute.uid}.",
        list(staff.values_list("email", flat=True)),
    )
