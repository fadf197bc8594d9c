"""An owner makes the label's keys in Chromium (WebCrypto Ed25519, private half non-extractable in IndexedDB).

The first key waits for staff; the second is registered by an event the browser signs with the first.
Screenshots: tests/artifacts/screenshots/keys-NN-<step>.png.
"""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By

from provenance import labelkeys
from provenance.bundle import Verifier
from provenance.keys import KeySet
from registry.declarations.models import Declaration
from registry.labelkeys import services
from registry.labelkeys.models import KeyRequest, LabelKey, LabelKeyEvent
from tests.browser.conftest import login, until
from tests.browser.test_label_flow import click, fill, wait_for

pytestmark = pytest.mark.browser


def _main_text(page) -> str:
    return page.find_element(By.TAG_NAME, "main").text


def test_an_owner_makes_a_first_key_staff_attest_it_and_the_browser_signs_the_second(
    page, screenshot, keys, label, owner, staff, declared
):
    login(page, "olivia", "correct horse battery")
    wait_for(page, f"/label/{label.pk}/")
    page.go(f"/label/{label.pk}/keys/")
    form = page.find_element(By.ID, "key-add")
    until(page, lambda d: form.is_displayed())  # this Chromium has Ed25519 in WebCrypto
    fill(page, "id_reason", "Olivia's laptop")
    click(page, "#key-generate")
    until(page, lambda d: "is requested" in _main_text(d))
    request = KeyRequest.objects.get(label=label)
    assert request.status == KeyRequest.PENDING and not LabelKey.objects.exists()
    assert request.kid in _main_text(page)
    screenshot("keys-01-first-key-waits-for-staff")

    services.key_request_attest(request=request, actor=staff)  # staff checked who asked
    page.go(f"/label/{label.pk}/keys/")
    row = page.find_element(By.CSS_SELECTOR, f'#label-keys tr[data-kid="{request.kid}"]')
    until(page, lambda d: row.find_element(By.CSS_SELECTOR, ".in-browser").text == "Yes")
    screenshot("keys-02-first-key-active-and-held-here")

    click(page, "#key-generate")
    until(page, lambda d: d.find_elements(By.ID, "key-register"))
    until(page, lambda d: d.find_element(By.ID, "id_signature").get_attribute("value"))
    signature = json.loads(page.find_element(By.ID, "id_signature").get_attribute("value"))
    assert signature["keyid"] == request.kid  # signed by the first key, which this browser holds
    assert f"Signed with key {request.kid}" in page.find_element(By.ID, "key-sign-status").text
    screenshot("keys-03-second-key-signed-by-the-first")
    click(page, "#key-register button[name=register]")
    until(page, lambda d: "is registered" in _main_text(d))
    screenshot("keys-04-two-keys")

    events = list(LabelKeyEvent.objects.filter(label=label).select_related("leaf").order_by("sequence"))
    assert [e.attestation for e in events] == ["staff", "label"]
    assert LabelKey.objects.filter(label=label, status="active", holder=owner).count() == 1  # one active key per holder
    history = labelkeys.replay([(e.leaf_id, json.loads(e.leaf.data)) for e in events], KeySet.from_jwks(keys))
    assert len(history.active()) == 2

    # The key held in this browser co-signs an amendment: it cannot be pasted, the page signs with it.
    upc = declared.release.upc
    page.go(f"/label/{label.pk}/releases/{upc}/declare/")
    click(page, 'label[for="id_t2_lyrics_1"]')  # track 3's lyrics: partly AI
    fill(page, "id_reason", "Lyrics of track 3 were drafted with AI.")
    click(page, "form#declare-form .actions button[name=review]")
    wait_for(page, "/review/")
    click(page, "button[name=cosign]")
    wait_for(page, "/cosign/")
    held = page.find_element(By.ID, "held-sign")
    until(page, lambda d: held.is_displayed())
    click(page, "#held-sign-button")
    until(page, lambda d: d.find_element(By.ID, "id_signature").get_attribute("value"))
    signed = json.loads(page.find_element(By.ID, "id_signature").get_attribute("value"))
    assert signed["keyid"] in {e.kid for e in events}
    screenshot("keys-05-co-sign-with-the-key-held-in-the-browser")
    click(page, "form.panel button[type=submit]")
    wait_for(page, "/signed/2/")
    v2 = Declaration.objects.get(release=declared.release, version=2)
    result = Verifier(KeySet.from_jwks(keys), require_label_signature=True).verify(v2.bundle.encode())
    assert result.valid and result.label_key.kid == signed["keyid"], result.summary()

    # The owner makes the label require co-signature, signed in the browser with a key it holds.
    page.go(f"/label/{label.pk}/keys/")
    click(page, "#cosign-policy button[name=policy]")
    until(page, lambda d: d.find_elements(By.ID, "policy-sign"))
    until(
        page, lambda d: d.find_element(By.CSS_SELECTOR, "#policy-sign textarea[name=signature]").get_attribute("value")
    )
    screenshot("keys-06-require-co-signature-signed-in-the-browser")
    click(page, "#policy-sign button[name=policy_submit]")
    until(page, lambda d: "requires co-signature (log index" in _main_text(d))
    assert services.jwks(label)["cosign_only"] is True
    page.go(f"/labels/{label.pk}/")
    assert "This label requires co-signature" in _main_text(page)
    screenshot("keys-07-public-label-page-requires-co-signature")


