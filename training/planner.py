"""``plan_courses``: choose employers, tailor their courses and schedule the sessions.

Steps:

1. validate the candidates, and leave out those trained recently or without
   an expected-injury figure;
2. build hazard profiles and tailor courses (:mod:`training.tailor`), and leave
   out employers whose sessions cannot fit the horizon;
3. check the request's lower limits;
4. solve in one scheduling model (``joint``), or as selection followed by
   scheduling (``two_stage``, see :mod:`training.select`);
5. assemble the course plans.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk.errors import InputDataError, RowError
from training.assemble import build_course_plans, build_sessions, open_finding_counts, selected_ids
from training.catalog import load_course_effects
from training.errors import PlanningError
from training.feasibility import (
    SCHEDULE_GROUPS,
    SELECTION_GROUPS,
    check_requirements,
    find_binding_group,
    infeasible,
)
from training.milp import MilpResult
from training.models import (
    HazardEvidence,
    PlanBudget,
    PlanOptions,
    SolveReport,
    StageReport,
    TrainingPlan,
)
from training.problem import PlanningProblem, build_problem
from training.profile import build_hazard_profiles, open_findings
from training.schedule import Assignment, Chunk, count_variables, joint_chunks, solve_schedule
from training.select import assign_trainers, recently_trained, solve_selection
from training.tailor import tailor_courses

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("employer_id", "district_code", "industry_code", "expected_injuries")
# Rounds of selection and scheduling when scheduling drops employers (only with blackout weeks).
_MAX_ROUNDS = 3


def prepare_candidates(candidates: pd.DataFrame) -> pd.DataFrame:
    """Validate the candidate frame and fill the optional columns.

    ``headcount`` may be given as ``insured_headcount``; a missing headcount
    means one class per course. ``risk_score`` defaults to ``1 - exp(-expected_injuries)``,
    the Poisson probability of at least one injury, and ``name`` to the ``employer_id``.

    Raises
    ------
    InputDataError
        If a required column is missing, an ``employer_id`` repeats, or
        ``expected_injuries`` is negative.
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in candidates.columns]
    if missing:
        present = ", ".join(repr(c) for c in list(candidates.columns)[:10])
        raise InputDataError(
            f"候选单位表缺少列 {missing!r}；现有列：{present}。"
            f" / The candidate frame is missing column(s) {missing!r}; it has: {present}."
        )
    frame = candidates.copy()
    if "headcount" not in frame.columns:
        frame["headcount"] = frame.get("insured_headcount", pd.Series(np.nan, index=frame.index))
    frame["employer_id"] = frame["employer_id"].astype(str)
    frame["district_code"] = frame["district_code"].astype(str)
    frame["industry_code"] = frame["industry_code"].astype(str)
    frame["expected_injuries"] = pd.to_numeric(frame["expected_injuries"], errors="coerce")
    frame["headcount"] = pd.to_numeric(frame["headcount"], errors="coerce").fillna(1).clip(lower=1)
    if "risk_score" not in frame.columns:
        frame["risk_score"] = 1.0 - np.exp(-frame["expected_injuries"].fillna(0.0))
    if "name" not in frame.columns:
        frame["name"] = frame["employer_id"]
    frame["name"] = frame["name"].fillna(frame["employer_id"]).astype(str)

    errors = [
        RowError(
            "candidates",
            int(i) + 2,
            "employer_id",
            value,
            "单位编号重复",
            "the employer_id appears more than once",
        )
        for i, value in frame.loc[frame["employer_id"].duplicated(), "employer_id"].items()
    ]
    errors += [
        RowError(
            "candidates",
            int(i) + 2,
            "expected_injuries",
            str(value),
            "预期工伤数不能为负数",
            "expected injuries cannot be negative",
        )
        for i, value in frame.loc[frame["expected_injuries"] < 0, "expected_injuries"].items()
    ]
    if errors:
        raise InputDataError(
            f"候选单位表有 {len(errors)} 处无效数据。 / The candidate frame has {len(errors)}"
            " invalid value(s): "
            + "; ".join(error.describe() for error in errors[:5]),
            errors,
        )
    return frame.reset_index(drop=True)


