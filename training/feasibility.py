"""Infeasible requests: checks before solving, and naming the binding constraint after.

A plan with no employer satisfies every upper limit, so a request can only be
infeasible through its lower limits: employers that must be included and
per-district minimum quotas. The checks here catch the common cases with the
numbers involved; when the solver still finds no plan, :func:`find_binding_group`
relaxes one constraint group at a time and names the first whose relaxation
makes the request feasible.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

import numpy as np

from training.errors import PlanInfeasibleError
from training.milp import MilpResult
from training.problem import PlanningProblem

logger = logging.getLogger(__name__)

GROUP_LABELS: dict[str, tuple[str, str]] = {
    "budget_employers": ("预算单位数上限", "the budget's maximum number of employers"),
    "budget_sessions": ("预算场次上限", "the budget's maximum number of sessions"),
    "budget_trainer_hours": ("预算培训学时上限", "the budget's maximum trainer hours"),
    "district_max": ("区县名额上限", "the per-district maximum quotas"),
    "district_min": ("区县最低名额", "the per-district minimum quotas"),
    "must_include": ("必须纳入的单位", "the employers that must be included"),
    "trainer_capacity": (
        "培训机构在计划期内的总场次能力",
        "the trainers' session capacity over the horizon",
    ),
    "trainer_weekly_capacity": ("培训机构每周场次能力", "the trainers' weekly session capacity"),
    "employer_weekly_limit": (
        "每家单位每周场次上限",
        "the limit of sessions per employer per week",
    ),
    "blackout_weeks": ("单位不可安排培训的周", "the employers' blackout weeks"),
}

# Limits tried first: if relaxing one of them alone helps, it is what blocks the lower limits.
SELECTION_GROUPS = (
    "budget_employers",
    "budget_sessions",
    "budget_trainer_hours",
    "district_max",
    "trainer_capacity",
)
SCHEDULE_GROUPS = (
    "budget_employers",
    "budget_sessions",
    "budget_trainer_hours",
    "district_max",
    "trainer_weekly_capacity",
    "employer_weekly_limit",
    "blackout_weeks",
)
REQUIREMENT_GROUPS = ("district_min", "must_include")


def infeasible(constraint: str, detail_zh: str, detail_en: str) -> PlanInfeasibleError:
    """Return the error for a request that ``constraint`` makes infeasible."""
    group = constraint.split(":", 1)[0]
    label_zh, label_en = GROUP_LABELS[group]
    message_zh = f"无法在现有约束下排出培训计划：受「{label_zh}」约束。{detail_zh}"
    message_en = (
        f"No training plan satisfies the request; the binding constraint is {label_en}. {detail_en}"
    )
    return PlanInfeasibleError(
        f"{message_zh} / {message_en}",
        constraint,
        message_zh=message_zh,
        message_en=message_en,
    )


def check_requirements(
    problem: PlanningProblem,
    must_include: frozenset[str],
    excluded_reasons: dict[str, tuple[str, str]],
    district_candidates: Counter[str],
) -> None:
    """Raise :class:`PlanInfeasibleError` for lower limits that no plan can meet.

    Parameters
    ----------
    problem : PlanningProblem
        The plannable employers.
    must_include : frozenset[str]
        Employers every plan must contain.
    excluded_reasons : dict[str, tuple[str, str]]
        Chinese and English reason of each candidate left out before optimising,
        by ``employer_id``.
    district_candidates : Counter[str]
        Plannable employers per district.
    """
    missing = sorted(set(must_include) - set(problem.employer_ids) - set(excluded_reasons))
    if missing:
        shown = ", ".join(repr(i) for i in missing[:5]) + (", …" if len(missing) > 5 else "")
        raise infeasible(
            "must_include",
            f"以下单位不在候选名单中：{shown}。",
            f"These employers are not among the candidates: {shown}.",
        )
    blocked = sorted(i for i in must_include if i in excluded_reasons)
    if blocked:
        employer_id = blocked[0]
        reason_zh, reason_en = excluded_reasons[employer_id]
        raise infeasible(
            f"must_include:{employer_id}",
            f"必须纳入的单位 {employer_id!r} 无法安排：{reason_zh}。",
            f"Employer {employer_id!r} must be included but cannot be planned: {reason_en}.",
        )
    for district in sorted(set(problem.district_min) & set(problem.district_max)):
        if problem.district_min[district] > problem.district_max[district]:
            raise infeasible(
                f"district_min:{district}",
                f"区县 {district} 的最低名额 {problem.district_min[district]} 大于上限"
                f" {problem.district_max[district]}。",
                f"District {district} has a minimum quota of {problem.district_min[district]}"
                f" above its maximum of {problem.district_max[district]}.",
            )
    for district, minimum in sorted(problem.district_min.items()):
        if minimum > district_candidates.get(district, 0):
            available = district_candidates.get(district, 0)
            raise infeasible(
                f"district_min:{district}",
                f"区县 {district} 要求至少 {minimum} 家单位，"
                f"但只有 {available} 家候选单位可以安排。",
                f"District {district} needs at least {minimum} employers but only {available}"
                " candidates can be planned there.",
            )
    _check_budget_floor(problem)


def _check_budget_floor(problem: PlanningProblem) -> None:
    """Raise when the employers any plan must contain already exceed a budget limit."""
    must = problem.must_include
    needed = 0
    for district in np.unique(problem.districts):
        in_district = problem.districts == district
        needed += max(int((must & in_district).sum()), problem.district_min.get(str(district), 0))
    budget = problem.budget
    if budget.max_employers is not None and needed > budget.max_employers:
        raise infeasible(
            "budget_employers",
            f"必须纳入的单位和区县最低名额合计至少 {needed} 家，"
            f"超过预算上限 {budget.max_employers} 家。",
            f"Must-include employers and district minimum quotas need at least {needed}"
            f" employers, above the budget of {budget.max_employers}.",
        )
    sessions, hours = int(problem.sessions[must].sum()), float(problem.hours[must].sum())
    if budget.max_sessions is not None and sessions > budget.max_sessions:
        raise infeasible(
            "budget_sessions",
            f"必须纳入的单位共需 {sessions} 场，超过预算上限 {budget.max_sessions} 场。",
            f"The must-include employers need {sessions} sessions, above the budget of"
            f" {budget.max_sessions}.",
        )
    if budget.max_trainer_hours is not None and hours > budget.max_trainer_hours:
        raise infeasible(
            "budget_trainer_hours",
            f"必须纳入的单位共需 {hours:g} 学时，超过预算上限 {budget.max_trainer_hours:g} 学时。",
            f"The must-include employers need {hours:g} trainer hours, above the budget of"
            f" {budget.max_trainer_hours:g}.",
        )


def find_binding_group(
    solve: Callable[[frozenset[str]], MilpResult], groups: tuple[str, ...]
) -> str:
    """Return the first group whose relaxation alone makes ``solve`` feasible.

    When none does on its own, the lower limits themselves conflict with the
    combination, and the group named is ``district_min`` if any minimum quota
    is set, otherwise ``must_include``.
    """
    for group in groups:
        result = solve(frozenset({group}))
        logger.info("Infeasibility check: relaxing %s gives %s", group, result.report.status)
        if result.feasible:
            return group
    for group in REQUIREMENT_GROUPS:
        if solve(frozenset({group})).feasible:
            return group
    return "must_include"
