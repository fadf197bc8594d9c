"""URLs of the dispute pages opened from public releases (the label's page is under /label/, registry/labels/urls.py)."""

from __future__ import annotations

from django.urls import path

from registry.disputes import views

app_name = "disputes"

urlpatterns = [
    path("releases/<str:upc>/dispute/", views.dispute_new, name="new"),
    path("disputes/<str:uid>/", views.dispute_detail, name="detail"),
    path("disputes/<str:uid>/withdraw/", views.dispute_withdraw, name="withdraw"),
]
