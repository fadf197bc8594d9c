"""Untrusted text made safe to print: every control, bidi and separator character becomes a visible escape."""

from __future__ import annotations

import json

import pytest

from provenance.terminal import escape, escape_json


@pytest.mark.parametrize(
    ("char", "shown"),
    [
        ("\x00", "\\x00"),
        ("\x1b", "\\x1b"),
        ("\n", "\\x0a"),
        ("\t", "\\x09"),
        ("\x7f", "\\x7f"),
        ("\x85", "\\x85"),
        ("\x9b", "\\x9b"),
        ("\u061c", "\\u061c"),
        ("\u200f", "\\u200f"),
        ("\u2028", "\\u2028"),
        *((chr(c), f"\\u{c:04x}") for c in range(0x202A, 0x202F)),
        *((chr(c), f"\\u{c:04x}") for c in range(0x2066, 0x206A)),
        ("\ud800", "\\ud800"),
    ],
)
def test_it_escapes_controls_bidi_controls_and_separators(char: str, shown: str) -> None:
    assert escape(f"a{char}b") == f"a{shown}b"


def test_it_leaves_ordinary_text_alone_including_right_to_left_scripts() -> None:
    for text in ("Aurora", "Sigur Rós — Ágætis byrjun", "فيروز", "שלום", "東京", "😀", "back\\slash"):
        assert escape(text) == text


def test_json_output_has_del_escaped_and_still_parses() -> None:
    out = escape_json(json.dumps({"title": "a\x7fb\x1b"}))
    assert "\x7f" not in out and "\x1b" not in out
    assert json.loads(out) == {"title": "a\x7fb\x1b"}
