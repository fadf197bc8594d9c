"""Ed25519 private keys: generation and encrypted storage (the issuer's half of provenance/keys.py).

Private keys are stored as OpenSSH-format PEM encrypted with bcrypt-pbkdf and
a configurable round count (:data:`DEFAULT_KDF_ROUNDS`). We avoid
``BestAvailableEncryption`` for PKCS#8 because cryptography uses only 2048
PBKDF2 iterations there; see docs/protocol.md §11, "Protecting production signing keys".
Unencrypted and PKCS#8 PEM keys still load, for keys handed over by a KMS.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance.errors import ProvenanceError

DEFAULT_KDF_ROUNDS = 100  # bcrypt-pbkdf rounds; OpenSSH's ssh-keygen default is 16


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_to_pem(key: Ed25519PrivateKey, passphrase: bytes | None, *, rounds: int = DEFAULT_KDF_ROUNDS) -> bytes:
    """Serialize for storage on disk; ``passphrase=None`` writes an unencrypted key (tests only)."""
    if passphrase is None:
        encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
    else:
        if not passphrase:
            raise ProvenanceError("the key passphrase must not be empty")
        encryption = serialization.PrivateFormat.OpenSSH.encryption_builder().kdf_rounds(rounds).build(passphrase)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption)


def load_private_key(data: bytes, passphrase: bytes | None) -> Ed25519PrivateKey:
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            key: object = serialization.load_ssh_private_key(data, passphrase)
        else:
            key = serialization.load_pem_private_key(data, passphrase)
    except (ValueError, TypeError) as exc:
        raise ProvenanceError(f"cannot load the private key (wrong passphrase or not a key): {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ProvenanceError("the private key is not an Ed25519 key")
    return key


def public_bytes(key: Ed25519PublicKey | Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key, what a JWK's ``x`` and the key id are made from."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
