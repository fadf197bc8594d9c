"""Platform observations through HTTP, per role: a platform observes, the label sees and cannot remove, staff hide,
anyone reads them apart from the declaration; the verifier and the audit account for every leaf.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client, override_settings

from provenance import jcs
from provenance import observations as pobs
from provenance.bundle import Verifier
from provenance.cli import main
from provenance.encoding import b64decode
from provenance.issue.keys import generate_private_key, private_key_to_pem, public_bytes
from provenance.issue.sign import sign_pae
from provenance.keys import thumbprint
from provenance.labelkeys import PLATFORM_KEY_PAYLOAD_TYPE, label_key_jwk
from registry.api.models import PlatformKey
from registry.api.tokens import label_token_create, platform_key_create
from registry.catalog.models import Release
from registry.declarations.models import Declaration
from registry.declarations.services import declaration_amend
from registry.observations import services
from registry.observations.models import Observation, PlatformSigningKey
from registry.transparency import keys as tkeys
from registry.transparency.audit import AuditFailure, audit_log
from registry.transparency.models import LogLeaf
from tests import factories
from tests.registry.api.conftest import bearer, error_of, post_json

pytestmark = pytest.mark.django_db


class PlatformActor:
    """A platform: its API key (bearer), its row, and its signing key registered by staff."""

    def __init__(self, name: str, staff: Any, *, register: bool = True) -> None:
        self.row, self.token = platform_key_create(name=name)
        self.key = generate_private_key()
        if register:
            services.key_attest(platform=self.row, public_key=public_bytes(self.key), actor=staff, reason="first key")
        self.client = Client()

    def post(self, path: str, body: Any) -> Any:
        return post_json(self.client, path, body, **bearer(self.token))

    def prepare(self, isrc: str, **extra: Any) -> Any:
        body = {"isrc": isrc, "observed": {"vocals": "all"}, "method": "detector X v2", "observed_at": "2026-11-30"}
        return self.post("/api/v1/observations/prepare", {**body, **extra})

    def submit(self, prepared: dict[str, Any], key: Any = None) -> Any:
        signature = sign_pae(b64decode(prepared["payload"]), key or self.key, payload_type=prepared["payloadType"])
        return self.post("/api/v1/observations", {"payload": prepared["payload"], "signature": signature})

    def observe(self, isrc: str, **extra: Any) -> Any:
        prepared = self.prepare(isrc, **extra)
        assert prepared.status_code == 200, prepared.content
        return self.submit(prepared.json())


@pytest.fixture
def platform(keys: Any, staff: Any) -> PlatformActor:
    return PlatformActor("Example Streaming", staff)


def _none_track(declared: Any) -> str:
    """Track 2 of the declared fixture: declared with no AI in any part."""
    return declared.statement["tracks"][1]["isrc"]


def _snapshot() -> tuple[int, int]:
    return LogLeaf.objects.count(), Observation.objects.count()


def test_a_platform_prepares_signs_with_the_cli_and_submits_an_observation_that_verifies(
    platform, declared, tmp_path, capsys
):
    isrc = _none_track(declared)
    prepared = platform.prepare(isrc, upc=declared.release.upc, declaration_version=1)
    assert prepared.status_code == 200, prepared.content
    prepared = prepared.json()
    st = pobs.parse_observation(b64decode(prepared["payload"]))
    assert st["platform"] == {"id": str(platform.row.pk), "name": "Example Streaming",
                              "key_head": services.key_head(services.history(platform.row))}  # fmt: skip
    assert st["declaration"]["version"] == 1 and st["observed"] == {"vocals": "all"}
    (tmp_path / "prepared.json").write_text(json.dumps(prepared))
    (tmp_path / "key.pem").write_bytes(private_key_to_pem(platform.key, None))
    assert main(["sign-observation", "--key", str(tmp_path / "key.pem"), str(tmp_path / "prepared.json")]) == 0
    signature = json.loads(capsys.readouterr().out)
    leaves = LogLeaf.objects.count()
    r = platform.post("/api/v1/observations", {"payload": prepared["payload"], "signature": signature})
    assert r.status_code == 201, r.content
    assert LogLeaf.objects.count() == leaves + 1
    again = platform.post("/api/v1/observations", {"payload": prepared["payload"], "signature": signature})
    _refused(again, 409, f"logged already, at log index {r.json()['log_index']}")  # a retry logs nothing
    assert LogLeaf.objects.count() == leaves + 1
    body = r.json()
    envelope = body["bundle"]["envelope"]
    assert [s["keyid"] for s in envelope["signatures"]][0] == thumbprint(public_bytes(platform.key))
    assert len(envelope["signatures"]) == 2  # the platform's, then the registry's
    result = pobs.verify_observation_bundle(body["bundle"], Verifier(tkeys.keyset()))
    assert result.valid, result.summary()
    assert "attested by staff" in result.attestation
    # What anyone can check: the verify endpoint and the platform's keys.
    verified = post_json(Client(), "/api/v1/verify", body["bundle"]).json()
    assert verified["valid"] and verified["checks"][-1]["name"] == "platform_signature", verified
    assert verified["signed_by"] == result.attestation
    tampered = json.loads(json.dumps(body["bundle"]))
    tampered["platform_keys"] = []  # a mirror that drops the platform's key history
    verified = post_json(Client(), "/api/v1/verify", tampered).json()
    assert not verified["valid"] and verified["checks"][-1]["name"] == "platform_signature"
    jwks = Client().get(f"/platforms/{platform.row.pk}/keys.json").json()
    assert [k["kid"] for k in jwks["keys"]] == [thumbprint(public_bytes(platform.key))]
    audit_log()


def test_an_observation_never_changes_the_declaration_and_is_shown_apart_on_pages_and_answers(platform, declared):
    isrc = _none_track(declared)
    release = declared.release
    before_api = Client().get(f"/api/v1/recordings/{isrc}").json()
    assert platform.observe(isrc).status_code == 201
    assert Declaration.objects.filter(release=release).count() == 1
    answer = Client().get(f"/api/v1/recordings/{isrc}").json()
    assert answer["disclosure"] == before_api["disclosure"]  # contains_ai and every part: as the label declared
    assert answer["bundle"] == before_api["bundle"]
    [obs] = answer["observations"]
    assert obs["platform"]["name"] == "Example Streaming" and obs["observed"] == {"vocals": "all"}
    assert obs["observed_at"] == "2026-11-30" and obs["method"] == "detector X v2" and obs["isrc"] == isrc
    release_answer = Client().get(f"/api/v1/releases/{release.upc}").json()
    assert release_answer["observations"] == [obs]
    other = declared.statement["tracks"][2]["isrc"]
    assert Client().get(f"/api/v1/recordings/{other}").json()["observations"] == []
    bulk = post_json(Client(), "/api/v1/lookup", {"isrcs": [isrc]}).json()
    assert bulk["results"][0]["observations"] == [obs]
    page = Client().get(f"/recordings/{isrc}/").content.decode()
    assert "Observed by platform Example Streaming" in page
    assert "The platform's observation disagrees with the label's declaration." in page
    assert "Vocals: the label declared “No AI”, Example Streaming observed “Entirely AI”" in page
    assert "(detector X v2):\n    Vocals: Entirely AI." in page
    assert f"Declared by the label {declared.release.label.name} / observed by platform Example Streaming." in page
    release_page = Client().get(f"/releases/{release.upc}/").content.decode()
    assert "Observed by platform Example Streaming" in release_page and isrc in release_page


def test_an_observation_that_agrees_says_no_disagreement(platform, declared):
    isrc = declared.statement["tracks"][0]["isrc"]  # declared all AI
    assert platform.observe(isrc).status_code == 201
    page = Client().get(f"/recordings/{isrc}/").content.decode()
    assert "Observed by platform Example Streaming" in page and "disagrees" not in page


def _refused(response: Any, status: int, words: str) -> None:
    assert response.status_code == status, response.content
    assert words in error_of(response)["message"], error_of(response)


def test_a_bad_signature_is_refused_and_logs_nothing(platform, declared):
    prepared = platform.prepare(_none_track(declared)).json()
    before = _snapshot()
    forged = {**sign_pae(b"something else", platform.key, payload_type=prepared["payloadType"])}
    r = platform.post("/api/v1/observations", {"payload": prepared["payload"], "signature": forged})
    _refused(r, 400, "does not verify")
    wrong_type = sign_pae(b64decode(prepared["payload"]), platform.key)  # the declaration payloadType's PAE
    r = platform.post("/api/v1/observations", {"payload": prepared["payload"], "signature": wrong_type})
    _refused(r, 400, "does not verify")
    assert _snapshot() == before


def test_an_unknown_key_and_a_revoked_key_are_refused(platform, declared, staff):
    prepared = platform.prepare(_none_track(declared)).json()
    before = _snapshot()
    _refused(platform.submit(prepared, key=generate_private_key()), 400, "is not a key of Example Streaming")
    assert _snapshot() == before
    # Staff revoke the key (it leaked): what was prepared before names the old key head, so it is stale …
    services.key_revoke_by_staff(platform=platform.row, kid=thumbprint(public_bytes(platform.key)), actor=staff,
                                 reason="leaked")  # fmt: skip
    _refused(platform.submit(prepared), 409, "prepare it again")
    _refused(platform.prepare(_none_track(declared)), 400, "has no active signing key")
    # … and with a recovery key registered, a fresh statement signed by the revoked key is refused.
    fresh = generate_private_key()
    services.key_attest(platform=platform.row, public_key=public_bytes(fresh), actor=staff, reason="new", recovery=True)
    again = platform.prepare(_none_track(declared)).json()
    _refused(platform.submit(again), 400, "is revoked")
    assert platform.submit(again, key=fresh).status_code == 201
    assert Observation.objects.count() == 1


def test_another_platforms_key_or_statement_is_refused(platform, declared, staff):
    rival = PlatformActor("Rival Streaming", staff)
    prepared = platform.prepare(_none_track(declared)).json()
    before = _snapshot()
    _refused(platform.submit(prepared, key=rival.key), 400, "is not a key of Example Streaming")
    # The rival submits Example Streaming's statement signed with its own key: it names another platform.
    _refused(rival.submit(prepared, key=rival.key), 400, "names another platform")
    _refused(rival.submit(prepared, key=platform.key), 400, "names another platform")
    assert _snapshot() == before


def test_an_isrc_without_a_public_declaration_is_refused(platform, release, declared):
    undeclared = factories.make_release(declared.release.label, tracks=1)
    isrc = undeclared.tracks.first().recording.isrc
    _refused(platform.prepare(isrc), 404, "no public declaration of ISRC")
    _refused(platform.prepare(_none_track(declared), upc=undeclared.upc), 404, "no public declaration")
    assert platform.prepare("not-an-isrc").status_code == 400


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"observed": {}}, "observed"),
        ({"observed": {"vocals": "mostly"}}, "observed"),
        ({"observed": {"artwork": "all"}}, None),
        ({"observed_at": "2999-01-01"}, "observed_at"),
        ({"observed_at": "30/11/2026"}, "observed_at"),
        ({"method": "x" * 201}, "method"),
        ({"method": "   "}, "method"),
        ({"declaration_version": 9}, "declaration_version"),
    ],
)
def test_bad_observations_get_a_clear_400(platform, declared, change, field):
    r = platform.prepare(_none_track(declared), **change)
    assert r.status_code == 400, r.content
    if field:
        assert field in error_of(r)["fields"] or field in error_of(r)["message"], error_of(r)


def test_a_key_event_since_prepare_makes_submit_a_409(platform, declared):
    prepared = platform.prepare(_none_track(declared)).json()
    k2 = generate_private_key()
    key_prep = platform.post(
        "/api/v1/platform/keys/prepare", {"event": "register", "key": label_key_jwk(public_bytes(k2))}
    )
    assert key_prep.status_code == 200, key_prep.content
    payload = key_prep.json()["payload"]
    signature = sign_pae(b64decode(payload), platform.key, payload_type=PLATFORM_KEY_PAYLOAD_TYPE)
    logged = platform.post("/api/v1/platform/keys", {"payload": payload, "signature": signature})
    assert logged.status_code == 201, logged.content
    assert logged.json()["sequence"] == 2
    _refused(platform.submit(prepared), 409, "prepare it again")
    # With the new key, prepared again: logged, and its bundle carries both key events.
    r = platform.submit(platform.prepare(_none_track(declared)).json(), key=k2)
    assert r.status_code == 201, r.content
    assert [e["index"] for e in r.json()["bundle"]["platform_keys"]] == list(
        PlatformSigningKey.objects.order_by("registered__sequence").values_list("registered__leaf_id", flat=True)
    )
    assert pobs.verify_observation_bundle(r.json()["bundle"], Verifier(tkeys.keyset())).valid
    audit_log()


def test_a_platform_cannot_add_a_key_signed_by_the_new_key_alone(platform):
    k2 = generate_private_key()
    r = platform.post("/api/v1/platform/keys/prepare", {"event": "register", "key": label_key_jwk(public_bytes(k2))})
    payload = r.json()["payload"]
    signature = sign_pae(b64decode(payload), k2, payload_type=PLATFORM_KEY_PAYLOAD_TYPE)
    before = _snapshot()
    _refused(platform.post("/api/v1/platform/keys", {"payload": payload, "signature": signature}), 400,
             "is not a key of Example Streaming")  # fmt: skip
    assert _snapshot() == before


def test_a_platform_without_a_key_registered_by_staff_cannot_observe(keys, staff, declared):
    newcomer = PlatformActor("Newcomer", staff, register=False)
    _refused(newcomer.prepare(_none_track(declared)), 400, "has no active signing key")
    k = generate_private_key()
    r = newcomer.post("/api/v1/platform/keys/prepare", {"event": "register", "key": label_key_jwk(public_bytes(k))})
    payload = r.json()["payload"]
    signature = sign_pae(b64decode(payload), k, payload_type=PLATFORM_KEY_PAYLOAD_TYPE)
    _refused(newcomer.post("/api/v1/platform/keys", {"payload": payload, "signature": signature}), 400,
             "first key is attested by staff")  # fmt: skip


@pytest.mark.parametrize("who", ["anonymous", "label", "revoked platform"])
def test_only_a_platform_key_makes_observations(platform, declared, label, who):
    prepared = platform.prepare(_none_track(declared)).json()
    signature = sign_pae(b64decode(prepared["payload"]), platform.key, payload_type=prepared["payloadType"])
    body = {"payload": prepared["payload"], "signature": signature}
    headers: dict[str, str] = {}
    if who == "label":
        headers = bearer(label_token_create(label=label, name="CI")[1])
    elif who == "revoked platform":
        from registry.api.tokens import credentials_revoke

        credentials_revoke(PlatformKey.objects.filter(pk=platform.row.pk))
        headers = bearer(platform.token)
    before = _snapshot()
    r = post_json(Client(), "/api/v1/observations", body, **headers)
    assert r.status_code == {"anonymous": 401, "label": 403, "revoked platform": 401}[who], r.content
    error_of(r)
    assert _snapshot() == before


@pytest.fixture
def throttled():
    rates = {**django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], services.OBSERVATIONS_PER_PLATFORM: "2/day"}
    rest = {**django_settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    with override_settings(REGISTRY_THROTTLE=True, REST_FRAMEWORK=rest):
        yield


def test_observations_are_limited_per_platform_per_day(platform, declared, staff, throttled):
    isrc = _none_track(declared)
    prepared = [platform.prepare(isrc, method=f"detector X v{i}").json() for i in range(3)]
    assert platform.submit(prepared[0]).status_code == 201
    _refused(platform.submit(prepared[0], key=generate_private_key()), 400, "is not a key")  # a refusal costs nothing
    assert platform.submit(prepared[1]).status_code == 201
    before = _snapshot()
    r = platform.submit(prepared[2])
    _refused(r, 429, "too many observations from Example Streaming")
    assert _snapshot() == before
    other = PlatformActor("Other Streaming", staff)
    assert other.observe(isrc).status_code == 201  # the limit is the platform's own


def test_the_label_sees_the_observation_and_cannot_remove_it(
    platform, declared, owner, label, django_capture_on_commit_callbacks
):
    isrc = _none_track(declared)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        platform.observe(isrc)
    [email] = mail.outbox
    assert email.to == [owner.email] and "Example Streaming attached a signed observation to " + isrc in email.body
    obs = Observation.objects.get()
    owner_client = Client()
    owner_client.force_login(owner)
    assert "Observed by platform Example Streaming" in owner_client.get(f"/recordings/{isrc}/").content.decode()
    hide = {"action": "hide", "_selected_action": [obs.pk], "apply": "1", "reason": "we disagree"}
    r = owner_client.post("/admin/observations/observation/", hide)
    assert r.status_code == 302 and r["Location"].startswith("/admin/login/")
    token = label_token_create(label=label, name="CI")[1]
    assert (
        post_json(Client(), "/api/v1/observations", {"payload": "x", "signature": {}}, **bearer(token)).status_code
        == 403
    )
    # An amendment by the label is a new version; the observation stays beside it.
    declaration_amend(release=declared.release, reason="Remastered", ai={isrc: factories.track_ai("partly")})
    assert Declaration.objects.filter(release=declared.release).count() == 2
    obs.refresh_from_db()
    assert obs.hidden_at is None
    assert Client().get(f"/api/v1/recordings/{isrc}").json()["observations"][0]["id"] == str(obs.uid)


def test_staff_hide_an_abusive_observation_and_the_log_keeps_it(platform, declared, staff):
    isrc = _none_track(declared)
    platform.observe(isrc)
    obs = Observation.objects.get()
    admin = Client()
    admin.force_login(staff)
    assert admin.get("/admin/observations/observation/").status_code == 200
    ask = admin.post("/admin/observations/observation/", {"action": "hide", "_selected_action": [obs.pk]})
    assert ask.status_code == 200 and "Hide observations" in ask.content.decode()
    r = admin.post("/admin/observations/observation/",
                   {"action": "hide", "_selected_action": [obs.pk], "apply": "1", "reason": "spam from a test key"})  # fmt: skip
    assert r.status_code == 302
    obs.refresh_from_db()
    assert obs.hidden_by == staff and obs.hidden_reason == "spam from a test key" and obs.hidden_at is not None
    assert Client().get(f"/api/v1/recordings/{isrc}").json()["observations"] == []
    assert "Observed by platform Example" not in Client().get(f"/recordings/{isrc}/").content.decode()
    assert LogLeaf.objects.filter(index=obs.leaf_id).exists()
    audit_log()  # the hidden observation's leaf is still accounted for


def test_the_audit_accounts_for_observations_and_catches_tampering(platform, declared):
    platform.observe(_none_track(declared))
    audit_log()
    obs = Observation.objects.get()
    Observation.objects.filter(pk=obs.pk).update(statement={**obs.statement, "method": "edited"})
    with pytest.raises(AuditFailure, match="differ from the signed one"):
        audit_log()
    Observation.objects.filter(pk=obs.pk).update(statement=obs.statement)
    shown = Release.objects.get(pk=declared.release_id).public_observations
    Release.objects.filter(pk=declared.release_id).update(public_observations="[]")
    with pytest.raises(AuditFailure, match="observations its answers show differ"):
        audit_log()
    Release.objects.filter(pk=declared.release_id).update(public_observations=shown)
    audit_log()
    Observation.objects.filter(pk=obs.pk).delete()
    Release.objects.filter(pk=declared.release_id).update(public_observations="[]")
    with pytest.raises(AuditFailure, match="carry no declaration or other known statement"):
        audit_log()


def test_staff_attest_a_platforms_first_key_with_a_command(keys, staff, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    row, _ = platform_key_create(name="Cmd Streaming")
    key = generate_private_key()
    jwk = json.dumps(label_key_jwk(public_bytes(key)))
    call_command("platform_key_attest", str(row.pk), "--key", jwk, "--staff", staff.username, "--reason", "contract 7")
    assert "register" in capsys.readouterr().out
    with pytest.raises(CommandError, match="the platform has keys"):
        call_command("platform_key_attest", str(row.pk), "--key", jwk, "--staff", staff.username, "--reason", "again")
    assert (
        jcs.canonicalize(Client().get(f"/platforms/{row.pk}/keys.json").json()["keys"][0]["attestation"]) == b'"staff"'
    )


def test_the_feed_carries_observations_only_when_asked_and_they_verify(platform, declared):
    platform.observe(_none_track(declared))
    obs = Observation.objects.get()
    anonymous = Client()
    assert [e.get("kind") for e in anonymous.get("/api/v1/feed").json()["entries"]] == [None]
    entries = anonymous.get("/api/v1/feed?include=observations").json()["entries"]
    assert [(e["index"], e.get("kind")) for e in entries] == [(declared.leaf_id, None), (obs.leaf_id, "observation")]
    assert pobs.verify_observation_bundle(entries[1]["bundle"], Verifier(tkeys.keyset())).valid
    both = anonymous.get("/api/v1/feed?include=disputes,observations").json()["entries"]
    assert len(both) == 2
    assert anonymous.get("/api/v1/feed?include=observations,everything").status_code == 400


def test_the_keys_of_a_platform_without_signing_keys_are_not_found(platform, keys):
    """Platform ids are small integers: the key endpoint must not list the registry's API customers."""
    secret_customer, _ = platform_key_create(name="Unannounced Partner Inc.")
    r = Client().get(f"/platforms/{secret_customer.pk}/keys.json")
    assert r.status_code == 404 and b"Unannounced" not in r.content
    assert Client().get(f"/platforms/{platform.row.pk}/keys.json").status_code == 200


