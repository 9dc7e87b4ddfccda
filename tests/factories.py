"""Small builders of canonical tables for tests.

Each ``make_*`` takes a list of partial rows (dicts) and fills the other columns
with defaults, so a test states only the values it is about. Ids are generated
when a row has none. ``make_random_tables`` builds a larger random data set for
property checks and timing tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from risk import codelists
from risk.credit_code import check_character
from risk.tables import CanonicalTables, canonical_frame

Rows = Sequence[dict[str, Any]]


def credit_code(number: int) -> str:
    """Return a valid unified social credit code numbered ``number`` (Hangzhou, enterprise)."""
    first17 = f"91330100{number:09d}"
    return first17 + check_character(first17)


EMPLOYER_A = credit_code(1)
EMPLOYER_B = credit_code(2)
EMPLOYER_C = credit_code(3)


def _fill(
    rows: Rows, defaults: dict[str, Any], id_column: str, id_prefix: str
) -> list[dict[str, Any]]:
    filled = []
    for position, row in enumerate(rows):
        values = {id_column: f"{id_prefix}{position:06d}", **defaults, **row}
        filled.append(values)
    return filled


def make_employers(rows: Rows | None = None) -> pd.DataFrame:
    """Employers; by default A (metal products, 萧山), B (building, 萧山) and C (software, 西湖)."""
    if rows is None:
        rows = [
            {"employer_id": EMPLOYER_A, "industry_code": "C3311", "district_code": "330109"},
            {"employer_id": EMPLOYER_B, "industry_code": "E4710", "district_code": "330109"},
            {"employer_id": EMPLOYER_C, "industry_code": "I6510", "district_code": "330106"},
        ]
    defaults = {
        "id_scheme": "uscc",
        "name": "测试单位",
        "industry_code": "C3311",
        "district_code": "330109",
    }
    filled = [
        {**defaults, "name": f"测试单位{position}", **row} for position, row in enumerate(rows)
    ]
    return canonical_frame(
        "employers", pd.DataFrame(filled, columns=list(defaults) + ["employer_id"])
    )


def make_headcounts(rows: Rows) -> pd.DataFrame:
    """Headcounts from rows with ``employer_id``, ``year`` and ``insured_headcount``."""
    defaults = {"hours_worked": float("nan")}
    return canonical_frame(
        "headcounts",
        pd.DataFrame(
            [{**defaults, **row} for row in rows],
            columns=["employer_id", "year", "insured_headcount", "hours_worked"],
        ),
    )


def make_incidents(rows: Rows) -> pd.DataFrame:
    """Incidents; defaults: a minor non-commuting machinery injury with 10 lost workdays."""
    defaults = {
        "employer_id": EMPLOYER_A,
        "occurred_on": "2023-06-15",
        "accident_type": "03",
        "severity": "minor",
        "lost_workdays": 10,
        "disability_grade": None,
        "is_commuting": False,
        "source_event_code": None,
    }
    frame = pd.DataFrame(
        _fill(rows, defaults, "incident_id", "INC"), columns=["incident_id", *defaults]
    )
    return canonical_frame("incidents", frame)


def make_findings(rows: Rows) -> pd.DataFrame:
    """Hazard findings; defaults: an open general electrical hazard."""
    defaults = {
        "employer_id": EMPLOYER_A,
        "inspected_on": "2023-06-15",
        "hazard_category": "electrical",
        "hazard_level": "general",
        "rectified_on": None,
        "description": None,
    }
    frame = pd.DataFrame(
        _fill(rows, defaults, "finding_id", "HZ"), columns=["finding_id", *defaults]
    )
    return canonical_frame("hazard_findings", frame)


def make_trainings(rows: Rows) -> pd.DataFrame:
    """Training records; default: 20 attendees of course ``C01``."""
    defaults = {
        "employer_id": EMPLOYER_A,
        "course_id": "C01",
        "delivered_on": "2023-06-15",
        "attendees": 20,
    }
    frame = pd.DataFrame(_fill(rows, defaults, "record_id", "TR"), columns=["record_id", *defaults])
    return canonical_frame("training_records", frame)


def make_tables(
    employers: Rows | None = None,
    headcounts: Rows | None = None,
    incidents: Rows = (),
    findings: Rows = (),
    trainings: Rows = (),
) -> CanonicalTables:
    """Tables from partial rows; by default A, B and C insure 100 workers a year in 2019-2024."""
    if headcounts is None:
        headcounts = [
            {"employer_id": employer_id, "year": year, "insured_headcount": 100}
            for employer_id in (EMPLOYER_A, EMPLOYER_B, EMPLOYER_C)
            for year in range(2019, 2025)
        ]
    return CanonicalTables(
        employers=make_employers(employers),
        headcounts=make_headcounts(headcounts),
        incidents=make_incidents(incidents),
        hazard_findings=make_findings(findings),
        training_records=make_trainings(trainings),
    )


def with_rows(tables: CanonicalTables, **extra: pd.DataFrame) -> CanonicalTables:
    """Return ``tables`` with each ``extra`` frame's rows appended to the frame of that name."""
    frames = tables.frames()
    for name, rows in extra.items():
        frames[name] = pd.concat([frames[name], rows], ignore_index=True)
    return CanonicalTables(**frames)


