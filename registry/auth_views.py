"""Sign-in with a brake on password guessing that nobody can turn against someone else.

Failed sign-ins are counted per (client address, username), and more loosely per
client address (one address trying many usernames), in ``caches["shared"]``:
Redis or a database table, the same for every worker. The first
``FREE_FAILURES`` cost nothing; after that each attempt must wait a delay that
doubles with every failure, from ``FIRST_DELAY`` up to ``MAX_DELAY``. An attempt
inside the delay answers 429 with Retry-After and the password is not checked.
Counts are forgotten ``MEMORY`` seconds after the last failure; signing in
clears the (address, username) count.

Nothing is counted per username alone, so guesses from elsewhere never keep an
account's owner out: a correct password from an address that has not failed
signs in at once. The client address is ``registry.client_address``.

Not django-axes: it locks out for a fixed cool-off after N failures (no growing
delay short of its internals) and brings its own app, tables, backend and
middleware; this needs one module.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import UsernameField
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse

from registry.client_address import client_address

FREE_FAILURES = 5  # per (address, username) before any delay
FREE_ADDRESS_FAILURES = 30  # per address, over all usernames
FIRST_DELAY = 1  # seconds; doubles with each further failure
MAX_DELAY = 15 * 60
MEMORY = 24 * 60 * 60


@dataclass(frozen=True)
class _Counter:
    key: str
    free: int

    @property
    def gate(self) -> str:
        return f"{self.key}:gate"


def delay_after(failures: int, free: int) -> int:
    """Seconds an attempt must wait after ``failures`` failures, of which ``free`` cost nothing."""
    if failures < free:
        return 0
    return min(MAX_DELAY, FIRST_DELAY * 2 ** min(failures - free, 32))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _counters(request: HttpRequest) -> tuple[_Counter, _Counter]:
    address = client_address(request)
    # Cleaned as the sign-in form cleans it (stripped, NFKC), so spelling variants of one
    # username share a count; casefolded in case a backend ever matches without case.
    username = UsernameField(max_length=254).to_python(request.POST.get("username", "")).casefold()
    return (
        _Counter(f"signin:pair:{_digest(address, username)}", FREE_FAILURES),
        _Counter(f"signin:address:{_digest(address)}", FREE_ADDRESS_FAILURES),
    )


def _wait(counters: tuple[_Counter, ...]) -> int:
    """Seconds this attempt must still wait; 0 means it may go ahead (and claims its turn)."""
    store = caches["shared"]
    counts = store.get_many([c.key for c in counters])
    now = time.time()
    for counter in counters:
        delay = delay_after(counts.get(counter.key, 0), counter.free)
        if not delay:
            continue
        # Reading first also drops an expired gate (the database cache deletes it on read),
        # so ``add`` inserts and only one of several concurrent attempts gets the turn.
        until = store.get(counter.gate)
        if until is None and store.add(counter.gate, now + delay, delay):
            continue
        until = until or store.get(counter.gate) or now + delay
        return max(1, math.ceil(until - now))
    return 0


def _failed(counters: tuple[_Counter, ...]) -> None:
    store = caches["shared"]
    for counter in counters:
        # incr is atomic on Redis; on the database cache two concurrent failures may count
        # once, which only matters below the free count: past it the gate lets one through.
        if store.add(counter.key, 1, MEMORY):
            continue
        try:
            store.incr(counter.key)
        except ValueError:  # expired between add and incr
            store.set(counter.key, 1, MEMORY)
        store.touch(counter.key, MEMORY)


def _succeeded(counters: tuple[_Counter, ...]) -> None:
    # Only the pair: signing in to one's own account must not reset an address's
    # count of guesses at other accounts.
    pair = counters[0]
    caches["shared"].delete_many([pair.key, pair.gate])


def _wait_text(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.counters = _counters(request)
        wait = _wait(self.counters)
        if wait:
            form = self.get_form()
            form.add_error(
                None,
                f"Too many failed sign-in attempts from your address for this username. "
                f"Try again in {_wait_text(wait)}.",
            )
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        _succeeded(self.counters)
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        _failed(self.counters)
        return super().form_invalid(form)


class ThrottledAdminLoginView(ThrottledLoginView):
    """The admin's sign-in, with the same brake (staff accounts are the most valuable to guess)."""

    template_name = "admin/login.html"

    def get_form_class(self) -> Any:
        from django.contrib.admin.forms import AdminAuthenticationForm

        return AdminAuthenticationForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from django.contrib import admin

        context = super().get_context_data(**kwargs)
        context.update(admin.site.each_context(self.request))
        context.setdefault("app_path", self.request.get_full_path())
        return context
