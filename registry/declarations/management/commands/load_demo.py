"""`python manage.py load_demo [--if-empty]`: load the fictional demo catalog through the real services."""

from __future__ import annotations

from django.core import mail
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from registry.catalog.models import Label
from registry.declarations.demo import DEMO_ARTIST, DEMO_PASSWORD, LABELS, demo_key_path, load_demo
from registry.transparency.keys import ensure_keys


class Command(BaseCommand):
    help = "Load a fictional demo catalog (3 labels, 12 releases, 42 tracks), signed and logged."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing when any label exists")

    def handle(self, *args, **options):
        if Label.objects.exists():
            if options["if_empty"]:
                self.stdout.write("catalog not empty: demo not loaded")
                return
            raise CommandError("the catalog is not empty; the demo loads only into an empty registry")
        ensure_keys()
        # The demo's own events (key registrations, disputes, observations) notify its fictional owners:
        # kept in memory, not printed to the console of `make run` or sent to a configured server.
        outbox = getattr(mail, "outbox", None)  # a test's own, kept as it was
        try:
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                mail.outbox = []
                counts = load_demo()
                held = len(mail.outbox)
        finally:
            if outbox is None:
                del mail.outbox
            else:
                mail.outbox = outbox
        self.stdout.write(
            "loaded the fictional demo catalog: {labels} labels, {releases} releases, {tracks} tracks, "
            "{declarations} declarations".format(**counts)
            + f"; {held} notification emails to its fictional owners held back"
        )
        self.stdout.write(
            f"demo label sign-in: user 'demo' (also demo1, demo2), password '{DEMO_PASSWORD}' — demo only; "
            f"the artist who opened the demo's disputes: user '{DEMO_ARTIST}', same password"
        )
        key = demo_key_path(LABELS[0][0])
        self.stdout.write(
            f"{LABELS[0][0]}'s signing key (demo only, unencrypted): {key}; co-sign a prepared amendment with "
            f"`python -m provenance sign --key {key} prepared.json`"
        )
