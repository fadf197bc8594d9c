"""Periodic worker commands (``manage.py witness_rounds``, ``manage.py expire_prepared``): one loop for both.

Each pass runs on a fresh database connection; a pass the database refuses is logged and
reported, and the loop keeps going (the web keeps serving). SIGTERM and SIGINT end the loop
between passes, so a pass is never cut in half.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from django.db import DatabaseError, close_old_connections


def run_every(
    interval: float, step: Callable[[], str], report: Callable[[str], None], *, failed: str, logger: logging.Logger
) -> None:
    """Run ``step`` every ``interval`` seconds until SIGTERM or SIGINT; ``report`` gets what each pass says.

    A pass that raises DatabaseError says ``"{failed} failed: …"`` (and is logged at WARNING).
    """
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        close_old_connections()
        try:
            said = step()
        except DatabaseError as exc:  # the database is down: keep trying
            said = f"{failed} failed: {exc}"
            logger.warning("%s failed: %s", failed, exc)
        report(said)
        stop.wait(interval)
