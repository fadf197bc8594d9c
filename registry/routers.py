"""Database router: reads of public data may go to streaming replicas, writes to the primary.

Enabled by DATABASE_REPLICA_URLS. Code that must read its own writes (the log
append, label forms) runs inside a transaction or names ``using("default")``.
Lookups tolerate replica lag: every answer carries its own proof and checkpoint.
"""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings
from django.db import transaction

# Apps whose reads are safe to serve from a replica (public, append-only data).
REPLICA_APPS = {"catalog", "declarations", "transparency"}


class ReplicaRouter:
    def _replicas(self) -> list[str]:
        return [alias for alias in settings.DATABASES if alias.startswith("replica")]

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        replicas = self._replicas()
        if not replicas or model._meta.app_label not in REPLICA_APPS:
            return "default"
        # Inside a transaction on the primary, keep reading the primary.
        if transaction.get_connection("default").in_atomic_block:
            return "default"
        return random.choice(replicas)  # noqa: S311 - load spreading, not security

    def db_for_write(self, model: type, **hints: Any) -> str:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "default"
