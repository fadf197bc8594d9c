"""`make bench`: every performance figure next to its baseline, measured in the same run.

Creates its own PostgreSQL databases (dropped and recreated per run), key
directory and, when redis-server is installed, its own Redis; runs the
Django-side phases as child processes (bench/phases.py), drives gunicorn with
wrk from a second process over loopback (bench/load.py), and writes
bench/results.json and bench/results.md (bench/results.py). ``--large`` adds
the 10M rows, on a PostgreSQL of the bench's own sized for them (bench/postgres.py;
``BENCH_OWN_PG=1`` for any run, ``=0`` to use BENCH_PG even with ``--large``).

Each HTTP row is measured ``--reps`` times, interleaved with its baseline; the
row gives the median and the spread (min–max) of both, and the ratio is
median / median.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import data, load, postgres
from bench.results import order, row, spread, table

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PREFIX = os.environ.get("BENCH_DB_PREFIX", "registry_bench")
PLATFORM_KEYS = 8  # platforms the keyed lookups are spread over, each under its quota (row 1)
WRITERS = 8  # concurrent writers of row 4: processes in-process, label tokens over HTTP
BULK_SENDERS = 3  # row 9: processes posting bulk requests at once, as a distributor's pipeline does
WRITE_RATE = 600  # THROTTLE_WRITE's default per label token and minute (registry/settings.py)
CACHE_SECONDS = "30"  # REGISTRY_LOOKUP_CACHE_SECONDS's production default

_t0 = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _t0:6.0f}s] {message}", flush=True)


atexit.register(load.stop_all)
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
    """Environment of every child: the bench settings, a temp var/key dir, DEBUG off, throttles off unless asked."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
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
        # Each database's log keeps its full tiles apart (tlog_dir): a tile storage belongs to one log, and
        # another row's tiles at the same paths would be served as this log's (docs/operations.md, "Tile storage").
        storage = json.dumps({"location": str(self.tlog_dir(db))})
        return {**self.base, "DATABASE_URL": f"{PG}/{db}", "REGISTRY_TLOG_STORAGE_OPTIONS": storage, **extra}

    def tlog_dir(self, db: str) -> Path:
        return self.tmp / "tlog" / db


def phase(env: dict[str, str], *args: Any, timeout: float = 3600) -> dict[str, Any]:
    """Run ``python -m bench.phases ARGS`` and return its RESULT."""
    proc = load.start(
        [sys.executable, "-m", "bench.phases", *map(str, args)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    out, _ = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"phase {args} failed with exit code {proc.returncode}")
    line = next(x for x in reversed(out.splitlines()) if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600
    )


def machine(redis: load.Redis | None) -> str:
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
    cache = f", Redis {redis.version} ({'the bench’s own' if redis.own else redis.url})" if redis else ""
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(mem) / 1024**2:.0f} GiB RAM, PostgreSQL {pg} "
        f"(shared_buffers {psql('SHOW shared_buffers')}){cache}, Python {platform.python_version()}, "
        f"{platform.platform()}"
    )


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- the rows ------------------------------------------------------------------------------------------------


