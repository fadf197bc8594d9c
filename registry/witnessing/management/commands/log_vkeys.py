"""`python manage.py log_vkeys`: the log's note keys as tlog-policy `log` lines, for a witness's --config."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from registry.witnessing.rounds import log_verifier_keys


class Command(BaseCommand):
    help = "Print 'log <vkey>' for every checkpoint key that is not revoked (a witness's --config file)."

    def handle(self, *args: Any, **options: Any) -> None:
        for key in log_verifier_keys():
            self.stdout.write(f"log {key}")
