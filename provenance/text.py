"""Which characters a name, title or reason may hold: the one rule every input uses, and the XML writers' guard.

Refused in every text a label types (:func:`refusal`): C0 controls and DEL, C1
controls, unpaired surrogates, and the noncharacters U+FFFE and U+FFFF. That
covers every code point XML 1.0 forbids (C0 except tab, LF and CR; surrogates;
U+FFFE, U+FFFF), so nothing accepted can make the ERN export or a badge
ill-formed. Multi-line text (a reason, application evidence) may also hold tab,
LF and CR; names and titles are one line and may not.

:func:`xml_safe` is for output: data stored before this rule, or by a door
that bypassed it, is written with each XML-forbidden code point replaced by
U+FFFD, never emitted as is.
"""

from __future__ import annotations

import re

# Names and titles: every control character, surrogates, U+FFFE and U+FFFF.
_FORBIDDEN_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Multi-line text: the same, but tab, LF and CR are allowed.
_FORBIDDEN_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# What XML 1.0 cannot carry at all (its Char production), even escaped.
_FORBIDDEN_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def _kind(code_point: int) -> str:
    if code_point < 0xA0:
        return "a control character"
    if 0xD800 <= code_point <= 0xDFFF:
        return "an unpaired surrogate"
    return "a noncharacter"


def refusal(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` may not be stored (its first forbidden character, named), or None if it may."""
    found = (_FORBIDDEN_IN_TEXT if multiline else _FORBIDDEN_IN_LINE).search(text)
    if found is None:
        return None
    code_point = ord(found.group())
    return f"Contains U+{code_point:04X} ({_kind(code_point)}), which is not allowed."


def xml_safe(text: str) -> str:
    """``text`` with every code point XML 1.0 cannot carry replaced by U+FFFD."""
    return _FORBIDDEN_IN_XML.sub(REPLACEMENT, text)
