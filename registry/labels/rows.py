"""Add, remove and move the rows of the release form's formsets without JavaScript.

The row buttons are submit buttons: ``add_track`` / ``add_artist``, and per row
``row_action`` = ``<prefix>-<index>-<up|down|remove>``. :func:`apply` rewrites
the posted rows (and uploaded files) in that order, and the view shows the form
again with everything typed and no errors; nothing is saved. labels.js does the
same in the browser, with the same rule for positions: when the track positions
followed row order (1, 2, 3 … or left empty), they still do afterwards;
positions the label typed otherwise are left alone.
"""

from __future__ import annotations

import re
from typing import Any

from django.forms.utils import ErrorDict
from django.utils.datastructures import MultiValueDict

from provenance import limits

PREFIXES = {"tracks": ("Track", limits.RELEASE_TRACKS_MAX), "artists": ("Artist", limits.RELEASE_ARTISTS_MAX)}
ADD_BUTTONS = {"add_track": "tracks", "add_artist": "artists"}
_ROW_ACTION = re.compile(r"^(tracks|artists)-(\d{1,3})-(up|down|remove)$")


def _total(data: Any, prefix: str) -> int:
    try:
        return max(0, min(int(data.get(f"{prefix}-TOTAL_FORMS", "1")), PREFIXES[prefix][1]))
    except ValueError:
        return 1


def _take_rows(store: MultiValueDict, prefix: str, total: int) -> list[dict[str, list[Any]]]:
    """Remove every ``<prefix>-<i>-<field>`` key from ``store``; return rows ``0..total-1`` as {field: values}."""
    rows: list[dict[str, list[Any]]] = [{} for _ in range(total)]
    key_re = re.compile(rf"^{prefix}-(\d+)-(.+)$")
    for key in list(store.keys()):
        m = key_re.match(key)
        if m is None:
            continue
        values = store.getlist(key)
        del store[key]
        if int(m.group(1)) < total:
            rows[int(m.group(1))][m.group(2)] = values
    return rows


def _put_rows(store: MultiValueDict, prefix: str, rows: list[dict[str, list[Any]]]) -> None:
    for i, row in enumerate(rows):
        for name, values in row.items():
            store.setlist(f"{prefix}-{i}-{name}", values)


def _position(row: dict[str, list[Any]]) -> str:
    return str((row.get("position") or [""])[-1]).strip()


def _positions_follow_order(rows: list[dict[str, list[Any]]]) -> bool:
    return all(_position(row) in ("", str(i + 1)) for i, row in enumerate(rows))


def apply(data: Any, files: MultiValueDict | None = None) -> str | None:
    """Apply the row button pressed in ``data`` (a mutable QueryDict) and ``files`` in place.

    Returns what was done, in words for the page's live region, or None when no row button was pressed
    (the form was submitted to be saved).
    """
    prefix = next((p for button, p in ADD_BUTTONS.items() if button in data), None)
    op, index = "add", -1
    if prefix is None:
        if "row_action" not in data:
            return None
        m = _ROW_ACTION.match(data.get("row_action", ""))
        if m is None:  # a row button, but not one this page has: show the form again, change nothing
            return "Nothing changed."
        prefix, index, op = m.group(1), int(m.group(2)), m.group(3)
    noun, most = PREFIXES[prefix]
    total = _total(data, prefix)
    rows = _take_rows(data, prefix, total)
    file_rows = _take_rows(files, prefix, total) if files is not None else [{} for _ in rows]
    in_order = _positions_follow_order(rows)
    title = ""
    if 0 <= index < len(rows):
        title = str((rows[index].get("title") or rows[index].get("name") or [""])[-1]).strip()
    named = f"{noun} {index + 1}" + (f" “{title}”" if title else "")
    if op == "add":
        if len(rows) >= most:
            message = f"A release has at most {most} {noun.lower()}s: no row added."
        else:
            numbers = [int(p) for p in map(_position, rows) if p.isdigit()]
            new: dict[str, list[Any]] = {}
            if prefix == "tracks":
                new["position"] = [str(len(rows) + 1 if in_order else max(numbers, default=0) + 1)]
            rows.append(new)
            file_rows.append({})
            message = f"{noun} {len(rows)} added."
    elif index >= len(rows):
        message = f"There is no {noun.lower()} {index + 1}: nothing changed."
    elif op == "remove":
        del rows[index]
        del file_rows[index]
        if not rows:  # a release keeps one (empty) row to fill in
            rows, file_rows = [{"position": ["1"]} if prefix == "tracks" else {}], [{}]
        message = f"{named} removed. {_count(len(rows), noun)} left."
    else:
        to = index - 1 if op == "up" else index + 1
        if not 0 <= to < len(rows):
            message = f"{named} is {'first' if op == 'up' else 'last'} already."
        else:
            rows[index], rows[to] = rows[to], rows[index]
            file_rows[index], file_rows[to] = file_rows[to], file_rows[index]
            message = f"{named} moved {op} to row {to + 1}."
    if prefix == "tracks" and in_order:
        for i, row in enumerate(rows):
            row["position"] = [str(i + 1)]
    _put_rows(data, prefix, rows)
    if files is not None:
        _put_rows(files, prefix, file_rows)
    data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
    return message


def _count(n: int, noun: str) -> str:
    return f"{n} {noun.lower()}{'' if n == 1 else 's'}"


def quiet(*forms: Any) -> None:
    """Validate ``forms`` (an uploaded audio file is hashed and its hash shown) and then hide their errors.

    After a row button nothing was submitted to be saved: the page shows what was typed, not what is
    missing yet (no error messages, no ``aria-invalid``). Django keeps a form's errors in ``_errors``;
    emptying it after ``full_clean`` is how a bound form is shown without them.
    """
    for form in forms:
        if hasattr(form, "forms"):  # a formset
            form.errors  # noqa: B018 (runs full_clean on every row)
            form._non_form_errors = form.error_class(error_class="nonform", renderer=form.renderer)
            quiet(*form.forms)
            form._errors = [f.errors for f in form.forms]
            continue
        for name in form.errors:
            if name in form.fields:
                form.fields[name].widget.attrs.pop("aria-describedby", None)
        form._errors = ErrorDict()
