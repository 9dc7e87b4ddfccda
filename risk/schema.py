"""Pandera schemas of the canonical tables, and their failures as bilingual row errors.

Each ``*Frame`` schema validates one canonical table after ingest has parsed the
agency's text into typed columns. Integer and flag columns use pandas' nullable
dtypes here (``Int64``, ``boolean``), because a cell that failed to parse is NA
until its row is rejected. Ingest casts them to the contract dtypes afterwards.

Every check has a name, and ``REASONS`` maps each name to the reason shown to
users in Chinese and English. :func:`validate_table` runs a schema with
``lazy=True``, so one call returns every failure of the table.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from risk import codelists
from risk.credit_code import ALPHABET, WEIGHTS, credit_code_problem

# Dates before this are taken as typing or conversion errors (an Excel serial of 5 is 1900-01-05).
EARLIEST_DATE = pd.Timestamp("1950-01-01")
SEVERE_LOST_WORKDAYS = 105
LIST_SEPARATOR = "|"
COURSE_MODES = ("on_site", "online")

REASONS: dict[str, tuple[str, str]] = {
    "not_nullable": ("必填项为空", "required value is missing"),
    "field_uniqueness": ("编号在文件中重复", "duplicate key within the file"),
    "multiple_fields_uniqueness": (
        "同一单位同一年度出现多行",
        "duplicate key (employer_id, year) within the file",
    ),
    "credit_code": ("统一社会信用代码无效", "invalid unified social credit code"),
    "known_industry": (
        "行业代码不是GB/T 4754-2017的小类代码（门类字母加4位数字，如C3311）",
        "industry_code is not a GB/T 4754-2017 class of a known division"
        " (section letter and 4 digits, e.g. C3311)",
    ),
    "known_district": (
        "所属区县不是杭州市的区县代码或名称（GB/T 2260）",
        "district is not a Hangzhou district code or name (GB/T 2260)",
    ),
    "year_range": ("年度应在1950年至今年之间", "year must be between 1950 and this year"),
    "not_negative": ("不能为负数", "cannot be negative"),
    "at_least_one": ("应至少为1", "must be at least 1"),
    "greater_than_zero": ("应大于0", "must be greater than 0"),
    "date_too_early": (
        "日期早于1950-01-01，可能录入有误",
        "date is before 1950-01-01, probably a typing error",
    ),
    "date_in_future": ("日期晚于今天", "date is in the future"),
    "known_accident_type": (
        "事故类别不是GB 6441-86的20类之一（名称或代码01-20）",
        "accident_type is not one of the 20 GB 6441-86 categories (name or code 01-20)",
    ),
    "known_severity": (
        "伤害程度应为轻伤、重伤或死亡",
        "severity must be minor, serious or fatal (轻伤/重伤/死亡)",
    ),
    "disability_grade_range": (
        "伤残等级应为1至10级（GB/T 16180-2014）",
        "disability_grade must be 1 to 10 (GB/T 16180-2014)",
    ),
    "minor_with_long_absence": (
        f"轻伤的停工留薪期应少于{SEVERE_LOST_WORKDAYS}天（GB 6441-86），请核对伤害程度或天数",
        f"a minor injury has fewer than {SEVERE_LOST_WORKDAYS} lost workdays (GB 6441-86);"
        " check the severity or the days",
    ),
    "known_hazard_category": (
        "隐患类别不在隐患类别代码表中",
        "hazard_category is not in the hazard category code list",
    ),
    "known_hazard_level": (
        "隐患等级应为一般隐患或重大隐患",
        "hazard_level must be general or major (一般隐患/重大隐患)",
    ),
    "rectified_before_inspection": ("整改日期早于检查日期", "rectified_on is before inspected_on"),
    "known_accident_types": (
        "事故类别列表含有不是GB 6441-86类别的项",
        "accident_types lists an item that is not a GB 6441-86 category",
    ),
    "known_industries": (
        "适用行业列表含有不是GB/T 4754-2017门类或大类的项",
        "industries lists an item that is not a GB/T 4754-2017 section or division",
    ),
    "known_mode": ("培训形式应为现场或线上", "mode must be on_site or online (现场/线上)"),
    "known_districts": (
        "服务区县列表含有不是杭州市区县的项",
        "district_codes lists an item that is not a Hangzhou district",
    ),
}


def _today() -> pd.Timestamp:
    return pd.Timestamp.today().normalize()


@cache
def _code_sets() -> dict[str, frozenset[str]]:
    divisions = codelists.industry_divisions()
    return {
        "accident_type": frozenset(codelists.accident_types()["code"]),
        "severity": frozenset(codelists.severities()["code"]),
        "district": frozenset(codelists.districts()["code"]),
        "hazard_category": frozenset(codelists.hazard_categories()["code"]),
        "hazard_level": frozenset(codelists.hazard_levels()["code"]),
        "section": frozenset(codelists.industry_sections()["code"]),
        "division": frozenset(divisions["division"]),
        "section_division": frozenset(divisions["section"] + divisions["division"]),
    }


def credit_code_valid(codes: pd.Series) -> pd.Series:
    """Return a boolean Series, True where the code is a valid GB 32100-2015 credit code.

    The check characters of all codes are computed at once with numpy, so a
    million codes take well under a second.
    """
    text = codes.astype("str")
    pattern = r"[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}"
    shaped = text.str.fullmatch(pattern).fillna(False).astype(bool).to_numpy()
    valid = np.zeros(len(text), dtype=bool)
    if shaped.any():
        joined = "".join(text[shaped].tolist()).encode("ascii")
        symbols = np.frombuffer(joined, dtype=np.uint8).reshape(-1, 18)
        lookup = np.full(256, -1, dtype=np.int64)
        lookup[np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)] = np.arange(len(ALPHABET))
        values = lookup[symbols]
        expected = (31 - values[:, :17] @ np.asarray(WEIGHTS, dtype=np.int64) % 31) % 31
        valid[shaped] = expected == values[:, 17]
    return pd.Series(valid, index=codes.index)


def _check(name: str, test: Callable[[pd.Series], pd.Series]) -> pa.Check:
    if name not in REASONS:
        raise KeyError(f"check {name!r} has no entry in REASONS")
    return pa.Check(test, name=name)


def _max_length(limit: int) -> pa.Check:
    name = f"max_length_{limit}"
    REASONS[name] = (f"超过{limit}个字符", f"longer than {limit} characters")
    return _check(name, lambda values: values.str.len() <= limit)


def _in_codes(name: str, list_name: str) -> pa.Check:
    return _check(name, lambda values: values.isin(_code_sets()[list_name]))


def _list_in_codes(name: str, *list_names: str) -> pa.Check:
    def test(values: pd.Series) -> pd.Series:
        allowed = frozenset().union(*(_code_sets()[list_name] for list_name in list_names))
        items = values.fillna("").str.split(LIST_SEPARATOR).explode()
        ok = items.eq("") | items.isin(allowed)
        return ok.groupby(level=0).all().reindex(values.index, fill_value=True)

    return _check(name, test)


_NOT_NEGATIVE = _check("not_negative", lambda values: values >= 0)
_AT_LEAST_ONE = _check("at_least_one", lambda values: values >= 1)
_DATE_CHECKS = [
    _check("date_too_early", lambda values: values >= EARLIEST_DATE),
    _check("date_in_future", lambda values: values <= _today()),
]


def _known_industry(values: pd.Series) -> pd.Series:
    shaped = values.str.fullmatch(r"[A-T]\d{4}").fillna(False).astype(bool)
    return shaped & values.str.slice(0, 3).isin(_code_sets()["section_division"])


def _year_range(values: pd.Series) -> pd.Series:
    return (values >= EARLIEST_DATE.year) & (values <= _today().year)


def _credit_code(frame: pd.DataFrame) -> pd.Series:
    # Only unified social credit codes have a check character; other schemes are declared.
    return (frame["id_scheme"] != "uscc") | credit_code_valid(frame["employer_id"])


def _minor_with_long_absence(frame: pd.DataFrame) -> pd.Series:
    long_absence = frame["lost_workdays"].fillna(0) >= SEVERE_LOST_WORKDAYS
    return ~((frame["severity"] == "minor") & long_absence)


def _rectified_after_inspection(frame: pd.DataFrame) -> pd.Series:
    # A missing date is reported by its own check, not as an ordering problem.
    unknown = frame["rectified_on"].isna() | frame["inspected_on"].isna()
    return unknown | (frame["rectified_on"] >= frame["inspected_on"])


def _text(*checks: pa.Check, nullable: bool = False, unique: bool = False) -> pa.Column:
    return pa.Column(str, checks=list(checks), nullable=nullable, unique=unique)


def _integer(*checks: pa.Check, nullable: bool = False) -> pa.Column:
    return pa.Column(pd.Int64Dtype(), checks=list(checks), nullable=nullable)


def _date(nullable: bool = False) -> pa.Column:
    return pa.Column("datetime64[us]", checks=_DATE_CHECKS, nullable=nullable)


# 用人单位: one row per employer, keyed by ``employer_id``.
EmployerFrame = pa.DataFrameSchema(
    {
        "employer_id": _text(_max_length(32), unique=True),
        "id_scheme": _text(_max_length(16)),
        "name": _text(_max_length(200)),
        "industry_code": _text(_check("known_industry", _known_industry)),
        "district_code": _text(_in_codes("known_district", "district")),
    },
    checks=[_check("credit_code", _credit_code)],
    strict=True,
    name="EmployerFrame",
)

# 参保人数: insured headcount of one employer in one calendar year.
HeadcountFrame = pa.DataFrameSchema(
    {
        "employer_id": _text(_max_length(32)),
        "year": _integer(_check("year_range", _year_range)),
        "insured_headcount": _integer(_NOT_NEGATIVE),
        "hours_worked": pa.Column(float, checks=[_NOT_NEGATIVE], nullable=True),
    },
    unique=["employer_id", "year"],
    strict=True,
    name="HeadcountFrame",
)

# 工伤事故: one recognised work injury, keyed by ``incident_id``.
IncidentFrame = pa.DataFrameSchema(
    {
        "incident_id": _text(_max_length(40), unique=True),
        "employer_id": _text(_max_length(32)),
        "occurred_on": _date(),
        "accident_type": _text(_in_codes("known_accident_type", "accident_type")),
        "severity": _text(_in_codes("known_severity", "severity")),
        "lost_workdays": _integer(_NOT_NEGATIVE, nullable=True),
        "disability_grade": _integer(
            _check("disability_grade_range", lambda values: values.between(1, 10)), nullable=True
        ),
        "is_commuting": pa.Column(pd.BooleanDtype()),
        "source_event_code": _text(_max_length(16), nullable=True),
    },
    checks=[_check("minor_with_long_absence", _minor_with_long_absence)],
    strict=True,
    name="IncidentFrame",
)

# 隐患: one hazard found at an inspection, keyed by ``finding_id``.
HazardFindingFrame = pa.DataFrameSchema(
    {
        "finding_id": _text(_max_length(40), unique=True),
        "employer_id": _text(_max_length(32)),
        "inspected_on": _date(),
        "hazard_category": _text(_in_codes("known_hazard_category", "hazard_category")),
        "hazard_level": _text(_in_codes("known_hazard_level", "hazard_level")),
        "rectified_on": _date(nullable=True),
        "description": _text(nullable=True),
    },
    checks=[_check("rectified_before_inspection", _rectified_after_inspection)],
    strict=True,
    name="HazardFindingFrame",
)

# 培训记录: one course delivered to one employer, keyed by ``record_id``.
TrainingRecordFrame = pa.DataFrameSchema(
    {
        "record_id": _text(_max_length(40), unique=True),
        "employer_id": _text(_max_length(32)),
        "course_id": _text(_max_length(32)),
        "delivered_on": _date(),
        "attendees": _integer(_AT_LEAST_ONE),
    },
    strict=True,
    name="TrainingRecordFrame",
)

# 课程: one course of the prevention-training catalogue, keyed by ``course_id``.
CourseFrame = pa.DataFrameSchema(
    {
        "course_id": _text(_max_length(32), unique=True),
        "title_zh": _text(_max_length(200)),
        "title_en": _text(_max_length(200)),
        "accident_types": _text(_list_in_codes("known_accident_types", "accident_type")),
        "industries": _text(_list_in_codes("known_industries", "section", "division")),
        "hours": pa.Column(float, checks=[_check("greater_than_zero", lambda v: v > 0)]),
        "mode": _text(_check("known_mode", lambda values: values.isin(COURSE_MODES))),
        "class_size": _integer(_AT_LEAST_ONE),
        "qualification": _text(_max_length(64)),
    },
    strict=True,
    name="CourseFrame",
)

# 培训机构: one third-party training organisation, keyed by ``trainer_id``.
TrainerFrame = pa.DataFrameSchema(
    {
        "trainer_id": _text(_max_length(32), unique=True),
        "organisation": _text(_max_length(200)),
        "qualifications": _text(_max_length(400)),
        "district_codes": _text(_list_in_codes("known_districts", "district")),
        "sessions_per_week": _integer(_NOT_NEGATIVE),
    },
    strict=True,
    name="TrainerFrame",
)


SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "employers": EmployerFrame,
    "headcounts": HeadcountFrame,
    "incidents": IncidentFrame,
    "hazard_findings": HazardFindingFrame,
    "training_records": TrainingRecordFrame,
    "courses": CourseFrame,
    "trainers": TrainerFrame,
}

# The columns that identify a row; a reload with the same key updates the row in place.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "employers": ("employer_id",),
    "headcounts": ("employer_id", "year"),
    "incidents": ("incident_id",),
    "hazard_findings": ("finding_id",),
    "training_records": ("record_id",),
    "courses": ("course_id",),
    "trainers": ("trainer_id",),
}

# A dataframe-wide check reports every column of a failing row; the error names this one.
_CHECK_COLUMN = {
    "credit_code": "employer_id",
    "minor_with_long_absence": "lost_workdays",
    "rectified_before_inspection": "rectified_on",
}

PROBLEM_COLUMNS = ["row", "column", "value", "reason_zh", "reason_en"]


def validate_table(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Validate ``frame`` against the schema of ``kind`` and return every failure.

    Parameters
    ----------
    kind : str
        A key of ``SCHEMAS``, e.g. ``"incidents"``.
    frame : DataFrame
        The parsed table; its index is carried into the ``row`` column.

    Returns
    -------
    DataFrame
        One row per failing cell with ``PROBLEM_COLUMNS``: ``row`` (the
        frame's index), ``column``, ``value`` (the parsed value as text) and
        ``reason_zh``/``reason_en``. Empty when the frame is valid.
    """
    try:
        SCHEMAS[kind].validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return _failure_reasons(exc.failure_cases)
    return pd.DataFrame(columns=PROBLEM_COLUMNS)


