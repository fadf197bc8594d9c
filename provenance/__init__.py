"""provenance: offline verification of AI-disclosure declarations (pure Python, no Django).

A platform installs this package alone to check what the registry hands out:
DSSE envelopes (Ed25519), RFC 8785 canonical JSON, an RFC 9162 Merkle log with
C2SP signed-note checkpoints, and JWKS keys with RFC 7638 thumbprint ids.
The wire format is described in docs/protocol.md.
"""

from __future__ import annotations

__version__ = "1.0.0"

from provenance.errors import ProvenanceError, VerificationError  # noqa: E402

__all__ = ["ProvenanceError", "VerificationError", "__version__"]
