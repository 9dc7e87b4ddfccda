"""Turning the text columns of one export into a typed canonical frame.

``COLUMN_TYPES`` defines how each canonical column is parsed. Cells that cannot
be parsed become problems with a reason; values that parse but break a rule
(an unknown code, a date in the future) are left to :mod:`risk.schema`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk.ingest import normalize as nz
from risk.schema import PROBLEM_COLUMNS

DATE_DTYPE = "datetime64[us]"


@dataclass(frozen=True)
class ColumnType:
    """Parsing rule of one canonical column.

    ``parser`` is None for free text and identifiers, which are only
    NFKC-normalized. ``reason`` is the (Chinese, English) reason for a cell
    the parser rejects.
    """

    dtype: object
    parser: nz.Parser | None = None
    reason: tuple[str, str] = ("", "")


_TEXT = ColumnType("str")
_DATE = ColumnType(
    DATE_DTYPE,
    nz.parse_date,
    (
        "无法识别的日期；可用格式：2023-03-05、2023/3/5、2023.3.5、2023年3月5日、20230305或Excel日期序列号",
        "unrecognised date; accepted forms are 2023-03-05, 2023/3/5, 2023.3.5, 2023年3月5日,"
        " 20230305 and Excel serial numbers",
    ),
)
_INTEGER = ColumnType("Int64", nz.parse_integer, ("不是整数", "not a whole number"))
_FLOAT = ColumnType("float64", nz.parse_float, ("不是数字", "not a number"))
_FLAG = ColumnType(
    "boolean",
    nz.parse_flag,
    ("应为是或否", "must be 是/否, Y/N, yes/no, true/false or 1/0"),
)
_GRADE = ColumnType(
    "Int64",
    nz.parse_disability_grade,
    (
        "伤残等级应为1至10或一级至十级，无伤残留空",
        "disability_grade must be 1-10 or 一级-十级, blank if none",
    ),
)


def _code(kind: str) -> ColumnType:
    return ColumnType("str", nz.code_mapper(kind))


COLUMN_TYPES: dict[str, dict[str, ColumnType]] = {
    "employers": {
        "employer_id": _TEXT,
        "id_scheme": ColumnType("str", nz.parse_lowercase),
        "name": _TEXT,
        "industry_code": ColumnType("str", nz.parse_industry_code),
        "district_code": _code("district"),
    },
    "headcounts": {
        "employer_id": _TEXT,
        "year": _INTEGER,
        "insured_headcount": _INTEGER,
        "hours_worked": _FLOAT,
    },
    "incidents": {
        "incident_id": _TEXT,
        "employer_id": _TEXT,
        "occurred_on": _DATE,
        "accident_type": _code("accident_type"),
        "severity": _code("severity"),
        "lost_workdays": _INTEGER,
        "disability_grade": _GRADE,
        "is_commuting": _FLAG,
        "source_event_code": _TEXT,
    },
    "hazard_findings": {
        "finding_id": _TEXT,
        "employer_id": _TEXT,
        "inspected_on": _DATE,
        "hazard_category": _code("hazard_category"),
        "hazard_level": _code("hazard_level"),
        "rectified_on": _DATE,
        "description": _TEXT,
    },
    "training_records": {
        "record_id": _TEXT,
        "employer_id": _TEXT,
        "course_id": _TEXT,
        "delivered_on": _DATE,
        "attendees": _INTEGER,
    },
    "courses": {
        "course_id": _TEXT,
        "title_zh": _TEXT,
        "title_en": _TEXT,
        "accident_types": ColumnType("str", nz.list_mapper(nz.code_mapper("accident_type"))),
        "industries": ColumnType("str", nz.list_mapper(nz.parse_industry_scope)),
        "hours": _FLOAT,
        "mode": ColumnType("str", nz.parse_course_mode),
        "class_size": _INTEGER,
        "qualification": _TEXT,
    },
    "trainers": {
        "trainer_id": _TEXT,
        "organisation": _TEXT,
        "qualifications": ColumnType("str", nz.list_mapper(str)),
        "district_codes": ColumnType("str", nz.list_mapper(nz.code_mapper("district"))),
        "sessions_per_week": _INTEGER,
    },
}

# Optional columns: the value of a column the file lacks, and of a blank cell where the
# store keeps text rather than NULL.
_DEFAULTS: dict[str, dict[str, object]] = {
    "employers": {"id_scheme": "uscc"},
    "incidents": {"is_commuting": False},
    "courses": {"title_en": "", "accident_types": "", "industries": "", "qualification": ""},
    "trainers": {"qualifications": "", "district_codes": ""},
}

_NULLABLE_INTEGERS = frozenset({"lost_workdays", "disability_grade"})

# Columns of identifiers and free text, where a resident ID number must not appear. Columns
# mapped to a code list are left out: an ID number there fails the code check anyway.
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    kind: tuple(name for name, column in columns.items() if column.parser is None)
    for kind, columns in COLUMN_TYPES.items()
}


def build_frame(
    kind: str, cells: dict[str, pd.Series], index: pd.Index, id_scheme: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse the raw text ``cells`` of one export into the canonical frame of ``kind``.

    Parameters
    ----------
    kind : str
        The table kind, a key of ``COLUMN_TYPES``.
    cells : dict of str to Series
        Raw text by canonical column; optional columns may be missing.
    index : Index
        The spreadsheet row numbers, kept as the frame's index.
    id_scheme : str, optional
        Identifier scheme of employers whose ``id_scheme`` cell is blank or
        absent; ``"uscc"`` when None.

    Returns
    -------
    frame : DataFrame
        Columns in ``COLUMN_TYPES`` order; a cell that failed to parse is NA.
    problems : DataFrame
        One row per cell that failed to parse, with ``PROBLEM_COLUMNS``.
    """
    defaults = dict(_DEFAULTS.get(kind, {}))
    if id_scheme is not None and kind == "employers":
        defaults["id_scheme"] = id_scheme
    columns: dict[str, pd.Series] = {}
    problems: list[pd.DataFrame] = []
    for name, column_type in COLUMN_TYPES[kind].items():
        if name in cells:
            parsed, invalid = _parse(cells[name], column_type)
            if invalid.any():
                problems.append(_problems(name, invalid, column_type.reason))
        else:
            parsed = pd.Series(index=index, dtype=column_type.dtype)
        if name in defaults:
            parsed = parsed.fillna(defaults[name]).astype(column_type.dtype)
        columns[name] = parsed

    frame = pd.DataFrame(columns, index=index)
    if not problems:
        return frame, pd.DataFrame(columns=PROBLEM_COLUMNS)
    return frame, pd.concat(problems, ignore_index=True)


