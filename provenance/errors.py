"""Exception types shared by the whole package."""

from __future__ import annotations


class ProvenanceError(ValueError):
    """Base class: every error the package raises on bad input is one of these."""


class IdentifierError(ProvenanceError):
    """An identifier (ISRC, GTIN, ISNI, ISWC, DPID) is malformed."""


class StatementError(ProvenanceError):
    """A statement does not follow docs/protocol.md §1."""

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class CanonicalizationError(ProvenanceError):
    """A value cannot be expressed as RFC 8785 canonical JSON."""


class VerificationError(ProvenanceError):
    """A signature, proof or checkpoint does not verify."""


class ProofError(VerificationError):
    """A Merkle proof is malformed or does not lead to the expected root."""
