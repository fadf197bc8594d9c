"""RFC 8785 canonical JSON: the standard's own examples, rejections, and equality with the rfc8785 package."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance import jcs
from provenance.errors import CanonicalizationError
from provenance.statement import build_statement, statement_bytes
from tests.provenance import factory

MAX_SAFE = 2**53 - 1

# Any code point except lone surrogates (not valid I-JSON): controls, astral characters, U+2028 ...
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE, MAX_SAFE) | TEXT,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(TEXT, children, max_size=5),
    max_leaves=30,
)


def test_it_matches_the_rfc_8785_sample_without_its_numbers() -> None:
    # RFC 8785 §3.2.2 input, minus the "numbers" member (the protocol has no floats).
    source = '{\n  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}'
    expected = '{"literals":[null,true,false],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'.encode()
    assert jcs.canonicalize(json.loads(source)) == expected
    assert jcs.canonicalize(jcs.loads(source)) == expected
    assert rfc8785.dumps(json.loads(source)) == expected


def test_it_sorts_keys_by_utf16_code_units_as_rfc_8785_section_3_2_3_shows() -> None:
    source = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    out = jcs.canonicalize(source)
    assert list(json.loads(out)) == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert out == rfc8785.dumps(source)
    # The astral character sorts before U+FB33 (surrogate D83D < FB33), unlike code-point order.
    assert sorted(source) != list(json.loads(out))


def test_it_escapes_controls_in_lower_case_hex_and_leaves_other_characters_alone() -> None:
    assert (
        jcs.canonicalize("\x00\x1f\x7f\u2028é😀\b\f\n\r\t") == '"\\u0000\\u001f\x7f\u2028é😀\\b\\f\\n\\r\\t"'.encode()
    )


@pytest.mark.parametrize(
    "value",
    [1.5, 0.0, float("nan"), 2**53, -(2**53), {"a": [1, {"b": 1.0}]}, {1: "x"}, {"ok": {None: 1}}, b"bytes", object()],
)
def test_it_rejects_values_without_a_protocol_json_form(value: object) -> None:
    with pytest.raises(CanonicalizationError):
        jcs.canonicalize(value)


def test_it_accepts_the_largest_safe_integers() -> None:
    assert jcs.canonicalize([MAX_SAFE, -MAX_SAFE]) == b"[9007199254740991,-9007199254740991]"


def test_it_rejects_lone_surrogates() -> None:
    with pytest.raises(CanonicalizationError, match="lone surrogate"):
        jcs.canonicalize({"k": "\ud800"})


def test_it_rejects_deep_nesting_as_a_canonicalization_error() -> None:
    value: list = []
    for _ in range(5000):
        value = [value]
    with pytest.raises(CanonicalizationError, match="nested"):
        jcs.canonicalize(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1.5}', "floats are not allowed"),
        ('{"a": 1e3}', "floats are not allowed"),
        ('{"a": NaN}', "NaN is not valid JSON"),
        ('{"a": Infinity}', "Infinity is not valid JSON"),
        ('{"a": 1, "a": 2}', "duplicate object member 'a'"),
        ('{"a": {"b": 1, "b": 1}}', "duplicate object member 'b'"),
        ('{"a": ', "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_loads_rejects_what_protocol_json_forbids(text: str | bytes, message: str) -> None:
    with pytest.raises(CanonicalizationError, match=message):
        jcs.loads(text)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_it_is_byte_identical_to_the_rfc8785_package_on_generated_values(value: object) -> None:
    assert jcs.canonicalize(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_canonical_length_is_the_length_of_the_canonical_bytes(value: object) -> None:
    assert jcs.canonical_length(value) == len(jcs.canonicalize(value))


def test_canonical_length_counts_utf8_bytes_and_escapes_whatever_the_member_order() -> None:
    value = {"\U0001f600": "\n", "\ue000": ["é", 1, None, True]}  # members whose two orders differ
    assert jcs.canonical_length(value) == len(jcs.canonicalize(value))


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_loads_inverts_canonicalize(value: object) -> None:
    assert jcs.loads(jcs.canonicalize(value)) == value


LEVEL = st.sampled_from(["none", "partly", "all"])
PARTS = st.fixed_dictionaries({p: LEVEL for p in ("composition", "lyrics", "vocals", "instrumentation", "production")})
TITLE = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(str.strip)


@st.composite
def statements(draw: st.DrawFn) -> dict:
    n = draw(st.integers(1, 6))
    tracks = [
        {
            "isrc": factory.isrc(i),
            "title": draw(TITLE),
            "position": i,
            "parts": draw(PARTS),
            "tools": draw(st.lists(TITLE, max_size=3)),
            "duration": draw(st.none() | st.integers(0, 10_000)),
            "voice_likeness": draw(
                st.sampled_from([{}, {"imitates_real_person": True, "consent_reference": "contract 2025/17"}])
            ),
        }
        for i in range(1, n + 1)
    ]
    return build_statement(
        registry=factory.ORIGIN,
        declaration_id=str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),
        version=1,
        status="active",
        supersedes=None,
        reason=None,
        declared_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 10**8))),
        label={"name": draw(TITLE), "dpid": None, "verified": draw(st.booleans())},
        release={
            "upc": factory.upc(draw(st.integers(0, 10**9))),
            "title": draw(TITLE),
            "release_date": None,
            "artwork": draw(LEVEL),
        },
        artists=[{"name": draw(TITLE), "persona": draw(st.sampled_from(["human", "ai_assisted", "synthetic"]))}],
        tracks=tracks,
    )


@settings(max_examples=100, deadline=None)
@given(statements())
def test_statement_bytes_are_byte_identical_to_the_rfc8785_package(statement: dict) -> None:
    assert statement_bytes(statement) == rfc8785.dumps(statement)
    assert jcs.loads(statement_bytes(statement)) == statement


ENVELOPE_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",)), max_size=60
)


@given(
    payload=ENVELOPE_TEXT,
    payload_type=ENVELOPE_TEXT,
    signatures=st.lists(
        st.dictionaries(st.sampled_from(["keyid", "sig"]), ENVELOPE_TEXT, max_size=2),
        max_size=3,
    ),
)
@settings(max_examples=300)
def test_the_envelope_fast_path_is_byte_identical_to_rfc8785(payload: str, payload_type: str, signatures: list) -> None:
    envelope = {"payload": payload, "payloadType": payload_type, "signatures": signatures}
    assert jcs.canonicalize_envelope(envelope) == rfc8785.dumps(envelope)


@pytest.mark.parametrize(
    "envelope",
    [
        {"payload": "a", "payloadType": "t", "signatures": [], "\U0001f600": "astral key"},
        {"payload": "a", "payloadType": "t", "signatures": [{"sig": "s", "extra": 1}]},
        {"payload": "a", "payloadType": "t", "signatures": [{"sig": 5}]},
        {"payload": 1, "payloadType": "t", "signatures": []},
    ],
)
def test_other_envelope_shapes_take_the_general_path(envelope: dict) -> None:
    assert jcs.canonicalize_envelope(envelope) == jcs.canonicalize(envelope) == rfc8785.dumps(envelope)


def test_the_envelope_fast_path_rejects_lone_surrogates() -> None:
    with pytest.raises(CanonicalizationError, match="lone surrogate"):
        jcs.canonicalize_envelope({"payload": "\ud800", "payloadType": "t", "signatures": []})


def _canonical_by_general_path(data: bytes, value: object) -> bool:
    try:
        return jcs.canonicalize(value) == data
    except ValueError:
        return False


@given(JSON_VALUES, st.sampled_from(["canonical", "reencoded", "spaced"]))
@settings(max_examples=400)
def test_is_canonical_agrees_with_the_general_path(value: object, form: str) -> None:
    """The C-encoder shortcut decides exactly as comparing with canonicalize() does, on canonical and other bytes."""
    if form == "canonical":
        data = jcs.canonicalize(value)
    elif form == "reencoded":
        data = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
            "utf-8", "surrogatepass"
        )
    else:
        data = json.dumps(value, ensure_ascii=True, indent=1).encode()
    try:
        parsed = jcs.loads(data)
    except ValueError:
        return
    try:
        decided = jcs.is_canonical(data, parsed)
    except ValueError:
        decided = False
    assert decided == _canonical_by_general_path(data, parsed)


@pytest.mark.parametrize(
    "data",
    [
        b'{"\\ue000":1,"\\ud800\\udc00":2}',  # escaped: not canonical either way
        json.dumps({"\ue000": 1, "\U00010000": 2}, ensure_ascii=False, separators=(",", ":")).encode(),  # UTF-16 order
        json.dumps({"\U00010000": 2, "\ue000": 1}, ensure_ascii=False, separators=(",", ":")).encode(),  # code points
        b'{"n":9007199254740991}',  # the largest exact integer
    ],
)
def test_is_canonical_takes_the_general_path_where_order_or_range_matter(data: bytes) -> None:
    parsed = jcs.loads(data)
    try:
        decided = jcs.is_canonical(data, parsed)
    except ValueError:
        decided = False
    assert decided == _canonical_by_general_path(data, parsed)


def test_loads_refuses_integers_beyond_the_exact_range() -> None:
    """They have no RFC 8785 form; refusing them at parse time lets is_canonical trust the C encoder."""
    with pytest.raises(CanonicalizationError, match="beyond"):
        jcs.loads(b'{"n":9007199254740993}')