def _excluded_frame(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["employer_id", "reason_code", "reason_zh", "reason_en"])


def _screen(
    frame: pd.DataFrame, evidence: HazardEvidence, as_of: dt.date, options: PlanOptions
) -> tuple[pd.DataFrame, list[tuple[str, str, str, str]]]:
    """Drop candidates trained in the last N months or without expected injuries."""
    trained = recently_trained(evidence.training_records, as_of, options.exclude_trained_months)
    rows = [
        (
            i,
            "recently_trained",
            f"近{options.exclude_trained_months}个月内已接受培训",
            f"trained in the last {options.exclude_trained_months} months",
        )
        for i in frame["employer_id"]
        if i in trained
    ]
    rows += [
        (i, "no_expected_injuries", "缺少预期工伤数", "expected injuries are missing")
        for i in frame.loc[frame["expected_injuries"].isna(), "employer_id"]
    ]
    dropped = {row[0] for row in rows}
    return frame[~frame["employer_id"].isin(dropped)].reset_index(drop=True), rows


def _too_many_sessions(problem: PlanningProblem) -> np.ndarray:
    """Return employers whose sessions exceed what their available weeks can hold."""
    room = np.array([len(weeks) for weeks in problem.available_weeks]) * problem.weekly_limit
    return problem.sessions > room


@dataclass(frozen=True)
class _Solution:
    """Solved schedule: ``assignments`` index the demands of ``problem``."""

    problem: PlanningProblem
    chosen: np.ndarray
    assignments: list[Assignment]
    reports: list[StageReport]
    bound: float


def _raise_infeasible(
    result: MilpResult, attempt: Callable[[frozenset[str]], MilpResult], groups: tuple[str, ...]
) -> None:
    if not result.infeasible:
        raise PlanningError(
            f"求解器在时限内没有找到可行计划（状态 {result.report.status}），请延长时限或放宽约束。"
            f" / The solver found no feasible plan within the time limit (status"
            f" {result.report.status}); allow more time or relax the constraints."
        )
    group = find_binding_group(attempt, groups)
    raise infeasible(
        group,
        "放宽该约束后即可排出计划；请调整它，或减少必须纳入的单位和区县最低名额。",
        "Relaxing it makes the request feasible; change it, or ask for fewer must-include"
        " employers and lower district minimums.",
    )


def _remaining(deadline: float) -> float:
    return max(deadline - time.perf_counter(), 1.0)


def _solve_joint(problem: PlanningProblem, options: PlanOptions, deadline: float) -> _Solution:
    chunks = joint_chunks(problem)
    result, chosen, assignments = solve_schedule(
        problem, chunks, _remaining(deadline), options.mip_rel_gap
    )
    if not result.feasible:
        _raise_infeasible(
            result,
            lambda relax: solve_schedule(
                problem, chunks, _remaining(deadline), options.mip_rel_gap, relax
            )[0],
            SCHEDULE_GROUPS,
        )
    return _Solution(problem, chosen, assignments, [result.report], result.report.dual_bound)


