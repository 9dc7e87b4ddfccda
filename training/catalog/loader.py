"""Load and validate the course catalogue, the trainer file and the course-effect table.

Each file is plain CSV (UTF-8, a BOM is accepted) or XLSX, one row per
course, trainer or effect. Multi-valued cells are ``|``-separated lists.
Validation is lazy: every invalid cell is reported, with its file, row,
column and value, in one :class:`~training.errors.CatalogueError`.

The loaded frames keep one row per input row, with list cells parsed into
tuples (courses) or frozensets (trainers) and numbers as numbers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from risk import codelists
from risk.errors import RowError
from training.errors import CatalogueError

logger = logging.getLogger(__name__)

_PACKAGE = "training.catalog"
MODES = ("on_site", "online")
ENGAGEMENTS = ("hands_on", "interactive", "lecture")
SCOPES = ("targeted", "cross_cutting")
SEVERITIES = ("high", "low")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")
_QUALIFICATION = re.compile(r"^[a-z0-9_]{1,32}$")

COURSE_COLUMNS = (
    "course_id",
    "title_zh",
    "title_en",
    "accident_types",
    "industries",
    "hazard_categories",
    "hours",
    "mode",
    "engagement",
    "class_size",
    "qualification",
)
TRAINER_COLUMNS = (
    "trainer_id",
    "organisation",
    "qualifications",
    "district_codes",
    "sessions_per_week",
)
EFFECT_COLUMNS = ("scope", "engagement", "hazard_severity", "relative_reduction")

# Reasons shown for each named check, Chinese first.
_REASONS: dict[str, tuple[str, str]] = {
    "identifier": (
        "编号只能包含字母、数字、点、下划线和连字符，最长32位",
        "an id may contain only letters, digits, '.', '_' and '-', at most 32 characters",
    ),
    "unique": ("编号重复", "the id appears more than once"),
    "not_empty": ("不能为空", "must not be empty"),
    "accident_types": (
        "含有不在 GB 6441-86 中的事故类别代码（应为 01-20）",
        "contains a code that is not a GB 6441-86 accident type (01-20)",
    ),
    "industries": (
        "含有未知的行业门类或大类代码（门类为 A-T，大类为两位数字）",
        "contains an unknown GB/T 4754 section (A-T) or two-digit division",
    ),
    "hazard_categories": ("含有未知的隐患类别代码", "contains an unknown hazard category code"),
    "hours": ("学时应为大于0且不超过40的数字", "hours must be a number above 0 and at most 40"),
    "mode": ("形式应为 on_site 或 online", "mode must be on_site or online"),
    "engagement": (
        "参与度应为 hands_on、interactive 或 lecture",
        "engagement must be hands_on, interactive or lecture",
    ),
    "class_size": ("班级人数应为1-1000的整数", "class size must be a whole number from 1 to 1000"),
    "qualification": (
        "资质代码只能包含小写字母、数字和下划线",
        "a qualification code may contain only lower-case letters, digits and '_'",
    ),
    "qualifications": (
        "资质列表不能为空，且每项只能包含小写字母、数字和下划线",
        "the qualification list must not be empty and each code may contain only"
        " lower-case letters, digits and '_'",
    ),
    "district_codes": (
        "服务区县不能为空，且应为 risk/codes/districts.csv 中的 GB/T 2260 代码",
        "districts served must not be empty and must be GB/T 2260 codes listed in"
        " risk/codes/districts.csv",
    ),
    "sessions_per_week": (
        "每周场次应为1-50的整数",
        "sessions per week must be a whole number from 1 to 50",
    ),
    "scope": ("范围应为 targeted 或 cross_cutting", "scope must be targeted or cross_cutting"),
    "hazard_severity": ("危害严重程度应为 high 或 low", "hazard severity must be high or low"),
    "relative_reduction": (
        "相对降低率应为0到1之间（不含1）的数字",
        "relative reduction must be a number from 0 up to, not including, 1",
    ),
    "online_hands_on": (
        "线上课程不能是实操（hands_on）形式",
        "an online course cannot be hands_on",
    ),
}


def split_list(cell: str) -> tuple[str, ...]:
    """Split a ``|``-separated cell into its non-empty, stripped items."""
    return tuple(item.strip() for item in str(cell).split("|") if item.strip())


def _tokens_in(allowed: set[str]) -> Callable[[str], bool]:
    return lambda cell: all(token in allowed for token in split_list(cell))


def _is_number(
    low: float, high: float, *, integer: bool, include_low: bool
) -> Callable[[str], bool]:
    def check(cell: str) -> bool:
        try:
            value = float(cell)
        except ValueError:
            return False
        if integer and not value.is_integer():
            return False
        above = value >= low if include_low else value > low
        return above and value <= high

    return check


def _check(name: str, fn: Callable[[str], bool]) -> pa.Check:
    return pa.Check(fn, element_wise=True, name=name)


def _text(*checks: pa.Check, unique: bool = False) -> pa.Column:
    return pa.Column(str, checks=list(checks), nullable=False, unique=unique)


def _not_empty() -> pa.Check:
    return _check("not_empty", lambda cell: bool(str(cell).strip()))


def _industry_codes() -> set[str]:
    sections = set(codelists.industry_sections()["code"])
    return sections | set(codelists.industry_divisions()["division"])


def _course_schema() -> pa.DataFrameSchema:
    accident_codes = set(codelists.accident_types()["code"])
    hazard_codes = set(codelists.hazard_categories()["code"])
    return pa.DataFrameSchema(
        {
            "course_id": _text(_check("identifier", lambda c: bool(_IDENTIFIER.match(c)))),
            "title_zh": _text(_not_empty()),
            "title_en": _text(_not_empty()),
            "accident_types": _text(_check("accident_types", _tokens_in(accident_codes))),
            "industries": _text(_check("industries", _tokens_in(_industry_codes()))),
            "hazard_categories": _text(_check("hazard_categories", _tokens_in(hazard_codes))),
            "hours": _text(_check("hours", _is_number(0, 40, integer=False, include_low=False))),
            "mode": _text(_check("mode", lambda c: c in MODES)),
            "engagement": _text(_check("engagement", lambda c: c in ENGAGEMENTS)),
            "class_size": _text(
                _check("class_size", _is_number(1, 1000, integer=True, include_low=True))
            ),
            "qualification": _text(
                _check("qualification", lambda c: bool(_QUALIFICATION.match(c)))
            ),
        },
        strict=False,
    )


def _trainer_schema() -> pa.DataFrameSchema:
    district_codes = set(codelists.districts()["code"])
    return pa.DataFrameSchema(
        {
            "trainer_id": _text(_check("identifier", lambda c: bool(_IDENTIFIER.match(c)))),
            "organisation": _text(_not_empty()),
            "qualifications": _text(
                _check(
                    "qualifications",
                    lambda c: (
                        bool(split_list(c))
                        and all(_QUALIFICATION.match(token) for token in split_list(c))
                    ),
                )
            ),
            "district_codes": _text(
                _check(
                    "district_codes",
                    lambda c: (
                        bool(split_list(c))
                        and all(token in district_codes for token in split_list(c))
                    ),
                )
            ),
            "sessions_per_week": _text(
                _check("sessions_per_week", _is_number(1, 50, integer=True, include_low=True))
            ),
        },
        strict=False,
    )


def _effect_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "scope": _text(_check("scope", lambda c: c in SCOPES)),
            "engagement": _text(_check("engagement", lambda c: c in ENGAGEMENTS)),
            "hazard_severity": _text(_check("hazard_severity", lambda c: c in SEVERITIES)),
            "relative_reduction": _text(
                _check(
                    "relative_reduction", _is_number(0, 0.999999, integer=False, include_low=True)
                )
            ),
        },
        strict=False,
    )


def read_table(path: Path | str) -> pd.DataFrame:
    """Read a CSV (UTF-8, BOM accepted) or XLSX file with every cell as stripped text."""
    path = Path(path)
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame.apply(lambda column: column.str.strip())


def _read_default(name: str) -> pd.DataFrame:
    with resources.as_file(resources.files(_PACKAGE).joinpath(name)) as path:
        return read_table(path)


def _require_columns(frame: pd.DataFrame, required: tuple[str, ...], source: str) -> None:
    missing = [column for column in required if column not in frame.columns]
    if not missing:
        return
    present = ", ".join(repr(column) for column in list(frame.columns)[:10])
    errors = [
        RowError(source, None, column, None, "缺少必需的列", "required column is missing")
        for column in missing
    ]
    raise CatalogueError(
        f"{source} 缺少列 {missing!r}；现有列：{present}。"
        f" / {source} is missing column(s) {missing!r}; it has: {present}.",
        errors,
    )


def _validate(frame: pd.DataFrame, schema: pa.DataFrameSchema, source: str) -> list[RowError]:
    """Return one RowError per failed cell; rows are numbered as in a spreadsheet."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return [_row_error(case, source) for case in exc.failure_cases.itertuples(index=False)]
    return []