def _parse(values: pd.Series, column_type: ColumnType) -> tuple[pd.Series, pd.Series]:
    if column_type.parser is None:
        return nz.clean_text(values), pd.Series(False, index=values.index)
    return nz.parse_column(values, column_type.parser, column_type.dtype)


def _problems(column: str, invalid: pd.Series, reason: tuple[str, str]) -> pd.DataFrame:
    rows = invalid.index[invalid.to_numpy()]
    return pd.DataFrame(
        {
            "row": np.asarray(rows, dtype="int64"),
            "column": column,
            "value": None,
            "reason_zh": reason[0],
            "reason_en": reason[1],
        },
        columns=PROBLEM_COLUMNS,
    )


def to_contract_dtypes(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Cast a validated frame to the contract dtypes and number its rows from 0.

    Required integer columns become ``int64`` and flags ``bool``; the
    optional integers ``lost_workdays`` and ``disability_grade`` stay
    ``Int64``. Call this only on rows that passed validation.
    """
    result = frame.reset_index(drop=True)
    for name, column_type in COLUMN_TYPES[kind].items():
        if column_type.dtype == "Int64" and name not in _NULLABLE_INTEGERS:
            result[name] = result[name].astype("int64")
        elif column_type.dtype == "boolean":
            result[name] = result[name].astype(bool)
    return result
