"""Per-client rate limits: anonymous lookups by client address, platform keys by key, label writes by token.

The client address is ``registry.client_address`` (X-Forwarded-For only behind trusted proxies).

Switched off entirely by ``settings.REGISTRY_THROTTLE`` (the test settings do).
Rates are read at request time so ``override_settings`` works in tests.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from registry.api.models import LabelToken, PlatformKey
from registry.client_address import client_address


class _Switchable(SimpleRateThrottle):
    def __init__(self) -> None:  # the rate is resolved per request in allow_request
        pass

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Any, view: Any) -> bool:
        if not settings.REGISTRY_THROTTLE:
            return True
        self.scope = self.scope_for(request)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def scope_for(self, request: Any) -> str:
        raise NotImplementedError

    def get_ident(self, request: Any) -> str:
        # X-Forwarded-For only as far as REGISTRY_TRUSTED_PROXIES says; never the whole header.
        return client_address(request)


class LookupThrottle(_Switchable):
    """``lookup_platform`` for a valid platform key, ``lookup_anon`` (per client IP) otherwise."""

    scope = "lookup_anon"

    def scope_for(self, request: Any) -> str:
        return "lookup_platform" if isinstance(request.auth, PlatformKey) else "lookup_anon"

    def get_cache_key(self, request: Any, view: Any) -> str:
        if isinstance(request.auth, PlatformKey):
            return self.cache_format % {"scope": self.scope, "ident": f"key{request.auth.pk}"}
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class WriteThrottle(_Switchable):
    scope = "write"

    def scope_for(self, request: Any) -> str:
        return "write"

    def get_cache_key(self, request: Any, view: Any) -> str:
        ident = f"token{request.auth.pk}" if isinstance(request.auth, LabelToken) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
