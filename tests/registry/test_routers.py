"""The read-replica router: public lookups go to replicas, writes and transactions stay on the primary."""

from __future__ import annotations

import copy

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings

from registry.catalog.models import Release
from registry.declarations.models import Declaration
from registry.routers import ReplicaRouter
from registry.transparency.models import LogNode


def _with_replicas(n: int) -> dict:
    databases = copy.deepcopy(settings.DATABASES)
    for i in range(n):
        databases[f"replica{i}"] = {**databases["default"], "TEST": {"MIRROR": "default"}}
    return databases


def test_without_replicas_everything_reads_the_primary():
    router = ReplicaRouter()
    assert router.db_for_read(Release) == "default"
    assert router.db_for_write(Release) == "default"


def test_public_reads_go_to_a_replica(transactional_db):
    router = ReplicaRouter()
    with override_settings(DATABASES=_with_replicas(2)):
        chosen = {router.db_for_read(model) for model in (Release, Declaration, LogNode) for _ in range(20)}
    assert chosen <= {"replica0", "replica1"} and chosen


def test_private_data_and_writes_stay_on_the_primary(db):
    router = ReplicaRouter()
    with override_settings(DATABASES=_with_replicas(1)):
        assert router.db_for_read(get_user_model()) == "default"
        assert router.db_for_write(Release) == "default"
        assert router.allow_migrate("replica0", "catalog") is False
        assert router.allow_migrate("default", "catalog") is True


def test_reads_inside_a_transaction_see_their_own_writes_on_the_primary(transactional_db):
    router = ReplicaRouter()
    with override_settings(DATABASES=_with_replicas(1)):
        with transaction.atomic():
            assert router.db_for_read(Release) == "default"
        assert router.db_for_read(Release) == "replica0"
