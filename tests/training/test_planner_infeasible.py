"""Tests of infeasible requests, exclusions, the rationale and the solver's time limit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from planner_factories import AS_OF, make_candidates, make_courses, make_trainers, plan_violations

from risk.errors import InputDataError
from training import PlanBudget, PlanInfeasibleError, PlanOptions, plan_courses
from training.milp import MilpModel
from training.models import HazardEvidence

COURSES = [{"course_id": "A", "accident_types": "03", "class_size": "20", "hours": "4"}]


def _plan(
    candidates: pd.DataFrame,
    budget: PlanBudget,
    trainers: list[dict[str, str]] | None = None,
    evidence: HazardEvidence | None = None,
    **options: object,
) -> object:
    settings = PlanOptions(as_of=AS_OF, **options)  # type: ignore[arg-type]
    return plan_courses(
        candidates,
        make_courses(COURSES),
        make_trainers(trainers or [{"trainer_id": "T"}]),
        budget,
        evidence=evidence,
        options=settings,
    )


def test_plan_courses_district_minimum_above_candidates_raises() -> None:
    """A district minimum above its plannable candidates names that district's quota."""
    candidates = make_candidates(2, district="330109")

    with pytest.raises(
        PlanInfeasibleError, match="District 330109 needs at least 3 employers but only 2"
    ) as caught:
        _plan(candidates, PlanBudget(), district_min={"330109": 3})

    assert caught.value.constraint == "district_min:330109"
    assert "区县 330109 要求至少 3 家单位" in str(caught.value)


def test_plan_courses_must_include_recently_trained_raises() -> None:
    """An employer that must be included but was trained last month cannot be planned."""
    candidates = make_candidates(3)
    records = pd.DataFrame(
        {
            "record_id": ["R1"],
            "employer_id": ["E001"],
            "course_id": ["A"],
            "delivered_on": [pd.Timestamp(AS_OF) - pd.Timedelta(days=30)],
            "attendees": [10],
        }
    )

    with pytest.raises(PlanInfeasibleError, match="trained in the last 12 months") as caught:
        _plan(
            candidates,
            PlanBudget(),
            evidence=HazardEvidence(training_records=records),
            must_include=frozenset({"E001"}),
        )

    assert caught.value.constraint == "must_include:E001"


def test_plan_courses_must_include_above_employer_budget_raises() -> None:
    """Must-include employers above the employer budget name the budget."""
    candidates = make_candidates(4)

    with pytest.raises(
        PlanInfeasibleError, match="need at least 3 employers, above the budget of 2"
    ) as caught:
        _plan(
            candidates,
            PlanBudget(max_employers=2),
            must_include=frozenset({"E000", "E001", "E002"}),
        )

    assert caught.value.constraint == "budget_employers"


@pytest.mark.parametrize("strategy", ["joint", "two_stage"])
def test_plan_courses_trainer_capacity_binding_named(strategy: str) -> None:
    """Must-include sessions beyond the trainers' weekly capacity name the capacity."""
    candidates = make_candidates(3, headcount=40)

    with pytest.raises(PlanInfeasibleError, match="the binding constraint is") as caught:
        _plan(
            candidates,
            PlanBudget(),
            trainers=[{"trainer_id": "T", "sessions_per_week": "1"}],
            horizon_weeks=4,
            strategy=strategy,
            must_include=frozenset({"E000", "E001", "E002"}),
        )

    assert caught.value.constraint in {"trainer_capacity", "trainer_weekly_capacity"}
    assert "培训机构" in str(caught.value)


def test_plan_courses_blackout_binding_named() -> None:
    """The solver names the binding constraint when two must-include employers share one slot.

    Both employers are open only in week 1, and the trainer has one session slot per week.
    """
    candidates = make_candidates(2, headcount=20)

    with pytest.raises(PlanInfeasibleError, match="the binding constraint is") as caught:
        _plan(
            candidates,
            PlanBudget(),
            trainers=[{"trainer_id": "T", "sessions_per_week": "1"}],
            horizon_weeks=3,
            blackout_weeks={"E000": frozenset({2, 3}), "E001": frozenset({2, 3})},
            strategy="joint",
            must_include=frozenset({"E000", "E001"}),
        )

    # Relaxing either the weekly capacity or the blackout weeks would make room.
    assert caught.value.constraint in {"trainer_weekly_capacity", "blackout_weeks"}