def _failure_reasons(cases: pd.DataFrame) -> pd.DataFrame:
    cases = cases[cases["index"].notna()]
    wide = cases["check"].isin(list(_CHECK_COLUMN))
    cases = cases[~wide | (cases["column"] == cases["check"].map(_CHECK_COLUMN))]

    checks = cases["check"].tolist()
    values = [None if pd.isna(value) else str(value) for value in cases["failure_case"]]
    reasons = [_reason(check, value) for check, value in zip(checks, values, strict=True)]
    problems = pd.DataFrame(
        {
            "row": cases["index"].astype("int64").to_numpy(),
            "column": cases["column"].astype(object).to_numpy(),
            "value": values,
            "reason_zh": [zh for zh, _ in reasons],
            "reason_en": [en for _, en in reasons],
        },
        columns=PROBLEM_COLUMNS,
    )
    return problems.drop_duplicates(["row", "column", "reason_en"], ignore_index=True)


def _reason(check: str, value: str | None) -> tuple[str, str]:
    if check == "credit_code" and value is not None:
        return credit_code_problem(value) or REASONS[check]
    if check in REASONS:
        return REASONS[check]
    # Only a pandera built-in check not listed above gets here (a dtype check, for example).
    return (f"未通过检查 {check}", f"failed check {check}")
