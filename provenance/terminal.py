"""Make untrusted text safe to print on a terminal: what the CLI shows of a bundle can draw nothing.

A statement's titles and names, a checkpoint note or an error message quoting
them come from whoever handed over the file. Printed raw, ``\\x1b[2J`` clears
the screen and ``\\x1b[32mVALID`` draws a green verdict the verifier never gave;
a newline starts a line of its own; a bidi override (U+202E) shows characters
in another order than they are. :func:`escape` writes every such character as
a visible escape, so the printed text is one line that reads as it is.
"""

from __future__ import annotations

import re

# C0 controls (newline and tab included: a value must not start a line of its own), DEL and C1;
# the Unicode bidi controls (UAX #9: ALM, LRM, RLM, the embeddings and overrides U+202A-U+202E,
# the isolates U+2066-U+2069); the line and paragraph separators; lone surrogates (unprintable).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: object) -> str:
    """``text`` with every control, bidi and separator character written as ``\\xNN`` or ``\\uNNNN``."""
    return _UNSAFE.sub(_escape_one, str(text))


def escape_json(text: str) -> str:
    """JSON from ``json.dumps(ensure_ascii=True)`` escapes all of the above except DEL: escape it too."""
    return text.replace("\x7f", "\\u007f")
