"""tlog-cosignature/v1: the witness vkey, the exact signed bytes and line layout, and verification."""

from __future__ import annotations

import base64
import hashlib

import pytest

from provenance import checkpoint as cp
from provenance import cosignature
from provenance.errors import VerificationError
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.issue.sign import cosign_checkpoint, sign_checkpoint
from tests.provenance.spec_cosignature import spec_verify_line, spec_vkey

ORIGIN = "registry.example.org/log"
WITNESS = "witness.example.org/w1"
ROOT = hashlib.sha256(b"root").digest()
T = 1_700_000_000


def _cosigned(size: int = 7, timestamp: int = T) -> tuple[str, str, bytes]:
    log, witness = generate_private_key(), generate_private_key()
    note = sign_checkpoint(ORIGIN, size, ROOT, log)
    body = note[: note.index("\n\n") + 1]
    line = cosign_checkpoint(body, timestamp, name=WITNESS, key=witness)
    return note + line, line, public_bytes(witness)


def test_the_witness_vkey_has_type_0x04_and_the_specs_key_id() -> None:
    pub = public_bytes(generate_private_key())
    vkey = cosignature.witness_verifier_key(WITNESS, pub)
    assert vkey == spec_vkey(WITNESS, pub)
    parsed = cosignature.parse_witness_key(vkey)
    assert (parsed.name, parsed.alg, parsed.public_key, str(parsed)) == (WITNESS, 4, pub, vkey)
    # The same key as a log (type 0x01) key is another vkey, with another key ID.
    assert cp.verifier_key(WITNESS, pub).split("+")[1] != vkey.split("+")[1]


def test_the_signed_message_is_header_time_line_and_body_byte_for_byte() -> None:
    body = f"{ORIGIN}\n7\n{base64.b64encode(ROOT).decode()}\n"
    assert cosignature.cosigned_message(body, 1679315147) == (b"cosignature/v1\ntime 1679315147\n" + body.encode())
    assert cosignature.cosigned_message(body, 0).startswith(b"cosignature/v1\ntime 0\n")


def test_a_cosignature_line_verifies_with_the_spec_written_verifier_and_with_provenance() -> None:
    note, line, pub = _cosigned()
    body = note[: note.index("\n\n") + 1]
    assert spec_verify_line(body, line, WITNESS, pub) == T
    raw = base64.b64decode(line.split(" ")[2])
    assert len(raw) == 76 and raw[4:12] == T.to_bytes(8, "big")
    got = cosignature.verify_cosignature(
        cp.parse_checkpoint(note), cosignature.parse_witness_key(spec_vkey(WITNESS, pub))
    )
    assert got == cosignature.Cosignature(WITNESS, T)


def test_a_cosignature_does_not_verify_as_a_plain_note_signature_nor_over_another_size() -> None:
    note, line, pub = _cosigned()
    parsed = cp.parse_checkpoint(note)
    # As a type 0x01 key the ID differs: the line is someone else's and is ignored.
    assert not parsed.signed_by(cp.parse_verifier_key(cp.verifier_key(WITNESS, pub), alg=cp.ALG_ED25519))
    moved = note.replace("\n7\n", "\n8\n", 1)
    with pytest.raises(VerificationError, match="does not verify"):
        cosignature.verify_cosignature(
            cp.parse_checkpoint(moved), cosignature.parse_witness_key(spec_vkey(WITNESS, pub))
        )


def test_a_changed_timestamp_breaks_the_cosignature() -> None:
    note, line, pub = _cosigned()
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[11] ^= 1
    forged = note.replace(line, f"\u2014 {WITNESS} {base64.b64encode(bytes(raw)).decode()}\n")
    with pytest.raises(VerificationError, match="does not verify"):
        cosignature.verify_cosignature(
            cp.parse_checkpoint(forged), cosignature.parse_witness_key(spec_vkey(WITNESS, pub))
        )


def test_the_newest_valid_cosignature_of_a_witness_counts() -> None:
    note, line, pub = _cosigned(timestamp=T)
    witness_key = cosignature.parse_witness_key(spec_vkey(WITNESS, pub))
    truncated = f"\u2014 {WITNESS} {base64.b64encode(base64.b64decode(line.split(' ')[2])[:40]).decode()}\n"
    got = cosignature.verify_cosignature(cp.parse_checkpoint(note + truncated), witness_key)
    assert got.timestamp == T


def test_no_line_of_the_witness_is_its_own_error() -> None:
    note, _, _ = _cosigned()
    other = cosignature.parse_witness_key(
        cosignature.witness_verifier_key(WITNESS, public_bytes(generate_private_key()))
    )
    with pytest.raises(cosignature.NoCosignature):
        cosignature.verify_cosignature(cp.parse_checkpoint(note), other)


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        ("no-plus-signs", "is not <name>"),
        (f"{WITNESS}+0000000+AAAA", "8 lowercase hex"),
        (f"{WITNESS}+00000000+!!", "not valid base64"),
        (f"{WITNESS}+00000000+" + base64.b64encode(b"\x01" + b"k" * 32).decode(), "signature type 0x01, expected 0x04"),
        (f"{WITNESS}+00000000+" + base64.b64encode(b"\x04" + b"k" * 31).decode(), "32 bytes"),
        (f"{WITNESS}+00000000+" + base64.b64encode(b"\x04" + b"k" * 32).decode(), "does not match"),
        ("bad name+00000000+AAAA", "key name"),
    ],
)
def test_malformed_witness_keys_are_refused(vkey: str, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        cosignature.parse_witness_key(vkey)


def test_timestamps_beyond_2_63_minus_1_are_refused() -> None:
    with pytest.raises(VerificationError):
        cosignature.cosigned_message("a\n1\nb\n", 2**63)