def _row_error(case: object, source: str) -> RowError:
    check = str(case.check)
    index = case.index
    reason_zh, reason_en = _REASONS.get(check, (f"未通过检查 {check}", f"failed check {check}"))
    if check == "field_uniqueness":
        reason_zh, reason_en = _REASONS["unique"]
    row = None if index is None or pd.isna(index) else int(index) + 2
    value = case.failure_case
    return RowError(
        source, row, str(case.column), None if value is None else str(value), reason_zh, reason_en
    )


def _raise_if_any(errors: list[RowError], source: str, what_zh: str, what_en: str) -> None:
    if not errors:
        return
    errors.sort(key=lambda error: (error.row or 0, error.column or ""))
    shown = "; ".join(error.describe() for error in errors[:5]) + ("; …" if len(errors) > 5 else "")
    raise CatalogueError(
        f"{what_zh}文件 {source} 有 {len(errors)} 处无效数据，请修正后重新加载。"
        f" / The {what_en} file {source} has {len(errors)} invalid value(s);"
        " fix them and load again."
        f" {shown}",
        errors,
    )


def validate_courses(frame: pd.DataFrame, source: str = "courses.csv") -> pd.DataFrame:
    """Validate a course table of text cells and return it parsed.

    Raises
    ------
    CatalogueError
        Listing every invalid cell, a duplicate ``course_id``, or an online
        course marked ``hands_on``.
    """
    frame = frame.astype(str).reset_index(drop=True)
    _require_columns(frame, COURSE_COLUMNS, source)
    errors = _validate(frame, _course_schema(), source)
    errors += _duplicate_errors(frame, "course_id", source)
    for index in frame.index[(frame["mode"] == "online") & (frame["engagement"] == "hands_on")]:
        errors.append(
            RowError(source, int(index) + 2, "engagement", "hands_on", *_REASONS["online_hands_on"])
        )
    _raise_if_any(errors, source, "课程目录", "course catalogue")

    courses = frame.loc[:, list(COURSE_COLUMNS)].copy()
    for column in ("accident_types", "industries", "hazard_categories"):
        courses[column] = courses[column].map(split_list)
    courses["hours"] = courses["hours"].astype(float)
    courses["class_size"] = courses["class_size"].astype(float).astype("int64")
    return courses