def _schedule_selection(
    sub: PlanningProblem, chosen: np.ndarray, flows: dict, options: PlanOptions, deadline: float
) -> _Solution:
    """Fix each chosen session's trainer from the flows, then place the sessions on weeks."""
    stage, demand_position = sub.subset(chosen), sub.demand_positions(chosen)
    chunks = [
        Chunk(int(demand_position[d]), np.array([t]), n)
        for d, t, n in assign_trainers(sub, chosen, flows)
    ]
    # First try to keep every chosen employer: with y fixed the model is a pure feasibility
    # problem, which HiGHS solves several times faster. Only blackout weeks can make it fail.
    strict = dataclasses.replace(stage, must_include=np.ones(stage.employer_count, dtype=bool))
    result, kept, assignments = solve_schedule(
        strict, chunks, 0.5 * _remaining(deadline), options.mip_rel_gap
    )
    if result.feasible:
        return _Solution(stage, kept, assignments, [result.report], float("nan"))
    result, kept, assignments = solve_schedule(
        stage, chunks, _remaining(deadline), options.mip_rel_gap
    )
    if not result.feasible:
        # NOTE: only blackout weeks can make this stage infeasible, when they stop a must-include
        # employer or a district minimum; another selection might still have fitted.
        _raise_infeasible(
            result,
            lambda relax: solve_schedule(
                stage, chunks, _remaining(deadline), options.mip_rel_gap, relax
            )[0],
            SCHEDULE_GROUPS,
        )
    return _Solution(stage, kept, assignments, [result.report], float("nan"))


def _solve_two_stage(problem: PlanningProblem, options: PlanOptions, deadline: float) -> _Solution:
    active = np.ones(problem.employer_count, dtype=bool)
    reports: list[StageReport] = []
    bound = float("nan")
    for round_number in range(_MAX_ROUNDS):
        sub = problem.subset(active)
        result, chosen, flows = solve_selection(sub, _remaining(deadline), options.mip_rel_gap)
        if not result.feasible:
            _raise_infeasible(
                result,
                # Bind this round's subproblem: the call happens before the loop moves on.
                lambda relax, sub=sub: solve_selection(
                    sub, _remaining(deadline), options.mip_rel_gap, relax
                )[0],
                SELECTION_GROUPS,
            )
        if round_number == 0:
            # The first selection saw every candidate, so its bound holds for the whole request.
            bound = result.report.dual_bound
        solution = _schedule_selection(sub, chosen, flows, options, deadline)
        reports += [result.report, *solution.reports]
        dropped = solution.problem.employer_ids[~solution.chosen]
        if not len(dropped) or round_number == _MAX_ROUNDS - 1 or time.perf_counter() > deadline:
            break
        logger.info("Scheduling dropped %d employers; selecting again without them", len(dropped))
        active &= ~np.isin(problem.employer_ids, dropped)
    return _Solution(solution.problem, solution.chosen, solution.assignments, reports, bound)


def _solve_report(
    solution: _Solution, strategy: str, objective: float, started: float, options: PlanOptions
) -> SolveReport:
    bound = solution.bound if np.isfinite(solution.bound) else objective
    # HiGHS reports its bound to within its tolerances; the gap is never negative.
    bound = max(bound, objective)
    gap = (bound - objective) / bound if bound > 0 else 0.0
    optimal = all(report.status == "optimal" for report in solution.reports)
    return SolveReport(
        strategy=strategy,
        status="optimal" if optimal else "time_limit",
        objective=objective,
        bound=bound,
        gap=gap,
        solve_seconds=time.perf_counter() - started,
        time_limit_seconds=options.time_limit_seconds,
        stages=tuple(solution.reports),
    )


def _choose_strategy(problem: PlanningProblem, options: PlanOptions) -> str:
    if options.strategy != "auto":
        return options.strategy
    size = count_variables(problem, joint_chunks(problem))
    return "joint" if size <= options.joint_max_variables else "two_stage"


def _default_start(as_of: dt.date) -> dt.date:
    """Return the first Monday after ``as_of``."""
    return as_of + dt.timedelta(days=7 - as_of.weekday())


