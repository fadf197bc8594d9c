"""A C2SP tlog-witness that platforms and the registry can run: pure Python, a SQLite state file, no Django.

``python -m provenance witness keygen|serve`` (provenance/witness/command.py).
What a log needs to talk to a witness is :mod:`provenance.witness.protocol`
(request body, answer parsing), which imports nothing of the issuing side;
the server itself (:mod:`provenance.witness.server`) signs, so it does.
"""

from __future__ import annotations

from provenance.witness.protocol import add_checkpoint_body, parse_conflict, parse_cosignatures

__all__ = ["add_checkpoint_body", "parse_conflict", "parse_cosignatures"]
