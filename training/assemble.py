"""Turn a solved schedule into course plans: sessions with courses, weeks and rationale."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd

from training.models import CoursePlan, TrainingSession
from training.problem import PlanningProblem
from training.profile import ACCIDENT_TYPES, SOURCES
from training.rationale import EmployerFacts, employer_rationale
from training.schedule import Assignment
from training.tailor import TailoredCourses

# Accident types below this share are left out of an employer's stated profile.
_PROFILE_SHARE_SHOWN = 0.05


def _course_slots(picks: pd.DataFrame) -> dict[tuple[str, str], list[tuple[str, float, int, int]]]:
    """Return, per (employer, qualification), its course sessions in the order courses were chosen.

    Each slot is ``(course_id, hours, planned_attendees, sequence)``.
    """
    slots: dict[tuple[str, str], list[tuple[str, float, int, int]]] = defaultdict(list)
    for pick in picks.itertuples(index=False):
        for sequence in range(1, int(pick.sessions) + 1):
            slots[(pick.employer_id, pick.qualification)].append(
                (pick.course_id, float(pick.hours), int(pick.planned_attendees), sequence)
            )
    return slots


def build_sessions(
    problem: PlanningProblem,
    assignments: list[Assignment],
    tailored: TailoredCourses,
    courses: pd.DataFrame,
    start_date: dt.date,
) -> dict[str, list[TrainingSession]]:
    """Return the sessions of each employer, earliest week first."""
    mode_of = dict(zip(courses["course_id"], courses["mode"], strict=True))
    employers = {problem.employer_ids[problem.demand_employer[a.demand]] for a in assignments}
    slots = _course_slots(tailored.picks[tailored.picks["employer_id"].isin(employers)])
    by_demand: dict[int, list[Assignment]] = defaultdict(list)
    for assignment in assignments:
        by_demand[assignment.demand].append(assignment)

    sessions: dict[str, list[TrainingSession]] = defaultdict(list)
    for demand, placed in by_demand.items():
        employer_id = str(problem.employer_ids[problem.demand_employer[demand]])
        queue = iter(slots[(employer_id, str(problem.demand_qualification[demand]))])
        for assignment in sorted(placed, key=lambda a: (a.week, a.trainer)):
            for _ in range(assignment.sessions):
                course_id, hours, attendees, sequence = next(queue)
                sessions[employer_id].append(
                    TrainingSession(
                        employer_id=employer_id,
                        course_id=course_id,
                        trainer_id=str(problem.trainer_ids[assignment.trainer]),
                        organisation=str(problem.organisations[assignment.trainer]),
                        week=assignment.week + 1,
                        week_start=start_date + dt.timedelta(weeks=assignment.week),
                        sequence=sequence,
                        hours=hours,
                        mode=mode_of[course_id],
                        planned_attendees=attendees,
                    )
                )
    return {
        key: sorted(value, key=lambda s: (s.week, s.course_id, s.sequence))
        for key, value in sessions.items()
    }


def _ranks(values: pd.Series) -> pd.Series:
    return values.rank(ascending=False, method="min").astype(int)


def build_course_plans(
    candidates: pd.DataFrame,
    chosen_ids: list[str],
    sessions: dict[str, list[TrainingSession]],
    tailored: TailoredCourses,
    open_counts: pd.DataFrame,
) -> list[CoursePlan]:
    """Return a course plan, with its rationale, for each chosen employer, largest value first.

    Parameters
    ----------
    candidates : pd.DataFrame
        The plannable candidates (ranks are taken among them), indexed by ``employer_id``.
    open_counts : pd.DataFrame
        ``open`` and ``major`` finding counts by ``employer_id``.
    """
    risk_rank = _ranks(candidates["risk_score"]).to_dict()
    value_rank = _ranks(tailored.value.reindex(candidates.index).fillna(0.0)).to_dict()
    values = tailored.value.to_dict()
    profiles = tailored.profiles
    row_of = {employer_id: i for i, employer_id in enumerate(profiles.shares.index)}
    shares_all = profiles.shares.to_numpy(float)
    has_source = {name: profiles.sources[name].to_numpy(float).sum(axis=1) > 0 for name in SOURCES}
    records = candidates.loc[chosen_ids].to_dict("index")
    open_hazards, open_major = open_counts["open"].to_dict(), open_counts["major"].to_dict()
    plans = []
    for employer_id in chosen_ids:
        row, position = records[employer_id], row_of[employer_id]
        shares = shares_all[position]
        order = [
            i for i in np.argsort(-shares, kind="stable")[:3] if shares[i] >= _PROFILE_SHARE_SHOWN
        ]
        order = order or [int(np.argmax(shares))]
        courses = tailored.course_choices(employer_id)
        employer_sessions = sessions.get(employer_id, [])
        facts = EmployerFacts(
            expected_injuries=float(row["expected_injuries"]),
            risk_score=float(row["risk_score"]),
            top_types=tuple(ACCIDENT_TYPES[i] for i in order),
            top_shares=tuple(float(shares[i]) for i in order),
            sources=tuple(name for name in SOURCES if has_source[name][position]),
            open_hazards=int(open_hazards.get(employer_id, 0)),
            open_major_hazards=int(open_major.get(employer_id, 0)),
            course_count=len(courses),
            session_count=len(employer_sessions),
            averted=float(values[employer_id]),
            averted_rank=int(value_rank[employer_id]),
            risk_rank=int(risk_rank[employer_id]),
            candidate_count=len(candidates),
        )
        rationale_zh, rationale_en = employer_rationale(facts)
        plans.append(
            CoursePlan(
                employer_id=employer_id,
                name=str(row["name"]),
                district_code=str(row["district_code"]),
                industry_code=str(row["industry_code"]),
                headcount=int(row["headcount"]),
                risk_score=float(row["risk_score"]),
                expected_injuries=float(row["expected_injuries"]),
                expected_injuries_averted=float(values[employer_id]),
                profile={
                    code: round(float(share), 4)
                    for code, share in zip(ACCIDENT_TYPES, shares, strict=True)
                    if share >= 0.0001
                },
                courses=courses,
                sessions=employer_sessions,
                rationale_zh=rationale_zh,
                rationale_en=rationale_en,
            )
        )
    return sorted(plans, key=lambda plan: -plan.expected_injuries_averted)


def open_finding_counts(open_rows: pd.DataFrame) -> pd.DataFrame:
    """Return ``open`` and ``major`` counts of open findings by ``employer_id``."""
    if open_rows.empty:
        return pd.DataFrame({"open": pd.Series(dtype=int), "major": pd.Series(dtype=int)})
    grouped = open_rows.groupby("employer_id")["hazard_level"]
    return pd.DataFrame(
        {"open": grouped.size(), "major": grouped.agg(lambda s: int((s == "major").sum()))}
    )


def selected_ids(problem: PlanningProblem, chosen: np.ndarray) -> list[str]:
    """Return the ids of the chosen employers."""
    return [str(i) for i in problem.employer_ids[chosen]]
