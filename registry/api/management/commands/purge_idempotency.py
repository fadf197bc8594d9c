"""`python manage.py purge_idempotency [--hours 24]`: forget stored write answers older than the replay window."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from registry.api.models import IdempotencyRecord


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than --hours (default 24); run it daily from cron."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24)

    def handle(self, *args, **options):
        if options["hours"] < 1:
            raise CommandError("--hours must be at least 1")
        cutoff = timezone.now() - timedelta(hours=options["hours"])
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"deleted {deleted} idempotency record(s) older than {options['hours']} h")
