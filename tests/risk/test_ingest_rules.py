"""Each validation rule, through a real export file: the error names file, row, header and value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest_factories import (
    CODES,
    EMPLOYER_HEADERS,
    FINDING_HEADERS,
    INCIDENT_HEADERS,
    employer_rows,
    finding_rows,
    incident_rows,
    write_csv,
)

from risk.errors import RowError
from risk.ingest import read_export


def _employer_error(tmp_path: Path, column: int, value: str) -> RowError:
    rows = employer_rows()
    rows[1][column] = value
    path = write_csv(tmp_path / "employers.csv", EMPLOYER_HEADERS, rows)
    _, frame, errors = read_export(path)
    assert len(frame) == 2
    [error] = errors
    assert (error.file, error.row, error.value) == (str(path), 3, value)
    return error


def _incident_errors(tmp_path: Path, changes: dict[int, str], row: int = 0) -> list[RowError]:
    rows = incident_rows()
    for column, value in changes.items():
        rows[row][column] = value
    path = write_csv(tmp_path / "incidents.csv", INCIDENT_HEADERS, rows)
    _, frame, errors = read_export(path)
    assert len(frame) == len(rows) - len({error.row for error in errors})
    return errors


def test_ingest_rule_bad_check_character(tmp_path: Path) -> None:
    """A credit code with a wrong check character is rejected with the expected character."""
    code = CODES[1]
    wrong = code[:17] + ("0" if code[17] != "0" else "1")

    error = _employer_error(tmp_path, 0, wrong)

    assert error.column == "统一社会信用代码"
    assert f"应为{code[17]}" in error.reason_zh


def test_ingest_rule_wrong_length(tmp_path: Path) -> None:
    """A 17-character credit code is rejected with its length."""
    error = _employer_error(tmp_path, 0, CODES[1][:17])

    assert "got 17" in error.reason_en


def test_ingest_rule_forbidden_letter(tmp_path: Path) -> None:
    """A credit code with the letter O is rejected."""
    error = _employer_error(tmp_path, 0, CODES[1][:10] + "O" + CODES[1][11:])

    assert "I, O, S, V and Z" in error.reason_en


def test_ingest_rule_unknown_industry(tmp_path: Path) -> None:
    """An industry code of an unknown division is rejected."""
    error = _employer_error(tmp_path, 2, "C0099")

    assert error.column == "行业代码"
    assert "GB/T 4754-2017" in error.reason_en


def test_ingest_rule_unknown_district(tmp_path: Path) -> None:
    """A district that is not in Hangzhou is rejected."""
    error = _employer_error(tmp_path, 3, "朝阳区")

    assert error.column == "所属区县"
    assert "Hangzhou" in error.reason_en


def test_ingest_rule_unknown_accident_type(tmp_path: Path) -> None:
    """An accident type that is not a GB 6441-86 category is rejected."""
    [error] = _incident_errors(tmp_path, {6: "意外事件"})

    assert (error.row, error.column, error.value) == (2, "事故类别", "意外事件")


def test_ingest_rule_bad_severity(tmp_path: Path) -> None:
    """A severity other than 轻伤/重伤/死亡 is rejected."""
    [error] = _incident_errors(tmp_path, {7: "中度"})

    assert (error.column, error.value) == ("伤害程度", "中度")
    assert "minor, serious or fatal" in error.reason_en


def test_ingest_rule_minor_with_long_absence(tmp_path: Path) -> None:
    """A 轻伤 with 105 lost workdays is inconsistent and names the days column."""
    [error] = _incident_errors(tmp_path, {8: "105"})

    assert (error.column, error.value) == ("停工留薪期(天)", "105")
    assert "GB 6441-86" in error.reason_en


def test_ingest_rule_disability_grade_out_of_range(tmp_path: Path) -> None:
    """Grade 十一级 is outside 1-10."""
    [error] = _incident_errors(tmp_path, {9: "十一级"})

    assert (error.column, error.value) == ("伤残等级", "十一级")
    assert "1 to 10" in error.reason_en


def test_ingest_rule_bad_date(tmp_path: Path) -> None:
    """Impossible and unreadable dates are reported, never left empty silently."""
    errors = _incident_errors(tmp_path, {5: "2023-02-30"}) + _incident_errors(
        tmp_path, {5: "3/5/23"}, row=1
    )

    assert [(error.row, error.column, error.value) for error in errors] == [
        (2, "事故发生日期", "2023-02-30"),
        (3, "事故发生日期", "3/5/23"),
    ]
    assert all("unrecognised date" in error.reason_en for error in errors)


def test_ingest_rule_future_date(tmp_path: Path) -> None:
    """An incident dated tomorrow is rejected."""
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()

    [error] = _incident_errors(tmp_path, {5: tomorrow})

    assert (error.column, error.value) == ("事故发生日期", tomorrow)
    assert error.reason_en == "date is in the future"


def test_ingest_rule_duplicate_key(tmp_path: Path) -> None:
    """Two rows with one 工伤认定书编号 are both reported."""
    errors = _incident_errors(tmp_path, {0: "GS2023-0002"})

    assert [(error.row, error.column) for error in errors] == [
        (2, "工伤认定书编号"),
        (3, "工伤认定书编号"),
    ]


def test_ingest_rule_id_number_in_kept_field(tmp_path: Path) -> None:
    """A resident ID number in a hazard description rejects the row and is masked."""
    rows = finding_rows()
    rows[0][6] = "责任人身份证号330106199001011237，已整改"
    path = write_csv(tmp_path / "findings.csv", FINDING_HEADERS, rows)

    _, frame, [error] = read_export(path)

    assert len(frame) == 2
    assert (error.row, error.column) == (2, "隐患描述")
    assert error.value == "责任人身份证号3301**********1237，已整改"
    assert "330106199001011237" not in error.describe()


def test_ingest_rule_lists_every_error(tmp_path: Path) -> None:
    """Errors in several rows and columns are all listed, in row then column order."""
    rows = incident_rows()
    rows[0][6] = "意外事件"
    rows[0][7] = "中度"
    rows[2][5] = "2023-13-01"
    path = write_csv(tmp_path / "incidents.csv", INCIDENT_HEADERS, rows)

    _, frame, errors = read_export(path)

    assert len(frame) == 2
    assert [(error.row, error.column) for error in errors] == [
        (2, "事故类别"),
        (2, "伤害程度"),
        (4, "事故发生日期"),
    ]


def test_ingest_rule_other_scheme_skips_check(tmp_path: Path) -> None:
    """Employers of a declared scheme (7-digit MSHA mine ids) skip the credit-code check."""
    rows = [["4601234", "Mine A", "B0610", "330127"], ["4608888", "Mine B", "B0610", "330127"]]
    path = write_csv(tmp_path / "mines.csv", EMPLOYER_HEADERS, rows)

    _, by_parameter, parameter_errors = read_export(path, id_scheme="MSHA")
    _, by_default, default_errors = read_export(path)

    assert parameter_errors == []
    assert by_parameter["id_scheme"].tolist() == ["msha", "msha"]
    assert [error.row for error in default_errors] == [2, 3]
    assert by_default.empty
