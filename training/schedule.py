"""Scheduling: put every session of the chosen employers on a trainer and a week.

The scheduling model has one integer variable ``u[c, t, w]`` per *chunk*
``c``, trainer ``t`` and week ``w`` outside the employer's blackout weeks. A
chunk is a number of sessions of one demand that one of a given set of
trainers must deliver. The model keeps the binary ``y[e]`` of each employer,
so an employer whose sessions cannot all be placed is dropped whole. Constraints:

- every chunk of a chosen employer is delivered in full: ``sum u = sessions * y[e]``;
- a trainer delivers at most ``sessions_per_week`` sessions in any week;
- an employer hosts at most ``weekly_limit`` sessions in any week;
- the budget, district quotas and must-include rows of the selection model.

The objective is expected injuries averted. Weeks carry no cost in the
model, because a lateness term made HiGHS take minutes instead of a fraction
of a second on programme-size instances; :func:`compact_weeks` then moves
each session to the earliest week that keeps every constraint.

With one chunk per demand covering every qualified trainer serving the
district, this is the whole planning problem (the *joint* strategy). The
two-stage strategy first solves :mod:`training.select`, fixes each session's
trainer, and then uses this model with one trainer per chunk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from training.milp import MilpModel, MilpResult
from training.problem import PlanningProblem
from training.select import add_selection_constraints

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chunk:
    """Sessions of one demand that one of ``trainers`` (positions) must deliver."""

    demand: int
    trainers: np.ndarray
    sessions: int


@dataclass(frozen=True)
class Assignment:
    """Sessions of one demand placed on one trainer in one 0-based week."""

    demand: int
    trainer: int
    week: int
    sessions: int


def joint_chunks(problem: PlanningProblem) -> list[Chunk]:
    """Return one chunk per demand over all its eligible trainers."""
    return [
        Chunk(d, problem.demand_trainers[d], int(problem.demand_sessions[d]))
        for d in range(len(problem.demand_sessions))
    ]


def count_variables(problem: PlanningProblem, chunks: list[Chunk]) -> int:
    """Return the number of week variables the scheduling model would have."""
    return int(
        sum(
            len(chunk.trainers)
            * len(problem.available_weeks[problem.demand_employer[chunk.demand]])
            for chunk in chunks
        )
    )


def _week_variables(
    problem: PlanningProblem, chunks: list[Chunk], relax: frozenset[str]
) -> tuple[np.ndarray, ...]:
    """Return per variable: chunk index, trainer, week, employer, upper bound."""
    parts: list[tuple[np.ndarray, ...]] = []
    all_weeks = np.arange(problem.weeks)
    for index, chunk in enumerate(chunks):
        e = problem.demand_employer[chunk.demand]
        weeks = all_weeks if "blackout_weeks" in relax else problem.available_weeks[e]
        trainers = np.repeat(chunk.trainers, len(weeks))
        week = np.tile(weeks, len(chunk.trainers))
        bound = np.full(len(trainers), chunk.sessions)
        if "trainer_weekly_capacity" not in relax:
            bound = np.minimum(bound, problem.trainer_capacity[trainers])
        if "employer_weekly_limit" not in relax:
            bound = np.minimum(bound, problem.weekly_limit)
        parts.append(
            (np.full(len(trainers), index), trainers, week, np.full(len(trainers), e), bound)
        )
    if not parts:
        return tuple(np.zeros(0, dtype=int) for _ in range(5))
    return tuple(np.concatenate([part[i] for part in parts]) for i in range(5))


def build_schedule_model(
    problem: PlanningProblem, chunks: list[Chunk], relax: frozenset[str] = frozenset()
) -> tuple[MilpModel, np.ndarray, tuple]:
    """Build the scheduling model; return it, the ``y`` columns and the week-variable layout."""
    model = MilpModel("schedule")
    lower = np.where(problem.must_include & ("must_include" not in relax), 1.0, 0.0)
    y = model.add_variables(problem.values, lower, 1.0)
    layout = _week_variables(problem, chunks, relax)
    chunk_of, trainer, week, employer, bound = layout
    u = model.add_variables(np.zeros(len(chunk_of)), 0.0, bound.astype(float))

    # Each chunk is delivered in full when its employer is chosen.
    sessions = np.array([chunk.sessions for chunk in chunks], dtype=float)
    chunk_employer = np.array(
        [problem.demand_employer[chunk.demand] for chunk in chunks], dtype=int
    )
    rows = np.concatenate([chunk_of, np.arange(len(chunks))])
    cols = np.concatenate([u, y[chunk_employer]]) if len(chunks) else np.zeros(0, dtype=int)
    coefs = np.concatenate([np.ones(len(u)), -sessions])
    model.add_constraints(rows, cols, coefs, 0.0, 0.0, len(chunks))

    if "trainer_weekly_capacity" not in relax and len(u):
        cells, rows = np.unique(trainer * problem.weeks + week, return_inverse=True)
        model.add_constraints(
            rows,
            u,
            1.0,
            -np.inf,
            problem.trainer_capacity[cells // problem.weeks].astype(float),
            len(cells),
        )
    if "employer_weekly_limit" not in relax and len(u):
        # Only employers with more sessions than the weekly limit can break it.
        crowded = problem.sessions[employer] > problem.weekly_limit
        cells, rows = np.unique(
            employer[crowded] * problem.weeks + week[crowded], return_inverse=True
        )
        model.add_constraints(
            rows, u[crowded], 1.0, -np.inf, float(problem.weekly_limit), len(cells)
        )
    add_selection_constraints(model, problem, y, relax)
    return model, y, (u, *layout)


def solve_schedule(
    problem: PlanningProblem,
    chunks: list[Chunk],
    time_limit: float,
    mip_rel_gap: float,
    relax: frozenset[str] = frozenset(),
) -> tuple[MilpResult, np.ndarray, list[Assignment]]:
    """Solve the scheduling model; return the result, the chosen mask and the placed sessions."""
    model, y, (u, chunk_of, trainer, week, _, _) = build_schedule_model(problem, chunks, relax)
    result = model.solve(time_limit, mip_rel_gap)
    if not result.feasible or result.x is None:
        return result, np.zeros(problem.employer_count, dtype=bool), []
    chosen = result.x[y] > 0.5
    placed = np.flatnonzero(result.x[u] > 0.5)
    assignments = [
        Assignment(
            chunks[int(chunk_of[i])].demand, int(trainer[i]), int(week[i]), int(result.x[u[i]])
        )
        for i in placed
    ]
    assignments = compact_weeks(problem, assignments)
    logger.info("Scheduled %d sessions for %d employers", len(assignments), int(chosen.sum()))
    return result, chosen, assignments


def compact_weeks(problem: PlanningProblem, assignments: list[Assignment]) -> list[Assignment]:
    """Move every session to the earliest week its trainer, employer and blackouts allow.

    Sessions are taken in week order and each move is checked against the
    trainer's weekly capacity, the employer's weekly limit and its available
    weeks, so the result keeps every constraint the input kept.
    """
    trainer_load = np.zeros((len(problem.trainer_ids), problem.weeks), dtype=int)
    employer_load = np.zeros((problem.employer_count, problem.weeks), dtype=int)
    available = [set(weeks.tolist()) for weeks in problem.available_weeks]
    for a in assignments:
        trainer_load[a.trainer, a.week] += a.sessions
        employer_load[problem.demand_employer[a.demand], a.week] += a.sessions

    moved: list[Assignment] = []
    for a in sorted(assignments, key=lambda a: (a.week, a.trainer, a.demand)):
        e = problem.demand_employer[a.demand]
        for _ in range(a.sessions):
            week = a.week
            for earlier in range(a.week):
                if (
                    earlier in available[e]
                    and trainer_load[a.trainer, earlier] < problem.trainer_capacity[a.trainer]
                    and employer_load[e, earlier] < problem.weekly_limit
                ):
                    week = earlier
                    break
            trainer_load[a.trainer, a.week] -= 1
            employer_load[e, a.week] -= 1
            trainer_load[a.trainer, week] += 1
            employer_load[e, week] += 1
            moved.append(Assignment(a.demand, a.trainer, week, 1))
    return moved
