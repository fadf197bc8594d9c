"""Domain errors. Services raise these; the API maps them to one error shape, pages to form errors."""

from __future__ import annotations


class DomainError(Exception):
    code = "invalid"
    status = 400

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    code = "invalid"
    status = 400


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"  # the same code as DRF's 403s, one name for one refusal
    status = 403


class Conflict(DomainError):
    """An identifier already belongs to another label, or a version race was lost."""

    code = "conflict"
    status = 409


class RateLimited(DomainError):
    """Too many requests of one kind from one account, or about one thing; ``wait`` seconds until the next fits."""

    code = "throttled"
    status = 429

    def __init__(self, message: str, *, wait: float = 0.0) -> None:
        super().__init__(message)
        self.wait = wait
