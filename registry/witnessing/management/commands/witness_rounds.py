"""`python manage.py witness_rounds --interval 1`: the worker that gets the log's checkpoints cosigned."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from registry.witnessing.rounds import witness_round

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Send the log's newest checkpoint to the configured witnesses every --interval seconds; publish cosignatures."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between rounds (default 1)")
        parser.add_argument("--once", action="store_true", help="run one round (forced) and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self.stdout.write(witness_round(force=True).summary())
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"witness rounds every {options['interval']} s")
        last = ""
        while not stop.is_set():
            close_old_connections()
            try:
                summary = witness_round().summary()
            except DatabaseError as exc:  # the database is down: keep trying, the web keeps serving
                summary = f"round failed: {exc}"
                logger.warning("witness round failed: %s", exc)
            if summary != last:  # one line per change, not one per second
                self.stdout.write(summary)
                self.stdout.flush()
                last = summary
            stop.wait(options["interval"])
