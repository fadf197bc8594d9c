from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "registry.public"
    label = "public"
