"""Lookup answers cached per identifier (Django's cache: Redis when REDIS_URL is set), dropped when a declaration commits.

Each identifier (``isrc:…`` or ``upc:…``) has a generation token; an answer is
stored with the token that was current *before* the database was read, and
is served only while that token is still current. A declaration deletes the
tokens of every identifier it can change (its UPC, the ISRCs of the new and
the previous version) after it commits, so an answer rendered from the old
rows, even one written to the cache after the commit, is never served again.
Tokens are random, so an evicted token can never make an old answer match.
``settings.REGISTRY_LOOKUP_CACHE_SECONDS`` = 0 switches the cache off.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")
PREFIX = "lookup:v1"
TOKEN_SECONDS = 7 * 24 * 3600  # outlives any answer; losing one early only costs a miss


def _token_key(kind: str, value: str) -> str:
    return f"{PREFIX}:gen:{kind}:{value}"


def _answer_key(kind: str, value: str) -> str:
    return f"{PREFIX}:ans:{kind}:{value}"


def enabled() -> bool:
    return settings.REGISTRY_LOOKUP_CACHE_SECONDS > 0


def get_or_render(kind: str, value: str, render: Callable[[], T]) -> T:
    """The cached answer for ``kind``/``value``, or ``render()`` (then cached). A cache outage only costs speed."""
    if not enabled():
        return render()
    token_key, answer_key = _token_key(kind, value), _answer_key(kind, value)
    try:
        found = cache.get_many([token_key, answer_key])
        token, entry = found.get(token_key), found.get(answer_key)
        if token is not None and entry is not None and entry[0] == token:
            return entry[1]
        if token is None:
            token = secrets.token_hex(8)
            if not cache.add(token_key, token, TOKEN_SECONDS):
                token = cache.get(token_key)  # another reader set it first (or it is gone: then no caching)
    except Exception:  # noqa: BLE001 - Redis down must not turn lookups into 500s
        logger.warning("lookup cache unavailable; answering from the database", exc_info=True)
        return render()
    answer = render()  # read the database only after taking the token: see the module docstring
    if token is not None:
        try:
            cache.set(answer_key, (token, answer), settings.REGISTRY_LOOKUP_CACHE_SECONDS)
        except Exception:  # noqa: BLE001
            logger.warning("lookup cache unavailable; answer not cached", exc_info=True)
    return answer


def invalidate(identifiers: Iterable[tuple[str, str]]) -> None:
    keys = [_token_key(kind, value) for kind, value in identifiers]
    if not keys:
        return
    try:
        cache.delete_many(keys)
    except Exception:  # noqa: BLE001 - the answers then expire with their TTL
        logger.error("lookup cache invalidation failed for %d identifiers", len(keys), exc_info=True)


def invalidate_on_commit(*, upc: str, statement: Mapping[str, Any], previous_id: int | None) -> None:
    """Called by the declaration services inside the transaction that logs a new version."""
    if not enabled():
        return
    from registry.declarations.models import DeclaredRecording

    identifiers = {("upc", upc)} | {("isrc", t["isrc"]) for t in statement["tracks"]}
    if previous_id is not None:  # a track dropped from the release changes that ISRC's answer too
        identifiers |= {
            ("isrc", isrc)
            for isrc in DeclaredRecording.objects.filter(declaration_id=previous_id).values_list("isrc", flat=True)
        }
    # Before commit too: code reading its own writes inside the transaction must not see the old answer;
    # the delete after commit is the one that counts for every other reader.
    invalidate(identifiers)
    transaction.on_commit(lambda: invalidate(identifiers))
