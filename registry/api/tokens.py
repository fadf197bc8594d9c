"""Create, revoke and check label API tokens and platform keys. Only HMACs are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.utils import timezone

from provenance.text import refusal
from registry.api.models import LabelToken, PlatformKey
from registry.catalog.models import Label
from registry.errors import NotFound, ValidationFailed

LABEL_PREFIX = "adrl"
PLATFORM_PREFIX = "adrp"


def _digest(token: str) -> str:
    return hmac.new(settings.REGISTRY_TOKEN_PEPPER.encode(), token.encode(), hashlib.sha256).hexdigest()


def _new_secret(prefix: str) -> tuple[str, str]:
    public_id = secrets.token_hex(6)
    # 256 bits of entropy: brute force is hopeless even without the throttle.
    return public_id, f"{prefix}_{public_id}_{secrets.token_urlsafe(32)}"


def _split(token: str, prefix: str) -> str | None:
    parts = token.split("_")
    if len(parts) < 3 or parts[0] != prefix or len(parts[1]) != 12:
        return None
    return parts[1]


def label_token_create(*, label: Label, name: str, created_by: Any = None) -> tuple[LabelToken, str]:
    """Returns the row and the plaintext token, which is never stored and shown only once."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed("a token needs a name (at most 100 characters)", fields={"name": ["Name the token."]})
    refused = refusal(name)
    if refused is not None:
        raise ValidationFailed(f"name: {refused}", fields={"name": [refused]})
    public_id, token = _new_secret(LABEL_PREFIX)
    row = LabelToken.objects.create(
        label=label, name=name, public_id=public_id, digest=_digest(token), created_by=created_by
    )
    return row, token


def label_token_revoke(*, label: Label, token_id: int) -> LabelToken:
    try:
        row = LabelToken.objects.get(pk=token_id, label=label)
    except (LabelToken.DoesNotExist, ValueError, TypeError):
        raise NotFound("no such token") from None
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
    return row


def label_token_check(token: str) -> LabelToken | None:
    """The active token row for ``token``, or None. Constant-time on the secret part."""
    public_id = _split(token, LABEL_PREFIX)
    if public_id is None:
        return None
    row = LabelToken.objects.select_related("label").filter(public_id=public_id, revoked_at__isnull=True).first()
    expected = row.digest if row else _digest("")  # compare even when absent: no timing oracle
    if not hmac.compare_digest(expected, _digest(token)) or row is None:
        return None
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        LabelToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


def platform_key_create(*, name: str, contact_email: str = "") -> tuple[PlatformKey, str]:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("a platform key needs a name", fields={"name": ["Required."]})
    public_id, token = _new_secret(PLATFORM_PREFIX)
    row = PlatformKey.objects.create(name=name, contact_email=contact_email, public_id=public_id, digest=_digest(token))
    return row, token


def platform_key_check(token: str) -> PlatformKey | None:
    public_id = _split(token, PLATFORM_PREFIX)
    if public_id is None:
        return None
    row = PlatformKey.objects.filter(public_id=public_id, revoked_at__isnull=True).first()
    expected = row.digest if row else _digest("")
    if not hmac.compare_digest(expected, _digest(token)) or row is None:
        return None
    return row
