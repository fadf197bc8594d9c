"""Build, validate and parse the signed statement of docs/protocol.md §1.

A statement is plain JSON data (dicts, lists, str, int, bool, None). The
registry builds it with :func:`build_statement`; anyone parses and checks a
received one with :func:`parse_statement`. Members beyond the protocol's are
documented in docs/protocol.md (``label.verified``, ``release.genre``,
``release.identifiers_verified``, ``tracks[].duration``, ``tracks[].artists``); unknown members are ignored so that later minor
revisions stay readable by this verifier.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from provenance import identifiers, jcs, limits, vocabulary
from provenance.errors import IdentifierError, StatementError

SCHEMA = "ai-disclosure/v1"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_TRACKS = 1000
MAX_TEXT = 1000


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with ``Z`` and whole seconds, the form statements use."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    if not isinstance(text, str) or not _RFC3339_UTC.fullmatch(text):
        raise ValueError(f"{text!r} is not an RFC 3339 UTC timestamp ending in Z")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- validation helpers --------------------------------------------------------


def _obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StatementError("must be an object", path)
    return value


def _member(obj: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in obj:
        raise StatementError(f"missing member {key!r}", path)
    return obj[key]


def _text(value: Any, path: str, *, nullable: bool = False, max_len: int = MAX_TEXT) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise StatementError("must be a string" + (" or null" if nullable else ""), path)
    if not value.strip():
        raise StatementError("must not be blank", path)
    if len(value) > max_len:
        raise StatementError(f"must be at most {max_len} characters", path)
    return value


def _int(value: Any, path: str, *, minimum: int) -> int:
    # bool is a subclass of int in Python; JSON true is not a number.
    if not isinstance(value, int) or isinstance(value, bool):
        raise StatementError("must be a whole number", path)
    if value < minimum:
        raise StatementError(f"must be at least {minimum}", path)
    return value


def _level(value: Any, path: str) -> str:
    if not isinstance(value, str) or value not in vocabulary.LEVELS:
        raise StatementError(f"unknown AI level {value!r} (expected one of: none, partly, all)", path)
    return value


def _ident(func: Callable[[object], str], value: Any, path: str) -> str:
    try:
        normalized = func(value)
    except IdentifierError as exc:
        raise StatementError(str(exc), path) from exc
    if normalized != value:
        raise StatementError(f"must be in compact canonical form {normalized!r}", path)
    return normalized


def _list(value: Any, path: str, *, max_len: int) -> Sequence[Any]:
    if not isinstance(value, list):
        raise StatementError("must be a list", path)
    if len(value) > max_len:
        raise StatementError(f"must have at most {max_len} items", path)
    return value


def validate_statement(statement: Any) -> dict[str, Any]:
    """Check ``statement`` against docs/protocol.md §1; return it or raise :class:`StatementError`."""
    st = _obj(statement, "statement")
    if _member(st, "schema", "statement") != SCHEMA:
        raise StatementError(f"must be {SCHEMA!r}", "schema")
    _text(_member(st, "registry", "statement"), "registry", max_len=255)

    decl = _obj(_member(st, "declaration", "statement"), "declaration")
    decl_id = _member(decl, "id", "declaration")
    if not isinstance(decl_id, str) or not _UUID.fullmatch(decl_id):
        raise StatementError("must be a lower-case UUID", "declaration.id")
    version = _int(_member(decl, "version", "declaration"), "declaration.version", minimum=1)
    if _member(decl, "status", "declaration") not in vocabulary.STATUSES:
        raise StatementError("must be 'active' or 'withdrawn'", "declaration.status")
    supersedes = _member(decl, "supersedes", "declaration")
    reason = _text(_member(decl, "reason", "declaration"), "declaration.reason", nullable=True, max_len=2000)
    if version == 1:
        if supersedes is not None:
            raise StatementError("must be null for version 1", "declaration.supersedes")
        if decl["status"] != vocabulary.STATUS_ACTIVE:
            raise StatementError("version 1 must be 'active'", "declaration.status")
    else:
        if not isinstance(supersedes, str) or not _HEX64.fullmatch(supersedes):
            raise StatementError(
                "must be the lower-case hex leaf hash of the previous version", "declaration.supersedes"
            )
        if reason is None:
            raise StatementError("a reason is required from version 2", "declaration.reason")
    declared_at = _member(decl, "declared_at", "declaration")
    try:
        parse_timestamp(declared_at)
    except ValueError as exc:
        raise StatementError(str(exc), "declaration.declared_at") from exc

    label = _obj(_member(st, "label", "statement"), "label")
    _text(_member(label, "name", "label"), "label.name", max_len=255)
    dpid = _member(label, "dpid", "label")
    if dpid is not None:
        _ident(identifiers.normalize_dpid, dpid, "label.dpid")
    if "verified" in label and not isinstance(label["verified"], bool):
        raise StatementError("must be true or false", "label.verified")
    # Co-signed statements only (docs/protocol.md §14): the label's registry id and the leaf hash of
    # its latest key event when the statement was prepared, which the label's own signature covers.
    if "id" in label:
        _text(label["id"], "label.id", max_len=64)
    if "key_head" in label and (not isinstance(label["key_head"], str) or not _HEX64.fullmatch(label["key_head"])):
        raise StatementError("must be the lower-case hex leaf hash of a label key event", "label.key_head")

    release = _obj(_member(st, "release", "statement"), "release")
    _ident(identifiers.normalize_gtin, _member(release, "upc", "release"), "release.upc")
    _text(_member(release, "title", "release"), "release.title", max_len=500)
    release_date = _member(release, "release_date", "release")
    if release_date is not None:
        if not isinstance(release_date, str) or not _DATE.fullmatch(release_date):
            raise StatementError("must be a date YYYY-MM-DD or null", "release.release_date")
        try:
            date.fromisoformat(release_date)
        except ValueError as exc:
            raise StatementError(f"is not a real date: {exc}", "release.release_date") from exc
    if "genre" in release:
        _text(release["genre"], "release.genre", max_len=limits.GENRE_MAX)
    release_level = _level(_member(release, "contains_ai", "release"), "release.contains_ai")
    artwork = _level(_member(release, "artwork", "release"), "release.artwork")

    artists = _list(_member(st, "artists", "statement"), "artists", max_len=200)
    if not artists:
        raise StatementError("must name at least one artist", "artists")
    for i, artist in enumerate(artists):
        _validate_artist(artist, f"artists[{i}]")

    tracks = _list(_member(st, "tracks", "statement"), "tracks", max_len=MAX_TRACKS)
    if not tracks:
        raise StatementError("must list at least one track", "tracks")
    seen_isrc: set[str] = set()
    seen_pos: set[int] = set()
    track_levels = []
    for i, track in enumerate(tracks):
        track_levels.append(_validate_track(track, f"tracks[{i}]", seen_isrc, seen_pos))

    if "identifiers_verified" in release:
        _validate_identifiers_verified(release["identifiers_verified"], seen_isrc)

    derived_release = vocabulary.release_contains_ai(track_levels, artwork)
    if release_level != derived_release:
        raise StatementError(
            f"is {release_level!r} but its tracks and artwork give {derived_release!r}", "release.contains_ai"
        )
    return st


_MISSING = object()  # a member that is absent: not a value of any type a rule accepts
# Every combination of the five part levels, with the track level vocabulary derives for it.
_TRACK_LEVEL: dict[tuple[object, ...], str] = {
    combo: vocabulary.track_contains_ai(dict(zip(vocabulary.PARTS, combo, strict=True)))
    for combo in itertools.product(vocabulary.LEVELS, repeat=len(vocabulary.PARTS))
}


def _plain_text(value: Any, max_len: int) -> bool:
    # :func:`_text`'s rule as one expression: a str, not blank (str.strip and str.isspace agree on
    # whitespace), not too long. Exact types: a str subclass takes the worded path, which accepts it too.
    return type(value) is str and 0 < len(value) <= max_len and not value.isspace()


def _all_plain_text(values: list[Any], max_len: int) -> bool:
    for value in values:  # a loop, not all(generator): this runs for every track
        if not _plain_text(value, max_len):
            return False
    return True


def _validate_track(track: Any, path: str, seen_isrc: set[str], seen_pos: set[int]) -> str:
    """Check one track in full and return its level; raise :class:`StatementError` naming the first problem.

    A statement has up to :data:`MAX_TRACKS` of these, and verifying a bundle
    runs this on every one, so each member is tested first by one cheap
    expression that only a valid value passes; only a value that fails it
    goes on to the worded check (the helpers above, which build the error's
    path), and that check says what is wrong. So a valid track costs a few
    type tests and dict lookups, and an invalid one gets the same error, in
    the same order, as the worded checks alone would give
    (tests/provenance/test_statement.py compares the two).
    """
    t = track if type(track) is dict else _obj(track, path)
    isrc = t.get("isrc", _MISSING)
    if type(isrc) is not str or not identifiers.ISRC_COMPACT.fullmatch(isrc):
        isrc = _ident(identifiers.normalize_isrc, _member(t, "isrc", path), f"{path}.isrc")
    if isrc in seen_isrc:
        raise StatementError(f"ISRC {isrc} appears twice", f"{path}.isrc")
    seen_isrc.add(isrc)
    if not _plain_text(t.get("title", _MISSING), 500):
        _text(_member(t, "title", path), f"{path}.title", max_len=500)
    pos = t.get("position", _MISSING)
    if type(pos) is not int or pos < 1:
        pos = _int(_member(t, "position", path), f"{path}.position", minimum=1)
    if pos in seen_pos:
        raise StatementError(f"position {pos} appears twice", f"{path}.position")
    seen_pos.add(pos)

    parts = t.get("parts", _MISSING)
    try:
        derived = _TRACK_LEVEL.get(tuple(map(parts.get, vocabulary.PARTS))) if type(parts) is dict else None
    except TypeError:  # an unhashable part value: certainly not a level
        derived = None
    if derived is None:
        parts = _obj(_member(t, "parts", path), f"{path}.parts")
        for part in vocabulary.PARTS:
            _level(_member(parts, part, f"{path}.parts"), f"{path}.parts.{part}")
        derived = vocabulary.track_contains_ai(parts)
    level = t.get("contains_ai", _MISSING)
    if level != derived:
        level = _level(_member(t, "contains_ai", path), f"{path}.contains_ai")
        raise StatementError(f"is {level!r} but its parts give {derived!r}", f"{path}.contains_ai")

    likeness = t.get("voice_likeness", _MISSING)
    if not (
        type(likeness) is dict
        and type(imitates := likeness.get("imitates_real_person")) is bool
        and (consent := likeness.get("consent_reference", _MISSING)) is not _MISSING
        and (_plain_text(consent, MAX_TEXT) if consent is not None else not imitates)
    ):
        likeness = _obj(_member(t, "voice_likeness", path), f"{path}.voice_likeness")
        imitates = _member(likeness, "imitates_real_person", f"{path}.voice_likeness")
        if not isinstance(imitates, bool):
            raise StatementError("must be true or false", f"{path}.voice_likeness.imitates_real_person")
        consent = _text(
            _member(likeness, "consent_reference", f"{path}.voice_likeness"),
            f"{path}.voice_likeness.consent_reference",
            nullable=True,
        )
        if imitates and consent is None:
            raise StatementError(
                "a consent reference is required when the voice imitates a real person",
                f"{path}.voice_likeness.consent_reference",
            )

    tools = t.get("tools", _MISSING)
    if type(tools) is not list or len(tools) > 50 or not _all_plain_text(tools, 200):
        tools = _list(_member(t, "tools", path), f"{path}.tools", max_len=50)
        for j, tool in enumerate(tools):
            _text(tool, f"{path}.tools[{j}]", max_len=200)
    sha = t.get("audio_sha256", _MISSING)
    if sha is not None and (type(sha) is not str or not _HEX64.fullmatch(sha)):
        sha = _member(t, "audio_sha256", path)
        if sha is not None and (not isinstance(sha, str) or not _HEX64.fullmatch(sha)):
            raise StatementError("must be 64 lower-case hex digits or null", f"{path}.audio_sha256")
    duration = t.get("duration")
    if duration is not None and (type(duration) is not int or duration < 0):
        _int(duration, f"{path}.duration", minimum=0)
    if "artists" in t:
        for j, artist in enumerate(_list(t["artists"], f"{path}.artists", max_len=200)):
            _validate_artist(artist, f"{path}.artists[{j}]")
    return derived


def _validate_identifiers_verified(value: Any, isrcs: set[str]) -> None:
    """``release.identifiers_verified`` (project extension): ``{"upc": bool, "isrcs_unverified": [ISRC…]}``.

    The unverified ISRCs are tracks of this statement, each once, in ascending order, so
    that one set of facts has one encoding.
    """
    path = "release.identifiers_verified"
    obj = _obj(value, path)
    if set(obj) != {"upc", "isrcs_unverified"}:
        raise StatementError("must have exactly the members 'upc' and 'isrcs_unverified'", path)
    if not isinstance(obj["upc"], bool):
        raise StatementError("must be true or false", f"{path}.upc")
    unverified = _list(obj["isrcs_unverified"], f"{path}.isrcs_unverified", max_len=MAX_TRACKS)
    for j, isrc in enumerate(unverified):
        if not isinstance(isrc, str) or isrc not in isrcs:
            raise StatementError("must be the ISRC of a track of this statement", f"{path}.isrcs_unverified[{j}]")
    if list(unverified) != sorted(set(unverified)):
        raise StatementError("must be in ascending order, each ISRC once", f"{path}.isrcs_unverified")


def _validate_artist(artist: Any, path: str) -> None:
    a = _obj(artist, path)
    _text(_member(a, "name", path), f"{path}.name", max_len=255)
    isni = _member(a, "isni", path)
    if isni is not None:
        _ident(identifiers.normalize_isni, isni, f"{path}.isni")
    if _member(a, "persona", path) not in vocabulary.PERSONAS:
        raise StatementError("must be 'human', 'ai_assisted' or 'synthetic'", f"{path}.persona")


def parse_statement(data: bytes, *, canonical: bool = False) -> dict[str, Any]:
    """Parse statement bytes strictly (no floats, no duplicate members) and validate them.

    With ``canonical``, also require that ``data`` be exactly the RFC 8785
    form of what it parses to (docs/protocol.md §2), as signed payloads must be:
    pretty-printing, a BOM, ``\\u`` escapes, reordered members or trailing
    whitespace parse to the same value from different bytes.
    """
    try:
        value = jcs.loads(data)
    except ValueError as exc:
        raise StatementError(f"statement is not valid protocol JSON: {exc}") from exc
    if canonical:
        try:
            same = jcs.is_canonical(data, value)
            expected = data if same else jcs.canonicalize(value)
        except ValueError as exc:
            raise StatementError(f"statement has no RFC 8785 canonical form: {exc}") from exc
        if expected != data:
            at = next((i for i, (x, y) in enumerate(zip(data, expected, strict=False)) if x != y), None)
            at = min(len(data), len(expected)) if at is None else at
            raise StatementError(
                f"the payload is not RFC 8785 canonical JSON (it differs from its canonical form at byte {at})"
            )
    return validate_statement(value)


def build_statement(
    *,
    registry: str,
    declaration_id: str,
    version: int,
    status: str,
    supersedes: str | None,
    reason: str | None,
    declared_at: datetime,
    label: Mapping[str, Any],
    release: Mapping[str, Any],
    artists: Sequence[Mapping[str, Any]],
    tracks: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """Assemble a statement, deriving every ``contains_ai``, and validate it.

    ``release`` needs upc, title, release_date (date, str or None) and artwork,
    and may carry genre (written only when given, so statements without one keep their shape)
    and identifiers_verified (``{"upc": bool, "isrcs_unverified": [...]}``, written only when given);
    each track needs isrc, title, position and parts, and may carry
    voice_likeness, tools, audio_sha256, duration and artists.
    """
    built_tracks = []
    for t in sorted(tracks, key=lambda t: t["position"]):
        parts = {p: t["parts"][p] for p in vocabulary.PARTS}
        likeness = t.get("voice_likeness") or {}
        entry: dict[str, Any] = {
            "isrc": t["isrc"],
            "title": t["title"],
            "position": t["position"],
            "contains_ai": vocabulary.track_contains_ai(parts),
            "parts": parts,
            "voice_likeness": {
                "imitates_real_person": bool(likeness.get("imitates_real_person", False)),
                "consent_reference": likeness.get("consent_reference") or None,
            },
            "tools": list(t.get("tools") or []),
            "audio_sha256": t.get("audio_sha256") or None,
            "duration": t.get("duration"),
        }
        if t.get("artists"):
            entry["artists"] = [_artist(a) for a in t["artists"]]
        built_tracks.append(entry)
    release_date = release.get("release_date")
    if isinstance(release_date, date):
        release_date = release_date.isoformat()
    built_release: dict[str, Any] = {
        "upc": release["upc"],
        "title": release["title"],
        "release_date": release_date,
        "contains_ai": vocabulary.release_contains_ai((t["contains_ai"] for t in built_tracks), release["artwork"]),
        "artwork": release["artwork"],
    }
    if release.get("genre"):
        built_release["genre"] = release["genre"]
    if release.get("identifiers_verified") is not None:
        checked = release["identifiers_verified"]
        built_release["identifiers_verified"] = {
            "upc": checked["upc"],
            "isrcs_unverified": sorted(set(checked["isrcs_unverified"])),
        }
    statement = {
        "schema": SCHEMA,
        "registry": registry,
        "declaration": {
            "id": declaration_id,
            "version": version,
            "status": status,
            "supersedes": supersedes,
            "reason": reason or None,
            "declared_at": format_timestamp(declared_at),
        },
        "label": _label(label),
        "release": built_release,
        "artists": [_artist(a) for a in artists],
        "tracks": built_tracks,
    }
    return validate_statement(statement)


def _label(label: Mapping[str, Any]) -> dict[str, Any]:
    built = {"name": label["name"], "dpid": label.get("dpid") or None, "verified": bool(label.get("verified"))}
    # Written only for a co-signed statement, so registry-only statements keep their shape.
    if label.get("key_head"):
        built["id"] = str(label["id"])
        built["key_head"] = label["key_head"]
    return built


def _artist(a: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": a["name"], "isni": a.get("isni") or None, "persona": a["persona"]}


def statement_bytes(statement: Mapping[str, Any]) -> bytes:
    """The canonical bytes that get signed."""
    return jcs.canonicalize(statement)
