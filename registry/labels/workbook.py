"""The catalog spreadsheet as an Excel workbook (.xlsx): read with openpyxl in read-only mode, the template written by it.

``table(data)`` turns a workbook's first sheet into rows of text, which
``spreadsheet.read_rows`` checks exactly as it checks a CSV's (same columns, same
report by row and column). Before openpyxl sees a byte, the file is checked as the
zip it is, from its central directory: a real workbook (its main part is a
worksheet workbook, not a macro-enabled ``.xlsm``, a template or an add-in), no
``vbaProject.bin`` (macros), no encrypted or oversized entries, at most
``MAX_ENTRIES`` entries inflating to at most ``MAX_INFLATED`` bytes and ``MAX_RATIO``
times each (Python's zipfile never inflates an entry past the size its header
states). openpyxl parses XML through defusedxml (installed), so entity tricks are
refused too. Values are read (``data_only``: a formula's cached value, never the
formula) and written back as text: whole numbers without ``.0``, dates as
YYYY-MM-DD. At most ``spreadsheet.MAX_ROWS`` rows, ``MAX_COLUMNS`` columns and
``MAX_CELL`` characters a cell.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from typing import Any

XLSX_MAGIC = b"PK\x03\x04"
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_MACRO_TYPES = ("macroEnabled", "vbaProject", "ms-office.activeX", "vbaProjectSignature")
MAX_ENTRIES = 1000
MAX_INFLATED = 50 * 2**20
MAX_RATIO = 200  # sheet XML is repetitive; a bomb is thousands of times
MAX_COLUMNS = 100
MAX_CELL = 10_000


class NotAWorkbook(ValueError):
    """The file is refused, with a message for the label (which names the rule)."""


def is_workbook(data: bytes) -> bool:
    return data[:4] == XLSX_MAGIC


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise NotAWorkbook(
            "The file is not a readable Excel workbook (.xlsx): save it again as .xlsx or CSV."
        ) from None
    if len(infos) > MAX_ENTRIES:
        raise NotAWorkbook(f"The workbook has {len(infos)} parts; at most {MAX_ENTRIES} are read.")
    total = 0
    names = set()
    for info in infos:
        names.add(info.filename)
        if info.flag_bits & 0x1:
            raise NotAWorkbook("The workbook is encrypted (password-protected): save it without a password.")
        if info.filename.lower().endswith("vbaproject.bin"):
            raise NotAWorkbook("The workbook holds macros: save it as a plain .xlsx workbook (not .xlsm) or as CSV.")
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 2**20:
            raise NotAWorkbook(f"The workbook is refused: “{info.filename[:100]}” inflates over {MAX_RATIO} times.")
        total += info.file_size
        if total > MAX_INFLATED:
            raise NotAWorkbook(f"The workbook inflates to over {MAX_INFLATED // 2**20} MB; split it.")
    if "[Content_Types].xml" not in names:
        raise NotAWorkbook("The file is a zip, not an Excel workbook (.xlsx).")
    try:
        with archive.open("[Content_Types].xml") as entry:
            types = entry.read(2**20).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        raise NotAWorkbook("The file is not a readable Excel workbook (.xlsx).") from None
    if any(t in types for t in _MACRO_TYPES):
        raise NotAWorkbook("The workbook holds macros: save it as a plain .xlsx workbook (not .xlsm) or as CSV.")
    if _MAIN not in types:
        raise NotAWorkbook("The file is not an Excel workbook (.xlsx) of worksheets: save it as .xlsx or CSV.")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):  # a duration typed as 3:21 may come back as 03:21:00: left for the reader to refuse
        return value.strftime("%H:%M:%S")
    return str(value).strip()


def table(data: bytes, *, max_rows: int) -> Iterator[list[str]]:
    """The first worksheet's rows as text, header first; NotAWorkbook for anything that is not a plain .xlsx."""
    from openpyxl import load_workbook

    _check_zip(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds on a broken part; each means the same to the label
        raise NotAWorkbook(
            f"The workbook cannot be read ({type(exc).__name__}): save it again as .xlsx or CSV."
        ) from None
    try:
        if not book.worksheets:
            raise NotAWorkbook("The workbook has no worksheet.")
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            if number > max_rows + 1:
                raise NotAWorkbook(f"At most {max_rows} rows are read at once; split it.")
            cells = [_text(v) for v in row]
            while cells and not cells[-1]:  # formatted but empty columns at the right
                cells.pop()
            if any(len(c) > MAX_CELL for c in cells):
                raise NotAWorkbook(f"Row {number} has a cell over {MAX_CELL:,} characters.")
            yield cells
    except NotAWorkbook:
        raise
    except Exception as exc:
        raise NotAWorkbook(
            f"The workbook cannot be read ({type(exc).__name__}): save it again as .xlsx or CSV."
        ) from None
    finally:
        book.close()


def template(names: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    """The template as a workbook: the header and the example rows, every cell text (so Excel keeps 3:21 and 0-led codes)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "catalog"
    for r, values in enumerate([dict(zip(names, names, strict=True)), *rows], start=1):
        for c, name in enumerate(names, start=1):
            cell = sheet.cell(row=r, column=c)
            cell.value = str(values.get(name, ""))
            cell.data_type = "s"  # text, never a formula, whatever it starts with
            cell.number_format = "@"
    for c in range(1, len(names) + 1):  # the empty rows below take text too
        sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
