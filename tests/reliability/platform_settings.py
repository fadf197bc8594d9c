"""tests.settings for gunicorn workers on the real platform path: throttles and the key cache on.

``TEST_SHARED_REDIS_URL`` (with ``TEST_SHARED_PREFIX``) puts ``CACHES["shared"]`` on Redis, as
in production; without it the shared store is the database table, as under ``make run``.
"""

import os

from tests.settings import *  # noqa: F403

REGISTRY_THROTTLE = True
REGISTRY_KEY_CACHE_SECONDS = 60
if os.environ.get("TEST_SHARED_REDIS_URL"):
    CACHES["shared"] = {  # noqa: F405
        "BACKEND": "registry.redis_cache.RedisCache",
        "LOCATION": os.environ["TEST_SHARED_REDIS_URL"],
        "KEY_PREFIX": os.environ["TEST_SHARED_PREFIX"],
    }
