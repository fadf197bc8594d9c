"""Bench settings: the production settings plus a bench-only baseline view (never in production routing)."""

import os

from registry.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# Row 8b's baseline: static files of a tile's size, served by WhiteNoise like the site's own.
if os.environ.get("BENCH_STATIC_ROOT"):
    WHITENOISE_ROOT = os.environ["BENCH_STATIC_ROOT"]
