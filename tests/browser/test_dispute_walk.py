"""A dispute in Chromium from opening to resolution: an artist opens it, the label amends, staff uphold it.

Screenshots: tests/artifacts/screenshots/dispute-NN-<step>.png.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from provenance import verify_dispute_bundle
from provenance.bundle import Verifier
from provenance.keys import KeySet
from registry.declarations.models import Declaration
from registry.disputes.models import Dispute
from registry.transparency.audit import audit_log
from tests.browser.conftest import login, until
from tests.browser.test_label_flow import click, fill, wait_for

pytestmark = pytest.mark.browser

CLAIM = "The vocals on this track are an AI clone of my voice. I never recorded it."


@pytest.fixture
def artist(django_user_model):
    """An artist's account whose email address is proven (User.email is only set from a proof)."""
    return django_user_model.objects.create_user("ada", "ada@example.net", "correct horse battery")


def _main(page) -> str:
    return page.find_element(By.TAG_NAME, "main").text


def test_an_artist_s_dispute_is_answered_by_an_amendment_and_upheld_by_staff(
    page, screenshot, keys, label, owner, staff, artist, declared
):
    upc = declared.release.upc
    track = declared.statement["tracks"][1]  # declared "No AI" throughout
    isrc = track["isrc"]

    # 1. The artist finds the track on the public pages and opens a dispute on its vocals.
    login(page, "ada", "correct horse battery")
    page.go(f"/recordings/{isrc}/")
    click(page, f'a[href="/releases/{upc}/dispute/?isrc={isrc}"]')
    wait_for(page, "/dispute/")
    click(page, 'input[name=role][value="artist"]')
    assert Select(page.find_element(By.ID, "id_isrc")).first_selected_option.get_attribute("value") == isrc
    Select(page.find_element(By.ID, "id_part")).select_by_value("vocals")
    fill(page, "id_text", CLAIM)
    fill(page, "id_evidence", "My session calendar shows I was on tour the week it was recorded.")
    fill(page, "id_identity", "ISNI 0000 0001 2146 438X; https://ada.example/")
    screenshot("dispute-01-artist-opens")
    click(page, "main form button[type=submit]")

    wait_for(page, "/disputes/")
    dispute = Dispute.objects.get()
    assert page.current_url.endswith(f"/disputes/{dispute.uid}/")
    assert _main(page).count("Your dispute is open, signed and logged") == 1 and CLAIM in _main(page)
    screenshot("dispute-02-opened")
    page.go(f"/releases/{upc}/")
    assert f"Disputed by an artist: vocals of {isrc} — open" in _main(page)
    assert CLAIM not in _main(page)  # the words are for the opener, the label and staff only
    screenshot("dispute-03-public-page-open")

    # 2. The label sees it on its disputes page and answers that it will amend, then amends.
    page.delete_all_cookies()
    login(page, "olivia", "correct horse battery")
    wait_for(page, f"/label/{label.pk}/")
    page.go(f"/label/{label.pk}/disputes/")
    section = page.find_element(By.ID, f"dispute-{dispute.uid}")
    assert CLAIM in section.text and "ada.example" not in section.text  # the identity is for staff only
    click(page, f'#dispute-{dispute.uid} input[name=outcome][value="amend"]')
    fill(page, "id_text", "We checked the stems: the vocal was generated. We amend.")
    screenshot("dispute-04-label-answers")
    click(page, f"#dispute-{dispute.uid} button[type=submit]")
    wait_for(page, f"/releases/{upc}/declare/")
    assert "Now amend the declaration" in _main(page)
    click(page, 'label[for="id_t1_vocals_2"]')  # track 2's vocals: entirely AI
    fill(page, "id_t1_tools", "Voice model")
    fill(page, "id_reason", "A dispute showed that the vocals of track 2 are generated.")
    screenshot("dispute-05-label-amends")
    click(page, "form#declare-form .actions button[name=review]")
    wait_for(page, "/review/")
    click(page, "button[name=confirm]")
    wait_for(page, "/signed/2/")
    v2 = Declaration.objects.get(release=declared.release, version=2)
    assert next(t for t in v2.statement["tracks"] if t["isrc"] == isrc)["parts"]["vocals"] == "all"

    # 3. Staff read the dispute in the admin and uphold it: signed and logged.
    page.delete_all_cookies()
    page.go("/admin/login/?next=/admin/disputes/dispute/")
    fill(page, "id_username", "stella")
    fill(page, "id_password", "correct horse battery")
    click(page, "input[type=submit]")
    wait_for(page, "/admin/disputes/dispute/")
    click(page, f'input[name=_selected_action][value="{dispute.pk}"]')
    Select(page.find_element(By.NAME, "action")).select_by_value("uphold")
    click(page, "button[name=index]")
    fill(page, "id_text", "The label amended the declaration (version 2).")
    screenshot("dispute-06-staff-uphold")
    click(page, "input[name=apply]")
    until(page, lambda d: "upheld, signed and logged" in d.find_element(By.TAG_NAME, "body").text)
    screenshot("dispute-07-staff-done")
    dispute.refresh_from_db()
    assert dispute.status == "upheld"
    assert [(s.step, s.role, s.outcome) for s in dispute.steps.all()] == [
        ("opened", "artist", ""),
        ("answered", "label", "amend"),
        ("resolved", "staff", "upheld"),
    ]

    # 4. Anyone sees the history: the dispute upheld (on version 1) beside version 2 and its reason.
    page.delete_all_cookies()
    page.go(f"/releases/{upc}/")
    main = _main(page)
    assert f"Disputed by an artist: vocals of {isrc} — upheld (on version 1)" in main
    assert "A dispute showed that the vocals of track 2 are generated." in main
    assert CLAIM not in main and "The label amended" not in main
    screenshot("dispute-08-public-page-resolved")
    verifier = Verifier(KeySet.from_jwks(keys))
    for step in dispute.steps.all():
        assert verify_dispute_bundle(step.bundle.encode(), verifier).valid
    audit_log()
