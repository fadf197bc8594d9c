"""`python manage.py ensure_keys`: create the statement and checkpoint keys if none is active."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from registry.transparency.keys import ensure_keys


class Command(BaseCommand):
    help = "Create the active statement and checkpoint signing keys when missing."

    def handle(self, *args, **options):
        created = ensure_keys()
        for key in created:
            self.stdout.write(f"created {key.purpose} key {key.kid}")
        if not created:
            self.stdout.write("signing keys present")
