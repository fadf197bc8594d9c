"""provenance.text: the one rule for characters in names, titles and reasons, and the XML writers' guard."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from provenance.text import refusal, xml_safe

XML_FORBIDDEN = [chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)] + ["\ud800", "\udfff", "\ufffe", "\uffff"]


@pytest.mark.parametrize("char", XML_FORBIDDEN + ["\t", "\n", "\r", "\x7f", "\x80", "\x85", "\x9f"], ids=ascii)
def test_it_refuses_every_control_character_surrogate_and_u_fffe_ffff_in_a_name(char):
    assert refusal(f"a{char}b") == f"Contains U+{ord(char):04X} ({_kind(char)}), which is not allowed."


def _kind(char: str) -> str:
    if ord(char) < 0xA0:
        return "a control character"
    return "an unpaired surrogate" if 0xD800 <= ord(char) <= 0xDFFF else "a noncharacter"


def test_multiline_text_may_hold_tab_lf_and_cr_and_nothing_else_of_c0():
    assert refusal("one\r\n\ttwo", multiline=True) is None
    assert refusal("one\x0btwo", multiline=True) is not None
    assert refusal("one\uffff", multiline=True) is not None


@pytest.mark.parametrize(
    "name", ["Café", "\U0001f3b5 Night", "\u202egnos\u202c", "Zero\u200bWidth\ufeff", "\U00020000", "\ufffd", "\u00a0"]
)
def test_it_accepts_ordinary_unicode(name):
    assert refusal(name) is None


def test_the_first_forbidden_character_is_named():
    assert "U+FFFE" in refusal("ok\ufffe then \x01")


@pytest.mark.parametrize("char", XML_FORBIDDEN, ids=ascii)
def test_xml_safe_output_parses_with_a_strict_parser(char):
    safe = xml_safe(f"a{char}b")
    assert safe == "a\ufffdb"
    element = ET.Element("t", {"v": safe})
    element.text = safe
    assert ET.fromstring(ET.tostring(element, encoding="utf-8")).text == "a\ufffdb"


def test_xml_safe_keeps_what_xml_allows():
    kept = "tab\there\nnew\rline \x85 \x7f \ufffd \U0001f3b5 \ufdd0"
    assert xml_safe(kept) == kept
