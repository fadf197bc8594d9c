"""URLs of registry.api."""

from __future__ import annotations

urlpatterns: list = []
