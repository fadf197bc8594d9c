"""URLs of registry.public: the pages listeners, journalists and artists see, mounted at the site root."""

from __future__ import annotations

from django.urls import path

from registry import converters  # noqa: F401  (registers <id:…>)
from registry.public import views

app_name = "public"

urlpatterns = [
    path("", views.home, name="home"),
    path("releases/<str:upc>/", views.release_detail, name="release"),
    path("releases/<str:upc>/bundle.json", views.release_bundle, name="release-bundle"),
    path("releases/<str:upc>/ern.xml", views.release_ern, name="release-ern"),
    path("releases/<str:upc>/badge.svg", views.release_badge, name="release-badge"),
    path("recordings/<str:isrc>/", views.recording_detail, name="recording"),
    path("recordings/<str:isrc>/badge.svg", views.recording_badge, name="recording-badge"),
    path("artists/<id:artist_id>/", views.artist_detail, name="artist"),
    path("labels/<id:label_id>/", views.label_detail, name="label"),
    path("transparency/", views.transparency, name="transparency"),
]
