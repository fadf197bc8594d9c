"""Platform REST API (PROTOCOL.md §7) and label write API."""
