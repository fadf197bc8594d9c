"""Ed25519 public keys: RFC 8037 thumbprints, JWK/JWKS parsing and key sets."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from provenance import keys
from provenance.encoding import b64url_decode, b64url_encode
from provenance.errors import ProvenanceError, VerificationError
from provenance.issue.keys import generate_private_key, public_bytes

RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_KID = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_the_thumbprint_is_the_one_in_rfc_8037_appendix_a_3() -> None:
    assert keys.thumbprint(b64url_decode(RFC8037_X)) == RFC8037_KID


def test_parse_jwk_accepts_the_rfc_8037_key_with_its_thumbprint_as_kid() -> None:
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": RFC8037_X,
        "kid": RFC8037_KID,
        "purpose": "statement",
        "status": "active",
    }
    key = keys.parse_jwk(jwk)
    assert key.kid == RFC8037_KID and key.raw == b64url_decode(RFC8037_X)
    assert key.not_before is None and key.not_after is None


def test_a_jwk_round_trips_with_its_purpose_status_and_validity() -> None:
    raw = public_bytes(generate_private_key())
    nb, na = datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 6, 30, 12, tzinfo=UTC)
    jwk = keys.public_jwk(raw, purpose="checkpoint", status="retired", not_before=nb, not_after=na)
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(raw),
        "alg": "Ed25519",
        "use": "sig",
        "kid": keys.thumbprint(raw),
        "purpose": "checkpoint",
        "status": "retired",
        "not_before": "2024-01-01T00:00:00Z",
        "not_after": "2025-06-30T12:00:00Z",
    }
    key = keys.parse_jwk(jwk)
    assert (key.raw, key.purpose, key.status, key.not_before, key.not_after) == (raw, "checkpoint", "retired", nb, na)
    assert key.to_jwk() == jwk
    assert key.valid_at(na) and not key.valid_at(datetime(2025, 6, 30, 12, 0, 1, tzinfo=UTC))
    assert not key.valid_at(datetime(2023, 12, 31, tzinfo=UTC))


def _jwk(**changes: object) -> dict:
    jwk = keys.public_jwk(public_bytes(generate_private_key()), purpose="statement")
    jwk.update(changes)
    return jwk


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kid": RFC8037_KID}, "is not the RFC 7638 thumbprint"),
        ({"kid": None}, "is not the RFC 7638 thumbprint"),
        ({"kty": "EC"}, "OKP Ed25519"),
        ({"crv": "X25519"}, "OKP Ed25519"),
        ({"x": b64url_encode(b"\x01" * 31)}, "32 bytes"),
        ({"x": RFC8037_X + "="}, "unpadded base64url"),
        ({"x": RFC8037_X[:-1] + "p"}, "not canonical"),
        ({"x": "11qYAYKx CrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}, "unpadded base64url"),
        ({"purpose": "everything"}, "unknown purpose"),
        ({"status": "paused"}, "unknown status"),
        ({"not_after": "2025-01-01"}, "not an RFC 3339 UTC timestamp"),
    ],
)
def test_parse_jwk_rejects(changes: dict, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        keys.parse_jwk(_jwk(**changes))


def test_parse_jwk_rejects_non_objects_and_unknown_purposes_on_creation() -> None:
    with pytest.raises(VerificationError, match="must be an object"):
        keys.parse_jwk(["kty", "OKP"])
    with pytest.raises(ProvenanceError, match="unknown key purpose"):
        keys.public_jwk(b"\x00" * 32, purpose="other")
    with pytest.raises(ProvenanceError, match="unknown key status"):
        keys.public_jwk(b"\x00" * 32, purpose="statement", status="gone")


def test_a_key_set_finds_keys_by_kid_and_purpose_and_round_trips_as_jwks() -> None:
    a, b = (public_bytes(generate_private_key()) for _ in range(2))
    jwks = {
        "keys": [keys.public_jwk(a, purpose="statement"), keys.public_jwk(b, purpose="checkpoint", status="revoked")]
    }
    ks = keys.KeySet.from_jwks(jwks)
    assert len(ks) == 2
    assert ks.get(keys.thumbprint(a)).raw == a
    assert ks.get("unknown") is None
    assert [k.raw for k in ks.of_purpose("checkpoint")] == [b]
    assert {k.kid for k in ks} == {keys.thumbprint(a), keys.thumbprint(b)}
    assert ks.to_jwks() == jwks


@pytest.mark.parametrize("jwks", [[], {"keys": "x"}, {"key": []}, None])
def test_a_key_set_refuses_what_is_not_a_jwks(jwks: object) -> None:
    with pytest.raises(VerificationError, match="JWKS must be an object"):
        keys.KeySet.from_jwks(jwks)


def test_a_public_key_verifies_only_its_own_signatures() -> None:
    private, other = generate_private_key(), generate_private_key()
    key = keys.parse_jwk(keys.public_jwk(public_bytes(private), purpose="statement"))
    assert key.verify(private.sign(b"m"), b"m")
    assert not key.verify(private.sign(b"m"), b"n")
    assert not key.verify(other.sign(b"m"), b"m")
    assert not key.verify(b"\x00" * 64, b"m")


def test_a_key_set_read_from_json_refuses_a_duplicated_member() -> None:
    a, b = (keys.public_jwk(public_bytes(generate_private_key()), purpose="statement") for _ in range(2))
    text = f'{{"keys":{json.dumps([a])},"keys":{json.dumps([b])}}}'
    with pytest.raises(VerificationError, match="duplicate object member 'keys'"):
        keys.KeySet.from_json(text.encode())
    assert keys.KeySet.from_json(json.dumps({"keys": [a]}).encode()).get(a["kid"]) is not None


def test_a_checkpoint_keys_last_tree_size_round_trips_and_is_written_only_where_it_applies() -> None:
    raw = public_bytes(generate_private_key())
    jwk = keys.public_jwk(raw, purpose="checkpoint", status="retired", last_tree_size=41)
    assert jwk["last_tree_size"] == 41 and keys.parse_jwk(jwk).last_tree_size == 41
    assert "last_tree_size" not in keys.public_jwk(raw, purpose="checkpoint")
    assert keys.parse_jwk(jwk).to_jwk() == jwk


@pytest.mark.parametrize("bad", [-1, True, "41", 4.0])
def test_a_malformed_last_tree_size_is_refused(bad: object) -> None:
    jwk = keys.public_jwk(public_bytes(generate_private_key()), purpose="checkpoint", status="retired")
    with pytest.raises(VerificationError, match="last_tree_size must be a non-negative integer"):
        keys.parse_jwk({**jwk, "last_tree_size": bad})
