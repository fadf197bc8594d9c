"""The bench's own PostgreSQL: ``initdb`` in a temporary directory, a free port, memory sized for the 10M rows.

``bench.run`` starts one when ``BENCH_OWN_PG=1``, and by default for ``--large``
(``make bench-large``), so rows 5 and 6 at 10M measure a PostgreSQL sized as
production would size it rather than the machine's default (``shared_buffers``
128 MB), without restarting or reconfiguring the machine's own server. It is
stopped (fast shutdown) and its directory removed when the bench exits.
The settings and why: docs/performance.md, "The 10M rows".
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench import load

GB = 1024**3


def _bindir() -> Path:
    """Where ``initdb`` and ``postgres`` are: BENCH_PG_BIN, else pg_config's, else the newest Debian install."""
    if os.environ.get("BENCH_PG_BIN"):
        return Path(os.environ["BENCH_PG_BIN"])
    if shutil.which("pg_config"):
        found = Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip())
        if (found / "postgres").exists():
            return found
    installs = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    if not installs:
        raise SystemExit("BENCH_OWN_PG: no PostgreSQL server binaries found (set BENCH_PG_BIN)")
    return Path(installs[-1]).parent


def memory_settings(total_bytes: int | None = None) -> dict[str, str]:
    """shared_buffers: a quarter of RAM, at most 6 GB (the 10M node index is ~1.2 GB, the hot catalog a few GB);
    effective_cache_size: two thirds of RAM (what the planner may assume the page cache holds)."""
    if total_bytes is None:
        total_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "shared_buffers": os.environ.get("BENCH_PG_SHARED_BUFFERS") or f"{min(6 * GB, total_bytes // 4) // 2**20}MB",
        "effective_cache_size": os.environ.get("BENCH_PG_EFFECTIVE_CACHE_SIZE") or f"{total_bytes * 2 // 3 // 2**20}MB",
    }


class OwnPostgres:
    """One PostgreSQL server of the bench's own; ``url`` is what BENCH_PG would be (no database name)."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        bindir = _bindir()
        # BENCH_PG_DIR: where the data goes (10M rows need ~30 GB); the system's temp dir by default.
        self.dir = Path(tempfile.mkdtemp(prefix="registry-bench-pg-", dir=os.environ.get("BENCH_PG_DIR")))
        as_user: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root: run them as postgres
            user = pwd.getpwnam(os.environ.get("BENCH_PG_USER", "postgres"))
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            as_user = ["runuser", "-u", user.pw_name, "--"]
        data = self.dir / "data"
        subprocess.run(
            [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
            + ["--locale", "C.UTF-8", "--no-sync"],
            check=True,
            capture_output=True,
        )
        self.settings = {
            **memory_settings(),
            # The bench ANALYZEs after loading; autovacuum would only add noise to the timed phases.
            "autovacuum": "off",
            # COPY-loading 20M node rows without a checkpoint every 1 GB of WAL (the default max_wal_size).
            "max_wal_size": "8GB",
            **(settings or {}),
        }
        self.port = load.free_port()
        options = [f"-c{k}={v}" for k, v in self.settings.items()]
        self.proc = load.start(
            [*as_user, str(bindir / "postgres"), "-D", str(data), "-p", str(self.port)]
            + ["-clisten_addresses=127.0.0.1", f"-cunix_socket_directories={self.dir}", *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.url = f"postgres://postgres@127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)]).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"BENCH_OWN_PG: postgres did not start: {self.proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Fast shutdown (SIGINT: clients are disconnected, nothing is left to recover), then the directory goes."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
                self.proc.wait(timeout=60)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                load.stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)
