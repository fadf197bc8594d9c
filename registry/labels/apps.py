"""The label area's app: pages for labels, and the sign-in's shared store created at migrate."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_tables(using: str = "default", **kwargs: Any) -> None:
    """Create the table of ``CACHES["shared"]`` when it is a database cache (no Redis).

    Run after every ``migrate``, so the sign-in throttle's store exists on a fresh clone and
    after switching away from Redis; it does nothing when the table exists or the cache is Redis.
    """
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class LabelsConfig(AppConfig):
    name = "registry.labels"
    label = "labels"

    def ready(self) -> None:
        post_migrate.connect(create_cache_tables, sender=self)
