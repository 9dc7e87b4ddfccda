"""The canonical tables: five pandas frames shared by ingest, demo data, the store and features.

Every producer of data (ingest, the demo generator, :func:`risk.store.read.read_tables`)
returns a :class:`CanonicalTables`, and every consumer (features, labels, panels)
takes one. ``COLUMNS`` fixes each frame's columns and pandas dtypes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from risk.errors import InputDataError, RowError

# Dates are stored at microsecond resolution, the unit pandas 3 gives parsed dates.
DATE_DTYPE = "datetime64[us]"

COLUMNS: dict[str, dict[str, str]] = {
    "employers": {
        "employer_id": "str",
        "id_scheme": "str",
        "name": "str",
        "industry_code": "str",
        "district_code": "str",
    },
    "headcounts": {
        "employer_id": "str",
        "year": "int64",
        "insured_headcount": "int64",
        "hours_worked": "float64",
    },
    "incidents": {
        "incident_id": "str",
        "employer_id": "str",
        "occurred_on": DATE_DTYPE,
        "accident_type": "str",
        "severity": "str",
        "lost_workdays": "Int64",
        "disability_grade": "Int64",
        "is_commuting": "bool",
        "source_event_code": "str",
    },
    "hazard_findings": {
        "finding_id": "str",
        "employer_id": "str",
        "inspected_on": DATE_DTYPE,
        "hazard_category": "str",
        "hazard_level": "str",
        "rectified_on": DATE_DTYPE,
        "description": "str",
    },
    "training_records": {
        "record_id": "str",
        "employer_id": "str",
        "course_id": "str",
        "delivered_on": DATE_DTYPE,
        "attendees": "int64",
    },
}

# Columns a producer may leave out; ``canonical_frame`` fills them with these values.
_OPTIONAL_DEFAULTS: dict[str, dict[str, Any]] = {
    "employers": {"id_scheme": "uscc", "name": pd.NA},
    "headcounts": {"hours_worked": float("nan")},
    "incidents": {"source_event_code": pd.NA},
    "hazard_findings": {"description": pd.NA},
    "training_records": {},
}


def canonical_frame(
    table: str, data: pd.DataFrame | Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Return ``data`` as the canonical frame ``table``, with its columns in order and cast.

    Parameters
    ----------
    table : str
        One of the keys of ``COLUMNS``: ``"employers"``, ``"headcounts"``,
        ``"incidents"``, ``"hazard_findings"`` or ``"training_records"``.
    data : DataFrame or mapping of column to values, optional
        The rows. Optional columns (``id_scheme``, ``name``, ``hours_worked``,
        ``source_event_code``, ``description``) may be missing. ``None`` gives an
        empty frame.

    Raises
    ------
    InputDataError
        When ``table`` is unknown or a required column is missing.
    """
    if table not in COLUMNS:
        raise InputDataError(
            f"未知的表 {table!r} / unknown table {table!r}; expected one of {sorted(COLUMNS)}"
        )
    spec = COLUMNS[table]
    frame = pd.DataFrame({} if data is None else data)
    if data is None or len(frame.columns) == 0:
        frame = pd.DataFrame({column: pd.Series([], dtype=object) for column in spec})

    for column, default in _OPTIONAL_DEFAULTS[table].items():
        if column not in frame.columns:
            frame[column] = default
    missing = [column for column in spec if column not in frame.columns]
    if missing:
        raise InputDataError(
            f"表 {table} 缺少列 {missing!r} / table {table!r} is missing columns {missing!r};"
            f" it has {list(frame.columns)[:5]!r}",
            [RowError(table, None, column, None, "缺少列", "missing column") for column in missing],
        )

    return pd.DataFrame(
        {column: _cast(frame[column], dtype) for column, dtype in spec.items()},
        index=pd.RangeIndex(len(frame)),
    )


def _cast(values: pd.Series, dtype: str) -> pd.Series:
    values = values.reset_index(drop=True)
    if dtype == DATE_DTYPE:
        return pd.to_datetime(values).astype(DATE_DTYPE)
    if dtype == "bool" and values.dtype == object:
        return values.astype(bool)
    return values.astype(dtype)


@dataclass(frozen=True)
class CanonicalTables:
    """The five canonical frames of one data set (see ``COLUMNS`` for columns and dtypes).

    The frames are treated as read-only: functions in this package never change
    them in place, they build new frames.
    """

    employers: pd.DataFrame
    headcounts: pd.DataFrame
    incidents: pd.DataFrame
    hazard_findings: pd.DataFrame
    training_records: pd.DataFrame

    @classmethod
    def from_frames(cls, **frames: pd.DataFrame | Mapping[str, Any] | None) -> CanonicalTables:
        """Build tables from frames or column mappings, casting each to the contract dtypes.

        A table that is not passed is empty.
        """
        unknown = sorted(set(frames) - set(COLUMNS))
        if unknown:
            raise InputDataError(
                f"未知的表 {unknown!r} / unknown tables {unknown!r}; expected {sorted(COLUMNS)}"
            )
        return cls(**{name: canonical_frame(name, frames.get(name)) for name in COLUMNS})

    def check_columns(self) -> None:
        """Raise :class:`InputDataError` naming every required column that a frame lacks."""
        problems: list[RowError] = []
        for table in COLUMNS:
            present = set(getattr(self, table).columns)
            for column in COLUMNS[table]:
                if column not in present:
                    problems.append(RowError(table, None, column, None, "缺少列", "missing column"))
        if problems:
            names = [f"{error.file}.{error.column}" for error in problems]
            listed = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
            raise InputDataError(
                f"规范表缺少列：{listed} / canonical tables are missing columns: {listed}", problems
            )

    def data_end(self) -> dt.date | None:
        """Return the latest ``occurred_on`` in the incident table, or None when it is empty."""
        latest = self.incidents["occurred_on"].max()
        return None if pd.isna(latest) else pd.Timestamp(latest).date()

    def data_start(self) -> dt.date | None:
        """Return the earliest ``occurred_on`` in the incident table, or None when it is empty."""
        earliest = self.incidents["occurred_on"].min()
        return None if pd.isna(earliest) else pd.Timestamp(earliest).date()

    def until(self, as_of: dt.date) -> CanonicalTables:
        """Return the tables as they were known on ``as_of``.

        This applies the same point-in-time rule as :mod:`risk.features.build`:
        incidents, findings and trainings dated after ``as_of`` are dropped, a
        rectification dated after ``as_of`` is blanked (the finding was still
        open), and only headcounts of years before ``as_of``'s year are kept.
        """
        cutoff = pd.Timestamp(as_of)
        findings = self.hazard_findings[self.hazard_findings["inspected_on"] <= cutoff].copy()
        findings["rectified_on"] = findings["rectified_on"].where(
            findings["rectified_on"] <= cutoff
        )
        return CanonicalTables(
            employers=self.employers.copy(),
            headcounts=self.headcounts[self.headcounts["year"] < as_of.year].copy(),
            incidents=self.incidents[self.incidents["occurred_on"] <= cutoff].copy(),
            hazard_findings=findings,
            training_records=self.training_records[
                self.training_records["delivered_on"] <= cutoff
            ].copy(),
        )

    def frames(self) -> dict[str, pd.DataFrame]:
        """Return the five frames by table name, the form ``load_tables`` takes."""
        return {field.name: getattr(self, field.name) for field in fields(self)}

    def row_counts(self) -> dict[str, int]:
        """Return the number of rows of each frame, for logs and reports."""
        return {name: len(frame) for name, frame in self.frames().items()}
