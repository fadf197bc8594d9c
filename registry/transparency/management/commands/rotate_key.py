"""`python manage.py rotate_key --purpose statement|checkpoint`: retire the active key, create a new one."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from registry.transparency.keys import key_rotate


class Command(BaseCommand):
    help = "Retire the active key of a purpose (it keeps verifying what it signed) and activate a new one."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--purpose", choices=["statement", "checkpoint"], required=True)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        old, new = key_rotate(purpose=options["purpose"])
        if old:
            self.stdout.write(f"retired {old.purpose} key {old.kid}")
        self.stdout.write(f"active {new.purpose} key {new.kid}")