class Bench:
    """One run: its databases, servers' environment and rows. A method per group of rows, run in order."""

    def __init__(self, opts: argparse.Namespace, tmp: Path) -> None:
        self.opts, self.tmp, self.env = opts, tmp, Env(tmp)
        self.quick = opts.quick
        self.secs = opts.seconds or (3 if self.quick else 6)
        self.reps = opts.reps or (2 if self.quick else 5)
        self.only = {int(x) for x in opts.rows.split(",") if x}
        self.rows: list[dict] = []
        self.dbs: list[str] = []
        self.redis: load.Redis | None = None
        if self.wanted(1) or self.wanted(4) or self.wanted(10):
            # Our own redis-server when installed, so that its command counts (the hit rates) are ours alone.
            url = os.environ.get("BENCH_REDIS") or (None if load.Redis.available() else "redis://127.0.0.1:6379/0")
            self.redis = load.Redis(tmp, url)
            if not self.redis.own:
                say(f"using the Redis at {self.redis.url}: others may share it, so the hit rates are not measured")

    def wanted(self, n: int) -> bool:
        return not self.only or n in self.only

    def db(self, name: str) -> str:
        """A fresh database cloned from the migrated template, dropped at the end (unless --keep)."""
        self.dbs.append(fresh_db(f"{PREFIX}_{name}", self.template))
        return self.dbs[-1]

    def drop(self, db: str) -> None:
        if not self.opts.keep:
            psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    def server(self, db: str, name: str, **extra: str) -> load.Gunicorn:
        """gunicorn as production runs it: with Redis (the default and shared caches, the throttle counters)."""
        return load.Gunicorn(self.env(db, REDIS_URL=self.redis.url, CACHE_PREFIX=self.cache_prefix(name), **extra))

    def cache_prefix(self, name: str) -> str:
        return f"bench{os.getpid()}{name}"

    def setup(self) -> None:
        # An empty migrated database with keys, cloned for every other one.
        self.template = fresh_db(f"{PREFIX}_template")
        self.dbs.append(self.template)
        res = manage(self.env(self.template), "migrate", "--noinput", "-v", "0")
        if res.returncode:
            raise SystemExit(res.stderr)
        manage(self.env(self.template), "ensure_keys")
        self.main = self.db("main")
        if self.wanted(1) or self.wanted(2) or self.wanted(10):
            say("seeding 100 declared 12-track releases through the services")
            phase(self.env(self.main), "seed", self.tmp / "isrcs.json", 100, 12)
            self.isrcs = json.loads((self.tmp / "isrcs.json").read_text())["isrcs"]
        if self.wanted(1) or self.wanted(4):
            phase(self.env(self.main), "credentials", self.tmp / "credentials.json", PLATFORM_KEYS, WRITERS)
            self.credentials = json.loads((self.tmp / "credentials.json").read_text())

    def lookups(self) -> None:
        """Rows 1, 1a (a platform key with throttles on; anonymous, throttles off) and 1c (cache, hot set)."""
        isrcs, tmp, secs = self.isrcs, self.tmp, self.secs
        say(f"row 1: gunicorn, {self.reps}× interleaved wrk -t2 -c32 -d{secs}s over {len(isrcs)} ISRCs")
        api = load.rotating([f"/api/v1/recordings/{i}" for i in isrcs])
        keyed = load.rotating([f"/api/v1/recordings/{i}" for i in isrcs], self.credentials["platform_keys"])
        base = load.rotating([f"/bench/baseline/recordings/{i}" for i in isrcs])
        plain = self.server(self.main, "a")
        throttled = self.server(self.main, "k", REGISTRY_THROTTLE="1")
        try:
            on_plain = load.Lookups(plain, tmp, secs, self.redis)
            on_throttled = load.Lookups(throttled, tmp, secs, self.redis)
            on_plain.warm(api, "api"), on_plain.warm(base, "base"), on_throttled.warm(keyed, "keyed")
            runs = load.interleaved(
                {
                    "baseline": on_plain.measure(base, "base"),
                    "anonymous": on_plain.measure(api, "api"),
                    "platform": on_throttled.measure(keyed, "keyed"),
                },
                self.reps,
            )
        finally:
            plain.stop(), throttled.stop()
        for name, found in runs.items():
            say(f"  {name}: median {statistics.median(load.rates(found)):.0f} req/s ({spread(load.rates(found))})")
        # Every answer was 2xx (load.wrk), so no key met its quota; say how far below it each stayed.
        per_key = max(load.rates(runs["platform"])) * 60 / PLATFORM_KEYS
        say(f"  each platform key: at most {per_key:,.0f} lookups/min (THROTTLE_LOOKUP_PLATFORM 60000/min)")
        self.rows.append(
            row(
                f"1. lookup by ISRC over HTTP as platforms call it: platform key, throttles on "
                f"({PLATFORM_KEYS} keys in turn, each under its quota), cache off",
                load.rates(runs["platform"]),
                "req/s",
                load.rates(runs["baseline"]),
                0.9,
                True,
            )
        )
        self.rows.append(
            row(
                "1a. same, anonymous, throttles off",
                load.rates(runs["anonymous"]),
                "req/s",
                load.rates(runs["baseline"]),
                0.9,
                True,
            )
        )
        say(f"row 1c: lookup cache on (Redis), the {len(isrcs)} seeded ISRCs in turn")
        cached_base = load.rotating([f"/bench/baseline-cached/recordings/{i}" for i in isrcs])
        self.cached("1c", self.main, api, cached_base, f"{len(isrcs):,} hot ISRCs in turn")
        # Production's caches (Redis: key cache and throttle counters), the lookup cache off as in rows 1
        # and 2, so both sides read the database and the difference is the key check and the count.
        say("row 1e: keyed, throttled lookups against anonymous unthrottled ones, in-process, Redis")
        redis_env = {"REDIS_URL": self.redis.url, "CACHE_PREFIX": self.cache_prefix("k")}
        r = phase(self.env(self.main, **redis_env), "keyed", self.tmp / "isrcs.json", 1000 if self.quick else 5000)
        self.rows.append(
            row(
                "1e. keyed, throttled lookup vs anonymous unthrottled (in-process)",
                r["keyed_ms"],
                "ms",
                r["anon_ms"],
                1.2,
                False,
            )
        )

    def cached(self, label: str, db: str, ours: str, base: str, draw: str) -> None:
        """A lookup-cache row: ours and the baseline view behind the same Redis cache and TTL, with hit rates."""
        server = self.server(db, label, REGISTRY_LOOKUP_CACHE_SECONDS=CACHE_SECONDS)
        try:
            on = load.Lookups(server, self.tmp, self.secs, self.redis, self.cache_prefix(label))
            # Long enough for the 1c walk to cover its hot set once before the clock starts.
            on.warm(ours, f"api-{label}", 4), on.warm(base, f"base-{label}", 4)
            runs = load.interleaved(
                {
                    "baseline": on.measure(base, f"base-{label}", "baseline"),
                    "ours": on.measure(ours, f"api-{label}", "product"),
                },
                self.reps,
            )
        finally:
            server.stop()
        hits = f"hit rate {load.hit_rate(runs['ours'])} (baseline {load.hit_rate(runs['baseline'])})"
        fig = row(
            f"{label}. lookup cache on (Redis, {CACHE_SECONDS} s), {draw}, baseline cached alike; {hits}",
            load.rates(runs["ours"]),
            "req/s",
            load.rates(runs["baseline"]),
            0.9,
            True,
        )
        fig["hit_rates"] = [round(x, 4) for x in load.hit_rates(runs["ours"])]
        fig["baseline_hit_rates"] = [round(x, 4) for x in load.hit_rates(runs["baseline"])]
        self.rows.append(fig)
        say(f"  {self.rows[-1]['figure']}: {self.rows[-1]['value']} vs {self.rows[-1]['baseline']} req/s")

    def bulk(self) -> None:
        say("row 2: bulk lookup of 1000 ISRCs, in-process, median of 30")
        r = phase(self.env(self.main), "bulk", self.tmp / "isrcs.json", 1000, 30)
        self.rows.append(
            row("2. bulk lookup, 1000 ISRCs (server time)", r["ours_ms"], "ms", r["baseline_ms"], 2, False)
        )

    def declare(self) -> None:
        n = 40 if self.quick else 150
        say(f"row 3: declare {n} 20-track releases one by one")
        r = phase(self.env(self.main), "declare", n, 20)
        self.rows.append(row("3. declare a 20-track release, p50", r["p50_ms"], "ms", r["base_p50_ms"], 3, False))
        self.rows.append(row("3b. declare a 20-track release, p99", r["p99_ms"], "ms", r["base_p99_ms"], 3, False))

    def writes(self) -> None:
        """Rows 4 (writer processes through the services) and 4b (label tokens through the API), interleaved."""
        per, reps = (20, 1) if self.quick else (75, 3)
        say(f"row 4: {WRITERS} writers × {per} 12-track declarations, in-process and over HTTP, {reps}× each")
        server = self.server(self.main, "w", REGISTRY_THROTTLE="1")
        in_process: list[float] = []
        over_http: list[float] = []
        latencies: list[float] = []

        def services(rep: int) -> None:
            r = phase(self.env(self.main), "concurrent", WRITERS, per, 12, 3_000_000 + rep * 100_000)
            in_process.append(r["per_second"])

        def http(rep: int, count: int = per) -> None:
            first = 5_000_000 + rep * 100_000
            jobs = [
                (token, [data.release_body(first + n * 10_000 + i, 12) for i in range(count)])
                for n, token in enumerate(self.credentials["label_tokens"])
            ]
            w = load.post_writers(server.url, jobs)
            over_http.append(w.per_second)
            latencies.extend(w.latencies)

        try:
            # Untimed: each gunicorn worker loads the signing keys (KDF) on its first declaration, as
            # the in-process writers do before their clock starts.
            http(reps, 2)
            over_http.clear(), latencies.clear()
            for rep in range(reps):
                for step in (services, http) if rep % 2 == 0 else (http, services):
                    step(rep)
                say(f"  run {rep + 1}: in-process {in_process[-1]:.1f}/s, HTTP {over_http[-1]:.1f}/s")
        finally:
            server.stop()
        latencies.sort()
        p50, p99 = latencies[len(latencies) // 2] * 1e3, latencies[int(0.99 * len(latencies))] * 1e3
        say(f"  HTTP p50 {p50:.0f} ms, p99 {p99:.0f} ms; auditing the log")
        audit = manage(self.env(self.main), "audit_log")
        ok = audit.returncode == 0
        say(f"  audit_log: {'pass' if ok else 'FAIL'}: {(audit.stdout + audit.stderr).strip()[-300:]}")
        verdict = f"; audit_log {'pass' if ok else 'FAIL'}"
        sustained = WRITERS * WRITE_RATE // 60
        figures = (
            row(
                f"4. concurrent declarations, {WRITERS} writer processes (12 tracks), services in-process{verdict}",
                in_process,
                "decl/s",
                100,
                1.0,
                True,
            ),
            row(
                f"4b. same over HTTP: {WRITERS} label tokens POST /api/v1/releases, throttles on (each token "
                f"under its {WRITE_RATE}/min; sustained, {WRITERS} tokens may write {sustained}/s){verdict}",
                over_http,
                "decl/s",
                100,
                1.0,
                True,
            ),
        )
        for fig in figures:
            fig["met"] = fig["met"] and ok
            self.rows.append(fig)

    def batch(self, releases: int, senders: int) -> None:
        """Row 9: releases created and declared through the bulk path by ``senders`` processes posting at once
        (a distributor's pipeline sends parallel requests), against 8 writers creating and declaring one by
        one in the same minutes (creation on both clocks: the bulk path creates its releases)."""
        per = 100
        per_writer = 20 if self.quick else 40
        row4 = next((r["value"] for r in self.rows if r["figure"].startswith("4. ")), None)
        say(f"row 9's baseline: {WRITERS} writers × {per_writer} 12-track releases created and declared one by one")
        base = phase(self.env(self.main), "concurrent", WRITERS, per_writer, 12, 3_500_000, 1)
        baseline = base["per_second"]
        say(
            f"row 9: {releases:,} 12-track releases through POST /api/v1/releases/bulk, {per} per request, "
            f"{senders} sender{'s' if senders > 1 else ''} at once"
        )
        db = self.db("batch")
        load_before = loadavg()
        r = phase(self.env(db), "batch", releases, 12, per, senders)
        say(f"  load average before the bulk phase {load_before}, after {loadavg()}")
        audit = manage(self.env(db), "audit_log")
        ok = audit.returncode == 0
        say(
            f"  {r['per_second']:.0f} decl/s (baseline {baseline:.0f}"
            + (f"; row 4, creation off its clock, {row4:.0f}" if row4 else "")
            + f"), senders' CPU {r['sender_cpu_ms_per_decl']:.2f} ms per declaration"
            + f", largest sender RSS growth +{r['rss_growth_mb']:.0f} MB"
        )
        say(f"  audit_log: {'pass' if ok else 'FAIL'}: {(audit.stdout + audit.stderr).strip()[-300:]}")
        fig = row(
            f"9. batch declare: {releases:,} new releases (12 tracks) created and declared through POST "
            f"/api/v1/releases/bulk by {senders} sender process{'es' if senders > 1 else ''} at once, "
            f"{per} per request (one checkpoint each), in-process, into one log, vs {WRITERS} writers "
            f"creating and declaring one by one (row 4's writers with creation on their clock); memory "
            f"+{r['rss_growth_mb']:.0f} MB (the largest of any sender; goal ≤ 200); audit_log {'pass' if ok else 'FAIL'}"
            + ("" if releases >= 10_000 else "; its goal is set for 10,000"),
            r["per_second"],
            "decl/s",
            baseline,
            5.0,
            True,
        )
        fig["rss_growth_mb"] = round(r["rss_growth_mb"], 1)
        fig["senders"], fig["per_request"], fig["load_average_before"] = senders, per, load_before
        fig["sender_cpu_ms_per_decl"] = round(r["sender_cpu_ms_per_decl"], 2)
        fig["row4_per_second"] = row4
        fig["met"] = fig["met"] and ok and r["rss_growth_mb"] <= 200
        self.rows.append(fig)
        self.drop(db)

    def _alternated(self, dbs: dict[int, str], name: str, *args: Any) -> dict[int, list[dict]]:
        """Timing phase ``name`` run on the small and the large database in turn (A B B A …), ``self.reps``
        times each: drift in the machine's load falls on both sides alike."""
        small, big = sorted(dbs)
        runs: dict[int, list[dict]] = {small: [], big: []}
        for rep in range(self.reps):
            for size in (small, big) if rep % 2 == 0 else (big, small):
                runs[size].append(phase(self.env(dbs[size]), name, size, *args))
        return runs

    def proofs(self, sizes: tuple[int, int], at_10m: str) -> None:
        small, big = sizes
        dbs = {}
        for size in sizes:
            say(f"row 5: a log of {size:,} leaves")
            dbs[size] = self.db(f"log_{size}")
            phase(self.env(dbs[size]), "proofs", size)
        say(f"row 5: proofs timed in both logs in turn, {self.reps} times each")
        runs = self._alternated(dbs, "proofs_time", 2000)
        for db in dbs.values():
            self.drop(db)
        for key, label in (("inclusion_ms", "5. inclusion"), ("consistency_ms", "5b. consistency")):
            self.rows.append(
                row(
                    f"{label} proof at {big:,} leaves (baseline {small:,}{at_10m}), both prewarmed, timed in turn",
                    [r[key] for r in runs[big]],
                    "ms",
                    [r[key] for r in runs[small]],
                    1.5,
                    False,
                )
            )

    def catalogs(self, sizes: tuple[int, int], at_10m: str) -> None:
        """Rows 6, 6b (lookups in a small and a large catalog, timed in turn) and 1d (the cache over the large one)."""
        small, big = sizes
        dbs = {}
        for size in sizes if self.wanted(6) else (big,):
            say(f"catalog of {size:,} declared tracks (rows 6{' and 1d' if size == big and self.wanted(1) else ''})")
            dbs[size] = self.db(f"catalog_{size}")
            phase(self.env(dbs[size]), "catalog", size)
        if self.wanted(6):
            say(f"row 6: lookups timed in both catalogs in turn, {self.reps} times each")
            runs = self._alternated(dbs, "catalog_time", 1000)
            for key, label, what in (
                ("view_ms", "6. lookup latency", "view in-process"),
                ("selector_ms", "6b. selector only, other ISRCs,", "selector in-process"),
            ):
                self.rows.append(
                    row(
                        f"{label} at {big:,} tracks (baseline {small:,}{at_10m}), {what}, prewarmed, timed in turn",
                        [r[key] for r in runs[big]],
                        "ms",
                        [r[key] for r in runs[small]],
                        1.2,
                        False,
                    )
                )
        if self.wanted(1):  # after row 6, which reads the catalog as loaded
            say(f"row 1d: lookup cache on (Redis), ISRCs drawn uniformly from the {big:,} tracks")
            self.cached(
                "1d",
                dbs[big],
                load.uniform("/api/v1/recordings/", big // 10, 10),
                load.uniform("/bench/baseline-cached/recordings/", big // 10, 10),
                f"ISRCs drawn uniformly from {big:,} tracks",
            )
        for db in dbs.values():
            self.drop(db)

    def verify(self) -> None:
        say("row 7: offline verification (provenance) of bundles the registry signed, against raw Ed25519")
        from bench import bench_verify

        for tracks, label in ((12, "7"), (1, "7b")):
            db = self.db(f"verify_{tracks}")
            exported = self.tmp / f"bundles-{tracks}.json"
            phase(self.env(db), "bundles", exported, 50 if self.quick else 200, tracks)
            keys, bundles = bench_verify.load(exported)
            r = bench_verify.run(keys, bundles)[0]
            self.rows.append(row(f"{label}. {r['figure']}", r["value"], r["unit"], r["baseline"], 0.75, True))
            if tracks == 12:
                w = bench_verify.run_witnessed(keys, bundles, bench_verify.load_witnessed(exported))
                self.rows.append(row(f"7d. {w['figure']}", w["value"], w["unit"], w["baseline"], 0.75, True))
        say("row 7c: co-signed bundles (v2): what the label signature adds per bundle, against one raw Ed25519 verify")
        load_before = loadavg()
        c = bench_verify.run_cosigned(passes=100 if self.quick else 400, n_bundles=50 if self.quick else 200)
        say(
            f"  v1 {c['v1_us']} us, v2 {c['v2_us']} us per bundle; raw verify {c['baseline']} us; "
            f"first bundle of a fresh Verifier +{c['cold_us']} us; load {load_before} -> {loadavg()}"
        )
        r = row(f"7c. {c['figure']}", c["value"], c["unit"], c["baseline"], bench_verify.COSIGN_GOAL, False)
        r["note"] = f"{c['note']}; load average {load_before}"
        self.rows.append(r)

    def mirror(self, size: int) -> None:
        """Rows 8 (mirror a log of ``size`` releases through tiles vs the feed) and 8b (a stored full tile vs a static file)."""
        from bench import mirror

        say(f"row 8: a log of {size:,} small generated entries, mirrored through /tlog/ and through the feed")
        db = self.db(f"tlog_{size}")
        phase(self.env(db), "tlog", size)
        # Row 8b's baseline: the stored level-0 tiles copied as static files, served by the same gunicorn
        # (WhiteNoise, as the site's own static files; bench/settings.py reads BENCH_STATIC_ROOT).
        static = self.tmp / "static-tiles"
        tlog = self.env.tlog_dir(db)
        stored = sorted((tlog / "tile" / "0").rglob("[0-9][0-9][0-9]"))[:1000]
        for n, path in enumerate(stored):
            (static / "tiles").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, static / "tiles" / f"{n}.bin")
        server = load.Gunicorn(self.env(db, BENCH_STATIC_ROOT=str(static)))
        try:
            tiles_s, feed_s = [], []
            # At 1M the feed takes ~2 minutes a run: three pairs, not five, keep the row within minutes.
            for rep in range(min(self.reps, 3)):
                for name in ("tiles", "feed") if rep % 2 == 0 else ("feed", "tiles"):
                    seconds, count = (mirror.through_tiles if name == "tiles" else mirror.through_feed)(server.url)
                    assert count == size, (name, count)
                    (tiles_s if name == "tiles" else feed_s).append(seconds)
                say(f"  run {rep + 1}: tiles {tiles_s[-1]:.2f} s, feed {feed_s[-1]:.2f} s")
            self.rows.append(
                row(
                    f"8. mirror a log of {size:,} small generated entries through tiles, root checked, vs the feed"
                    + ("" if size >= 1_000_000 else "; its goal is set for 1M"),
                    tiles_s,
                    "s",
                    feed_s,
                    0.2,
                    False,
                )
            )
            paths = [str(p.relative_to(tlog)) for p in stored]
            ours = load.rotating([f"/tlog/{p}" for p in paths])
            base = load.rotating([f"/tiles/{n}.bin" for n in range(len(paths))])
            say(f"row 8b: {len(paths)} stored full tiles in turn vs as many static files of 8,192 bytes")
            (
                load.wrk(server.url, ours, self.tmp, 2, "tiles-warm"),
                load.wrk(server.url, base, self.tmp, 2, "static-warm"),
            )
            runs = load.interleaved(
                {
                    "static": lambda: load.wrk(server.url, base, self.tmp, self.secs, "static"),
                    "tiles": lambda: load.wrk(server.url, ours, self.tmp, self.secs, "tiles"),
                },
                self.reps,
            )
        finally:
            server.stop()
            self.drop(db)
        # Served 1.5× slower at most: the tile's rate is at least 1/1.5 of the static file's.
        self.rows.append(
            row(
                "8b. a full tile from storage vs a static file of the same size (WhiteNoise), same gunicorn",
                load.rates(runs["tiles"]),
                "req/s",
                load.rates(runs["static"]),
                round(1 / 1.5, 3),
                True,
            )
        )

    def witnessed(self) -> None:
        """Rows 10 (checkpoint to cosigned, two local witnesses, worker every second) and 10b (lookups with the
        ``witnessed`` member against the plain baseline view, same gunicorn)."""
        count = 15 if self.quick else 40
        say(f"row 10: {count} declarations, two local witnesses, witness rounds every second")
        policy = self.tmp / "witness-policy"
        r = phase(self.env(self.main), "witnessing", policy, count)
        say(f"  p50 {r['p50_s']:.3f} s, p95 {r['p95_s']:.3f} s, max {r['max_s']:.3f} s; cosigned by {r['cosigned_by']}")
        self.rows.append(
            row(
                "10. checkpoint to cosigned checkpoint published, two local witnesses, worker interval 1 s (p95; "
                "baseline: the goal)",
                r["p95_s"],
                "s",
                2.0,
                1.0,
                False,
            )
        )
        isrcs, secs = self.isrcs, self.secs
        say(f"row 10b: lookups carrying the witnessed member, {self.reps}× interleaved with the plain baseline view")
        api = load.rotating([f"/api/v1/recordings/{i}" for i in isrcs])
        base = load.rotating([f"/bench/baseline/recordings/{i}" for i in isrcs])
        server = self.server(self.main, "w", REGISTRY_WITNESS_POLICY_FILE=str(policy))
        plain = self.server(self.main, "p")  # the same API without witnessing: what the member itself costs
        try:
            on = load.Lookups(server, self.tmp, secs, self.redis)
            off = load.Lookups(plain, self.tmp, secs, self.redis)
            on.warm(api, "api"), on.warm(base, "base"), off.warm(api, "plain")
            runs = load.interleaved(
                {
                    "baseline": on.measure(base, "base"),
                    "witnessed": on.measure(api, "api"),
                    "unwitnessed": off.measure(api, "plain"),
                },
                self.reps,
            )
        finally:
            server.stop(), plain.stop()
        self.rows.append(
            row(
                "10b. lookup by ISRC with the witnessed member (cosigned checkpoint + consistency proof), anonymous, "
                "vs the plain baseline view",
                load.rates(runs["witnessed"]),
                "req/s",
                load.rates(runs["baseline"]),
                0.9,
                True,
            )
        )
        self.rows.append(
            row(
                "10c. same, vs the same lookup API without witnessing (the member's own cost)",
                load.rates(runs["witnessed"]),
                "req/s",
                load.rates(runs["unwitnessed"]),
                0.9,
                True,
            )
        )

    def close(self) -> None:
        for db in self.dbs:
            self.drop(db)
        if self.redis:
            self.redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", action="store_true", help="10M leaves and 10M tracks (long)")
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs, to check the bench itself")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    parser.add_argument("--rows", "--only", dest="rows", default="", help="comma-separated rows to run, e.g. 1,4")
    parser.add_argument("--reps", type=int, help="runs of each HTTP row (default 5, --quick 2)")
    parser.add_argument("--seconds", type=int, help="seconds of each wrk run (default 6, --quick 3)")
    parser.add_argument("--batch", type=int, help="releases in row 9 (default 10,000, --quick 1000)")
    parser.add_argument(
        "--senders", type=int, default=BULK_SENDERS, help=f"bulk senders at once in row 9 (default {BULK_SENDERS})"
    )
    parser.add_argument("--mirror", type=int, help="declarations in row 8's log (default 1M, --quick 2000)")
    opts = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (make bench installs it): apt-get install -y wrk")
    quick = opts.quick
    log_sizes = (1_000, 10_000 if quick else 10_000_000 if opts.large else 1_000_000)
    cat_sizes = (10_000 if quick else 100_000, 20_000 if quick else 10_000_000 if opts.large else 1_000_000)
    at_10m = "" if opts.large or quick else "; its goal is set for 10M: make bench-large"

    tmp = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    atexit.register(shutil.rmtree, tmp, True)
    if os.environ.get("BENCH_OWN_PG", "1" if opts.large else "0") == "1":
        global PG
        own = postgres.OwnPostgres()  # sized for the 10M rows: docs/performance.md, "The 10M rows"
        atexit.register(own.stop)
        PG = own.url
        say(f"PostgreSQL of the bench's own at {PG}: " + ", ".join(f"{k}={v}" for k, v in own.settings.items()))
    bench = Bench(opts, tmp)
    started = loadavg()
    say(f"machine: {machine(bench.redis)}; load average {started}")
    try:
        bench.setup()
        if bench.wanted(1):
            bench.lookups()
        if bench.wanted(2):
            bench.bulk()
        if bench.wanted(3):
            bench.declare()
        if bench.wanted(4):
            bench.writes()
        if bench.wanted(9):
            bench.batch(opts.batch or (1_000 if quick else 10_000), opts.senders)
        if bench.wanted(5):
            bench.proofs(log_sizes, at_10m)
        if bench.wanted(6) or bench.wanted(1):
            bench.catalogs(cat_sizes, at_10m)
        if bench.wanted(7):
            bench.verify()
        if bench.wanted(8):
            bench.mirror(opts.mirror or (2_000 if quick else 1_000_000))
        if bench.wanted(10):
            bench.witnessed()
    except BaseException:
        # Keep what was measured: the rows before a failure are written below, then the failure is raised.
        failed = True
        raise
    else:
        failed = False
    finally:
        bench.close()
        if bench.rows:
            _write(bench, started, partial=locals().get("failed", True))


def _write(bench: Bench, started: str, partial: bool) -> None:

    md = (
        (
            "**Partial run: it stopped with an error; the rows below are those measured before it.**\n\n"
            if partial
            else ""
        )
        + f"Machine: {machine(bench.redis)}\n\n"
        f"Load average (1, 5, 15 min) at the start: {started}; at the end: {loadavg()}. "
        f"HTTP rows: {bench.reps} interleaved runs of {bench.secs} s each; value and baseline are medians, "
        f"the ratio median / median.\n\n{table(bench.rows)}\n"
    )
    bench.rows.sort(key=order)
    (BENCH / "results.json").write_text(json.dumps(bench.rows, indent=2, ensure_ascii=False) + "\n")
    (BENCH / "results.md").write_text(md)
    print("\n" + md)
    say("done: bench/results.json, bench/results.md")


if __name__ == "__main__":
    main()
