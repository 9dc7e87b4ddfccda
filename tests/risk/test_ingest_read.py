"""Reading exports: encodings, formats, headers, date and number forms."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from ingest_factories import (
    CODES,
    EMPLOYER_HEADERS,
    INCIDENT_HEADERS,
    employer_rows,
    incident_rows,
    write_csv,
    write_xlsx,
)

from risk.ingest import HEADER_MAP, read_export
from risk.ingest.readers import ReadError, detect_encoding, read_table

# 𠀀 (U+20000) and 䶮 (U+4DAE) exist in GB18030 but not in GBK.
RARE_NAME = "杭州𠀀䶮科技有限公司"


def _employers_with_name(name: str) -> list[list[object]]:
    rows = employer_rows()
    rows[0][1] = name
    return rows


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("utf-16", "utf-16")],
)
def test_read_export_encodings(tmp_path: Path, encoding: str, expected: str) -> None:
    """UTF-8, UTF-8 with BOM, GB18030 and UTF-16 files read to the same names."""
    path = write_csv(
        tmp_path / "employers.csv", EMPLOYER_HEADERS, _employers_with_name(RARE_NAME), encoding
    )

    kind, frame, errors = read_export(path)

    assert detect_encoding(path) == expected
    assert (kind, errors) == ("employers", [])
    assert frame.loc[0, "name"] == RARE_NAME


def test_detect_encoding_ignores_file_extension(tmp_path: Path) -> None:
    """A .csv in GB18030 and a .txt in UTF-8 are detected from their bytes."""
    gb = write_csv(
        tmp_path / "gb.csv", EMPLOYER_HEADERS, _employers_with_name(RARE_NAME), "gb18030"
    )
    utf8 = write_csv(
        tmp_path / "utf8.txt", EMPLOYER_HEADERS, _employers_with_name(RARE_NAME), "utf-8"
    )

    assert detect_encoding(gb) == "gb18030"
    assert detect_encoding(utf8) == "utf-8"
    assert read_export(utf8)[1].loc[0, "name"] == RARE_NAME


def test_detect_encoding_rejects_unknown_bytes(tmp_path: Path) -> None:
    """Bytes that are neither UTF-8 nor GB18030 give a file error, not wrong characters."""
    path = tmp_path / "latin.csv"
    path.write_bytes(b"\x81\x30" + b"\xff" * 40)

    with pytest.raises(ReadError, match="neither UTF-8 nor GB18030"):
        detect_encoding(path)


@pytest.mark.parametrize(
    "text",
    [
        "2023-03-05",
        "2023/3/5",
        "2023.3.5",
        "2023年3月5日",
        "20230305",
        "44990",
        "44990.0",
        "２０２３－０３－０５",
        "2023-03-05 08:30:00",
        " 2023 年 3 月 5 日 ",
    ],
)
def test_read_export_date_forms(tmp_path: Path, text: str) -> None:
    """Every accepted date form, Excel serials and full-width digits included, is 2023-03-05."""
    rows = incident_rows()[:1]
    rows[0][5] = text
    path = write_csv(tmp_path / "incidents.csv", INCIDENT_HEADERS, rows)

    _, frame, errors = read_export(path)

    assert errors == []
    assert frame.loc[0, "occurred_on"] == pd.Timestamp("2023-03-05")


def test_read_export_xlsx_dates_and_numbers(tmp_path: Path) -> None:
    """XLSX date cells, serial numbers and numeric cells read like their CSV text."""
    rows = incident_rows()[:3]
    rows[0][5] = dt.datetime(2023, 3, 5)
    rows[1][5] = 44990
    rows[2][5] = "2023年3月5日"
    rows[0][8] = 30
    rows[1][8] = 150.0
    path = write_xlsx(tmp_path / "incidents.xlsx", INCIDENT_HEADERS, rows)

    kind, frame, errors = read_export(path)

    assert (kind, errors) == ("incidents", [])
    assert frame["occurred_on"].tolist() == [pd.Timestamp("2023-03-05")] * 3
    assert frame["lost_workdays"].tolist()[:2] == [30, 150]


def test_read_export_full_width_digits(tmp_path: Path) -> None:
    """Full-width digits in numbers and codes are read as ASCII digits."""
    rows = incident_rows()[:1]
    rows[0][8] = "３０"
    rows[0][6] = "０３"
    path = write_csv(tmp_path / "incidents.csv", INCIDENT_HEADERS, rows)

    _, frame, errors = read_export(path)

    assert errors == []
    assert frame.loc[0, "lost_workdays"] == 30
    assert frame.loc[0, "accident_type"] == "03"


def test_read_export_value_forms(tmp_path: Path) -> None:
    """Accident types, severities, grades and flags are read in their usual forms."""
    rows = [incident_rows()[0][:] for _ in range(6)]
    forms = [
        ("机械伤害", "轻伤", "", "否"),
        ("3", "minor", "1", "N"),
        ("03", "重伤", "十级", "Y"),
        ("其他伤害", "serious", "7级", "true"),
        ("Fall from height", "死亡", "十", "0"),
        ("其它伤害", "fatal", "无", "1"),
    ]
    for number, (row, (accident, severity, grade, commuting)) in enumerate(
        zip(rows, forms, strict=True)
    ):
        row[0] = f"GS-{number}"
        row[6], row[7], row[9], row[10] = accident, severity, grade, commuting
    path = write_csv(tmp_path / "incidents.csv", INCIDENT_HEADERS, rows)

    _, frame, errors = read_export(path)

    assert errors == []
    assert frame["accident_type"].tolist() == ["03", "03", "03", "20", "09", "20"]
    assert frame["severity"].tolist() == ["minor", "minor", "serious", "serious", "fatal", "fatal"]
    assert frame["disability_grade"].tolist() == [pd.NA, 1, 10, 7, 10, pd.NA]
    assert frame["is_commuting"].tolist() == [False, False, True, True, False, True]


def test_read_export_codes_keep_leading_zeros(tmp_path: Path) -> None:
    """Codes are read as text, so accident type 03 keeps its leading zero."""
    rows = incident_rows()[:1]
    rows[0][6] = "03"
    path = write_csv(tmp_path / "incidents.csv", INCIDENT_HEADERS, rows)

    _, frame, _ = read_export(path)

    assert frame.loc[0, "accident_type"] == "03"
    assert frame["employer_id"].dtype == "str"


def test_read_export_district_names_and_codes(tmp_path: Path) -> None:
    """Districts are accepted by code, name, short name and with the city in front."""
    rows = employer_rows()
    rows[0][3], rows[1][3], rows[2][3] = "萧山区", "西湖", "杭州市余杭区"
    path = write_csv(tmp_path / "employers.csv", EMPLOYER_HEADERS, rows)

    _, frame, errors = read_export(path)

    assert errors == []
    assert frame["district_code"].tolist() == ["330109", "330106", "330110"]


def test_read_export_english_headers(tmp_path: Path) -> None:
    """English headers in any order and case are recognised."""
    headers = ["Name", "EMPLOYER_ID", "district_code", "industry code"]
    rows = [[row[1], row[0], row[3], row[2]] for row in employer_rows()]
    path = write_csv(tmp_path / "companies.csv", headers, rows)

    kind, frame, errors = read_export(path)

    assert (kind, errors) == ("employers", [])
    assert frame["employer_id"].tolist() == CODES


def test_read_export_header_synonyms(tmp_path: Path) -> None:
    """Synonyms such as 单位统一社会信用代码, 认定书编号 and 受伤害程度 are recognised."""
    headers = [
        "认定书编号",
        "单位统一社会信用代码",
        "事故日期",
        "事故类别",
        "受伤害程度",
        "停工留薪期（天）",
    ]
    rows = [[row[0], row[1], row[5], row[6], row[7], row[8]] for row in incident_rows()]
    path = write_csv(tmp_path / "injuries.csv", headers, rows)

    kind, frame, errors = read_export(path)

    assert (kind, errors) == ("incidents", [])
    assert frame["is_commuting"].tolist() == [False] * 4


def test_read_export_unrecognised_headers(tmp_path: Path) -> None:
    """A file matching no table names the closest table and its missing headers."""
    path = write_csv(tmp_path / "odd.csv", ["统一社会信用代码", "单位名称"], [[CODES[0], "x"]])

    kind, frame, [error] = read_export(path)

    assert kind is None
    assert frame.empty
    assert "行业代码" in error.reason_zh
    assert "industry_code" in error.reason_en


def test_read_export_blank_rows_keep_row_numbers(tmp_path: Path) -> None:
    """Blank lines are skipped, and later rows keep the number a spreadsheet shows."""
    rows = employer_rows()
    rows[2][2] = "X9999"
    path = write_csv(
        tmp_path / "employers.csv", EMPLOYER_HEADERS, [rows[0], ["", "", "", ""], rows[1], rows[2]]
    )
    text = path.read_text(encoding="utf-8").replace(",,,\r\n", "\r\n")
    path.write_text(text, encoding="utf-8")

    _, frame, [error] = read_export(path)

    assert len(frame) == 2
    assert (error.row, error.column, error.value) == (5, "行业代码", "X9999")


def test_read_table_xlsx_cells_as_text(tmp_path: Path) -> None:
    """XLSX numbers, dates and blanks become the text an export would have written."""
    path = write_xlsx(
        tmp_path / "cells.xlsx",
        ["a", "b", "c", "d"],
        [[330106, 12.5, dt.datetime(2023, 3, 5), None], ["0012", dt.date(2023, 1, 2), True, "x"]],
    )

    table = read_table(path)

    assert table.headers == ["a", "b", "c", "d"]
    assert table.frame.index.tolist() == [2, 3]
    assert table.frame.to_numpy().tolist() == [
        ["330106", "12.5", "2023-03-05", ""],
        ["0012", "2023-01-02", "true", "x"],
    ]


def test_read_export_course_and_trainer_catalogues(tmp_path: Path) -> None:
    """Course and trainer catalogue files are recognised, with their lists as codes."""
    courses = write_csv(
        tmp_path / "courses.csv",
        [
            "课程编号",
            "课程名称",
            "英文名称",
            "事故类别",
            "适用行业",
            "学时",
            "培训形式",
            "班额",
            "师资资质",
        ],
        [
            [
                "C-MACH-01",
                "机械伤害预防",
                "Machinery safety",
                "机械伤害、起重伤害",
                "C|33",
                "4",
                "现场",
                "30",
                "注册安全工程师",
            ]
        ],
    )
    trainers = write_csv(
        tmp_path / "trainers.csv",
        ["培训机构编号", "机构名称", "资质", "服务区县", "每周场次"],
        [["T-01", "杭州安培培训中心", "注册安全工程师", "萧山区、330106", "5"]],
    )

    course_kind, course, course_errors = read_export(courses)
    trainer_kind, trainer, trainer_errors = read_export(trainers)

    assert (course_kind, course_errors) == ("courses", [])
    assert course.loc[0, ["accident_types", "industries", "mode"]].tolist() == [
        "03|04",
        "C|33",
        "on_site",
    ]
    assert (trainer_kind, trainer_errors) == ("trainers", [])
    assert trainer.loc[0, "district_codes"] == "330109|330106"


def test_header_map_is_documented() -> None:
    """Every accepted header appears in docs/ingest.md, so the doc and the code agree."""
    doc = (Path(__file__).parents[2] / "docs" / "ingest.md").read_text(encoding="utf-8")

    missing = [
        header
        for specs in HEADER_MAP.values()
        for spec in specs
        for header in spec.headers
        if f"`{header}`" not in doc
    ]

    assert missing == []


def test_read_table_short_and_long_rows(tmp_path: Path) -> None:
    """A row with missing trailing cells is padded; one with extra cells is a file error."""
    short = tmp_path / "short.csv"
    short.write_text("a,b,c\r\n1,2\r\n4,5,6\r\n", encoding="utf-8")
    long = tmp_path / "long.csv"
    long.write_text("a,b,c\r\n1,2,3,4\r\n4,5,6\r\n", encoding="utf-8")

    table = read_table(short)
    with pytest.raises(ReadError) as caught:
        read_table(long)

    assert table.frame.to_numpy().tolist() == [["1", "2", ""], ["4", "5", "6"]]
    assert [(error.row, error.reason_en) for error in caught.value.errors] == [
        (2, "the row has more cells than the 3 header columns")
    ]
