"""A label owner in a real browser: sign in, create a release, declare with a shortcut, review, sign, amend, withdraw.

Screenshots of each step go to tests/artifacts/screenshots/label-flow-NN-<step>.png.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By

from registry.declarations.models import Declaration
from tests import factories
from tests.browser.conftest import login, until

pytestmark = pytest.mark.browser


def click(page: Any, selector: str) -> None:
    element = page.find_element(By.CSS_SELECTOR, selector)
    page.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def wait_for(page: Any, fragment: str) -> None:
    """Wait until the browser has navigated to a URL containing ``fragment`` and loaded it (form posts are
    asynchronous; 20 s, as the suite's two workers may keep the live server busy)."""
    try:
        until(
            page, lambda d: fragment in d.current_url and d.execute_script("return document.readyState") == "complete"
        )
    except TimeoutException:
        raise AssertionError(
            f"expected {fragment} in {page.current_url}: {page.find_element(By.TAG_NAME, 'main').text}"
        )


def fill(page: Any, element_id: str, value: str) -> None:
    element = page.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(value)


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (the live test server)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_an_owner_declares_amends_and_withdraws_a_release(page, screenshot, keys, label, owner):
    login(page, "olivia", "correct horse battery")
    wait_for(page, f"/label/{label.pk}/")
    screenshot("label-flow-01-dashboard-empty")

    click(page, f'a.button[href="/label/{label.pk}/releases/new/"]')
    wait_for(page, "/releases/new/")
    upc = factories.upc()
    isrcs = [factories.isrc() for _ in range(3)]
    fill(page, "id_upc", upc)
    fill(page, "id_title", "Midnight Circuits")
    fill(page, "id_genre", "Synthwave")  # required since genres are signed
    page.find_element(By.ID, "id_release_date").send_keys("05012026")
    fill(page, "id_artists-0-name", "Vela Nova")
    page.find_element(By.CSS_SELECTOR, "#id_artists-0-persona option[value=ai_assisted]").click()
    for i, (isrc, title) in enumerate(zip(isrcs, ["Neon Tide", "Circuit Heart", "Afterglow"], strict=True)):
        if i:  # the form starts with one track row
            click(page, "button[data-add-row=tracks]")
        fill(page, f"id_tracks-{i}-isrc", isrc)
        fill(page, f"id_tracks-{i}-title", title)
        fill(page, f"id_tracks-{i}-duration", f"3:{10 + i}")
    screenshot("label-flow-02-release-form")
    click(page, "button[name=save]")

    wait_for(page, "/declare/")
    # Shortcut (enhanced by JS: no round trip), then one track differs.
    click(page, "button[data-shortcut=no_ai]")
    assert "No AI" in page.find_element(By.ID, "shortcut-status").text
    assert page.find_element(By.ID, "id_t2_vocals_0").is_selected()
    click(page, 'label[for="id_t1_vocals_2"]')
    click(page, 'label[for="id_t1_production_1"]')
    fill(page, "id_t1_tools", "Suno v4")
    screenshot("label-flow-03-declare")
    click(page, "form#declare-form .actions button[name=review]")

    wait_for(page, "/review/")
    main = page.find_element(By.TAG_NAME, "main").text
    assert "Review what will be signed" in main and "Circuit Heart" in main and "Suno v4" in main
    screenshot("label-flow-04-review")
    click(page, "button[name=confirm]")

    wait_for(page, "/signed/1/")
    decl = Declaration.objects.get(release__upc=upc)
    main = page.find_element(By.TAG_NAME, "main").text
    assert "Declaration signed" in main and f"index {decl.leaf_id}" in main
    assert decl.statement["tracks"][1]["parts"]["vocals"] == "all"
    assert decl.statement["tracks"][0]["contains_ai"] == "none"
    screenshot("label-flow-05-signed")
    public = page.find_element(By.CSS_SELECTOR, "a.public-link").get_attribute("href")
    assert public.endswith(f"/releases/{upc}/")
    if status_of(public) == 200:  # the public pages belong to another part of the site
        page.get(public)
        assert "Midnight Circuits" in page.find_element(By.TAG_NAME, "main").text
        screenshot("label-flow-06-public-page")

    page.go(f"/label/{label.pk}/releases/{upc}/")
    click(page, f'a.button[href="/label/{label.pk}/releases/{upc}/declare/"]')
    wait_for(page, "/declare/")
    assert page.find_element(By.ID, "id_t1_vocals_2").is_selected()  # prefilled from version 1
    fill(page, "id_reason", "Track 3 lyrics were drafted with an AI assistant.")
    click(page, 'label[for="id_t2_lyrics_1"]')
    screenshot("label-flow-07-amend")
    click(page, "form#declare-form .actions button[name=review]")
    wait_for(page, "/review/")
    click(page, "button[name=confirm]")
    wait_for(page, "/signed/2/")

    page.go(f"/label/{label.pk}/releases/{upc}/")
    click(page, f'a.button[href="/label/{label.pk}/releases/{upc}/withdraw/"]')
    wait_for(page, "/withdraw/")
    click(page, "main form button[type=submit]")  # no reason yet: an error, nothing signed
    assert "This field is required" in page.find_element(By.CSS_SELECTOR, ".error-summary").text
    fill(page, "id_reason", "Wrong master delivered; we will declare the corrected release.")
    screenshot("label-flow-08-withdraw")
    click(page, "main form button[type=submit]")
    wait_for(page, "/signed/3/")
    assert "Withdrawal signed" in page.find_element(By.TAG_NAME, "main").text

    page.go(f"/label/{label.pk}/releases/{upc}/")
    history = page.find_element(By.CSS_SELECTOR, "ol.history").text
    assert "Version 3" in history and "Status: active → withdrawn" in history
    assert "Afterglow: lyrics none → partly" in history
    screenshot("label-flow-09-history")
    assert list(Declaration.objects.filter(release__upc=upc).values_list("version", "status")) == [
        (1, "active"),
        (2, "active"),
        (3, "withdrawn"),
    ]


def test_the_declaration_matrix_fits_a_phone(page, screenshot, keys, label, owner):
    release = factories.make_release(label, tracks=2, title="Pocket Songs")
    login(page, "olivia", "correct horse battery")
    page.set_window_size(390, 844)
    page.go(f"/label/{label.pk}/releases/{release.upc}/declare/")
    click(page, "button[data-shortcut=same_for_all]")
    overflow = page.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
    screenshot("label-flow-10-declare-phone")
    assert not overflow


def test_editing_a_declared_release_on_a_phone_signs_the_change(page, screenshot, keys, label, owner, submitter):
    release = factories.make_release(label, tracks=3, title="Pocket Album")
    factories.declare(release)
    bonus = factories.isrc()
    login(page, "olivia", "correct horse battery")
    page.set_window_size(390, 844)
    page.go(f"/label/{label.pk}/releases/{release.upc}/")
    click(page, f'a.button[href="/label/{label.pk}/releases/{release.upc}/edit/"]')
    wait_for(page, "/edit/")
    assert not page.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
    fill(page, "id_title", "Pocket Album (Deluxe)")
    click(page, "#tracks-2-row button[data-row-op=remove]")
    click(page, "button[name=add_track]")  # in the page: the typed title stays, the new row takes position 3
    fill(page, "id_tracks-2-isrc", bonus)
    fill(page, "id_tracks-2-title", "Hidden Track")
    fill(page, "id_tracks-2-duration", "2:05")
    assert page.find_element(By.ID, "id_title").get_attribute("value") == "Pocket Album (Deluxe)"
    assert page.find_element(By.ID, "id_tracks-2-position").get_attribute("value") == "3"
    screenshot("label-flow-11-edit-phone")
    click(page, "button[name=save]")

    wait_for(page, "/declare/")
    assert "Hidden Track" in page.find_element(By.TAG_NAME, "main").text
    assert not page.find_element(By.ID, "id_t2_vocals_0").is_selected()  # the new track starts unanswered
    click(page, 'label[for="id_t2_vocals_2"]')
    for part in ("composition", "lyrics", "instrumentation", "production"):
        click(page, f'label[for="id_t2_{part}_0"]')
    fill(page, "id_reason", "Deluxe edition: a hidden track, track 3 removed.")
    click(page, "form#declare-form .actions button[name=review]")

    wait_for(page, "/review/")
    changes = page.find_element(By.CSS_SELECTOR, "ul.changes").text
    assert "Track added: Hidden Track" in changes and "Track removed: Track 3" in changes
    screenshot("label-flow-12-review-catalog-change")
    click(page, "button[name=confirm]")
    wait_for(page, "/signed/2/")
    st = Declaration.objects.get(release=release, version=2).statement
    assert st["release"]["title"] == "Pocket Album (Deluxe)"
    assert [t["title"] for t in st["tracks"]] == ["Track 1", "Track 2", "Hidden Track"]

    page.go(f"/label/{label.pk}/members/")
    assert not page.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
    screenshot("label-flow-13-members-phone")
