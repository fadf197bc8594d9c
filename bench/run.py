"""`make bench`: every performance figure next to its baseline, measured in the same run.

Creates its own PostgreSQL databases (dropped and recreated per run) and key
directory, runs the Django-side phases as child processes (bench/phases.py),
drives gunicorn with wrk from a second process over loopback, and writes
bench/results.json and bench/results.md. ``--large`` adds the 10M rows.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")
PREFIX = "registry_bench"
HEADERS = ("figure", "value", "unit", "baseline", "ratio", "goal", "met")

_children: list[subprocess.Popen] = []
_t0 = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _t0:6.0f}s] {message}", flush=True)


def _cleanup() -> None:
    for proc in _children:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # the process group we started, by id
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


atexit.register(_cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# --- databases and child processes -------------------------------------------------------------------------


def psql(sql: str, db: str = "postgres") -> str:
    out = subprocess.run(
        ["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-qtAc", sql], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def fresh_db(name: str, template: str | None = None) -> str:
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    return name


class Env:
    """Environment of every child: the bench settings, a temp var/key dir, DEBUG off, throttles off."""

    def __init__(self, tmp: Path) -> None:
        self.base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
        self.base.update(
            {
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "PYTHONPATH": str(ROOT),
                "DEBUG": "0",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "REGISTRY_KEY_PASSPHRASE": secrets.token_urlsafe(32),
                "REGISTRY_TOKEN_PEPPER": secrets.token_urlsafe(32),
                "REGISTRY_VAR_DIR": str(tmp),
                "REGISTRY_KEY_DIR": str(tmp / "keys"),
                "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
                "REGISTRY_THROTTLE": "0",
                "REGISTRY_LOOKUP_CACHE_SECONDS": "0",
                "ACCESS_LOG": "",
                "LOG_LEVEL": "WARNING",
            }
        )

    def __call__(self, db: str, **extra: str) -> dict[str, str]:
        return {**self.base, "DATABASE_URL": f"{PG}/{db}", **extra}


def phase(env: dict[str, str], *args: Any, timeout: float = 3600) -> dict[str, Any]:
    """Run ``python -m bench.phases ARGS`` and return its RESULT."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.phases", *map(str, args)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    _children.append(proc)
    out, _ = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"phase {args} failed with exit code {proc.returncode}")
    line = next(x for x in reversed(out.splitlines()) if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600
    )


