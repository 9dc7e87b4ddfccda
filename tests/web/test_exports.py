"""Ranking exports: formula-injection escaping, CSV with BOM, XLSX that reads back."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from api.web.exports import escape_formula, to_csv, to_xlsx


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+86 571", "'+86 571"),
        ("-1+1", "'-1+1"),
        ("@cmd", "'@cmd"),
        ("\tTAB", "'\tTAB"),
        ("杭州某公司", "杭州某公司"),
        (-3, -3),
        (0.25, 0.25),
        (None, None),
    ],
)
def test_escape_formula_cases(value: object, expected: object) -> None:
    """Text that starts like a formula gets an apostrophe; numbers and other text are unchanged."""
    assert escape_formula(value) == expected  # type: ignore[arg-type]


def test_to_csv_bom_and_escaping() -> None:
    """CSV starts with a UTF-8 BOM, keeps Chinese text and escapes formula-like cells."""
    body = to_csv(["单位名称", "排名变化"], [['=HYPERLINK("x")', -2], ["杭州某公司", None]])

    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["单位名称", "排名变化"], ['\'=HYPERLINK("x")', "-2"], ["杭州某公司", ""]]


def test_to_xlsx_reads_back() -> None:
    """The workbook opens with openpyxl; numbers stay numbers and formula-like text stays text."""
    body = to_xlsx("风险排名", ["排名", "单位名称"], [[1, "=1+1"], [2, "杭州某公司"]], note="注意")

    sheet = load_workbook(io.BytesIO(body)).worksheets[0]
    assert sheet.title == "风险排名"
    assert [cell.value for cell in sheet[1]] == ["排名", "单位名称"]
    assert sheet["A2"].value == 1
    assert sheet["B2"].value == "'=1+1"
    assert sheet["B2"].data_type == "s"
    assert sheet["A5"].value == "注意"
