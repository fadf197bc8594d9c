"""Platform keys and observations (docs/protocol.md §16) on a miniature registry: what the verifier accepts and refuses."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provenance import jcs, labelkeys
from provenance import observations as pobs
from provenance.bundle import MEDIA_TYPE, Verifier
from provenance.cli import main
from provenance.disputes import verify_dispute_bundle
from provenance.encoding import b64decode, b64encode
from provenance.errors import VerificationError
from provenance.issue.keys import generate_private_key, private_key_to_pem, public_bytes
from provenance.issue.sign import cosign_envelope, make_bundle, sign_pae
from provenance.keys import thumbprint
from tests.provenance.factory import Registry

PLATFORM = {"id": "3", "name": "Example Streaming"}


@dataclass
class Platform:
    """A platform's key events and observations on a miniature registry's log."""

    reg: Registry
    platform: dict[str, Any] = field(default_factory=lambda: dict(PLATFORM))
    events: list[int] = field(default_factory=list)

    @property
    def head(self) -> str:
        return self.reg.tree.nodes[(0, self.events[-1])].hex()

    def event(
        self, kind: str, key: Ed25519PrivateKey, *, attestation: str, signers: tuple = (), party: Any = None
    ) -> int:
        party = party or labelkeys.PLATFORM
        st = labelkeys.build_key_event(
            registry=self.reg.origin, label=self.platform, sequence=len(self.events) + 1,
            previous=self.head if self.events else None, event=kind, public_key=public_bytes(key),
            attestation=attestation, reason=None, party=party,
        )  # fmt: skip
        payload = jcs.canonicalize(st)
        sigs = [sign_pae(payload, s, payload_type=party.payload_type) for s in signers]
        envelope = cosign_envelope(payload, self.reg.statement_key, payload_type=party.payload_type, signatures=sigs)
        self.reg.envelopes.append(envelope)
        self.events.append(self.reg.tree.append(jcs.canonicalize(envelope)))
        return self.events[-1]

    def observe(self, signer: Ed25519PrivateKey | None, *, head: str | None = None, **over: Any) -> int:
        st = pobs.build_observation(
            registry=self.reg.origin, platform={**self.platform, "key_head": head or self.head},
            isrc="USSKG1912345", upc=None, declaration=None, observed={"vocals": "all", "lyrics": "none"},
            method="detector X v2", observed_at="2026-11-30",
        )  # fmt: skip
        st.update(over)
        payload = jcs.canonicalize(st)
        sigs = [sign_pae(payload, signer, payload_type=pobs.OBSERVATION_PAYLOAD_TYPE)] if signer else []
        envelope = cosign_envelope(
            payload, self.reg.statement_key, payload_type=pobs.OBSERVATION_PAYLOAD_TYPE, signatures=sigs
        )
        self.reg.envelopes.append(envelope)
        return self.reg.tree.append(jcs.canonicalize(envelope))

    def bundle(self, index: int, events: list[int] | None = None) -> dict[str, Any]:
        size = self.reg.tree.size
        chosen = [i for i in self.events if i < index] if events is None else events
        bundle = make_bundle(
            copy.deepcopy(self.reg.envelopes[index]), origin=self.reg.origin, index=index, tree_size=size,
            proof=self.reg.tree.inclusion_proof(index, size), checkpoint=self.reg.checkpoint(size),
        )  # fmt: skip
        bundle["platform_keys"] = [
            {"index": i, "envelope": copy.deepcopy(self.reg.envelopes[i]),
             "inclusion_proof": [b64encode(h) for h in self.reg.tree.inclusion_proof(i, size)]}
            for i in chosen
        ]  # fmt: skip
        return bundle


def _verify(p: Platform, bundle: dict[str, Any]) -> Any:
    return pobs.verify_observation_bundle(jcs.canonicalize(bundle), Verifier(p.reg.keyset()))


@pytest.fixture
def setup() -> tuple[Platform, Ed25519PrivateKey]:
    p = Platform(Registry())
    k1 = generate_private_key()
    p.event("register", k1, attestation="staff")
    return p, k1


def test_an_observation_signed_by_the_platforms_key_verifies_and_says_which_key(setup):
    p, k1 = setup
    result = _verify(p, p.bundle(p.observe(k1)))
    assert result.valid, result.summary()
    assert [c.name for c in result.checks][-1] == pobs.PLATFORM_SIGNATURE
    assert f"signed by platform key {thumbprint(public_bytes(k1))} (registered at log index 0, attested by staff" in (
        result.attestation
    )
    assert "observed USSKG1912345: lyrics none, vocals all" in result.entry


def test_an_observation_signed_only_by_the_registry_fails_platform_signature(setup):
    p, _ = setup
    result = _verify(p, p.bundle(p.observe(None)))
    assert not result.valid and result.failed.name == pobs.PLATFORM_SIGNATURE
    assert "no signature by a key of the platform" in result.failed.detail


def test_a_key_the_platform_never_registered_does_not_count(setup):
    p, _ = setup
    forged = generate_private_key()
    result = _verify(p, p.bundle(p.observe(forged)))
    assert not result.valid and result.failed.name == pobs.PLATFORM_SIGNATURE


def test_a_revoked_key_does_not_count_and_a_rotated_one_does(setup):
    p, k1 = setup
    k2 = generate_private_key()
    p.event("register", k2, attestation="platform", signers=(k1,))
    p.event("revoke", k1, attestation="platform", signers=(k2,))
    assert _verify(p, p.bundle(p.observe(k2))).valid
    result = _verify(p, p.bundle(p.observe(k1)))
    assert not result.valid and "revoked at log index 2" in result.failed.detail


def test_a_key_event_forged_without_the_registrys_signature_is_refused(setup):
    p, k1 = setup
    rogue = generate_private_key()
    st = labelkeys.build_key_event(
        registry=p.reg.origin, label=p.platform, sequence=2, previous=p.head, event="register",
        public_key=public_bytes(rogue), attestation="staff", reason=None, party=labelkeys.PLATFORM,
    )  # fmt: skip
    envelope = cosign_envelope(jcs.canonicalize(st), rogue, payload_type=labelkeys.PLATFORM_KEY_PAYLOAD_TYPE)
    p.reg.envelopes.append(envelope)
    p.events.append(p.reg.tree.append(jcs.canonicalize(envelope)))
    result = _verify(p, p.bundle(p.observe(rogue)))
    assert not result.valid and "no registry signature verifies" in result.failed.detail


def test_a_platform_attested_key_event_needs_a_signature_by_an_earlier_key(setup):
    p, _ = setup
    k2 = generate_private_key()
    p.event("register", k2, attestation="platform", signers=(k2,))  # signed by itself only
    result = _verify(p, p.bundle(p.observe(k2)))
    assert not result.valid and "no key of the platform active before it signed it" in result.failed.detail


def test_a_history_cut_before_a_revocation_fails_the_key_head(setup):
    p, k1 = setup
    p.event("revoke", k1, attestation="recovery")
    index = p.observe(k1)
    result = _verify(p, p.bundle(index, events=p.events[:1]))
    assert not result.valid and "does not end at the observation's platform.key_head" in result.failed.detail


def test_a_labels_key_events_are_no_platform_history():
    p = Platform(Registry())
    k1 = generate_private_key()
    p.event("register", k1, attestation="staff", party=labelkeys.LABEL)
    with pytest.raises(VerificationError):
        labelkeys.validate_key_event(jcs.loads(b64decode(p.reg.envelopes[0]["payload"])), labelkeys.PLATFORM)
    index = p.observe(k1, head=p.reg.tree.nodes[(0, 0)].hex())
    result = _verify(p, p.bundle(index))
    assert not result.valid and "not application/vnd.ai-disclosure.platform-key.v1+json" in result.failed.detail


def test_declaration_and_dispute_verifiers_refuse_an_observation_and_the_observation_check_refuses_theirs(setup):
    p, k1 = setup
    bundle = p.bundle(p.observe(k1))
    verifier = Verifier(p.reg.keyset())
    assert verifier.verify(jcs.canonicalize(bundle)).failed.name == "payload_type"
    assert verify_dispute_bundle(bundle, verifier).failed.name == "payload_type"
    declaration = make_bundle(p.reg.envelopes[p.reg.declare()], origin=p.reg.origin, index=p.reg.tree.size - 1,
                              tree_size=p.reg.tree.size, proof=p.reg.tree.inclusion_proof(p.reg.tree.size - 1,
                              p.reg.tree.size), checkpoint=p.reg.checkpoint(p.reg.tree.size))  # fmt: skip
    assert _verify(p, declaration).failed.name == "payload_type"
    assert bundle["mediaType"] == MEDIA_TYPE


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"observed": {}}, "at least one part"),
        ({"observed": {"artwork": "all"}}, "unknown part"),
        ({"observed": {"vocals": "mostly"}}, "must be one of"),
        ({"observed_at": "2026-13-01"}, "observed_at must be a date"),
        ({"method": ""}, "method must be non-empty"),
        ({"method": "x\u0007"}, "control characters"),
        ({"contains_ai": "all"}, "unknown contains_ai"),
        ({"recording": {"isrc": "US-SKG-19-12345", "upc": None}}, "compact form"),
    ],
)
def test_an_observation_is_parsed_strictly(change, message):
    st = pobs.build_observation(
        registry="r", platform={**PLATFORM, "key_head": "a" * 64}, isrc="USSKG1912345", upc=None, declaration=None,
        observed={"vocals": "all"}, method="m", observed_at="2026-11-30",
    )  # fmt: skip
    with pytest.raises(VerificationError, match=message):
        pobs.validate_observation({**st, **change})


def test_the_cli_signs_only_observations_and_verifies_one(setup, tmp_path, capsys):
    p, k1 = setup
    st = pobs.build_observation(
        registry=p.reg.origin, platform={**p.platform, "key_head": p.head}, isrc="USSKG1912345", upc=None,
        declaration=None, observed={"vocals": "all"}, method="detector X v2", observed_at="2026-11-30",
    )  # fmt: skip
    prepared = {"payloadType": pobs.OBSERVATION_PAYLOAD_TYPE, "payload": b64encode(jcs.canonicalize(st))}
    (tmp_path / "key.pem").write_bytes(private_key_to_pem(k1, None))
    (tmp_path / "prepared.json").write_text(json.dumps(prepared))
    assert main(["sign-observation", "--key", str(tmp_path / "key.pem"), str(tmp_path / "prepared.json")]) == 0
    signature = json.loads(capsys.readouterr().out)
    assert signature == sign_pae(jcs.canonicalize(st), k1, payload_type=pobs.OBSERVATION_PAYLOAD_TYPE)
    (tmp_path / "declaration.json").write_text(json.dumps({**prepared, "payloadType": "application/vnd.in-toto+json"}))
    assert main(["sign-observation", "--key", str(tmp_path / "key.pem"), str(tmp_path / "declaration.json")]) == 1
    assert "refusing to sign payloadType" in capsys.readouterr().err
    index = p.observe(k1)
    (tmp_path / "b.json").write_bytes(jcs.canonicalize(p.bundle(index)))
    (tmp_path / "jwks.json").write_text(json.dumps(p.reg.jwks()))
    assert main(["verify", str(tmp_path / "b.json"), "--jwks", str(tmp_path / "jwks.json")]) == 0
    assert f"signed by platform key {thumbprint(public_bytes(k1))}" in capsys.readouterr().out
