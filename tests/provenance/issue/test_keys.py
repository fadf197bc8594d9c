"""Ed25519 private keys: encrypted OpenSSH storage with bcrypt-pbkdf, and what still loads."""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives import serialization

from provenance.errors import ProvenanceError
from provenance.issue import keys


def test_an_encrypted_openssh_key_round_trips_and_names_its_kdf() -> None:
    private = keys.generate_private_key()
    pem = keys.private_key_to_pem(private, b"correct horse battery staple", rounds=4)
    assert pem.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    loaded = keys.load_private_key(pem, b"correct horse battery staple")
    assert keys.public_bytes(loaded) == keys.public_bytes(private)
    # The key body names bcrypt and aes256-ctr (OpenSSH's format); the raw key bytes do not appear.
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    body = b"".join(pem.splitlines()[1:-1])
    blob = base64.b64decode(body)
    assert b"bcrypt" in blob and b"aes256-ctr" in blob and raw not in blob


def test_the_default_kdf_round_count_is_written_into_the_key() -> None:
    pem = keys.private_key_to_pem(keys.generate_private_key(), b"pw")
    blob = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    # openssh-key-v1\0, cipher, kdfname, kdfoptions = string(salt) uint32(rounds)
    i = len(b"openssh-key-v1\0")
    for _ in range(2):
        (n,) = struct.unpack(">I", blob[i : i + 4])
        i += 4 + n
    (opts_len,) = struct.unpack(">I", blob[i : i + 4])
    opts = blob[i + 4 : i + 4 + opts_len]
    (salt_len,) = struct.unpack(">I", opts[:4])
    (rounds,) = struct.unpack(">I", opts[4 + salt_len : 8 + salt_len])
    assert rounds == keys.DEFAULT_KDF_ROUNDS == 100


def test_a_wrong_passphrase_raises_a_provenance_error() -> None:
    pem = keys.private_key_to_pem(keys.generate_private_key(), b"right", rounds=2)
    with pytest.raises(ProvenanceError, match="wrong passphrase"):
        keys.load_private_key(pem, b"wrong")
    with pytest.raises(ProvenanceError):
        keys.load_private_key(pem, None)
    with pytest.raises(ProvenanceError):
        keys.load_private_key(b"not a key", b"right")


def test_an_empty_passphrase_is_refused() -> None:
    with pytest.raises(ProvenanceError, match="must not be empty"):
        keys.private_key_to_pem(keys.generate_private_key(), b"")


def test_unencrypted_and_pkcs8_keys_still_load() -> None:
    private = keys.generate_private_key()
    assert keys.public_bytes(keys.load_private_key(keys.private_key_to_pem(private, None), None)) == keys.public_bytes(
        private
    )
    pkcs8 = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    )
    assert keys.public_bytes(keys.load_private_key(pkcs8, b"pw")) == keys.public_bytes(private)


def test_a_non_ed25519_key_is_refused() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ProvenanceError, match="not an Ed25519 key"):
        keys.load_private_key(pem, None)
