"""Label keys and co-signed bundles (docs/protocol.md §14): key histories replayed in log order, label signatures."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError as TheirError
from securesystemslib.signer import SSlibKey

from provenance import jcs
from provenance.bundle import LABEL_SIGNATURE, MEDIA_TYPE_COSIGNED, REGISTRY_ONLY, Verifier
from provenance.cli import main
from provenance.dsse import PAYLOAD_TYPE
from provenance.encoding import b64decode, b64encode, b64url_decode
from provenance.issue.keys import generate_private_key, private_key_to_pem, public_bytes
from provenance.issue.sign import cosign_envelope, make_bundle, sign_pae
from provenance.keys import thumbprint
from provenance.labelkeys import KEY_PAYLOAD_TYPE, build_key_event
from provenance.labelsign import sign_prepared
from provenance.statement import statement_bytes
from tests.provenance.factory import Registry, statement

LABEL = {"id": "7", "name": "Northern Lights Records", "dpid": "PADPIDA3897722461G"}


@dataclass
class Label:
    """A label's key events on a miniature registry's log."""

    reg: Registry
    label: dict[str, Any] = field(default_factory=lambda: dict(LABEL))
    events: list[int] = field(default_factory=list)

    @property
    def head(self) -> str | None:
        return self.reg.tree.nodes[(0, self.events[-1])].hex() if self.events else None

    def event(
        self, kind: str, key: Ed25519PrivateKey, *, attestation: str, signers: tuple[Ed25519PrivateKey, ...] = ()
    ) -> int:
        st = build_key_event(
            registry=self.reg.origin,
            label=self.label,
            sequence=len(self.events) + 1,
            previous=self.head,
            event=kind,
            public_key=public_bytes(key),
            attestation=attestation,
            reason=None,
        )
        payload = jcs.canonicalize(st)
        sigs = [sign_pae(payload, s, payload_type=KEY_PAYLOAD_TYPE) for s in signers]
        envelope = cosign_envelope(payload, self.reg.statement_key, payload_type=KEY_PAYLOAD_TYPE, signatures=sigs)
        self.reg.envelopes.append(envelope)
        self.events.append(self.reg.tree.append(jcs.canonicalize(envelope)))
        return self.events[-1]

    def declare(self, signer: Ed25519PrivateKey | None, *, release_number: int = 1, head: str | None = None) -> int:
        st = statement(
            release_number=release_number, label={**self.label, "verified": True, "key_head": head or self.head}
        )
        payload = statement_bytes(st)
        sigs = [sign_pae(payload, signer)] if signer is not None else []
        envelope = cosign_envelope(payload, self.reg.statement_key, signatures=sigs)
        self.reg.envelopes.append(envelope)
        return self.reg.tree.append(jcs.canonicalize(envelope))

    def bundle(self, index: int, events: list[int] | None = None) -> dict[str, Any]:
        size = self.reg.tree.size
        chosen = [i for i in self.events if i < index] if events is None else events
        history = [(i, copy.deepcopy(self.reg.envelopes[i]), self.reg.tree.inclusion_proof(i, size)) for i in chosen]
        return make_bundle(
            copy.deepcopy(self.reg.envelopes[index]),
            origin=self.reg.origin,
            index=index,
            tree_size=size,
            proof=self.reg.tree.inclusion_proof(index, size),
            checkpoint=self.reg.checkpoint(size),
            label_keys=history,
        )


def _verify(reg: Registry, bundle: dict[str, Any], **kw: Any) -> Any:
    return Verifier(reg.keyset(), **kw).verify(jcs.canonicalize(bundle))


@pytest.fixture
def setup() -> tuple[Label, Ed25519PrivateKey]:
    lab = Label(Registry())
    k1 = generate_private_key()
    lab.event("register", k1, attestation="staff")
    return lab, k1


def test_a_co_signed_bundle_says_which_label_key_signed_and_where_it_was_registered(setup: Any) -> None:
    lab, k1 = setup
    index = lab.declare(k1)
    result = _verify(lab.reg, lab.bundle(index), require_label_signature=True)
    assert result.valid, result.summary()
    assert [c.name for c in result.checks][-1] == LABEL_SIGNATURE
    assert result.label_key.kid == thumbprint(public_bytes(k1)) and result.label_key.registered_at == 0
    assert f"signed by label key {thumbprint(public_bytes(k1))} (registered at log index 0" in result.attestation
    assert result.to_dict()["signed_by"] == result.attestation


def test_a_registry_only_bundle_verifies_as_before_and_fails_only_when_a_label_signature_is_required() -> None:
    reg = Registry()
    index = reg.declare()
    result = _verify(reg, reg.bundle(index))
    assert result.valid and not result.label_checked and result.attestation == REGISTRY_ONLY
    assert "signed_by" not in result.to_dict()
    required = _verify(reg, reg.bundle(index), require_label_signature=True)
    assert not required.valid
    assert required.failed.name == LABEL_SIGNATURE and required.failed.detail.startswith(REGISTRY_ONLY)


def test_a_later_key_added_by_the_label_counts_and_a_revoked_key_does_not(setup: Any) -> None:
    lab, k1 = setup
    k2 = generate_private_key()
    lab.event("register", k2, attestation="label", signers=(k1,))
    lab.event("revoke", k1, attestation="label", signers=(k2,))
    good = lab.declare(k2)
    assert _verify(lab.reg, lab.bundle(good)).valid
    revoked = lab.declare(k1)
    result = _verify(lab.reg, lab.bundle(revoked))
    assert not result.valid and result.failed.name == LABEL_SIGNATURE
    assert "revoked at log index 2, before the declaration" in result.failed.detail


def test_a_signature_made_before_a_later_revocation_still_counts(setup: Any) -> None:
    lab, k1 = setup
    early = lab.declare(k1)
    lab.event("revoke", k1, attestation="staff")
    # The early declaration's history ends before the revocation: its bundle proves k1 active then.
    assert _verify(lab.reg, lab.bundle(early)).valid


def test_the_registry_alone_cannot_add_a_key_attested_by_the_label(setup: Any) -> None:
    lab, _ = setup
    forged = generate_private_key()
    lab.event("register", forged, attestation="label", signers=(forged,))  # self-signed only
    index = lab.declare(forged)
    result = _verify(lab.reg, lab.bundle(index))
    assert not result.valid and "no key of the label active before it signed it" in result.failed.detail


def test_staff_recovery_is_shown_as_such(setup: Any) -> None:
    lab, k1 = setup
    lab.event("revoke", k1, attestation="recovery")
    k2 = generate_private_key()
    lab.event("register", k2, attestation="recovery")
    result = _verify(lab.reg, lab.bundle(lab.declare(k2)))
    assert result.valid and "by staff RECOVERY" in result.attestation


def test_a_history_that_hides_a_revocation_does_not_end_at_the_signed_key_head(setup: Any) -> None:
    lab, k1 = setup
    lab.event("revoke", k1, attestation="staff")
    index = lab.declare(k1)
    result = _verify(lab.reg, lab.bundle(index, events=lab.events[:1]))
    assert not result.valid and "does not end at the statement's label.key_head" in result.failed.detail


def test_a_key_registered_after_the_declaration_does_not_count(setup: Any) -> None:
    lab, k1 = setup
    k2 = generate_private_key()
    index = lab.declare(k2, head=lab.head)  # k2 signs before it is registered
    lab.event("register", k2, attestation="label", signers=(k1,))
    bundle = lab.bundle(index, events=lab.events)  # a registry that hands out the later event too
    result = _verify(lab.reg, bundle)
    assert not result.valid and "is not before the declaration" in result.failed.detail
    result = _verify(lab.reg, lab.bundle(index))
    assert not result.valid and "no signature by a key of the label" in result.failed.detail


def test_another_labels_history_does_not_vouch_for_this_label(setup: Any) -> None:
    lab, k1 = setup
    other = Label(lab.reg, label={"id": "8", "name": "Other", "dpid": None})
    k_other = generate_private_key()
    other.event("register", k_other, attestation="staff")
    # The other label signs a statement in the first label's name, with its own key head.
    index = lab.declare(k_other, head=other.head)
    result = _verify(lab.reg, other.bundle(index))
    assert not result.valid and "label 8's, the statement label 7's" in result.failed.detail


def test_a_tampered_key_event_or_proof_fails(setup: Any) -> None:
    lab, k1 = setup
    index = lab.declare(k1)
    bundle = lab.bundle(index)
    bundle["label_keys"][0]["inclusion_proof"] = [b64encode(bytes(32))] * len(
        bundle["label_keys"][0]["inclusion_proof"]
    )
    assert not _verify(lab.reg, bundle).valid
    bundle = lab.bundle(index)
    bundle["label_keys"][0]["index"] = index
    assert "is not before the declaration" in _verify(lab.reg, bundle).failed.detail


def test_a_verifier_that_saw_a_labels_history_still_checks_each_bundles_events_afresh(setup: Any) -> None:
    # One Verifier across bundles caches each key event's leaf hash and each replayed history:
    # a later bundle whose event differs in any member, or carries an extra member, must miss both.
    lab, k1 = setup
    first, second = lab.declare(k1), lab.declare(k1, release_number=2)
    verifier = Verifier(lab.reg.keyset())
    assert verifier.verify(jcs.canonicalize(lab.bundle(first))).valid
    assert verifier.verify(jcs.canonicalize(lab.bundle(second))).valid  # the cached history, valid again
    for tamper in (
        lambda e: e["signatures"][0].update(keyid="someone-else"),
        lambda e: e.update(payload=b64encode(b64decode(e["payload"]) + b" ")),
        lambda e: e.update(extra="member"),
        lambda e: e["signatures"].append({"sig": e["signatures"][0]["sig"]}),
    ):
        bundle = lab.bundle(second)
        tamper(bundle["label_keys"][0]["envelope"])
        result = verifier.verify(jcs.canonicalize(bundle))
        assert not result.valid and result.failed.name in ("bundle_format", LABEL_SIGNATURE), result.summary()


def test_securesystemslib_threshold_verification_checks_both_signatures(setup: Any) -> None:
    lab, k1 = setup
    envelope = lab.reg.envelopes[lab.declare(k1)]
    keys = [
        SSlibKey.from_crypto(k.public_key(), keyid=thumbprint(public_bytes(k))) for k in (k1, lab.reg.statement_key)
    ]
    theirs = Envelope.from_dict(copy.deepcopy(envelope))
    assert set(theirs.verify(keys, 2)) == {
        thumbprint(public_bytes(k1)),
        thumbprint(public_bytes(lab.reg.statement_key)),
    }
    only_one = Envelope.from_dict({**copy.deepcopy(envelope), "signatures": envelope["signatures"][1:]})
    with pytest.raises(TheirError):
        only_one.verify(keys, 2)


def test_the_cli_signs_a_prepared_statement_and_verifies_the_co_signed_bundle(
    setup: Any, tmp_path: Any, capsys: Any
) -> None:
    lab, k1 = setup
    (tmp_path / "label.key").write_bytes(private_key_to_pem(k1, None))
    st = statement(label={**LABEL, "verified": True, "key_head": lab.head})
    payload = statement_bytes(st)
    (tmp_path / "prepared.json").write_text(json.dumps({"payload": b64encode(payload), "payloadType": PAYLOAD_TYPE}))
    assert main(["sign", "--key", str(tmp_path / "label.key"), str(tmp_path / "prepared.json")]) == 0
    signature = json.loads(capsys.readouterr().out)
    assert signature == sign_prepared({"payload": b64encode(payload), "payloadType": PAYLOAD_TYPE}, k1)
    assert public_bytes(k1) and b64decode(signature["sig"])
    envelope = cosign_envelope(payload, lab.reg.statement_key, signatures=[signature])
    lab.reg.envelopes.append(envelope)
    index = lab.reg.tree.append(jcs.canonicalize(envelope))
    (tmp_path / "bundle.json").write_bytes(jcs.canonicalize(lab.bundle(index)))
    (tmp_path / "jwks.json").write_text(json.dumps(lab.reg.jwks()))
    argv = ["verify", str(tmp_path / "bundle.json"), "--jwks", str(tmp_path / "jwks.json"), "--require-label-signature"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("VALID:") and f"Signed    signed by label key {signature['keyid']}" in out
    assert lab.bundle(index)["mediaType"] == MEDIA_TYPE_COSIGNED


def test_sign_refuses_a_payload_type_other_than_a_declaration(setup: Any) -> None:
    _, k1 = setup
    with pytest.raises(ValueError, match="refusing to sign"):
        sign_prepared({"payload": b64encode(b"{}"), "payloadType": KEY_PAYLOAD_TYPE}, k1)


def test_key_jwk_prints_the_private_jwk_a_browser_signs_with(tmp_path: Any, capsys: Any) -> None:
    key = generate_private_key()
    (tmp_path / "label.key").write_bytes(private_key_to_pem(key, None))
    assert main(["key-jwk", "--key", str(tmp_path / "label.key")]) == 0
    out = capsys.readouterr()
    jwk = json.loads(out.out)
    assert "PRIVATE" in out.err
    assert jwk["kid"] == thumbprint(public_bytes(key)) and (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    # The JWK's d is the key: what it signs verifies with the public half.
    again = Ed25519PrivateKey.from_private_bytes(b64url_decode(jwk["d"], "d"))
    assert again.public_key().public_bytes_raw() == public_bytes(key)
    assert main(["key-jwk", "--key", str(tmp_path / "missing.key")]) == 1


def test_sign_key_event_signs_only_key_events_and_says_which_key_it_adds_or_revokes(
    setup: Any, tmp_path: Any, capsys: Any
) -> None:
    lab, k1 = setup
    (tmp_path / "label.key").write_bytes(private_key_to_pem(k1, None))
    revoked = generate_private_key()
    event = build_key_event(
        registry=lab.reg.origin, label=LABEL, sequence=2, previous=lab.head, event="revoke",
        public_key=public_bytes(revoked), attestation="label", reason="Laptop stolen",
    )  # fmt: skip
    payload = jcs.canonicalize(event)
    (tmp_path / "event.json").write_text(json.dumps({"payload": b64encode(payload), "payloadType": KEY_PAYLOAD_TYPE}))
    assert main(["sign-key-event", "--key", str(tmp_path / "label.key"), str(tmp_path / "event.json")]) == 0
    out = capsys.readouterr()
    assert f"REVOKE key {thumbprint(public_bytes(revoked))}" in out.err
    signature = json.loads(out.out)
    assert signature == sign_pae(payload, k1, payload_type=KEY_PAYLOAD_TYPE)
    # A declaration is not a key event: refused, and `sign` still refuses key events.
    st = {"payload": b64encode(statement_bytes(statement())), "payloadType": PAYLOAD_TYPE}
    (tmp_path / "prepared.json").write_text(json.dumps(st))
    assert main(["sign-key-event", "--key", str(tmp_path / "label.key"), str(tmp_path / "prepared.json")]) == 1
    assert "refusing to sign" in capsys.readouterr().err
    assert main(["sign", "--key", str(tmp_path / "label.key"), str(tmp_path / "event.json")]) == 1


def test_sign_key_event_signs_a_platforms_key_event_too(tmp_path: Any, capsys: Any) -> None:
    from provenance.labelkeys import PLATFORM, PLATFORM_KEY_PAYLOAD_TYPE

    key, new = generate_private_key(), generate_private_key()
    (tmp_path / "platform.key").write_bytes(private_key_to_pem(key, None))
    event = build_key_event(
        registry="registry.example.org/log", label={"id": "3", "name": "Streamly"}, sequence=2, previous="ab" * 32,
        event="register", public_key=public_bytes(new), attestation="platform", reason=None, party=PLATFORM,
    )  # fmt: skip
    payload = jcs.canonicalize(event)
    (tmp_path / "event.json").write_text(
        json.dumps({"payload": b64encode(payload), "payloadType": PLATFORM_KEY_PAYLOAD_TYPE})
    )
    assert main(["sign-key-event", "--key", str(tmp_path / "platform.key"), str(tmp_path / "event.json")]) == 0
    out = capsys.readouterr()
    assert f"REGISTER key {thumbprint(public_bytes(new))} of Streamly" in out.err
    assert json.loads(out.out) == sign_pae(payload, key, payload_type=PLATFORM_KEY_PAYLOAD_TYPE)
