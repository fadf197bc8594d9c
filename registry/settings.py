"""Settings, read from the environment. SQLite by default; DATABASE_URL switches to PostgreSQL.

Secrets may be given directly or as ``*_FILE`` paths (e.g. Docker/Kubernetes
secrets), or as files in ``var/`` (``make run`` writes them). With DEBUG off,
SECRET_KEY, the key passphrase and a token pepper of its own are required; the
key passphrase is required outside tests even with DEBUG on.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from provenance.errors import IdentifierError
from provenance.identifiers import normalize_dpid
from registry.env import env, envbool, envint, envjson, envlist

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("REGISTRY_VAR_DIR") or BASE_DIR / "var")

DEBUG = envbool("DEBUG", False)
TESTING = envbool("REGISTRY_TESTING", False)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY and (VAR_DIR / "secret_key").exists():
    SECRET_KEY = (VAR_DIR / "secret_key").read_text().strip()
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-development-key-only-for-debug-and-tests-0123456789abcdef"  # noqa: S105
    else:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required when DEBUG is off")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")
# What public pages tell a reader to `pip install` to verify offline (pyproject.toml's distribution of
# `provenance/`): a PyPI name, or a pip URL of this repository such as "git+https://…/registry.git".
# Shown as text only; nothing is fetched at run time.
VERIFIER_PIP_SPEC = env("VERIFIER_PIP_SPEC", "ai-disclosure-provenance")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_tasks",
    "django_tasks_db",
    "registry.catalog",
    "registry.transparency",
    "registry.declarations",
    "registry.api",
    "registry.labels",
    "registry.ownership",
    "registry.public",
    "registry.witnessing",
    "registry.labelkeys",
    "registry.disputes",
    "registry.observations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "registry.middleware.SecurityHeadersMiddleware",
    # Before anything reads a body (sessions, CSRF): oversized bodies answer 413 unread.
    "registry.request_limits.RequestBodyLimitMiddleware",
    "registry.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Stored full tiles are static files too: served here, before sessions and the URL resolver.
    "registry.api.views.tlog.StoredTileMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "registry.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "registry" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "registry.context_processors.site",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'registry.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # IMMEDIATE transactions take the write lock up front, so two writers
    # never deadlock upgrading read locks; appends serialize on it.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# Read replicas: DATABASE_REPLICA_URLS=postgres://…,postgres://… sends lookups there.
for i, url in enumerate(envlist("DATABASE_REPLICA_URLS", "")):
    DATABASES[f"replica{i}"] = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    DATABASES[f"replica{i}"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["registry.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL and envbool("REGISTRY_CACHE", True):
    CACHES = {
        "default": {
            "BACKEND": "registry.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_PREFIX", "registry"),
        }
    }
else:
    # Per process, so it never holds lookup answers (see REGISTRY_LOOKUP_CACHE_SECONDS below);
    # what every worker must agree on lives in CACHES["shared"]. Production sets REDIS_URL.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 5000}}}
# What every worker must see alike (sign-in throttling, registry/auth_views.py): Redis when
# REDIS_URL is set, even with REGISTRY_CACHE=0; otherwise a table in the database, which
# `migrate` creates (registry/labels/apps.py), so a fresh clone runs with no extra step.
if REDIS_URL:
    CACHES["shared"] = {
        "BACKEND": "registry.redis_cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"{env('CACHE_PREFIX', 'registry')}:shared",
    }
else:
    # Entries are small; the high cap keeps a flood of new entries from culling live counters.
    CACHES["shared"] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "registry_shared_cache",
        "OPTIONS": {"MAX_ENTRIES": 200_000},
    }

# --- background work ----------------------------------------------------------
# Django's tasks API (django-tasks, the backport of Django 6's django.tasks) on the
# database backend: the queue is a table in the same SQLite or PostgreSQL database, so a
# task row commits or rolls back with the work that enqueued it, and `manage.py db_worker`
# runs it (`make run` starts one; docs/operations.md). Another backend (RQ) by settings alone.
TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/label/"
LOGOUT_REDIRECT_URL = "/"
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "registry@localhost")

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "registry" / "static"]
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# C2SP tlog-tiles (docs/protocol.md §5.3): full tiles are written here, under their URL paths, so that
# object storage behind a CDN can serve /tlog/ as it is (docs/scaling.md). By default files under the
# var dir, written atomically; any Django storage backend (django-storages' S3, GCS, Azure) by env.
STORAGES["tlog"] = {
    "BACKEND": env("REGISTRY_TLOG_STORAGE", "registry.transparency.tiles.AtomicFileSystemStorage"),
    "OPTIONS": envjson("REGISTRY_TLOG_STORAGE_OPTIONS", {"location": str(VAR_DIR / "tlog")}),
}
# The largest body of any URL but the two that take files (registry/request_limits.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR")  # where larger uploads are spooled; the system's temp dir

# --- security (production sets REGISTRY_HTTPS=1 behind TLS) ------------------
HTTPS = envbool("REGISTRY_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")
# Reverse proxies in front of the app that append to X-Forwarded-For (registry/client_address.py).
# 0: the header is ignored and the client is the TCP peer; set it only behind such proxies.
REGISTRY_TRUSTED_PROXIES = envint("REGISTRY_TRUSTED_PROXIES", 0)
if REGISTRY_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured(f"REGISTRY_TRUSTED_PROXIES must be 0 or more, got {REGISTRY_TRUSTED_PROXIES}")

# --- the registry -----------------------------------------------------------
# Origin of the transparency log (docs/protocol.md §5): one line, no spaces.
REGISTRY_LOG_ORIGIN = env("REGISTRY_LOG_ORIGIN", "registry.example.org/log")
# Witnesses asked to cosign the log's checkpoints (docs/operations.md, "Witnesses"): a C2SP
# tlog-policy file of `witness <name> <vkey> <url>`, `group` and `quorum` lines. Unset: no witnessing.
REGISTRY_WITNESS_POLICY = env("REGISTRY_WITNESS_POLICY") or ""
if REGISTRY_WITNESS_POLICY:
    from provenance.policy import PolicyError

    try:
        from registry.witnessing.config import parse_witness_policy

        parse_witness_policy(REGISTRY_WITNESS_POLICY + ("" if REGISTRY_WITNESS_POLICY.endswith("\n") else "\n"))
    except PolicyError as exc:
        raise ImproperlyConfigured(f"REGISTRY_WITNESS_POLICY: {exc}") from exc
    if not REGISTRY_WITNESS_POLICY.endswith("\n"):
        REGISTRY_WITNESS_POLICY += "\n"  # env() strips a _FILE's final newline
# Seconds a witness has to answer one add-checkpoint request.
REGISTRY_WITNESS_TIMEOUT = envint("REGISTRY_WITNESS_TIMEOUT", 5)
# An unchanged checkpoint is sent to the witnesses again after this many seconds, so that the newest
# cosignatures stay recent for verifiers with a --max-age (docs/operations.md).
REGISTRY_WITNESS_REFRESH = envint("REGISTRY_WITNESS_REFRESH", 300)
# A witness missing from the newest cosigned checkpoint (down, slow to start) is asked again this often.
REGISTRY_WITNESS_RETRY = envint("REGISTRY_WITNESS_RETRY", 10)
# The registry as a DDEX party: the sender of its ERN exports (registry/public/ern_export.py). DDEX
# assigns DPIDs, so there is no default: unset, the ERN export answers 503 saying so.
REGISTRY_NAME = env("REGISTRY_NAME", "AI Disclosure Registry")
REGISTRY_DPID = env("REGISTRY_DPID") or None
if REGISTRY_DPID is not None:
    try:
        REGISTRY_DPID = normalize_dpid(REGISTRY_DPID)
    except IdentifierError as exc:
        raise ImproperlyConfigured(f"REGISTRY_DPID: {exc}") from exc
# Private signing keys live in files here, never in the database.
REGISTRY_KEY_DIR = Path(env("REGISTRY_KEY_DIR") or VAR_DIR / "keys")
REGISTRY_KEY_PASSPHRASE = env("REGISTRY_KEY_PASSPHRASE")
if not REGISTRY_KEY_PASSPHRASE and (VAR_DIR / "key_passphrase").exists():
    REGISTRY_KEY_PASSPHRASE = (VAR_DIR / "key_passphrase").read_text().strip()
if not REGISTRY_KEY_PASSPHRASE:
    # Only tests may use a passphrase everyone can read; DEBUG alone is not enough,
    # since `make run` writes var/key_passphrase.
    if TESTING:
        REGISTRY_KEY_PASSPHRASE = "test-only-key-passphrase"  # noqa: S105
    else:
        raise ImproperlyConfigured(
            "REGISTRY_KEY_PASSPHRASE (or REGISTRY_KEY_PASSPHRASE_FILE) is required "
            f"(`make run` writes {VAR_DIR / 'key_passphrase'})"
        )
REGISTRY_KEY_KDF_ROUNDS = envint("REGISTRY_KEY_KDF_ROUNDS", 100)
# Where rotate_key/revoke_key move the private key file of a key that no longer signs (outside
# REGISTRY_KEY_DIR; mount it from offline storage, or empty it off the host). Unset: the file stays.
_ARCHIVE_DIR = env("REGISTRY_KEY_ARCHIVE_DIR")
REGISTRY_KEY_ARCHIVE_DIR = Path(_ARCHIVE_DIR) if _ARCHIVE_DIR else None
REGISTRY_LOOKUP_MAX = 1000


# Lookup answers kept in the cache (registry.declarations.cache); 0 switches it off (and is the test
# default). Only a cache every worker shares may hold them: in a per-process cache, a withdrawal
# would keep answering the old version on the other workers until the entry expired.
def _on_redis(alias: str) -> bool:
    return str(CACHES[alias]["BACKEND"]).endswith("RedisCache")


_SHARED_DEFAULT_CACHE = _on_redis("default")
REGISTRY_LOOKUP_CACHE_SECONDS = envint(
    "REGISTRY_LOOKUP_CACHE_SECONDS", 30 if _SHARED_DEFAULT_CACHE and not TESTING else 0
)
if REGISTRY_LOOKUP_CACHE_SECONDS > 0 and not _SHARED_DEFAULT_CACHE:
    raise ImproperlyConfigured(
        "REGISTRY_LOOKUP_CACHE_SECONDS needs a cache every worker shares: set REDIS_URL (or set it to 0)"
    )
# What a request needs to know about its API credential, cached in CACHES["shared"] for this many
# seconds (registry/api/key_cache.py: dropped on revocation; the TTL bounds a revocation the store
# missed). 0 switches it off, the default without Redis: a database cache read costs the query it saves.
REGISTRY_KEY_CACHE_SECONDS = envint("REGISTRY_KEY_CACHE_SECONDS", 60 if _on_redis("shared") else 0)
# A platform key in steady use is leased per worker process between Redis round trips
# (registry/api/leases.py): for at most this many ms (the bound on how long another worker may
# still serve a revoked key; 0: no leases, one round trip per request) and at most
# REGISTRY_THROTTLE_BATCH requests, which bounds a quota's overshoot at (workers − 1) × that.
REGISTRY_KEY_SYNC_MS = envint("REGISTRY_KEY_SYNC_MS", 250)
REGISTRY_THROTTLE_BATCH = envint("REGISTRY_THROTTLE_BATCH", 100)
# Platform API keys and label tokens are stored as HMAC-SHA256 under this pepper: a secret of its
# own, so a leaked SECRET_KEY (or one rotated) says nothing about, and changes nothing in, the tokens.
REGISTRY_TOKEN_PEPPER = env("REGISTRY_TOKEN_PEPPER")
if not REGISTRY_TOKEN_PEPPER and (VAR_DIR / "token_pepper").exists():
    REGISTRY_TOKEN_PEPPER = (VAR_DIR / "token_pepper").read_text().strip()
if not REGISTRY_TOKEN_PEPPER:
    if DEBUG or TESTING:
        REGISTRY_TOKEN_PEPPER = hmac.new(SECRET_KEY.encode(), b"registry token pepper", hashlib.sha256).hexdigest()
    else:
        raise ImproperlyConfigured(
            "REGISTRY_TOKEN_PEPPER (or REGISTRY_TOKEN_PEPPER_FILE) is required when DEBUG is off "
            f"(`make run` writes {VAR_DIR / 'token_pepper'}); see docs/operations.md to keep existing tokens"
        )
elif REGISTRY_TOKEN_PEPPER == SECRET_KEY and not (DEBUG or TESTING):
    raise ImproperlyConfigured(
        "REGISTRY_TOKEN_PEPPER must differ from SECRET_KEY; to keep existing tokens give Django a new "
        "SECRET_KEY instead (docs/operations.md)"
    )

# --- API --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
    # DRF's own reading of X-Forwarded-For; the throttles call registry.client_address, which agrees.
    "NUM_PROXIES": REGISTRY_TRUSTED_PROXIES,
    # Read by registry/api/throttles.py (counters in CACHES["shared"]); a bulk lookup counts per identifier.
    "DEFAULT_THROTTLE_RATES": {
        "lookup_anon": env("THROTTLE_LOOKUP_ANON", "600/min"),
        "lookup_platform": env("THROTTLE_LOOKUP_PLATFORM", "60000/min"),
        "write": env("THROTTLE_WRITE", "600/min"),
        # Opening disputes (registry/disputes/services.py): per account, per API credential (a platform
        # key or a label token: platforms dispute more than a person does), and per disputed release.
        "dispute_account": env("THROTTLE_DISPUTE_ACCOUNT", "5/day"),
        "dispute_credential": env("THROTTLE_DISPUTE_CREDENTIAL", "50/day"),
        "dispute_declaration": env("THROTTLE_DISPUTE_DECLARATION", "20/day"),
        "observation_platform": env("THROTTLE_OBSERVATION_PLATFORM", "1000/day"),
    },
}
REGISTRY_THROTTLE = envbool("REGISTRY_THROTTLE", True)
SPECTACULAR_SETTINGS = {
    "TITLE": "AI Disclosure Registry API",
    "DESCRIPTION": "Look up, mirror and verify labels' signed declarations of AI involvement in music.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from drf-spectacular-sidecar, served by registry.api (no CDN, strict CSP).
    "SWAGGER_UI_DIST": "/api/docs/assets/swagger-ui-dist",
    "SWAGGER_UI_FAVICON_HREF": "/api/docs/assets/swagger-ui-dist/favicon-32x32.png",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None, "persistAuthorization": False},
    "ENUM_NAME_OVERRIDES": {
        "LevelEnum": "provenance.vocabulary.LEVELS",
        "PersonaEnum": "provenance.vocabulary.PERSONAS",
        "DeclarationStatusEnum": [("active", "active"), ("withdrawn", "withdrawn")],
        "DeclaredEnum": [("declared", "declared")],
        "NotDeclaredEnum": [("not_declared", "not_declared")],
        "CatalogStatusEnum": [("not_declared", "not_declared"), ("active", "active"), ("withdrawn", "withdrawn")],
        "DisputeStatusEnum": [(s, s) for s in ("open", "answered", "upheld", "rejected", "withdrawn")],
        "BulkItemStatusEnum": [(s, s) for s in ("created", "amended", "withdrawn", "error")],
    },
    "TAGS": [
        {"name": "lookup", "description": "Look up declarations by ISRC or UPC, one at a time or in bulk."},
        {"name": "log", "description": "Mirror the transparency log and fetch its proofs."},
        {"name": "keys", "description": "The registry's public keys."},
        {"name": "verify", "description": "Check a bundle online (the same checks run offline)."},
        {"name": "label", "description": "Labels register, declare, amend and withdraw (label token)."},
        {
            "name": "disputes",
            "description": "Platforms (platform key) and rights holders (another label's token) dispute declarations; "
            "the disputed label answers (its token); openers withdraw.",
        },
        {
            "name": "platform",
            "description": "Platforms attach signed observations to recordings and manage their signing keys "
            "(platform key; docs/protocol.md §16).",
        },
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}
