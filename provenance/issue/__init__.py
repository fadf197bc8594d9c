"""The issuing side: key generation and encrypted storage, signing, and proof generation.

What the registry signs with (and, later, labels): :mod:`provenance.issue.keys`
makes and stores Ed25519 private keys, :mod:`provenance.issue.sign` signs
envelopes, checkpoints, bundles and witness cosignatures, :mod:`provenance.issue.tree` generates
proofs from stored subtrees. A platform that only verifies never imports this
package: ``provenance`` itself is the verifier's front door, and
tests/provenance/test_standalone.py checks that verifying loads nothing from here.
"""

from __future__ import annotations

from provenance.issue.keys import generate_private_key, load_private_key, private_key_to_pem, public_bytes
from provenance.issue.sign import cosign_checkpoint, make_bundle, sign_checkpoint, sign_envelope
from provenance.issue.tree import MemoryTree, consistency_proof, inclusion_proof, tree_root

__all__ = [
    "MemoryTree",
    "consistency_proof",
    "cosign_checkpoint",
    "generate_private_key",
    "inclusion_proof",
    "load_private_key",
    "make_bundle",
    "private_key_to_pem",
    "public_bytes",
    "sign_checkpoint",
    "sign_envelope",
    "tree_root",
]