def test_an_owner_revokes_a_lost_key_signed_in_the_browser_by_another_key_it_holds(
    page, screenshot, keys, label, owner, staff, tmp_path
):
    import contextlib
    import io

    from selenium.webdriver.support.ui import Select

    from provenance import cli
    from provenance.encoding import b64decode
    from provenance.issue.keys import generate_private_key, private_key_to_pem, public_bytes
    from provenance.issue.sign import sign_pae

    # The label's first key was made on a laptop (`provenance keygen`) and attested by staff.
    laptop = generate_private_key()
    services.key_attest(label=label, public_key=public_bytes(laptop), actor=staff, reason="first", holder=None)
    laptop_kid = labelkeys.label_key_jwk(public_bytes(laptop))["kid"]
    login(page, "olivia", "correct horse battery")
    wait_for(page, f"/label/{label.pk}/")

    # A second key made in this browser; the browser holds no active key yet, so the laptop signs offline.
    page.go(f"/label/{label.pk}/keys/")
    form = page.find_element(By.ID, "key-add")
    until(page, lambda d: form.is_displayed())
    click(page, "#key-generate")
    until(page, lambda d: d.find_elements(By.ID, "key-register"))
    until(page, lambda d: "holds no other active key" in d.find_element(By.ID, "key-sign-status").text)
    browser_kid = page.find_element(By.ID, "key-register").get_attribute("data-new-kid")
    click(page, "#key-event-file summary")  # the event as a file, signed on the laptop with the CLI
    event_file = tmp_path / "event.json"
    event_file.write_text(page.find_element(By.CSS_SELECTOR, "#key-event-file pre").text)
    laptop_file = tmp_path / "laptop.key"
    laptop_file.write_bytes(private_key_to_pem(laptop, None))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(["sign-key-event", "--key", str(laptop_file), str(event_file)]) == 0
    offline = json.loads(printed.getvalue())
    payload = b64decode(page.find_element(By.ID, "key-register").get_attribute("data-payload"))
    assert offline == sign_pae(payload, laptop, payload_type=labelkeys.KEY_PAYLOAD_TYPE)
    screenshot("keys-revoke-00-second-key-signed-elsewhere")
    fill(page, "id_signature", printed.getvalue().strip())
    click(page, "#key-register button[name=register]")
    until(page, lambda d: f"Key {browser_kid} is registered" in _main_text(d))
    row = page.find_element(By.CSS_SELECTOR, f'#label-keys tr[data-kid="{browser_kid}"]')
    until(page, lambda d: row.find_element(By.CSS_SELECTOR, ".in-browser").text == "Yes")
    screenshot("keys-revoke-01-two-keys-one-held-here")

    # The laptop is stolen: revoke its key; the browser signs the revocation with the key it holds.
    Select(page.find_element(By.ID, "id_revoke-kid")).select_by_value(laptop_kid)
    fill(page, "id_revoke-reason", "Laptop stolen")
    click(page, "#key-revoke button[name=revoke]")
    until(page, lambda d: d.find_elements(By.CSS_SELECTOR, "#key-register[data-revoke-kid]"))
    until(page, lambda d: d.find_element(By.ID, "id_signature").get_attribute("value"))
    signature = json.loads(page.find_element(By.ID, "id_signature").get_attribute("value"))
    assert signature["keyid"] == browser_kid  # another active key, held here; never the one revoked
    assert f"Revoke key {laptop_kid}" in _main_text(page)
    screenshot("keys-revoke-02-revocation-signed-in-the-browser")
    click(page, "#key-register button[name=register]")
    until(page, lambda d: f"Key {laptop_kid} is revoked" in _main_text(d))
    revoked_row = page.find_element(By.CSS_SELECTOR, f'#label-keys tr[data-kid="{laptop_kid}"]')
    assert revoked_row.get_attribute("data-status") == "revoked"
    screenshot("keys-revoke-03-laptop-key-revoked")

    events = list(LabelKeyEvent.objects.filter(label=label).select_related("leaf").order_by("sequence"))
    assert [(e.event, e.attestation) for e in events] == [
        ("register", "staff"),
        ("register", "label"),
        ("revoke", "label"),
    ]
    assert events[-1].reason == "Laptop stolen"
    history = labelkeys.replay([(e.leaf_id, json.loads(e.leaf.data)) for e in events], KeySet.from_jwks(keys))
    assert [k.kid for k in history.active()] == [browser_kid]

    # The browser's own key is its label's last: revoking it needs a signature from elsewhere (or staff).
    Select(page.find_element(By.ID, "id_revoke-kid")).select_by_value(browser_kid)
    click(page, "#key-revoke button[name=revoke]")
    until(page, lambda d: "holds no other active key" in d.find_element(By.ID, "key-sign-status").text)
    assert not page.find_element(By.ID, "id_signature").get_attribute("value")
    screenshot("keys-revoke-04-last-key-needs-a-signature-from-elsewhere")
    assert LabelKey.objects.get(kid=browser_kid).status == "active"
