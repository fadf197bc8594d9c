"""What every API view shares: credentials, throttles, the safe JSON parser, no 406s."""

from __future__ import annotations

import re
from typing import Any

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from registry.api.authentication import ApiCredentialAuthentication, IsLabel
from registry.api.parsers import SafeJSONParser
from registry.api.throttles import LookupThrottle, WriteThrottle
from registry.errors import ValidationFailed

_INT = re.compile(r"-?[0-9]{1,18}")


class FirstRenderer(BaseContentNegotiation):
    """Answer JSON (or the view's own content type) whatever Accept says: platforms get data, never a 406."""

    def select_parser(self, request: Any, parsers: list) -> Any:
        for parser in parsers:
            if parser.media_type.split(";")[0] == (request.content_type or "").split(";")[0].strip().lower():
                return parser
        return None

    def select_renderer(self, request: Any, renderers: list, format_suffix: str | None = None) -> tuple:
        return renderers[0], renderers[0].media_type


class PublicView(APIView):
    authentication_classes = [ApiCredentialAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [LookupThrottle]
    parser_classes = [SafeJSONParser]
    content_negotiation_class = FirstRenderer


class LabelView(APIView):
    authentication_classes = [ApiCredentialAuthentication]
    permission_classes = [IsLabel]
    throttle_classes = [WriteThrottle]
    parser_classes = [SafeJSONParser]
    content_negotiation_class = FirstRenderer


def int_param(
    request: Any, name: str, *, default: int | None = None, minimum: int = 0, maximum: int | None = None
) -> int:
    """An integer query parameter, or a 400 that says which and why."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ValidationFailed(f"{name} is required", fields={name: ["This parameter is required."]})
        return default
    if not _INT.fullmatch(raw):  # fullmatch: "$" would let a trailing newline through
        raise ValidationFailed(f"{name} must be a whole number", fields={name: ["Must be a whole number."]})
    value = int(raw)
    if value < minimum:
        raise ValidationFailed(f"{name} must be at least {minimum}", fields={name: [f"At least {minimum}."]})
    if maximum is not None and value > maximum:
        raise ValidationFailed(f"{name} must be at most {maximum}", fields={name: [f"At most {maximum}."]})
    return value
