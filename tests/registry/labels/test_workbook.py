"""The catalog spreadsheet as an Excel workbook: the same report and drafts as the CSV, hostile workbooks refused.

Every workbook here is made in the test by openpyxl (or by zipping parts by hand for the hostile ones).
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import pytest
from openpyxl import Workbook, load_workbook

from registry.catalog.models import Release
from registry.labels import spreadsheet
from registry.labels.models import Draft
from tests.registry.labels.test_batches import CSV_BAD, CSV_OK, THREE_UPCS, batch_drafts, upload_csv, url


def workbook_of(rows: list[list[Any]], *, extra_sheet: bool = False) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # typed as text, as the template's cells are (openpyxl reads "=…" as a formula)
    if extra_sheet:
        book.create_sheet("notes").append(["only the first sheet is read"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def upload_xlsx(client: Any, label: Any, data: bytes, name: str = "catalog.xlsx") -> Any:
    return upload_csv(client, label, data, name)


def test_the_excel_template_downloads_with_every_column_as_text(owner_client, label):
    response = owner_client.get(url(label, "template.xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == spreadsheet.NAMES
    assert rows[1][spreadsheet.NAMES.index("duration")] == "3:21"  # text, as typed: not a time of day


def test_the_excel_template_read_back_gives_the_csv_templates_rows(owner_client, label):
    data = owner_client.get(url(label, "template.xlsx")).content
    assert spreadsheet.read_rows(data) == spreadsheet.read_rows(spreadsheet.template_csv().encode())


def test_a_valid_workbook_creates_the_same_drafts_as_the_same_csv(owner_client, label, keys):
    response = upload_xlsx(owner_client, label, workbook_of(rows_of(CSV_OK), extra_sheet=True))
    assert response.status_code == 302, response.content.decode()[:2000]
    from_xlsx = batch_drafts(label)
    assert sorted(from_xlsx) == THREE_UPCS
    Draft.objects.filter(label=label).delete()
    upload_csv(owner_client, label, CSV_OK)
    assert batch_drafts(label) == from_xlsx
    assert not Release.objects.filter(label=label).exists()


def test_numbers_and_dates_typed_as_such_in_excel_read_as_the_template_asks(label):
    rows = rows_of(CSV_OK)
    header, first = rows[0], list(rows[1])
    first[header.index("upc")] = int(first[header.index("upc")])  # a number, as Excel stores a typed UPC
    first[header.index("position")] = 1
    first[header.index("release_date")] = datetime(2026, 3, 6)
    data = workbook_of([header, first, *rows[2:]])
    read = dict(spreadsheet.read_rows(data))[2]
    assert read["upc"] == rows[1][header.index("upc")]
    assert read["position"] == "1" and read["release_date"] == "2026-03-06"


def test_a_workbook_with_errors_gets_the_same_report_as_the_csv(owner_client, label):
    from_csv = upload_csv(owner_client, label, CSV_BAD).context["problems"]
    response = upload_xlsx(owner_client, label, workbook_of(rows_of(CSV_BAD)))
    assert response.status_code == 200
    assert response.context["problems"] == from_csv
    assert not Draft.objects.filter(label=label).exists()


def test_the_report_downloads_as_csv_with_row_column_and_message(owner_client, label):
    response = upload_csv(owner_client, label, CSV_BAD)
    href = response.context["report_href"]
    assert href.startswith("data:text/csv;charset=utf-8,")
    assert 'id="report-download"' in response.content.decode()
    report = list(csv.reader(io.StringIO(unquote(href.split(",", 1)[1]))))
    assert report[0] == ["row", "column", "message"]
    listed = [[str(p["row"]), p["column"], p["message"]] for p in response.context["problems"]]
    assert report[1:] == listed


def test_a_report_quoting_a_formula_writes_it_as_text():
    exc = spreadsheet.SpreadsheetInvalid([spreadsheet.Problem(2, "genre", '=HYPERLINK("x") is not a genre')])
    assert spreadsheet.report_csv(exc).splitlines()[1] == '2,genre,"\'=HYPERLINK(""x"") is not a genre"'


def _zip(parts: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


def _with(data: bytes, replace: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> bytes:
    """A copy of a workbook with some parts replaced (None: removed) or added."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts: dict[str, bytes | str] = {n: z.read(n) for n in z.namelist()}
    for name, new in replace.items():
        if new is None:
            parts.pop(name, None)
        else:
            parts[name] = new
    return _zip({**parts, **(add or {})})


GOOD = workbook_of(rows_of(CSV_OK))
with zipfile.ZipFile(io.BytesIO(GOOD)) as _z:
    TYPES = _z.read("[Content_Types].xml")
MACRO = TYPES.replace(b"sheet.main+xml", b"sheet.macroEnabled.main+xml").replace(
    b"spreadsheetml.sheet.macroEnabled", b"ms-excel.sheet.macroEnabled"
)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (_with(GOOD, {"[Content_Types].xml": MACRO}), "holds macros"),
        (_with(GOOD, {}, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 macros"}), "holds macros"),
        (_zip({"hello.txt": b"not a workbook"}), "a zip, not an Excel workbook"),
        (_with(GOOD, {"[Content_Types].xml": TYPES.replace(b"sheet.main+xml", b"template.main+xml")}), "of worksheets"),
        (_with(GOOD, {"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row><c>"}), "cannot be read"),
        (
            _with(
                GOOD,
                {  # entities that expand (a "billion laughs"): defusedxml refuses any entity declaration
                    "xl/worksheets/sheet1.xml": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
                    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><worksheet xmlns="http://schemas.openxmlformats.org/'
                    b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&b;</t></is></c>'
                    b"</row></sheetData></worksheet>"
                },
            ),
            "cannot be read",
        ),
        (_zip({"[Content_Types].xml": b"x", "big.xml": b"\x00" * (60 * 2**20)}), "inflates"),
        (GOOD[: len(GOOD) // 2], "not a readable Excel workbook"),
    ],
)
def test_hostile_workbooks_are_refused_with_a_clear_message_and_nothing_kept(owner_client, label, data, says):
    response = upload_xlsx(owner_client, label, data, "hostile.xlsx")
    assert response.status_code == 200
    problems = response.context["problems"]
    assert len(problems) == 1 and says in problems[0]["message"], problems
    assert not Draft.objects.filter(label=label).exists()


def test_a_formula_is_read_as_its_value_never_as_the_formula(label):
    rows = rows_of(CSV_OK)
    rows[1][rows[0].index("track_title")] = "=1+1"  # a formula (no cached value: openpyxl computes nothing)
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    assert dict(spreadsheet.read_rows(out.getvalue()))[2]["track_title"] == ""


def test_a_workbook_over_the_row_cap_is_refused(label, monkeypatch):
    monkeypatch.setattr(spreadsheet, "MAX_ROWS", 3)
    rows = rows_of(CSV_OK)
    with pytest.raises(spreadsheet.SpreadsheetInvalid) as caught:
        spreadsheet.read_rows(workbook_of(rows + rows[1:]))
    assert "At most 3 rows are read at once" in caught.value.problems[0].message
