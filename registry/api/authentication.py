"""API credentials: ``Authorization: Bearer adrl_…`` (label token) or ``adrp_…`` / ``X-Api-Key`` (platform key).

Both kinds are checked by ``registry.api.tokens``; a presented credential that
does not check answers 401, so a misconfigured client notices at once instead
of silently running at anonymous limits. ``request.auth`` is a
``tokens.Credential`` (kind, id, label id; no row, no secret); there is no Django
user behind API calls. A credential in the key cache costs one read of the shared
store; an address that keeps presenting bad credentials is answered 429 before
any more of them reach the database (``throttles.refuse_guessing``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from registry.api import throttles, tokens


def presented_credential(request: Any) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise exceptions.AuthenticationFailed('use "Authorization: Bearer <token>"')
        return value.strip()
    key = request.META.get("HTTP_X_API_KEY", "").strip()
    return key or None


class ApiCredentialAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[None, tokens.Credential] | None:
        presented = presented_credential(request)
        if presented is None:
            return None
        quota = None
        if presented.startswith(f"{tokens.PLATFORM_PREFIX}_") and (public_id := tokens.public_id_of(presented)):
            # Every request made with a platform key counts against its quota: on Redis, in the
            # same round trip that reads the key (registry.api.throttles.read_and_count).
            quota = throttles.platform_quota(public_id)
        credential = tokens.credential_check(
            presented, before_database=lambda: throttles.refuse_guessing(request), counting=quota
        )
        if credential is None:
            throttles.count_bad_credential(request)
            raise exceptions.AuthenticationFailed("the API token is unknown or revoked")
        request.platform_quota = quota
        return None, credential

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


class IsLabel(permissions.BasePermission):
    """Writes need a label token; a platform key is read-only (403), no credential is 401."""

    message = "platform keys can only read; writes need a label token"

    def has_permission(self, request: Any, view: Any) -> bool:
        if getattr(request.auth, "is_label", False):
            return True
        if request.auth is None:
            raise exceptions.NotAuthenticated("a label API token is required: Authorization: Bearer adrl_…")
        return False


class ApiCredentialScheme(OpenApiAuthenticationExtension):
    target_class = ApiCredentialAuthentication
    name = ["bearerToken", "apiKey"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # Alternatives, not both at once: writes take a label token only; reads either or nothing.
        if IsLabel in getattr(auto_schema.view, "permission_classes", []):
            return [{"bearerToken": []}]
        return [{"bearerToken": []}, {"apiKey": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {
                "type": "http",
                "scheme": "bearer",
                "description": "A label token `adrl_…` (writes) or a platform key `adrp_…` (higher read limits).",
            },
            {"type": "apiKey", "in": "header", "name": "X-Api-Key", "description": "A platform key `adrp_…`."},
        ]