def _random_dates(rng: np.random.Generator, n: int, start: dt.date, end: dt.date) -> np.ndarray:
    span = (end - start).days + 1
    return np.datetime64(start, "D") + rng.integers(0, span, n).astype("timedelta64[D]")


def make_random_tables(
    n_employers: int = 300,
    n_incidents: int = 2_000,
    start: dt.date = dt.date(2019, 1, 1),
    end: dt.date = dt.date(2024, 12, 31),
    seed: int = 5,
) -> CanonicalTables:
    """Random tables over ``start``..``end`` using every code list.

    Every tenth employer has no headcount, and other employers miss some years.
    """
    rng = np.random.default_rng(seed)
    ids = np.array([credit_code(number) for number in range(n_employers)], dtype=object)
    divisions = codelists.industry_divisions()
    pick = rng.integers(0, len(divisions), n_employers)
    industry = divisions["section"].to_numpy()[pick] + divisions["division"].to_numpy()[pick] + "10"
    districts = codelists.districts()["code"].to_numpy()
    years = np.arange(start.year, end.year + 1)
    employer_years = [
        (e, y) for e in range(n_employers) if e % 10 != 0 for y in years if rng.random() < 0.9
    ]
    n_findings, n_trainings = n_incidents // 2, n_incidents // 5
    inspected = _random_dates(rng, n_findings, start, end)
    rectified = inspected + rng.integers(0, 300, n_findings).astype("timedelta64[D]")
    return CanonicalTables.from_frames(
        employers={
            "employer_id": ids,
            "name": [f"测试单位{number}" for number in range(n_employers)],
            "industry_code": industry,
            "district_code": districts[rng.integers(0, len(districts), n_employers)],
        },
        headcounts={
            "employer_id": [ids[e] for e, _ in employer_years],
            "year": [y for _, y in employer_years],
            "insured_headcount": rng.integers(0, 400, len(employer_years)),
        },
        incidents={
            "incident_id": [f"INC{i:07d}" for i in range(n_incidents)],
            "employer_id": ids[rng.integers(0, n_employers, n_incidents)],
            "occurred_on": _random_dates(rng, n_incidents, start, end),
            "accident_type": codelists.accident_types()["code"].to_numpy()[
                rng.integers(0, 20, n_incidents)
            ],
            "severity": rng.choice(
                np.array(["minor", "serious", "fatal"]), n_incidents, p=[0.85, 0.12, 0.03]
            ),
            "lost_workdays": np.where(
                rng.random(n_incidents) < 0.1, np.nan, rng.integers(0, 300, n_incidents)
            ),
            "disability_grade": np.where(
                rng.random(n_incidents) < 0.2, rng.integers(1, 11, n_incidents), np.nan
            ),
            "is_commuting": rng.random(n_incidents) < 0.2,
        },
        hazard_findings={
            "finding_id": [f"HZ{i:07d}" for i in range(n_findings)],
            "employer_id": ids[rng.integers(0, n_employers, n_findings)],
            "inspected_on": inspected,
            "hazard_category": "electrical",
            "hazard_level": np.where(rng.random(n_findings) < 0.2, "major", "general"),
            "rectified_on": np.where(rng.random(n_findings) < 0.3, np.datetime64("NaT"), rectified),
        },
        training_records={
            "record_id": [f"TR{i:07d}" for i in range(n_trainings)],
            "employer_id": ids[rng.integers(0, n_employers, n_trainings)],
            "course_id": "C01",
            "delivered_on": _random_dates(rng, n_trainings, start, end),
            "attendees": rng.integers(1, 60, n_trainings),
        },
    )
