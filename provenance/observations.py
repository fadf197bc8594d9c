"""Observation statements (docs/protocol.md §16): what a platform observed of a recording, signed by the platform.

A platform ("our detector rated this recording 'all AI' on 2026-11-30") signs an
observation with a key of its own, registered by key events of the platform
(``provenance.labelkeys`` with ``PLATFORM``: the label-key rules, §14.1, with their own
payloadType); the registry adds its signature and logs it. An observation is never a
declaration: it has its own payloadType, never takes part in a release's ``contains_ai``,
and a declaration verifier refuses it at ``payload_type``.

Its bundle is a v1 bundle plus ``platform_keys``: the platform's key events with
inclusion proofs against the bundle's own checkpoint, so that an offline verifier
replays them and learns which keys the platform had at the observation's log index
(check ``platform_signature``), as a co-signed declaration's ``label_keys`` do (§14.3).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from provenance import jcs, labelkeys, merkle
from provenance.bundle import CHECKS, Check, Result, Verifier, envelope_leaf_hash
from provenance.dsse import pae
from provenance.encoding import b64decode
from provenance.errors import ProvenanceError, VerificationError
from provenance.identifiers import normalize_gtin, normalize_isrc
from provenance.vocabulary import LEVELS, PARTS

OBSERVATION_PAYLOAD_TYPE = "application/vnd.ai-disclosure.observation.v1+json"
OBSERVATION_SCHEMA = "ai-disclosure/observation/v1"
PLATFORM_SIGNATURE = "platform_signature"
METHOD_MAX = 200  # characters of the method ("detector X v2"): a name, not a report
NAME_MAX = 200
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MEMBERS = {"schema", "registry", "platform", "recording", "declaration", "observed", "method", "observed_at"}


def build_observation(
    *,
    registry: str,
    platform: Mapping[str, Any],
    isrc: str,
    upc: str | None,
    declaration: Mapping[str, Any] | None,
    observed: Mapping[str, str],
    method: str,
    observed_at: str,
) -> dict[str, Any]:
    st = {
        "schema": OBSERVATION_SCHEMA,
        "registry": registry,
        "platform": {"id": str(platform["id"]), "name": platform["name"], "key_head": platform["key_head"]},
        "recording": {"isrc": isrc, "upc": upc},
        "declaration": dict(declaration) if declaration is not None else None,
        "observed": dict(observed),
        "method": method,
        "observed_at": observed_at,
    }
    return validate_observation(st)


def _exact(value: Any, members: set[str], path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise VerificationError(f"{path} must be an object")
    if set(value) != members:
        extra, missing = sorted(set(value) - members), sorted(members - set(value))
        what = "; ".join(p for p in (f"unknown {', '.join(extra)}" if extra else "",
                                     f"missing {', '.join(missing)}" if missing else "") if p)  # fmt: skip
        raise VerificationError(f"{path}: {what}")
    return value


def _text(value: Any, path: str, limit: int) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise VerificationError(f"{path} must be non-empty text of at most {limit} characters")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise VerificationError(f"{path} must not hold control characters")


def validate_observation(value: Any) -> dict[str, Any]:
    """Check an observation against docs/protocol.md §16.2; return it or raise :class:`VerificationError`.

    Strict: an unknown member is refused (a new member is a new schema version).
    """
    st = _exact(value, _MEMBERS, "the observation")
    if st["schema"] != OBSERVATION_SCHEMA:
        raise VerificationError(f"observation schema must be {OBSERVATION_SCHEMA!r}")
    if not isinstance(st["registry"], str) or not st["registry"]:
        raise VerificationError("registry must be a non-empty string")
    platform = _exact(st["platform"], {"id", "name", "key_head"}, "platform")
    if not isinstance(platform["id"], str) or not platform["id"]:
        raise VerificationError("platform.id must be a non-empty string")
    _text(platform["name"], "platform.name", NAME_MAX)
    if not isinstance(platform["key_head"], str) or not _HEX64.fullmatch(platform["key_head"]):
        raise VerificationError("platform.key_head must be 64 lower-case hex digits")
    rec = _exact(st["recording"], {"isrc", "upc"}, "recording")
    for name, normalize in (("isrc", normalize_isrc), ("upc", normalize_gtin)):
        if name == "upc" and rec["upc"] is None:
            continue
        try:
            compact = normalize(rec[name])
        except ProvenanceError as exc:
            raise VerificationError(f"recording.{name}: {exc}") from exc
        if compact != rec[name]:
            raise VerificationError(f"recording.{name} must be in compact form")
    decl = st["declaration"]
    if decl is not None:
        decl = _exact(decl, {"id", "version", "leaf_hash"}, "declaration")
        if not isinstance(decl["id"], str) or not _UUID.fullmatch(decl["id"]):
            raise VerificationError("declaration.id must be a lower-case UUID")
        v = decl["version"]
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise VerificationError("declaration.version must be an integer >= 1")
        if not isinstance(decl["leaf_hash"], str) or not _HEX64.fullmatch(decl["leaf_hash"]):
            raise VerificationError("declaration.leaf_hash must be 64 lower-case hex digits")
    observed = st["observed"]
    if not isinstance(observed, dict) or not observed:
        raise VerificationError("observed must name at least one part")
    for part, level in observed.items():
        if part not in PARTS:
            raise VerificationError(f"observed: unknown part {part!r} (one of {', '.join(PARTS)})")
        if level not in LEVELS:
            raise VerificationError(f"observed.{part} must be one of {', '.join(LEVELS)}")
    _text(st["method"], "method", METHOD_MAX)
    when = st["observed_at"]
    try:
        if not isinstance(when, str) or not _DATE.fullmatch(when):
            raise ValueError
        date.fromisoformat(when)
    except ValueError:
        raise VerificationError("observed_at must be a date, YYYY-MM-DD") from None
    return st


def parse_observation(payload: bytes) -> dict[str, Any]:
    """Strict protocol JSON, byte for byte its RFC 8785 form, satisfying §16.2."""
    value = jcs.loads(payload)
    if jcs.canonicalize(value) != payload:
        raise VerificationError("the observation is not in RFC 8785 canonical form")
    return validate_observation(value)


def describe(st: Mapping[str, Any]) -> str:
    """One line for the ``statement_schema`` check and the CLI."""
    levels = ", ".join(f"{p} {lv}" for p, lv in st["observed"].items())
    return (
        f"{OBSERVATION_SCHEMA} statement: platform {st['platform']['name']!r} (id {st['platform']['id']}) observed "
        f"{st['recording']['isrc']}: {levels}; on {st['observed_at']} by {st['method']!r}"
    )


def _parse_for_bundle(payload: bytes) -> tuple[dict[str, Any], None, str]:
    st = parse_observation(payload)
    return st, None, describe(st)  # observed_at is the platform's date, not the registry's: order is log order


def check_platform_signature(
    envelope: Mapping[str, Any], st: Mapping[str, Any], index: int, history: labelkeys.KeyHistory
) -> labelkeys.LabelKeyState:
    """The platform key whose signature counts for an observation at log ``index`` (as §14.3 step 4 for labels)."""
    platform = st["platform"]
    if platform["id"] != history.label_id:
        raise VerificationError(f"the key history is platform {history.label_id}'s, the observation {platform['id']}'s")
    if platform["key_head"] != history.head:
        raise VerificationError("the key history does not end at the observation's platform.key_head")
    message = pae(envelope["payloadType"], b64decode(envelope["payload"], "envelope payload"))
    problems = []
    for sig in envelope["signatures"]:
        state = history.keys.get(sig.get("keyid") or "")
        if state is None:
            continue  # the registry's signature, or a key this platform never had
        if state.registered_at >= index:
            problems.append(f"platform key {state.kid} was registered at log index {state.registered_at}, not before")
        elif state.revoked_at is not None and state.revoked_at < index:
            problems.append(f"platform key {state.kid} was revoked at log index {state.revoked_at}, before {index}")
        elif not state.key.verify(b64decode(sig["sig"], "signature"), message):
            problems.append(f"the signature of platform key {state.kid} does not verify")
        else:
            return state
    raise VerificationError("; ".join(problems) or "no signature by a key of the platform")


def verify_observation_bundle(bundle: Any, verifier: Verifier) -> Result:
    """Checks 1–8 of §7 with §16's payloadType and schema, then ``platform_signature`` (§16.3).

    ``result.entry`` describes the observation; ``result.attestation`` says which platform key signed it.
    """
    if isinstance(bundle, bytes | bytearray | memoryview):
        try:
            bundle = jcs.loads(bytes(bundle))
        except ProvenanceError as exc:
            result = Result()
            result.checks.append(Check("bundle_format", False, str(exc)))
            return result
    result = verifier.verify_entry(bundle, payload_type=OBSERVATION_PAYLOAD_TYPE, parse=_parse_for_bundle)
    result.entry_checks = (PLATFORM_SIGNATURE,)
    if len(result.checks) < len(CHECKS) or not all(c.ok for c in result.checks):
        return result
    try:
        history = labelkeys.parse_history_member(bundle.get("platform_keys"))
        cp, index = result.checkpoint, result.index
        assert cp is not None and index is not None and result.statement is not None
        for event_index, event_envelope, proof in history:
            if event_index >= index:
                raise VerificationError(f"key event at log index {event_index} is not before the observation")
            try:
                merkle.verify_inclusion(event_index, cp.size, envelope_leaf_hash(event_envelope), proof, cp.root)
            except ProvenanceError as exc:
                raise VerificationError(f"key event at log index {event_index}: {exc}") from exc
        replayed = labelkeys.replay([(i, e) for i, e, _ in history], verifier.keys, labelkeys.PLATFORM)
        key = check_platform_signature(bundle["envelope"], result.statement, index, replayed)
    except ProvenanceError as exc:
        result.checks.append(Check(PLATFORM_SIGNATURE, False, str(exc).replace("label_keys", "platform_keys")))
        return result
    how = {"staff": "attested by staff", "platform": "attested by the platform", "recovery": "by staff RECOVERY"}
    result.attestation = (
        f"signed by platform key {key.kid} (registered at log index {key.registered_at}, {how[key.attestation]}; "
        f"active at the observation, log index {index})"
    )
    result.checks.append(Check(PLATFORM_SIGNATURE, True, result.attestation))
    return result


def sign_prepared_observation(prepared: Mapping[str, Any], key: Any) -> dict[str, str]:
    """The platform's signature ``{"keyid", "sig"}`` over a prepared observation's PAE (library form of the CLI)."""
    from provenance.issue.sign import sign_pae

    if prepared.get("payloadType") != OBSERVATION_PAYLOAD_TYPE:  # never sign a declaration or key event blindly
        raise ValueError(f"refusing to sign payloadType {prepared.get('payloadType')!r}: expected an observation")
    payload = b64decode(prepared.get("payload"), "payload")
    parse_observation(payload)  # sign only what is an observation
    return sign_pae(payload, key, payload_type=OBSERVATION_PAYLOAD_TYPE)
