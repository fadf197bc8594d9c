"""`python manage.py create_key --purpose statement|checkpoint`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from registry.errors import DomainError
from registry.transparency.keys import key_create


class Command(BaseCommand):
    help = "Create a new active signing key (fails if one of that purpose is active: rotate instead)."

    def add_arguments(self, parser):
        parser.add_argument("--purpose", choices=["statement", "checkpoint"], required=True)

    def handle(self, *args, **options):
        try:
            key = key_create(purpose=options["purpose"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"created {key.purpose} key {key.kid}")
