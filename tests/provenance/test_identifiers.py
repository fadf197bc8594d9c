"""ISRC, GTIN, ISNI, ISWC and DDEX Party ID: known answers, specific errors and round trips."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provenance import identifiers as ids
from provenance.errors import IdentifierError

DIGITS = "0123456789"
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.mark.parametrize(
    ("func", "typed", "compact"),
    [
        (ids.normalize_isrc, "us-skg-19-12345", "USSKG1912345"),
        (ids.normalize_isrc, "ISRC: GB-AYE-04-01234", "GBAYE0401234"),
        (ids.normalize_gtin, "0 36000 29145 2", "036000291452"),  # the classic UPC-A example
        (ids.normalize_gtin, "400-6381-333931", "4006381333931"),  # EAN-13
        (ids.normalize_gtin, "UPC 00036000291452", "00036000291452"),  # GTIN-14
        (ids.normalize_isni, "0000 0001 2146 438x", "000000012146438X"),
        (ids.normalize_iswc, "T-034.524.680-1", "T0345246801"),  # the ISWC agency's example
        (ids.normalize_dpid, "PA-DPIDA-2011072101-T", "PADPIDA2011072101T"),  # a real DPID (Spotify)
        (ids.normalize_dpid, "padpida2013020802i", "PADPIDA2013020802I"),  # a real DPID (YouTube)
    ],
)
def test_it_normalizes_what_people_type_to_the_compact_form(func, typed: str, compact: str) -> None:
    assert func(typed) == compact
    assert func(compact) == compact


@pytest.mark.parametrize(
    ("func", "value", "message"),
    [
        (ids.normalize_gtin, "036000291453", "check digit should be 2, not 3"),
        (ids.normalize_gtin, "4006381333937", "check digit should be 1, not 7"),
        (ids.normalize_gtin, "03600029145", "must have 12 (UPC-A), 13 (EAN-13) or 14 (GTIN-14) digits, got 11"),
        (ids.normalize_gtin, "03600029145A", "may contain only digits"),
        (ids.normalize_isrc, "USSKG191234", "must have 12 characters"),
        (ids.normalize_isrc, "1SSKG1912345", "two-letter country code, got '1S'"),
        (ids.normalize_isrc, "USSKGA912345", "year must be 2 digits, got 'A9'"),
        (ids.normalize_isrc, "USSKG19A2345", "designation code must be 5 digits"),
        (ids.normalize_isrc, "US$KG1912345", "registrant code must be 3 letters or digits"),
        (ids.normalize_isni, "0000000121464381", "check character should be X, not 1"),
        (ids.normalize_isni, "00000001214643", "must have 16 characters"),
        (ids.normalize_iswc, "T0345246802", "check digit should be 1, not 2"),
        (ids.normalize_iswc, "X0345246801", "must be T followed by 10 digits"),
        (ids.normalize_dpid, "PADPIDA2011072101X", "check character should be T, not X"),
        (ids.normalize_dpid, "PADPIDB2011072101T", "must start with PADPIDA"),
        (ids.normalize_isrc, "", "ISRC is empty"),
        (ids.normalize_isrc, 12, "ISRC must be text, not int"),
        (ids.normalize_isrc, "ÜSSKG1912345", "only ASCII"),
    ],
)
def test_it_says_exactly_what_is_wrong(func, value: object, message: str) -> None:
    with pytest.raises(IdentifierError, match=re.escape(message)):
        func(value)


@pytest.mark.parametrize("value", ["ußkg1912345", "uskg19123ﬁ", "ＵＳＳＫＧ１９１２３４５"])
def test_it_rejects_non_ascii_letters_that_upper_case_into_ascii(value: str) -> None:
    # "ß".upper() == "SS": such input must not turn into a valid-looking ISRC.
    with pytest.raises(IdentifierError, match="only ASCII"):
        ids.normalize_isrc(value)


def test_format_isrc_and_format_isni_give_the_display_forms() -> None:
    assert ids.format_isrc("USSKG1912345") == "US-SKG-19-12345"
    assert ids.format_isni("000000012146438X") == "0000 0001 2146 438X"


def _other(chars: str, right: str, pick: int) -> str:
    choices = [c for c in chars if c != right]
    return choices[pick % len(choices)]


def _mangle(text: str, lower: bool, sep: str) -> str:
    text = text.lower() if lower else text
    return sep.join(text[i : i + 3] for i in range(0, len(text), 3))


SEP = st.sampled_from(["", "-", " ", ".", "\u2010"])


@given(
    st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=2, max_size=2),
    st.text(st.sampled_from(ALNUM), min_size=3, max_size=3),
    st.text(st.sampled_from(DIGITS), min_size=7, max_size=7),
    st.booleans(),
    SEP,
)
def test_isrcs_round_trip_through_their_display_forms(cc: str, reg: str, rest: str, lower: bool, sep: str) -> None:
    isrc = cc + reg + rest
    assert ids.normalize_isrc(isrc) == isrc
    assert ids.normalize_isrc(ids.format_isrc(isrc).lower() if lower else ids.format_isrc(isrc)) == isrc
    assert ids.normalize_isrc(_mangle(isrc, lower, sep)) == isrc


@given(st.sampled_from([11, 12, 13]), st.data(), SEP, st.integers(0, 100))
def test_gtins_round_trip_and_a_wrong_check_digit_names_the_right_one(
    n: int, data: st.DataObject, sep: str, pick: int
) -> None:
    body = data.draw(st.text(st.sampled_from(DIGITS), min_size=n, max_size=n))
    check = str(ids.gtin_check_digit(body))
    assert ids.normalize_gtin(_mangle(body + check, False, sep)) == body + check
    wrong = _other(DIGITS, check, pick)
    with pytest.raises(IdentifierError, match=f"check digit should be {check}, not {wrong}"):
        ids.normalize_gtin(body + wrong)


@given(st.text(st.sampled_from(DIGITS), min_size=15, max_size=15), st.booleans(), SEP, st.integers(0, 100))
def test_isnis_round_trip_and_a_wrong_check_character_names_the_right_one(
    body: str, lower: bool, sep: str, pick: int
) -> None:
    isni = body + ids.iso7064_mod11_2(body)
    assert ids.normalize_isni(ids.format_isni(isni)) == isni
    assert ids.normalize_isni(_mangle(isni, lower, sep)) == isni
    wrong = _other(DIGITS + "X", isni[-1], pick)
    with pytest.raises(IdentifierError, match=f"check character should be {isni[-1]}, not {wrong}"):
        ids.normalize_isni(body + wrong)


@given(st.text(st.sampled_from(DIGITS), min_size=9, max_size=9), st.booleans(), st.integers(0, 100))
def test_iswcs_round_trip_and_a_wrong_check_digit_names_the_right_one(body: str, lower: bool, pick: int) -> None:
    check = str(ids.iswc_check_digit(body))
    typed = f"T-{body[:3]}.{body[3:6]}.{body[6:]}-{check}"
    assert ids.normalize_iswc(typed.lower() if lower else typed) == f"T{body}{check}"
    wrong = _other(DIGITS, check, pick)
    with pytest.raises(IdentifierError, match=f"check digit should be {check}, not {wrong}"):
        ids.normalize_iswc(f"T{body}{wrong}")


@given(st.text(st.sampled_from(DIGITS), min_size=10, max_size=10), st.booleans(), st.integers(0, 100))
def test_dpids_round_trip_and_a_wrong_check_character_names_the_right_one(body: str, lower: bool, pick: int) -> None:
    check = ids.iso7064_mod37_36("PADPIDA" + body)
    typed = f"PA-DPIDA-{body}-{check}"
    assert ids.normalize_dpid(typed.lower() if lower else typed) == f"PADPIDA{body}{check}"
    wrong = _other(ALNUM, check, pick)
    with pytest.raises(IdentifierError, match=f"check character should be {check}, not {wrong}"):
        ids.normalize_dpid(f"PADPIDA{body}{wrong}")


@given(st.text(st.sampled_from(DIGITS), min_size=11, max_size=11), st.integers(0, 10), st.integers(1, 9))
def test_a_gtin_check_digit_catches_every_single_digit_error(body: str, position: int, delta: int) -> None:
    good = body + str(ids.gtin_check_digit(body))
    digits = list(good)
    digits[position] = str((int(digits[position]) + delta) % 10)
    with pytest.raises(IdentifierError, match="check digit should be"):
        ids.normalize_gtin("".join(digits))


def test_a_scheme_prefix_is_dropped_only_when_it_is_not_part_of_the_code() -> None:
    assert ids.normalize_isrc("ISRC11900001") == "ISRC11900001"  # Iceland, registrant RC1
    assert ids.normalize_isrc("ISRC: IS-RC1-19-00001") == "ISRC11900001"
    assert ids.normalize_isrc("isrc USSKG1912345") == "USSKG1912345"
