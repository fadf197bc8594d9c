"""A label owner declares a catalog in a real browser: a spreadsheet with errors, then a good one, review, sign all.

The signing runs on the real worker (one ``db_worker`` pass, as ``make run``'s worker).
Screenshots go to tests/artifacts/screenshots/catalog-batch-NN-<step>.png.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import call_command
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from registry.catalog.models import Release
from tests.browser.conftest import login, until
from tests.browser.test_label_flow import click, wait_for

pytestmark = pytest.mark.browser

CATALOG = Path(__file__).resolve().parents[1] / "data" / "catalog"


def test_an_owner_uploads_a_catalog_spreadsheet_reviews_and_signs_it(page, screenshot, keys, label, owner, tmp_path):
    login(page, "olivia", "correct horse battery")
    wait_for(page, f"/label/{label.pk}/")
    click(page, f'a.button[href="/label/{label.pk}/batches/"]')
    wait_for(page, "/batches/")
    screenshot("catalog-batch-01-home")

    click(page, f'a.button[href="/label/{label.pk}/batches/spreadsheet/"]')
    wait_for(page, "/batches/spreadsheet/")
    page.find_element(By.ID, "id_file").send_keys(str(CATALOG / "with-errors.csv"))
    click(page, "main form button[type=submit]")
    until(page, lambda d: d.find_elements(By.ID, "report"))
    report = page.find_element(By.ID, "report").text
    assert "consent_reference" in report and "is not a level" in report
    screenshot("catalog-batch-02-report")
    # The report's download link, clicked as a label manager would: the file Chromium saves is the CSV.
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    page.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    click(page, "#report-download")
    until(page, lambda d: [p for p in downloads.iterdir() if p.suffix == ".csv"])
    saved = next(p for p in downloads.iterdir() if p.suffix == ".csv")
    assert saved.name == "problems-with-errorscsv.csv"
    rows = list(csv.reader(saved.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["row", "column", "message"] and len(rows) > 1
    assert any(r[1] == "consent_reference" for r in rows[1:]) and any("is not a level" in r[2] for r in rows[1:])

    page.find_element(By.ID, "id_file").send_keys(str(CATALOG / "three-releases.csv"))
    click(page, "main form.panel button[type=submit]")
    wait_for(page, "/batches/review/")
    main = page.find_element(By.TAG_NAME, "main").text
    assert "Review 3 releases" in main and "Left blank" in main
    screenshot("catalog-batch-03-review")

    click(page, "#sign-all")
    until(page, lambda d: d.find_elements(By.ID, "error-summary"))
    assert "Still to answer before signing" in page.find_element(By.ID, "error-summary").text
    screenshot("catalog-batch-04-unanswered")

    Select(page.find_element(By.ID, "p-5036012999037-QZCAT2600301-instrumentation")).select_by_value("partly")
    click(page, "#sign-all")
    wait_for(page, "/batches/")
    until(page, lambda d: "refresh" in d.find_element(By.TAG_NAME, "main").text.lower())
    screenshot("catalog-batch-05-queued")

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    until(page, lambda d: "3 succeeded" in d.find_element(By.TAG_NAME, "main").text)
    assert page.find_element(By.TAG_NAME, "main").text.count("Signed version 1") == 3
    assert "Signing 3 releases" in page.find_element(By.TAG_NAME, "h1").text
    screenshot("catalog-batch-06-signed")
    assert Release.objects.filter(label=label, current_declaration__version=1).count() == 3
