"""Disputes: an artist, rights holder or platform disputes a declaration; the label answers; staff resolve (docs/protocol.md §15)."""

from __future__ import annotations

from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "registry.disputes"
    label = "disputes"
    verbose_name = "Disputes"

    def ready(self) -> None:
        from registry.disputes.audit import audit_disputes
        from registry.transparency.audit import register_entry_check

        register_entry_check(audit_disputes)
