"""Create, revoke and check label API tokens and platform keys. Only HMACs are stored.

``credential_check`` is what the API calls per request: one read of the key cache
(``registry.api.key_cache``) when the credential is cached, the row otherwise.
Every revocation goes through ``label_token_revoke`` or ``credentials_revoke``,
which tell the key cache when they commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from provenance.text import refusal
from registry.api import key_cache
from registry.api.models import LabelToken, PlatformKey
from registry.catalog.models import Label
from registry.errors import NotFound, ValidationFailed

LABEL_PREFIX = "adrl"
PLATFORM_PREFIX = "adrp"
# last_used_at is written when a token is checked against its row, at most once a minute.
LAST_USED_PRECISION = 60


@dataclass(frozen=True)
class Credential:
    """``request.auth`` in the API: which credential was presented, never its secret."""

    kind: str  # LABEL_PREFIX or PLATFORM_PREFIX
    id: int
    label_id: int | None
    public_id: str  # the token's visible part, which names it in counters and logs

    @property
    def is_label(self) -> bool:
        return self.kind == LABEL_PREFIX

    @property
    def is_platform(self) -> bool:
        return self.kind == PLATFORM_PREFIX

    @cached_property
    def label(self) -> Label:
        """The label a label token writes for (one query, on first use: only writes need it)."""
        return Label.objects.get(pk=self.label_id)


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


def _facts(row: LabelToken | PlatformKey) -> key_cache.Facts:
    if isinstance(row, LabelToken):
        return key_cache.Facts(LABEL_PREFIX, row.pk, row.label_id, row.revoked_at is not None)
    return key_cache.Facts(PLATFORM_PREFIX, row.pk, None, row.revoked_at is not None)


@transaction.atomic
def label_token_revoke(*, label: Label, token_id: int) -> LabelToken:
    """Revoke one of ``label``'s tokens; every worker refuses it from the moment this commits."""
    try:
        row = LabelToken.objects.select_for_update().get(pk=token_id, label=label)
    except (LabelToken.DoesNotExist, ValueError, TypeError):
        raise NotFound("no such token") from None
    if row.revoked_at is None:
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        key_cache.revoke_on_commit([(row.digest, _facts(row))])
    return row


@transaction.atomic
def credentials_revoke(queryset: QuerySet) -> int:
    """Revoke every active row of ``queryset`` (label tokens or platform keys, the admin's action); the count."""
    rows = list(queryset.filter(revoked_at__isnull=True).select_for_update())
    now = timezone.now()
    for row in rows:
        row.revoked_at = now
    queryset.model.objects.filter(pk__in=[row.pk for row in rows]).update(revoked_at=now)
    key_cache.revoke_on_commit([(row.digest, _facts(row)) for row in rows])
    return len(rows)


def _row_check(model: type[LabelToken] | type[PlatformKey], token: str, prefix: str, digest: str) -> Any:
    """The row ``token`` is the secret of, revoked or not, or None. Constant-time on the secret part."""
    public_id = _split(token, prefix)
    if public_id is None:
        return None
    rows = model.objects.filter(public_id=public_id)
    if model is LabelToken:
        rows = rows.select_related("label")
    row = rows.first()
    expected = row.digest if row else _digest("")  # compare even when absent: no timing oracle
    if not hmac.compare_digest(expected, digest) or row is None:
        return None
    return row


def _touch(row: LabelToken) -> None:
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > LAST_USED_PRECISION:
        LabelToken.objects.filter(pk=row.pk).update(last_used_at=now)


def label_token_check(token: str) -> LabelToken | None:
    """The active token row for ``token``, or None. Reads the database (the API reads ``credential_check``)."""
    row = _row_check(LabelToken, token, LABEL_PREFIX, _digest(token))
    if row is None or row.revoked_at is not None:
        return None
    _touch(row)
    return row


def platform_key_create(*, name: str, contact_email: str = "") -> tuple[PlatformKey, str]:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("a platform key needs a name", fields={"name": ["Required."]})
    public_id, token = _new_secret(PLATFORM_PREFIX)
    row = PlatformKey.objects.create(name=name, contact_email=contact_email, public_id=public_id, digest=_digest(token))
    return row, token


def platform_key_check(token: str) -> PlatformKey | None:
    """The active key row for ``token``, or None. Reads the database."""
    row = _row_check(PlatformKey, token, PLATFORM_PREFIX, _digest(token))
    return row if row is not None and row.revoked_at is None else None


def public_id_of(token: str) -> str | None:
    """The visible part of a well-formed token (``adrp_<public id>_<secret>``), or None."""
    prefix = token.partition("_")[0]
    return _split(token, prefix) if prefix in (LABEL_PREFIX, PLATFORM_PREFIX) else None


def credential_check(
    token: str, *, before_database: Callable[[], None] | None = None, counting: Any = None
) -> Credential | None:
    """The active credential ``token`` stands for, or None: one key-cache read when it is cached.

    ``before_database`` runs on a cache miss, before the row is read (the API refuses
    there an address that keeps sending bad credentials). ``counting``, a platform
    key's quota, is counted in the same read (``key_cache.get``). Reading the row
    writes the facts to the key cache and, for a label token, ``last_used_at`` at most
    once a minute, so a token in steady use touches its row about once per cache TTL.
    """
    prefix = token.partition("_")[0]
    models: dict[str, type[LabelToken] | type[PlatformKey]] = {LABEL_PREFIX: LabelToken, PLATFORM_PREFIX: PlatformKey}
    model = models.get(prefix)
    public_id = _split(token, prefix) if model is not None else None
    if model is None or public_id is None:
        return None
    digest = _digest(token)
    facts = key_cache.get(digest, counting=counting)
    if facts is None:
        if before_database is not None:
            before_database()
        row = _row_check(model, token, prefix, digest)
        if row is None:
            return None  # never cached: unknown tokens must not fill the store
        facts = _facts(row)
        key_cache.remember(digest, facts)
        if not facts.revoked and isinstance(row, LabelToken):
            _touch(row)
            credential = Credential(facts.kind, facts.id, facts.label_id, public_id)
            credential.__dict__["label"] = row.label  # loaded with the row: spare the write its query
            return credential
    if facts.revoked or facts.kind != prefix:
        return None
    return Credential(facts.kind, facts.id, facts.label_id, public_id)
