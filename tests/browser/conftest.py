"""Shared browser fixtures: headless Chromium (Debian's chromium + chromedriver) against pytest-django's live server.

pytest-django's ``live_server`` serves static files itself when
``django.contrib.staticfiles`` is installed, so pages get their CSS and JS.
Tests that use ``live_server`` also need ``transactional_db``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (starting it costs about a second)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"browser tests need {CHROMIUM} and {CHROMEDRIVER} (apt install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="registry-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(2)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: Any, live_server: Any, transactional_db: Any) -> Iterator[Any]:
    """The browser with cookies cleared, plus ``page.go(path)`` relative to the live server."""
    browser.delete_all_cookies()
    browser.set_window_size(1280, 1000)
    browser.go = lambda path: browser.get(live_server.url + path)  # type: ignore[attr-defined]
    browser.base_url = live_server.url  # type: ignore[attr-defined]
    yield browser


@pytest.fixture
def screenshot(browser: Any) -> Callable[[str], Path]:
    """``screenshot("label-flow-01-login")`` saves a full-page PNG under tests/artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        height = browser.execute_script("return document.documentElement.scrollHeight")
        width = browser.get_window_size()["width"]
        browser.set_window_size(width, max(600, min(int(height) + 150, 8000)))
        browser.save_screenshot(str(path))
        return path

    return take


def until(driver: Any, condition: Callable[[Any], Any], timeout: float = 20) -> Any:
    """``condition(driver)`` once truthy, polled up to ``timeout`` s (the suite's two workers may keep the live
    server busy). WebDriver errors while polling are retried: a node read as its page is replaced goes stale,
    or Chromium answers "Node with given id does not belong to the document"."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=[WebDriverException]).until(condition)


def login(page: Any, username: str, password: str, base_url: str | None = None) -> None:
    """Sign in through the form, and return once signed in (the answer has left the login page).

    The click only starts the form's POST: a test that navigated straight on could abort it
    and carry on signed out (the dispute walk did, now and then, and the prefixes page test).
    ``base_url`` is the live server's, for a test that drives the bare session browser.
    """
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By

    page.get((base_url or page.base_url) + "/accounts/login/")
    page.find_element(By.ID, "id_username").send_keys(username)
    page.find_element(By.ID, "id_password").send_keys(password)
    page.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    try:
        until(
            page,
            lambda d: (
                "/accounts/login/" not in d.current_url and d.execute_script("return document.readyState") == "complete"
            ),
        )
    except TimeoutException:
        raise AssertionError(f"{username} was not signed in: {page.find_element(By.TAG_NAME, 'main').text}") from None
