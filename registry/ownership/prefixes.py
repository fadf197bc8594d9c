"""The rules of identifier prefixes, in one place: parsing what a label types, and what a prefix covers.

- **ISRC registrant prefix** (ISO 3901): country code + registrant code, the first 5
  characters of the compact ISRC: ``GB-AYE`` → ``GBAYE``. An ISRC is covered when it
  starts with it.
- **GS1 company prefix**: 6 to 12 digits, stored as GS1 issues it, in the GTIN-13 form
  (a U.P.C. company prefix ``036000`` is ``0036000``). A UPC/EAN/GTIN is covered when
  its GTIN-13 form (a 12-digit UPC-A with a leading 0; a GTIN-14 without its indicator
  digit) starts with it.

Pure functions, no Django: forms, services and the signing path all read these.
"""

from __future__ import annotations

import re

ISRC, GS1 = "isrc", "gs1"
KINDS = (ISRC, GS1)
KIND_NAMES = {ISRC: "ISRC registrant prefix", GS1: "GS1 company prefix"}
ISRC_PREFIX_LENGTH = 5
GS1_PREFIX_MIN, GS1_PREFIX_MAX = 6, 12
_ISRC_PREFIX = re.compile(r"[A-Z]{2}[A-Z0-9]{3}")
_SEPARATORS = re.compile(r"[\s\-‐‑–.]")


class PrefixError(ValueError):
    """A prefix that is not well formed; the message says what to type."""


def normalize_prefix(kind: str, value: str) -> str:
    """The stored form of a prefix typed by a person, or :class:`PrefixError` saying what is wrong."""
    if not isinstance(value, str):
        raise PrefixError("Type a prefix.")
    text = _SEPARATORS.sub("", value).upper()
    if kind == ISRC:
        text = text.removeprefix("ISRC")
        if not text:
            raise PrefixError("Type the registrant prefix, e.g. GB-AYE.")
        if len(text) == 12:
            raise PrefixError(
                f"That is a whole ISRC. The registrant prefix is its first 5 characters: {text[:2]}-{text[2:5]}."
            )
        if len(text) != ISRC_PREFIX_LENGTH or not _ISRC_PREFIX.fullmatch(text):
            raise PrefixError(
                "An ISRC registrant prefix is a 2-letter country code and a 3-character registrant code, e.g. GB-AYE."
            )
        return text
    if kind == GS1:
        if not text:
            raise PrefixError("Type the GS1 company prefix, e.g. 0614141.")
        if not text.isdigit():
            raise PrefixError("A GS1 company prefix has digits only.")
        if not GS1_PREFIX_MIN <= len(text) <= GS1_PREFIX_MAX:
            raise PrefixError(
                f"A GS1 company prefix has {GS1_PREFIX_MIN} to {GS1_PREFIX_MAX} digits, got {len(text)} "
                "(a whole UPC/EAN has 12 to 14)."
            )
        return text
    raise PrefixError(f"unknown kind of prefix {kind!r}")


LIST_MAX = 20  # prefixes of one kind claimed at once (a label's application)
_LIST_SEPARATORS = re.compile(r"[,;\n]+")


def parse_prefix_list(kind: str, text: str) -> list[str]:
    """Stored forms of the prefixes a person listed (commas, semicolons or lines between), each once, in order.

    :class:`PrefixError` names the first one that is not well formed, or says there are too many.
    """
    found: list[str] = []
    for item in _LIST_SEPARATORS.split(text or ""):
        if not item.strip():
            continue
        try:
            stored = normalize_prefix(kind, item)
        except PrefixError as exc:
            raise PrefixError(f"{item.strip()[:40]}: {exc}") from None
        if stored not in found:
            found.append(stored)
    if len(found) > LIST_MAX:
        raise PrefixError(f"At most {LIST_MAX} prefixes of one kind; claim more once your label is verified.")
    return found


def display_prefix(kind: str, prefix: str) -> str:
    return f"{prefix[:2]}-{prefix[2:]}" if kind == ISRC else prefix


def gtin13(gtin: str) -> str:
    """A compact GTIN (12, 13 or 14 digits) in the 13-digit form GS1 company prefixes are issued for."""
    return gtin.zfill(14)[1:]


def isrc_prefix_of(isrc: str) -> str:
    return isrc[:ISRC_PREFIX_LENGTH]


def covers(kind: str, prefix: str, identifier: str) -> bool:
    """Whether ``prefix`` (stored form) covers a compact ISRC (kind isrc) or GTIN (kind gs1)."""
    if kind == ISRC:
        return isrc_prefix_of(identifier) == prefix
    return gtin13(identifier).startswith(prefix)


def overlap(kind: str, a: str, b: str) -> bool:
    """Two prefixes of one kind cover a common identifier (a GS1 prefix and a longer one inside it)."""
    return a.startswith(b) or b.startswith(a) if kind == GS1 else a == b
