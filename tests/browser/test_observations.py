"""A platform's observation on the public pages, in headless Chromium: shown apart, its disagreement said plainly.

Screenshots: tests/artifacts/screenshots/public-observation-*.png (git-ignored).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_public_pages import DESKTOP, PHONE, no_horizontal_overflow, shoot, visit

pytestmark = pytest.mark.browser


@pytest.fixture
def observed(live_server: Any, keys: Any) -> dict[str, Any]:
    from registry.declarations.demo import load_demo
    from registry.observations.models import Observation

    load_demo()
    obs = Observation.objects.select_related("release").get()
    return {"url": live_server.url, "isrc": obs.isrc, "upc": obs.release.upc}


def test_the_demo_observation_is_shown_apart_from_the_declaration_and_says_it_disagrees(browser, observed):
    page = visit(browser, f"{observed['url']}/recordings/{observed['isrc']}/")
    assert "Observed by platforms" in page
    assert "Observed by platform Demo Streaming" in page and "Demo Streaming voice detector v2" in page
    assert "The platform's observation disagrees with the label's declaration." in page
    assert "Vocals: the label declared “No AI”, Demo Streaming observed “Entirely AI”" in page
    # The declaration's own badge is the label's: no AI, whatever the platform observed.
    badge = browser.find_element("css selector", ".badge").text
    assert "No AI" in badge, badge
    section = browser.find_element("css selector", "section.observations")
    browser.execute_script("arguments[0].scrollIntoView()", section)
    shoot(browser, "observation-recording", DESKTOP)
    visit(browser, f"{observed['url']}/recordings/{observed['isrc']}/", PHONE)
    assert no_horizontal_overflow(browser)
    shoot(browser, "observation-recording-phone", PHONE)
    page = visit(browser, f"{observed['url']}/releases/{observed['upc']}/")
    assert "Observed by platform Demo Streaming" in page and observed["isrc"] in page
    shoot(browser, "observation-release", DESKTOP)
