"""Every parser that reads outside input fails only with its own documented error, whatever the input.

Hypothesis feeds arbitrary text, bytes and JSON-like values, plus structured
mutations of valid inputs (a real signed bundle, a real checkpoint, the ERN
files in tests/data/ern), to the identifier normalizers, the statement,
checkpoint and JCS parsers, the bundle verifier and the ERN reader. Any other
exception type (KeyError, TypeError, RecursionError, UnicodeError …) would be
a 500 in the registry or a crash in a platform's verifier. Example counts are
fixed and derandomized so CI is repeatable; ``EXAMPLES`` is what
docs/reliability.md reports.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance import identifiers, jcs
from provenance.bundle import MEDIA_TYPE, Verifier
from provenance.checkpoint import parse_checkpoint
from provenance.errors import (
    CanonicalizationError,
    IdentifierError,
    ProvenanceError,
    StatementError,
    VerificationError,
)
from provenance.statement import parse_statement, statement_bytes
from registry.errors import DomainError
from registry.labels.ern import parse_ern
from tests.provenance import factory

ERN_DIR = Path(__file__).resolve().parents[1] / "data" / "ern"
VALID_ERN = [
    (ERN_DIR / name).read_bytes()
    for name in (
        "single-43.xml",
        "mixed-ai-432.xml",
        "contributors-432.xml",
        "multi-disc-gtin14-432.xml",
        "utf16-432.xml",
    )
]
EXAMPLES = {
    "identifiers": 1000,  # per normalizer, 5 normalizers
    "statement_bytes": 1000,
    "statement_mutations": 1500,
    "checkpoint": 1000,
    "checkpoint_mutations": 1000,
    "bundle_arbitrary": 1000,
    "bundle_mutations": 2500,
    "jcs": 1000,
    "jcs_canonicalize": 500,
    "ern_bytes": 1000,
    "ern_mutations": 2000,
}
FUZZ = {
    "derandomize": True,
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

# JSON-like values, lone surrogates and huge integers included (they are what hurts).
TEXT = st.text(max_size=40)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT | st.binary(max_size=8).map(repr)
JSONISH = st.recursive(
    SCALARS, lambda kids: st.lists(kids, max_size=5) | st.dictionaries(TEXT, kids, max_size=5), max_leaves=25
)
ANY_INPUT = JSONISH | st.binary(max_size=200) | st.tuples(st.integers()) | st.sets(st.integers(), max_size=3)

REGISTRY = factory.registry_with_log(5)
JWKS = REGISTRY.jwks()
BUNDLE = REGISTRY.bundle(2)
CHECKPOINT = REGISTRY.checkpoint()
STATEMENT = factory.statement()


def test_the_fixtures_are_valid_to_begin_with():
    assert Verifier.from_jwks(JWKS).verify(BUNDLE).valid
    parse_checkpoint(CHECKPOINT)
    parse_statement(statement_bytes(STATEMENT))
    for data in VALID_ERN:
        assert parse_ern(data)["tracks"]


# --- identifiers ---------------------------------------------------------------------------------

NORMALIZERS = [
    identifiers.normalize_isrc,
    identifiers.normalize_gtin,
    identifiers.normalize_isni,
    identifiers.normalize_iswc,
    identifiers.normalize_dpid,
]
IDENTIFIER_LIKE = st.from_regex(r"\A[A-Za-z0-9 \-.\u00a0\u0660-\u0669\uff10-\uff19]{0,20}\Z") | ANY_INPUT


@pytest.mark.parametrize("normalize", NORMALIZERS, ids=lambda f: f.__name__)
@settings(max_examples=EXAMPLES["identifiers"], **FUZZ)
@given(value=IDENTIFIER_LIKE)
def test_identifier_normalizers_raise_only_identifier_error(normalize, value):
    try:
        out = normalize(value)
    except IdentifierError:
        return
    assert isinstance(out, str) and out.isascii() and out.isalnum()
    assert normalize(out) == out  # normalizing is idempotent


# --- statements ----------------------------------------------------------------------------------


def _statement_errors(data: Any) -> None:
    try:
        parse_statement(data)
    except StatementError:
        pass
    except ProvenanceError as exc:  # pragma: no cover - allowed by the brief, but say so if it ever happens
        pytest.fail(f"parse_statement raised {type(exc).__name__}, not StatementError: {exc}")


@settings(max_examples=EXAMPLES["statement_bytes"], **FUZZ)
@given(
    data=st.binary(max_size=300)
    | TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))
    | JSONISH.map(lambda v: json.dumps(v).encode())
)
def test_parse_statement_raises_only_statement_error_on_arbitrary_bytes(data):
    _statement_errors(data)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a member or item in a JSON value (the root excluded)."""
    out = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


