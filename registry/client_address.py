"""The client's address: the one place that decides whether to believe ``X-Forwarded-For``.

Anyone can send ``X-Forwarded-For``, so it is read only when
``settings.REGISTRY_TRUSTED_PROXIES`` (env ``REGISTRY_TRUSTED_PROXIES``) says how
many reverse proxies stand in front of the app. Each proxy appends the address it
saw, so with N trusted proxies the client is the N-th entry from the right;
anything to its left was written by the client and is ignored. With 0 (the
default) the header is ignored and the address is the TCP peer, ``REMOTE_ADDR``.

DRF's ``NUM_PROXIES`` is set from the same setting, and the API throttles call
this function, so rate limits, sign-in throttling and anything else that keys on
an address agree on who the client is.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings

UNKNOWN = "unknown"


def client_address(request: Any) -> str:
    """The address of the client that sent ``request`` (a Django or DRF request)."""
    remote = request.META.get("REMOTE_ADDR") or UNKNOWN
    proxies = settings.REGISTRY_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # Not an address: the proxy chain is not what the setting says. The peer is
        # at least an address nobody can choose.
        return remote
