"""Bench phases that run inside Django, one per process: ``python -m bench.phases NAME [ARGS]``.

``bench.run`` starts each with DATABASE_URL pointing at a bench database and
reads the one ``RESULT {json}`` line it prints; progress goes to stderr.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import DatabaseError, connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from bench import data  # noqa: E402
from provenance import dsse, statement  # noqa: E402
from provenance.encoding import b64encode  # noqa: E402
from registry.api.tokens import label_token_create, platform_key_create  # noqa: E402
from registry.catalog.services import label_create, release_create  # noqa: E402
from registry.declarations import stored_answers  # noqa: E402
from registry.declarations.services import declaration_create  # noqa: E402
from registry.transparency import keys, log  # noqa: E402
from registry.transparency.models import SigningKey  # noqa: E402


def progress(message: str) -> None:
    print(f"    {message}", file=sys.stderr, flush=True)


def result(obj: Any) -> None:
    print("RESULT " + json.dumps(obj), flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _label(name: str) -> Any:
    return label_create(name=name, dpid=None, verified=True)


def _release(label: Any, n: int, tracks: int, base: int) -> Any:
    return release_create(
        label=label,
        upc=data.upc(base + n),
        title=f"Bench release {base + n}",
        genre="Electronic",
        artists=[{"name": "The Bench Ensemble", "persona": "ai_assisted"}],
        tracks=[
            {"isrc": data.isrc((base + n) * 100 + i), "title": f"Track {i}", "position": i, "duration": 180 + i}
            for i in range(1, tracks + 1)
        ],
    )


def _declare(release: Any) -> Any:
    isrcs = list(release.tracks.values_list("recording__isrc", flat=True))
    return declaration_create(release=release, ai=data.track_facts(isrcs), via="api")


# --- phases -------------------------------------------------------------------------------------------


def seed(out: str, releases: int = 100, tracks: int = 12) -> None:
    """Declared releases through the real services, for the lookup rows."""
    keys.ensure_keys()
    label = _label("Bench Seed Records")
    isrcs: list[str] = []
    for n in range(releases):
        decl = _declare(_release(label, n, tracks, base=1_000_000))
        isrcs += [t["isrc"] for t in decl.statement["tracks"]]
    with connection.cursor() as cur:
        cur.execute("ANALYZE")  # autovacuum may be off or late: plan the lookups on real statistics
    Path(out).write_text(json.dumps({"isrcs": isrcs}))
    result({"declared": releases, "isrcs": len(isrcs)})


def bulk(isrc_file: str, count: int = 1000, rounds: int = 30) -> None:
    """POST /api/v1/lookup with ``count`` ISRCs, in-process, against one raw ``= ANY(%s)`` query read as bytes."""
    isrcs = json.loads(Path(isrc_file).read_text())["isrcs"][:count]
    assert len(isrcs) == count, f"the seed has only {len(isrcs)} ISRCs"
    client = Client()
    body = json.dumps({"isrcs": isrcs, "upcs": []})
    sql = (
        "SELECT r.isrc, d.bundle FROM declarations_declaredrecording r "
        "JOIN declarations_declaration d ON d.id = r.declaration_id "
        "JOIN catalog_release rel ON rel.current_declaration_id = d.id WHERE r.isrc = ANY(%s)"
    )
    connection.ensure_connection()
    raw = connection.connection  # the same psycopg connection Django uses, queried directly

    def ours() -> None:
        r = client.post("/api/v1/lookup", body, content_type="application/json")
        assert r.status_code == 200, r.content[:300]

    def baseline() -> None:
        with raw.cursor() as cur:
            # The product's byte loader (stored_answers._RawText): the bundles stay the UTF-8 bytes
            # PostgreSQL sent, as the product keeps them; decoding ~6 MB to str is work it never does.
            cur.adapters.register_loader("text", stored_answers._RawText)
            cur.execute(sql, [isrcs])
            rows = cur.fetchall()
        assert len(rows) >= count

    mine, base = [], []
    for _ in range(3):
        ours(), baseline()  # warm up
    for _ in range(rounds):
        for func, into in ((ours, mine), (baseline, base)):
            t = time.perf_counter()
            func()
            into.append(time.perf_counter() - t)
    result({"ours_ms": statistics.median(mine) * 1e3, "baseline_ms": statistics.median(base) * 1e3})


def declare(count: int = 150, tracks: int = 20) -> None:
    """Declare ``count`` 20-track releases one after another; the baseline signs and INSERTs raw."""
    label = _label("Bench Declare Records")
    keys.active_key(SigningKey.STATEMENT), keys.active_key(SigningKey.CHECKPOINT)  # load the keys untimed
    releases = [_release(label, n, tracks, base=2_000_000) for n in range(count + 5)]
    _, private = keys.active_key(SigningKey.STATEMENT)
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_scratch (id bigserial PRIMARY KEY, envelope text NOT NULL)")
    raw.commit()
    mine, base = [], []
    for i, release in enumerate(releases):
        t = time.perf_counter()
        decl = _declare(release)
        elapsed = time.perf_counter() - t
        # Baseline: the Ed25519 signature of the same statement's PAE and one INSERT transaction.
        payload = statement.statement_bytes(decl.statement)
        message = dsse.pae(dsse.PAYLOAD_TYPE, payload)
        head = (
            '{"payloadType":"' + dsse.PAYLOAD_TYPE + '","payload":"' + b64encode(payload) + '","signatures":[{"sig":"'
        )
        t = time.perf_counter()
        sig = private.sign(message)
        with raw.cursor() as cur:
            cur.execute("INSERT INTO bench_scratch (envelope) VALUES (%s)", [head + b64encode(sig) + '"}]}'])
        raw.commit()
        base_elapsed = time.perf_counter() - t
        if i >= 5:  # the first few warm up caches and connections
            mine.append(elapsed)
            base.append(base_elapsed)
    result(
        {
            "p50_ms": pct(mine, 0.5) * 1e3,
            "p99_ms": pct(mine, 0.99) * 1e3,
            "base_p50_ms": pct(base, 0.5) * 1e3,
            "base_p99_ms": pct(base, 0.99) * 1e3,
            "count": len(mine),
        }
    )


def _forked(target: Callable[..., None], args: list[tuple[Any, ...]], timeout: float, what: str) -> list[Any]:
    """``target(*a, barrier, out)`` in a forked process per ``a`` of ``args``, released together by the barrier;
    the report each puts on ``out``. Exits if any fails. The loaded keys are inherited; no connection is."""
    keys.active_key(SigningKey.STATEMENT), keys.active_key(SigningKey.CHECKPOINT)  # children inherit loaded keys
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(len(args)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, barrier, out)) for a in args]
    for p in procs:
        p.start()
    reports = [out.get(timeout=timeout) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    if any(p.exitcode != 0 for p in procs):
        raise SystemExit(f"a {what} failed")
    return reports


def _writer(n: int, per_writer: int, tracks: int, base: int, create_timed: int, barrier: Any, out: Any) -> None:
    connections.close_all()  # never share the parent's socket
    label = _label(f"Bench Writer {n}")
    base += n * 10_000
    releases = [] if create_timed else [_release(label, i, tracks, base=base) for i in range(per_writer)]
    barrier.wait()
    start = time.time()
    latencies = []
    for i in range(per_writer):
        t = time.perf_counter()
        _declare(_release(label, i, tracks, base=base) if create_timed else releases[i])
        latencies.append(time.perf_counter() - t)
    out.put((start, time.time(), latencies))
    connections.close_all()


def concurrent(
    writers: int = 8, per_writer: int = 75, tracks: int = 12, base: int = 3_000_000, create_timed: int = 0
) -> None:
    """``writers`` processes declaring at once through the services, each its own releases (UPCs from ``base``).

    ``create_timed``: 0 creates each writer's releases before the clock starts (row 4), 1 creates each one
    just before declaring it, on the clock (row 9's baseline: the bulk path creates its releases too).
    """
    reports = _forked(_writer, [(n, per_writer, tracks, base, create_timed) for n in range(writers)], 600, "writer")
    start = min(r[0] for r in reports)
    end = max(r[1] for r in reports)
    latencies = [x for r in reports for x in r[2]]
    total = len(latencies)
    result(
        {
            "count": total,
            "seconds": end - start,
            "per_second": total / (end - start),
            "p50_ms": pct(latencies, 0.5) * 1e3,
            "p99_ms": pct(latencies, 0.99) * 1e3,
        }
    )


def _copy(sql: str, lines: Iterator[str], chunk: int = 50_000) -> None:
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur, cur.copy(sql) as copy:
        buf: list[str] = []
        for line in lines:
            buf.append(line)
            if len(buf) >= chunk:
                copy.write("".join(buf))
                buf.clear()
        if buf:
            copy.write("".join(buf))
    raw.commit()


def _timed_median(func: Callable[[Any], Any], args: list[Any]) -> float:
    times = []
    for a in args:
        t = time.perf_counter()
        func(a)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _prewarm(tables: list[str]) -> str:
    """Read ``tables`` and their indexes into shared_buffers (pg_prewarm, a contrib module that ships with
    PostgreSQL), as a server sized for its data holds them in steady state and as autoprewarm restores them
    after a restart (docs/scaling.md, "Memory"). Says what it did, or why not."""
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            # The tables, their TOAST tables (a lookup reads the stored bundle there), and the indexes of both.
            cur.execute(
                "WITH t AS (SELECT oid FROM pg_class WHERE oid = ANY(%s::regclass[]) "
                "UNION SELECT reltoastrelid FROM pg_class WHERE oid = ANY(%s::regclass[]) AND reltoastrelid <> 0) "
                "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c WHERE c.oid IN (SELECT oid FROM t) "
                "OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM t))",
                [tables, tables],
            )
            blocks = cur.fetchone()[0] or 0
    except DatabaseError as exc:  # no contrib modules on this server: the timed pass then reads cold pages
        return f"not prewarmed ({str(exc).strip().splitlines()[0]})"
    return f"prewarmed {blocks * 8 / 1024:,.0f} MB of {', '.join(tables)}, their TOAST and their indexes"


def proofs(size: int) -> None:
    """Load a log of ``size`` random leaves (LogNode rows only, COPY) and prewarm it; timed by ``proofs_time``."""
    t = time.perf_counter()
    _copy("COPY transparency_lognode (id, hash) FROM STDIN", data.log_node_lines(size))
    with connection.cursor() as cur:
        cur.execute("ANALYZE transparency_lognode")
    progress(f"loaded {size:,} leaves ({2 * size - 1:,} nodes) in {time.perf_counter() - t:.0f}s")
    progress(_prewarm(["transparency_lognode"]))
    result({"size": size})


def proofs_time(size: int, samples: int = 2000) -> None:
    """Time inclusion and consistency proofs at ``size`` (loaded by ``proofs``): the medians of ``samples`` each.

    The run alternates these timings between the small and the large log (bench.run), so both see the
    same machine; the leaves asked about are drawn anew each time.
    """
    rng = random.Random()
    idx = [rng.randrange(size) for _ in range(samples)]
    firsts = [rng.randrange(1, size) for _ in range(samples)]
    for i in idx[:200]:  # warm up: connection, plans, the upper levels of the tree
        log.inclusion_proof(i, size, using="default")
    assert log.inclusion_proof(idx[0], size, using="default")
    inclusion = _timed_median(lambda i: log.inclusion_proof(i, size, using="default"), idx)
    consistency = _timed_median(lambda m: log.consistency_proof(m, size, using="default"), firsts)
    result({"size": size, "inclusion_ms": inclusion * 1e3, "consistency_ms": consistency * 1e3})


def _load_catalog(releases: int, per_release: int, with_nodes: bool = False) -> None:
    keys.ensure_keys()
    key_id = SigningKey.objects.get(purpose=SigningKey.STATEMENT, status=SigningKey.ACTIVE).pk
    t = time.perf_counter()
    with connection.cursor() as cur:
        # Skip per-row FK checks while loading (superuser); every row is written consistent by construction.
        cur.execute("SET session_replication_role = replica")
        cur.execute(
            "INSERT INTO catalog_label (id, name, verified, contact_email, is_demo, created_at) "
            "VALUES (1, 'Bench Catalog Records', true, '', false, now())"
        )
    connection.connection.commit()
    for table, columns, lines in data.catalog_tables(releases, per_release, key_id, with_nodes):
        _copy(f"COPY {table} ({columns}) FROM STDIN", lines)
        progress(f"{table}: loaded ({time.perf_counter() - t:.0f}s)")
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = origin")
        cur.execute("ANALYZE")
    connection.connection.commit()
    progress(f"catalog of {releases * per_release:,} tracks loaded in {time.perf_counter() - t:.0f}s")


# What a lookup by ISRC reads (registry/declarations/stored_answers.py, one query; pg_statio_user_tables
# after a run of lookups shows these three and the declarations' TOAST, nothing else): kept warm as
# row 5's nodes are. (The catalog's recording and track tables, prewarmed until 2026-12-07, are not read.)
LOOKUP_TABLES = [
    "declarations_declaredrecording",
    "declarations_declaration",
    "catalog_release",
]


def catalog(tracks: int, per_release: int = 10) -> None:
    """Bulk-load a catalog of ``tracks`` declared tracks (COPY) and prewarm the lookup's tables; timed by
    ``catalog_time``."""
    _load_catalog(tracks // per_release, per_release)
    progress(_prewarm(LOOKUP_TABLES))
    result({"tracks": tracks})


def catalog_time(tracks: int, samples: int = 1000, per_release: int = 10) -> None:
    """Time lookups of random ISRCs in the catalog ``catalog`` loaded: through the view, and the selector alone.

    Alternated between the small and the large catalog by bench.run, as row 5's proofs are.
    """
    releases = tracks // per_release
    rng = random.Random()

    def draw(n: int) -> list[str]:
        return [data.isrc(rng.randrange(releases) * 100 + rng.randrange(1, per_release + 1)) for _ in range(n)]

    # The view and the selector each read ISRCs of their own: on the same ones, the second pass would
    # read rows the first had just brought into memory.
    picks, selector_picks, warm = draw(samples), draw(samples), draw(200)
    client = Client()

    def view(isrc: str) -> None:
        r = client.get(f"/api/v1/recordings/{isrc}")
        assert r.status_code == 200, r.content[:300]

    def selector(isrc: str) -> None:
        assert stored_answers.recording_answers([isrc]).get(isrc) is not None

    for isrc in warm:
        view(isrc)
    result(
        {
            "tracks": tracks,
            "view_ms": _timed_median(view, picks) * 1e3,
            "selector_ms": _timed_median(selector, selector_picks) * 1e3,
        }
    )


def tlog(size: int) -> None:
    """A log of ``size`` small generated entries (COPY, real leaf hashes and nodes, one checkpoint), its full
    tiles written.

    For row 8: mirroring through /tlog/ against /api/v1/feed, and (8b) a stored full
    tile against a static file of the same size.
    """
    from provenance.issue.sign import sign_checkpoint
    from provenance.issue.tree import tree_root
    from registry.transparency import tiles
    from registry.transparency.models import Checkpoint

    keys.ensure_keys()
    key_id = SigningKey.objects.get(purpose=SigningKey.STATEMENT, status=SigningKey.ACTIVE).pk
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # no catalog rows: see data.small_log_tables
    connection.connection.commit()
    for table, columns, lines in data.small_log_tables(size, key_id):
        _copy(f"COPY {table} ({columns}) FROM STDIN", lines)
        progress(f"{table}: loaded ({time.perf_counter() - t:.0f}s)")
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = origin")
        cur.execute("ANALYZE")
    connection.connection.commit()
    key, private = keys.active_key(SigningKey.CHECKPOINT)
    root = tree_root(size, log._nodes_getter("default"))
    note = sign_checkpoint(settings.REGISTRY_LOG_ORIGIN, size, root, private)
    Checkpoint.objects.create(tree_size=size, root_hash=root, note=note, key=key)
    t = time.perf_counter()
    written = tiles.write_missing()
    seconds = time.perf_counter() - t
    progress(f"{written:,} full tiles written in {seconds:.1f}s")
    result({"size": size, "tiles_written": written, "write_seconds": seconds})


def bundles(out: str, releases: int = 200, tracks: int = 12) -> None:
    """Declare ``releases`` releases through the services and write the JWKS and their stored bundles (row 7).

    Each declaration is its own append, so each bundle carries the checkpoint of its
    own tree size, as the registry serves them. The data is as rich as a label's:
    DDEX party id, ISNI, audio fingerprints.
    """
    keys.ensure_keys()
    label = label_create(name="Northern Lights Records", dpid="PADPIDA3897722461G", verified=True)
    served = []
    for n in range(releases):
        release = release_create(
            label=label,
            upc=data.upc(4_000_000 + n),
            title=f"Album {n}",
            genre="Indie Rock",
            artists=[{"name": "The Lanterns", "isni": "000000012146438X", "persona": "ai_assisted"}],
            tracks=[
                {
                    "isrc": data.isrc((4_000_000 + n) * 100 + i),
                    "title": f"Track {i} of release {n}",
                    "position": i,
                    "duration": 150 + 7 * i,
                    "audio_sha256": f"{n:032x}{i:032x}",
                }
                for i in range(1, tracks + 1)
            ],
        )
        served.append(_declare(release).bundle)
    assert len({json.loads(b)["log"]["checkpoint"] for b in served}) == releases, "bundles share a checkpoint"
    # Row 7c: the witnessed member a lookup answer carries (docs/protocol.md §13.4), here for the newest
    # checkpoint: a consistency proof from each bundle's own size to it. (No witness runs in this phase, so
    # the note has no cosignature lines; the verifier without a policy checks the log's signature only.)
    newest = log.latest_checkpoint()
    witnessed = [
        {
            "checkpoint": newest.note,
            "consistency_proof": [
                b64encode(h) for h in log.consistency_proof(json.loads(b)["log"]["tree_size"], newest.tree_size)
            ],
        }
        for b in served
    ]
    Path(out).write_text(json.dumps({"jwks": keys.jwks(), "bundles": served, "witnessed": witnessed}))
    result({"bundles": len(served), "tracks": tracks})


def credentials(out: str, platforms: int = 8, labels: int = 8) -> None:
    """Platform keys and label tokens (one label each) for the HTTP rows, written to ``out``: only HMACs are stored."""
    platform_keys = [platform_key_create(name=f"Bench Platform {n}")[1] for n in range(platforms)]
    label_tokens = [label_token_create(label=_label(f"Bench HTTP Writer {n}"), name="bench")[1] for n in range(labels)]
    Path(out).write_text(json.dumps({"platform_keys": platform_keys, "label_tokens": label_tokens}))
    result({"platform_keys": platforms, "label_tokens": labels})


def keyed(isrc_file: str, rounds: int = 3000) -> None:
    """Single lookups in-process: a platform key with throttles on against anonymous with throttles off.

    The two alternate request by request over the same ISRCs, so both see the same database,
    caches and machine load; ``bench.run`` starts the phase with REDIS_URL set, so the key cache
    and the throttle counters are in Redis as in production. The key is counted at the platform
    quota, so rounds plus warm-up must stay under it (60,000 a minute).
    """
    from django.conf import settings

    from registry.api.tokens import platform_key_create

    isrcs = json.loads(Path(isrc_file).read_text())["isrcs"]
    _, key = platform_key_create(name=f"Bench keyed {os.getpid()}")
    client = Client()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    def anonymous(isrc: str) -> float:
        settings.REGISTRY_THROTTLE = False
        t = time.perf_counter()
        r = client.get(f"/api/v1/recordings/{isrc}")
        elapsed = time.perf_counter() - t
        assert r.status_code == 200, r.content[:300]
        return elapsed

    def keyed_throttled(isrc: str) -> float:
        settings.REGISTRY_THROTTLE = True
        t = time.perf_counter()
        r = client.get(f"/api/v1/recordings/{isrc}", **bearer)
        elapsed = time.perf_counter() - t
        assert r.status_code == 200, r.content[:300]
        return elapsed

    for isrc in isrcs:  # warm up connections and plans, and fill the lookup cache (when on) for both alike
        anonymous(isrc), keyed_throttled(isrc)
    anon, keyed = [], []
    for i in range(rounds):
        isrc = isrcs[i % len(isrcs)]
        anon.append(anonymous(isrc))
        keyed.append(keyed_throttled(isrc))
    settings.REGISTRY_THROTTLE = False
    anon_ms, keyed_ms = statistics.median(anon) * 1e3, statistics.median(keyed) * 1e3
    result({"anon_ms": anon_ms, "keyed_ms": keyed_ms, "ratio": keyed_ms / anon_ms, "rounds": rounds})


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def batch(
    releases: int = 10_000, tracks: int = 12, per_request: int = 100, senders: int = 1, base: int = 6_000_000
) -> None:
    """Declare ``releases`` releases through POST /api/v1/releases/bulk (NDJSON), in-process, from ``senders`` processes.

    As a distributor's pipeline sends them: each sender process posts its own requests one
    after another (releases ``k``, ``k + senders``, … of the run, ``per_request`` per request),
    all senders at once, with the label's token, into the same log. Each request body is made
    just before it is sent, so nothing but the current request is in a sender's memory; each
    sender's resident memory is sampled after every request, and the growth reported is the
    largest of any sender, from after its first request (warm-up, untimed: keys, imports,
    connection) to its largest sample. The rate is all releases over the span from the first
    sender's start to the last one's end.
    """
    label = _label("Bench Batch Records")
    token = label_token_create(label=label, name="bench")[1]
    requests = -(-releases // per_request)
    args = [(k, senders, requests, releases, tracks, per_request, base, token) for k in range(senders)]
    reports = _forked(_sender, args, 3600, "sender")
    start = min(r["start"] for r in reports)
    seconds = max(r["end"] for r in reports) - start
    count = sum(r["count"] for r in reports)
    assert count == releases, (count, releases)
    result(
        {
            "count": count,
            "senders": senders,
            "per_request": per_request,
            "seconds": seconds,
            "per_second": count / seconds,
            # The senders' own CPU (the whole request in-process: parsing, building, signing, rendering;
            # not PostgreSQL's): steadier than the rate on a machine shared with other work.
            "sender_cpu_ms_per_decl": sum(r["cpu"] for r in reports) / count * 1e3,
            "rss_start_mb": max(r["rss_start_mb"] for r in reports),
            "rss_growth_mb": max(r["rss_growth_mb"] for r in reports),
        }
    )


def _sender(
    k: int,
    senders: int,
    requests: int,
    releases: int,
    tracks: int,
    per_request: int,
    base: int,
    token: str,
    barrier: Any,
    out: Any,
) -> None:
    connections.close_all()  # never share the parent's socket
    client = Client()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def send(first: int, count: int) -> None:
        body = "\n".join(json.dumps(data.release_item(first + i, tracks)) for i in range(count))
        r = client.post("/api/v1/releases/bulk", body, content_type="application/x-ndjson", **bearer)
        assert r.status_code == 200, r.content[:300]
        assert r.json()["logged"] == count, r.content[:300]

    # Warm-up, untimed: releases of its own after the run's.
    send(base + (requests + k) * per_request, per_request)
    start_rss = peak = _rss_mb()
    barrier.wait()
    start, cpu = time.time(), time.process_time()
    count = 0
    for n in range(k, requests, senders):
        size = min(per_request, releases - n * per_request)
        send(base + n * per_request, size)
        count += size
        peak = max(peak, _rss_mb())
        if (n // senders) % 20 == 19:
            progress(f"sender {k}: {count:,} declared, RSS {_rss_mb():.0f} MB")
    out.put(
        {
            "start": start,
            "end": time.time(),
            "cpu": time.process_time() - cpu,
            "count": count,
            "rss_start_mb": start_rss,
            "rss_growth_mb": peak - start_rss,
        }
    )
    connections.close_all()


def witnessing(policy_out: str, count: int = 40) -> None:
    """Row 9: two local witnesses (threads), the round worker every second (a thread), ``count`` declarations.

    Latency = from a declaration's commit to the publication of a cosigned checkpoint
    that includes it; the declarations come at random moments within the worker's
    interval. Leaves the policy in ``policy_out`` and a cosigned checkpoint in the
    database for row 9b's lookups.
    """
    import tempfile
    import threading

    from provenance.checkpoint import ALG_ED25519, parse_verifier_key, verifier_key
    from provenance.issue.keys import generate_private_key
    from provenance.witness.server import Witness, make_server
    from provenance.witness.state import State
    from registry.witnessing import published
    from registry.witnessing.rounds import latest_cosigned, witness_round

    keys.ensure_keys()
    origin = settings.REGISTRY_LOG_ORIGIN
    key, _ = keys.active_key(SigningKey.CHECKPOINT)
    log_key = parse_verifier_key(verifier_key(origin, bytes(key.public_key)), alg=ALG_ED25519)
    tmp = Path(tempfile.mkdtemp(prefix="bench-witness-"))
    servers, lines = [], []
    for i in (1, 2):
        w = Witness(
            name=f"bench.witness/w{i}",
            key=generate_private_key(),
            logs={origin: [log_key]},
            state=State(tmp / f"w{i}.db"),
        )
        server = make_server(w, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        lines.append(f"witness w{i} {w.vkey} http://127.0.0.1:{server.server_address[1]}\n")
    text = "".join(lines) + "group both all w1 w2\nquorum both\n"
    Path(policy_out).write_text(text)
    settings.REGISTRY_WITNESS_POLICY = text
    stop = threading.Event()

    def worker() -> None:  # what `manage.py witness_rounds --interval 1` does
        while not stop.is_set():
            witness_round()
            stop.wait(1.0)
        connection.close()

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    label = _label("Bench Witnessed Records")
    latencies = []
    rng = random.Random(9)
    for n in range(count):
        time.sleep(rng.random())
        # UPCs from 7M: row 4b's HTTP writers, earlier on the same database, take 5M–5.4M.
        size = _declare(_release(label, n, 4, base=7_000_000)).leaf_id + 1
        t0 = time.perf_counter()
        while (row := latest_cosigned()) is None or row.tree_size < size:
            time.sleep(0.005)
        latencies.append(time.perf_counter() - t0)
        progress(f"declaration {n + 1}/{count}: cosigned after {latencies[-1]:.3f} s")
    stop.set()
    thread.join(5)
    for server in servers:
        server.shutdown()
    published.forget()
    result(
        {
            "p50_s": pct(latencies, 0.5),
            "p95_s": pct(latencies, 0.95),
            "max_s": max(latencies),
            "count": count,
            "cosigned_by": latest_cosigned().witnesses,  # type: ignore[union-attr]
        }
    )


PHASES = {
    "batch": batch,
    "seed": seed,
    "bulk": bulk,
    "declare": declare,
    "concurrent": concurrent,
    "proofs": proofs,
    "proofs_time": proofs_time,
    "catalog": catalog,
    "catalog_time": catalog_time,
    "bundles": bundles,
    "tlog": tlog,
    "credentials": credentials,
    "keyed": keyed,
    "witnessing": witnessing,
}


if __name__ == "__main__":
    name, *args = sys.argv[1:]
    PHASES[name](*[int(a) if a.isdigit() else a for a in args])
