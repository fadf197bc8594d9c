"""Run the registry under gunicorn (separate processes) against the test database, for fault tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def registry_env() -> dict[str, str]:
    """Environment that points a child process at this test run's database and key files."""
    db = connection.settings_dict
    url = f"postgres://{db['USER'] or 'postgres'}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": url,
            "REGISTRY_VAR_DIR": str(settings.VAR_DIR),
            "REGISTRY_KEY_DIR": str(settings.REGISTRY_KEY_DIR),
            "REGISTRY_KEY_PASSPHRASE": settings.REGISTRY_KEY_PASSPHRASE,
            "DB_CONN_MAX_AGE": "60",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


class Gunicorn:
    def __init__(
        self, workers: int = 3, threads: int = 2, env: dict[str, str] | None = None, settings: str = "tests.settings"
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **registry_env(),
            "BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_THREADS": str(threads),
            "ACCESS_LOG": "",
            **(env or {}),
            "DJANGO_SETTINGS_MODULE": settings,
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "registry.wsgi:application",
                "--config",
                "registry/gunicorn.conf.py",
                "--env",
                f"DJANGO_SETTINGS_MODULE={settings}",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/api/v1/log/checkpoint", timeout=2)  # noqa: S310
                return
            except urllib.error.HTTPError:
                return  # answering, even if 404 on an empty log
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start: {self.proc.stderr.read().decode(errors='replace')[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def request(method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 30) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            raw = resp.read()
            return resp.status, json.loads(raw) if raw[:1] in (b"{", b"[") else raw.decode()
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")
    except OSError as exc:
        return 0, str(exc)