def _mutate(value: Any, data: Any, *, exclude: tuple[str, ...] = ()) -> Any:
    """One structured mutation: drop a member, replace a value, edit a string or nudge a number."""
    mutated = copy.deepcopy(value)
    paths = [p for p in _paths(mutated) if not any(x in p for x in exclude)]
    path = data.draw(st.sampled_from(paths), label="path")
    parent = mutated
    for key in path[:-1]:
        parent = parent[key]
    key, old = path[-1], parent[path[-1]]
    ops = ["replace", "delete"]
    if isinstance(old, str) and old:
        ops.append("edit")
    if isinstance(old, int) and not isinstance(old, bool):
        ops.append("nudge")
    op = data.draw(st.sampled_from(ops), label="op")
    if op == "delete":
        del parent[key]
    elif op == "replace":
        parent[key] = data.draw(JSONISH, label="new value")
    elif op == "edit":
        i = data.draw(st.integers(0, len(old) - 1), label="at")
        piece = data.draw(st.text(max_size=3), label="piece")
        how = data.draw(st.sampled_from(["swap", "insert", "cut"]), label="how")
        parent[key] = (
            old[:i] + piece + old[i + 1 :]
            if how == "swap"
            else old[:i] + piece + old[i:]
            if how == "insert"
            else old[:i]
        )
    else:
        parent[key] = old + data.draw(st.sampled_from([-1, 1, 2**31, -(2**63), 2**64]), label="delta")
    return mutated


@settings(max_examples=EXAMPLES["statement_mutations"], **FUZZ)
@given(data=st.data())
def test_parse_statement_raises_only_statement_error_on_mutated_statements(data):
    mutated = _mutate(STATEMENT, data)
    try:
        raw = jcs.canonicalize(mutated)
    except CanonicalizationError:
        raw = json.dumps(mutated, allow_nan=True).encode("utf-8", "surrogatepass")
    _statement_errors(raw)


# --- checkpoints ---------------------------------------------------------------------------------


def _edit_text(text: str, data: Any) -> str:
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        i = data.draw(st.integers(0, len(text)), label="at")
        j = data.draw(st.integers(i, min(len(text), i + 8)), label="to")
        text = text[:i] + data.draw(st.sampled_from(["", "\n", " ", "—", "+", "=", "A", "0", "\x00"]) | TEXT) + text[j:]
    return text


@settings(max_examples=EXAMPLES["checkpoint"], **FUZZ)
@given(text=ANY_INPUT | TEXT.map(lambda t: f"{t}\n1\n{t}\n\n— {t} {t}\n"))
def test_parse_checkpoint_raises_only_verification_error_on_arbitrary_input(text):
    try:
        parse_checkpoint(text)
    except VerificationError:
        pass


@settings(max_examples=EXAMPLES["checkpoint_mutations"], **FUZZ)
@given(data=st.data())
def test_parse_checkpoint_raises_only_verification_error_on_mutated_notes(data):
    text = _edit_text(CHECKPOINT, data)
    try:
        cp = parse_checkpoint(text)
    except VerificationError:
        return
    key = next(k for k in Verifier.from_jwks(JWKS).keys.of_purpose("checkpoint"))
    try:
        cp.verify(key)
    except VerificationError:
        return
    # Still verifies: then it says exactly what the original says (only non-canonical base64 padding bits differ).
    original = parse_checkpoint(CHECKPOINT)
    assert (cp.origin, cp.size, cp.root, cp.body) == (original.origin, original.size, original.root, original.body)


# --- bundles -------------------------------------------------------------------------------------


def _verify(bundle: Any) -> Any:
    # A fresh verifier each time: its checkpoint cache must not decide anything here.
    result = Verifier.from_jwks(JWKS).verify(bundle)
    assert result.checks, "a result always says which check ran"
    return result


@settings(max_examples=EXAMPLES["bundle_arbitrary"], **FUZZ)
@given(
    value=ANY_INPUT
    | st.fixed_dictionaries({"mediaType": st.just(MEDIA_TYPE), "envelope": JSONISH, "log": JSONISH})
    | st.fixed_dictionaries(
        {
            "mediaType": st.just(MEDIA_TYPE),
            "envelope": st.just(BUNDLE["envelope"]),
            "log": st.fixed_dictionaries(
                {
                    "origin": st.just(factory.ORIGIN) | TEXT,
                    "index": st.integers(),
                    "tree_size": st.integers(),
                    "inclusion_proof": st.lists(TEXT | st.just(BUNDLE["log"]["inclusion_proof"][0]), max_size=70),
                    "checkpoint": st.just(CHECKPOINT) | TEXT,
                }
            ),
        }
    )
)
def test_the_verifier_never_raises_and_never_accepts_arbitrary_values(value):
    assert not _verify(value).valid