@pytest.fixture
def lookup_cached(settings: Any) -> Any:
    from django.core.cache import cache

    settings.REGISTRY_LOOKUP_CACHE_SECONDS = 30
    cache.clear()
    yield
    cache.clear()


def test_a_cached_lookup_is_never_stale_after_an_observation_or_its_hiding(
    platform, declared, staff, lookup_cached, django_capture_on_commit_callbacks
):
    isrc = _none_track(declared)
    urls = [f"/api/v1/recordings/{isrc}", f"/api/v1/releases/{declared.release.upc}"]
    assert all(Client().get(u).json()["observations"] == [] for u in urls)  # now in the cache
    with django_capture_on_commit_callbacks(execute=True):
        assert platform.observe(isrc).status_code == 201
    assert all(len(Client().get(u).json()["observations"]) == 1 for u in urls)
    with django_capture_on_commit_callbacks(execute=True):
        services.observation_hide(observation=Observation.objects.get(), actor=staff, reason="abuse")
    assert all(Client().get(u).json()["observations"] == [] for u in urls)


def test_the_page_says_plainly_who_declared_who_observed_and_who_disputed(platform, declared, django_user_model):
    from registry.disputes import services as disputes

    isrc = _none_track(declared)
    platform.observe(isrc)
    artist = django_user_model.objects.create_user("ada", "ada@example.net", "correct horse battery")
    disputes.dispute_open(declaration=declared, actor=artist, role="artist", isrc=isrc, part="vocals",
                          text="My voice was cloned.")  # fmt: skip
    label = declared.release.label.name
    for path in (f"/recordings/{isrc}/", f"/releases/{declared.release.upc}/"):
        page = Client().get(path).content.decode()
        assert f"Declared by the label {label} / observed by platform Example Streaming / disputed by an artist." in (
            page
        ), path
