"""An owner co-signs an amendment in Chromium with WebCrypto Ed25519: the key stays in the page, the signature is sent.

Screenshots: tests/artifacts/screenshots/cosign-NN-<step>.png.
"""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By

from provenance.bundle import MEDIA_TYPE_COSIGNED, Verifier
from provenance.issue.keys import generate_private_key, public_bytes
from provenance.keys import KeySet
from provenance.labelkeys import label_key_jwk
from provenance.labelsign import private_jwk
from registry.declarations.models import Declaration
from registry.labelkeys import services
from tests.browser.conftest import login, until
from tests.browser.test_label_flow import click, fill, wait_for

pytestmark = pytest.mark.browser


def test_an_owner_co_signs_an_amendment_in_the_browser(page, screenshot, keys, label, owner, staff, declared):
    key = generate_private_key()
    services.key_attest(label=label, public_key=public_bytes(key), actor=staff, reason="first key", holder=owner)
    kid = label_key_jwk(public_bytes(key))["kid"]
    upc = declared.release.upc

    login(page, "olivia", "correct horse battery")
    wait_for(page, f"/label/{label.pk}/")
    page.go(f"/label/{label.pk}/releases/{upc}/declare/")
    click(page, 'label[for="id_t2_lyrics_1"]')  # track 3's lyrics: partly AI
    fill(page, "id_reason", "Lyrics of track 3 were drafted with AI.")
    click(page, "form#declare-form .actions button[name=review]")
    wait_for(page, "/review/")
    click(page, "button[name=cosign]")

    wait_for(page, "/cosign/")
    section = page.find_element(By.ID, "browser-sign")
    until(page, lambda d: section.is_displayed())  # this Chromium has Ed25519 in WebCrypto
    assert "provenance sign --key LABEL_KEY prepared.json" in page.find_element(By.TAG_NAME, "main").text
    jwk_field = page.find_element(By.ID, "browser-jwk")
    assert jwk_field.get_attribute("name") in (None, "")  # a field no form submits
    page.execute_script("arguments[0].value = arguments[1];", jwk_field, json.dumps(private_jwk(key)))
    click(page, "#browser-sign-button")
    until(page, lambda d: d.find_element(By.ID, "id_signature").get_attribute("value"))
    signature = json.loads(page.find_element(By.ID, "id_signature").get_attribute("value"))
    assert signature["keyid"] == kid
    assert jwk_field.get_attribute("value") == ""  # the page forgot the key
    assert f"Signed with key {kid}" in page.find_element(By.ID, "browser-sign-status").text
    screenshot("cosign-01-signed-in-the-browser")
    click(page, "form.panel button[type=submit]")

    wait_for(page, "/signed/2/")
    v2 = Declaration.objects.get(release=declared.release, version=2)
    assert json.loads(v2.bundle)["mediaType"] == MEDIA_TYPE_COSIGNED
    result = Verifier(KeySet.from_jwks(keys), require_label_signature=True).verify(v2.bundle.encode())
    assert result.valid and result.label_key.kid == kid, result.summary()

    page.go(f"/releases/{upc}/")
    main = page.find_element(By.TAG_NAME, "main").text
    assert f"Signed by label key {kid} (registered at log index {result.label_key.registered_at}" in main
    screenshot("cosign-02-public-page-signed-by-label")


def test_a_signature_by_a_key_the_label_never_registered_is_refused(page, keys, label, owner, staff, declared):
    services.key_attest(
        label=label, public_key=public_bytes(generate_private_key()), actor=staff, reason="first", holder=owner
    )
    stranger = generate_private_key()
    upc = declared.release.upc
    login(page, "olivia", "correct horse battery")
    wait_for(page, f"/label/{label.pk}/")
    page.go(f"/label/{label.pk}/releases/{upc}/declare/")
    click(page, 'label[for="id_t2_lyrics_1"]')
    fill(page, "id_reason", "Lyrics of track 3 were drafted with AI.")
    click(page, "form#declare-form .actions button[name=review]")
    wait_for(page, "/review/")
    click(page, "button[name=cosign]")
    wait_for(page, "/cosign/")
    jwk_field = page.find_element(By.ID, "browser-jwk")
    until(page, lambda d: jwk_field.is_displayed())
    page.execute_script("arguments[0].value = arguments[1];", jwk_field, json.dumps(private_jwk(stranger)))
    click(page, "#browser-sign-button")
    until(page, lambda d: "not an active key" in d.find_element(By.ID, "browser-sign-status").text)
    click(page, "form.panel button[type=submit]")
    until(
        page,  # the page reloads
        lambda d: "Nothing was signed" in d.find_element(By.TAG_NAME, "main").text,
    )
    assert "is not a key of Northern Lights Records" in page.find_element(By.TAG_NAME, "main").text
    assert not Declaration.objects.filter(release=declared.release, version=2).exists()
