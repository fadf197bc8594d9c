"""``provenance.text``'s rule for text input, as Django sees it: a validator, form fields and an admin mixin.

The rule itself (which characters a name, title or reason may not hold) lives
only in :mod:`provenance.text`; the services apply it too, so a door that skips
these fields still cannot store a forbidden character. The API's serializer
field is :class:`registry.api.serializers.Text`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible

from provenance import text


@deconstructible
class AllowedCharactersValidator:
    code = "forbidden_character"

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: Any) -> None:
        reason = text.refusal(str(value), multiline=self.multiline)
        if reason is not None:
            raise ValidationError(reason, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AllowedCharactersValidator) and other.multiline == self.multiline


class TextField(forms.CharField):
    """A one-line name or title."""

    multiline = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.validators.append(AllowedCharactersValidator(multiline=self.multiline))


class MultilineTextField(TextField):
    """A reason or other prose: tab, LF and CR are allowed too."""

    multiline = True


class AllowedCharactersAdminMixin:
    """For a ModelAdmin: every text field of its forms refuses what :func:`provenance.text.refusal` refuses."""

    def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if isinstance(field, forms.CharField):
            field.validators.append(AllowedCharactersValidator(multiline=isinstance(db_field, models.TextField)))
        return field
