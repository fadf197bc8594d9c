"""Concurrent declarations on PostgreSQL: N writers give N contiguous leaves and a log that audits clean."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from registry.catalog.models import Release
from registry.declarations.models import Declaration
from registry.declarations.services import declaration_amend
from registry.transparency.audit import audit_log
from registry.transparency.models import Checkpoint, LogLeaf
from tests import factories

WRITERS = 8
PER_WRITER = 25


def _run_threads(target, count: int) -> list[BaseException]:
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
def test_eight_writers_declaring_concurrently_leave_a_contiguous_audited_log(keys, label):
    def writer(i: int) -> None:
        for j in range(PER_WRITER):
            release = factories.make_release(
                label,
                tracks=2,
                title=f"W{i}-{j}",
                upc=factories.upc(10_000 + i * 1000 + j),
                track_list=[
                    {"isrc": factories.isrc(100_000 + i * 1000 + j * 2 + k), "title": "t", "position": k + 1}
                    for k in range(2)
                ],
            )
            factories.declare(release, "partly")

    errors = _run_threads(writer, WRITERS)
    assert not errors, errors
    total = WRITERS * PER_WRITER
    assert list(LogLeaf.objects.order_by("index").values_list("index", flat=True)) == list(range(total))
    assert Checkpoint.objects.count() == total
    assert Declaration.objects.count() == total
    report = audit_log()
    assert report.leaves == total


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_amendments_of_one_release_never_duplicate_a_version(keys, label):
    release = factories.make_release(label, tracks=1)
    factories.declare(release, "none")

    def amender(i: int) -> None:
        for j in range(5):
            declaration_amend(release=Release.objects.get(pk=release.pk), reason=f"writer {i} change {j}")

    errors = _run_threads(amender, WRITERS)
    assert not errors, errors
    versions = list(Declaration.objects.filter(release=release).order_by("version").values_list("version", flat=True))
    assert versions == list(range(1, WRITERS * 5 + 2))
    audit_log()
    assert connection.vendor == "postgresql"