def test_plan_courses_unfittable_must_include_named() -> None:
    """A must-include employer with more sessions than open weeks is named before solving."""
    candidates = make_candidates(1, headcount=40)

    with pytest.raises(
        PlanInfeasibleError, match="needs more sessions than its available weeks"
    ) as caught:
        _plan(
            candidates,
            PlanBudget(),
            horizon_weeks=3,
            max_sessions_per_employer_week=1,
            blackout_weeks={"E000": frozenset({1, 2})},
            must_include=frozenset({"E000"}),
        )

    assert caught.value.constraint == "must_include:E000"


def test_plan_courses_recently_trained_excluded() -> None:
    """Recently trained employers are left out with a reason, and the rest are planned."""
    candidates = make_candidates(3)
    records = pd.DataFrame(
        {
            "record_id": ["R1", "R2"],
            "employer_id": ["E000", "E001"],
            "course_id": "A",
            "delivered_on": [
                pd.Timestamp(AS_OF) - pd.Timedelta(days=30),
                pd.Timestamp(AS_OF) - pd.Timedelta(days=500),
            ],
            "attendees": 10,
        }
    )
    options = PlanOptions(as_of=AS_OF)
    courses, trainers = make_courses(COURSES), make_trainers([{"trainer_id": "T"}])

    plan = plan_courses(
        candidates,
        courses,
        trainers,
        PlanBudget(),
        evidence=HazardEvidence(training_records=records),
        options=options,
    )

    assert sorted(p.employer_id for p in plan.course_plans) == ["E001", "E002"]
    assert plan.excluded.set_index("employer_id").loc["E000", "reason_code"] == "recently_trained"
    assert (
        plan_violations(plan, candidates, courses, trainers, PlanBudget(), options, records) == []
    )


def test_plan_courses_rationale_in_both_languages() -> None:
    """Each planned employer and course carries Chinese and English sentences with its numbers."""
    candidates = make_candidates(2)

    plan = _plan(candidates, PlanBudget(max_employers=1))

    course_plan = plan.course_plans[0]  # type: ignore[attr-defined]
    assert course_plan.employer_id == "E000"
    assert "预计未来12个月发生工伤1.00起" in course_plan.rationale_zh
    assert "Expected 1.00 injuries in the next 12 months" in course_plan.rationale_en
    assert "ranked 1 of 2 candidates by risk" in course_plan.rationale_en
    assert "机械伤害" in course_plan.courses[0].reason_zh
    assert "machinery injury" in course_plan.courses[0].reason_en


def test_plan_courses_duplicate_employer_rejected() -> None:
    """A candidate frame with a repeated employer_id is rejected with the row."""
    candidates = pd.concat([make_candidates(2), make_candidates(1)], ignore_index=True)

    with pytest.raises(InputDataError, match="row 4") as caught:
        _plan(candidates, PlanBudget())

    assert caught.value.errors[0].column == "employer_id"


def test_milp_time_limit_returns_best_solution_with_gap() -> None:
    """At the time limit the solver returns its best solution and a positive gap."""
    rng = np.random.default_rng(0)
    items, rows = 2500, 40
    model = MilpModel("knapsack")
    columns = model.add_variables(rng.random(items) * 10, 0.0, 1.0)
    weights = rng.integers(1, 30, (rows, items)) * (rng.random((rows, items)) < 0.3)
    row_index, column_index = np.nonzero(weights)
    model.add_constraints(
        row_index,
        columns[column_index],
        weights[row_index, column_index],
        -np.inf,
        rng.integers(200, 400, rows).astype(float),
        rows,
    )

    result = model.solve(time_limit=1.0, mip_rel_gap=1e-9)

    assert result.report.status == "time_limit"
    assert result.feasible and result.x is not None
    assert result.report.gap > 0
    assert result.report.dual_bound >= result.report.objective
