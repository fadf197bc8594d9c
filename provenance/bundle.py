"""Bundles (docs/protocol.md §7) and their offline verification, check by check."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from provenance import disclosure, jcs, labelkeys, merkle
from provenance.checkpoint import (
    ALG_ED25519,
    Checkpoint,
    VerifierKey,
    parse_checkpoint,
    parse_verifier_key,
    verifier_key,
    verify_checkpoint,
)
from provenance.dsse import PAYLOAD_TYPE, check_envelope_shape, verify_envelope_message
from provenance.encoding import b64decode
from provenance.errors import ProvenanceError
from provenance.keys import KeySet, PublicKey
from provenance.labelkeys import LabelKeyState
from provenance.policy import Evaluation, Policy, evaluate
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
# Run when the caller passes a lookup answer's ``witnessed`` member (docs/protocol.md §13.4): the
# cosigned checkpoint is signed by the log and extends the bundle's checkpoint.
WITNESSED = "witnessed"
# Run when the verifier has a policy: the (witnessed) checkpoint carries a quorum of cosignatures.
WITNESS_QUORUM = "witness_quorum"
NOT_YET_WITNESSED = "not yet witnessed"
# Run on a co-signed (v2) bundle, or on any bundle when the caller requires a label signature (§14.3).
LABEL_SIGNATURE = "label_signature"
REGISTRY_ONLY = "registry attestation only"
# Parses a payload of another statement kind (a dispute step, docs/protocol.md §15): the statement,
# its date when it has one (checked against the key's window, §4), and the statement_schema detail.
EntryParser = Callable[[bytes], tuple[dict[str, Any], datetime | None, str]]


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
    # The witness checks this run asked for (WITNESSED, WITNESS_QUORUM), in order.
    witness_checks: tuple[str, ...] = ()
    checkpoint_note: str | None = None
    witnessed: Checkpoint | None = None  # the cosigned checkpoint the bundle was proven consistent with
    witnessed_note: str | None = None
    evaluation: Evaluation | None = None  # the policy's verdict on the (witnessed) checkpoint
    # Check 6's finding when the witnessed checkpoint proved the bundle's root: (its checkpoint, its detail),
    # so that the ``witnessed`` check does not verify the same consistency proof again.
    proven_by: tuple[Checkpoint, str] | None = field(default=None, repr=False)
    # Whether the label_signature check is part of this verification, and who signed (§14.3).
    label_checked: bool = False
    label_key: LabelKeyState | None = None
    attestation: str = REGISTRY_ONLY
    # Set for a statement of another kind (Verifier.verify_entry): its one-line description.
    entry: str | None = None
    # Checks a statement kind runs after checks 1–8 (an observation's platform_signature, §16.3).
    entry_checks: tuple[str, ...] = ()

    @property
    def expected(self) -> tuple[str, ...]:
        label = (LABEL_SIGNATURE,) if self.label_checked else ()
        asked = (IDENTIFIER,) if self.question else ()
        return (*CHECKS, *label, *self.entry_checks, *asked, *self.witness_checks)

    def _passed(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def valid(self) -> bool:
        return len(self.checks) == len(self.expected) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> Check | None:
        return next((c for c in self.checks if not c.ok), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"valid": self.valid, "checks": [c.to_dict() for c in self.checks]}
        if self.label_checked or self.entry_checks:  # a label's key (§14.3), a platform's (§16.3)
            out["signed_by"] = self.attestation if self.valid else None
        if self.question:
            out["disclosure"] = self.disclosure if self.valid else None
        if self.evaluation is not None:
            out["cosigned_by"] = dict(sorted(self.evaluation.cosigned.items())) if self.valid else None
        return out

    def summary(self) -> str:
        if not self.valid:
            failed = self.failed
            return f"INVALID {failed.name}: {failed.detail}" if failed else "INVALID"
        st = self.statement or {}
        decl, rel = st.get("declaration", {}), st.get("release", {})
        assert self.checkpoint is not None and self.key is not None
        if self.entry is not None:
            where = f"leaf {self.index} of {self.checkpoint.size} in {self.checkpoint.origin}"
            signed = f"; {self.attestation}" if self.entry_checks else ""  # a platform's key (§16.3)
            return f"VALID: {self.entry}; {where}; statement key {self.key.kid}{signed}"
        asked = ""
        if self.question and self.disclosure is not None:
            d = self.disclosure
            answered = [f"ISRC {d['track']['isrc']}"] if "isrc" in self.question else []
            answered += [f"UPC {d['release']['upc']}"] if "upc" in self.question else []
            asked = "; answers " + " and ".join(answered)
        witnessed = ""
        if self.witnessed is not None:
            witnessed = f"; witnessed at size {self.witnessed.size}"
        if self.evaluation is not None:
            witnessed += f"; quorum met by {', '.join(sorted(self.evaluation.cosigned)) or 'none needed'}"
        return (
            f"VALID: release {rel.get('upc')} {rel.get('title')!r} declaration v{decl.get('version')} "
            f"{decl.get('status')}, contains_ai={rel.get('contains_ai')}; leaf {self.index} of "
            f"{self.checkpoint.size} in {self.checkpoint.origin}; statement key {self.key.kid}{asked}{witnessed}"
        )


class Verifier:
    """Verifies bundles against one JWKS. Reuse it: verified checkpoints are cached.

    Many bundles share a checkpoint (a feed page, a bulk answer), so each
    distinct signed note is verified once; a bundle then costs one Ed25519
    verification plus O(log n) hashes.
    """

    def __init__(
        self,
        keys: KeySet,
        *,
        policy: Policy | None = None,
        max_age: int | None = None,
        require_label_signature: bool = False,
    ) -> None:
        """``policy`` (a pinned C2SP tlog-policy, :func:`provenance.parse_policy`) adds the
        ``witness_quorum`` check; ``max_age`` (seconds) makes older cosignatures not count;
        ``require_label_signature`` refuses a bundle only the registry vouches for (§14.3)."""
        self.keys = keys
        self.policy = policy
        self.max_age = max_age
        self.require_label_signature = require_label_signature
        self._checkpoints: dict[str, tuple[Checkpoint | None, str]] = {}
        self._histories: dict[tuple[tuple[int, bytes], ...], labelkeys.KeyHistory] = {}
        self._evaluations: dict[tuple[str, int, str], Evaluation] = {}
        self._event_leaves: dict[tuple[str, str, tuple[tuple[str | None, str], ...]], bytes] = {}

    @classmethod
    def from_jwks(
        cls,
        jwks: Any,
        *,
        policy: Policy | None = None,
        max_age: int | None = None,
        require_label_signature: bool = False,
    ) -> Verifier:
        return cls(
            KeySet.from_jwks(jwks), policy=policy, max_age=max_age, require_label_signature=require_label_signature
        )

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

    def verify(
        self,
        bundle: Any,
        *,
        isrc: str | None = None,
        upc: str | None = None,
        witnessed: Any = None,
        now: int | None = None,
    ) -> Result:
        """Run the checks of docs/protocol.md §7 in order, stopping at the first failure.

        ``bundle`` is the bundle's raw JSON (``bytes``), parsed strictly here,
        or an already parsed value. Prefer the bytes: a parsed dict has already
        silently dropped a duplicated member.

        Pass the ``isrc`` and/or ``upc`` you looked up: a ninth check,
        ``identifier``, then requires the signed statement to cover it, and
        ``Result.disclosure`` is what to display, derived from the statement.
        Without them a valid result only says that *some* declaration was
        signed and logged, not that it answers your question.

        Pass a lookup answer's ``witnessed`` member to check that its
        cosigned checkpoint extends the bundle's (``witnessed``); with a
        ``policy`` the (witnessed, else the bundle's own) checkpoint must carry
        a quorum of valid cosignatures (``witness_quorum``, docs/protocol.md §13.4).
        """
        question = {kind: value for kind, value in (("isrc", isrc), ("upc", upc)) if value is not None}
        not_yet = isinstance(witnessed, dict) and witnessed.get("status") == NOT_YET_WITNESSED
        wanted: tuple[str, ...] = (WITNESSED,) if witnessed is not None and not not_yet else ()
        wanted += (WITNESS_QUORUM,) if self.policy is not None else ()
        result = Result(question=question, witness_checks=wanted)
        self._verify(bundle, result, witnessed=witnessed if WITNESSED in wanted else None)
        base = len(CHECKS) + (1 if result.label_checked else 0)  # the bundle's own checks, the label's included
        if question and result.statement is not None and len(result.checks) == base and result._passed():
            try:
                detail, result.disclosure = disclosure.answer(result.statement, isrc=isrc, upc=upc)
            except ProvenanceError as exc:
                result.checks.append(Check(IDENTIFIER, False, str(exc)))
            else:
                result.checks.append(Check(IDENTIFIER, True, detail))
        if WITNESSED in wanted and result._passed() and len(result.checks) >= len(CHECKS):
            result.checks.append(self._witnessed(result, witnessed))
        if WITNESS_QUORUM in wanted and result._passed() and len(result.checks) >= len(CHECKS):
            result.checks.append(self._quorum(result, now, not_yet))
        return result

    def verify_entry(self, bundle: Any, *, payload_type: str, parse: EntryParser) -> Result:
        """Checks 1–8 on the v1 bundle of another statement kind: its own payloadType and parser.

        Used for dispute steps (``provenance.disputes.verify_dispute_bundle``); a declaration's
        verification never accepts another kind, and this never accepts a declaration.
        """
        result = Result()
        self._verify(bundle, result, payload_type=payload_type, parse=parse)
        if result.valid:
            result.entry = next(c.detail for c in result.checks if c.name == "statement_schema")
        return result

    def _witnessed(self, result: Result, witnessed: Any) -> Check:
        """The cosigned checkpoint is the log's and an RFC 9162 consistency proof leads to it from the bundle's."""
        assert result.checkpoint is not None
        if result.proven_by is not None:  # check 6 verified this very proof, to this very checkpoint
            cp, detail = result.proven_by
        else:
            try:
                cp, detail = self._witnessed_proof(witnessed, result.checkpoint)
            except ProvenanceError as exc:
                return Check(WITNESSED, False, str(exc))
        result.witnessed, result.witnessed_note = cp, witnessed["checkpoint"]
        return Check(
            WITNESSED,
            True,
            f"the checkpoint of size {cp.size} ({detail}) extends the bundle's of size {result.checkpoint.size}",
        )

    def _quorum(self, result: Result, now: int | None, not_yet: bool) -> Check:
        assert self.policy is not None and result.checkpoint is not None
        note = result.witnessed_note or result.checkpoint_note or ""
        origin = result.checkpoint.origin
        # A policy without a line for this log leaves its key to context: the JWKS checkpoint keys.
        logs: list[VerifierKey] = []
        if not self.policy.logs_for(origin):
            logs = [
                parse_verifier_key(verifier_key(origin, key.raw), alg=ALG_ED25519)
                for key in self.keys.of_purpose("checkpoint")
                if key.status != "revoked"
            ]
        now = int(time.time()) if now is None else now
        # Bundles answered together share their witnessed checkpoint: its cosignatures are checked once per
        # note and second (``max_age`` counts in whole seconds), not once per bundle.
        cache_key = (note, now, origin)
        ev = self._evaluations.get(cache_key)
        if ev is None:
            ev = evaluate(note, self.policy, now=now, max_age=self.max_age, logs=logs)
            if len(self._evaluations) > 1_000:
                self._evaluations.clear()
            self._evaluations[cache_key] = ev
        result.evaluation = ev
        which = f"the checkpoint of size {ev.checkpoint.size if ev.checkpoint else '?'}"
        if not ev.valid:
            hint = " (the answer was not yet witnessed: ask again after the registry's next witness round)"
            return Check(WITNESS_QUORUM, False, f"{which}: " + "; ".join(ev.problems) + (hint if not_yet else ""))
        ages = ", ".join(f"{name} {max(0, now - t)} s ago" for name, t in sorted(ev.cosigned.items()))
        return Check(WITNESS_QUORUM, True, f"{which}: quorum {self.policy.quorum!r} met ({ages or 'none needed'})")

    def _witnessed_proof(self, witnessed: Any, cp: Checkpoint) -> tuple[Checkpoint, str]:
        """The witnessed checkpoint (and its signature's detail) if it is the log's and a consistency proof leads
        to it from ``cp``; ProvenanceError saying what does not hold. Checks 6 and ``witnessed`` both ask this."""
        if not isinstance(witnessed, dict) or not isinstance(witnessed.get("checkpoint"), str):
            raise ProvenanceError("witnessed must be an object with a checkpoint note")
        hashes = witnessed.get("consistency_proof")
        if not isinstance(hashes, list) or len(hashes) > 64:
            raise ProvenanceError("witnessed.consistency_proof must be a list of at most 64 hashes")
        proof = [b64decode(h, "consistency proof hash") for h in hashes]
        w, detail = self._checkpoint(witnessed["checkpoint"])
        if w is None:
            raise ProvenanceError(f"the witnessed checkpoint: {detail}")
        if w.origin != cp.origin:
            raise ProvenanceError(f"the witnessed checkpoint is of {w.origin!r}, not {cp.origin!r}")
        merkle.verify_consistency(cp.size, w.size, cp.root, w.root, proof)
        return w, detail

    def _proven_by_witnessed(
        self, cp_text: str, origin: str, size: int, witnessed: Any, result: Result
    ) -> tuple[Checkpoint, str] | None:
        """The bundle's checkpoint, when a witnessed checkpoint whose signature verifies proves its root.

        An RFC 9162 consistency proof from (size, root) to a checkpoint signed by
        the log authenticates that root as the log's at that size, so the
        bundle's own checkpoint signature adds nothing (docs/protocol.md §7,
        check 6; §13.4). The witnessed checkpoint is verified once per note
        (cached), so bundles that share it cost one signature check each, not
        two. ``None`` when anything does not hold: the caller then verifies the
        bundle's checkpoint signature as usual, and ``witnessed`` reports why.
        """
        try:
            cp = parse_checkpoint(cp_text)
            if cp.origin != origin or cp.size != size:
                return None
            w, detail = self._witnessed_proof(witnessed, cp)
        except (ProvenanceError, KeyError, TypeError):
            return None
        result.proven_by = w, detail
        return cp, f"its root is proven by the witnessed checkpoint of size {w.size} ({detail})"

    def _verify(
        self,
        bundle: Any,
        result: Result,
        *,
        payload_type: str = PAYLOAD_TYPE,
        parse: EntryParser | None = None,
        witnessed: Any = None,
    ) -> None:
        add = result.checks.append

        # 1. shape
        try:
            if isinstance(bundle, bytes | bytearray | memoryview):
                bundle = loads(bytes(bundle))
            if not isinstance(bundle, dict):
                raise ProvenanceError("the bundle must be a JSON object")
            if parse is not None and bundle.get("mediaType") != MEDIA_TYPE:
                raise ProvenanceError(f"mediaType must be {MEDIA_TYPE}")
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
        result.label_checked = parse is None and (cosigned or self.require_label_signature)

        # 2. signature over the exact bytes, before anything is parsed
        try:
            payload, message, key = verify_envelope_message(envelope, self.keys, purpose="statement")
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
        if envelope["payloadType"] != payload_type:
            add(Check("payload_type", False, f"payloadType is {envelope['payloadType']!r}, expected {payload_type}"))
            return
        add(Check("payload_type", True, payload_type))

        # 4. statement
        if parse is not None:  # another statement kind (docs/protocol.md §15)
            try:
                statement, dated, detail = parse(payload)
            except (ProvenanceError, ValueError) as exc:
                add(Check("statement_schema", False, str(exc)))
                return
            if dated is not None and not key.valid_at(dated):
                add(Check("statement_schema", False, f"dated outside the window {key.window()} of key {key.kid}"))
                return
            result.statement = statement
            add(Check("statement_schema", True, detail))
        else:
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
                    "statement_schema",
                    True,
                    f"ai-disclosure/v1 statement, version {statement['declaration']['version']}",
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

        # 6. checkpoint signature (or its root proven by a witnessed checkpoint that verifies)
        proven = self._proven_by_witnessed(cp_text, origin, size, witnessed, result) if witnessed is not None else None
        cp, detail = proven if proven is not None else self._checkpoint(cp_text)
        if cp is None:
            add(Check("checkpoint_signature", False, detail))
            return
        if cp.origin != origin:
            add(Check("checkpoint_signature", False, f"checkpoint origin {cp.origin!r} is not {origin!r}"))
            return
        result.checkpoint, result.checkpoint_note = cp, cp_text
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
            result.label_key = self._label_signature(envelope, message, statement, index, size, cp, history)
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
        message: bytes,
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
            leaf = self._event_leaf(event_envelope)
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
        return labelkeys.check_label_signature(envelope, statement, index, replayed, message=message)

    def _event_leaf(self, envelope: dict[str, Any]) -> bytes:
        """A key event's leaf hash, computed once per distinct event: every bundle of a label carries the same ones.

        Keyed by the envelope's members themselves (a key equal exactly when the members
        are, so equal keys mean equal RFC 8785 bytes); any other shape is hashed each time.
        """
        key = _envelope_key(envelope)
        if key is None:
            return envelope_leaf_hash(envelope)
        leaf = self._event_leaves.get(key)
        if leaf is None:
            if len(self._event_leaves) > 10_000:
                self._event_leaves.clear()
            leaf = self._event_leaves[key] = envelope_leaf_hash(envelope)
        return leaf


def _envelope_key(envelope: dict[str, Any]) -> tuple[str, str, tuple[tuple[str | None, str], ...]] | None:
    """(payloadType, payload, ((keyid, sig), …)) of an envelope of exactly the DSSE members, else None."""
    if envelope.keys() != _DSSE_MEMBERS:
        return None
    sigs = []
    for sig in envelope["signatures"]:
        keyid = sig.get("keyid")
        if not sig.keys() <= _SIG_MEMBERS or not isinstance(sig["sig"], str) or ("keyid" in sig and keyid is None):
            return None  # check_envelope_shape made a present keyid a string
        sigs.append((keyid, sig["sig"]))
    return envelope["payloadType"], envelope["payload"], tuple(sigs)


_DSSE_MEMBERS = {"payloadType", "payload", "signatures"}
_SIG_MEMBERS = {"keyid", "sig"}


def _count(log: dict[str, Any], name: str) -> int:
    value = log.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProvenanceError(f"log.{name} must be a non-negative integer")
    return value


def verify_bundle(
    bundle: Any,
    jwks: Any,
    *,
    isrc: str | None = None,
    upc: str | None = None,
    witnessed: Any = None,
    policy: Policy | None = None,
    max_age: int | None = None,
) -> Result:
    """One-shot verification; prefer a reused :class:`Verifier` for many bundles."""
    return Verifier.from_jwks(jwks, policy=policy, max_age=max_age).verify(
        bundle, isrc=isrc, upc=upc, witnessed=witnessed
    )
