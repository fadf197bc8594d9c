"""`python manage.py revoke_key KID --reason TEXT [--archive-dir DIR]`: every signature by the key becomes invalid."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from registry.errors import DomainError
from registry.transparency.keys import key_revoke
from registry.transparency.management.commands.rotate_key import ARCHIVE_HELP, archive_or_warn


class Command(BaseCommand):
    help = "Revoke a signing key (compromise). See docs/operations.md for the full runbook."

    def add_arguments(self, parser):
        # A key id is base64url and may start with "-": pass it after "--" (revoke_key -- -AbC…),
        # or as kid=… from call_command, which then never parses it as an option.
        parser.add_argument("kid", nargs="?", help='the key id (after "--" if it starts with "-")')
        parser.add_argument("--reason", required=True)
        parser.add_argument("--archive-dir", help=ARCHIVE_HELP)

    def handle(self, *args, **options):
        if not options["kid"]:
            raise CommandError("give the key id to revoke")
        try:
            key = key_revoke(kid=options["kid"], reason=options["reason"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"revoked {key.purpose} key {key.kid}")
        archive_or_warn(self, key, options["archive_dir"])
        if key.purpose == "statement":
            self.stdout.write(
                "run `python manage.py resign_declarations` to re-sign current declarations with the active key"
            )
