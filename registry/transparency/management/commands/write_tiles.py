"""`python manage.py write_tiles`: write every full tlog tile the `tlog` storage lacks (a backfill)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from registry.transparency import tiles


class Command(BaseCommand):
    help = "Write every full hash tile and entry bundle of the published tree that the tlog storage lacks."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")

    def handle(self, *args, **options):
        try:
            written = tiles.write_missing(options["database"])
        except tiles.ForeignTiles as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{written} full tile(s) written; tree size {tiles.published_size(options['database'])}")
