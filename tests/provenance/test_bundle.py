"""Bundle verification: a good bundle passes every named check, and each tampering fails at the right one."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from provenance import bundle as b
from provenance.disclosure import summary_of
from provenance.encoding import b64decode, b64encode
from provenance.errors import VerificationError
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import make_bundle, sign_checkpoint, sign_envelope
from provenance.keys import public_jwk
from provenance.statement import statement_bytes
from tests.provenance import factory


@pytest.fixture
def reg() -> factory.Registry:
    return factory.registry_with_log(5)


def _verify(reg: factory.Registry, bundle: Any, jwks: dict | None = None, **question: str) -> b.Result:
    return b.Verifier.from_jwks(jwks or reg.jwks()).verify(bundle, **question)


def _fails_at(result: b.Result, check: str) -> str:
    assert not result.valid
    assert [c.name for c in result.checks] == list(b.CHECKS[: b.CHECKS.index(check) + 1])
    assert result.failed is not None and result.failed.name == check
    return result.failed.detail


def test_a_good_bundle_passes_all_eight_checks_in_order(reg: factory.Registry) -> None:
    result = _verify(reg, reg.bundle(2))
    assert result.valid
    assert [c.name for c in result.checks] == list(b.CHECKS) and len(b.CHECKS) == 8
    assert all(c.ok for c in result.checks)
    assert result.statement is not None and result.statement["release"]["upc"] == factory.upc(3)
    assert result.index == 2 and result.checkpoint is not None and result.checkpoint.size == 5
    assert result.summary().startswith(f"VALID: release {factory.upc(3)} 'Aurora' declaration v1 active")
    assert result.to_dict()["valid"] is True and len(result.to_dict()["checks"]) == 8


def test_every_leaf_verifies_against_every_later_checkpoint(reg: factory.Registry) -> None:
    verifier = b.Verifier(reg.keyset())
    for size in range(1, 6):
        for index in range(size):
            assert verifier.verify(reg.bundle(index, size)).valid


def test_verify_bundle_is_the_one_shot_form(reg: factory.Registry) -> None:
    assert b.verify_bundle(reg.bundle(0), reg.jwks()).valid


def test_a_changed_payload_byte_fails_the_statement_signature(reg: factory.Registry) -> None:
    bundle = reg.bundle(1)
    payload = bytearray(b64decode(bundle["envelope"]["payload"]))
    payload[payload.index(b"Aurora")] = ord("a")
    bundle["envelope"]["payload"] = b64encode(bytes(payload))
    assert "does not verify" in _fails_at(_verify(reg, bundle), "statement_signature")


def test_a_revoked_statement_key_fails_the_statement_signature(reg: factory.Registry) -> None:
    reg.statement_key_status = "revoked"
    assert "is revoked" in _fails_at(_verify(reg, reg.bundle(1)), "statement_signature")


def test_an_unknown_keyid_fails_the_statement_signature(reg: factory.Registry) -> None:
    bundle = reg.bundle(1)
    bundle["envelope"]["signatures"][0]["keyid"] = "unknown-key"
    assert "not in the JWKS" in _fails_at(_verify(reg, bundle), "statement_signature")


def test_a_statement_signed_by_a_key_outside_the_jwks_fails_the_statement_signature(reg: factory.Registry) -> None:
    index = reg.declare(key=generate_private_key())
    assert "not in the JWKS" in _fails_at(_verify(reg, reg.bundle(index)), "statement_signature")


def test_a_statement_signed_by_the_checkpoint_key_fails_the_statement_signature(reg: factory.Registry) -> None:
    index = reg.declare(key=reg.checkpoint_key)
    assert "not a statement key" in _fails_at(_verify(reg, reg.bundle(index)), "statement_signature")


def test_a_re_signed_wrong_payload_type_fails_the_payload_type(reg: factory.Registry) -> None:
    index = reg.declare(payload_type="application/vnd.in-toto+json")
    assert "application/vnd.in-toto+json" in _fails_at(_verify(reg, reg.bundle(index)), "payload_type")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b'"duration":181', b'"duration":1.5', "floats are not allowed"),
        (b'"artwork":"partly"', b'"artwork":"some"', "unknown AI level 'some'"),
        (b'"schema":"ai-disclosure/v1"', b'"schema":"ai-disclosure/v9"', "must be 'ai-disclosure/v1'"),
    ],
)
def test_a_re_signed_invalid_statement_fails_the_statement_schema(
    reg: factory.Registry, old: bytes, new: bytes, message: str
) -> None:
    data = statement_bytes(factory.statement())
    assert old in data
    index = reg.declare(payload=data.replace(old, new))
    assert message in _fails_at(_verify(reg, reg.bundle(index)), "statement_schema")


def _pretty(data: bytes) -> bytes:
    return json.dumps(json.loads(data), indent=2, sort_keys=True).encode()


def _escaped(data: bytes) -> bytes:
    return data.replace(b'"Aurora"', b'"\\u0041urora"')


def _reordered(data: bytes) -> bytes:
    value = json.loads(data)
    return json.dumps({k: value[k] for k in reversed(sorted(value))}, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(_pretty, id="pretty-printed"),
        pytest.param(lambda d: b"\xef\xbb\xbf" + d, id="BOM"),
        pytest.param(_escaped, id="u-escape"),
        pytest.param(lambda d: d + b"\n", id="trailing-newline"),
        pytest.param(lambda d: d + b" ", id="trailing-space"),
        pytest.param(lambda d: b" " + d, id="leading-space"),
        pytest.param(_reordered, id="members-unsorted"),
        pytest.param(lambda d: d.decode().encode("utf-16"), id="UTF-16"),
    ],
)
def test_a_signed_payload_that_is_not_its_own_canonical_form_fails_the_statement_schema(
    reg: factory.Registry, variant: Any
) -> None:
    data = statement_bytes(factory.statement())
    other = variant(data)
    assert other != data and json.loads(other) == json.loads(data)  # the same statement, other bytes
    index = reg.declare(payload=other)  # signed as it is: the signature alone does not catch it
    detail = _fails_at(_verify(reg, reg.bundle(index)), "statement_schema")
    assert "the payload is not RFC 8785 canonical JSON" in detail
    assert _verify(reg, reg.bundle(reg.declare(payload=data))).valid


def test_a_statement_for_another_registry_fails_the_registry_origin(reg: factory.Registry) -> None:
    index = reg.declare(factory.statement(registry="other.example.org/log"))
    detail = _fails_at(_verify(reg, reg.bundle(index)), "registry_origin")
    assert "'other.example.org/log' is not the log origin 'registry.example.org/log'" in detail


def test_a_checkpoint_signed_by_a_key_outside_the_jwks_fails_the_checkpoint_signature(reg: factory.Registry) -> None:
    bundle = reg.bundle(1, checkpoint=reg.checkpoint(key=generate_private_key()))
    assert "has no signature by key" in _fails_at(_verify(reg, bundle), "checkpoint_signature")


def test_a_checkpoint_signed_by_the_statement_key_fails_the_checkpoint_signature(reg: factory.Registry) -> None:
    bundle = reg.bundle(1, checkpoint=reg.checkpoint(key=reg.statement_key))
    _fails_at(_verify(reg, bundle), "checkpoint_signature")


def test_a_revoked_checkpoint_key_fails_the_checkpoint_signature(reg: factory.Registry) -> None:
    jwks = reg.jwks()
    jwks["keys"][1]["status"] = "revoked"
    assert "is revoked" in _fails_at(_verify(reg, reg.bundle(1), jwks), "checkpoint_signature")


def test_a_jwks_without_a_checkpoint_key_fails_the_checkpoint_signature(reg: factory.Registry) -> None:
    jwks = reg.jwks()
    del jwks["keys"][1]
    assert "no checkpoint key" in _fails_at(_verify(reg, reg.bundle(1), jwks), "checkpoint_signature")


def test_a_checkpoint_of_another_origin_fails_the_checkpoint_signature(reg: factory.Registry) -> None:
    note = sign_checkpoint("other.example.org/log", reg.tree.size, reg.tree.root(), reg.checkpoint_key)
    # The key hash binds the origin, so the checkpoint key's signature under another name is not found.
    _fails_at(_verify(reg, reg.bundle(1, checkpoint=note)), "checkpoint_signature")


def test_a_malformed_checkpoint_fails_the_checkpoint_signature(reg: factory.Registry) -> None:
    bundle = reg.bundle(1)
    bundle["log"]["checkpoint"] = bundle["log"]["checkpoint"].replace("\n\n", "\n")
    assert "no blank line" in _fails_at(_verify(reg, bundle), "checkpoint_signature")


def test_a_tree_size_that_is_not_the_checkpoints_fails_the_checkpoint_size(reg: factory.Registry) -> None:
    bundle = reg.bundle(1, size=3, checkpoint=reg.checkpoint(5))
    assert "checkpoint size 5 is not log.tree_size 3" in _fails_at(_verify(reg, bundle), "checkpoint_size")


def test_an_altered_proof_fails_the_inclusion_proof(reg: factory.Registry) -> None:
    bundle = reg.bundle(1)
    proof = bundle["log"]["inclusion_proof"]
    node = bytearray(b64decode(proof[0]))
    node[0] ^= 1
    proof[0] = b64encode(bytes(node))
    assert "does not lead to the root" in _fails_at(_verify(reg, bundle), "inclusion_proof")


@pytest.mark.parametrize("change", [lambda p: p.pop(), lambda p: p.append(p[0]), lambda p: p.reverse()])
def test_a_shortened_lengthened_or_reordered_proof_fails_the_inclusion_proof(
    reg: factory.Registry, change: Any
) -> None:
    bundle = reg.bundle(1)
    change(bundle["log"]["inclusion_proof"])
    _fails_at(_verify(reg, bundle), "inclusion_proof")


@pytest.mark.parametrize("index", [0, 2, 3, 4, 5, 99])
def test_a_changed_index_fails_the_inclusion_proof(reg: factory.Registry, index: int) -> None:
    bundle = reg.bundle(1)
    bundle["log"]["index"] = index
    _fails_at(_verify(reg, bundle), "inclusion_proof")


def test_an_envelope_with_an_extra_member_is_another_leaf_and_fails_the_inclusion_proof(reg: factory.Registry) -> None:
    bundle = reg.bundle(1)
    bundle["envelope"]["note"] = "added later"
    _fails_at(_verify(reg, bundle), "inclusion_proof")


def test_a_second_valid_signature_added_later_changes_the_leaf_and_fails_the_inclusion_proof(
    reg: factory.Registry,
) -> None:
    bundle = reg.bundle(1)
    bundle["envelope"]["signatures"].append(copy.deepcopy(bundle["envelope"]["signatures"][0]))
    _fails_at(_verify(reg, bundle), "inclusion_proof")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda bd: bd.update(mediaType="application/json"), "mediaType must be"),
        (lambda bd: bd.pop("log"), "no log object"),
        (lambda bd: bd["log"].update(index=True), "log.index must be a non-negative integer"),
        (lambda bd: bd["log"].update(index=-1), "log.index must be a non-negative integer"),
        (lambda bd: bd["log"].update(tree_size="5"), "log.tree_size must be a non-negative integer"),
        (lambda bd: bd["log"].update(inclusion_proof=["AAAA"] * 65), "at most 64 hashes"),
        (lambda bd: bd["log"].update(inclusion_proof=["%%%"]), "not valid base64"),
        (lambda bd: bd["log"].update(checkpoint=None), "must be strings"),
        (lambda bd: bd["envelope"].pop("signatures"), "no 'signatures'"),
    ],
)
def test_a_malformed_bundle_fails_the_bundle_format(reg: factory.Registry, change: Any, message: str) -> None:
    bundle = reg.bundle(1)
    change(bundle)
    assert message in _fails_at(_verify(reg, bundle), "bundle_format")


def test_a_bundle_that_is_not_an_object_fails_the_bundle_format(reg: factory.Registry) -> None:
    result = _verify(reg, [1, 2])
    assert _fails_at(result, "bundle_format") == "the bundle must be a JSON object"
    assert result.summary() == "INVALID bundle_format: the bundle must be a JSON object"


def _retired_registry(not_after: datetime) -> tuple[factory.Registry, int]:
    reg = factory.Registry(statement_key_status="retired", statement_key_not_after=not_after)
    index = reg.declare(factory.statement(declared_at=factory.DECLARED_AT))
    return reg, index


def test_a_retired_key_verifies_what_it_signed_while_active() -> None:
    reg, index = _retired_registry(factory.DECLARED_AT + timedelta(days=30))
    result = _verify(reg, reg.bundle(index))
    assert result.valid and "(retired)" in result.checks[1].detail
    reg, index = _retired_registry(factory.DECLARED_AT)  # not_after is inclusive
    assert _verify(reg, reg.bundle(index)).valid


def test_a_retired_key_fails_for_a_statement_declared_after_its_not_after() -> None:
    reg, index = _retired_registry(factory.DECLARED_AT - timedelta(seconds=1))
    detail = _fails_at(_verify(reg, reg.bundle(index)), "statement_schema")
    assert "is outside the validity window [2024-01-01T00:00:00Z, 2025-03-14T09:26:52Z] of retired key" in detail


def test_a_retired_key_fails_for_a_statement_declared_before_its_not_before() -> None:
    reg = factory.Registry(statement_key_status="retired", statement_key_not_after=datetime(2030, 1, 1, tzinfo=UTC))
    index = reg.declare(factory.statement(declared_at=datetime(2023, 6, 1, tzinfo=UTC)))
    _fails_at(_verify(reg, reg.bundle(index)), "statement_schema")


def test_an_active_statement_key_fails_for_a_statement_dated_outside_its_window() -> None:
    # Active keys' windows count too: before its not_before the key did not exist; after its not_after it was
    # no longer to be used, whatever the status says.
    reg = factory.Registry()
    early = reg.declare(factory.statement(declared_at=datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC)))
    detail = _fails_at(_verify(reg, reg.bundle(early)), "statement_schema")
    assert "is outside the validity window [2024-01-01T00:00:00Z, +inf] of active key" in detail
    reg.statement_key_not_after = factory.DECLARED_AT - timedelta(days=1)
    late = reg.declare(factory.statement())
    assert "of active key" in _fails_at(_verify(reg, reg.bundle(late)), "statement_schema")
    reg.statement_key_not_after = None
    assert _verify(reg, reg.bundle(late)).valid


def _rotated_checkpoint_key(reg: factory.Registry, last_tree_size: int | None) -> dict[str, Any]:
    """The JWKS after the checkpoint key retired at ``last_tree_size``, with a new active checkpoint key."""
    jwks = reg.jwks()
    old = jwks["keys"][1]
    old.update(status="retired", not_after="2025-06-01T00:00:00Z")
    if last_tree_size is not None:
        old["last_tree_size"] = last_tree_size
    jwks["keys"].append(public_jwk(public_bytes(generate_private_key()), purpose="checkpoint"))
    return jwks


def test_a_retired_checkpoint_key_vouches_for_trees_up_to_its_last_tree_size() -> None:
    reg = factory.registry_with_log(5)
    jwks = _rotated_checkpoint_key(reg, last_tree_size=4)
    for size in range(1, 5):  # what it signed while active still verifies
        result = _verify(reg, reg.bundle(0, size), jwks)
        assert result.valid and "(retired)" in result.checks[5].detail
    # A tree it cannot have signed as the registry's key (a stolen retired key extending the log) is refused.
    detail = _fails_at(_verify(reg, reg.bundle(0, 5), jwks), "checkpoint_signature")
    assert "signed trees up to size 4, not this one of size 5" in detail


def test_a_retired_checkpoint_key_without_a_last_tree_size_vouches_for_nothing() -> None:
    reg = factory.registry_with_log(2)
    detail = _fails_at(_verify(reg, reg.bundle(0), _rotated_checkpoint_key(reg, None)), "checkpoint_signature")
    assert "has no last_tree_size" in detail


def test_a_verifier_caches_checkpoints_and_their_failures() -> None:
    reg = factory.registry_with_log(3)
    verifier = b.Verifier(reg.keyset())
    good = reg.checkpoint()
    forged = reg.checkpoint(key=generate_private_key())
    for _ in range(2):
        assert all(verifier.verify(reg.bundle(i, checkpoint=good)).valid for i in range(3))
        assert verifier.verify(reg.bundle(0, checkpoint=forged)).failed.name == "checkpoint_signature"  # type: ignore[union-attr]
    assert set(verifier._checkpoints) == {good, forged}


def test_a_jwks_listing_one_key_twice_is_refused_whichever_entry_comes_last(reg: factory.Registry) -> None:
    # Once as statement key, once as checkpoint key: a last-wins set would make it a checkpoint key, a
    # first-wins set a statement key. Neither is right: the set is refused, naming the key.
    reg.extra_jwks.append(public_jwk(public_bytes(reg.statement_key), purpose="checkpoint"))
    with pytest.raises(VerificationError, match=f"lists key {reg.keyset_kid('statement')} twice"):
        b.Verifier.from_jwks(reg.jwks())


def _duplicated(bundle: dict[str, Any], member: str, first: Any) -> bytes:
    """The bundle's JSON text with ``member`` written twice: ``first``, then the bundle's own value."""
    rest = ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in bundle.items())
    return f"{{{json.dumps(member)}:{json.dumps(first)},{rest}}}".encode()


def test_a_bundle_with_a_duplicated_member_fails_the_bundle_format(reg: factory.Registry) -> None:
    # A first-wins parser sees the first envelope (another release), a last-wins parser the logged one.
    other = reg.bundle(0)["envelope"]
    data = _duplicated(reg.bundle(1), "envelope", other)
    assert json.loads(data) == reg.bundle(1)  # what a last-wins verifier used to check: valid
    result = _verify(reg, data)
    assert "duplicate object member 'envelope'" in _fails_at(result, "bundle_format")
    assert _verify(reg, json.dumps(reg.bundle(1)).encode()).valid  # the same bytes without the duplicate


def test_bundles_from_make_bundle_carry_the_media_type_and_base64_proof(reg: factory.Registry) -> None:
    envelope = sign_envelope(statement_bytes(factory.statement()), reg.statement_key)
    made = make_bundle(envelope, origin="o", index=0, tree_size=1, proof=[b"\x00" * 32], checkpoint="c")
    assert made["mediaType"] == b.MEDIA_TYPE == "application/vnd.ai-disclosure.bundle.v1+json"
    assert made["log"]["inclusion_proof"] == ["A" * 43 + "="]


# --- the identifier check: a valid bundle must also answer the question asked -------------------


def _two_releases() -> tuple[factory.Registry, dict[str, Any], dict[str, Any]]:
    """Two releases with their own ISRCs, each logged: bundles 0 and 1."""
    reg = factory.Registry()
    statements = []
    for n in (1, 2):
        tracks = [{**factory.track(1, vocals="all"), "isrc": f"GBXYZ2{n}00001"}, factory.track(2)]
        tracks[1]["isrc"] = f"GBXYZ2{n}00002"
        st = factory.statement(release_number=n, tracks=tracks)
        reg.declare(st)
        statements.append(st)
    return reg, statements[0], statements[1]


def test_a_bundle_answers_an_isrc_it_covers_with_the_disclosure_derived_from_the_signed_statement() -> None:
    reg, first, _ = _two_releases()
    result = _verify(reg, reg.bundle(0), isrc="gb-xyz-21-00001")  # typed as people write it
    assert result.valid, result.failed
    assert [c.name for c in result.checks] == [*b.CHECKS, b.IDENTIFIER]
    assert result.checks[-1].detail.startswith("ISRC GBXYZ2100001 is track 1 'Song number 1' of release")
    assert result.disclosure == summary_of(first, "GBXYZ2100001")
    assert result.disclosure["track"]["parts"]["vocals"] == "all"
    assert result.to_dict()["disclosure"] == result.disclosure
    assert result.summary().endswith("; answers ISRC GBXYZ2100001")


def test_another_releases_bundle_fails_the_identifier_check_for_an_isrc() -> None:
    reg, _, second = _two_releases()
    result = _verify(reg, reg.bundle(0), isrc=second["tracks"][0]["isrc"])
    detail = _fails_at_identifier(result)
    assert detail.startswith("ISRC GBXYZ2200001 is not a track of release ")
    assert "this bundle does not answer for it" in detail
    assert result.disclosure is None and result.to_dict()["disclosure"] is None


def test_a_bundle_answers_its_own_upc_and_fails_the_identifier_check_for_another() -> None:
    reg, first, second = _two_releases()
    result = _verify(reg, reg.bundle(0), upc=first["release"]["upc"])
    assert result.valid and result.disclosure == summary_of(first)
    assert "not UPC" in _fails_at_identifier(_verify(reg, reg.bundle(0), upc=second["release"]["upc"]))
    both = _verify(reg, reg.bundle(0), isrc="GBXYZ2100002", upc=first["release"]["upc"])
    assert both.valid and both.disclosure == summary_of(first, "GBXYZ2100002")
    assert not _verify(reg, reg.bundle(0), isrc="GBXYZ2100002", upc=second["release"]["upc"]).valid


def test_a_malformed_identifier_fails_the_identifier_check_saying_so() -> None:
    reg, _, _ = _two_releases()
    assert "the ISRC asked about is malformed" in _fails_at_identifier(_verify(reg, reg.bundle(0), isrc="nope"))
    assert "the UPC asked about is malformed" in _fails_at_identifier(_verify(reg, reg.bundle(0), upc="123"))


def test_the_identifier_check_runs_only_after_the_eight_pass() -> None:
    reg, _, _ = _two_releases()
    bundle = reg.bundle(0)
    bundle["log"]["index"] = 1
    result = _verify(reg, bundle, isrc="GBXYZ2100001")
    assert result.failed.name == "inclusion_proof" and len(result.checks) == len(b.CHECKS)  # type: ignore[union-attr]
    assert not result.valid and result.disclosure is None


def test_without_a_question_the_result_is_as_before(reg: factory.Registry) -> None:
    result = _verify(reg, reg.bundle(2))
    assert result.valid and len(result.checks) == 8 and result.disclosure is None
    assert set(result.to_dict()) == {"valid", "checks"}


def _fails_at_identifier(result: b.Result) -> str:
    assert not result.valid
    assert [c.name for c in result.checks] == [*b.CHECKS, b.IDENTIFIER]
    assert result.failed is not None and result.failed.name == b.IDENTIFIER
    return result.failed.detail
