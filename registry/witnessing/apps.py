from django.apps import AppConfig


class WitnessingConfig(AppConfig):
    name = "registry.witnessing"
    label = "witnessing"
    default_auto_field = "django.db.models.BigAutoField"
