"""provenance: offline verification of AI-disclosure declarations (pure Python, no Django).

This module is the front door for a platform: it exports everything needed to
check what the registry hands out (docs/protocol.md), and nothing that signs::

    from pathlib import Path
    import provenance
    verifier = provenance.Verifier(provenance.KeySet.from_json(Path("jwks.json").read_bytes()))
    result = verifier.verify(Path("bundle.json").read_bytes(), isrc="GBXYZ2500001")
    print(result.summary())  # "VALID: …" or "INVALID <check>: <detail>"; display result.disclosure

:class:`Verifier` runs the checks of docs/protocol.md §7 in order (DSSE
envelopes signed with Ed25519, RFC 8785 canonical JSON, an RFC 9162 inclusion
proof, a C2SP signed-note checkpoint, JWKS keys with RFC 7638 ids) and returns
a :class:`Result` holding one :class:`Check` per check run. A monitor verifies checkpoints and
consistency proofs with :func:`verify_checkpoint` and :func:`verify_consistency`.
Witness cosignatures (C2SP tlog-cosignature) are checked one by one with
:func:`verify_cosignature`, or against a C2SP tlog-policy file with
:func:`parse_policy` and :func:`evaluate` (docs/protocol.md §13); ``Verifier(keys, policy=…)``
requires a quorum of them on a lookup answer's ``witnessed`` checkpoint, and
:func:`parse_proof` / :func:`bundle_from_proof` read C2SP tlog-proof files.

The issuing side (key generation and storage, signing, proof generation) is
:mod:`provenance.issue`, which verifying never imports.
"""

from __future__ import annotations

from provenance.bundle import (
    CHECKS,
    IDENTIFIER,
    MEDIA_TYPE,
    WITNESS_QUORUM,
    WITNESSED,
    Check,
    Result,
    Verifier,
    verify_bundle,
)
from provenance.checkpoint import Checkpoint, VerifierKey, parse_checkpoint, parse_verifier_key, verify_checkpoint
from provenance.cosignature import Cosignature, parse_witness_key, verify_cosignature
from provenance.disputes import DISPUTE_PAYLOAD_TYPE, parse_dispute_step, verify_dispute_bundle
from provenance.errors import (
    CanonicalizationError,
    IdentifierError,
    ProofError,
    ProvenanceError,
    StatementError,
    VerificationError,
)
from provenance.keys import KeySet, PublicKey
from provenance.merkle import root_from_inclusion_proof, verify_consistency, verify_inclusion
from provenance.observations import OBSERVATION_PAYLOAD_TYPE, parse_observation, verify_observation_bundle
from provenance.policy import Evaluation, Policy, PolicyError, evaluate, parse_policy
from provenance.statement import parse_statement
from provenance.tlogproof import TlogProof, bundle_from_proof, parse_proof

__version__ = "1.0.0"

__all__ = [
    "CHECKS",
    "DISPUTE_PAYLOAD_TYPE",
    "IDENTIFIER",
    "MEDIA_TYPE",
    "WITNESSED",
    "WITNESS_QUORUM",
    "CanonicalizationError",
    "Check",
    "Checkpoint",
    "Cosignature",
    "Evaluation",
    "IdentifierError",
    "KeySet",
    "Policy",
    "PolicyError",
    "ProofError",
    "ProvenanceError",
    "PublicKey",
    "Result",
    "StatementError",
    "TlogProof",
    "VerificationError",
    "Verifier",
    "VerifierKey",
    "__version__",
    "bundle_from_proof",
    "evaluate",
    "parse_checkpoint",
    "parse_dispute_step",
    "parse_policy",
    "parse_proof",
    "parse_statement",
    "parse_verifier_key",
    "parse_witness_key",
    "root_from_inclusion_proof",
    "verify_bundle",
    "verify_checkpoint",
    "verify_consistency",
    "verify_cosignature",
    "verify_dispute_bundle",
    "verify_observation_bundle",
    "parse_observation",
    "OBSERVATION_PAYLOAD_TYPE",
    "verify_inclusion",
]
