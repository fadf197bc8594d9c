"""C2SP checkpoints in signed notes: the exact bytes, Go's verifier key string, parsing and verification."""

from __future__ import annotations

import base64
import hashlib

import pytest

from provenance import checkpoint as cp
from provenance.errors import VerificationError
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import sign_checkpoint
from provenance.keys import parse_jwk, public_jwk

ORIGIN = "registry.example.org/log"
ROOT = hashlib.sha256(b"root").digest()


def _public(private, purpose: str = "checkpoint"):  # type: ignore[no-untyped-def]
    return parse_jwk(public_jwk(public_bytes(private), purpose=purpose))


def test_the_signed_note_has_the_exact_c2sp_layout() -> None:
    key = generate_private_key()
    note = sign_checkpoint(ORIGIN, 42, ROOT, key)
    body = f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\n"
    assert note.startswith(body + "\n\u2014 " + ORIGIN + " ")
    assert note.endswith("\n") and note.count("\n") == 5
    blob = base64.b64decode(note[len(body) + 1 :].split(" ")[2])
    pub = public_bytes(key)
    assert blob[:4] == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + pub).digest()[:4] == cp.key_hash(ORIGIN, pub)
    assert len(blob) == 68
    key.public_key().verify(blob[4:], body.encode())  # the signature covers the three body lines


def test_the_verifier_key_is_gos_note_format() -> None:
    pub = public_bytes(generate_private_key())
    vkey = cp.verifier_key(ORIGIN, pub)
    name, khash, b64 = vkey.split("+", 2)  # base64 may itself contain "+"
    assert name == ORIGIN
    assert khash == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + pub).digest()[:4].hex() and len(khash) == 8
    assert base64.b64decode(b64) == b"\x01" + pub


def test_a_checkpoint_parses_and_verifies_with_its_key() -> None:
    key = generate_private_key()
    parsed = cp.parse_checkpoint(sign_checkpoint(ORIGIN, 7, ROOT, key))
    assert (parsed.origin, parsed.size, parsed.root, parsed.extensions) == (ORIGIN, 7, ROOT, ())
    parsed.verify(_public(key))


def test_extension_lines_are_kept_and_signed() -> None:
    key = generate_private_key()
    body = cp.checkpoint_body(ORIGIN, 3, ROOT, ("ext one",))
    sig = cp.key_hash(ORIGIN, public_bytes(key)) + key.sign(body.encode())
    parsed = cp.parse_checkpoint(f"{body}\n\u2014 {ORIGIN} {base64.b64encode(sig).decode()}\n")
    assert parsed.extensions == ("ext one",)
    parsed.verify(_public(key))


def test_a_note_signed_by_another_key_does_not_verify() -> None:
    note = sign_checkpoint(ORIGIN, 7, ROOT, generate_private_key())
    with pytest.raises(VerificationError, match="has no signature by key"):
        cp.parse_checkpoint(note).verify(_public(generate_private_key()))


def test_a_note_with_a_matching_key_hash_but_a_forged_signature_does_not_verify() -> None:
    key = generate_private_key()
    note = sign_checkpoint(ORIGIN, 7, ROOT, key)
    body, _, sig_line = note.rpartition("\n\n")
    blob = base64.b64decode(sig_line.split(" ")[2])
    forged = blob[:4] + bytes([blob[4] ^ 1]) + blob[5:]
    note = f"{body}\n\n\u2014 {ORIGIN} {base64.b64encode(forged).decode()}\n"
    with pytest.raises(VerificationError, match="does not verify"):
        cp.parse_checkpoint(note).verify(_public(key))


@pytest.mark.parametrize(("old", "new"), [("\n7\n", "\n8\n"), (ORIGIN + "\n", "registry.example.org/other\n")])
def test_a_tampered_body_does_not_verify(old: str, new: str) -> None:
    key = generate_private_key()
    note = sign_checkpoint(ORIGIN, 7, ROOT, key).replace(old, new, 1)
    with pytest.raises(VerificationError):
        cp.parse_checkpoint(note).verify(_public(key))


def test_a_tampered_root_does_not_verify() -> None:
    key = generate_private_key()
    note = sign_checkpoint(ORIGIN, 7, ROOT, key)
    other = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    note = note.replace(base64.b64encode(ROOT).decode(), other)
    with pytest.raises(VerificationError, match="does not verify"):
        cp.parse_checkpoint(note).verify(_public(key))


def _note(size: str = "7", root: str | None = None, sig: str | None = None, sep: str = "\n\n") -> str:
    key = generate_private_key()
    good = sign_checkpoint(ORIGIN, 7, ROOT, key)
    body, _, sig_line = good.rpartition("\n\n")
    lines = body.split("\n")
    lines[1] = size
    if root is not None:
        lines[2] = root
    return "\n".join(lines) + sep + (sig if sig is not None else sig_line)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_note(sep="\n"), "no blank line"),
        (_note(size="01"), "is not a decimal number"),
        (_note(size="-1"), "is not a decimal number"),
        (_note(size=" 7"), "is not a decimal number"),
        (_note(size="7.0"), "is not a decimal number"),
        (_note(root="not base64!"), "root hash is not valid base64"),
        (_note(root=base64.b64encode(b"short").decode()), "must be 32 bytes"),
        (_note(sig=""), "is not signed"),
        (_note(sig=f"\u2014 {ORIGIN} !!!\n"), "signature is not valid base64"),
        (_note(sig=f"- {ORIGIN} AAAAAAAA\n"), "malformed signature line"),
        (_note(sig=f"\u2014 {ORIGIN} AAAA\n"), "too short"),
        (_note().rstrip("\n"), "must end with a newline"),
        (_note().replace("\n", "\r\n"), "not a signed note"),
        (f"{ORIGIN}\n7\n\n\u2014 {ORIGIN} AAAAAAAA\n", "needs origin, size and root hash lines"),
        (_note().replace(ORIGIN + "\n", "bad origin\n", 1), "origin must be"),
        (7, "must be text"),
    ],
)
def test_malformed_notes_are_refused(text: object, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        cp.parse_checkpoint(text)


def test_a_note_with_several_signatures_verifies_with_the_one_that_matches() -> None:
    mine, witness = generate_private_key(), generate_private_key()
    note = sign_checkpoint(ORIGIN, 7, ROOT, mine)
    body = note[: note.index("\n\n") + 1]
    witness_sig = cp.key_hash("witness.example", public_bytes(witness)) + witness.sign(body.encode())
    note = note + f"\u2014 witness.example {base64.b64encode(witness_sig).decode()}\n"
    parsed = cp.parse_checkpoint(note)
    assert len(parsed.signatures) == 2
    parsed.verify(_public(mine))
    with pytest.raises(VerificationError):
        parsed.verify(_public(witness))  # its signature is under another name, not the origin