# --- HTTP load --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`make run`'s server: gunicorn with registry/gunicorn.conf.py (2×cores workers × 4 threads)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "registry.wsgi:application", "--config", "registry/gunicorn.conf.py"],
            cwd=ROOT,
            env={**env, "BIND": f"127.0.0.1:{self.port}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        _children.append(self.proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/.well-known/jwks.json", timeout=2)  # noqa: S310
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start: {self.proc.stderr.read().decode(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


WRK_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def wrk(url: str, prefix: str, isrcs: list[str], tmp: Path, seconds: int) -> float:
    """Requests/s over ``seconds`` with 2 threads, 32 connections, rotating over ``isrcs``; all must be 200."""
    script = tmp / f"wrk-{abs(hash(prefix))}.lua"
    script.write_text(WRK_LUA % ",".join(f'"{prefix}{i}"' for i in isrcs))
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors for {prefix}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


# --- results -------------------------------------------------------------------------------------------------


def row(figure: str, value: float, unit: str, baseline: float, goal: float, higher_is_better: bool) -> dict:
    ratio = value / baseline if baseline else float("inf")
    met = ratio >= goal if higher_is_better else ratio <= goal
    return {
        "figure": figure,
        "value": round(value, 3 if value < 10 else 1),
        "unit": unit,
        "baseline": round(baseline, 3 if baseline < 10 else 1),
        "ratio": round(ratio, 3),
        "goal": ("≥ " if higher_is_better else "≤ ") + f"{goal}",
        "met": bool(met),
    }


def table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for r in rows:
        cells = [str(r[h]) if h != "met" else ("yes" if r[h] else "**no**") for h in HEADERS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    mem = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    pg = psql("SHOW server_version")
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(mem) / 1024**2:.0f} GiB RAM, PostgreSQL {pg} "
        f"(shared_buffers {psql('SHOW shared_buffers')}), Python {platform.python_version()}, {platform.platform()}"
    )


# --- the run ---------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large", action="store_true", help="10M leaves and 10M tracks (long)")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the bench itself")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    parser.add_argument("--only", default="", help="comma-separated rows to run, e.g. 1,3")
    opts = parser.parse_args()
    only = {int(x) for x in opts.only.split(",") if x}

    def wanted(n: int) -> bool:
        return not only or n in only

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    quick = opts.quick
    secs = 3 if quick else 10
    log_sizes = (1_000, 10_000 if quick else 10_000_000 if opts.large else 1_000_000)
    cat_sizes = (10_000 if quick else 100_000, 20_000 if quick else 10_000_000 if opts.large else 1_000_000)

    tmp = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    atexit.register(shutil.rmtree, tmp, True)
    env = Env(tmp)
    say(f"machine: {machine()}")
    rows: list[dict] = []
    dbs: list[str] = []

    # An empty migrated database with keys, cloned for every other one.
    template = fresh_db(f"{PREFIX}_template")
    dbs.append(template)
    res = manage(env(template), "migrate", "--noinput", "-v", "0")
    if res.returncode:
        raise SystemExit(res.stderr)
    manage(env(template), "ensure_keys")
    main_db = fresh_db(PREFIX, template)
    dbs.append(main_db)

    if wanted(1) or wanted(2):
        say("seeding 100 declared 12-track releases through the services")
        phase(env(main_db), "seed", tmp / "isrcs.json", 100, 12)
        isrcs = json.loads((tmp / "isrcs.json").read_text())["isrcs"]

    if wanted(1):
        results: dict[str, float] = {}
        for label, extra in (
            ("db", {}),
            (
                "redis",
                {"REGISTRY_LOOKUP_CACHE_SECONDS": "30", "REDIS_URL": REDIS, "CACHE_PREFIX": f"bench{os.getpid()}"},
            ),
        ):
            say(f"row 1: gunicorn ({label}), wrk -t2 -c32 -d{secs}s over {len(isrcs)} ISRCs")
            server = Gunicorn(env(main_db, **extra))
            try:
                wrk(server.url, "/api/v1/recordings/", isrcs, tmp, 2)  # warm up every worker
                wrk(server.url, "/bench/baseline/recordings/", isrcs, tmp, 2)
                for _ in range(2):  # interleaved, best of two each
                    api = wrk(server.url, "/api/v1/recordings/", isrcs, tmp, secs)
                    base = wrk(server.url, "/bench/baseline/recordings/", isrcs, tmp, secs)
                    results[label] = max(results.get(label, 0), api)
                    results[f"base-{label}"] = max(results.get(f"base-{label}", 0), base)
            finally:
                server.stop()
            say(f"  {label}: {results[label]:.0f} req/s, baseline {results[f'base-{label}']:.0f} req/s")
        rows.append(
            row(
                "1. lookup by ISRC over HTTP, cache off (gunicorn, PostgreSQL)",
                results["db"],
                "req/s",
                results["base-db"],
                0.9,
                True,
            )
        )
        rows.append(
            row("1c. same, lookup cache on (Redis)", results["redis"], "req/s", results["base-redis"], 0.9, True)
        )
        # Production's caches (Redis: key cache and throttle counters), the lookup cache off as in rows 1
        # and 2, so both sides read the database and the difference is the key check and the count.
        say("row 1d: keyed, throttled lookups against anonymous unthrottled ones, in-process, Redis")
        redis_env = {"REDIS_URL": REDIS, "CACHE_PREFIX": f"bench{os.getpid()}k"}
        r = phase(env(main_db, **redis_env), "keyed", tmp / "isrcs.json", 1000 if quick else 5000)
        rows.append(
            row(
                "1d. keyed, throttled lookup vs anonymous unthrottled (in-process)",
                r["keyed_ms"],
                "ms",
                r["anon_ms"],
                1.2,
                False,
            )
        )

    if wanted(2):
        say("row 2: bulk lookup of 1000 ISRCs, in-process, median of 30")
        r = phase(env(main_db), "bulk", tmp / "isrcs.json", 1000, 30)
        rows.append(row("2. bulk lookup, 1000 ISRCs (server time)", r["ours_ms"], "ms", r["baseline_ms"], 2, False))

    if wanted(3):
        n = 40 if quick else 150
        say(f"row 3: declare {n} 20-track releases one by one")
        r = phase(env(main_db), "declare", n, 20)
        rows.append(row("3. declare a 20-track release, p50", r["p50_ms"], "ms", r["base_p50_ms"], 3, False))
        rows.append(row("3b. declare a 20-track release, p99", r["p99_ms"], "ms", r["base_p99_ms"], 3, False))

    if wanted(4):
        per = 20 if quick else 75
        say(f"row 4: 8 writer processes, {per} 12-track declarations each")
        r = phase(env(main_db), "concurrent", 8, per, 12)
        say(f"  {r['per_second']:.1f}/s, p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms; auditing the log")
        audit = manage(env(main_db), "audit_log")
        audit_ok = audit.returncode == 0
        say(f"  audit_log: {'pass' if audit_ok else 'FAIL'}: {(audit.stdout + audit.stderr).strip()[-300:]}")
        fig = row("4. concurrent declarations, 8 writers (12 tracks)", r["per_second"], "decl/s", 100, 1.0, True)
        fig["figure"] += f"; audit_log {'pass' if audit_ok else 'FAIL'}"
        fig["met"] = fig["met"] and audit_ok
        rows.append(fig)

    if wanted(5):
        small, big = log_sizes
        out = {}
        for size in log_sizes:
            say(f"row 5: proofs in a log of {size:,} leaves")
            db = fresh_db(f"{PREFIX}_log_{size}", template)
            dbs.append(db)
            out[size] = phase(env(db), "proofs", size, 2000)
            if not opts.keep and size != small:
                psql(f"DROP DATABASE {db} WITH (FORCE)")
        rows.append(
            row(
                f"5. inclusion proof at {big:,} leaves (baseline {small:,})",
                out[big]["inclusion_ms"],
                "ms",
                out[small]["inclusion_ms"],
                1.5,
                False,
            )
        )
        rows.append(
            row(
                f"5b. consistency proof at {big:,} leaves (baseline {small:,})",
                out[big]["consistency_ms"],
                "ms",
                out[small]["consistency_ms"],
                1.5,
                False,
            )
        )

    if wanted(6):
        small, big = cat_sizes
        out = {}
        for size in cat_sizes:
            say(f"row 6: lookups in a catalog of {size:,} declared tracks")
            db = fresh_db(f"{PREFIX}_catalog_{size}", template)
            dbs.append(db)
            out[size] = phase(env(db), "catalog", size, 1000)
            if not opts.keep:
                psql(f"DROP DATABASE {db} WITH (FORCE)")
        rows.append(
            row(
                f"6. lookup latency at {big:,} tracks (baseline {small:,}), view in-process",
                out[big]["view_ms"],
                "ms",
                out[small]["view_ms"],
                1.2,
                False,
            )
        )
        rows.append(
            row(
                f"6b. selector only at {big:,} tracks (baseline {small:,})",
                out[big]["selector_ms"],
                "ms",
                out[small]["selector_ms"],
                1.2,
                False,
            )
        )

    if wanted(7):
        say("row 7: offline verification (provenance) against raw Ed25519")
        from bench import bench_verify

        for tracks in (12, 1):
            for r in bench_verify.run(tracks=tracks)[:1]:
                rows.append(row(f"7. {r['figure']}", r["value"], r["unit"], r["baseline"], 0.75, True))

    if not opts.keep:
        for db in dbs:
            psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    md = f"Machine: {machine()}\n\n{table(rows)}\n"
    (BENCH / "results.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    (BENCH / "results.md").write_text(md)
    print("\n" + md)
    say("done: bench/results.json, bench/results.md")


if __name__ == "__main__":
    main()