def _meaning(bundle: dict[str, Any]) -> Any:
    """What a bundle says once base64 is decoded: equal meanings may differ only in unused padding bits."""
    from provenance.encoding import b64decode

    log = bundle["log"]
    return (
        jcs.canonicalize(bundle["envelope"]),
        log["origin"],
        log["index"],
        log["tree_size"],
        [b64decode(h) for h in log["inclusion_proof"]],
        parse_checkpoint(log["checkpoint"]).body,
    )


@settings(max_examples=EXAMPLES["bundle_mutations"], **FUZZ)
@given(data=st.data())
def test_the_verifier_never_raises_and_never_accepts_a_mutated_bundle(data):
    mutated = _mutate(BUNDLE, data)
    if data.draw(st.booleans(), label="twice"):
        mutated = _mutate(mutated, data)
    result = _verify(mutated)
    if result.valid:
        # Only a change that alters nothing the checks read (or only base64 padding bits) may stay valid.
        assert _meaning(mutated) == _meaning(BUNDLE), f"a mutated bundle verified: {json.dumps(mutated)[:400]}"


# --- JCS -----------------------------------------------------------------------------------------


@settings(max_examples=EXAMPLES["jcs"], **FUZZ)
@given(
    data=st.binary(max_size=200)
    | TEXT
    | JSONISH.map(lambda v: json.dumps(v))
    | st.sampled_from(
        [
            '{"a":1,"a":2}',
            "[NaN]",
            "[Infinity]",
            "1e400",
            "9" * 5000,
            '"\\ud800"',
            "[" * 100_000,
            '{"a":' * 5000,
            "\ufeff{}",
        ]
    )
)
def test_jcs_loads_raises_only_canonicalization_error(data):
    try:
        jcs.loads(data)
    except CanonicalizationError:
        pass


@settings(max_examples=EXAMPLES["jcs_canonicalize"], **FUZZ)
@given(value=JSONISH)
def test_jcs_canonicalize_raises_only_canonicalization_error_and_round_trips(value):
    try:
        raw = jcs.canonicalize(value)
    except CanonicalizationError:
        return
    assert jcs.canonicalize(jcs.loads(raw)) == raw


# --- ERN -----------------------------------------------------------------------------------------


def _ern_errors(data: bytes) -> None:
    try:
        parse_ern(data)
    except DomainError as exc:
        assert exc.message and exc.fields.get("file"), "the label sees what is wrong with the file"


@settings(max_examples=EXAMPLES["ern_bytes"], **FUZZ)
@given(
    data=st.binary(max_size=400)
    | TEXT.map(lambda t: f'<?xml version="1.0"?><NewReleaseMessage xmlns="http://ddex.net/xml/ern/43">{t}'.encode())
)
def test_parse_ern_raises_only_the_domain_error_on_arbitrary_bytes(data):
    _ern_errors(data)


_TEXT_NODE = re.compile(rb">([^<>]+)<")
_ELEMENT = re.compile(rb"<(\w+)>.*?</\1>", re.DOTALL)


@settings(max_examples=EXAMPLES["ern_mutations"], **FUZZ)
@given(data=st.data())
def test_parse_ern_raises_only_the_domain_error_on_mutated_ern_files(data):
    raw = data.draw(st.sampled_from(VALID_ERN), label="file")
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        op = data.draw(st.sampled_from(["text", "text", "drop", "duplicate", "bytes", "truncate"]), label="op")
        if op == "text":
            # Replace one text node: reaches the date, duration, ContainsAI, ISRC and sequence readers.
            nodes = list(_TEXT_NODE.finditer(raw))
            if not nodes:
                continue
            m = data.draw(st.sampled_from(nodes), label="node")
            new = escape(data.draw(st.text(max_size=30) | st.sampled_from(["All", "PT99999H", "0", "-1", "9" * 40])))
            raw = raw[: m.start(1)] + new.encode("utf-8", "surrogatepass") + raw[m.end(1) :]
        elif op in ("drop", "duplicate"):
            elements = list(_ELEMENT.finditer(raw))
            if not elements:
                continue
            m = data.draw(st.sampled_from(elements), label="element")
            keep = m.group(0) * 2 if op == "duplicate" else b""
            raw = raw[: m.start()] + keep + raw[m.end() :]
        elif op == "bytes" and raw:
            i = data.draw(st.integers(0, len(raw) - 1), label="at")
            raw = raw[:i] + data.draw(st.binary(min_size=1, max_size=4), label="bytes") + raw[i + 1 :]
        elif op == "truncate":
            raw = raw[: data.draw(st.integers(0, len(raw)), label="length")]
    _ern_errors(raw)
