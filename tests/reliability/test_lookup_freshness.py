"""A withdrawal reaches every worker at once (security review finding 5, staleness).

Lookup answers may be cached only in a store all workers share (Redis), invalidated
through generation tokens there; a per-process cache is refused by the settings,
because it kept answering the withdrawn version on the other workers for ~30 s.
"""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from registry.api.tokens import label_token_create
from tests import factories
from tests.registry.api.conftest import redis_up
from tests.registry.test_settings import PRODUCTION_SECRETS, _manage
from tests.reliability.server import Gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _status(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - loopback test server
        return json.loads(resp.read())["disclosure"]["status"]


@pytest.mark.parametrize("cache", ["off (make run without Redis)", "Redis"])
def test_after_a_withdrawal_no_worker_answers_the_old_version(keys, label, owner, cache):
    env = {}
    if cache == "Redis":
        if not redis_up():
            pytest.skip("Redis is not reachable on 127.0.0.1:6379")
        env = {
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "CACHE_PREFIX": f"fresh-{uuid.uuid4().hex}",
            "REGISTRY_LOOKUP_CACHE_SECONDS": "30",
        }
    release = factories.make_release(label, tracks=1)
    factories.declare(release)
    isrc = release.tracks.get().recording.isrc
    token = label_token_create(label=label, name="freshness", created_by=owner)[1]
    server = Gunicorn(workers=3, threads=1, env=env)
    try:
        url = f"{server.url}/api/v1/recordings/{isrc}"
        assert {_status(url) for _ in range(30)} == {"active"}  # every worker has answered (and cached) it
        request = urllib.request.Request(  # noqa: S310
            f"{server.url}/api/v1/releases/{release.upc}/withdraw",
            data=json.dumps({"reason": "Not ours to declare"}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
            assert resp.status == 200
        assert {_status(url) for _ in range(30)} == {"withdrawn"}
    finally:
        server.stop()


def test_a_lookup_cache_in_per_process_memory_is_refused(tmp_path):
    env = {
        **PRODUCTION_SECRETS,
        "REGISTRY_VAR_DIR": str(tmp_path),
        "REDIS_URL": "",
        "REGISTRY_LOOKUP_CACHE_SECONDS": "30",
    }
    done = _manage(["check"], env)
    assert done.returncode != 0 and "needs a cache every worker shares" in done.stderr
