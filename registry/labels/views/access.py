"""The one decorator every label page uses: signed in, a member of the label (an owner when asked).

Anonymous visitors go to the login page; another label's data is a 404 (no
hint that it exists, staff included); a submitter on an owner-only page is a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from registry.catalog.access import access_label, access_release
from registry.catalog.models import Label, Release
from registry.errors import NotFound, PermissionDenied


def label_view(*, owner: bool = False) -> Callable[..., Any]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, label_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                label, membership = access_label(request.user, label_id, owner=owner)
            except NotFound as exc:
                raise Http404(exc.message) from None
            except PermissionDenied as exc:
                raise DjangoPermissionDenied(exc.message) from None
            request.label_membership = membership
            return view(request, label, *args, **kwargs)

        return wrapper

    return decorator


def release_of(label: Label, upc: str) -> Release:
    try:
        return access_release(label, upc)
    except NotFound as exc:
        raise Http404(exc.message) from None
