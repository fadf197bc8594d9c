"""Template helpers of the label area."""

from __future__ import annotations

from typing import Any

from django import template

from provenance import identifiers

register = template.Library()


@register.simple_tag
def error_summary(*forms: Any) -> list[dict[str, str]]:
    """Every error of the given forms and formsets, each with the id of its field (for the summary's links)."""
    out: list[dict[str, str]] = []
    stack = list(forms)
    while stack:
        form = stack.pop(0)
        if form is None:
            continue
        if hasattr(form, "summary_errors"):  # a form that words its own summary (the declaration matrix)
            out.extend(form.summary_errors())
            continue
        if hasattr(form, "forms"):  # a formset
            out.extend({"href": "", "text": str(e)} for e in form.non_form_errors())
            stack[0:0] = list(form.forms)
            continue
        out.extend({"href": "", "text": str(e)} for e in form.non_field_errors())
        for name, errors in form.errors.items():
            if name == "__all__" or name not in form.fields:
                continue
            bf = form[name]
            where = bf.label
            if form.prefix and form.prefix[-1:].isdigit():
                where = f"{bf.label} ({form.prefix.split('-')[0].rstrip('s')} {int(form.prefix.split('-')[-1]) + 1})"
            out.extend({"href": f"#{bf.id_for_label}", "text": f"{where}: {e}"} for e in errors)
    return out


@register.filter
def isrc_display(value: str) -> str:
    try:
        return identifiers.format_isrc(value)
    except (IndexError, TypeError):
        return value


@register.filter
def level_label(value: str) -> str:
    from provenance.vocabulary import LEVEL_LABELS

    return LEVEL_LABELS.get(value, value)


@register.filter
def status_class(status: str) -> str:
    if status.startswith("withdrawn"):
        return "withdrawn"
    if status.startswith("active"):
        return "active"
    return "undeclared"
