"""Exports of the ranking view: XLSX and CSV (UTF-8 with BOM, so Excel reads Chinese).

Text cells that a spreadsheet would run as a formula (they start with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) get a leading
apostrophe, the usual defence against formula injection. Numbers are
written as numbers, so negative values stay numeric.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

Cell = str | int | float | None
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: Cell) -> Cell:
    """Return ``value`` with a leading apostrophe when it is text that starts like a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> bytes:
    """Return the table as CSV bytes in UTF-8 with a byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([escape_formula(name) for name in header])
    for row in rows:
        writer.writerow(["" if value is None else escape_formula(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(
    title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]], note: str | None = None
) -> bytes:
    """Return the table as an XLSX workbook with one sheet named ``title``.

    ``note``, when given, is written in the row after the table (for example,
    that the view was cut at the export limit).
    """
    # Write-only mode streams rows, so 100,000 rows need little memory.
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=escape_formula(name))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([escape_formula(value) for value in row])
    if note:
        sheet.append([])
        sheet.append([escape_formula(note)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
