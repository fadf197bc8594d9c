"""Label keys (docs/protocol.md §14): key events in the log, their history, and label signatures on statements.

A label's Ed25519 keys are registered and revoked by **key events**, statements of
their own payloadType logged like declarations. A label's events form a hash chain
(``previous`` names the leaf hash of the label's event before, ``sequence`` counts
them), so the leaf hash of the newest event, the *key head*, pins the whole history.
A co-signed declaration names its label's key head in the signed statement
(``label.key_head``), and its bundle carries every event of the chain with an
inclusion proof against the bundle's own checkpoint: a verifier replays the chain
in log order, offline, and learns which keys were active at the declaration's
index. Log order, never a time the registry writes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from provenance import jcs, merkle
from provenance.dsse import PAYLOAD_TYPE, check_envelope_shape, pae, verify_envelope
from provenance.encoding import b64decode, b64url_decode
from provenance.errors import ProvenanceError, VerificationError
from provenance.keys import KeySet, PublicKey, parse_jwk, public_jwk, thumbprint

KEY_PAYLOAD_TYPE = "application/vnd.ai-disclosure.label-key.v1+json"
KEY_SCHEMA = "ai-disclosure/label-key/v1"
EVENTS = ("register", "revoke")
# Who vouches for the event, besides the registry's signature that every event carries:
# "staff" the registry's staff (a label's first key), "label" an active key of the label
# (its signature is in the envelope), "recovery" staff again after the label lost every key.
ATTESTATIONS = ("staff", "label", "recovery")
HISTORY_MAX = 256  # key events a bundle may carry (a label rotating monthly for 20 years)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# A platform's keys (docs/protocol.md §16.1): the same events and rules, their own payloadType and schema,
# the party named by a "platform" member, and "platform" attestation where a label's says "label".
PLATFORM_KEY_PAYLOAD_TYPE = "application/vnd.ai-disclosure.platform-key.v1+json"
PLATFORM_KEY_SCHEMA = "ai-disclosure/platform-key/v1"


@dataclass(frozen=True)
class Party:
    """Whose keys a key event registers: its wire names. A label's are exactly those of §14.1."""

    member: str  # the statement member naming the party, and its self-attestation
    payload_type: str
    schema: str
    fields: tuple[str, ...]  # members of the party object besides id

    @property
    def attestations(self) -> tuple[str, ...]:
        return ("staff", self.member, "recovery")


LABEL = Party("label", KEY_PAYLOAD_TYPE, KEY_SCHEMA, ("name", "dpid"))
PLATFORM = Party("platform", PLATFORM_KEY_PAYLOAD_TYPE, PLATFORM_KEY_SCHEMA, ("name",))


def label_key_jwk(public_key: bytes) -> dict[str, str]:
    """The key member of a key event: the RFC 8037 public JWK with its RFC 7638 kid."""
    return {"kty": "OKP", "crv": "Ed25519", "x": public_jwk(public_key, purpose="statement")["x"],
            "kid": thumbprint(public_key)}  # fmt: skip


def build_key_event(
    *,
    registry: str,
    label: Mapping[str, Any],
    sequence: int,
    previous: str | None,
    event: str,
    public_key: bytes,
    attestation: str,
    reason: str | None,
    party: Party = LABEL,
) -> dict[str, Any]:
    """A key event of ``label`` (a label's by default; with ``party=PLATFORM``, a platform's: ``{"id", "name"}``)."""
    named = {"id": str(label["id"]), "name": label["name"]}
    if "dpid" in party.fields:
        named["dpid"] = label.get("dpid") or None
    st = {
        "schema": party.schema,
        "registry": registry,
        party.member: named,
        "sequence": sequence,
        "previous": previous,
        "event": event,
        "key": label_key_jwk(public_key),
        "attestation": attestation,
        "reason": reason or None,
    }
    return validate_key_event(st, party)


