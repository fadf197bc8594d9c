"""Client processes for the fault tests: each is a separate OS process talking HTTP to gunicorn."""

from __future__ import annotations

import json
import sys
import time

from tests.reliability.server import request


def _gtin(body: str) -> str:
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def release_body(worker: int, n: int, level: str = "partly") -> dict:
    parts = dict.fromkeys(("composition", "lyrics", "vocals", "instrumentation", "production"), level)
    return {
        "upc": _gtin(f"7{worker:03d}{n:07d}"),
        "title": f"Worker {worker} release {n}",
        "genre": "Pop",
        "release_date": "2026-01-01",
        "artwork": "none",
        "artists": [{"name": f"Worker {worker}", "persona": "human"}],
        "tracks": [
            {
                "isrc": f"QZFLT{worker:02d}{n * 2 + k:05d}",
                "title": f"Track {k}",
                "position": k + 1,
                "duration": 200 + k,
                "ai": {"parts": parts},
            }
            for k in range(2)
        ],
    }


def declare_and_amend(url: str, token: str, worker: int, count: int, shared_upc: str) -> dict:
    """Create ``count`` releases and amend the shared release once per iteration; report every outcome."""
    outcomes = {"created": [], "amended_shared": 0, "errors": []}
    for n in range(count):
        status, body = request("POST", f"{url}/api/v1/releases", release_body(worker, n), token)
        if status == 201:
            outcomes["created"].append(body["upc"])
        else:
            outcomes["errors"].append([status, str(body)[:200]])
        status, body = request(
            "POST",
            f"{url}/api/v1/releases/{shared_upc}/amend",
            {"reason": f"worker {worker} pass {n}", "title": f"Shared, worker {worker} pass {n}"},
            token,
        )
        if status == 200:
            outcomes["amended_shared"] += 1
        else:
            outcomes["errors"].append([status, str(body)[:200]])
    return outcomes


def keep_declaring(url: str, token: str, worker: int, seconds: float, limit: int) -> dict:
    """Declare until ``seconds`` pass or ``limit`` requests; record acknowledged and failed attempts."""
    outcomes = {"acknowledged": [], "failed": [], "attempted": []}
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline and n < limit:
        body = release_body(worker, n)
        outcomes["attempted"].append(body["upc"])
        status, answer = request("POST", f"{url}/api/v1/releases", body, token, timeout=15)
        if status == 201:
            outcomes["acknowledged"].append(body["upc"])
        else:
            outcomes["failed"].append([status, str(answer)[:120]])
            time.sleep(0.2)
        n += 1
    return outcomes


if __name__ == "__main__":
    mode, url, token, worker, *rest = sys.argv[1:]
    if mode == "declare_and_amend":
        result = declare_and_amend(url, token, int(worker), int(rest[0]), rest[1])
    else:
        result = keep_declaring(url, token, int(worker), float(rest[0]), int(rest[1]))
    print(json.dumps(result))
