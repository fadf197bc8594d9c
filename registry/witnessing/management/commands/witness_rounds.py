"""`python manage.py witness_rounds --interval 1`: the worker that gets the log's checkpoints cosigned."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand

from registry.periodic import run_every
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
        self.stdout.write(f"witness rounds every {options['interval']} s")
        last = ""

        def report(summary: str) -> None:
            nonlocal last
            if summary != last:  # one line per change, not one per second
                self.stdout.write(summary)
                self.stdout.flush()
                last = summary

        run_every(
            options["interval"],
            lambda: witness_round().summary(),
            report,
            failed="round",
            logger=logger,
        )
