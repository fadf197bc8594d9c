"""`python manage.py resign_declarations`: re-sign current versions whose key is revoked (key-compromise runbook)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from registry.catalog.models import Release
from registry.declarations.services import declaration_resign


class Command(BaseCommand):
    help = "Issue a new version, signed by the active key, of every current declaration signed by a revoked key."

    def add_arguments(self, parser):
        parser.add_argument("--reason", default="Re-signed after the registry revoked its previous signing key.")

    def handle(self, *args, **options):
        releases = Release.objects.filter(current_declaration__key__status="revoked").order_by("pk")
        count = 0
        for release in releases.iterator():
            declaration_resign(release=release, reason=options["reason"])
            count += 1
        self.stdout.write(f"re-signed {count} declaration(s)")
