"""Canonical incident and training-record frames built from the simulated counts.

The details of an incident (date, accident type, severity, lost workdays,
disability grade) are drawn after the simulation because nothing later depends
on them: the training programme reacts to injury counts only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk.demo.events import InjuryHistory
from risk.demo.parameters import (
    ACCIDENT_TYPE_MIX,
    COMMUTING_ACCIDENT_TYPE_MIX,
    COURSE_BY_SECTION,
    FATAL_SHARE,
    MINOR_GRADE_WEIGHTS,
    MINOR_LOST_WORKDAYS_MEDIAN,
    SERIOUS_GRADE_WEIGHTS,
    SERIOUS_SHARE,
    DemoParameters,
    lookup,
)
from risk.demo.population import Population
from risk.demo.sampling import choose_by_group, choose_weighted, truncated_lognormal
from risk.demo.timeline import calendar_years, random_days, timestamps, yearly_ids

# GB 6441: an injury with fewer than 105 lost workdays is minor.
SERIOUS_MIN_LOST_WORKDAYS = 105


def build_incidents(
    rng: np.random.Generator,
    population: Population,
    injuries: InjuryHistory,
    month_starts: np.ndarray,
    params: DemoParameters,
) -> pd.DataFrame:
    """Return the canonical incidents frame, sorted by ``occurred_on``."""
    employer, month, commuting = _expand_counts(injuries)
    occurred_on = random_days(rng, month, month_starts)

    work_types = choose_by_group(
        rng, population.section[employer], lambda section: lookup(ACCIDENT_TYPE_MIX, section)
    )
    commute_types = choose_weighted(rng, COMMUTING_ACCIDENT_TYPE_MIX, len(employer))
    accident_type = np.where(commuting, commute_types, work_types)

    severity = _draw_severity(rng, accident_type)
    lost_workdays = _draw_lost_workdays(rng, accident_type, severity, params)
    grade = _draw_disability_grade(rng, severity, params)

    order = np.lexsort((employer, occurred_on))
    employer_ids = population.employers["employer_id"].to_numpy()
    return pd.DataFrame({
        "incident_id": pd.array(yearly_ids(occurred_on[order], "杭人社工认〔", "〕", "号", 5),
                                dtype="str"),
        "employer_id": pd.array(employer_ids[employer[order]], dtype="str"),
        "occurred_on": timestamps(occurred_on[order]),
        "accident_type": pd.array(accident_type[order], dtype="str"),
        "severity": pd.array(severity[order], dtype="str"),
        "lost_workdays": pd.array(lost_workdays[order], dtype="Int64"),
        "disability_grade": pd.array(grade[order], dtype="Int64"),
        "is_commuting": commuting[order],
        "source_event_code": pd.array([pd.NA] * len(order), dtype="str"),
    })


def build_training_records(
    rng: np.random.Generator,
    population: Population,
    injuries: InjuryHistory,
    month_starts: np.ndarray,
    params: DemoParameters,
) -> pd.DataFrame:
    """Return the canonical training-records frame, sorted by ``delivered_on``."""
    employer = injuries.training_employer
    delivered_on = random_days(rng, injuries.training_month, month_starts)
    course = np.array([lookup(COURSE_BY_SECTION, s) for s in population.section[employer]])
    year_index = calendar_years(delivered_on) - population.years[0]
    headcount = population.headcount[employer, year_index]
    spread = np.exp(0.5 * rng.standard_normal(len(employer)))
    drawn = np.rint(params.training_attendees_median * spread)
    attendees = np.clip(drawn, 1, headcount).astype(np.int64)

    order = np.lexsort((employer, delivered_on))
    employer_ids = population.employers["employer_id"].to_numpy()
    return pd.DataFrame({
        "record_id": pd.array(yearly_ids(delivered_on[order], "PX", "-", "", 5), dtype="str"),
        "employer_id": pd.array(employer_ids[employer[order]], dtype="str"),
        "course_id": pd.array(course[order], dtype="str"),
        "delivered_on": timestamps(delivered_on[order]),
        "attendees": attendees[order],
    })


def _expand_counts(injuries: InjuryHistory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # One row per injury: employer row, month index and the commuting flag.
    employers, months, flags = [], [], []
    for counts, commuting in ((injuries.work_counts, False), (injuries.commuting_counts, True)):
        employer, month = np.nonzero(counts)
        repeats = counts[employer, month]
        employers.append(np.repeat(employer, repeats))
        months.append(np.repeat(month, repeats))
        flags.append(np.full(int(repeats.sum()), commuting))
    return np.concatenate(employers), np.concatenate(months), np.concatenate(flags)


def _per_type(table: dict[str, float], codes: np.ndarray) -> np.ndarray:
    values = {code: lookup(table, code) for code in np.unique(codes)}
    return np.array([values[code] for code in codes], dtype=float)


def _draw_severity(rng: np.random.Generator, accident_type: np.ndarray) -> np.ndarray:
    fatal_share = _per_type(FATAL_SHARE, accident_type)
    serious_share = _per_type(SERIOUS_SHARE, accident_type)
    uniform = rng.random(len(accident_type))
    return np.where(
        uniform < fatal_share,
        "fatal",
        np.where(uniform < fatal_share + serious_share, "serious", "minor"),
    )


def _draw_lost_workdays(
    rng: np.random.Generator,
    accident_type: np.ndarray,
    severity: np.ndarray,
    params: DemoParameters,
) -> np.ndarray:
    median = _per_type(MINOR_LOST_WORKDAYS_MEDIAN, accident_type)
    upper = SERIOUS_MIN_LOST_WORKDAYS - 1
    minor = np.ceil(truncated_lognormal(rng, median, params.minor_lost_workdays_sigma, upper))
    extra = params.serious_extra_lost_workdays_median * np.exp(
        params.serious_lost_workdays_sigma * rng.standard_normal(len(severity))
    )
    serious = np.minimum(SERIOUS_MIN_LOST_WORKDAYS + np.floor(extra), params.max_lost_workdays)
    days = np.where(severity == "minor", minor, serious).astype(np.int64)
    # GB 6441 counts a death apart from lost workdays, so a fatal case has none.
    return np.where(severity == "fatal", pd.NA, days).astype(object)


def _draw_disability_grade(
    rng: np.random.Generator, severity: np.ndarray, params: DemoParameters
) -> np.ndarray:
    size = len(severity)
    serious_weights = np.array(SERIOUS_GRADE_WEIGHTS, dtype=float) / sum(SERIOUS_GRADE_WEIGHTS)
    serious_grade = rng.choice(np.arange(1, 11), size=size, p=serious_weights)
    minor_grades = np.array(list(MINOR_GRADE_WEIGHTS))
    minor_weights = np.array(list(MINOR_GRADE_WEIGHTS.values()), dtype=float)
    minor_grade = rng.choice(minor_grades, size=size, p=minor_weights / minor_weights.sum())
    uniform = rng.random(size)
    grade = np.where(
        (severity == "serious") & (uniform < params.serious_graded_share),
        serious_grade,
        np.where((severity == "minor") & (uniform < params.minor_graded_share), minor_grade, 0),
    )
    return np.where(grade > 0, grade, pd.NA).astype(object)
