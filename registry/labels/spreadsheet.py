"""The catalog spreadsheet: a CSV (or .xlsx, ``workbook``) template with one row per track (the release's columns repeated), read into
batch drafts (``registry.labels.batches``) after a report by row and column.

Rules: the whole file is checked before anything is kept, so a file with one error
creates nothing. Release columns may be left blank on a release's later rows
(they repeat the first); a different value is an error. A part left blank is *not
answered*: the draft keeps it open and the review page asks for it. Each release
is then checked by the catalog service itself (in a transaction rolled back), so
the report says what saving would say. Cells the registry writes (the template)
never start with ``= + - @`` or a control character, which a spreadsheet would
evaluate (CSV injection).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from django.db import transaction

from provenance import identifiers, limits, vocabulary
from provenance.errors import IdentifierError
from provenance.text import refusal
from registry.catalog.models import Label
from registry.catalog.services import RELEASE_MAX_TRACKS, release_create
from registry.errors import DomainError, ValidationFailed
from registry.labels import batches, drafts, services, workbook

MAX_BYTES = 2 * 2**20
MAX_ROWS = 5000
MAX_RELEASES = batches.REVIEW_MAX
MAX_REPORTED = 200

COLUMNS: list[tuple[str, str]] = [
    ("upc", "UPC or EAN of the release (12–14 digits)"),
    ("release_title", "Title of the release"),
    ("genre", "Genre, like Pop, Jazz or Afrobeats"),
    ("release_date", "Release date as YYYY-MM-DD (optional)"),
    ("artwork_ai", "AI in the front cover: none, partly or all (blank: answer on review)"),
    ("artists", "Release artists separated by “;”; add (AI persona) or (human using AI) after a name"),
    ("isrc", "ISRC of the track"),
    ("track_title", "Title of the track"),
    ("position", "Track number on the release: 1, 2, 3 …"),
    ("duration", "Duration as 3:21 or in seconds (201)"),
    *[(p, f"AI in the {vocabulary.PART_LABELS[p].lower()}: none, partly or all") for p in vocabulary.PARTS],
    ("tools", "AI tools used, separated by “;” (optional)"),
    ("voice_imitates_real_person", "yes if the voice imitates a real person, else no or blank"),
    ("consent_reference", "That person's consent (a contract or document reference); required when yes"),
]
NAMES = [c for c, _ in COLUMNS]
RELEASE_COLUMNS = ("release_title", "genre", "release_date", "artwork_ai", "artists")
_PERSONAS = {
    "ai persona": vocabulary.SYNTHETIC,
    "synthetic": vocabulary.SYNTHETIC,
    "human using ai": vocabulary.AI_ASSISTED,
    "ai-assisted": vocabulary.AI_ASSISTED,
    "ai assisted": vocabulary.AI_ASSISTED,
    "human": vocabulary.HUMAN,
}
_ARTIST = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")
_PERSONA_WORDS = {vocabulary.SYNTHETIC: "AI persona", vocabulary.AI_ASSISTED: "human using AI"}

EXAMPLE = [
    {
        "upc": "5036012345605",
        "release_title": "Night Shift",
        "genre": "Electronic",
        "release_date": "2026-03-06",
        "artwork_ai": "partly",
        "artists": "Aurora Fields; Nova Lux (AI persona)",
        "isrc": "QZTST2600001",
        "track_title": "Night Shift",
        "position": "1",
        "duration": "3:21",
        "composition": "none",
        "lyrics": "none",
        "vocals": "all",
        "instrumentation": "none",
        "production": "partly",
        "tools": "Suno v4; iZotope Ozone",
        "voice_imitates_real_person": "no",
        "consent_reference": "",
    },
    {
        "upc": "5036012345605",
        "isrc": "QZTST2600002",
        "track_title": "After Hours",
        "position": "2",
        "duration": "4:02",
        **dict.fromkeys(vocabulary.PARTS, "none"),
        "voice_imitates_real_person": "no",
    },
]


@dataclass(frozen=True)
class Problem:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    message: str


class SpreadsheetInvalid(ValidationFailed):
    """The file cannot be imported; ``problems`` says where and why, by row and column."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the spreadsheet")
        self.problems = list(problems)


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ or a control character gets a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") else text


def template_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in NAMES])
    for row in EXAMPLE:
        writer.writerow([safe_cell(row.get(c, "")) for c in NAMES])
    return out.getvalue()


