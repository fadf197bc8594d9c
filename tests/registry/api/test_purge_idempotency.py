"""Idempotency records are kept for the replay window, then purged by a command."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from registry.api.models import IdempotencyRecord


def test_old_idempotency_records_are_purged_and_recent_ones_kept(label):
    old = IdempotencyRecord.objects.create(
        label=label, key="old", request_hash="a" * 64, status_code=201, response_body="{}"
    )
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=30))
    IdempotencyRecord.objects.create(label=label, key="new", request_hash="b" * 64, status_code=201, response_body="{}")
    out = io.StringIO()
    call_command("purge_idempotency", stdout=out)
    assert "deleted 1" in out.getvalue()
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
