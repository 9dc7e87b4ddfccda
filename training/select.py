"""Selection: which employers to train, as a mixed-integer programme over aggregate capacity.

The selection model chooses employers (binary ``y[e]``) to maximise expected
injuries averted, subject to the budget, district quotas, employers that must
be included, and trainer capacity over the whole horizon. Capacity is
modelled as a transport problem: ``f[t, k]`` sessions of class ``k`` (one
district and one qualification) go to trainer ``t``, at most
``sessions_per_week * weeks`` per trainer.

Without blackout weeks this aggregate model loses nothing. Once every
employer needs at most ``weekly_limit * weeks`` sessions and every trainer at
most ``sessions_per_week * weeks``, the sessions can always be spread over the
weeks: split each trainer into ``sessions_per_week`` copies and each employer
into ``weekly_limit`` copies, so that no copy has more than ``weeks`` sessions,
and colour the edges of that bipartite multigraph with ``weeks`` colours
(König's edge-colouring theorem). Blackout weeks break the argument, which is
why the scheduling model may still drop an employer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

import numpy as np
import pandas as pd

from training.milp import MilpModel, MilpResult
from training.problem import PlanningProblem

logger = logging.getLogger(__name__)

# Constraint groups that the infeasibility diagnosis can relax, in the order it tries them.
BUDGET_GROUPS = ("budget_employers", "budget_sessions", "budget_trainer_hours", "district_max")


def recently_trained(
    training_records: pd.DataFrame | None, as_of: dt.date, months: int
) -> set[str]:
    """Return employers with a training record delivered after ``as_of`` minus ``months``.

    Records dated after ``as_of`` count too: scores are computed as of a past
    date, and a session delivered since then makes the employer just as recently trained.
    """
    if training_records is None or training_records.empty or months <= 0:
        return set()
    delivered = pd.to_datetime(training_records["delivered_on"])
    start = pd.Timestamp(as_of) - pd.DateOffset(months=months)
    recent = training_records[delivered > start]
    return set(recent["employer_id"].astype(str))


def add_selection_constraints(
    model: MilpModel, problem: PlanningProblem, y: np.ndarray, relax: frozenset[str]
) -> None:
    """Add the budget, district-quota and must-include rows on the selection variables ``y``."""
    budget = problem.budget
    everyone = np.arange(problem.employer_count)
    limits = (
        ("budget_employers", budget.max_employers, np.ones(problem.employer_count)),
        ("budget_sessions", budget.max_sessions, problem.sessions.astype(float)),
        ("budget_trainer_hours", budget.max_trainer_hours, problem.hours),
    )
    for group, limit, weights in limits:
        if limit is not None and group not in relax:
            model.add_constraints(
                np.zeros(len(everyone), dtype=int), y[everyone], weights, -np.inf, float(limit), 1
            )

    for group, quotas in (
        ("district_max", problem.district_max),
        ("district_min", problem.district_min),
    ):
        if group in relax or not quotas:
            continue
        districts = sorted(quotas)
        row_of = {district: i for i, district in enumerate(districts)}
        members = np.flatnonzero(np.isin(problem.districts, districts))
        rows = np.array([row_of[problem.districts[e]] for e in members], dtype=int)
        bounds = np.array([quotas[district] for district in districts], dtype=float)
        lower, upper = (-np.inf, bounds) if group == "district_max" else (bounds, np.inf)
        model.add_constraints(rows, y[members], 1.0, lower, upper, len(districts))


def _classes(problem: PlanningProblem, active: np.ndarray) -> dict[tuple[str, str], list[int]]:
    """Group the demands of active employers by (district, qualification)."""
    classes: dict[tuple[str, str], list[int]] = defaultdict(list)
    for d, e in enumerate(problem.demand_employer):
        if active[e]:
            classes[(problem.districts[e], problem.demand_qualification[d])].append(d)
    return dict(classes)


def build_selection_model(
    problem: PlanningProblem, relax: frozenset[str] = frozenset()
) -> tuple[MilpModel, np.ndarray, dict]:
    """Build the aggregate selection model; return it, the ``y`` columns and the flow columns.

    The flow columns map (class, trainer position) to a column of ``f``.
    """
    model = MilpModel("selection")
    lower = np.where(problem.must_include & ("must_include" not in relax), 1.0, 0.0)
    y = model.add_variables(problem.values, lower, 1.0)
    weeks = problem.weeks
    classes = _classes(problem, np.ones(problem.employer_count, dtype=bool))
    flows: dict[tuple[tuple[str, str], int], int] = {}
    for key, demands in classes.items():
        trainers = problem.demand_trainers[demands[0]]
        upper = (
            np.inf if "trainer_capacity" in relax else problem.trainer_capacity[trainers] * weeks
        )
        columns = model.add_variables(np.zeros(len(trainers)), 0.0, upper)
        flows.update({(key, int(t)): int(c) for t, c in zip(trainers, columns, strict=True)})
        employers = problem.demand_employer[demands]
        cols = np.concatenate([columns, y[employers]])
        coefs = np.concatenate(
            [np.ones(len(columns)), -problem.demand_sessions[demands].astype(float)]
        )
        model.add_constraints(np.zeros(len(cols), dtype=int), cols, coefs, 0.0, 0.0, 1)

    if flows and "trainer_capacity" not in relax:
        trainer_of = np.array([t for (_, t) in flows], dtype=int)
        model.add_constraints(
            trainer_of,
            np.array(list(flows.values())),
            1.0,
            -np.inf,
            problem.trainer_capacity.astype(float) * weeks,
            len(problem.trainer_ids),
        )
    add_selection_constraints(model, problem, y, relax)
    return model, y, flows


def solve_selection(
    problem: PlanningProblem,
    time_limit: float,
    mip_rel_gap: float,
    relax: frozenset[str] = frozenset(),
) -> tuple[MilpResult, np.ndarray, dict]:
    """Solve the selection model; return the result, the chosen mask and the flows per class."""
    model, y, flows = build_selection_model(problem, relax)
    result = model.solve(time_limit, mip_rel_gap)
    if not result.feasible or result.x is None:
        return result, np.zeros(problem.employer_count, dtype=bool), {}
    chosen = result.x[y] > 0.5
    flow_values: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for (key, t), column in flows.items():
        amount = int(result.x[column])
        if amount > 0:
            flow_values[key][t] = amount
    logger.info("Selection chose %d of %d employers", int(chosen.sum()), problem.employer_count)
    return result, chosen, dict(flow_values)


def assign_trainers(
    problem: PlanningProblem, chosen: np.ndarray, flows: dict[tuple[str, str], dict[int, int]]
) -> list[tuple[int, int, int]]:
    """Split each chosen demand over trainers within the selection's flows.

    Returns ``(demand, trainer, sessions)`` triples. Demands are placed largest
    first, each on one trainer where one has room, so an employer mostly
    deals with a single organisation per qualification.
    """
    triples: list[tuple[int, int, int]] = []
    for key, demands in _classes(problem, chosen).items():
        remaining = dict(flows.get(key, {}))
        for d in sorted(demands, key=lambda d: -problem.demand_sessions[d]):
            need = int(problem.demand_sessions[d])
            fitting = [t for t, room in remaining.items() if room >= need]
            if fitting:
                # Best fit keeps larger rooms free for larger demands.
                t = min(fitting, key=lambda t: remaining[t])
                triples.append((d, t, need))
                remaining[t] -= need
                continue
            for t in sorted(remaining, key=lambda t: -remaining[t]):
                amount = min(need, remaining[t])
                if amount > 0:
                    triples.append((d, t, amount))
                    remaining[t] -= amount
                    need -= amount
                if need == 0:
                    break
    return triples