def template_xlsx() -> bytes:
    return workbook.template(NAMES, EXAMPLE)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "utf-16") if data[:2] not in (b"\xff\xfe", b"\xfe\xff") else ("utf-16",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetInvalid([Problem(1, "—", "The file is not UTF-8 text: save it as “CSV UTF-8”.")])


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The data rows as (row number, {column: text}); refuses a file that is not this template's CSV or workbook."""
    if len(data) > MAX_BYTES:
        raise SpreadsheetInvalid([Problem(1, "—", f"The file is over {MAX_BYTES // 2**20} MB; split it.")])
    if workbook.is_workbook(data):
        try:
            return _rows(iter(list(workbook.table(data, max_rows=MAX_ROWS))))
        except workbook.NotAWorkbook as exc:
            raise SpreadsheetInvalid([Problem(1, "—", str(exc))]) from None
    text = _decode(data)
    if "\x00" in text:
        raise SpreadsheetInvalid([Problem(1, "—", "The file holds NUL characters: it is not a CSV file.")])
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _rows(reader)
    except csv.Error as exc:
        raise SpreadsheetInvalid([Problem(reader.line_num, "—", f"The CSV cannot be read: {exc}.")]) from None


def _rows(reader: Iterator[list[str]]) -> list[tuple[int, dict[str, str]]]:
    """The header checked and the data rows read, from a CSV reader or a workbook's rows of text alike."""
    header = [h.strip().lower().replace(" ", "_") for h in next(reader, [])]
    missing = [c for c in NAMES if c not in header]
    if missing:
        raise SpreadsheetInvalid([Problem(1, c, "This column is missing: start from the template.") for c in missing])
    rows = []
    for number, cells in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise SpreadsheetInvalid([Problem(number, "—", f"At most {MAX_ROWS} rows are read at once; split it.")])
        if not any(c.strip() for c in cells):
            continue
        rows.append((number, {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(header)}))
    if not rows:
        raise SpreadsheetInvalid([Problem(2, "—", "The file has no rows under the header.")])
    return rows


# --- one cell at a time -------------------------------------------------------


def _text(value: str, max_len: int, what: str) -> str:
    if not value:
        raise ValueError(f"Give the {what}.")
    if len(value) > max_len:
        raise ValueError(f"At most {max_len} characters.")
    refused = refusal(value)
    if refused is not None:
        raise ValueError(refused)
    return value


def _level(value: str) -> str | None:
    value = value.strip().lower()
    if not value:
        return None
    if value not in vocabulary.LEVELS:
        raise ValueError(
            f"“{value[:40]}” is not a level: write none, partly or all (or leave it blank to answer later)."
        )
    return value


def _artists(value: str) -> list[dict[str, Any]]:
    artists = []
    for piece in value.split(";"):
        piece = " ".join(piece.split())
        if not piece:
            continue
        persona = vocabulary.HUMAN
        m = _ARTIST.match(piece)
        if m and m.group(2).strip().lower() in _PERSONAS:
            piece, persona = m.group(1).strip(), _PERSONAS[m.group(2).strip().lower()]
        artists.append({"name": _text(piece, 255, "artist's name"), "isni": None, "persona": persona})
    if not artists:
        raise ValueError("Give at least one artist.")
    if len(artists) > limits.RELEASE_ARTISTS_MAX:
        raise ValueError(f"At most {limits.RELEASE_ARTISTS_MAX} artists.")
    return artists


def _release_date(value: str) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ValueError("Write the date as YYYY-MM-DD, like 2026-03-06.") from None


def _position(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 999:
        raise ValueError("A whole number from 1 to 999.")
    return int(value)


def _duration(value: str) -> int:
    seconds = services.parse_duration(value)
    if seconds is None:
        raise ValueError("Give the duration, like 3:21 or 201 (seconds); DDEX requires it.")
    return seconds


def _tools(value: str) -> list[str]:
    tools = services.parse_tools(value)
    if len(tools) > limits.TOOLS_MAX:
        raise ValueError(f"At most {limits.TOOLS_MAX} tools.")
    for t in tools:
        _text(t, limits.TOOL_MAX, "tool name")
    return tools


def _yes_no(value: str) -> bool:
    value = value.strip().lower()
    if value in ("", "no", "n", "false", "0"):
        return False
    if value in ("yes", "y", "true", "1"):
        return True
    raise ValueError("Write yes or no.")


# --- the whole file -----------------------------------------------------------------


class _Cells:
    """Collects problems while reading cells: ``cells.get(row, column, parse)`` returns None on a problem."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def get(self, number: int, row: Mapping[str, str], column: str, parse: Any) -> Any:
        try:
            return parse(row.get(column, ""))
        except (ValueError, IdentifierError) as exc:
            self.problems.append(Problem(number, column, str(exc)))
            return None


def _group(rows: Sequence[tuple[int, dict[str, str]]], cells: _Cells) -> dict[str, list[tuple[int, dict[str, str]]]]:
    releases: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in rows:
        upc = cells.get(number, row, "upc", identifiers.normalize_gtin)
        if upc is not None:
            releases.setdefault(upc, []).append((number, row))
    return releases


def _release(upc: str, rows: list[tuple[int, dict[str, str]]], cells: _Cells) -> dict[str, Any] | None:
    before = len(cells.problems)
    first_number, first = rows[0]
    for number, row in rows[1:]:
        for column in RELEASE_COLUMNS:
            if row.get(column) and row[column] != first.get(column):
                cells.problems.append(
                    Problem(
                        number, column, f"Differs from row {first_number} of the same UPC; leave it blank or repeat it."
                    )
                )
    if len(rows) > RELEASE_MAX_TRACKS:
        cells.problems.append(
            Problem(rows[RELEASE_MAX_TRACKS][0], "isrc", f"A release has at most {RELEASE_MAX_TRACKS} tracks.")
        )
    title = cells.get(first_number, first, "release_title", lambda v: _text(v, limits.TITLE_MAX, "release title"))
    genre = cells.get(first_number, first, "genre", lambda v: _text(v, limits.GENRE_MAX, "genre"))
    released = cells.get(first_number, first, "release_date", _release_date)
    artwork = cells.get(first_number, first, "artwork_ai", _level)
    artists = cells.get(first_number, first, "artists", _artists)
    tracks: list[tuple[int, dict[str, Any]]] = []
    ai: dict[str, Any] = {}
    seen_isrc: dict[str, int] = {}
    seen_position: dict[int, int] = {}
    for number, row in rows:
        isrc = cells.get(number, row, "isrc", identifiers.normalize_isrc)
        if isrc is not None and isrc in seen_isrc:
            cells.problems.append(
                Problem(number, "isrc", f"This ISRC is on row {seen_isrc[isrc]} of the same release already.")
            )
        position = cells.get(number, row, "position", _position)
        if position is not None and position in seen_position:
            cells.problems.append(
                Problem(number, "position", f"Position {position} is taken by row {seen_position[position]}.")
            )
        track = {
            "isrc": isrc,
            "title": cells.get(number, row, "track_title", lambda v: _text(v, limits.TITLE_MAX, "track title")),
            "position": position,
            "duration": cells.get(number, row, "duration", _duration),
            "audio_sha256": None,
        }
        parts = {p: cells.get(number, row, p, _level) for p in vocabulary.PARTS}
        tools = cells.get(number, row, "tools", _tools)
        imitates = cells.get(number, row, "voice_imitates_real_person", _yes_no)
        consent = row.get("consent_reference") or None
        if consent is not None:
            consent = cells.get(number, row, "consent_reference", lambda v: _text(v, limits.CONSENT_REFERENCE_MAX, ""))
        if imitates and not consent:
            cells.problems.append(
                Problem(number, "consent_reference", "Required when the voice imitates a real person.")
            )
        if isrc is not None:
            seen_isrc.setdefault(isrc, number)
            ai[isrc] = {
                "parts": parts,
                "tools": tools or [],
                "voice_likeness": {"imitates_real_person": bool(imitates), "consent_reference": consent},
            }
        if position is not None:
            seen_position.setdefault(position, number)
        tracks.append((number, track))
    if len(cells.problems) > before:
        return None
    return {
        "upc": upc,
        "rows": [n for n, _ in rows],
        "artwork": artwork,
        "ai": ai,
        "catalog": {
            "title": title,
            "genre": genre,
            "release_date": released,
            "artwork_ai": artwork,
            "artists": artists,
            "tracks": [t for _, t in tracks],
        },
    }


_FIELD_COLUMNS = {
    "upc": "upc",
    "title": "release_title",
    "genre": "genre",
    "release_date": "release_date",
    "artwork_ai": "artwork_ai",
}
_TRACK_FIELD = re.compile(r"^tracks\[(\d+)\]\.(\w+)")
_TRACK_COLUMNS = {"isrc": "isrc", "title": "track_title", "position": "position", "duration": "duration"}


def _catalog_problems(label: Label, release: Mapping[str, Any], exc: DomainError) -> list[Problem]:
    """A catalog service error on the rows and columns it is about."""
    rows = release["rows"]
    found = []
    for name, errors in (exc.fields or {"": [exc.message]}).items():
        m = _TRACK_FIELD.match(name)
        if m and int(m.group(1)) < len(rows):
            row, column = rows[int(m.group(1))], _TRACK_COLUMNS.get(m.group(2), m.group(2))
        else:
            row, column = rows[0], _FIELD_COLUMNS.get(name, "artists" if name.startswith("artists") else "—")
        found += [Problem(row, column, e if e == exc.message else f"{e} ({exc.message})") for e in errors]
    return found


def _check_with_catalog(label: Label, release: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The release as a batch draft, checked by the catalog service (rolled back): what saving would refuse."""
    catalog = release["catalog"]
    existing = batches.catalog_release(label, release["upc"])
    data: dict[str, Any] = {
        "upc": existing.upc if existing else release["upc"],
        "origin": "spreadsheet",
        "source": f"rows {release['rows'][0]}–{release['rows'][-1]}",
        "mode": "amend" if existing is not None and existing.current_declaration_id else "first",
        "expected_version": drafts.version_of(existing) if existing else 0,
        "artwork": release["artwork"],
        "ai": release["ai"],
        "catalog": catalog,
        "reason": None,
        "changes": [],
        "warnings": [],
    }
    try:
        if existing is None:
            with transaction.atomic():
                release_create(
                    label=label,
                    upc=release["upc"],
                    title=catalog["title"],
                    genre=catalog["genre"],
                    release_date=date.fromisoformat(catalog["release_date"]) if catalog["release_date"] else None,
                    artwork_ai=release["artwork"] or vocabulary.NONE,
                    artists=catalog["artists"],
                    tracks=catalog["tracks"],
                )
                transaction.set_rollback(True)
        else:
            drafts.catalog_check(
                release=existing, catalog={**catalog, "artwork_ai": release["artwork"] or vocabulary.NONE}
            )
    except DomainError as exc:
        return data, _catalog_problems(label, release, exc)
    return data, []


def check(label: Label, data: bytes) -> list[dict[str, Any]]:
    """The batch drafts a spreadsheet describes; raises ``SpreadsheetInvalid`` with every problem found."""
    rows = read_rows(data)
    cells = _Cells()
    grouped = _group(rows, cells)
    if len(grouped) > MAX_RELEASES:
        raise SpreadsheetInvalid([Problem(1, "upc", f"{len(grouped)} releases; at most {MAX_RELEASES} per file.")])
    releases = [r for upc, group in grouped.items() if (r := _release(upc, group, cells)) is not None]
    found = list(cells.problems)
    result = []
    for release in releases:
        draft, problems = _check_with_catalog(label, release)
        found += problems
        result.append(draft)
    if found:
        raise SpreadsheetInvalid(
            sorted(found, key=lambda p: (p.row, NAMES.index(p.column) if p.column in NAMES else -1))
        )
    return result


@transaction.atomic
def import_spreadsheet(*, label: Label, user: Any, data: bytes) -> dict[str, Any]:
    """Check the whole file, then write one batch draft per release (nothing is signed). Same rows again: updated."""
    found = check(label, data)
    created = updated = 0
    for draft in found:
        _, new = batches.draft_put(label=label, user=user, upc=draft["upc"], data=draft)
        created += new
        updated += not new
    return {"created": created, "updated": updated, "upcs": [d["upc"] for d in found]}


def report_csv(exc: SpreadsheetInvalid) -> str:
    """Every problem as CSV (row, column, message), to download next to the page's list; cells a spreadsheet
    would evaluate are written as text (a message may quote the file)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["row", "column", "message"])
    for p in exc.problems:
        writer.writerow([p.row, safe_cell(p.column), safe_cell(p.message)])
    return out.getvalue()


def problems_as_dicts(exc: SpreadsheetInvalid) -> list[dict[str, Any]]:
    return [asdict(p) for p in exc.problems[:MAX_REPORTED]]


def persona_words(persona: str) -> str:
    return _PERSONA_WORDS.get(persona, "")
