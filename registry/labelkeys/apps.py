"""Label keys: a label's own Ed25519 keys, their events in the log, and co-signed declarations (docs/protocol.md §14)."""

from __future__ import annotations

from django.apps import AppConfig


class LabelKeysConfig(AppConfig):
    name = "registry.labelkeys"
    label = "labelkeys"
    verbose_name = "Label keys"

    def ready(self) -> None:
        from registry.labelkeys.audit import audit_label_keys, audit_label_policies
        from registry.transparency.audit import register_entry_check

        register_entry_check(audit_label_keys)
        register_entry_check(audit_label_policies)
