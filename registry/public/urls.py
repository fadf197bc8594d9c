"""URLs of registry.public."""

from __future__ import annotations

urlpatterns: list = []
