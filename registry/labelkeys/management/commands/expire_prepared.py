"""`python manage.py expire_prepared [--interval 60]`: delete expired prepared statements and the releases they left.

One pass by default (cron); with ``--interval`` a loop, as ``make run`` runs it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from registry.labelkeys.services import prepared_expire
from registry.periodic import run_every

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Delete co-signing statements prepared and never submitted once expired, and the undeclared releases "
        "their first-version prepares created; one pass, or every --interval seconds."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=0, help="seconds between passes (default: one pass)")

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"]
        if interval < 0:
            raise CommandError("--interval must be positive")
        if not interval:
            self.stdout.write(self._pass())
            return
        self.stdout.write(f"expiring prepared statements every {interval:g} s")

        def report(done: str) -> None:
            if not done.startswith("deleted 0 "):
                self.stdout.write(done)
                self.stdout.flush()

        run_every(interval, self._pass, report, failed="pass", logger=logger)

    def _pass(self) -> str:
        total_prepared = total_releases = 0
        while True:  # in chunks, so one pass never holds more than a chunk in memory
            prepared, releases = prepared_expire(limit=10_000)
            total_prepared += prepared
            total_releases += releases
            if prepared < 10_000:
                break
        return (
            f"deleted {total_prepared} expired prepared statement(s) and {total_releases} undeclared release(s) "
            "they created"
        )
