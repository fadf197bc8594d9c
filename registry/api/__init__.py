"""Platform REST API (docs/protocol.md §12) and label write API."""
