"""Prefix rules (registry/ownership/prefixes.py): what a label may type, what a prefix covers."""

from __future__ import annotations

import pytest

from registry.ownership import prefixes
from registry.ownership.prefixes import GS1, ISRC, PrefixError


@pytest.mark.parametrize("typed", ["GB-AYE", "gbaye", "GB AYE", " gb-aye ", "ISRC GB-AYE"])
def test_isrc_prefixes_are_stored_compact(typed):
    assert prefixes.normalize_prefix(ISRC, typed) == "GBAYE"
    assert prefixes.display_prefix(ISRC, "GBAYE") == "GB-AYE"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("GB-AYE-25-00001", "That is a whole ISRC. The registrant prefix is its first 5 characters: GB-AYE."),
        ("G1AYE", "2-letter country code"),
        ("GBAY", "2-letter country code"),
        ("", "e.g. GB-AYE"),
    ],
)
def test_malformed_isrc_prefixes_say_what_to_type(typed, says):
    with pytest.raises(PrefixError, match=says.replace(".", r"\.")):
        prefixes.normalize_prefix(ISRC, typed)


@pytest.mark.parametrize(
    ("typed", "says"),
    [("12345", "6 to 12 digits, got 5"), ("0360002914521", "got 13"), ("03600A", "digits only"), ("", "e.g.")],
)
def test_malformed_gs1_prefixes_say_what_to_type(typed, says):
    with pytest.raises(PrefixError, match=says):
        prefixes.normalize_prefix(GS1, typed)


def test_gs1_prefixes_cover_upc_ean_and_gtin14_through_the_gtin13_form():
    assert prefixes.normalize_prefix(GS1, "0036-000") == "0036000"
    assert prefixes.covers(GS1, "0036000", "036000291452")  # UPC-A: a leading 0 in GTIN-13 form
    assert prefixes.covers(GS1, "0036000", "0036000291452")  # EAN-13
    assert prefixes.covers(GS1, "0036000", "10036000291459")  # GTIN-14: indicator digit dropped
    assert not prefixes.covers(GS1, "0036001", "036000291452")
    assert prefixes.overlap(GS1, "003600", "0036000") and not prefixes.overlap(GS1, "0036001", "0036000")


def test_isrc_prefixes_cover_exactly_their_registrant():
    assert prefixes.covers(ISRC, "GBAYE", "GBAYE2500001")
    assert not prefixes.covers(ISRC, "GBAYE", "GBAYF2500001")
