from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "registry.transparency"
    label = "transparency"
