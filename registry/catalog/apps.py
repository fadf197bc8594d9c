from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "registry.catalog"
    label = "catalog"
