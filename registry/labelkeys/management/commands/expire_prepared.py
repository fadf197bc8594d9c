"""`python manage.py expire_prepared [--interval 60]`: delete expired prepared statements and the releases they left.

One pass by default (cron); with ``--interval`` a loop, as ``make run`` runs it.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from registry.labelkeys.services import prepared_expire

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
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"expiring prepared statements every {interval:g} s")
        while not stop.is_set():
            close_old_connections()
            try:
                done = self._pass()
            except DatabaseError as exc:  # the database is down: keep trying, the web keeps serving
                done = f"pass failed: {exc}"
                logger.warning("expire_prepared pass failed: %s", exc)
            if not done.startswith("deleted 0 "):
                self.stdout.write(done)
                self.stdout.flush()
            stop.wait(interval)

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