def validate_key_event(value: Any, party: Party = LABEL) -> dict[str, Any]:
    """Check a key event against docs/protocol.md §14.1 (§16.1 for a platform's); return it or raise."""
    if not isinstance(value, dict):
        raise VerificationError("a key event must be an object")
    required = {"schema", "registry", party.member, "sequence", "previous", "event", "key", "attestation", "reason"}
    missing = required - set(value)
    if missing:
        raise VerificationError(f"the key event has no {', '.join(sorted(missing))}")
    if value["schema"] != party.schema:
        raise VerificationError(f"key event schema must be {party.schema!r}")
    label = value[party.member]
    if not isinstance(label, dict) or not isinstance(label.get("id"), str) or not label["id"]:
        raise VerificationError(f"a key event's {party.member} must have a non-empty string id")
    seq = value["sequence"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise VerificationError("a key event's sequence must be an integer >= 1")
    prev = value["previous"]
    if (seq == 1) != (prev is None) or (prev is not None and not (isinstance(prev, str) and _HEX64.fullmatch(prev))):
        raise VerificationError("previous must be null for sequence 1, else the hex leaf hash of the event before")
    if value["event"] not in EVENTS:
        raise VerificationError(f"unknown key event {value['event']!r}")
    if value["attestation"] not in party.attestations:
        raise VerificationError(f"unknown attestation {value['attestation']!r}")
    if value["reason"] is not None and (not isinstance(value["reason"], str) or len(value["reason"]) > 2000):
        raise VerificationError("a key event's reason must be text of at most 2000 characters, or null")
    key = value["key"]
    if not isinstance(key, dict) or set(key) != {"kty", "crv", "x", "kid"}:
        raise VerificationError("a key event's key must be a JWK with exactly kty, crv, x and kid")
    parse_jwk({**key, "purpose": "statement", "status": "active"})  # kid = thumbprint, 32-byte x
    return value


@dataclass
class LabelKeyState:
    kid: str
    key: PublicKey
    registered_at: int  # log index of the register event
    attestation: str
    revoked_at: int | None = None


@dataclass
class KeyHistory:
    """A label's keys after replaying its key events in log order."""

    label_id: str  # the party's id (a label's, or a platform's for a platform history)
    head: str  # hex leaf hash of the newest event
    keys: dict[str, LabelKeyState] = field(default_factory=dict)
    events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def active(self) -> list[LabelKeyState]:
        return [k for k in self.keys.values() if k.revoked_at is None]


def _as_public(jwk: Mapping[str, str]) -> PublicKey:
    return parse_jwk({**jwk, "purpose": "statement", "status": "active"})


def _verifies(envelope: Mapping[str, Any], key: PublicKey) -> bool:
    message = pae(envelope["payloadType"], b64decode(envelope["payload"], "envelope payload"))
    for sig in envelope["signatures"]:
        if sig.get("keyid") == key.kid and key.verify(b64decode(sig["sig"], "signature"), message):
            return True
    return False


def replay(entries: Sequence[tuple[int, Mapping[str, Any]]], registry_keys: KeySet, party: Party = LABEL) -> KeyHistory:
    """Replay key events ``(log index, envelope)`` in log order; the party's history, or :class:`VerificationError`.

    Each event must be signed by a non-revoked registry statement key, link to the one
    before it, and, when attested by the label, carry a signature by a key that was
    active before it (so the registry alone cannot add or revoke a label's key).
    """
    if not entries:
        raise VerificationError(f"the {party.member} key history is empty")
    if len(entries) > HISTORY_MAX:
        raise VerificationError(f"the label key history has more than {HISTORY_MAX} events")
    history: KeyHistory | None = None
    last_index = -1
    for index, envelope in entries:
        check_envelope_shape(envelope)
        where = f"key event at log index {index}"
        if index <= last_index:
            raise VerificationError(f"{where} is not after the event before it in log order")
        last_index = index
        try:
            payload, _ = verify_envelope(envelope, registry_keys, purpose="statement")
        except VerificationError as exc:
            raise VerificationError(f"{where}: no registry signature verifies ({exc})") from exc
        if envelope["payloadType"] != party.payload_type:
            raise VerificationError(f"{where}: payloadType is {envelope['payloadType']!r}, not {party.payload_type}")
        try:
            event = validate_key_event(jcs.loads(payload), party)
        except ProvenanceError as exc:
            raise VerificationError(f"{where}: {exc}") from exc
        leaf = merkle.leaf_hash(jcs.canonicalize_envelope(dict(envelope))).hex()
        if history is None:
            if event["sequence"] != 1:
                raise VerificationError(f"{where}: the history must start at sequence 1")
            if event["attestation"] == party.member:
                raise VerificationError(
                    f"{where}: a {party.member}'s first key is attested by staff, not by the {party.member}"
                )
            history = KeyHistory(label_id=event[party.member]["id"], head=leaf)
        else:
            if event[party.member]["id"] != history.label_id:
                raise VerificationError(
                    f"{where}: the event is {party.member} {event[party.member]['id']}'s, not {history.label_id}'s"
                )
            if event["sequence"] != len(history.events) + 1 or event["previous"] != history.head:
                raise VerificationError(f"{where}: the event does not follow the one before it (sequence, previous)")
        kid = event["key"]["kid"]
        if event["attestation"] == party.member:
            signers = [k for k in history.active() if _verifies(envelope, k.key)]
            if event["event"] == "register":
                signers = [k for k in signers if k.kid != kid]
            if not signers:
                raise VerificationError(
                    f"{where}: attested by the {party.member}, but no key of the {party.member} active before it signed it"
                )
        if event["event"] == "register":
            if kid in history.keys:
                raise VerificationError(f"{where}: key {kid} is registered already")
            history.keys[kid] = LabelKeyState(kid, _as_public(event["key"]), index, event["attestation"])
        else:
            state = history.keys.get(kid)
            if state is None or state.revoked_at is not None:
                raise VerificationError(f"{where}: revokes key {kid}, which is not an active key of the {party.member}")
            state.revoked_at = index
        history.head = leaf
        history.events.append((index, event))
    assert history is not None
    return history


def check_label_signature(
    envelope: Mapping[str, Any],
    statement: Mapping[str, Any],
    index: int,
    history: KeyHistory,
    *,
    message: bytes | None = None,
) -> LabelKeyState:
    """The label key whose signature over the envelope's PAE counts for a statement at log ``index``.

    ``message``: the envelope's PAE when the caller has it already (the bundle verifier does,
    from checking the registry's signature over the same message), so a co-signed bundle
    decodes and encodes it once.

    The statement must name the history's label and head (``label.id``, ``label.key_head``):
    both are covered by the label's signature, so a registry that hides a later revocation
    or hands out another label's history is caught.
    """
    label = statement["label"]
    if label.get("key_head") is None:
        raise VerificationError("the statement names no label key head (label.key_head): it is not co-signed")
    if label.get("id") != history.label_id:
        raise VerificationError(
            f"the key history is label {history.label_id}'s, the statement label {label.get('id')}'s"
        )
    if label["key_head"] != history.head:
        raise VerificationError("the key history does not end at the statement's label.key_head")
    if message is None:
        message = pae(envelope["payloadType"], b64decode(envelope["payload"], "envelope payload"))
    problems = []
    for sig in envelope["signatures"]:
        state = history.keys.get(sig.get("keyid") or "")
        if state is None:
            continue  # the registry's signature, or a key this label never had
        if state.registered_at >= index:
            problems.append(
                f"label key {state.kid} was registered at log index {state.registered_at}, not before {index}"
            )
        elif state.revoked_at is not None and state.revoked_at < index:
            problems.append(
                f"label key {state.kid} was revoked at log index {state.revoked_at}, before the declaration"
            )
        elif not state.key.verify(b64decode(sig["sig"], "signature"), message):
            problems.append(f"the signature of label key {state.kid} does not verify")
        else:
            return state
    raise VerificationError("; ".join(problems) or "no signature by a key of the label")


# --- the co-sign-only policy (docs/protocol.md §14.5) ------------------------------------------

POLICY_PAYLOAD_TYPE = "application/vnd.ai-disclosure.label-policy.v1+json"
POLICY_SCHEMA = "ai-disclosure/label-policy/v1"
_POLICY_MEMBERS = {"schema", "registry", "label", "sequence", "previous", "cosign_only", "reason"}


def build_policy_event(
    *,
    registry: str,
    label: Mapping[str, Any],
    sequence: int,
    previous: str | None,
    cosign_only: bool,
    reason: str | None,
) -> dict[str, Any]:
    st = {
        "schema": POLICY_SCHEMA,
        "registry": registry,
        "label": {"id": str(label["id"]), "name": label["name"], "dpid": label.get("dpid") or None},
        "sequence": sequence,
        "previous": previous,
        "cosign_only": cosign_only,
        "reason": reason or None,
    }
    return validate_policy_event(st)


def validate_policy_event(value: Any) -> dict[str, Any]:
    """Check a policy event against docs/protocol.md §14.5; return it or raise :class:`VerificationError`."""
    if not isinstance(value, dict) or set(value) != _POLICY_MEMBERS:
        raise VerificationError(f"a policy event is an object with exactly {', '.join(sorted(_POLICY_MEMBERS))}")
    if value["schema"] != POLICY_SCHEMA:
        raise VerificationError(f"policy event schema must be {POLICY_SCHEMA!r}")
    label = value["label"]
    if not isinstance(label, dict) or not isinstance(label.get("id"), str) or not label["id"]:
        raise VerificationError("a policy event's label must have a non-empty string id")
    seq, prev = value["sequence"], value["previous"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise VerificationError("a policy event's sequence must be an integer >= 1")
    if (seq == 1) != (prev is None) or (prev is not None and not (isinstance(prev, str) and _HEX64.fullmatch(prev))):
        raise VerificationError("previous must be null for sequence 1, else the hex leaf hash of the event before")
    if not isinstance(value["cosign_only"], bool):
        raise VerificationError("cosign_only must be true or false")
    if value["reason"] is not None and (not isinstance(value["reason"], str) or len(value["reason"]) > 2000):
        raise VerificationError("a policy event's reason must be text of at most 2000 characters, or null")
    return value


@dataclass
class PolicyState:
    """A label's co-sign-only policy after replaying its policy events in log order."""

    label_id: str
    head: str  # hex leaf hash of the newest policy event
    cosign_only: bool
    changes: list[tuple[int, bool, str]] = field(default_factory=list)  # (log index, cosign_only, signing kid)

    def at(self, index: int) -> bool:
        """Whether the label required co-signature for an entry at log ``index`` (the last change before it)."""
        state = False
        for at, on, _ in self.changes:
            if at < index:
                state = on
        return state


def replay_policy(
    entries: Sequence[tuple[int, Mapping[str, Any]]], registry_keys: KeySet, history: KeyHistory
) -> PolicyState:
    """Replay a label's policy events ``(log index, envelope)`` in log order against its key ``history``.

    Each event must be signed by a non-revoked registry statement key, follow the one before
    it (sequence, previous), and carry a signature by a key of the label registered before it
    and not revoked before it: the registry alone can neither turn the policy on nor off.
    """
    if not entries:
        raise VerificationError("the label policy history is empty")
    state: PolicyState | None = None
    last_index = -1
    for index, envelope in entries:
        check_envelope_shape(envelope)
        where = f"policy event at log index {index}"
        if index <= last_index:
            raise VerificationError(f"{where} is not after the event before it in log order")
        last_index = index
        try:
            payload, _ = verify_envelope(envelope, registry_keys, purpose="statement")
        except VerificationError as exc:
            raise VerificationError(f"{where}: no registry signature verifies ({exc})") from exc
        if envelope["payloadType"] != POLICY_PAYLOAD_TYPE:
            raise VerificationError(f"{where}: payloadType is {envelope['payloadType']!r}, not {POLICY_PAYLOAD_TYPE}")
        try:
            event = validate_policy_event(jcs.loads(payload))
        except ProvenanceError as exc:
            raise VerificationError(f"{where}: {exc}") from exc
        if event["label"]["id"] != history.label_id:
            raise VerificationError(f"{where}: the event is label {event['label']['id']}'s, not {history.label_id}'s")
        expected = (1, None) if state is None else (len(state.changes) + 1, state.head)
        if (event["sequence"], event["previous"]) != expected:
            raise VerificationError(f"{where}: the event does not follow the one before it (sequence, previous)")
        signers = [
            k
            for k in history.keys.values()
            if k.registered_at < index and (k.revoked_at is None or k.revoked_at > index) and _verifies(envelope, k.key)
        ]
        if not signers:
            raise VerificationError(f"{where}: no key of the label active at that index signed it")
        leaf = merkle.leaf_hash(jcs.canonicalize_envelope(dict(envelope))).hex()
        if state is None:
            state = PolicyState(label_id=history.label_id, head=leaf, cosign_only=event["cosign_only"])
        state.head, state.cosign_only = leaf, event["cosign_only"]
        state.changes.append((index, event["cosign_only"], signers[0].kid))
    assert state is not None
    return state


def parse_history_member(value: Any) -> list[tuple[int, dict[str, Any], list[bytes]]]:
    """The bundle's ``label_keys`` member: ``[(index, envelope, inclusion proof)]`` (shape only)."""
    if not isinstance(value, list) or not value or len(value) > HISTORY_MAX:
        raise ProvenanceError(f"label_keys must be a list of 1 to {HISTORY_MAX} key events")
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise ProvenanceError("each label_keys entry must be an object")
        idx, proof = item.get("index"), item.get("inclusion_proof")
        if not isinstance(idx, int) or isinstance(idx, bool) or idx < 0:
            raise ProvenanceError("label_keys[].index must be a non-negative integer")
        if not isinstance(proof, list) or len(proof) > 64:
            raise ProvenanceError("label_keys[].inclusion_proof must be a list of at most 64 hashes")
        out.append(
            (idx, check_envelope_shape(item.get("envelope")), [b64decode(h, "inclusion proof hash") for h in proof])
        )
    return out


def label_signature_for(envelope: Mapping[str, Any]) -> list[str]:
    """The keyids of the envelope's signatures (for display); none is trusted by itself."""
    return [
        s["keyid"] for s in envelope.get("signatures", []) if isinstance(s, dict) and isinstance(s.get("keyid"), str)
    ]


def public_key_of(jwk: Mapping[str, Any]) -> bytes:
    return b64url_decode(jwk.get("x"), "JWK x")


__all__ = [
    "ATTESTATIONS",
    "LABEL",
    "PLATFORM",
    "PLATFORM_KEY_PAYLOAD_TYPE",
    "PLATFORM_KEY_SCHEMA",
    "Party",
    "KEY_PAYLOAD_TYPE",
    "KEY_SCHEMA",
    "PAYLOAD_TYPE",
    "POLICY_PAYLOAD_TYPE",
    "POLICY_SCHEMA",
    "KeyHistory",
    "LabelKeyState",
    "PolicyState",
    "build_key_event",
    "build_policy_event",
    "check_label_signature",
    "replay",
    "replay_policy",
    "validate_key_event",
    "validate_policy_event",
]
