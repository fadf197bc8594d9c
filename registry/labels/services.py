"""Label-side writes: onboarding, invitations and members; small parsers shared by forms and the ERN import.

Views parse forms and call these; catalog and declaration rules stay in
``registry.catalog.services`` and ``registry.declarations.services``; drafts of a
new signed version (and a pending catalog edit) live in ``registry.labels.drafts``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from provenance import identifiers
from provenance.errors import IdentifierError
from provenance.text import refusal
from registry.catalog.models import Label, Membership
from registry.catalog.services import label_create, membership_add
from registry.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from registry.labels import email_proof
from registry.labels.models import Invitation, LabelApplication
from registry.ownership import prefixes
from registry.ownership import services as ownership_services
from registry.ownership.services import prefix_claim_create

logger = logging.getLogger(__name__)

INVITATION_DAYS = 14
PREFIX_EVIDENCE_MAX = ownership_services.EVIDENCE_MAX
# Audio uploaded only to be hashed: the hash is what gets declared, never the file.
# Large enough for a long 24-bit WAV; bigger files should be hashed in the browser.
AUDIO_HASH_MAX_BYTES = 300 * 1024 * 1024


# --- onboarding -------------------------------------------------------------


def application_submit(
    *,
    label_name: str,
    contact_name: str,
    contact_email: str,
    evidence: str,
    dpid: str | None = None,
    website: str = "",
    isrc_prefixes: str = "",
    gs1_prefixes: str = "",
    prefix_evidence: str = "",
) -> LabelApplication:
    """A pending application; prefixes it lists become pending claims at approval, never verified by it."""
    for field, value, multiline in (
        ("label_name", label_name, False),
        ("contact_name", contact_name, False),
        ("evidence", evidence, True),
        ("prefix_evidence", prefix_evidence, True),
    ):
        refused = refusal(value, multiline=multiline)
        if refused is not None:
            raise ValidationFailed(f"{field}: {refused}", fields={field: [refused]})
    if dpid:
        try:
            dpid = identifiers.normalize_dpid(dpid)
        except IdentifierError as exc:
            raise ValidationFailed(str(exc), fields={"dpid": [str(exc)]}) from exc
        if Label.objects.filter(dpid=dpid).exists():
            raise Conflict(
                f"DDEX Party ID {dpid} is already registered",
                fields={"dpid": ["A label with this DDEX Party ID is already registered. Contact us if it is yours."]},
            )
    claimed: list[list[str]] = []
    for field, kind, text in (
        ("isrc_prefixes", prefixes.ISRC, isrc_prefixes),
        ("gs1_prefixes", prefixes.GS1, gs1_prefixes),
    ):
        try:
            claimed += [[kind, p] for p in prefixes.parse_prefix_list(kind, text)]
        except prefixes.PrefixError as exc:
            raise ValidationFailed(str(exc), fields={field: [str(exc)]}) from None
    prefix_evidence = (prefix_evidence or "").strip()
    if claimed and not prefix_evidence:
        message = "Say how staff can check that the label holds these prefixes."
        raise ValidationFailed("prefix evidence is required", fields={"prefix_evidence": [message]})
    if len(prefix_evidence) > PREFIX_EVIDENCE_MAX:
        message = f"At most {PREFIX_EVIDENCE_MAX} characters."
        raise ValidationFailed("prefix evidence is too long", fields={"prefix_evidence": [message]})
    return LabelApplication.objects.create(
        label_name=label_name.strip(),
        dpid=dpid or None,
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip().lower(),
        website=website,
        evidence=evidence.strip(),
        prefixes=claimed,
        prefix_evidence=prefix_evidence if claimed else "",
    )


@transaction.atomic
def application_approve(*, application: LabelApplication, reviewer: Any) -> Label:
    """Create the verified label and email its contact an owner invitation.

    Approval never attaches the label to an existing account by email alone: an account
    whose address matches may have been made by someone who never proved it. The contact
    becomes the owner by opening the emailed link (which only they received, so it proves
    the address) and signing up, or signing in.
    """
    application = LabelApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != LabelApplication.PENDING:
        raise Conflict(f"the application from {application.label_name} was {application.status} already")
    label = label_create(
        name=application.label_name,
        dpid=application.dpid,
        verified=True,
        contact_email=application.contact_email,
    )
    application.status = LabelApplication.APPROVED
    application.label = label
    application.reviewed_by = reviewer
    application.reviewed_at = timezone.now()
    application.save(update_fields=["status", "label", "reviewed_by", "reviewed_at"])
    for kind, prefix in application.prefixes:
        # Pending, like any claim: approving the label verifies none of its prefixes (docs/operations.md).
        prefix_claim_create(label=label, kind=kind, prefix=prefix, evidence=application.prefix_evidence)
    invitation_create(
        label=label,
        email=application.contact_email,
        role=Membership.OWNER,
        created_by=reviewer,
        proves_email=True,
        greeting=(
            f"Hello {application.contact_name},\n\n"
            f"{label.name} is now a verified label on the AI Disclosure Registry. "
            "Open this link to create your account (or sign in) and become its owner."
        ),
    )
    return label


@transaction.atomic
def application_reject(*, application: LabelApplication, reviewer: Any, reason: str) -> LabelApplication:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("a reason is required to reject an application", fields={"reason": ["Required."]})
    application = LabelApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != LabelApplication.PENDING:
        raise Conflict(f"the application from {application.label_name} was {application.status} already")
    application.status = LabelApplication.REJECTED
    application.rejection_reason = reason
    application.reviewed_by = reviewer
    application.reviewed_at = timezone.now()
    application.save(update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at"])
    body = (
        f"Hello {application.contact_name},\n\nWe could not verify {application.label_name}:\n\n{reason}\n\n"
        "You are welcome to apply again with more evidence.\n"
    )
    transaction.on_commit(lambda: send_mail("Your label application", body, None, [application.contact_email]))
    return application


# --- invitations ------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_create(
    *,
    label: Label,
    email: str,
    role: str = Membership.SUBMITTER,
    created_by: Any = None,
    proves_email: bool = False,
    greeting: str = "",
) -> tuple[Invitation, str]:
    """Returns the invitation and the link's token (only its hash is stored).

    ``proves_email``: the caller never shows the link to anyone (it is only emailed), so
    opening it proves the address (see ``Invitation.proves_email``).
    """
    if role not in (Membership.OWNER, Membership.SUBMITTER):
        raise ValidationFailed("role must be owner or submitter", fields={"role": ["Unknown role."]})
    email = email.strip().lower()
    if Membership.objects.filter(label=label, user__email__iexact=email).exists():
        raise Conflict(f"{email} is already a member", fields={"email": ["This person is already a member."]})
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        label=label,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        created_by=created_by,
        expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        proves_email=proves_email,
    )
    link = settings.SITE_URL.rstrip("/") + reverse("labels:invitation", args=[token])
    body = (
        greeting
        or (
            f"You are invited to declare releases for {label.name} on the AI Disclosure Registry "
            f"as {invitation.get_role_display().lower()}."
        )
    ) + f"\n\nAccept within {INVITATION_DAYS} days: {link}\n"
    transaction.on_commit(lambda: send_mail(f"Join {label.name}", body, None, [email]))
    return invitation, token


def invitation_lookup(token: str) -> Invitation:
    """The open invitation for ``token``; NotFound for unknown, used, revoked or expired links."""
    invitation = Invitation.objects.select_related("label").filter(token_hash=_token_hash(token or "")).first()
    if invitation is None or invitation.revoked_at is not None:
        raise NotFound("This invitation link is not valid. Ask the label's owner for a new one.")
    if invitation.accepted_at is not None:
        raise NotFound("This invitation was used already. Sign in to continue.")
    if invitation.expires_at <= timezone.now():
        raise NotFound("This invitation has expired. Ask the label's owner for a new one.")
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: Any) -> Membership:
    """Join the label as invited. Only the invited address may accept, once proven by ``user``.

    Holding the link is not enough for an owner's invitation: the owner who made it saw it.
    A link that was only emailed (``proves_email``) proves the address by being opened.
    """
    invitation = Invitation.objects.select_for_update().select_related("label").get(pk=invitation.pk)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise Conflict("this invitation was used already")
    if invitation.email not in email_proof.proven_emails(user):
        if not invitation.proves_email:
            raise PermissionDenied(
                f"This invitation was sent to {invitation.email}. Confirm that this address is yours first.",
                fields={"email": ["Not confirmed for your account."]},
            )
        email_proof.record_proof(user=user, email=invitation.email)
    existing = Membership.objects.filter(label=invitation.label, user=user).first()
    # Accepting never demotes an owner to submitter.
    role = Membership.OWNER if existing and existing.role == Membership.OWNER else invitation.role
    membership = membership_add(label=invitation.label, user=user, role=role)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def invitation_revoke(*, label: Label, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.filter(pk=invitation_id, label=label).first()
    if invitation is None:
        raise NotFound("no such invitation")
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


# --- small parsers shared by forms and the ERN import -----------------------

_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.\d+)?S)?)?$")


def parse_duration(text: str) -> int | None:
    """``3:21``, ``1:02:03``, ``201`` or ISO 8601 ``PT3M21S`` → whole seconds; blank → None."""
    text = (text or "").strip()
    if not text:
        return None
    m = _ISO_DURATION.match(text.upper())
    if m and text.upper() not in ("P", "PT"):
        d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        return d * 86400 + h * 3600 + mi * 60 + s
    pieces = text.split(":")
    if len(pieces) > 3 or not all(p.isdigit() for p in pieces):
        raise ValueError("Write the duration as minutes:seconds (3:21) or as seconds (201).")
    if len(pieces) > 1 and any(int(p) >= 60 for p in pieces[1:]):
        raise ValueError("Seconds and minutes after a colon must be below 60.")
    total = 0
    for p in pieces:
        total = total * 60 + int(p)
    if total > 86400:
        raise ValueError("A track cannot be longer than 24 hours.")
    return total


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def hash_upload(chunks: Iterable[bytes]) -> str:
    """SHA-256 of an uploaded file, read chunk by chunk; the bytes are never kept."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def parse_tools(text: str) -> list[str]:
    """Tool names, comma-separated or one per line; duplicates dropped, order kept."""
    tools: list[str] = []
    for piece in re.split(r"[,\n;]", text or ""):
        name = " ".join(piece.split())
        if name and name.lower() not in (t.lower() for t in tools):
            tools.append(name)
    return tools


