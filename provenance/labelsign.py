"""``python -m provenance keygen|sign|key-jwk``: a label's key, and its signature over a prepared statement (§14.2).

The label signs locally: the registry hands out the exact payload bytes and
payloadType (``POST /api/v1/releases/{upc}/prepare``), ``sign`` prints the DSSE
signature ``{"keyid", "sig"}`` over their PAE, and the label submits it. The
private key never leaves the machine. Signing modules load only when these
commands run, so verifying still loads nothing of provenance.issue.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def _passphrase(path: str | None) -> bytes | None:
    if path:
        return Path(path).read_bytes().rstrip(b"\r\n")
    value = os.environ.get("LABEL_KEY_PASSPHRASE")
    return value.encode() if value else None


def sign_prepared(prepared: dict[str, Any], key: Any) -> dict[str, str]:
    """The label's signature over a prepare answer's payload (library form of ``provenance sign``)."""
    from provenance.dsse import PAYLOAD_TYPE
    from provenance.encoding import b64decode
    from provenance.issue.sign import sign_pae
    from provenance.labelkeys import POLICY_PAYLOAD_TYPE

    payload_type = prepared.get("payloadType")
    # A label signs its declarations and its co-sign-only policy (§14.5): never a key event or unknown type blindly.
    if payload_type not in (PAYLOAD_TYPE, POLICY_PAYLOAD_TYPE):
        raise ValueError(f"refusing to sign payloadType {payload_type!r}: expected {PAYLOAD_TYPE}")
    return sign_pae(b64decode(prepared.get("payload"), "payload"), key, payload_type=payload_type)


def private_jwk(key: Any) -> dict[str, str]:
    """The label key as an RFC 8037 private JWK (``d`` added), for signing in a browser's WebCrypto."""
    from cryptography.hazmat.primitives import serialization

    from provenance.encoding import b64url_encode
    from provenance.issue.keys import public_bytes
    from provenance.labelkeys import label_key_jwk

    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return {**label_key_jwk(public_bytes(key)), "d": b64url_encode(raw)}


def cmd_key_jwk(args: argparse.Namespace) -> int:
    from provenance.errors import ProvenanceError
    from provenance.issue.keys import load_private_key

    try:
        key = load_private_key(Path(args.key).read_bytes(), _passphrase(args.passphrase_file))
    except (OSError, ValueError, ProvenanceError) as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 1
    print("warning: this is the PRIVATE key: paste it only into the registry's co-sign page", file=sys.stderr)
    print(json.dumps(private_jwk(key)))
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from provenance.issue.keys import generate_private_key, private_key_to_pem, public_bytes
    from provenance.labelkeys import label_key_jwk

    passphrase = _passphrase(args.passphrase_file)
    if passphrase is None:
        print("warning: no passphrase (LABEL_KEY_PASSPHRASE or --passphrase-file): stored unencrypted", file=sys.stderr)
    key = generate_private_key()
    try:  # O_EXCL: never overwrite a key
        fd = os.open(args.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"ERROR {args.key} exists; a key is never overwritten", file=sys.stderr)
        return 1
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_key_to_pem(key, passphrase))
    print(json.dumps(label_key_jwk(public_bytes(key))))  # the public JWK to register with the registry
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    from provenance import jcs
    from provenance.dsse import PAYLOAD_TYPE
    from provenance.errors import ProvenanceError
    from provenance.issue.keys import load_private_key

    try:
        key = load_private_key(Path(args.key).read_bytes(), _passphrase(args.passphrase_file))
        prepared = jcs.loads(Path(args.file).read_bytes() if args.file != "-" else sys.stdin.buffer.read())
        if not isinstance(prepared, dict):
            raise ProvenanceError("the prepared file must be a JSON object with payload and payloadType")
        signature = sign_prepared(prepared, key)
        if prepared.get("payloadType") != PAYLOAD_TYPE:  # say what is signed: a policy event, not a declaration
            from provenance.encoding import b64decode
            from provenance.labelkeys import validate_policy_event

            event = validate_policy_event(jcs.loads(b64decode(prepared.get("payload"), "payload")))
            print(f"signing: co-sign-only policy {'ON' if event['cosign_only'] else 'OFF'}", file=sys.stderr)
    except (OSError, ValueError, ProvenanceError) as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 1
    print(json.dumps(signature))
    return 0


