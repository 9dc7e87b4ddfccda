"""A small sparse model builder over ``scipy.optimize.milp``, which solves with HiGHS.

Variables and constraints are added in vectorised blocks; constraints are
kept as coordinate triplets and assembled into one CSR matrix at solve time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from training.models import StageReport

logger = logging.getLogger(__name__)

# HiGHS status codes as scipy.optimize.milp reports them.
_OPTIMAL, _LIMIT, _INFEASIBLE, _UNBOUNDED = 0, 1, 2, 3


@dataclass
class MilpModel:
    """A maximisation model built block by block."""

    name: str
    _cost: list[np.ndarray] = field(default_factory=list)
    _lower: list[np.ndarray] = field(default_factory=list)
    _upper: list[np.ndarray] = field(default_factory=list)
    _integer: list[np.ndarray] = field(default_factory=list)
    _rows: list[np.ndarray] = field(default_factory=list)
    _cols: list[np.ndarray] = field(default_factory=list)
    _coefs: list[np.ndarray] = field(default_factory=list)
    _row_lower: list[np.ndarray] = field(default_factory=list)
    _row_upper: list[np.ndarray] = field(default_factory=list)
    variables: int = 0
    constraints: int = 0

    def add_variables(
        self,
        cost: np.ndarray,
        lower: np.ndarray | float,
        upper: np.ndarray | float,
        integer: bool = True,
    ) -> np.ndarray:
        """Add ``len(cost)`` variables and return their column indices."""
        cost = np.asarray(cost, dtype=float)
        count = len(cost)
        self._cost.append(cost)
        self._lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (count,)).copy())
        self._upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (count,)).copy())
        self._integer.append(np.full(count, 1 if integer else 0))
        columns = np.arange(self.variables, self.variables + count)
        self.variables += count
        return columns

    def add_constraints(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        coefs: np.ndarray | float,
        lower: np.ndarray | float,
        upper: np.ndarray | float,
        count: int,
    ) -> None:
        """Add ``count`` rows; ``rows`` holds 0-based row numbers within this block.

        Each entry ``(rows[i], cols[i], coefs[i])`` is one coefficient; repeated
        entries for the same cell are summed.
        """
        if count == 0:
            return
        rows = np.asarray(rows, dtype=np.int64)
        self._rows.append(rows + self.constraints)
        self._cols.append(np.asarray(cols, dtype=np.int64))
        self._coefs.append(np.broadcast_to(np.asarray(coefs, dtype=float), rows.shape).copy())
        self._row_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (count,)).copy())
        self._row_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (count,)).copy())
        self.constraints += count

    def solve(self, time_limit: float, mip_rel_gap: float) -> MilpResult:
        """Maximise the objective with HiGHS within ``time_limit`` seconds."""
        if self.variables == 0:
            # scipy rejects an empty model; the empty plan is trivially optimal.
            report = StageReport(self.name, "optimal", 0.0, 0.0, 0.0, 0.0, 0, self.constraints)
            return MilpResult(np.zeros(0), True, False, report)
        cost = np.concatenate(self._cost)
        constraints = []
        if self.constraints:
            matrix = coo_array(
                (
                    np.concatenate(self._coefs),
                    (np.concatenate(self._rows), np.concatenate(self._cols)),
                ),
                shape=(self.constraints, self.variables),
            ).tocsr()
            constraints.append(
                LinearConstraint(
                    matrix, np.concatenate(self._row_lower), np.concatenate(self._row_upper)
                )
            )
        integrality = np.concatenate(self._integer) if self._integer else np.zeros(0, dtype=int)
        started = time.perf_counter()
        result = milp(
            -cost,
            constraints=constraints,
            integrality=integrality,
            bounds=Bounds(np.concatenate(self._lower), np.concatenate(self._upper)),
            options={
                "time_limit": max(time_limit, 0.5),
                "mip_rel_gap": mip_rel_gap,
                "presolve": True,
            },
        )
        seconds = time.perf_counter() - started
        return _result(self, result, seconds, integrality)


@dataclass(frozen=True)
class MilpResult:
    """Outcome of one solve: the solution (None when there is none) and its report."""

    x: np.ndarray | None
    feasible: bool
    infeasible: bool
    report: StageReport


def _result(
    model: MilpModel, result: object, seconds: float, integrality: np.ndarray
) -> MilpResult:
    status = int(result.status)
    x = getattr(result, "x", None)
    infeasible = status == _INFEASIBLE
    feasible = x is not None and status in (_OPTIMAL, _LIMIT)
    objective = -float(result.fun) if feasible else float("nan")
    dual = getattr(result, "mip_dual_bound", None)
    bound = -float(dual) if dual is not None and np.isfinite(dual) else objective
    if status == _OPTIMAL and feasible:
        bound = max(bound, objective) if np.isfinite(bound) else objective
    gap = _gap(objective, bound) if feasible else float("nan")
    label = {
        _OPTIMAL: "optimal",
        _LIMIT: "time_limit",
        _INFEASIBLE: "infeasible",
        _UNBOUNDED: "unbounded",
    }.get(status, f"status_{status}")
    if status == _LIMIT and not feasible:
        label = "time_limit_no_solution"
    report = StageReport(
        model.name, label, objective, bound, gap, seconds, model.variables, model.constraints
    )
    logger.info(
        "Solved %s: %s, objective %.4f, gap %.4f, %.2f s, %d variables, %d constraints",
        model.name,
        label,
        objective,
        gap,
        seconds,
        model.variables,
        model.constraints,
    )
    # HiGHS returns integer variables within its feasibility tolerance, such as 0.9999999.
    rounded = np.where(integrality == 1, np.round(x), x) if feasible and x is not None else None
    return MilpResult(rounded, feasible, infeasible, report)


def _gap(objective: float, bound: float) -> float:
    if not np.isfinite(bound) or not np.isfinite(objective):
        return float("nan")
    return max(0.0, bound - objective) / max(abs(bound), 1e-9)
