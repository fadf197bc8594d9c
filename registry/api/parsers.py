"""A JSON parser that refuses what would hurt: oversized bodies, deep nesting, NaN and huge numbers.

DRF's JSONParser reads the raw stream, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE
check (done only in ``HttpRequest.body``) never runs; this parser enforces it
itself, and checks the nesting depth *before* ``json.loads`` can recurse.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser

MAX_DEPTH = 32
# Strings first, so brackets inside them are not counted.
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "the request body is too large"
    default_code = "too_large"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def json_depth(text: str) -> int:
    # The brackets outside strings, in order: the strings are cut out first, in C (leftmost first, as a
    # scan of strings-or-brackets would take them), so Python counts the brackets alone.
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return deepest


def loads_safely(raw: bytes) -> Any:
    """Parse ``raw`` JSON or raise ParseError with the reason."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise exceptions.ParseError("the request body is not UTF-8") from None
    if json_depth(text) > MAX_DEPTH:
        raise exceptions.ParseError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise exceptions.ParseError(f"JSON parse error: {exc}") from None


class SafeJSONParser(BaseParser):
    media_type = "application/json"
    max_body: int | None = None  # bytes; None: settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        return loads_safely(self.read(stream, parser_context))

    def read(self, stream: Any, parser_context: dict | None) -> bytes:
        """The body's bytes, or 413 beyond ``max_body`` (default DATA_UPLOAD_MAX_MEMORY_SIZE)."""
        limit = self.max_body if self.max_body is not None else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        length = 0
        if request is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
        if limit is not None and length > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
        return raw


@dataclass(frozen=True)
class JSONBody:
    value: Any
    raw: bytes


class EvidenceJSONParser(SafeJSONParser):
    """For bodies that carry signed evidence (a bundle to verify): the parsed value *and* the bytes.

    The value answers 400 for what is not JSON, as everywhere; the bytes let the
    verifier judge what a lenient parse hides, such as a duplicated member.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        raw = self.read(stream, parser_context)
        return JSONBody(loads_safely(raw), raw)


class NDJSONParser(SafeJSONParser):
    """Newline-delimited JSON (``application/x-ndjson``): one JSON value per line, blank lines skipped.

    Parsed to ``{"releases": [value, …]}``, the shape of the JSON body it stands for, so
    views (and the Idempotency-Key fingerprint) see one shape. A line that is not JSON is
    a 400 naming the line.
    """

    media_type = "application/x-ndjson"
    member = "releases"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        raw = self.read(stream, parser_context)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.ParseError("the request body is not UTF-8") from None
        values = []
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                values.append(loads_safely(line.encode("utf-8")))
            except exceptions.ParseError as exc:
                raise exceptions.ParseError(f"line {number}: {exc.detail}") from None
        return {self.member: values}