def plan_courses(
    candidates: pd.DataFrame,
    courses: pd.DataFrame,
    trainers: pd.DataFrame,
    budget: PlanBudget,
    *,
    effects: pd.DataFrame | None = None,
    evidence: HazardEvidence | None = None,
    options: PlanOptions | None = None,
) -> TrainingPlan:
    """Choose employers, tailor their courses and schedule every session on a trainer and a week.

    Parameters
    ----------
    candidates : pd.DataFrame
        One row per employer: ``employer_id``, ``district_code``, ``industry_code``,
        ``expected_injuries``; optional ``headcount`` (or ``insured_headcount``),
        ``risk_score`` and ``name``.
    courses, trainers : pd.DataFrame
        Parsed catalogue frames (:func:`training.catalog.load_courses`, ``load_trainers``).
    budget : PlanBudget
        Employers, sessions and trainer hours the programme can pay for.
    effects : pd.DataFrame, optional
        Course-effect table; the shipped defaults when None.
    evidence : HazardEvidence, optional
        SHAP contributions, incidents, hazard findings and training records.
    options : PlanOptions, optional
        Horizon, quotas, blackout weeks, solver settings.

    Returns
    -------
    TrainingPlan
        Satisfies every constraint of the request; its ``solve`` report gives
        the objective, the optimality gap and the solve time.

    Raises
    ------
    InputDataError
        If the candidate frame is invalid.
    PlanInfeasibleError
        If no plan satisfies the request; ``constraint`` names the binding one.
    """
    started = time.perf_counter()
    options = options or PlanOptions()
    evidence = evidence or HazardEvidence()
    effects = load_course_effects() if effects is None else effects
    as_of = options.as_of or dt.date.today()
    start_date = options.start_date or _default_start(as_of)
    frame = prepare_candidates(candidates)

    screened, excluded = _screen(frame, evidence, as_of, options)
    profiles = build_hazard_profiles(screened, evidence, as_of, options.profile)
    tailored = tailor_courses(screened, profiles, courses, trainers, effects, options.tailoring)
    excluded += list(tailored.unplannable.itertuples(index=False, name=None))
    worthless = tailored.value.index[
        (tailored.value <= 0)
        & ~tailored.value.index.isin(list(options.must_include))
        & ~tailored.value.index.isin(tailored.unplannable["employer_id"])
    ]
    excluded += [
        (
            i,
            "no_expected_benefit",
            "预期工伤数为零，培训无可避免的工伤",
            "expected injuries are zero, so training averts none",
        )
        for i in worthless
    ]
    plannable = screened[
        ~screened["employer_id"].isin(tailored.unplannable["employer_id"])
        & ~screened["employer_id"].isin(worthless)
    ]
    problem = build_problem(plannable, tailored.value, tailored.picks, trainers, budget, options)
    crowded = _too_many_sessions(problem)
    excluded += [
        (
            i,
            "too_many_sessions",
            "所需场次超过计划期内可安排的周数",
            "needs more sessions than its available weeks can hold",
        )
        for i in problem.employer_ids[crowded]
    ]
    problem = problem.subset(~crowded)
    reasons = {row[0]: (row[2], row[3]) for row in excluded}
    check_requirements(problem, options.must_include, reasons, Counter(problem.districts.tolist()))

    strategy = _choose_strategy(problem, options)
    deadline = started + options.time_limit_seconds
    solve = _solve_joint if strategy == "joint" else _solve_two_stage
    solution = solve(problem, options, deadline)
    chosen_ids = selected_ids(solution.problem, solution.chosen)
    sessions = build_sessions(solution.problem, solution.assignments, tailored, courses, start_date)
    open_counts = open_finding_counts(
        open_findings(evidence.hazard_findings, pd.Index(chosen_ids), as_of)
    )
    plans = build_course_plans(
        plannable.set_index("employer_id"), chosen_ids, sessions, tailored, open_counts
    )
    objective = float(sum(plan.expected_injuries_averted for plan in plans))
    report = _solve_report(solution, strategy, objective, started, options)
    logger.info(
        "Planned %d employers, %d sessions, %.3f expected injuries averted (gap %.4f, %s, %.2f s)",
        len(plans),
        sum(len(plan.sessions) for plan in plans),
        objective,
        report.gap,
        strategy,
        report.solve_seconds,
    )
    return TrainingPlan(
        course_plans=plans,
        solve=report,
        budget=budget,
        options=options,
        as_of=as_of,
        start_date=start_date,
        horizon_weeks=options.horizon_weeks,
        excluded=_excluded_frame(excluded),
    )
