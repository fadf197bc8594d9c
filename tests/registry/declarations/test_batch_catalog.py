"""New releases in a batch (registry/catalog/bulk.py): the single path's checks and statements, a few queries per batch."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from provenance import identifiers, statement
from registry.catalog import bulk
from registry.catalog.bulk import release_create_many
from registry.catalog.models import Artist, Recording, Release, Track
from registry.catalog.services import artist_create, release_create
from registry.declarations.batch import BatchItem, versions_sign_many
from registry.declarations.models import IdentifierClaim
from registry.declarations.services import FIRST, NextVersion, _next_statement, new_release_statement
from registry.errors import DomainError
from registry.transparency.audit import audit_log
from tests import factories


def isni(n: int) -> str:
    body = f"{n:015d}"
    return body + identifiers.iso7064_mod11_2(body)


def generated(label: Any, seed: int) -> tuple[dict[str, Any], NextVersion]:
    """A new release with varied catalog facts: shared and repeated artists, ISNIs, personas, equal names."""
    rnd = random.Random(seed)
    pool = [
        {"name": "Aurora Vale"},
        {"name": "Aurora Vale", "persona": "synthetic"},  # the same name, another artist
        {"name": "Kit Ng", "isni": isni(1000 + seed)},
        {"name": "Kit N.", "isni": isni(1000 + seed)},  # the same ISNI: reused by it, under the first name
        {"name": " Maren Holt ", "persona": "ai_assisted"},
        {"name": "Existing One", "isni": "0000 0001 2146 438X"},  # an existing row, matched by ISNI
        {"name": "Zed", "persona": "human"},
    ]
    count = rnd.randint(1, 14)
    positions = rnd.sample(range(1, 40), count)  # any order, gaps allowed
    tracks = []
    for pos in positions:
        tracks.append(
            {
                "isrc": factories.isrc(),
                "title": f"  Track {pos} ",
                "position": pos,
                "duration": rnd.randint(0, 600),
                "audio_sha256": rnd.choice([None, "AB" * 32, "0f" * 32]),
                "artists": rnd.sample(pool, rnd.randint(0, 4)),
            }
        )
    create = {
        "label": label,
        "upc": factories.upc(),
        "title": f" Release {seed} ",
        "genre": rnd.choice(["Pop", "Jazz", "Afrobeats"]),
        "release_date": rnd.choice([None, date(2025, 3, 1), "2024-11-30"]),
        "artwork_ai": rnd.choice(["none", "partly", "all"]),
        "artists": rnd.sample(pool, rnd.randint(1, 4)) + [pool[0]],  # a repeat: listed once
        "tracks": tracks,
    }
    ai = {t["isrc"]: factories.track_ai(rnd.choice(["none", "partly", "all"]), tools=["Suno v4"]) for t in tracks}
    return create, NextVersion(ai=ai)


def fixed(st: dict[str, Any]) -> bytes:
    """The statement's bytes with the two values that differ per build (new id, time) set alike."""
    st["declaration"]["id"] = "00000000-0000-4000-8000-000000000000"
    st["declaration"]["declared_at"] = "2026-01-01T00:00:00Z"
    return statement.statement_bytes(st)


def single(create: dict[str, Any], change: NextVersion) -> bytes:
    release = release_create(**create)
    return fixed(_next_statement(release, change, kind=FIRST)[1])


def batched(creates: list[dict[str, Any]], changes: list[NextVersion]) -> list[Any]:
    def check(k: int, prepared: bulk.Prepared) -> dict[str, Any]:
        return new_release_statement(
            prepared.release, artists=prepared.artists, tracks=prepared.tracks, change=changes[k], kind=FIRST
        )

    return release_create_many(creates, check)


@pytest.mark.parametrize("seed", range(8))
def test_a_batch_builds_the_statement_the_single_path_builds_byte_for_byte(keys, label, seed):
    artist_create(label=label, name="Existing Name", isni="000000012146438X")
    artist_create(label=label, name="Aurora Vale")
    cases = [generated(label, seed * 10 + k) for k in range(3)]
    expected = []
    for create, change in cases:
        with transaction.atomic():
            expected.append(single(create, change))
            transaction.set_rollback(True)  # the batch starts from the same catalog

    outcomes = batched([c for c, _ in cases], [ch for _, ch in cases])

    assert [fixed(st) for _, st in outcomes] == expected
    # The rows inserted read back (the single path's reader) to the same statement.
    for (release, _), (_, change), want in zip(outcomes, cases, expected, strict=True):
        assert fixed(_next_statement(release, change, kind=FIRST)[1]) == want


