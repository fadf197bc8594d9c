"""Identifier validation and normalisation: ISRC, GTIN (UPC/EAN), ISNI, ISWC, DDEX Party ID.

Every ``normalize_*`` function accepts the forms people type (hyphens, spaces,
lower case, a scheme prefix) and returns the compact canonical form, or raises
:class:`IdentifierError` saying exactly what is wrong.
"""

from __future__ import annotations

import re

from provenance.errors import IdentifierError

_SEPARATORS = re.compile(r"[\s\-.\u2010-\u2015]")
_ALNUM36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _compact(value: object, kind: str, prefix: str = "", length: int = 0) -> str:
    if not isinstance(value, str):
        raise IdentifierError(f"{kind} must be text, not {type(value).__name__}")
    text = _SEPARATORS.sub("", value)
    # Check before upper-casing: "ß".upper() is "SS" and "ﬁ".upper() is "FI".
    if not text.isascii():
        raise IdentifierError(f"{kind} may contain only ASCII letters and digits")
    text = text.upper()
    # A scheme prefix ("ISRC US-SKG-…") is dropped, unless the text already has
    # the identifier's length: "ISRC11900001" is an Icelandic ISRC (IS, RC1).
    if prefix and text.startswith(prefix) and len(text) != length:
        text = text[len(prefix) :].lstrip(":")
    if not text:
        raise IdentifierError(f"{kind} is empty")
    return text


# --- ISRC (ISO 3901) -------------------------------------------------------

ISRC_COMPACT = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}")  # use with fullmatch


def normalize_isrc(value: object) -> str:
    """``us-skg-19-12345`` → ``USSKG1912345`` (ISO 3901: CC XXX YY NNNNN)."""
    if type(value) is str and ISRC_COMPACT.fullmatch(value):
        return value  # already compact (what platforms send in bulk): the checks below would all pass
    text = _compact(value, "ISRC", "ISRC", 12)
    if len(text) != 12:
        raise IdentifierError(f"ISRC must have 12 characters (CC-XXX-YY-NNNNN), got {len(text)}")
    if not text[:2].isalpha():
        raise IdentifierError(f"ISRC must start with a two-letter country code, got {text[:2]!r}")
    if not text[2:5].isalnum():
        raise IdentifierError(f"ISRC registrant code must be 3 letters or digits, got {text[2:5]!r}")
    if not text[5:7].isdigit():
        raise IdentifierError(f"ISRC year must be 2 digits, got {text[5:7]!r}")
    if not text[7:].isdigit():
        raise IdentifierError(f"ISRC designation code must be 5 digits, got {text[7:]!r}")
    assert ISRC_COMPACT.fullmatch(text)
    return text


def format_isrc(isrc: str) -> str:
    """Display form with hyphens: ``US-SKG-19-12345``."""
    return f"{isrc[:2]}-{isrc[2:5]}-{isrc[5:7]}-{isrc[7:]}"


# --- GTIN: UPC-A (12), EAN-13 (13), GTIN-14 (14) -----------------------------


def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for the digits before the check digit."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def normalize_gtin(value: object, kind: str = "UPC/EAN") -> str:
    """Validate a 12-14 digit GTIN (UPC-A, EAN-13, GTIN-14), keeping it as registered."""
    text = _compact(value, kind, "UPC")
    if not text.isdigit():
        raise IdentifierError(f"{kind} may contain only digits")
    if len(text) not in (12, 13, 14):
        raise IdentifierError(f"{kind} must have 12 (UPC-A), 13 (EAN-13) or 14 (GTIN-14) digits, got {len(text)}")
    expected = gtin_check_digit(text[:-1])
    if int(text[-1]) != expected:
        raise IdentifierError(f"{kind} check digit should be {expected}, not {text[-1]}")
    return text


normalize_upc = normalize_gtin


# --- ISNI (ISO 27729, check character ISO 7064 MOD 11-2) ----------------------


def iso7064_mod11_2(body: str) -> str:
    total = 0
    for ch in body:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def normalize_isni(value: object) -> str:
    """``0000 0001 2146 438X`` → ``000000012146438X``."""
    text = _compact(value, "ISNI", "ISNI")
    if len(text) != 16:
        raise IdentifierError(f"ISNI must have 16 characters, got {len(text)}")
    if not text[:15].isdigit():
        raise IdentifierError("ISNI must be 15 digits followed by a check character")
    if not (text[15].isdigit() or text[15] == "X"):
        raise IdentifierError("ISNI check character must be a digit or X")
    expected = iso7064_mod11_2(text[:15])
    if text[15] != expected:
        raise IdentifierError(f"ISNI check character should be {expected}, not {text[15]}")
    return text


def format_isni(isni: str) -> str:
    return " ".join(isni[i : i + 4] for i in range(0, 16, 4))


# --- ISWC (ISO 15707) -------------------------------------------------------


def iswc_check_digit(digits: str) -> int:
    total = 1 + sum((i + 1) * int(d) for i, d in enumerate(digits))
    return (10 - total % 10) % 10


def normalize_iswc(value: object) -> str:
    """``T-034.524.680-1`` → ``T0345246801``."""
    text = _compact(value, "ISWC", "ISWC")
    if len(text) != 11 or text[0] != "T":
        raise IdentifierError("ISWC must be T followed by 10 digits (T-123.456.789-C)")
    if not text[1:].isdigit():
        raise IdentifierError("ISWC must be T followed by 10 digits (T-123.456.789-C)")
    expected = iswc_check_digit(text[1:10])
    if int(text[10]) != expected:
        raise IdentifierError(f"ISWC check digit should be {expected}, not {text[10]}")
    return text


# --- DDEX Party ID (check character ISO 7064 MOD 37-36) -----------------------


def iso7064_mod37_36(body: str) -> str:
    modulus = 36
    product = modulus
    for ch in body:
        product = (product + _ALNUM36.index(ch)) % modulus
        if product == 0:
            product = modulus
        product = (product * 2) % (modulus + 1)
    return _ALNUM36[(modulus + 1 - product) % modulus]


def normalize_dpid(value: object) -> str:
    """``PA-DPIDA-3897722461-G`` → ``PADPIDA3897722461G`` (18 characters)."""
    text = _compact(value, "DDEX Party ID")
    if len(text) != 18:
        raise IdentifierError(f"DDEX Party ID must have 18 characters (PA-DPIDA-NNNNNNNNNN-C), got {len(text)}")
    if not text.startswith("PADPIDA"):
        raise IdentifierError("DDEX Party ID must start with PADPIDA")
    if not text.isalnum():
        raise IdentifierError("DDEX Party ID may contain only letters and digits")
    expected = iso7064_mod37_36(text[:17])
    if text[17] != expected:
        raise IdentifierError(f"DDEX Party ID check character should be {expected}, not {text[17]}")
    return text
