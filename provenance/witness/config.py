"""The witness's configuration: which logs (origin and note verifier key) it witnesses, and its signing key.

Logs come from ``--log ORIGIN=VKEY`` (or just ``VKEY``: its key name is the
origin) and from a config file of ``log <vkey>`` lines, the log lines of a
tlog-policy file (comments and empty lines allowed; a URL after the key is
ignored). A vkey's name must be the origin (tlog-policy: the log's key name
corresponds to its origin line); an origin may have several keys (rotation).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance.checkpoint import ALG_ED25519, VerifierKey, parse_verifier_key
from provenance.errors import ProvenanceError, VerificationError
from provenance.issue.keys import load_private_key

PASSPHRASE_ENV = "WITNESS_KEY_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret


def parse_log_option(value: str) -> VerifierKey:
    """``ORIGIN=VKEY`` or ``VKEY`` (its key name is the origin). Names hold no '+' but may hold '='."""
    try:
        return parse_verifier_key(value, alg=ALG_ED25519)  # a bare vkey, even one named "a=b"
    except VerificationError:
        pass
    prefix = value.split("+", 1)[0]  # ORIGIN=NAME
    splits = [i for i, c in enumerate(prefix) if c == "="]
    if not splits:
        raise ProvenanceError(f"--log {value!r}: expected ORIGIN=VKEY or VKEY")
    at = next((i for i in splits if prefix[:i] == prefix[i + 1 :]), splits[0])
    origin, text = value[:at], value[at + 1 :]
    try:
        key = parse_verifier_key(text, alg=ALG_ED25519)
    except VerificationError as exc:
        raise ProvenanceError(f"--log {value!r}: {exc}") from exc
    if key.name != origin:
        raise ProvenanceError(f"--log {value!r}: the key is named {key.name!r}, not the origin {origin!r}")
    return key


def parse_log_file(text: str, path: str = "config") -> list[VerifierKey]:
    keys = []
    for number, line in enumerate(text.split("\n"), start=1):
        tokens = line.replace("\t", " ").split()
        if not tokens or tokens[0].startswith("#"):
            continue
        if tokens[0] != "log" or len(tokens) not in (2, 3):
            raise ProvenanceError(f"{path}:{number}: expected 'log <vkey> [<url>]'")
        try:
            keys.append(parse_verifier_key(tokens[1], alg=ALG_ED25519))
        except VerificationError as exc:
            raise ProvenanceError(f"{path}:{number}: {exc}") from exc
    return keys


def logs_by_origin(keys: list[VerifierKey]) -> dict[str, list[VerifierKey]]:
    logs: dict[str, list[VerifierKey]] = {}
    for key in keys:
        if key not in logs.setdefault(key.name, []):
            logs[key.name].append(key)
    return logs


def read_passphrase(passphrase_file: str | None) -> bytes | None:
    """From ``--passphrase-file``, else the WITNESS_KEY_PASSPHRASE environment variable, else none."""
    if passphrase_file:
        try:
            return Path(passphrase_file).read_bytes().strip()
        except OSError as exc:
            raise ProvenanceError(f"cannot read {passphrase_file}: {exc.strerror}") from exc
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def load_key(path: str, passphrase: bytes | None) -> Ed25519PrivateKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ProvenanceError(f"cannot read the witness key {path}: {exc.strerror}") from exc
    return load_private_key(data, passphrase)
