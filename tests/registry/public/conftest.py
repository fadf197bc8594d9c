"""Fixtures for the public pages: the fictional demo catalog, loaded through the real services."""

from __future__ import annotations

from typing import Any

import pytest

from registry.catalog.models import Release


@pytest.fixture
def demo(keys: Any) -> dict[str, Release]:
    """The demo catalog; releases by title."""
    from registry.declarations.demo import load_demo

    load_demo()
    return {r.title: r for r in Release.objects.select_related("label")}
