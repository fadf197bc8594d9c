"""Proving that an account reads an email address, before the address grants anything.

A proof link carries a signed, time-limited token naming the account and the
address (``django.core.signing``, its own salt). Opening it while signed in as that
account, and confirming with a POST (mail scanners follow GET links), records an
:class:`~registry.labels.models.EmailAddress`. Invitations are accepted, and
password resets sent, only for proven addresses.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from registry.errors import Conflict, PermissionDenied, ValidationFailed
from registry.labels.models import EmailAddress

logger = logging.getLogger(__name__)

SALT = "registry.labels.email-proof"
PROOF_DAYS = 3


def normalize(email: str) -> str:
    return (email or "").strip().lower()


def proven_emails(user: Any) -> set[str]:
    """The addresses ``user`` has proven (``User.email`` is only ever set from one, or by staff)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    found = {normalize(e) for e in EmailAddress.objects.filter(user=user).values_list("email", flat=True)}
    if user.email:
        found.add(normalize(user.email))
    return found


def proven_by_other(email: str, user: Any = None) -> bool:
    """True when an account other than ``user`` (any account, for None) has proven ``email``."""
    email = normalize(email)
    rows = EmailAddress.objects.filter(email__iexact=email)
    accounts = get_user_model().objects.filter(email__iexact=email)
    if user is not None:
        rows, accounts = rows.exclude(user=user), accounts.exclude(pk=user.pk)
    return rows.exists() or accounts.exists()


def record_proof(*, user: Any, email: str) -> EmailAddress:
    """Store that ``user`` proved ``email``; the account's own address is set if it had none."""
    email = normalize(email)
    if proven_by_other(email, user):
        raise Conflict(
            f"{email} belongs to another account. Sign in with that account instead.",
            fields={"email": ["This address belongs to another account."]},
        )
    try:
        with transaction.atomic():
            row, _ = EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified_at": timezone.now()}
            )
            if not user.email:
                user.email = email
                user.save(update_fields=["email"])
    except IntegrityError:  # another account proved it at the same moment
        raise Conflict(f"{email} belongs to another account.") from None
    logger.info("account %s proved %s", user.pk, email)
    return row


def proof_token(*, user: Any, email: str, next_path: str = "") -> str:
    return signing.dumps({"u": user.pk, "e": normalize(email), "n": next_path}, salt=SALT, compress=True)


def proof_send(*, user: Any, email: str, next_path: str = "") -> None:
    """Email a proof link to ``email`` for ``user`` (after commit)."""
    email = normalize(email)
    if proven_by_other(email, user):
        raise Conflict(
            f"{email} belongs to another account. Sign in with that account to accept.",
            fields={"email": ["This address belongs to another account."]},
        )
    token = proof_token(user=user, email=email, next_path=next_path)
    link = settings.SITE_URL.rstrip("/") + reverse("labels:email_confirm", args=[token])
    body = (
        f"Someone signed in as {user.get_username()} on the AI Disclosure Registry asked to confirm that "
        f"{email} is their address.\n\nIf that was you, open this link within {PROOF_DAYS} days while signed in "
        f"and confirm:\n\n{link}\n\nIf it was not you, ignore this message: nothing changes.\n"
    )
    transaction.on_commit(lambda: send_mail("Confirm your email address", body, None, [email]))


def proof_read(token: str) -> dict[str, Any]:
    """The account id, address and next page a proof token names; ValidationFailed when invalid or old."""
    try:
        data = signing.loads(token, salt=SALT, max_age=PROOF_DAYS * 86400)
    except signing.SignatureExpired:
        raise ValidationFailed("This confirmation link has expired. Ask for a new one.") from None
    except signing.BadSignature:
        raise ValidationFailed("This confirmation link is not valid.") from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("e"), str):
        raise ValidationFailed("This confirmation link is not valid.")
    return data


def proof_confirm(*, user: Any, token: str) -> tuple[str, str]:
    """Record the proof a token carries for the signed-in ``user``; returns (address, next page)."""
    data = proof_read(token)
    if data["u"] != user.pk:
        raise PermissionDenied(
            "This confirmation link was sent for another account. Sign in with the account that asked for it."
        )
    record_proof(user=user, email=data["e"])
    return data["e"], str(data.get("n") or "")