# --- members ----------------------------------------------------------------


def _lock_members(label: Label, membership_id: int) -> Membership:
    # The label row is the lock: changes to one label's members queue here, so two owners
    # demoting each other at the same moment cannot leave the label without an owner.
    Label.objects.select_for_update().get(pk=label.pk)
    membership = Membership.objects.select_related("user").filter(pk=membership_id, label=label).first()
    if membership is None:
        raise NotFound("no such member of this label")
    return membership


def _refuse_last_owner(label: Label, membership: Membership, actor: Any, doing: str) -> None:
    if membership.role != Membership.OWNER:
        return
    if Membership.objects.filter(label=label, role=Membership.OWNER).exclude(pk=membership.pk).exists():
        return
    who = "You are" if membership.user_id == getattr(actor, "pk", None) else f"{membership.user.get_username()} is"
    raise Conflict(
        f"{who} the only owner of {label.name}: make someone else an owner before {doing}.",
        fields={"role": ["A label needs at least one owner."]},
    )


@transaction.atomic
def membership_set_role(*, label: Label, membership_id: int, role: str, actor: Any) -> Membership:
    """Make a member an owner or a submitter. A label always keeps at least one owner."""
    if role not in (Membership.OWNER, Membership.SUBMITTER):
        raise ValidationFailed("role must be owner or submitter", fields={"role": ["Unknown role."]})
    membership = _lock_members(label, membership_id)
    if membership.role == role:
        return membership
    _refuse_last_owner(label, membership, actor, "stepping down to submitter")
    membership.role = role
    membership.save(update_fields=["role"])
    logger.info("label %s: %s made %s %s", label.pk, getattr(actor, "pk", None), membership.user.get_username(), role)
    return membership


@transaction.atomic
def membership_remove(*, label: Label, membership_id: int, actor: Any) -> Membership:
    """Remove someone from the label; they lose access at their next request. The last owner stays."""
    membership = _lock_members(label, membership_id)
    _refuse_last_owner(label, membership, actor, "leaving")
    membership.delete()
    logger.info("label %s: %s removed %s", label.pk, getattr(actor, "pk", None), membership.user.get_username())
    return membership
