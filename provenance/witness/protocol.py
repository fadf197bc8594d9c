"""The C2SP tlog-witness ``add-checkpoint`` wire format, both sides: request and response bodies.

Pure functions, no I/O, nothing of the issuing side: a log (the registry,
later) builds its request with :func:`add_checkpoint_body` and reads the
answer with :func:`parse_cosignatures` or :func:`parse_conflict`; the witness
parses requests with :func:`parse_add_checkpoint`.

Request body: ``old <size>\\n``, zero to 63 lines of one base64 hash each,
an empty line, then the signed checkpoint note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from provenance.checkpoint import DASH, Checkpoint, parse_checkpoint
from provenance.encoding import b64decode, b64encode
from provenance.errors import VerificationError
from provenance.merkle import HASH_SIZE

PATH = "/add-checkpoint"
MAX_PROOF_LINES = 63
MAX_BODY_BYTES = 256 * 1024  # 63 proof lines are < 3 KiB; the rest is the note and its signatures
MAX_SIZE = 2**63 - 1  # tree sizes are stored as SQLite's signed 64-bit integers
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class RequestError(VerificationError):
    """An add-checkpoint request the witness answers with ``status`` (and ``body``)."""

    def __init__(self, status: int, message: str, body: str | None = None, content_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body if body is not None else message + "\n"
        self.content_type = content_type or "text/plain; charset=utf-8"


def bad_request(message: str) -> RequestError:
    return RequestError(400, message)


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: Checkpoint
    note: str


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], checkpoint: str) -> bytes:
    """The body a log POSTs to ``<submission prefix>/add-checkpoint``."""
    if old_size < 0 or len(proof) > MAX_PROOF_LINES or any(len(h) != HASH_SIZE for h in proof):
        raise VerificationError("an add-checkpoint request has a size >= 0 and at most 63 hashes of 32 bytes")
    return (f"old {old_size}\n" + "".join(b64encode(h) + "\n" for h in proof) + "\n" + checkpoint).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse a request body; a malformed one raises :class:`RequestError` 400."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the request is not UTF-8")
    head, sep, note = text.partition(
        "\n\n"
    )  # neither the size nor a hash line is empty: the first blank line ends them
    if not sep:
        raise bad_request("the request has no empty line before the checkpoint")
    lines = head.split("\n")
    keyword, _, size_text = lines[0].partition(" ")
    if keyword != "old" or not _DECIMAL.fullmatch(size_text) or int(size_text) > MAX_SIZE:
        raise bad_request("the first line must be 'old <size>' with a decimal size without leading zeros")
    hashes = lines[1:]
    if len(hashes) > MAX_PROOF_LINES:
        raise bad_request(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in hashes:
        try:
            h = b64decode(line, "a consistency proof line")
        except VerificationError as exc:
            raise bad_request(str(exc))
        if len(h) != HASH_SIZE:
            raise bad_request(f"a consistency proof line holds {len(h)} bytes, not {HASH_SIZE}")
        proof.append(h)
    try:
        checkpoint = parse_checkpoint(note)
    except VerificationError as exc:
        raise bad_request(f"the checkpoint is malformed: {exc}")
    if checkpoint.size > MAX_SIZE:
        raise bad_request("the checkpoint size exceeds 2^63-1")
    return AddCheckpoint(int(size_text), tuple(proof), checkpoint, note)


def parse_cosignatures(body: bytes | str) -> list[str]:
    """The signature lines of a 200 answer, each ``— <name> <base64>\\n``; append them to the checkpoint note.

    Which of them count is for the caller's trusted witness keys to say
    (:func:`provenance.cosignature.verify_cosignature`): unknown ones are ignored there.
    """
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if not text or not text.endswith("\n"):
        raise VerificationError("a witness answer is one or more newline-terminated signature lines")
    lines = [line + "\n" for line in text.split("\n")[:-1]]
    for line in lines:
        parts = line[:-1].split(" ")
        if len(parts) != 3 or parts[0] != DASH or not parts[1]:
            raise VerificationError(f"not a signature line: {line!r}")
        b64decode(parts[2], "a cosignature")
    return lines


def parse_conflict(body: bytes | str, content_type: str | None) -> int:
    """The witness's size from a 409 answer (``<size>\\n``, ``text/x.tlog.size``): retry with it as old size."""
    text = body.decode("ascii", "replace") if isinstance(body, bytes) else body
    if (content_type or "").split(";")[0].strip() != SIZE_CONTENT_TYPE:
        raise VerificationError(f"a 409 without the {SIZE_CONTENT_TYPE} content type")
    if not text.endswith("\n") or not _DECIMAL.fullmatch(text[:-1]):
        raise VerificationError(f"a 409 body must be a decimal size and a newline, not {text[:40]!r}")
    return int(text[:-1])
