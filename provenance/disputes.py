"""Dispute statements (docs/protocol.md §15): a dispute's steps as log leaves of their own payloadType.

An artist, a rights holder or a platform opens a dispute on one declaration
version (a track and a part, or the release); the label answers; staff resolve,
or the opener withdraws. Every step is a statement signed by the registry and
logged. The log holds references and a **commitment** to the step's text, never
the text: personal data and evidence live in the registry's database, where they
can be deleted on request; the commitment (SHA-256 over a random nonce and the
text) then matches nothing anyone can guess, and the leaf stays verifiable.

A dispute's steps form a hash chain (``sequence`` from 1, ``previous`` the leaf
hash of the step before), as a label's key events do (§14.1). A dispute never
changes a declaration: an amendment is a new declaration version, as always.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from provenance import jcs
from provenance.bundle import Result, Verifier
from provenance.errors import ProvenanceError, VerificationError
from provenance.identifiers import normalize_gtin, normalize_isrc
from provenance.vocabulary import PARTS

DISPUTE_PAYLOAD_TYPE = "application/vnd.ai-disclosure.dispute.v1+json"
DISPUTE_SCHEMA = "ai-disclosure/dispute/v1"
STEPS = ("opened", "answered", "resolved")
OPENER_ROLES = ("artist", "rights_holder", "platform")
ROLES = (*OPENER_ROLES, "label", "staff")
# What a dispute is about: a track's part (with an ISRC), the release's artwork (without one), or the
# identifier itself (the ISRC, or without one the UPC): a rights holder says it is not the label's.
DISPUTED_PARTS = (*PARTS, "artwork", "identifier")
# answered: the label will amend (a new declaration version) or contests the claim;
# resolved: staff uphold or reject the claim, or the opener withdraws it.
OUTCOMES = {"opened": (None,), "answered": ("amend", "contest"), "resolved": ("upheld", "rejected", "withdrawn")}
NONCE_BYTES = 32
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MEMBERS = {"schema", "registry", "dispute", "declaration", "actor", "outcome", "content_sha256"}


def content_commitment(nonce: bytes, *, text: str, evidence: str) -> str:
    """Hex SHA-256(nonce ‖ JCS({"evidence", "text"})): what the log keeps of a step's words.

    The nonce (32 random bytes, kept with the text) makes a short claim ("vocals are AI")
    impossible to confirm by guessing once the text and nonce are deleted.
    """
    if len(nonce) != NONCE_BYTES:
        raise ProvenanceError(f"the nonce must be {NONCE_BYTES} bytes")
    return hashlib.sha256(nonce + jcs.canonicalize({"evidence": evidence, "text": text})).hexdigest()


def build_dispute_step(
    *,
    registry: str,
    dispute_id: str,
    sequence: int,
    previous: str | None,
    step: str,
    declaration: Mapping[str, Any],
    role: str,
    outcome: str | None,
    content_sha256: str,
) -> dict[str, Any]:
    st = {
        "schema": DISPUTE_SCHEMA,
        "registry": registry,
        "dispute": {"id": dispute_id, "sequence": sequence, "previous": previous, "step": step},
        "declaration": dict(declaration),
        "actor": {"role": role},
        "outcome": outcome,
        "content_sha256": content_sha256,
    }
    return validate_dispute_step(st)


def _exact(value: Any, members: set[str], path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise VerificationError(f"{path} must be an object")
    if set(value) != members:
        extra, missing = set(value) - members, members - set(value)
        what = "; ".join(
            p for p in (f"unknown {', '.join(sorted(extra))}" if extra else "",
                        f"missing {', '.join(sorted(missing))}" if missing else "") if p
        )  # fmt: skip
        raise VerificationError(f"{path}: {what}")
    return value


def _hex64(value: Any, path: str, *, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise VerificationError(f"{path} must be 64 lower-case hex digits")


def validate_dispute_step(value: Any) -> dict[str, Any]:
    """Check a dispute step against docs/protocol.md §15; return it or raise :class:`VerificationError`.

    Parsed strictly: an unknown member is refused (a new member is a new schema version).
    """
    st = _exact(value, _MEMBERS, "the dispute statement")
    if st["schema"] != DISPUTE_SCHEMA:
        raise VerificationError(f"dispute schema must be {DISPUTE_SCHEMA!r}")
    if not isinstance(st["registry"], str) or not st["registry"]:
        raise VerificationError("registry must be a non-empty string")
    d = _exact(st["dispute"], {"id", "sequence", "previous", "step"}, "dispute")
    if not isinstance(d["id"], str) or not _UUID.fullmatch(d["id"]):
        raise VerificationError("dispute.id must be a lower-case UUID")
    seq = d["sequence"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise VerificationError("dispute.sequence must be an integer >= 1")
    if (seq == 1) != (d["previous"] is None):
        raise VerificationError("dispute.previous must be null for sequence 1, else the leaf hash of the step before")
    _hex64(d["previous"], "dispute.previous", nullable=True)
    if d["step"] not in STEPS:
        raise VerificationError(f"unknown dispute step {d['step']!r}")
    if (seq == 1) != (d["step"] == "opened"):
        raise VerificationError("a dispute opens with step 1, and only step 1 is 'opened'")
    decl = _exact(st["declaration"], {"id", "version", "leaf_hash", "upc", "isrc", "part"}, "declaration")
    if not isinstance(decl["id"], str) or not _UUID.fullmatch(decl["id"]):
        raise VerificationError("declaration.id must be a lower-case UUID")
    version = decl["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise VerificationError("declaration.version must be an integer >= 1")
    _hex64(decl["leaf_hash"], "declaration.leaf_hash")
    for name, normalize in (("upc", normalize_gtin), ("isrc", normalize_isrc)):
        if name == "isrc" and decl["isrc"] is None:
            continue
        try:
            compact = normalize(decl[name])
        except ProvenanceError as exc:
            raise VerificationError(f"declaration.{name}: {exc}") from exc
        if compact != decl[name]:
            raise VerificationError(f"declaration.{name} must be in compact form")
    if decl["part"] not in DISPUTED_PARTS:
        raise VerificationError(f"declaration.part must be one of {', '.join(DISPUTED_PARTS)}")
    if decl["part"] == "artwork" and decl["isrc"] is not None:
        raise VerificationError("the artwork names no ISRC")
    if decl["part"] in PARTS and decl["isrc"] is None:
        raise VerificationError("a track's part names its ISRC")
    actor = _exact(st["actor"], {"role"}, "actor")
    allowed = {"opened": OPENER_ROLES, "answered": ("label",), "resolved": (*OPENER_ROLES, "staff")}[d["step"]]
    if actor["role"] not in allowed:
        raise VerificationError(f"a step {d['step']!r} is not taken by role {actor['role']!r}")
    if st["outcome"] not in OUTCOMES[d["step"]]:
        raise VerificationError(f"outcome {st['outcome']!r} is not one of step {d['step']!r}'s")
    if d["step"] == "resolved" and (st["outcome"] == "withdrawn") != (actor["role"] != "staff"):
        raise VerificationError("staff uphold or reject a dispute; only its opener withdraws it")
    _hex64(st["content_sha256"], "content_sha256")
    return st


def parse_dispute_step(payload: bytes) -> dict[str, Any]:
    """Strict protocol JSON, byte for byte its RFC 8785 form, satisfying §15."""
    value = jcs.loads(payload)
    if jcs.canonicalize(value) != payload:
        raise VerificationError("the dispute statement is not in RFC 8785 canonical form")
    return validate_dispute_step(value)


def describe(st: Mapping[str, Any]) -> str:
    """One line for the ``statement_schema`` check and the CLI."""
    d, decl = st["dispute"], st["declaration"]
    on = f"{decl['isrc']} {decl['part']}" if decl["isrc"] else f"release {decl['upc']} {decl['part']}"
    outcome = f" ({st['outcome']})" if st["outcome"] else ""
    return (
        f"{DISPUTE_SCHEMA} statement: dispute {d['id']} step {d['sequence']} {d['step']}{outcome} "
        f"by {st['actor']['role']}, on {on} of declaration v{decl['version']}"
    )


def _parse_for_bundle(payload: bytes) -> tuple[dict[str, Any], None, str]:
    st = parse_dispute_step(payload)
    return st, None, describe(st)  # undated: order is log order (as key events, §14.1)


def verify_dispute_bundle(bundle: Any, verifier: Verifier) -> Result:
    """Checks 1–8 of docs/protocol.md §7 on a dispute step's bundle, with §15's payloadType and schema.

    ``verifier`` is a :class:`provenance.Verifier` (its checkpoint cache is shared);
    the result is a :class:`provenance.bundle.Result` whose ``statement`` is the step.
    """
    return verifier.verify_entry(bundle, payload_type=DISPUTE_PAYLOAD_TYPE, parse=_parse_for_bundle)
