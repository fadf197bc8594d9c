"""Batched signing (registry/declarations/batch.py): one checkpoint per batch, per-item refusals, nothing partial."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import DatabaseError, connections

from registry.catalog.models import Release
from registry.declarations import signing
from registry.declarations.batch import BatchItem, versions_sign_many, versions_sign_stream
from registry.declarations.models import Declaration, IdentifierClaim
from registry.declarations.services import AMEND, FIRST, NextVersion
from registry.errors import Conflict, ValidationFailed
from registry.transparency.audit import audit_log
from registry.transparency.models import Checkpoint, LogLeaf
from tests import factories


def new_item(label: Any, n: int, *, tracks: int = 2, level: str = "none", **create: Any) -> BatchItem:
    isrcs = [factories.isrc() for _ in range(tracks)]
    return BatchItem(
        create={
            "label": label,
            "upc": factories.upc(),
            "title": f"Batch release {n}",
            "genre": "Pop",
            "artists": [{"name": "Aurora Vale"}],
            "tracks": [
                {"isrc": code, "title": f"Track {t + 1}", "position": t + 1, "duration": 180}
                for t, code in enumerate(isrcs)
            ],
            **create,
        },
        change=NextVersion(ai={code: factories.track_ai(level) for code in isrcs}),
        kind=FIRST,
    )


def counts() -> tuple[int, ...]:
    return (
        Release.objects.count(),
        Declaration.objects.count(),
        LogLeaf.objects.count(),
        Checkpoint.objects.count(),
        IdentifierClaim.objects.count(),
    )


def test_a_batch_of_50_with_3_bad_items_logs_47_under_one_checkpoint(keys, label):
    items = [new_item(label, n) for n in range(50)]
    bad = {7: "consent", 23: "no ai", 41: "genre"}
    items[7] = new_item(label, 7, level="all")
    isrc7 = next(iter(items[7].change.ai))
    items[7] = BatchItem(
        create=items[7].create,
        change=NextVersion(
            ai={
                **items[7].change.ai,
                isrc7: {**factories.track_ai("all"), "voice_likeness": {"imitates_real_person": True}},
            }
        ),
        kind=FIRST,
    )
    items[23] = BatchItem(create=items[23].create, change=NextVersion(ai={}), kind=FIRST)
    items[41] = new_item(label, 41, genre="")
    before_cp = Checkpoint.objects.count()

    results = versions_sign_many(items=items, via="api")

    assert [r.index for r in results] == list(range(50))
    assert {r.index for r in results if not r.ok} == set(bad)
    assert "consent reference" in results[7].error.message
    assert "no AI declaration" in results[23].error.message
    assert "genre" in results[41].error.message.lower()
    assert all(r.error is None and r.declaration.leaf_id is not None for r in results if r.ok)
    # Refused items left nothing behind: no release, no claim.
    assert Release.objects.count() == 47
    assert IdentifierClaim.objects.filter(value=items[41].create["upc"]).count() == 0
    assert Checkpoint.objects.count() == before_cp + 1
    assert LogLeaf.objects.count() == 47
    # Every bundle of the batch carries the batch's one checkpoint, and the log audits clean.
    assert len({r.declaration.bundle.split('"checkpoint":')[1][:80] for r in results if r.ok}) == 1
    report = audit_log()
    assert report.leaves == 47 and report.declarations == 47 and report.checkpoints == before_cp + 1


def test_an_item_whose_identifier_another_label_holds_fails_alone(keys, label, other_label):
    theirs = factories.make_release(other_label, tracks=1)
    factories.declare(theirs)
    taken = theirs.tracks.get().recording.isrc
    items = [new_item(label, n) for n in range(3)]
    mine = items[1].create
    items[1] = BatchItem(
        create={**mine, "tracks": [{**mine["tracks"][0], "isrc": taken}]},
        change=NextVersion(ai={taken: factories.track_ai()}),
        kind=FIRST,
    )

    results = versions_sign_many(items=items)

    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, Conflict)
    assert taken in results[1].error.message
    assert not Release.objects.filter(label=label, upc=mine["upc"]).exists()
    assert IdentifierClaim.objects.get(value=taken).label == other_label
    audit_log()


def test_amend_and_withdraw_items_build_on_the_current_version(keys, label):
    a, b = factories.make_release(label, tracks=1), factories.make_release(label, tracks=1)
    factories.declare(a), factories.declare(b)
    isrc = a.tracks.get().recording.isrc
    results = versions_sign_many(
        items=[
            BatchItem(
                release=a,
                change=NextVersion(ai={isrc: factories.track_ai("all")}, reason="AI vocals", expected_version=1),
                kind=AMEND,
            ),
            BatchItem(release=b, change=NextVersion(reason="Wrong release"), kind="withdraw"),
            BatchItem(release=b, change=NextVersion(reason="again"), kind=AMEND),
        ]
    )
    assert results[0].declaration.version == 2
    assert results[0].declaration.statement["tracks"][0]["contains_ai"] == "all"
    assert results[1].declaration.status == Declaration.WITHDRAWN
    assert "twice" in results[2].error.message
    audit_log()


def test_a_stale_expected_version_fails_that_item_only(keys, label):
    a = factories.make_release(label, tracks=1)
    factories.declare(a)
    results = versions_sign_many(
        items=[
            BatchItem(release=a, change=NextVersion(reason="x", expected_version=3), kind=AMEND),
            new_item(label, 1),
        ]
    )
    assert [r.ok for r in results] == [False, True]
    assert isinstance(results[0].error, Conflict)


def test_a_failing_append_keeps_nothing_of_the_batch(keys, label, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("the disk is full")

    monkeypatch.setattr(signing.log, "append", broken)
    before = counts()
    with pytest.raises(DatabaseError):
        versions_sign_many(items=[new_item(label, n) for n in range(5)])
    assert counts() == before


def test_a_batch_where_every_item_fails_appends_nothing(keys, label):
    before = counts()
    results = versions_sign_many(items=[new_item(label, 0, genre=""), new_item(label, 1, title="")])
    assert not any(r.ok for r in results)
    assert counts() == before


def test_a_stream_is_integrated_in_batches_of_the_size_given(keys, label):
    before = Checkpoint.objects.count()
    results = list(versions_sign_stream((new_item(label, n, tracks=1) for n in range(7)), batch_size=3))
    assert [r.index for r in results] == list(range(7))
    assert all(r.ok for r in results)
    assert Checkpoint.objects.count() == before + 3  # 3 + 3 + 1
    audit_log()


def test_a_stream_flushes_a_batch_once_its_oldest_item_waited_long_enough(keys, label):
    before = Checkpoint.objects.count()
    results = list(versions_sign_stream((new_item(label, n, tracks=1) for n in range(4)), batch_size=50, max_wait=0))
    assert all(r.ok for r in results)
    assert Checkpoint.objects.count() == before + 4


def test_more_items_than_a_batch_holds_is_a_programming_error(keys, label):
    with pytest.raises(ValueError, match="at most"):
        versions_sign_many(items=[BatchItem(release=Release(pk=n)) for n in range(101)])


def test_an_item_names_one_release(label):
    with pytest.raises(ValueError):
        BatchItem()


# --- PostgreSQL: concurrency -------------------------------------------------------------------------


def _threads(target: Any, count: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrapped(i: int) -> None:
        try:
            target(i)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_of_two_labels_and_single_writers_interleave_into_one_clean_log(keys, label, other_label):
    outcomes: dict[int, list[bool]] = {}

    def writer(i: int) -> None:
        who = label if i % 2 == 0 else other_label
        if i < 4:  # four batch writers, two per label, 5 batches of 20 each
            for b in range(5):
                results = versions_sign_many(items=[new_item(who, b * 100 + n, tracks=3) for n in range(20)])
                outcomes.setdefault(i, []).extend(r.ok for r in results)
        else:  # and two single writers meanwhile
            for _ in range(10):
                factories.declare(factories.make_release(who, tracks=2))

    errors = _threads(writer, 6)
    assert not errors, errors
    assert all(all(v) for v in outcomes.values())
    total = 4 * 5 * 20 + 2 * 10
    assert list(LogLeaf.objects.order_by("index").values_list("index", flat=True)) == list(range(total))
    assert Checkpoint.objects.count() == 4 * 5 + 2 * 10
    report = audit_log()
    assert report.leaves == total == report.declarations


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_policy_event_waits_for_the_batches_signing_meanwhile_is_logged_after_them_and_refuses_the_next(
    keys, label, staff, owner
):
    # Batches share the statement key's lock; a co-sign-only policy event takes it alone. Batch A is
    # appended, its transaction open; batch B starts and queues; then the policy event comes. It waits
    # for both, is logged after their leaves, and the next batch of the label is refused (§14.5).
    from django.db import transaction

    from provenance.issue.keys import generate_private_key, public_bytes
    from provenance.issue.sign import sign_pae
    from provenance.labelkeys import POLICY_PAYLOAD_TYPE
    from registry.labelkeys import services as labelkeys

    label_key = generate_private_key()
    labelkeys.key_attest(label=label, public_key=public_bytes(label_key), actor=staff, reason="first", holder=owner)
    payload = labelkeys.policy_payload(label, cosign_only=True, reason="we sign")
    signature = sign_pae(payload, label_key, payload_type=POLICY_PAYLOAD_TYPE)
    appended, commit = threading.Event(), threading.Event()
    done = {name: threading.Event() for name in ("b", "policy")}
    leaves: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def batch(name: str, n: int) -> list[int]:
        results = versions_sign_many(items=[new_item(label, n + k) for k in range(5)])
        # Batch A was signed before the policy event; B either before it too, or after it, then refused.
        assert all(r.ok for r in results) or (
            name == "b" and all(r.error is not None and r.error.code == "cosign_required" for r in results)
        ), [r.error for r in results]
        return [r.declaration.leaf_id for r in results if r.declaration is not None]

    def run(name: str) -> None:
        try:
            if name == "a":
                with transaction.atomic():
                    leaves["a"] = batch("a", 0)
                    appended.set()
                    assert commit.wait(20)
            elif name == "b":
                leaves["b"] = batch("b", 10)
            else:
                leaves["policy"] = [labelkeys.policy_log(label=label, payload=payload, signature=signature).leaf_id]
            if name in done:
                done[name].set()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            appended.set()
        finally:
            connections.close_all()

    threads = {name: threading.Thread(target=run, args=(name,)) for name in ("a", "b", "policy")}
    threads["a"].start()
    try:
        assert appended.wait(20) and not errors, errors
        threads["b"].start()
        time.sleep(0.5)
        threads["policy"].start()
        assert not done["policy"].wait(1.0), "the policy event was logged while a batch holding the key was open"
        assert not done["b"].is_set()
    finally:
        commit.set()
        for t in threads.values():
            if t.is_alive() or t.ident is not None:
                t.join(30)
    assert not errors, errors
    assert leaves["policy"][0] > max(leaves["a"] + leaves["b"])
    before = counts()
    results = versions_sign_many(items=[new_item(label, 99)])
    assert results[0].error is not None and results[0].error.code == "cosign_required"
    assert counts() == before
    report = audit_log()
    assert report.declarations == 5 + len(leaves["b"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_labels_racing_for_the_same_identifiers_in_batches_give_each_to_one_and_deadlock_never(
    keys, label, other_label
):
    # Both labels hold the same 30 ISRCs in their catalogs (drafts never inform each other), in opposite
    # orders, and sign them at once: each identifier goes to one label; the loser's item is refused alone.
    shared = [factories.isrc() for _ in range(30)]

    def items_for(who: Any, codes: list[str]) -> list[BatchItem]:
        return [
            BatchItem(
                create={
                    "label": who,
                    "upc": factories.upc(),
                    "title": f"Race {code}",
                    "genre": "Pop",
                    "artists": [{"name": "A"}],
                    "tracks": [{"isrc": code, "title": "t", "position": 1, "duration": 100}],
                },
                change=NextVersion(ai={code: factories.track_ai()}),
                kind=FIRST,
            )
            for code in codes
        ]

    batches = {0: items_for(label, shared), 1: items_for(other_label, shared[::-1])}
    results: dict[int, list[Any]] = {}
    barrier = threading.Barrier(2)

    def racer(i: int) -> None:
        barrier.wait()
        results[i] = versions_sign_many(items=batches[i])

    errors = _threads(racer, 2)
    assert not errors, errors
    won = {0: {r.index for r in results[0] if r.ok}, 1: {29 - r.index for r in results[1] if r.ok}}
    assert won[0] | won[1] == set(range(30)) and not won[0] & won[1]
    for i in (0, 1):
        assert all(isinstance(r.error, Conflict) for r in results[i] if not r.ok)
    holders = dict(IdentifierClaim.objects.filter(value__in=shared).values_list("value", "label_id"))
    assert {shared[n] for n in won[0]} == {v for v, lab in holders.items() if lab == label.pk}
    audit_log()


def test_refusals_are_domain_errors_with_fields(keys, label):
    results = versions_sign_many(items=[new_item(label, 0, genre="")])
    assert isinstance(results[0].error, ValidationFailed)
    assert results[0].error.fields
