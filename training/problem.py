"""The planning problem in array form, shared by the selection and scheduling models.

Each employer brings a value (expected injuries averted by its tailored
courses), a session count, trainer hours and a district. Its sessions are
grouped by the trainer qualification they need into *demands*; any trainer
holding the qualification and serving the district can deliver any session
of a demand, so the models count sessions per demand instead of per course.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from training.models import PlanBudget, PlanOptions


@dataclass(frozen=True)
class PlanningProblem:
    """Employers, demands and trainers of one planning run, as arrays.

    Employer arrays are indexed by employer position ``e``, demand arrays by
    demand position ``d`` and trainer arrays by trainer position ``t``.
    Weeks are 0-based here (week ``w`` is week ``w + 1`` of the plan).
    """

    employer_ids: np.ndarray
    districts: np.ndarray
    values: np.ndarray
    sessions: np.ndarray
    hours: np.ndarray
    must_include: np.ndarray
    available_weeks: list[np.ndarray]
    demand_employer: np.ndarray
    demand_qualification: np.ndarray
    demand_sessions: np.ndarray
    # Trainer positions that may deliver each demand.
    demand_trainers: list[np.ndarray]
    trainer_ids: np.ndarray
    organisations: np.ndarray
    trainer_capacity: np.ndarray
    weeks: int
    weekly_limit: int
    budget: PlanBudget
    district_min: dict[str, int]
    district_max: dict[str, int]

    @property
    def employer_count(self) -> int:
        """Number of employers."""
        return len(self.employer_ids)

    def demand_positions(self, keep: np.ndarray) -> np.ndarray:
        """Return, for each demand, its position in ``subset(keep)``, or -1 where it is dropped."""
        demand_keep = keep[self.demand_employer]
        positions = np.full(len(demand_keep), -1)
        positions[demand_keep] = np.arange(int(demand_keep.sum()))
        return positions

    def subset(self, keep: np.ndarray) -> PlanningProblem:
        """Return the problem restricted to the employers where ``keep`` is True."""
        positions = np.flatnonzero(keep)
        new_position = np.full(self.employer_count, -1)
        new_position[positions] = np.arange(len(positions))
        demand_keep = keep[self.demand_employer]
        demand_positions = np.flatnonzero(demand_keep)
        return PlanningProblem(
            employer_ids=self.employer_ids[positions],
            districts=self.districts[positions],
            values=self.values[positions],
            sessions=self.sessions[positions],
            hours=self.hours[positions],
            must_include=self.must_include[positions],
            available_weeks=[self.available_weeks[e] for e in positions],
            demand_employer=new_position[self.demand_employer[demand_positions]],
            demand_qualification=self.demand_qualification[demand_positions],
            demand_sessions=self.demand_sessions[demand_positions],
            demand_trainers=[self.demand_trainers[d] for d in demand_positions],
            trainer_ids=self.trainer_ids,
            organisations=self.organisations,
            trainer_capacity=self.trainer_capacity,
            weeks=self.weeks,
            weekly_limit=self.weekly_limit,
            budget=self.budget,
            district_min=self.district_min,
            district_max=self.district_max,
        )


def _trainers_for(trainers: pd.DataFrame) -> dict[tuple[str, str], np.ndarray]:
    """Map (district, qualification) to the positions of trainers that can deliver there."""
    pairs: dict[tuple[str, str], list[int]] = {}
    for t, row in enumerate(trainers.itertuples(index=False)):
        for district in row.district_codes:
            for qualification in row.qualifications:
                pairs.setdefault((district, qualification), []).append(t)
    return {key: np.array(value, dtype=int) for key, value in pairs.items()}


def build_problem(
    employers: pd.DataFrame,
    values: pd.Series,
    picks: pd.DataFrame,
    trainers: pd.DataFrame,
    budget: PlanBudget,
    options: PlanOptions,
) -> PlanningProblem:
    """Assemble the arrays of a planning problem.

    Parameters
    ----------
    employers : pd.DataFrame
        ``employer_id`` and ``district_code`` of the employers to plan over.
    values : pd.Series
        Expected injuries averted by each employer's courses, by ``employer_id``.
    picks : pd.DataFrame
        The tailored courses (:attr:`training.tailor.TailoredCourses.picks`).
    trainers : pd.DataFrame
        Parsed trainer file.
    budget, options : PlanBudget, PlanOptions
        Limits and scheduling settings.
    """
    ids = employers["employer_id"].astype(str).to_numpy()
    position = {employer_id: e for e, employer_id in enumerate(ids)}
    picks = picks[picks["employer_id"].isin(position)]
    totals = picks.assign(trainer_hours=picks["sessions"] * picks["hours"]).groupby("employer_id")
    sessions = totals["sessions"].sum().reindex(ids, fill_value=0).to_numpy(int)
    hours = totals["trainer_hours"].sum().reindex(ids, fill_value=0.0).to_numpy(float)
    demands = (
        picks.groupby(["employer_id", "qualification"], sort=True)["sessions"].sum().reset_index()
    )
    demand_employer = demands["employer_id"].map(position).to_numpy(int)
    districts = employers["district_code"].astype(str).to_numpy()
    reach = _trainers_for(trainers)
    empty = np.zeros(0, dtype=int)
    demand_trainers = [
        reach.get((districts[e], q), empty)
        for e, q in zip(demand_employer, demands["qualification"], strict=True)
    ]
    all_weeks = np.arange(options.horizon_weeks)
    available = [
        np.setdiff1d(
            all_weeks, np.asarray(sorted(options.blackout_weeks.get(i, ())), dtype=int) - 1
        )
        for i in ids
    ]
    return PlanningProblem(
        employer_ids=ids,
        districts=districts,
        values=values.reindex(ids).to_numpy(float),
        sessions=sessions,
        hours=hours,
        must_include=np.isin(ids, list(options.must_include)),
        available_weeks=available,
        demand_employer=demand_employer,
        demand_qualification=demands["qualification"].astype(str).to_numpy(),
        demand_sessions=demands["sessions"].to_numpy(int),
        demand_trainers=demand_trainers,
        trainer_ids=trainers["trainer_id"].astype(str).to_numpy(),
        organisations=trainers["organisation"].astype(str).to_numpy(),
        trainer_capacity=trainers["sessions_per_week"].to_numpy(int),
        weeks=options.horizon_weeks,
        weekly_limit=options.max_sessions_per_employer_week,
        budget=budget,
        district_min=dict(options.district_min),
        district_max=dict(options.district_max),
    )
