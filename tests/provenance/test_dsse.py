"""DSSE envelopes: the PAE test vector, signing and verification, and securesystemslib agreeing with us."""

from __future__ import annotations

import copy

import pytest
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

from provenance import dsse, jcs
from provenance.encoding import b64decode, b64encode
from provenance.errors import VerificationError
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import envelope_size, sign_envelope
from provenance.keys import KeySet, parse_jwk, public_jwk, thumbprint


def test_pae_matches_the_dsse_specification_vector() -> None:
    assert (
        dsse.pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_counts_bytes_not_characters() -> None:
    assert dsse.pae("tÿpe", "é".encode()) == "DSSEv1 5 tÿpe 2 é".encode()
    assert dsse.pae("", b"") == b"DSSEv1 0  0 "


def _keyset(*entries: tuple[object, str, str]) -> KeySet:
    return KeySet(parse_jwk(public_jwk(public_bytes(k), purpose=p, status=s)) for k, p, s in entries)


def test_a_signed_envelope_verifies_and_returns_the_payload_and_key() -> None:
    key = generate_private_key()
    env = sign_envelope(b'{"a":1}', key)
    assert env["payloadType"] == dsse.PAYLOAD_TYPE
    assert env["signatures"][0]["keyid"] == thumbprint(public_bytes(key))
    payload, used = dsse.verify_envelope(env, _keyset((key, "statement", "active")))
    assert payload == b'{"a":1}' and used.raw == public_bytes(key)


def test_a_signature_without_keyid_is_tried_against_every_key_of_the_purpose() -> None:
    key, other = generate_private_key(), generate_private_key()
    env = sign_envelope(b"x", key)
    del env["signatures"][0]["keyid"]
    payload, used = dsse.verify_envelope(env, _keyset((other, "statement", "active"), (key, "statement", "active")))
    assert used.raw == public_bytes(key)


@pytest.mark.parametrize(
    ("tamper", "status", "purpose", "message"),
    [
        (lambda e: e.update(payload=b64encode(b"y")), "active", "statement", "does not verify"),
        (lambda e: e.update(payloadType="text/plain"), "active", "statement", "does not verify"),
        (lambda e: None, "revoked", "statement", "is revoked"),
        (lambda e: None, "active", "checkpoint", "is a checkpoint key, not a statement key"),
        (lambda e: e["signatures"][0].update(keyid="unknown"), "active", "statement", "key unknown is not in the JWKS"),
        (lambda e: e["signatures"][0].update(sig=b64encode(b"\x00" * 64)), "active", "statement", "does not verify"),
    ],
)
def test_verification_fails(tamper, status: str, purpose: str, message: str) -> None:
    key = generate_private_key()
    env = sign_envelope(b"x", key)
    tamper(env)
    with pytest.raises(VerificationError, match=message):
        dsse.verify_envelope(env, _keyset((key, purpose, status)))


def test_a_retired_key_still_verifies_signatures() -> None:
    key = generate_private_key()
    dsse.verify_envelope(sign_envelope(b"x", key), _keyset((key, "statement", "retired")))


def test_one_good_signature_among_bad_ones_is_enough() -> None:
    key, stranger = generate_private_key(), generate_private_key()
    env = sign_envelope(b"x", key)
    env["signatures"].insert(0, sign_envelope(b"x", stranger)["signatures"][0])
    dsse.verify_envelope(env, _keyset((key, "statement", "active")))


@pytest.mark.parametrize(
    "envelope",
    [
        None,
        [],
        {"payload": "", "signatures": []},
        {"payloadType": 1, "payload": "", "signatures": [{"sig": ""}]},
        {"payloadType": "t", "payload": "", "signatures": []},
        {"payloadType": "t", "payload": "", "signatures": [{"sig": 5}]},
        {"payloadType": "t", "payload": "", "signatures": [{"sig": "", "keyid": 5}]},
    ],
)
def test_malformed_envelopes_are_refused(envelope: object) -> None:
    with pytest.raises(VerificationError):
        dsse.verify_envelope(envelope, KeySet([]))


def test_a_non_base64_payload_is_refused() -> None:
    key = generate_private_key()
    env = sign_envelope(b"x", key)
    env["payload"] = "not base64!"
    with pytest.raises(VerificationError, match="payload is not valid base64"):
        dsse.verify_envelope(env, _keyset((key, "statement", "active")))


def _sslib_key(private) -> SSlibKey:  # type: ignore[no-untyped-def]
    return SSlibKey.from_crypto(private.public_key(), keyid=thumbprint(public_bytes(private)))


def test_securesystemslib_computes_the_same_pae_and_verifies_our_envelopes() -> None:
    key = generate_private_key()
    env = sign_envelope(b'{"statement":true}', key)
    theirs = Envelope.from_dict(copy.deepcopy(env))
    assert theirs.pae() == dsse.pae(env["payloadType"], b64decode(env["payload"]))
    assert list(theirs.verify([_sslib_key(key)], 1)) == [thumbprint(public_bytes(key))]
    assert theirs.to_dict() == {
        **env,
        "signatures": [{"keyid": env["signatures"][0]["keyid"], "sig": env["signatures"][0]["sig"]}],
    }


def test_we_verify_envelopes_that_securesystemslib_signs() -> None:
    key = generate_private_key()
    theirs = Envelope(payload=b"payload from them", payload_type=dsse.PAYLOAD_TYPE, signatures={})
    theirs.sign(CryptoSigner(key, _sslib_key(key)))
    payload, used = dsse.verify_envelope(theirs.to_dict(), _keyset((key, "statement", "active")))
    assert payload == b"payload from them" and used.kid == thumbprint(public_bytes(key))


def test_securesystemslib_rejects_what_we_reject() -> None:
    from securesystemslib.exceptions import VerificationError as TheirError

    key = generate_private_key()
    env = sign_envelope(b"x", key)
    env["payload"] = b64encode(b"y")
    with pytest.raises(TheirError):
        Envelope.from_dict(copy.deepcopy(env)).verify([_sslib_key(key)], 1)
    with pytest.raises(VerificationError):
        dsse.verify_envelope(env, _keyset((key, "statement", "active")))


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4, 100, 4097, 60_000])
def test_envelope_size_is_the_signed_envelopes_exact_length_from_the_payload_or_its_length(length: int) -> None:
    payload = bytes(range(256)) * (length // 256) + bytes(length % 256)
    signed = len(jcs.canonicalize(sign_envelope(payload, generate_private_key())))
    assert envelope_size(payload) == envelope_size(length) == signed
