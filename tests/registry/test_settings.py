"""Settings from the environment: production is deploy-clean, secrets come from *_FILE, mistakes fail loudly."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_SECRETS = {
    "SECRET_KEY": secrets.token_urlsafe(60),
    "REGISTRY_KEY_PASSPHRASE": secrets.token_urlsafe(32),
    "REGISTRY_TOKEN_PEPPER": secrets.token_urlsafe(32),
}


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "REGISTRY_", "SECRET_KEY", "DEBUG", "DATABASE_"))
    }
    base["DJANGO_SETTINGS_MODULE"] = "registry.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(secrets.token_urlsafe(60))
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(secrets.token_urlsafe(32))
    pepper = tmp_path / "pepper"
    pepper.write_text(secrets.token_urlsafe(32))
    done = _manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {
            "SECRET_KEY_FILE": str(secret),
            "REGISTRY_KEY_PASSPHRASE_FILE": str(passphrase),
            "REGISTRY_TOKEN_PEPPER_FILE": str(pepper),
            "REGISTRY_HTTPS": "1",
            "ALLOWED_HOSTS": "registry.example.org",
            "REGISTRY_VAR_DIR": str(tmp_path / "var"),
        },
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path):
    done = _manage(["check"], {"REGISTRY_VAR_DIR": str(tmp_path), "REGISTRY_KEY_PASSPHRASE": "x"})
    assert done.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) is required" in done.stderr


def test_it_refuses_to_start_without_a_key_passphrase_when_debug_is_off(tmp_path):
    done = _manage(["check"], {"REGISTRY_VAR_DIR": str(tmp_path), "SECRET_KEY": secrets.token_urlsafe(60)})
    assert done.returncode != 0
    assert "REGISTRY_KEY_PASSPHRASE" in done.stderr


def test_debug_alone_does_not_fall_back_to_a_built_in_key_passphrase(tmp_path):
    done = _manage(["check"], {"REGISTRY_VAR_DIR": str(tmp_path), "DEBUG": "1"})
    assert done.returncode != 0
    assert "REGISTRY_KEY_PASSPHRASE (or REGISTRY_KEY_PASSPHRASE_FILE) is required" in done.stderr
    assert "key_passphrase" in done.stderr  # where `make run` puts one


def test_it_refuses_to_start_without_a_token_pepper_of_its_own_when_debug_is_off(tmp_path):
    env = {**PRODUCTION_SECRETS, "REGISTRY_VAR_DIR": str(tmp_path)}
    del env["REGISTRY_TOKEN_PEPPER"]
    done = _manage(["check"], env)
    assert done.returncode != 0 and "REGISTRY_TOKEN_PEPPER (or REGISTRY_TOKEN_PEPPER_FILE) is required" in done.stderr
    done = _manage(["check"], {**env, "REGISTRY_TOKEN_PEPPER": env["SECRET_KEY"]})
    assert done.returncode != 0 and "REGISTRY_TOKEN_PEPPER must differ from SECRET_KEY" in done.stderr


def test_the_secrets_make_run_writes_to_var_are_enough(tmp_path):
    for name in ("secret_key", "key_passphrase", "token_pepper"):
        (tmp_path / name).write_text(secrets.token_urlsafe(32) + "\n")
    show = "from django.conf import settings as s; print(s.REGISTRY_TOKEN_PEPPER, s.REGISTRY_KEY_PASSPHRASE)"
    done = _manage(["shell", "-v", "0", "-c", show], {"REGISTRY_VAR_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    expected = [(tmp_path / "token_pepper").read_text().strip(), (tmp_path / "key_passphrase").read_text().strip()]
    assert done.stdout.split() == expected


def test_a_missing_secret_file_is_named_in_the_error(tmp_path):
    done = _manage(["check"], {"REGISTRY_VAR_DIR": str(tmp_path), "SECRET_KEY_FILE": str(tmp_path / "nope")})
    assert done.returncode != 0 and "SECRET_KEY_FILE" in done.stderr


def test_a_malformed_boolean_fails_loudly(tmp_path):
    done = _manage(["check"], {"REGISTRY_VAR_DIR": str(tmp_path), "DEBUG": "maybe"})
    assert done.returncode != 0 and "DEBUG must be a boolean" in done.stderr


def test_a_negative_number_of_trusted_proxies_fails_loudly(tmp_path):
    done = _manage(
        ["check"], {**PRODUCTION_SECRETS, "REGISTRY_VAR_DIR": str(tmp_path), "REGISTRY_TRUSTED_PROXIES": "-1"}
    )
    assert done.returncode != 0 and "REGISTRY_TRUSTED_PROXIES must be 0 or more" in done.stderr


SHARED_STORE = "from django.core.cache import caches; s = caches['shared']; print(type(s).__name__)"


def test_migrate_on_a_fresh_clone_creates_the_shared_store_in_the_database_without_redis(tmp_path):
    env = {**PRODUCTION_SECRETS, "REGISTRY_VAR_DIR": str(tmp_path), "REDIS_URL": ""}
    migrated = _manage(["migrate", "--noinput", "-v", "0"], env)
    assert migrated.returncode == 0, migrated.stderr
    done = _manage(["shell", "-v", "0", "-c", SHARED_STORE + "; s.set('k', 7); print(s.get('k'))"], env)
    assert done.stdout.split() == ["DatabaseCache", "7"], done.stderr


def test_the_shared_store_is_redis_when_redis_is_configured_even_with_the_lookup_cache_off(tmp_path):
    env = {**PRODUCTION_SECRETS, "REGISTRY_VAR_DIR": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:6379/3"}
    done = _manage(["shell", "-v", "0", "-c", SHARED_STORE], {**env, "REGISTRY_CACHE": "0"})
    assert done.stdout.split() == ["RedisCache"], done.stderr
