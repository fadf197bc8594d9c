"""Shared fixtures: real keys, real database, personas (owner, submitter, other label, staff)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import signals
from django.db import close_old_connections, connection

from registry.catalog.models import Membership
from registry.catalog.services import label_create, membership_add
from tests import factories


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    # PostgreSQL-only tests are skipped with a reason on SQLite (DRF style markers).
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://…")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def keys(db: Any) -> Any:
    """Active statement and checkpoint keys (real Ed25519 keys in files under the test var dir)."""
    from registry.transparency.keys import ensure_keys, jwks

    ensure_keys()
    return jwks()


@pytest.fixture
def label(db: Any) -> Any:
    return label_create(name="Northern Lights Records", dpid="PADPIDA3897722461G", verified=True)


@pytest.fixture
def other_label(db: Any) -> Any:
    return label_create(name="Rival Sounds")


@pytest.fixture
def owner(db: Any, django_user_model: Any, label: Any) -> Any:
    user = django_user_model.objects.create_user("olivia", "olivia@example.com", "correct horse battery")
    membership_add(label=label, user=user, role=Membership.OWNER)
    return user


@pytest.fixture
def submitter(db: Any, django_user_model: Any, label: Any) -> Any:
    user = django_user_model.objects.create_user("sam", "sam@example.com", "correct horse battery")
    membership_add(label=label, user=user, role=Membership.SUBMITTER)
    return user


@pytest.fixture
def rival(db: Any, django_user_model: Any, other_label: Any) -> Any:
    user = django_user_model.objects.create_user("rita", "rita@example.com", "correct horse battery")
    membership_add(label=other_label, user=user, role=Membership.OWNER)
    return user


@pytest.fixture
def staff(db: Any, django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("stella", "stella@example.com", "correct horse battery")


@pytest.fixture
def release(keys: Any, label: Any) -> Any:
    return factories.make_release(label, tracks=3, title="Signals")


@pytest.fixture
def declared(release: Any) -> Any:
    """A release with version 1 declared: track 1 fully AI, the rest none."""
    from registry.declarations.services import declaration_create

    tracks = list(release.tracks.select_related("recording"))
    ai = {t.recording.isrc: factories.track_ai("none") for t in tracks}
    ai[tracks[0].recording.isrc] = factories.track_ai("all", tools=["Suno v4"])
    return declaration_create(release=release, ai=ai, via="web")


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def same_connection() -> Any:
    """Keep the test's transaction across raw WSGI calls, as Django's test client does.

    The WSGI handler closes "old" connections at each request's start and end; inside the test
    transaction (autocommit off) PostgreSQL's connection would be closed mid-test.
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield None
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def tlog_storage(settings: Any, tmp_path: Any) -> Any:
    """Full tiles in a directory of the test's own: a tile written by one test's log is never read by another's."""
    settings.STORAGES = {
        **settings.STORAGES,
        "tlog": {
            "BACKEND": "registry.transparency.tiles.AtomicFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "tlog")},
        },
    }
    return tmp_path / "tlog"
