"""Bench settings: the production settings plus a bench-only baseline view (never in production routing)."""

from registry.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
