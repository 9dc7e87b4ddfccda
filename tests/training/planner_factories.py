"""Builders of small catalogues, trainers and candidates, and an independent plan checker.

The checker re-derives every constraint from the request and the plan's
sessions, without calling the planner's own code, so the property tests do
not trust what they test.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import pandas as pd

from training.catalog import validate_course_effects, validate_courses, validate_trainers
from training.models import PlanBudget, PlanOptions, TrainingPlan

AS_OF = dt.date(2025, 12, 31)
DISTRICTS = ("330102", "330109", "330110")


def make_courses(rows: list[dict[str, str]]) -> pd.DataFrame:
    """Return a validated course frame; missing cells take plain defaults."""
    defaults = {
        "title_zh": "课程",
        "title_en": "Course",
        "accident_types": "",
        "industries": "",
        "hazard_categories": "",
        "hours": "2",
        "mode": "on_site",
        "engagement": "interactive",
        "class_size": "30",
        "qualification": "general",
    }
    return validate_courses(pd.DataFrame([{**defaults, **row} for row in rows]))


def make_trainers(rows: list[dict[str, str]]) -> pd.DataFrame:
    """Return a validated trainer frame; missing cells take plain defaults."""
    defaults = {
        "organisation": "示例机构",
        "qualifications": "general",
        "district_codes": "|".join(DISTRICTS),
        "sessions_per_week": "2",
    }
    return validate_trainers(pd.DataFrame([{**defaults, **row} for row in rows]))


def shipped_effects() -> pd.DataFrame:
    """Return the shipped course-effect table."""
    from training.catalog import load_course_effects

    return validate_course_effects(load_course_effects().astype(str))


def make_candidates(
    count: int,
    district: str = "330102",
    industry: str = "C3311",
    headcount: int = 40,
    expected: float = 1.0,
) -> pd.DataFrame:
    """Return ``count`` candidates in one district and industry.

    Row ``i`` has ``expected / (1 + i)`` expected injuries, so the values fall down the frame.
    """
    return pd.DataFrame(
        {
            "employer_id": [f"E{i:03d}" for i in range(count)],
            "district_code": district,
            "industry_code": industry,
            "headcount": headcount,
            "expected_injuries": [expected / (1 + i) for i in range(count)],
        }
    )


def _blackout(options: PlanOptions, employer_id: str) -> frozenset[int]:
    return frozenset(options.blackout_weeks.get(employer_id, frozenset()))


def plan_violations(
    plan: TrainingPlan,
    candidates: pd.DataFrame,
    courses: pd.DataFrame,
    trainers: pd.DataFrame,
    budget: PlanBudget,
    options: PlanOptions,
    training_records: pd.DataFrame | None = None,
) -> list[str]:
    """Return a description of every constraint the plan breaks; empty when it keeps them all."""
    problems: list[str] = []
    course = courses.set_index("course_id")
    trainer = trainers.set_index("trainer_id")
    district = dict(zip(candidates["employer_id"], candidates["district_code"], strict=True))
    employers = [p.employer_id for p in plan.course_plans]
    sessions = plan.sessions

    problems += [f"{e} is not a candidate" for e in employers if e not in district]
    problems += [f"{e} appears twice" for e, n in Counter(employers).items() if n > 1]
    for s in sessions:
        if (
            course.loc[s.course_id, "qualification"]
            not in trainer.loc[s.trainer_id, "qualifications"]
        ):
            problems.append(f"{s.trainer_id} lacks the qualification for {s.course_id}")
        if district[s.employer_id] not in trainer.loc[s.trainer_id, "district_codes"]:
            problems.append(f"{s.trainer_id} does not serve the district of {s.employer_id}")
        if not 1 <= s.week <= options.horizon_weeks:
            problems.append(f"session of {s.employer_id} in week {s.week} outside the horizon")
        if s.week in _blackout(options, s.employer_id):
            problems.append(f"session of {s.employer_id} in its blackout week {s.week}")
        if s.week_start != plan.start_date + dt.timedelta(weeks=s.week - 1):
            problems.append(f"week_start {s.week_start} does not match week {s.week}")
    for (t, week), n in Counter((s.trainer_id, s.week) for s in sessions).items():
        if n > trainer.loc[t, "sessions_per_week"]:
            problems.append(f"trainer {t} has {n} sessions in week {week}")
    for (e, week), n in Counter((s.employer_id, s.week) for s in sessions).items():
        if n > options.max_sessions_per_employer_week:
            problems.append(f"employer {e} has {n} sessions in week {week}")
    for p in plan.course_plans:
        wanted = Counter({c.course_id: c.sessions for c in p.courses})
        given = Counter(s.course_id for s in p.sessions)
        if wanted != given or not p.courses:
            problems.append(
                f"{p.employer_id} gets sessions {dict(given)} for courses {dict(wanted)}"
            )

    problems += _budget_violations(plan, course, budget)
    per_district = Counter(district[e] for e in employers)
    problems += [
        f"district {d} has {per_district[d]} > {m}"
        for d, m in options.district_max.items()
        if per_district[d] > m
    ]
    problems += [
        f"district {d} has {per_district[d]} < {m}"
        for d, m in options.district_min.items()
        if per_district[d] < m
    ]
    problems += [f"must-include {e} is missing" for e in options.must_include if e not in employers]
    problems += _recent_training_violations(employers, training_records, options)
    return problems


def _budget_violations(plan: TrainingPlan, course: pd.DataFrame, budget: PlanBudget) -> list[str]:
    problems = []
    sessions = plan.sessions
    hours = sum(float(course.loc[s.course_id, "hours"]) for s in sessions)
    if budget.max_employers is not None and len(plan.course_plans) > budget.max_employers:
        problems.append(f"{len(plan.course_plans)} employers > {budget.max_employers}")
    if budget.max_sessions is not None and len(sessions) > budget.max_sessions:
        problems.append(f"{len(sessions)} sessions > {budget.max_sessions}")
    if budget.max_trainer_hours is not None and hours > budget.max_trainer_hours + 1e-9:
        problems.append(f"{hours} trainer hours > {budget.max_trainer_hours}")
    return problems


def _recent_training_violations(
    employers: list[str], records: pd.DataFrame | None, options: PlanOptions
) -> list[str]:
    if records is None or records.empty or options.exclude_trained_months <= 0:
        return []
    as_of = pd.Timestamp(options.as_of or AS_OF)
    start = as_of - pd.DateOffset(months=options.exclude_trained_months)
    delivered = pd.to_datetime(records["delivered_on"])
    recent = set(records.loc[delivered > start, "employer_id"])
    return [f"{e} was trained recently" for e in employers if e in recent]


def sessions_needed(headcount: int, class_size: int, max_sessions: int) -> int:
    """Return the sessions the tailoring sizes for one course."""
    return max(1, math.ceil(min(max(headcount, 1), max_sessions * class_size) / class_size))