def sign_key_event(prepared: dict[str, Any], key: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """A signature over a label's or a platform's key event (docs/protocol.md §14.1, §16.1), and the event
    (to show what is signed).

    Apart from ``sign_prepared`` on purpose: a key event adds or revokes a key, so it is never
    signed by the command a label runs on every declaration; only ``provenance sign-key-event``.
    """
    from provenance import jcs
    from provenance.encoding import b64decode
    from provenance.issue.sign import sign_pae
    from provenance.labelkeys import LABEL, PLATFORM, validate_key_event

    party = {LABEL.payload_type: LABEL, PLATFORM.payload_type: PLATFORM}.get(str(prepared.get("payloadType")))
    if party is None:
        raise ValueError(
            f"refusing to sign payloadType {prepared.get('payloadType')!r}: expected {LABEL.payload_type} "
            f"or {PLATFORM.payload_type}"
        )
    payload = b64decode(prepared.get("payload"), "payload")
    event = validate_key_event(jcs.loads(payload), party)
    return sign_pae(payload, key, payload_type=party.payload_type), event


def cmd_sign_key_event(args: argparse.Namespace) -> int:
    from provenance import jcs
    from provenance.errors import ProvenanceError
    from provenance.issue.keys import load_private_key

    try:
        key = load_private_key(Path(args.key).read_bytes(), _passphrase(args.passphrase_file))
        prepared = jcs.loads(Path(args.file).read_bytes() if args.file != "-" else sys.stdin.buffer.read())
        if not isinstance(prepared, dict):
            raise ProvenanceError("the event file must be a JSON object with payload and payloadType")
        signature, event = sign_key_event(prepared, key)
    except (OSError, ValueError, ProvenanceError) as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 1
    what = "REGISTER" if event["event"] == "register" else "REVOKE"
    owner = event["label"] if "label" in event else event["platform"]
    print(f"signing: {what} key {event['key']['kid']} of {owner['name']}", file=sys.stderr)
    print(json.dumps(signature))
    return 0


def cmd_sign_observation(args: argparse.Namespace) -> int:
    from provenance import jcs
    from provenance.errors import ProvenanceError
    from provenance.issue.keys import load_private_key
    from provenance.observations import sign_prepared_observation

    try:
        key = load_private_key(Path(args.key).read_bytes(), _passphrase(args.passphrase_file))
        prepared = jcs.loads(Path(args.file).read_bytes() if args.file != "-" else sys.stdin.buffer.read())
        if not isinstance(prepared, dict):
            raise ProvenanceError("the prepared file must be a JSON object with payload and payloadType")
        signature = sign_prepared_observation(prepared, key)
    except (OSError, ValueError, ProvenanceError) as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 1
    print(json.dumps(signature))
    return 0


def add_label_parsers(sub: Any) -> None:
    k = sub.add_parser("keygen", help="create a label's Ed25519 key; print its public JWK to register")
    k.add_argument("--key", required=True, help="file to create (OpenSSH PEM, mode 0600)")
    k.add_argument("--passphrase-file", help="encrypt with this file's passphrase (or LABEL_KEY_PASSPHRASE)")
    k.set_defaults(func=cmd_keygen)
    s = sub.add_parser("sign", help="sign a prepared statement (the prepare answer) with a label key")
    s.add_argument("file", help="the prepare answer (JSON with payload and payloadType), or - for stdin")
    s.add_argument("--key", required=True, help="the label's private key (from keygen)")
    s.add_argument("--passphrase-file", help="the key's passphrase file (or LABEL_KEY_PASSPHRASE)")
    s.set_defaults(func=cmd_sign)
    o = sub.add_parser(
        "sign-observation", help="sign a prepared observation (docs/protocol.md §16) with a platform key"
    )
    o.add_argument("file", help="the prepare answer (JSON with payload and payloadType), or - for stdin")
    o.add_argument("--key", required=True, help="the platform's private key (from keygen)")
    o.add_argument("--passphrase-file", help="the key's passphrase file (or LABEL_KEY_PASSPHRASE)")
    o.set_defaults(func=cmd_sign_observation)
    e = sub.add_parser(
        "sign-key-event", help="sign a label's or platform's key event (register or revoke, §14.1, §16.1) with its key"
    )
    e.add_argument("file", help="the key event (JSON with payload and payloadType), or - for stdin")
    e.add_argument(
        "--key",
        required=True,
        help="an active private key of the label or platform (for a register event, not the new one)",
    )
    e.add_argument("--passphrase-file", help="the key's passphrase file (or LABEL_KEY_PASSPHRASE)")
    e.set_defaults(func=cmd_sign_key_event)
    j = sub.add_parser("key-jwk", help="print a label key as a private JWK (to sign in the browser)")
    j.add_argument("--key", required=True, help="the label's private key (from keygen)")
    j.add_argument("--passphrase-file", help="the key's passphrase file (or LABEL_KEY_PASSPHRASE)")
    j.set_defaults(func=cmd_key_jwk)
