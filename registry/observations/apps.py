"""Observations: platforms' signing keys and the signed observations they attach to recordings (docs/protocol.md §16)."""

from __future__ import annotations

from django.apps import AppConfig


class ObservationsConfig(AppConfig):
    name = "registry.observations"
    label = "observations"
    verbose_name = "Platform observations"

    def ready(self) -> None:
        from registry.observations.audit import audit_observations, audit_platform_keys
        from registry.transparency.audit import register_entry_check

        register_entry_check(audit_platform_keys)
        register_entry_check(audit_observations)
