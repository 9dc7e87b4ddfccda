"""Value types of the planner: its inputs (budget, options, evidence) and its output plan.

Weeks are numbered from 1 to ``horizon_weeks``; week ``w`` starts on
``start_date + 7 * (w - 1)`` days, and ``start_date`` is a Monday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

Strategy = Literal["auto", "joint", "two_stage"]

# GB 6441-86 types whose injuries this project treats as severe by nature (electric shock,
# drowning, falls from height, collapse, roof falls, water inrush, explosions, poisoning and
# asphyxiation). NOTE: an assumption of this project, not taken from a published ranking.
DEFAULT_SEVERE_ACCIDENT_TYPES: frozenset[str] = frozenset(
    {"05", "06", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19"}
)


@dataclass(frozen=True)
class PlanBudget:
    """Programme budget; each limit left as None does not constrain the plan.

    Parameters
    ----------
    max_employers : int or None
        Most employers the plan may include.
    max_sessions : int or None
        Most training sessions over the horizon.
    max_trainer_hours : float or None
        Most trainer hours (sessions times course hours) over the horizon.
    """

    max_employers: int | None = None
    max_sessions: int | None = None
    max_trainer_hours: float | None = None


@dataclass(frozen=True)
class ProfileWeights:
    """Weights of the four sources of an employer's accident-type profile.

    Each source is first normalised to shares that add up to 1, then the
    sources an employer has data for are averaged with these weights.
    """

    shap: float = 0.35
    incidents: float = 0.30
    hazards: float = 0.20
    industry: float = 0.15
    lookback_months: int = 36
    # An open major hazard weighs as much as this many open general hazards.
    major_hazard_weight: float = 3.0
    # Commuting injuries are recognised injuries but happen off site, so they count less.
    commuting_weight: float = 0.5
    severe_accident_types: frozenset[str] = DEFAULT_SEVERE_ACCIDENT_TYPES


@dataclass(frozen=True)
class TailoringOptions:
    """How many courses and sessions one employer may get, and when to stop adding courses."""

    max_courses_per_employer: int = 3
    max_sessions_per_course: int = 4
    # Stop adding courses once the next one averts less than this share of expected injuries.
    min_marginal_share: float = 0.005
    # Gain multiplier for a course that addresses a hazard category still open at the employer.
    open_hazard_bonus: float = 1.5


@dataclass(frozen=True)
class PlanOptions:
    """Scheduling horizon, selection rules and solver settings of one planning run."""

    horizon_weeks: int = 26
    start_date: dt.date | None = None
    as_of: dt.date | None = None
    max_sessions_per_employer_week: int = 2
    # Weeks (1-based) in which an employer cannot host training, by employer_id.
    blackout_weeks: Mapping[str, frozenset[int]] = field(default_factory=dict)
    district_min: Mapping[str, int] = field(default_factory=dict)
    district_max: Mapping[str, int] = field(default_factory=dict)
    must_include: frozenset[str] = frozenset()
    exclude_trained_months: int = 12
    time_limit_seconds: float = 60.0
    mip_rel_gap: float = 0.005
    strategy: Strategy = "auto"
    # "auto" solves selection and scheduling in one model up to this many week variables.
    joint_max_variables: int = 60_000
    profile: ProfileWeights = field(default_factory=ProfileWeights)
    tailoring: TailoringOptions = field(default_factory=TailoringOptions)


@dataclass(frozen=True)
class HazardEvidence:
    """Optional evidence the hazard profile is built from; all frames use canonical columns.

    ``contributions`` is long: ``employer_id``, ``feature_name``, ``contribution``
    (SHAP values in log-odds). ``employers`` gives the industry of employers
    outside the candidate list, so the industry mix uses every incident.
    """

    contributions: pd.DataFrame | None = None
    incidents: pd.DataFrame | None = None
    hazard_findings: pd.DataFrame | None = None
    training_records: pd.DataFrame | None = None
    employers: pd.DataFrame | None = None


@dataclass(frozen=True)
class CourseChoice:
    """One course chosen for one employer, with its session count and reasons."""

    course_id: str
    title_zh: str
    title_en: str
    sessions: int
    trainees: int
    accident_types: tuple[str, ...]
    engagement: str
    mode: str
    hours: float
    qualification: str
    # Expected injuries this course averts on top of the courses chosen before it.
    expected_injuries_averted: float
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class TrainingSession:
    """培训场次: one delivery of one course at one employer by one trainer in one week."""

    employer_id: str
    course_id: str
    trainer_id: str
    organisation: str
    week: int
    week_start: dt.date
    # 1-based index of this session among the employer's sessions of the same course.
    sequence: int
    hours: float
    mode: str
    planned_attendees: int


@dataclass
class CoursePlan:
    """培训方案: the courses and sessions planned for one employer and why it was chosen."""

    employer_id: str
    name: str
    district_code: str
    industry_code: str
    headcount: int
    risk_score: float
    expected_injuries: float
    expected_injuries_averted: float
    # Accident-type shares of the employer's profile, largest first, GB 6441 code -> share.
    profile: dict[str, float]
    courses: list[CourseChoice]
    sessions: list[TrainingSession]
    rationale_zh: str
    rationale_en: str


@dataclass(frozen=True)
class StageReport:
    """Solver figures of one mixed-integer programme solved while planning."""

    name: str
    status: str
    objective: float
    dual_bound: float
    gap: float
    solve_seconds: float
    variables: int
    constraints: int


@dataclass(frozen=True)
class SolveReport:
    """Solver figures of a planning run.

    ``objective`` is the plan's expected injuries averted and ``bound`` an
    upper bound on what any plan over the same candidates could avert, so
    ``gap = (bound - objective) / bound``. ``status`` is ``"optimal"`` when
    every stage closed its gap within the tolerance and ``"time_limit"`` when
    a stage stopped at the time limit with its best plan.
    """

    strategy: str
    status: str
    objective: float
    bound: float
    gap: float
    solve_seconds: float
    time_limit_seconds: float
    stages: tuple[StageReport, ...]


@dataclass
class TrainingPlan:
    """A planning run's result: the employers chosen, their course plans and sessions."""

    course_plans: list[CoursePlan]
    solve: SolveReport
    budget: PlanBudget
    options: PlanOptions
    as_of: dt.date
    start_date: dt.date
    horizon_weeks: int
    # Candidates left out before optimising: employer_id, reason_code, reason_zh, reason_en.
    excluded: pd.DataFrame

    @property
    def sessions(self) -> list[TrainingSession]:
        """Every session of the plan, ordered by week, trainer and employer."""
        sessions = [session for plan in self.course_plans for session in plan.sessions]
        return sorted(
            sessions, key=lambda s: (s.week, s.trainer_id, s.employer_id, s.course_id, s.sequence)
        )

    @property
    def expected_injuries_averted(self) -> float:
        """Expected injuries averted by the whole plan."""
        return float(sum(plan.expected_injuries_averted for plan in self.course_plans))

    def sessions_frame(self) -> pd.DataFrame:
        """Return one row per session with the employer's name and the course titles."""
        plans = {plan.employer_id: plan for plan in self.course_plans}
        titles = {
            (plan.employer_id, course.course_id): course
            for plan in self.course_plans
            for course in plan.courses
        }
        rows = []
        for session in self.sessions:
            course = titles[(session.employer_id, session.course_id)]
            plan = plans[session.employer_id]
            rows.append(
                {
                    "week": session.week,
                    "week_start": session.week_start,
                    "trainer_id": session.trainer_id,
                    "organisation": session.organisation,
                    "employer_id": session.employer_id,
                    "employer_name": plan.name,
                    "district_code": plan.district_code,
                    "course_id": session.course_id,
                    "title_zh": course.title_zh,
                    "title_en": course.title_en,
                    "sequence": session.sequence,
                    "hours": session.hours,
                    "mode": session.mode,
                    "planned_attendees": session.planned_attendees,
                }
            )
        return pd.DataFrame(rows, columns=_SESSION_COLUMNS)

    def employers_frame(self) -> pd.DataFrame:
        """Return one row per planned employer with its figures, courses and rationale."""
        rows = [
            {
                "employer_id": plan.employer_id,
                "employer_name": plan.name,
                "district_code": plan.district_code,
                "industry_code": plan.industry_code,
                "headcount": plan.headcount,
                "risk_score": plan.risk_score,
                "expected_injuries": plan.expected_injuries,
                "expected_injuries_averted": plan.expected_injuries_averted,
                "courses": "|".join(course.course_id for course in plan.courses),
                "sessions": len(plan.sessions),
                "rationale_zh": plan.rationale_zh,
                "rationale_en": plan.rationale_en,
            }
            for plan in self.course_plans
        ]
        return pd.DataFrame(rows, columns=_EMPLOYER_COLUMNS)


_SESSION_COLUMNS = [
    "week",
    "week_start",
    "trainer_id",
    "organisation",
    "employer_id",
    "employer_name",
    "district_code",
    "course_id",
    "title_zh",
    "title_en",
    "sequence",
    "hours",
    "mode",
    "planned_attendees",
]
_EMPLOYER_COLUMNS = [
    "employer_id",
    "employer_name",
    "district_code",
    "industry_code",
    "headcount",
    "risk_score",
    "expected_injuries",
    "expected_injuries_averted",
    "courses",
    "sessions",
    "rationale_zh",
    "rationale_en",
]
