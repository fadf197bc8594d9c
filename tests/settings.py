"""Test settings: the real settings module with a throwaway var dir and fast (still real) key encryption."""

import os
import tempfile

os.environ.setdefault("REGISTRY_TESTING", "1")
os.environ.setdefault("REGISTRY_KEY_KDF_ROUNDS", "2")
os.environ.setdefault("REGISTRY_VAR_DIR", tempfile.mkdtemp(prefix="registry-test-"))
# A made-up DDEX Party ID (valid check character) for the registry as an ERN sender.
os.environ.setdefault("REGISTRY_DPID", "PADPIDA20261201011")

from registry.settings import *  # noqa: E402,F403

# Hashing passwords slowly protects production; in tests it only costs minutes.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REGISTRY_THROTTLE = False
# The shared store as it is without Redis (a database table): each test's writes roll back with
# its transaction, and parallel runs never share counters through a Redis they both use.
CACHES["shared"] = {  # noqa: F405
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "registry_shared_cache",
}
# The key cache as it is by default on that store: off (tests/registry/api/test_key_cache.py switches it on).
REGISTRY_KEY_CACHE_SECONDS = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # One test database per process, so parallel runs (developers, CI, xdist) never collide.
    DATABASES["default"]["TEST"] = {"NAME": f"test_registry_{os.getpid()}"}  # noqa: F405

# Serve static files from the apps' folders (no collectstatic in tests), as runserver would.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
