"""The public pages in headless Chromium: what a visitor sees, on a desktop and on a phone.

Screenshots go to tests/artifacts/screenshots/public-<page>.png (git-ignored)
so a person can look at them. Fixtures are local to this file so it runs
whether or not tests/browser/conftest.py provides shared ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import login, until

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
DESKTOP = (1280, 1000)
PHONE = (390, 844)


@pytest.fixture
def site(live_server: Any, keys: Any) -> dict[str, Any]:
    from registry.catalog.models import Artist, Label, Release
    from registry.declarations.demo import load_demo

    load_demo()
    releases = {r.title: r for r in Release.objects.all()}
    return {
        "url": live_server.url,
        "releases": releases,
        "artist": Artist.objects.get(name="The Cobalt Choir"),
        "label": Label.objects.get(name="Neon Harbor Music"),
        "isrc": releases["Second Voice"].tracks.select_related("recording").first().recording.isrc,
    }


def shoot(driver: Any, name: str, size: tuple[int, int]) -> Path:
    """A full-page screenshot at ``size``'s width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(*size)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(size[0], min(max(height + 120, size[1]), 9000))
    path = SCREENSHOTS / f"public-{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(*size)
    return path


def visible_text(driver: Any) -> str:
    return " ".join(driver.find_element("tag name", "body").text.split())


def no_horizontal_overflow(driver: Any) -> bool:
    return driver.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"
    )


def wait_for_text(driver: Any, text: str) -> str:
    """The page's visible text once it shows ``text`` (after a form submit), or an AssertionError with it."""
    from selenium.common.exceptions import TimeoutException

    try:
        until(driver, lambda d: text in visible_text(d))
    except TimeoutException:
        raise AssertionError(f"{text!r} not on the page: {visible_text(driver)[:500]}") from None
    return visible_text(driver)


def visit(driver: Any, url: str, size: tuple[int, int] = DESKTOP) -> str:
    driver.set_window_size(*size)
    driver.get(url)
    return visible_text(driver)


def test_home_and_search(browser, site):
    page = visit(browser, site["url"] + "/")
    assert "Who made this music" in page
    assert "It is not" in page and "AI detection" in page
    assert "Recent declarations" in page
    shoot(browser, "home", DESKTOP)
    box = browser.find_element("id", "q")
    box.send_keys("cobalt")
    box.submit()
    page = wait_for_text(browser, "Results for “cobalt”")  # the submit only starts the request
    assert "The Cobalt Choir" in page
    shoot(browser, "search", DESKTOP)
    visit(browser, site["url"] + "/", PHONE)
    assert no_horizontal_overflow(browser)
    shoot(browser, "home-phone", PHONE)


def test_release_with_mixed_ai(browser, site):
    release = site["releases"]["Glass Meridian"]
    page = visit(browser, f"{site['url']}/releases/{release.upc}/")
    assert "Glass Meridian" in page and "Partly AI" in page and "No AI" in page
    assert "Signature and log proof valid The signature and the log proof check out" in page
    assert "Version 2" in page and "The mastering engineer confirmed" in page
    assert "Fictional demo content" in page
    # The badge image loads (CSP allows it: same origin).
    img = browser.find_element("css selector", "img.badge-img")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img)
    # The level badges show their symbol through CSS, so colour is not the only signal.
    symbol = browser.execute_script(
        "return getComputedStyle(document.querySelector('.badge.level-partly'), '::before').content"
    )
    assert "◐" in symbol
    shoot(browser, "release-mixed", DESKTOP)
    visit(browser, f"{site['url']}/releases/{release.upc}/", PHONE)
    assert no_horizontal_overflow(browser)
    shoot(browser, "release-mixed-phone", PHONE)


def test_release_by_an_ai_persona(browser, site):
    release = site["releases"]["Velvet Static"]
    page = visit(browser, f"{site['url']}/releases/{release.upc}/")
    assert "AI persona" in page and "not a human performer" in page
    shoot(browser, "release-synthetic", DESKTOP)


def test_withdrawn_release(browser, site):
    release = site["releases"]["Synthetic Summer"]
    page = visit(browser, f"{site['url']}/releases/{release.upc}/")
    assert "The label withdrew this declaration" in page
    assert "Release taken down from all stores" in page
    shoot(browser, "release-withdrawn", DESKTOP)
    visit(browser, f"{site['url']}/releases/{release.upc}/", PHONE)
    assert no_horizontal_overflow(browser)
    shoot(browser, "release-withdrawn-phone", PHONE)


def test_recording(browser, site):
    page = visit(browser, f"{site['url']}/recordings/{site['isrc']}/")
    assert "Echo of You" in page and "Imitates a real person's voice." in page
    shoot(browser, "recording", DESKTOP)
    visit(browser, f"{site['url']}/recordings/{site['isrc']}/", PHONE)
    assert no_horizontal_overflow(browser)
    shoot(browser, "recording-phone", PHONE)


def test_artist_and_label(browser, site):
    page = visit(browser, f"{site['url']}/artists/{site['artist'].pk}/")
    assert "The Cobalt Choir" in page and "AI persona" in page and "Velvet Static" in page
    shoot(browser, "artist", DESKTOP)
    visit(browser, f"{site['url']}/artists/{site['artist'].pk}/", PHONE)
    assert no_horizontal_overflow(browser)
    shoot(browser, "artist-phone", PHONE)
    page = visit(browser, f"{site['url']}/labels/{site['label'].pk}/")
    assert "Neon Harbor Music" in page and "Identity checked" in page
    shoot(browser, "label", DESKTOP)


def test_transparency(browser, site):
    page = visit(browser, f"{site['url']}/transparency/")
    assert "Current checkpoint" in page and "Signing keys" in page
    assert "python -m provenance verify" in page
    shoot(browser, "transparency", DESKTOP)
    visit(browser, f"{site['url']}/transparency/", PHONE)
    assert no_horizontal_overflow(browser)
    shoot(browser, "transparency-phone", PHONE)


def test_not_declared(browser, site):
    page = visit(browser, f"{site['url']}/recordings/US-SKG-19-12345/")
    # The hyphenated form redirects to the canonical one, then answers "not declared".
    assert browser.current_url.endswith("/recordings/USSKG1912345/")
    assert "No declaration" in page and "not a claim about the music" in page
    shoot(browser, "not-declared", DESKTOP)
    visit(browser, f"{site['url']}/releases/123/", PHONE)
    assert "That is not a valid UPC/EAN" in visible_text(browser)
    shoot(browser, "bad-identifier-phone", PHONE)


def test_release_outside_the_labels_verified_prefixes(browser, site):
    release = site["releases"]["Field Recordings"]
    page = visit(browser, f"{site['url']}/releases/{release.upc}/")
    assert "Identifiers not verified as Aurora Fjord Records's" in page
    assert "The registry has not verified that this label owns this ISRC" in page
    assert "Verify it yourself" in page and "pip install" in page
    shoot(browser, "release-unverified-isrcs", DESKTOP)
    visit(browser, f"{site['url']}/releases/{release.upc}/", PHONE)
    assert no_horizontal_overflow(browser)
    shoot(browser, "release-unverified-isrcs-phone", PHONE)


def test_label_prefixes_page(browser, site):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="demo")
    label = site["releases"]["Quiet Hours"].label
    browser.set_window_size(*DESKTOP)
    login(browser, user.username, "demo-registry-2026", base_url=site["url"])
    page = visit(browser, f"{site['url']}/label/{label.pk}/prefixes/")
    assert "QZ-AFR" in page and "0990000" in page and "Verified" in page
    shoot(browser, "label-prefixes", DESKTOP)
