"""A fast path through the API's serializers for the bulk endpoint: accept plainly valid input exactly as they would.

``fast_validator(ReleaseCreateIn)`` compiles a serializer into ``check(data)``, which returns what
``ReleaseCreateIn().run_validation(data)`` returns when ``data`` is plainly valid, and None otherwise:
the caller then runs the serializer itself, which refuses with its own messages (or accepts what the
fast path did not dare to). The rules are not copied: limits, choices, defaults and validators are
read from the serializer's own field objects, and the validators are called as DRF calls them.
A bulk request of 100 releases of 12 tracks runs ~27,000 DRF fields (~1 ms per release); this runs
the same checks without DRF's per-field machinery.

Invariant (tests/registry/api/test_fast_input.py, generated inputs): whenever ``check`` returns a
value, the serializer accepts the same input and returns an equal value; ``check`` never refuses.
Anything it does not handle exactly makes it undecided: a number or boolean given as text, text
with surrounding whitespace (DRF trims it), a date not written YYYY-MM-DD, a field type or option
it does not know (checked once, when compiled: such a field is always undecided).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

from django.core import validators
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import ISO_8601, fields, serializers
from rest_framework.settings import api_settings
from rest_framework.validators import ProhibitSurrogateCharactersValidator

Check = Callable[[Any], Any]


class _Undecided(Exception):
    """The serializer decides (and says why, if it refuses)."""


_INT_MAX = 2**63 - 1
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _undecided(value: Any) -> Any:
    raise _Undecided


def _validators(field: fields.Field) -> Callable[[Any], None]:
    """The field's validators as DRF calls them, the common ones as the comparisons they make.

    Only these exact classes with a fixed limit are inlined (a subclass or a callable limit
    is called as DRF calls it): Django's Max/MinLengthValidator (``len``), Max/MinValueValidator,
    ProhibitNullCharactersValidator (a NUL in the text) and DRF's ProhibitSurrogateCharactersValidator
    (a surrogate code point, which strict UTF-8 cannot encode). Each passes exactly when the
    validator does; a failure makes the item undecided, as before.
    """
    checks: list[Callable[[Any], bool]] = []
    rest: list[Any] = []
    for v in field.validators:
        limit = getattr(v, "limit_value", None)
        fixed = limit is not None and not callable(limit)
        if type(v) is validators.MaxLengthValidator and fixed:
            checks.append(_compare(len, operator.le, limit))
        elif type(v) is validators.MinLengthValidator and fixed:
            checks.append(_compare(len, operator.ge, limit))
        elif type(v) is validators.MaxValueValidator and fixed:
            checks.append(_compare(None, operator.gt, limit, negate=True))
        elif type(v) is validators.MinValueValidator and fixed:
            checks.append(_compare(None, operator.lt, limit, negate=True))
        elif type(v) is validators.ProhibitNullCharactersValidator:
            checks.append(lambda x: "\x00" not in str(x))
        elif type(v) is ProhibitSurrogateCharactersValidator:
            checks.append(_no_surrogates)
        else:
            rest.append(v)
    if not rest and not checks:
        return lambda value: None

    def validate(value: Any) -> None:
        for check in checks:
            if not check(value):
                raise _Undecided
        for validator in rest:
            try:
                if getattr(validator, "requires_context", False):
                    validator(value, field)
                else:
                    validator(value)
            except (DjangoValidationError, serializers.ValidationError):
                raise _Undecided from None

    return validate


def _compare(
    measure: Callable[[Any], Any] | None, op: Callable[[Any, Any], bool], limit: Any, *, negate: bool = False
) -> Callable[[Any], bool]:
    """What a Django limit validator compares: ``op(measure(x), limit)`` passes, or fails when ``negate``."""

    def check(x: Any) -> bool:
        result = op(x if measure is None else measure(x), limit)
        return not result if negate else bool(result)

    return check


def _no_surrogates(value: Any) -> bool:
    try:
        str(value).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(field: serializers.CharField) -> Check:
    validate = _validators(field)

    def check(value: Any) -> Any:
        if type(value) is not str or (field.trim_whitespace and value != value.strip()):
            raise _Undecided
        if value == "":
            if not field.allow_blank:
                raise _Undecided
            return ""  # DRF returns a blank value before its validators, as here
        validate(value)
        return value

    return check


def _choice(field: serializers.ChoiceField) -> Check:
    choices = field.choice_strings_to_values
    validate = _validators(field)

    def check(value: Any) -> Any:
        if type(value) is not str or value not in choices:
            raise _Undecided
        value = choices[value]
        validate(value)
        return value

    return check


def _integer(field: serializers.IntegerField) -> Check:
    validate = _validators(field)

    def check(value: Any) -> Any:
        if type(value) is not int or not -_INT_MAX <= value <= _INT_MAX:  # not bool, not text, not huge
            raise _Undecided
        validate(value)
        return value

    return check


def _boolean(field: serializers.BooleanField) -> Check:
    validate = _validators(field)

    def check(value: Any) -> Any:
        if type(value) is not bool:
            raise _Undecided
        validate(value)
        return value

    return check


def _date(field: serializers.DateField) -> Check:
    formats = getattr(field, "input_formats", None) or api_settings.DATE_INPUT_FORMATS
    if list(formats) != [ISO_8601]:
        return _undecided
    validate = _validators(field)

    def check(value: Any) -> Any:
        if type(value) is not str or not _DATE.fullmatch(value):
            raise _Undecided
        try:
            parsed = date.fromisoformat(value)  # what django.utils.dateparse.parse_date returns for this form
        except ValueError:
            raise _Undecided from None
        validate(parsed)
        return parsed

    return check


def _list(field: serializers.ListField | serializers.ListSerializer, child: Check) -> Check:
    min_length, max_length = getattr(field, "min_length", None), getattr(field, "max_length", None)
    validate = _validators(field)

    def check(value: Any) -> Any:
        if type(value) is not list or (not field.allow_empty and not value):
            raise _Undecided
        if (max_length is not None and len(value) > max_length) or (min_length is not None and len(value) < min_length):
            raise _Undecided
        out = [child(item) for item in value]
        validate(out)
        return out

    return check


def _dict(field: serializers.DictField, child: Check) -> Check:
    validate = _validators(field)

    def check(value: Any) -> Any:
        if type(value) is not dict or (not field.allow_empty and not value):
            raise _Undecided
        if not all(type(k) is str for k in value):
            raise _Undecided
        out = {k: child(v) for k, v in value.items()}
        validate(out)
        return out

    return check


def _nullable(field: fields.Field, check: Check) -> Check:
    """A value present: null where allowed (DRF returns it unvalidated), else the field's check."""
    allow_null = field.allow_null

    def nullable(value: Any) -> Any:
        if value is None:
            if not allow_null:
                raise _Undecided
            return None
        return check(value)

    return nullable


