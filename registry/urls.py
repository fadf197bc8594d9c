"""Root URL configuration: each app owns its own urls module."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from registry.auth_views import ThrottledAdminLoginView, ThrottledLoginView

urlpatterns = [
    path("admin/login/", ThrottledAdminLoginView.as_view(), name="admin-login"),
    path("admin/", admin.site.urls),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("registry.api.urls")),
    path("label/", include("registry.labels.urls")),
    path("", include("registry.disputes.urls")),
    path("", include("registry.public.urls")),
]