def validate_trainers(frame: pd.DataFrame, source: str = "trainers.csv") -> pd.DataFrame:
    """Validate a trainer table of text cells and return it parsed.

    Raises
    ------
    CatalogueError
        Listing every invalid cell or duplicate ``trainer_id``.
    """
    frame = frame.astype(str).reset_index(drop=True)
    _require_columns(frame, TRAINER_COLUMNS, source)
    errors = _validate(frame, _trainer_schema(), source)
    errors += _duplicate_errors(frame, "trainer_id", source)
    _raise_if_any(errors, source, "培训机构", "trainer")

    trainers = frame.loc[:, list(TRAINER_COLUMNS)].copy()
    trainers["qualifications"] = trainers["qualifications"].map(lambda c: frozenset(split_list(c)))
    trainers["district_codes"] = trainers["district_codes"].map(lambda c: frozenset(split_list(c)))
    trainers["sessions_per_week"] = trainers["sessions_per_week"].astype(float).astype("int64")
    return trainers


def validate_course_effects(
    frame: pd.DataFrame, source: str = "course_effects.csv"
) -> pd.DataFrame:
    """Validate the effect table and return it with ``relative_reduction`` as float.

    Every (scope, engagement, hazard_severity) combination must appear exactly once.

    Raises
    ------
    CatalogueError
        Listing every invalid cell, duplicate or missing combination.
    """
    frame = frame.astype(str).reset_index(drop=True)
    _require_columns(frame, EFFECT_COLUMNS, source)
    errors = _validate(frame, _effect_schema(), source)
    keys = ["scope", "engagement", "hazard_severity"]
    for index in frame.index[frame.duplicated(keys, keep="first")]:
        errors.append(
            RowError(
                source,
                int(index) + 2,
                "scope",
                "/".join(frame.loc[index, keys]),
                "效果组合重复",
                "this combination appears more than once",
            )
        )
    present = set(map(tuple, frame[keys].to_numpy().tolist()))
    for scope in SCOPES:
        for engagement in ENGAGEMENTS:
            for severity in SEVERITIES:
                if (scope, engagement, severity) not in present:
                    errors.append(
                        RowError(
                            source,
                            None,
                            None,
                            f"{scope}/{engagement}/{severity}",
                            "缺少该效果组合",
                            "this combination is missing",
                        )
                    )
    _raise_if_any(errors, source, "培训效果", "course effect")

    effects = frame.loc[:, list(EFFECT_COLUMNS)].copy()
    effects["relative_reduction"] = effects["relative_reduction"].astype(float)
    return effects


def _duplicate_errors(frame: pd.DataFrame, column: str, source: str) -> list[RowError]:
    duplicated = frame.index[frame.duplicated(column, keep="first") & (frame[column] != "")]
    return [
        RowError(source, int(index) + 2, column, frame.loc[index, column], *_REASONS["unique"])
        for index in duplicated
    ]


def load_courses(path: Path | str | None = None) -> pd.DataFrame:
    """Load the course catalogue from ``path``, or the shipped one when None."""
    frame = _read_default("courses.csv") if path is None else read_table(path)
    courses = validate_courses(frame, "courses.csv" if path is None else str(path))
    logger.info("Loaded %d courses from %s", len(courses), path or "the shipped catalogue")
    return courses


def load_trainers(path: Path | str | None = None) -> pd.DataFrame:
    """Load the trainer file from ``path``, or the shipped demo one when None."""
    frame = _read_default("trainers.csv") if path is None else read_table(path)
    trainers = validate_trainers(frame, "trainers.csv" if path is None else str(path))
    logger.info("Loaded %d trainers from %s", len(trainers), path or "the shipped demo file")
    return trainers


def load_course_effects(path: Path | str | None = None) -> pd.DataFrame:
    """Load the course-effect table from ``path``, or the shipped defaults when None."""
    frame = _read_default("course_effects.csv") if path is None else read_table(path)
    return validate_course_effects(frame, "course_effects.csv" if path is None else str(path))
