"""A label in a real browser declares a single and a 25-track release with the JavaScript row controls.

Screenshots go to a temporary directory (printed with -s): forms-rows-NN-<step>.png.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from registry.declarations.models import Declaration
from tests import factories
from tests.browser.conftest import login, until
from tests.browser.test_label_flow import click, fill, wait_for

pytestmark = pytest.mark.browser

SHOTS = Path(tempfile.gettempdir()) / "forms-rows-screenshots"


@pytest.fixture
def shot(browser: Any) -> Any:
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, full: bool = True) -> Path:
        path = SHOTS / f"forms-rows-{name}.png"
        if full:
            height = browser.execute_script("return document.documentElement.scrollHeight")
            browser.set_window_size(1280, max(600, min(int(height) + 150, 8000)))
        browser.save_screenshot(str(path))
        browser.set_window_size(1280, 1000)
        print(f"screenshot: {path}")
        return path

    return take


def start_release(page: Any, label: Any, title: str) -> str:
    page.go(f"/label/{label.pk}/releases/new/")
    upc = factories.upc()
    fill(page, "id_upc", upc)
    fill(page, "id_title", title)
    fill(page, "id_genre", "Ambient")
    fill(page, "id_artists-0-name", "Mira Vale")
    return upc


def rows(page: Any) -> list[Any]:
    return page.find_elements(By.CSS_SELECTOR, "[data-formset=tracks] > .formset-row")


def column(page: Any, field: str) -> list[str]:
    return [r.find_element(By.CSS_SELECTOR, f"input[name$='-{field}']").get_attribute("value") for r in rows(page)]


def status(page: Any) -> str:
    page.implicitly_wait(0)
    try:
        until(page, lambda d: d.find_element(By.ID, "row-status").text.strip())
    finally:
        page.implicitly_wait(2)
    return page.find_element(By.ID, "row-status").text


def test_a_single_is_one_row_and_goes_from_the_form_to_review(page, shot, keys, label, owner):
    login(page, "olivia", "correct horse battery")
    wait_for(page, f"/label/{label.pk}/")
    upc = start_release(page, label, "Lone Star")
    assert len(rows(page)) == 1 and column(page, "position") == ["1"]
    # One row: no move or remove buttons to trip over.
    assert not any(b.is_displayed() for b in page.find_elements(By.CSS_SELECTOR, "#tracks-0-row button[data-row-op]"))
    fill(page, "id_tracks-0-isrc", factories.isrc())
    fill(page, "id_tracks-0-duration", "3:33")
    # The track title is left empty: it takes the release title, as the field itself shows.
    assert page.find_element(By.ID, "id_tracks-0-title").get_attribute("placeholder") == "Lone Star"
    shot("01-single-form")
    click(page, "button[name=save_no_ai]")

    wait_for(page, "/review/")
    main = page.find_element(By.TAG_NAME, "main").text
    assert "Lone Star" in main and "1 track" in main and "Mira Vale" in main and "Human artist" in main
    shot("02-single-review")
    click(page, "button[name=confirm]")
    wait_for(page, "/signed/1/")
    st = Declaration.objects.get(release__upc=upc).statement
    assert [(t["position"], t["title"]) for t in st["tracks"]] == [(1, "Lone Star")]
    shot("03-single-signed", full=False)


def test_a_25_track_release_with_rows_added_removed_and_moved_in_the_page(page, shot, keys, label, owner):
    login(page, "olivia", "correct horse battery")
    wait_for(page, f"/label/{label.pk}/")
    upc = start_release(page, label, "Long Player")
    page.execute_script("window.stillHere = true;")  # gone if a row button reloads the page

    click(page, "button[data-add-row=tracks]")
    assert page.switch_to.active_element.get_attribute("id") == "id_tracks-1-isrc"  # focus on the new row
    assert status(page) == "Track 2 added."
    for _ in range(24):
        click(page, "button[data-add-row=tracks]")
    assert len(rows(page)) == 26 and column(page, "position") == [str(i) for i in range(1, 27)]
    assert page.find_element(By.NAME, "tracks-TOTAL_FORMS").get_attribute("value") == "26"
    for i in range(26):
        fill(page, f"id_tracks-{i}-isrc", factories.isrc())
        fill(page, f"id_tracks-{i}-title", f"Song {i + 1}")
        fill(page, f"id_tracks-{i}-duration", "3:21")

    click(page, "#tracks-4-row button[data-row-op=remove]")
    assert "Track 5 “Song 5” removed. 25 tracks left." in status(page)
    assert page.switch_to.active_element.get_attribute("value") == "tracks-4-remove"  # the next row's Remove
    click(page, "#tracks-24-row button[data-row-op=up]")
    assert "Track 25 “Song 26” moved up to row 24." in status(page)
    assert page.switch_to.active_element.get_attribute("value") == "tracks-23-up"  # still on the moved row
    titles = column(page, "title")
    assert titles[3:5] == ["Song 4", "Song 6"] and titles[-2:] == ["Song 26", "Song 25"]
    assert column(page, "position") == [str(i) for i in range(1, 26)]
    assert page.find_element(By.NAME, "tracks-TOTAL_FORMS").get_attribute("value") == "25"
    assert page.execute_script("return window.stillHere === true;")
    page.execute_script("document.getElementById('tracks-22-row').scrollIntoView({block: 'start'});")
    shot("04-box-rows-moved", full=False)
    shot("05-box-form")
    click(page, "button[name=save]")

    wait_for(page, "/declare/")
    click(page, "button[data-shortcut=no_ai]")
    click(page, 'label[for="id_t0_vocals_2"]')
    click(page, "button[data-shortcut=same_for_all]")
    assert page.find_element(By.ID, "id_t24_vocals_2").is_selected()
    shot("06-box-declare-same-for-all", full=False)
    click(page, "form#declare-form .actions button[name=review]")

    wait_for(page, "/review/")
    assert "25 tracks" in page.find_element(By.TAG_NAME, "main").text
    shot("07-box-review")
    click(page, "button[name=confirm]")
    wait_for(page, "/signed/1/")
    st = Declaration.objects.get(release__upc=upc).statement
    assert [t["position"] for t in st["tracks"]] == list(range(1, 26))
    expected = [f"Song {n}" for n in (1, 2, 3, 4, *range(6, 25), 26, 25)]
    assert [t["title"] for t in st["tracks"]] == expected
    assert {t["parts"]["vocals"] for t in st["tracks"]} == {"all"}


def test_an_ai_persona_with_no_ai_vocals_is_confirmed_on_review(page, shot, keys, label, owner):
    login(page, "olivia", "correct horse battery")
    wait_for(page, f"/label/{label.pk}/")
    upc = start_release(page, label, "Glass Voice")
    page.find_element(By.CSS_SELECTOR, "#id_artists-0-persona option[value=synthetic]").click()
    fill(page, "id_tracks-0-isrc", factories.isrc())
    fill(page, "id_tracks-0-duration", "2:48")
    click(page, "button[name=save_no_ai]")
    wait_for(page, "/review/")
    warning = page.find_element(By.ID, "persona-warning").text
    assert "Mira Vale is an AI persona, but the vocals of the track are declared “No AI”" in warning
    click(page, "button[name=confirm]")  # not ticked: nothing is signed
    assert "Nothing was signed" in page.find_element(By.CSS_SELECTOR, ".error-summary").text
    shot("08-persona-warning", full=False)
    click(page, 'label[for="id_acknowledge"]')
    click(page, "button[name=confirm]")
    wait_for(page, "/signed/1/")
    assert Declaration.objects.filter(release__upc=upc).count() == 1
