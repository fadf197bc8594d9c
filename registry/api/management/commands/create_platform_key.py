"""`python manage.py create_platform_key NAME [--email E]`: issue a platform API key, shown once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from registry.api.tokens import platform_key_create
from registry.errors import DomainError


class Command(BaseCommand):
    help = "Issue an API key for a platform (higher lookup limits). The key is printed once and stored only as an HMAC."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--email", default="")

    def handle(self, *args, **options):
        try:
            row, key = platform_key_create(name=options["name"], contact_email=options["email"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"platform key for {row.name} (id {row.public_id}); store it now, it is not shown again:")
        self.stdout.write(key)
