"""Dispute statements (docs/protocol.md §15): strict parsing, the commitment, and bundle verification."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from provenance import disputes, jcs
from provenance.bundle import Verifier
from provenance.cli import main
from provenance.errors import VerificationError
from tests.provenance.factory import ORIGIN, Registry, statement

DECLARATION = {
    "id": "0b5f3a3e-6a8e-4f57-9c1d-2f4a0c9e7b11",
    "version": 1,
    "leaf_hash": "ab" * 32,
    "upc": "036000291452",
    "isrc": "USSKG1912345",
    "part": "vocals",
}
NONCE = bytes(range(32))


def step(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "registry": ORIGIN,
        "dispute_id": "5d7c7a0e-3f0b-4d3a-8a55-0c7b5b0b8f21",
        "sequence": 1,
        "previous": None,
        "step": "opened",
        "declaration": DECLARATION,
        "role": "artist",
        "outcome": None,
        "content_sha256": disputes.content_commitment(NONCE, text="my voice was cloned", evidence=""),
    }
    return disputes.build_dispute_step(**{**base, **overrides})


def test_a_step_round_trips_through_its_canonical_bytes() -> None:
    st = step()
    assert disputes.parse_dispute_step(jcs.canonicalize(st)) == st


def test_the_commitment_depends_on_the_nonce_and_both_texts() -> None:
    one = disputes.content_commitment(NONCE, text="a", evidence="b")
    assert one != disputes.content_commitment(bytes(32), text="a", evidence="b")
    assert one != disputes.content_commitment(NONCE, text="a", evidence="")
    assert one != disputes.content_commitment(NONCE, text="ab", evidence="")
    with pytest.raises(Exception, match="32 bytes"):
        disputes.content_commitment(b"short", text="a", evidence="b")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"step": "answered"}, "only step 1 is 'opened'"),
        ({"sequence": 2}, "previous must be null for sequence 1"),
        ({"sequence": 2, "previous": "ab" * 32, "step": "answered", "role": "artist", "outcome": "contest"}, "role"),
        ({"sequence": 2, "previous": "ab" * 32, "step": "answered", "role": "label", "outcome": "upheld"}, "outcome"),
        ({"sequence": 3, "previous": "ab" * 32, "step": "resolved", "role": "staff", "outcome": "withdrawn"}, "opener"),
        ({"sequence": 3, "previous": "ab" * 32, "step": "resolved", "role": "artist", "outcome": "upheld"}, "staff"),
        ({"role": "label"}, "role"),
        ({"declaration": {**DECLARATION, "part": "artwork"}}, "artwork names no ISRC"),
        ({"declaration": {**DECLARATION, "isrc": None}}, "names its ISRC"),
        ({"declaration": {**DECLARATION, "isrc": "us-skg-19-12345"}}, "compact"),
        ({"declaration": {**DECLARATION, "upc": "036000291453"}}, "declaration"),
        ({"declaration": {**DECLARATION, "text": "leaked"}}, "unknown text"),
        ({"content_sha256": "AB" * 32}, "content_sha256"),
    ],
)
def test_invalid_steps_are_refused_with_the_reason(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        step(**overrides)


def test_an_identifier_is_disputed_with_its_isrc_or_as_the_release_upc() -> None:
    assert step(declaration={**DECLARATION, "part": "identifier"})["declaration"]["isrc"] == "USSKG1912345"
    assert step(declaration={**DECLARATION, "part": "identifier", "isrc": None})["declaration"]["isrc"] is None


def test_unknown_members_and_non_canonical_bytes_are_refused() -> None:
    st = {**step(), "text": "my voice was cloned"}
    with pytest.raises(VerificationError, match="unknown text"):
        disputes.validate_dispute_step(st)
    pretty = json.dumps(step(), indent=1).encode()
    with pytest.raises(VerificationError, match="canonical"):
        disputes.parse_dispute_step(pretty)


def _dispute_bundle(reg: Registry) -> dict[str, Any]:
    reg.declare(statement())
    index = reg.declare(payload=jcs.canonicalize(step()), payload_type=disputes.DISPUTE_PAYLOAD_TYPE)
    return reg.bundle(index)


def test_a_dispute_bundle_passes_the_bundle_checks_and_a_declaration_verifier_refuses_it() -> None:
    reg = Registry()
    bundle = _dispute_bundle(reg)
    verifier = Verifier(reg.keyset())
    result = disputes.verify_dispute_bundle(jcs.canonicalize(bundle), verifier)
    assert result.valid, result.failed
    assert result.summary().startswith("VALID: ai-disclosure/dispute/v1 statement: dispute 5d7c7a0e")
    assert verifier.verify(jcs.canonicalize(bundle)).failed.name == "payload_type"
    declaration = reg.bundle(0)
    assert disputes.verify_dispute_bundle(declaration, verifier).failed.name == "payload_type"
    tampered = copy.deepcopy(bundle)
    tampered["log"]["index"] = 0
    assert disputes.verify_dispute_bundle(tampered, verifier).failed.name == "inclusion_proof"


def test_provenance_verify_accepts_a_dispute_bundle(tmp_path: Any, capsys: Any) -> None:
    reg = Registry()
    bundle_file, jwks_file = tmp_path / "dispute.json", tmp_path / "jwks.json"
    bundle_file.write_bytes(jcs.canonicalize(_dispute_bundle(reg)))
    jwks_file.write_text(json.dumps(reg.jwks()))
    assert main(["verify", str(bundle_file), "--jwks", str(jwks_file)]) == 0
    assert "dispute/v1 statement" in capsys.readouterr().out
    assert main(["verify", str(bundle_file), "--jwks", str(jwks_file), "--isrc", "USSKG1912345"]) == 1