def test_a_batch_refuses_each_bad_item_with_release_creates_message_and_writes_nothing_for_it(keys, label, other_label):
    taken = factories.make_release(label, tracks=1)
    held = factories.isrc()
    IdentifierClaim.objects.create(kind=IdentifierClaim.ISRC, value=held, label=other_label)
    good, change = generated(label, 99)

    def variant(**changes: Any) -> dict[str, Any]:
        create, _ = generated(label, 7)
        return {**create, **changes}

    track = {"isrc": factories.isrc(), "title": "T", "position": 1, "duration": 200}
    bad = [
        variant(genre=""),
        variant(tracks=[{**track, "duration": None}]),
        variant(tracks=[{**track, "isrc": factories.isrc(), "position": p} for p in range(1, 102)]),
        variant(upc="123"),
        variant(upc=taken.upc),
        variant(tracks=[{**track, "isrc": held}]),
        variant(artists=[{"name": "New Artist Nobody Keeps", "isni": "0000000121464381"}]),
        variant(artists=[{"name": "Another Nobody Keeps", "persona": "robot"}]),
        variant(tracks=[{**track, "artists": [{"name": ""}]}]),
    ]
    expected = []
    for create in bad:
        with transaction.atomic():
            with pytest.raises(DomainError) as single_error:
                release_create(**create)
            transaction.set_rollback(True)
        expected.append((type(single_error.value), single_error.value.message, single_error.value.fields))
    before = (Release.objects.count(), Artist.objects.count(), Recording.objects.count(), Track.objects.count())

    outcomes = batched([*bad[:4], good, *bad[4:]], [change] * (len(bad) + 1))

    errors = [o for o in outcomes if isinstance(o, DomainError)]
    assert [(type(e), e.message, e.fields) for e in errors] == expected
    release, _ = outcomes[4]
    assert Release.objects.count() == before[0] + 1
    assert Track.objects.count() == before[3] + len(good["tracks"])
    assert not Artist.objects.filter(name__endswith="Nobody Keeps").exists()
    assert set(Recording.objects.filter(tracks__release=release).values_list("isrc", flat=True)) == {
        t["isrc"] for t in good["tracks"]
    }


def test_a_release_refused_at_its_statement_frees_its_upc_and_artists_for_the_items_after_it(keys, label):
    first, change = generated(label, 1)
    first["artists"] = [{"name": "Only Here", "isni": isni(77)}]
    second = {**first, "artists": [{"name": "Named Again", "isni": isni(77)}]}
    refused = NextVersion(ai={})  # no AI facts: refused when its statement is built

    outcomes = versions_sign_many(
        items=[BatchItem(create=first, change=refused, kind=FIRST), BatchItem(create=second, change=change)]
    )

    assert "no AI declaration" in outcomes[0].error.message
    assert outcomes[1].ok
    # As one at a time: the first left nothing, so the second created the UPC and the artist, under its name.
    assert outcomes[1].declaration.statement["artists"] == [
        {"name": "Named Again", "isni": isni(77), "persona": "human"}
    ]
    assert Artist.objects.filter(isni=isni(77)).count() == 1


def _sign(label: Any, n: int) -> int:
    items = [BatchItem(create=c, change=ch, kind=FIRST) for c, ch in (generated(label, 500 + k) for k in range(n))]
    for item in items:
        item.create["tracks"] = [{**t, "position": i + 1} for i, t in enumerate(item.create["tracks"] * 1)]
    with CaptureQueriesContext(connection) as queries:
        results = versions_sign_many(items=items)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return len(queries.captured_queries)


def test_a_batch_of_new_releases_costs_a_few_queries_whatever_its_size(keys, label):
    _sign(label, 2)  # artists of the pool created once
    small, large = _sign(label, 5), _sign(label, 25)
    # Before: about 20 queries per release. Now a bounded number per batch (SQLite splits long inserts
    # at its parameter limit, so it may need a few more for the larger batch).
    assert small <= 40
    assert large <= small + (0 if connection.vendor == "postgresql" else 12)


def test_a_race_on_the_batch_inserts_falls_back_to_one_release_at_a_time(keys, label, monkeypatch):
    real = bulk._insert
    calls = []

    def racing(*args: Any) -> None:
        calls.append(1)
        with transaction.atomic():
            real(*args)
            raise IntegrityError("duplicate key value violates unique constraint")  # as if another writer won

    monkeypatch.setattr(bulk, "_insert", racing)
    cases = [generated(label, 300 + k) for k in range(4)]
    bad = NextVersion(ai={})

    results = versions_sign_many(
        items=[BatchItem(create=c, change=bad if k == 2 else ch) for k, (c, ch) in enumerate(cases)]
    )

    assert calls == [1]
    assert [r.ok for r in results] == [True, True, False, True]
    assert Release.objects.count() == 3
    report = audit_log()
    assert report.leaves == report.declarations == 3
