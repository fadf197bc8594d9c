"""The declarations app: signs and serves declarations, and registers their half of the log audit."""

from __future__ import annotations

from django.apps import AppConfig


class DeclarationsConfig(AppConfig):
    name = "registry.declarations"
    label = "declarations"

    def ready(self) -> None:
        from registry.declarations.audit import audit_declarations
        from registry.transparency.audit import register_entry_check

        register_entry_check(audit_declarations)