def _serializer(serializer: serializers.Serializer) -> Check:
    if type(serializer).validate is not serializers.Serializer.validate or serializer.validators:
        return _undecided
    members = []
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if field.source_attrs != [name] or hasattr(serializer, f"validate_{name}"):
            return _undecided
        if field.default is fields.empty:
            default = None
        elif callable(field.default) and not getattr(field.default, "requires_context", False):
            default = field.default
        elif callable(field.default):
            return _undecided
        else:
            default = (lambda d: lambda: d)(field.default)
        members.append((name, field.required, default, _nullable(field, _compile(field))))

    def check(value: Any) -> Any:
        if type(value) is not dict:
            raise _Undecided
        out = {}
        for name, required, default, member in members:
            if name not in value:
                if required:
                    raise _Undecided
                if default is not None:
                    out[name] = default()  # DRF returns a default unvalidated, as here
                continue
            out[name] = member(value[name])
        return out

    return check


def _compile(field: fields.Field) -> Check:
    # Most specific first: RegexField is a CharField, a ListSerializer is not a Serializer.
    if isinstance(field, serializers.ListSerializer):
        if type(field).validate is not serializers.ListSerializer.validate or field.validators:
            return _undecided
        return _list(field, _nullable(field.child, _compile(field.child)))
    if isinstance(field, serializers.Serializer):
        return _serializer(field)
    if isinstance(field, serializers.ListField):
        return _list(field, _nullable(field.child, _compile(field.child)))
    if isinstance(field, serializers.DictField):
        return _dict(field, _nullable(field.child, _compile(field.child)))
    if isinstance(field, serializers.CharField) and all(
        getattr(type(field), m) is getattr(serializers.CharField, m) for m in ("run_validation", "to_internal_value")
    ):
        return _text(field)  # Text and RegexField too: they add validators only
    kinds: dict[type, Callable[[Any], Check]] = {
        serializers.ChoiceField: _choice,
        serializers.BooleanField: _boolean,
        serializers.IntegerField: _integer,
        serializers.DateField: _date,
    }
    make = kinds.get(type(field))
    return make(field) if make is not None else _undecided


@cache
def fast_validator(serializer: type[serializers.Serializer]) -> Callable[[Any], dict[str, Any] | None]:
    """``serializer().run_validation(data)`` for plainly valid ``data``; None: run the serializer."""
    compiled = _serializer(serializer())

    def check(data: Any) -> dict[str, Any] | None:
        try:
            return compiled(data)
        except _Undecided:
            return None

    return check
