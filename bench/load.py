"""HTTP load for bench.run: gunicorn as `make run` starts it, the bench's own Redis, wrk scripts, label writers.

Every process started here runs in a session of its own and is stopped by its
process group id (``Child.stop``), never by name.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
THREADS, CONNECTIONS = 2, 32  # wrk's
children: list[subprocess.Popen] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], **kwargs: Any) -> subprocess.Popen:
    proc = subprocess.Popen(args, start_new_session=True, **kwargs)
    children.append(proc)
    return proc


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM to the process group we started (by its id), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop_all() -> None:
    for proc in children:
        stop(proc, timeout=20)


class Gunicorn:
    """`make run`'s server: gunicorn with registry/gunicorn.conf.py (2×cores workers × 4 threads)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = start(
            [sys.executable, "-m", "gunicorn", "registry.wsgi:application", "--config", "registry/gunicorn.conf.py"],
            cwd=ROOT,
            env={**env, "BIND": f"127.0.0.1:{self.port}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
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
        stop(self.proc)


class Redis:
    """The bench's own redis-server (no persistence, in the run's temp dir), so its command counts are ours alone.

    ``hits()`` turns the counts of one wrk run into a hit rate; with a Redis
    shared with other clients (BENCH_REDIS) there is none to give.
    """

    def __init__(self, tmp: Path, url: str | None) -> None:
        import redis

        self.own = url is None
        if self.own:
            port = free_port()
            self.proc = start(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                cwd=tmp,
                stdout=subprocess.DEVNULL,
            )
            url = f"redis://127.0.0.1:{port}/0"
        self.url = url
        self.client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.version = self.client.info("server")["redis_version"]
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def calls(self) -> dict[str, int]:
        return {k.removeprefix("cmdstat_"): v["calls"] for k, v in self.client.info("commandstats").items()}

    def keys(self, pattern: str) -> int:
        return sum(1 for _ in self.client.scan_iter(match=pattern, count=10_000))

    def stop(self) -> None:
        if self.own:
            stop(self.proc)


@dataclass
class Run:
    rate: float  # requests/s
    requests: int
    timeouts: int = 0
    hit_rate: float | None = None


def wrk(url: str, script: str, tmp: Path, seconds: int, name: str) -> Run:
    """wrk with THREADS threads and CONNECTIONS connections for ``seconds``; every answer must be 2xx (a 429 fails the row)."""
    path = tmp / f"wrk-{name}.lua"
    path.write_text(script)
    out = subprocess.run(
        ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(path), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if "Non-2xx" in out or (errors and sum(map(int, errors.groups()[:3]))):
        raise RuntimeError(f"wrk saw errors for {name}:\n{out}")
    return Run(
        rate=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        requests=int(re.search(r"(\d+) requests in", out).group(1)),
        timeouts=int(errors.group(4)) if errors else 0,  # answers slower than wrk's 2 s: counted, not failed
    )


def _lua_list(items: list[str]) -> str:
    return "{" + ",".join(json.dumps(x) for x in items) + "}"


def rotating(paths: list[str], api_keys: list[str] | tuple[str, ...] = ()) -> str:
    """GET each path in turn; with ``api_keys``, each request carries the next key (``Authorization: Bearer``).

    Each wrk thread starts its walk at its own offset, so the threads do not ask for the same path at once.
    """
    return f"""
local paths = {_lua_list(paths)}
local keys = {_lua_list(list(api_keys))}
local threads = 0
local i = 0
setup = function(thread)
  thread:set("offset", math.floor(threads * #paths / {THREADS}))
  threads = threads + 1
end
init = function(args)
  i = offset
end
request = function()
  i = i + 1
  local headers = nil
  if #keys > 0 then headers = {{["Authorization"] = "Bearer " .. keys[(i % #keys) + 1]}} end
  return wrk.format("GET", paths[(i % #paths) + 1], headers)
end
"""


def uniform(prefix: str, releases: int, per_release: int) -> str:
    """GET ``prefix`` + a uniformly drawn ISRC of bench.data's catalog (``isrc(r·100 + t)``), per request."""
    return f"""
local B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
local threads = 0
local function digit(d) return B36:sub(d + 1, d + 1) end
local function isrc(n)
  local reg, body = math.floor(n / 100000), n % 100000
  return "QZ" .. digit(math.floor(reg / 1296) % 36) .. digit(math.floor(reg / 36) % 36) .. digit(reg % 36)
    .. "25" .. string.format("%05d", body)
end
setup = function(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
init = function(args)
  math.randomseed(seed * 7919 + os.time())
end
request = function()
  local n = math.random(0, {releases - 1}) * 100 + math.random(1, {per_release})
  return wrk.format("GET", "{prefix}" .. isrc(n))
end
"""


@dataclass
class Writes:
    count: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


def post_writers(url: str, jobs: list[tuple[str, list[bytes]]], path: str = "/api/v1/releases") -> Writes:
    """One thread per ``(token, bodies)``, each POSTing its bodies one after another on a keep-alive connection.

    The client's share of the CPU is small next to a declaration's (~0.1 ms against ~10 ms).
    """
    host, port = url.removeprefix("http://").split(":")
    barrier = threading.Barrier(len(jobs))
    spans: list[tuple[float, float, list[float]]] = []
    errors: list[str] = []

    def writer(n: int, token: str, bodies: list[bytes]) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        latencies = []
        barrier.wait()
        begin = time.time()
        try:
            for i, body in enumerate(bodies):
                t = time.perf_counter()
                conn.request(
                    "POST",
                    path,
                    body,
                    {
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                        "Idempotency-Key": f"bench-{begin}-{n}-{i}",
                    },
                )
                response = conn.getresponse()
                answer = response.read()
                latencies.append(time.perf_counter() - t)
                if response.status != 201:
                    errors.append(f"writer {n}: {response.status} {answer[:300]!r}")
                    return
        finally:
            conn.close()
        spans.append((begin, time.time(), latencies))

    threads = [threading.Thread(target=writer, args=(n, *job)) for n, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("HTTP writers failed: " + "; ".join(errors[:3]))
    latencies = [x for s in spans for x in s[2]]
    return Writes(len(latencies), max(s[1] for s in spans) - min(s[0] for s in spans), latencies)


class Lookups:
    """wrk runs against one server, with the lookup cache's hit rate when the bench runs its own Redis."""

    def __init__(self, server: Gunicorn, tmp: Path, seconds: int, redis: Redis, cache_prefix: str = "") -> None:
        self.server, self.tmp, self.seconds, self.redis = server, tmp, seconds, redis
        # The lookup cache's generation tokens (registry/declarations/cache.py), under Django's "prefix:version:".
        self.tokens = f"{cache_prefix}:1:lookup:v1:gen:*"

    def warm(self, script: str, name: str, seconds: int = 2) -> None:
        wrk(self.server.url, script, self.tmp, seconds, name)

    def measure(self, script: str, name: str, cache: str | None = None) -> Callable[[], Run]:
        """A wrk run of ``script``; ``cache`` = "product" or "baseline" counts its hits (see bench/urls.py)."""

        def run() -> Run:
            if cache is None or not self.redis.own:
                return wrk(self.server.url, script, self.tmp, self.seconds, name)
            before = self.redis.calls()
            tokens = self.redis.keys(self.tokens) if cache == "product" else 0
            result = wrk(self.server.url, script, self.tmp, self.seconds, name)
            after = self.redis.calls()
            calls = {k: after.get(k, 0) - before.get(k, 0) for k in ("get", "mget", "set")}
            if cache == "product":
                # One MGET (token, answer) per lookup; a miss SETs the answer, an identifier seen first SETs
                # its token too (NX; a reader that loses that race counts as one more miss: a slight overcount).
                misses, lookups = calls["set"] - (self.redis.keys(self.tokens) - tokens), calls["mget"]
            else:  # one GET per lookup; a miss SETs the answer
                misses, lookups = calls["set"], calls["get"]
            result.hit_rate = 1 - misses / lookups if lookups else None
            return result

        return run


def rates(runs: list[Run]) -> list[float]:
    return [r.rate for r in runs]


def hit_rates(runs: list[Run]) -> list[float]:
    return [r.hit_rate for r in runs if r.hit_rate is not None]


def hit_rate(runs: list[Run]) -> str:
    found = hit_rates(runs)
    return f"{statistics.median(found):.1%}" if found else "not measured (shared Redis)"


def interleaved(measures: dict[str, Callable[[], Run]], reps: int) -> dict[str, list[Run]]:
    """``reps`` rounds of every measure, the order rotated each round so that no figure always runs first."""
    names = list(measures)
    runs: dict[str, list[Run]] = {name: [] for name in names}
    for rep in range(reps):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            runs[name].append(measures[name]())
    return runs
