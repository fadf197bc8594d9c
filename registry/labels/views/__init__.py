"""Views of the label area, one module per concern; access goes through :mod:`registry.labels.views.access`."""
