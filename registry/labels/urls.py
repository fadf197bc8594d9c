"""URLs of registry.labels."""

from __future__ import annotations

urlpatterns: list = []
