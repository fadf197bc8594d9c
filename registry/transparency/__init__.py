"""Transparency log: signing keys, RFC 9162 leaves and nodes, signed checkpoints."""
