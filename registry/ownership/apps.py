"""App config of registry.ownership."""

from __future__ import annotations

from django.apps import AppConfig


class OwnershipConfig(AppConfig):
    name = "registry.ownership"
    label = "ownership"
    default_auto_field = "django.db.models.BigAutoField"
