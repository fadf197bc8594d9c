"""`python manage.py rotate_key --purpose statement|checkpoint [--archive-dir DIR]`: retire the active key, create a new one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.errors import DomainError
from registry.transparency.keys import archive_dir, key_archive, key_rotate
from registry.transparency.models import SigningKey

ARCHIVE_HELP = (
    "where the private key file of the key that stops signing goes (default: REGISTRY_KEY_ARCHIVE_DIR); "
    "offline storage outside REGISTRY_KEY_DIR"
)


def archive_or_warn(command: BaseCommand, key: SigningKey, option: str | None) -> None:
    """Move ``key``'s private file to the archive directory, or say exactly what the operator must do."""
    if not (settings.REGISTRY_KEY_DIR / key.key_file).exists():
        command.stdout.write(f"the private key file of {key.kid} is not in REGISTRY_KEY_DIR (archived earlier)")
        return
    target = archive_dir(option)
    if target is None:
        command.stderr.write(
            f"the private key of {key.status} key {key.kid} is still {settings.REGISTRY_KEY_DIR / key.key_file}: "
            "it signs nothing now, so move it off this host (--archive-dir or REGISTRY_KEY_ARCHIVE_DIR; "
            "docs/operations.md)"
        )
        return
    try:
        moved = key_archive(key=key, to=target)
    except DomainError as exc:
        raise CommandError(f"the key is {key.status}, but its private file was not archived: {exc.message}") from exc
    command.stdout.write(f"archived the private key of {key.kid} to {moved}: take it off this host")


class Command(BaseCommand):
    help = (
        "Retire the active key of a purpose (it keeps verifying what it signed) and activate a new one; "
        "move the retired key's private file out of REGISTRY_KEY_DIR into the archive directory."
    )

    def add_arguments(self, parser):
        parser.add_argument("--purpose", choices=["statement", "checkpoint"], required=True)
        parser.add_argument("--archive-dir", help=ARCHIVE_HELP)

    def handle(self, *args: Any, **options: Any) -> None:
        old, new = key_rotate(purpose=options["purpose"])
        if old:
            self.stdout.write(f"retired {old.purpose} key {old.kid}")
        self.stdout.write(f"active {new.purpose} key {new.kid}")
        if old is not None:
            archive_or_warn(self, old, options["archive_dir"])
