"""`python manage.py audit_log`: recompute and verify the whole log; exit 1 at the first discrepancy."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from registry.transparency.audit import AuditFailure, audit_log


class Command(BaseCommand):
    help = "Recompute every leaf hash, node and root; verify every signature, checkpoint and bundle."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options):
        try:
            report = audit_log(options["database"])
        except AuditFailure as exc:
            raise CommandError(f"AUDIT FAILED: {exc}") from exc
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        self.stdout.write(report.summary())
