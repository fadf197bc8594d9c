"""Catalog: labels and their members, artists, releases, recordings and tracks."""
