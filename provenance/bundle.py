"""Bundles (docs/protocol.md §7) and their offline verification, check by check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provenance import disclosure, jcs, labelkeys, merkle
from provenance.checkpoint import Checkpoint, parse_checkpoint, verify_checkpoint
from provenance.dsse import PAYLOAD_TYPE, check_envelope_shape, verify_envelope
from provenance.encoding import b64decode
from provenance.errors import ProvenanceError
from provenance.keys import KeySet, PublicKey
from provenance.labelkeys import LabelKeyState
from provenance.statement import parse_statement, parse_timestamp

MEDIA_TYPE = "application/vnd.ai-disclosure.bundle.v1+json"
# A co-signed declaration's bundle: v1 plus ``label_keys``, its label's key history (docs/protocol.md §14).
MEDIA_TYPE_COSIGNED = "application/vnd.ai-disclosure.bundle.v2+json"
MEDIA_TYPES = (MEDIA_TYPE, MEDIA_TYPE_COSIGNED)

# The checks, in the order they run (docs/protocol.md §3 and §7).
CHECKS = (
    "bundle_format",
    "statement_signature",
    "payload_type",
    "statement_schema",
    "registry_origin",
    "checkpoint_signature",
    "checkpoint_size",
    "inclusion_proof",
)
# The ninth check, run only when the caller asks about an identifier (docs/protocol.md §7.1).
IDENTIFIER = "identifier"
# Run on a co-signed (v2) bundle, or on any bundle when the caller requires a label signature (§14.3).
LABEL_SIGNATURE = "label_signature"
REGISTRY_ONLY = "registry attestation only"


def loads(data: bytes | str) -> Any:
    """Parse bundle text strictly (docs/protocol.md §2): no duplicate members, no floats.

    A duplicated member is how a hostile mirror shows two parsers two different
    bundles (Python's json keeps the last ``envelope``, a first-wins parser the
    first), so a verifier holding the bytes must refuse it rather than pick one.
    """
    try:
        return jcs.loads(data)
    except ProvenanceError as exc:
        raise ProvenanceError(f"the bundle is not valid protocol JSON: {exc}") from exc


def envelope_leaf_hash(envelope: dict[str, Any]) -> bytes:
    return merkle.leaf_hash(jcs.canonicalize_envelope(envelope))


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class Result:
    checks: list[Check] = field(default_factory=list)
    statement: dict[str, Any] | None = None
    key: PublicKey | None = None
    checkpoint: Checkpoint | None = None
    index: int | None = None
    # What the caller asked about ({"isrc": …, "upc": …}); empty when it asked nothing.
    question: dict[str, str] = field(default_factory=dict)
    # Derived from the verified statement (provenance.disclosure) when a question was answered.
    disclosure: dict[str, Any] | None = None
    # Whether the label_signature check is part of this verification, and who signed (§14.3).
    label_checked: bool = False
    label_key: LabelKeyState | None = None
    attestation: str = REGISTRY_ONLY

    @property
    def expected(self) -> tuple[str, ...]:
        checks = (*CHECKS, LABEL_SIGNATURE) if self.label_checked else CHECKS
        return (*checks, IDENTIFIER) if self.question else checks

    @property
    def valid(self) -> bool:
        return len(self.checks) == len(self.expected) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> Check | None:
        return next((c for c in self.checks if not c.ok), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"valid": self.valid, "checks": [c.to_dict() for c in self.checks]}
        if self.label_checked:
            out["signed_by"] = self.attestation if self.valid else None
        if self.question:
            out["disclosure"] = self.disclosure if self.valid else None
        return out

    def summary(self) -> str:
        if not self.valid:
            failed = self.failed
            return f"INVALID {failed.name}: {failed.detail}" if failed else "INVALID"
        st = self.statement or {}
        decl, rel = st.get("declaration", {}), st.get("release", {})
        assert self.checkpoint is not None and self.key is not None
        asked = ""
        if self.question and self.disclosure is not None:
            d = self.disclosure
            answered = [f"ISRC {d['track']['isrc']}"] if "isrc" in self.question else []
            answered += [f"UPC {d['release']['upc']}"] if "upc" in self.question else []
            asked = "; answers " + " and ".join(answered)
        return (
            f"VALID: release {rel.get('upc')} {rel.get('title')!r} declaration v{decl.get('version')} "
            f"{decl.get('status')}, contains_ai={rel.get('contains_ai')}; leaf {self.index} of "
            f"{self.checkpoint.size} in {self.checkpoint.origin}; statement key {self.key.kid}{asked}"
        )


class Verifier:
    """Verifies bundles against one JWKS. Reuse it: verified checkpoints are cached.

    Many bundles share a checkpoint (a feed page, a bulk answer), so each
    distinct signed note is verified once; a bundle then costs one Ed25519
    verification plus O(log n) hashes.
    """

    def __init__(self, keys: KeySet, *, require_label_signature: bool = False) -> None:
        self.keys = keys
        # Refuse a bundle that only the registry vouches for (docs/protocol.md §14.3).
        self.require_label_signature = require_label_signature
        self._checkpoints: dict[str, tuple[Checkpoint | None, str]] = {}
        self._histories: dict[tuple[tuple[int, bytes], ...], labelkeys.KeyHistory] = {}

    @classmethod
    def from_jwks(cls, jwks: Any, *, require_label_signature: bool = False) -> Verifier:
        return cls(KeySet.from_jwks(jwks), require_label_signature=require_label_signature)

    def _checkpoint(self, text: str) -> tuple[Checkpoint | None, str]:
        cached = self._checkpoints.get(text)
        if cached is not None:
            return cached
        result: tuple[Checkpoint | None, str]
        try:
            cp = parse_checkpoint(text)
            key = verify_checkpoint(cp, self.keys)
        except ProvenanceError as exc:
            result = (None, str(exc))
        else:
            result = (cp, f"signed by checkpoint key {key.kid} ({key.status})")
        if len(self._checkpoints) > 10_000:
            self._checkpoints.clear()
        self._checkpoints[text] = result
        return result

    def verify(self, bundle: Any, *, isrc: str | None = None, upc: str | None = None) -> Result:
        """Run the checks of docs/protocol.md §7 in order, stopping at the first failure.

        ``bundle`` is the bundle's raw JSON (``bytes``), parsed strictly here,
        or an already parsed value. Prefer the bytes: a parsed dict has already
        silently dropped a duplicated member.

        Pass the ``isrc`` and/or ``upc`` you looked up: a ninth check,
        ``identifier``, then requires the signed statement to cover it, and
        ``Result.disclosure`` is what to display, derived from the statement.
        Without them a valid result only says that *some* declaration was
        signed and logged, not that it answers your question.
        """
        question = {kind: value for kind, value in (("isrc", isrc), ("upc", upc)) if value is not None}
        result = Result(question=question)
        self._verify(bundle, result)
        done = len(result.expected) - (1 if question else 0)
        if question and result.statement is not None and len(result.checks) == done and result.checks[-1].ok:
            try:
                detail, result.disclosure = disclosure.answer(result.statement, isrc=isrc, upc=upc)
            except ProvenanceError as exc:
                result.checks.append(Check(IDENTIFIER, False, str(exc)))
            else:
                result.checks.append(Check(IDENTIFIER, True, detail))
        return result

    def _verify(self, bundle: Any, result: Result) -> None:
        add = result.checks.append

        # 1. shape
        try:
            if isinstance(bundle, bytes | bytearray | memoryview):
                bundle = loads(bytes(bundle))
            if not isinstance(bundle, dict):
                raise ProvenanceError("the bundle must be a JSON object")
            if bundle.get("mediaType") not in MEDIA_TYPES:
                raise ProvenanceError(f"mediaType must be {MEDIA_TYPE} (or {MEDIA_TYPE_COSIGNED})")
            cosigned = bundle["mediaType"] == MEDIA_TYPE_COSIGNED
            history = labelkeys.parse_history_member(bundle.get("label_keys")) if cosigned else None
            envelope, log = check_envelope_shape(bundle.get("envelope")), bundle.get("log")
            if not isinstance(log, dict):
                raise ProvenanceError("the bundle has no log object")
            origin, proof_text, cp_text = log.get("origin"), log.get("inclusion_proof"), log.get("checkpoint")
            if not isinstance(origin, str) or not isinstance(cp_text, str):
                raise ProvenanceError("log.origin and log.checkpoint must be strings")
            index, size = _count(log, "index"), _count(log, "tree_size")
            if not isinstance(proof_text, list) or len(proof_text) > 64:
                raise ProvenanceError("log.inclusion_proof must be a list of at most 64 hashes")
            proof = [b64decode(h, "inclusion proof hash") for h in proof_text]
        except ProvenanceError as exc:
            add(Check("bundle_format", False, str(exc)))
            return
        add(Check("bundle_format", True, "bundle structure is well-formed"))
        result.index = index
        result.label_checked = cosigned or self.require_label_signature

        # 2. signature over the exact bytes, before anything is parsed
        try:
            payload, key = verify_envelope(envelope, self.keys, purpose="statement")
        except ProvenanceError as exc:
            add(Check("statement_signature", False, str(exc)))
            return
        result.key = key
        add(
            Check(
                "statement_signature", True, f"Ed25519 signature verifies with statement key {key.kid} ({key.status})"
            )
        )

        # 3. payload type
        if envelope["payloadType"] != PAYLOAD_TYPE:
            add(Check("payload_type", False, f"payloadType is {envelope['payloadType']!r}, expected {PAYLOAD_TYPE}"))
            return
        add(Check("payload_type", True, PAYLOAD_TYPE))

        # 4. statement
        try:
            statement = parse_statement(payload, canonical=True)
            declared_at = parse_timestamp(statement["declaration"]["declared_at"])
        except (ProvenanceError, ValueError) as exc:
            add(Check("statement_schema", False, str(exc)))
            return
        if not key.valid_at(declared_at):
            # A statement key vouches only for statements dated inside its window, whatever its status:
            # a retired key for what it signed while active, an active one not before it existed.
            add(
                Check(
                    "statement_schema",
                    False,
                    f"declared_at {statement['declaration']['declared_at']} is outside the validity window "
                    f"{key.window()} of {key.status} key {key.kid}",
                )
            )
            return
        result.statement = statement
        add(
            Check(
                "statement_schema", True, f"ai-disclosure/v1 statement, version {statement['declaration']['version']}"
            )
        )

        # 5. registry
        if statement["registry"] != origin:
            add(
                Check(
                    "registry_origin",
                    False,
                    f"statement registry {statement['registry']!r} is not the log origin {origin!r}",
                )
            )
            return
        add(Check("registry_origin", True, origin))

        # 6. checkpoint signature
        cp, detail = self._checkpoint(cp_text)
        if cp is None:
            add(Check("checkpoint_signature", False, detail))
            return
        if cp.origin != origin:
            add(Check("checkpoint_signature", False, f"checkpoint origin {cp.origin!r} is not {origin!r}"))
            return
        result.checkpoint = cp
        add(Check("checkpoint_signature", True, detail))

        # 7. sizes agree
        if cp.size != size:
            add(Check("checkpoint_size", False, f"checkpoint size {cp.size} is not log.tree_size {size}"))
            return
        add(Check("checkpoint_size", True, f"tree size {size}"))

        # 8. inclusion
        try:
            leaf = envelope_leaf_hash(envelope)
            merkle.verify_inclusion(index, size, leaf, proof, cp.root)
        except ProvenanceError as exc:
            add(Check("inclusion_proof", False, str(exc)))
            return
        add(Check("inclusion_proof", True, f"leaf {index} is in the tree of size {size} (leaf hash {leaf.hex()})"))

        # 8a. label signature (docs/protocol.md §14.3): only on a co-signed bundle, or when required
        if not result.label_checked:
            return
        if history is None:
            add(Check(LABEL_SIGNATURE, False, f"{REGISTRY_ONLY}: the bundle carries no label key history"))
            return
        try:
            result.label_key = self._label_signature(envelope, statement, index, size, cp, history)
        except ProvenanceError as exc:
            add(Check(LABEL_SIGNATURE, False, str(exc)))
            return
        k = result.label_key
        how = {"staff": "attested by staff", "label": "attested by the label", "recovery": "by staff RECOVERY"}
        result.attestation = (
            f"signed by label key {k.kid} (registered at log index {k.registered_at}, {how[k.attestation]}; "
            f"active at the declaration, log index {index})"
        )
        add(Check(LABEL_SIGNATURE, True, result.attestation))

    def _label_signature(
        self,
        envelope: dict[str, Any],
        statement: dict[str, Any],
        index: int,
        size: int,
        cp: Checkpoint,
        history: list[tuple[int, dict[str, Any], list[bytes]]],
    ) -> LabelKeyState:
        """Replay the bundled key history, each event proven in the bundle's checkpoint, before ``index``."""
        leaves = []
        for event_index, event_envelope, proof in history:
            if event_index >= index:
                raise ProvenanceError(f"key event at log index {event_index} is not before the declaration ({index})")
            leaf = envelope_leaf_hash(event_envelope)
            try:
                merkle.verify_inclusion(event_index, size, leaf, proof, cp.root)
            except ProvenanceError as exc:
                raise ProvenanceError(f"key event at log index {event_index}: {exc}") from exc
            leaves.append((event_index, leaf))
        # A label's history is the same in all its bundles: replayed (its signatures verified) once per
        # distinct chain, keyed by what the inclusion proofs just bound to this bundle's checkpoint.
        cache_key = tuple(leaves)
        replayed = self._histories.get(cache_key)
        if replayed is None:
            replayed = labelkeys.replay([(i, e) for i, e, _ in history], self.keys)
            if len(self._histories) > 10_000:
                self._histories.clear()
            self._histories[cache_key] = replayed
        return labelkeys.check_label_signature(envelope, statement, index, replayed)


def _count(log: dict[str, Any], name: str) -> int:
    value = log.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProvenanceError(f"log.{name} must be a non-negative integer")
    return value


def verify_bundle(bundle: Any, jwks: Any, *, isrc: str | None = None, upc: str | None = None) -> Result:
    """One-shot verification; prefer a reused :class:`Verifier` for many bundles."""
    return Verifier.from_jwks(jwks).verify(bundle, isrc=isrc, upc=upc)
