"""The pandera schemas of the canonical tables and the reasons they give."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest
from factories import credit_code

from risk.schema import (
    REASONS,
    SCHEMAS,
    EmployerFrame,
    HazardFindingFrame,
    IncidentFrame,
    validate_table,
)

CODE = credit_code(21)
INDEX = pd.Index([2, 3], dtype="int64")


def _text(*values: object) -> pd.Series:
    return pd.Series(list(values), index=INDEX, dtype="str")


def _employers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employer_id": _text(CODE, credit_code(22)),
            "id_scheme": _text("uscc", "uscc"),
            "name": _text("杭州甲有限公司", "杭州乙有限公司"),
            "industry_code": _text("C3311", "E4710"),
            "district_code": _text("330109", "330106"),
        }
    )


def _incidents() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_id": _text("GS-1", "GS-2"),
            "employer_id": _text(CODE, CODE),
            "occurred_on": pd.Series(pd.to_datetime(["2023-03-05", "2023-06-07"]), index=INDEX),
            "accident_type": _text("03", "09"),
            "severity": _text("minor", "serious"),
            "lost_workdays": pd.Series([30, 150], index=INDEX, dtype="Int64"),
            "disability_grade": pd.Series([None, 7], index=INDEX, dtype="Int64"),
            "is_commuting": pd.Series([False, True], index=INDEX, dtype="boolean"),
            "source_event_code": _text(None, None),
        }
    ).astype({"occurred_on": "datetime64[us]"})


def _findings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "finding_id": _text("YH-1", "YH-2"),
            "employer_id": _text(CODE, CODE),
            "inspected_on": pd.Series(pd.to_datetime(["2023-02-01", "2023-04-10"]), index=INDEX),
            "hazard_category": _text("machine_guarding", "electrical"),
            "hazard_level": _text("general", "major"),
            "rectified_on": pd.Series(pd.to_datetime(["2023-02-20", None]), index=INDEX),
            "description": _text("防护罩缺失", None),
        }
    ).astype({"inspected_on": "datetime64[us]", "rectified_on": "datetime64[us]"})


def _failures(kind: str, frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    problems = validate_table(kind, frame)
    return list(zip(problems["row"], problems["column"], problems["reason_en"], strict=True))


def test_validate_table_valid_frames_pass() -> None:
    """The valid frames give no failures."""
    assert _failures("employers", _employers()) == []
    assert _failures("incidents", _incidents()) == []
    assert _failures("hazard_findings", _findings()) == []


def test_validate_table_bad_check_character() -> None:
    """A credit code with a wrong check character names the expected character."""
    frame = _employers()
    frame.loc[3, "employer_id"] = CODE[:17] + ("0" if CODE[17] != "0" else "1")

    [(row, column, reason)] = _failures("employers", frame)

    assert (row, column) == (3, "employer_id")
    assert f"should be {CODE[17]!r}" in reason


def test_validate_table_other_scheme_skips_check_character() -> None:
    """An employer declared with another id scheme is not checked as a credit code."""
    frame = _employers()
    frame.loc[3, ["employer_id", "id_scheme"]] = ["4601234", "msha"]

    assert _failures("employers", frame) == []


def test_validate_table_unknown_industry() -> None:
    """An industry code of an unknown division is rejected."""
    frame = _employers()
    frame.loc[2, "industry_code"] = "C0011"

    assert _failures("employers", frame) == [(2, "industry_code", REASONS["known_industry"][1])]


def test_validate_table_unknown_district() -> None:
    """A district code outside Hangzhou is rejected."""
    frame = _employers()
    frame.loc[2, "district_code"] = "110101"

    assert _failures("employers", frame) == [(2, "district_code", REASONS["known_district"][1])]


def test_validate_table_unknown_accident_type() -> None:
    """An accident type outside GB 6441-86 is rejected."""
    frame = _incidents()
    frame.loc[2, "accident_type"] = "21"

    assert _failures("incidents", frame) == [
        (2, "accident_type", REASONS["known_accident_type"][1])
    ]


def test_validate_table_minor_with_long_absence() -> None:
    """A minor injury with 105 or more lost workdays is inconsistent."""
    frame = _incidents()
    frame.loc[2, "lost_workdays"] = 105

    assert _failures("incidents", frame) == [
        (2, "lost_workdays", REASONS["minor_with_long_absence"][1])
    ]


def test_validate_table_disability_grade_out_of_range() -> None:
    """Disability grades run from 1 to 10."""
    frame = _incidents()
    frame.loc[3, "disability_grade"] = 11

    assert _failures("incidents", frame) == [
        (3, "disability_grade", REASONS["disability_grade_range"][1])
    ]


def test_validate_table_future_date() -> None:
    """A date after today is rejected."""
    frame = _incidents()
    frame.loc[3, "occurred_on"] = pd.Timestamp.today().normalize() + pd.Timedelta(days=1)

    assert _failures("incidents", frame) == [(3, "occurred_on", REASONS["date_in_future"][1])]


def test_validate_table_duplicate_key() -> None:
    """Both rows sharing a natural key are reported."""
    frame = _incidents()
    frame.loc[3, "incident_id"] = "GS-1"

    assert _failures("incidents", frame) == [
        (2, "incident_id", "duplicate key within the file"),
        (3, "incident_id", "duplicate key within the file"),
    ]


def test_validate_table_rectified_before_inspection() -> None:
    """A hazard cannot be rectified before it was found."""
    frame = _findings()
    frame.loc[2, "rectified_on"] = pd.Timestamp("2023-01-01")

    assert _failures("hazard_findings", frame) == [
        (2, "rectified_on", REASONS["rectified_before_inspection"][1])
    ]


def test_validate_table_reports_every_failure() -> None:
    """Validation is lazy: failures in several columns and rows come back together."""
    frame = _incidents()
    frame.loc[2, "severity"] = "light"
    frame.loc[3, "accident_type"] = "99"
    frame.loc[3, "lost_workdays"] = -1

    columns = sorted(column for _, column, _ in _failures("incidents", frame))

    assert columns == ["accident_type", "lost_workdays", "severity"]


def test_schemas_reject_unknown_columns() -> None:
    """The schemas are strict, so a stray column is caught."""
    frame = _employers().assign(worker_name="张三")

    with pytest.raises(pa.errors.SchemaErrors, match="worker_name"):
        EmployerFrame.validate(frame)


def test_schemas_cover_every_kind() -> None:
    """Each table kind has a schema, and each check has a bilingual reason."""
    assert set(SCHEMAS) == {
        "employers",
        "headcounts",
        "incidents",
        "hazard_findings",
        "training_records",
        "courses",
        "trainers",
    }
    for schema in (EmployerFrame, IncidentFrame, HazardFindingFrame):
        checks = [check for column in schema.columns.values() for check in column.checks]
        for check in checks + list(schema.checks):
            assert check.name in REASONS, check.name
