"""Property-based tests: on random catalogues, trainers and budgets no plan breaks a constraint."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from planner_factories import AS_OF, DISTRICTS, make_courses, make_trainers, plan_violations

from training import PlanBudget, PlanInfeasibleError, PlanOptions, plan_courses
from training.feasibility import GROUP_LABELS
from training.models import HazardEvidence, TailoringOptions

QUALIFICATIONS = ("general", "machinery", "construction")
ACCIDENT_CODES = ("01", "03", "05", "09", "19")


@st.composite
def catalogues(draw: st.DrawFn) -> pd.DataFrame:
    """Draw a course catalogue of one to five courses."""
    rows = []
    for i in range(draw(st.integers(1, 5))):
        mode = draw(st.sampled_from(["on_site", "online"]))
        engagements = (
            ["interactive", "lecture"]
            if mode == "online"
            else ["hands_on", "interactive", "lecture"]
        )
        rows.append(
            {
                "course_id": f"C{i}",
                "accident_types": "|".join(
                    draw(st.lists(st.sampled_from(ACCIDENT_CODES), max_size=3, unique=True))
                ),
                "industries": draw(st.sampled_from(["", "C", "E", "C|E", "33"])),
                "hours": str(draw(st.sampled_from([1, 2, 3.5, 8]))),
                "mode": mode,
                "engagement": draw(st.sampled_from(engagements)),
                "class_size": str(draw(st.integers(10, 60))),
                "qualification": draw(st.sampled_from(("general", *QUALIFICATIONS))),
            }
        )
    return make_courses(rows)


@st.composite
def trainer_files(draw: st.DrawFn) -> pd.DataFrame:
    """Draw one to four trainers with random qualifications, districts and capacity."""
    rows = []
    for i in range(draw(st.integers(1, 4))):
        rows.append(
            {
                "trainer_id": f"T{i}",
                "organisation": f"机构{i % 2}",
                "qualifications": "|".join(
                    draw(
                        st.lists(
                            st.sampled_from(QUALIFICATIONS), min_size=1, max_size=3, unique=True
                        )
                    )
                ),
                "district_codes": "|".join(
                    draw(st.lists(st.sampled_from(DISTRICTS), min_size=2, max_size=3, unique=True))
                ),
                "sessions_per_week": str(draw(st.integers(1, 3))),
            }
        )
    return make_trainers(rows)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, object]:
    """Draw candidates, evidence, budget and options of one planning request."""
    count = draw(st.integers(1, 10))
    ids = [f"E{i:02d}" for i in range(count)]
    candidates = pd.DataFrame(
        {
            "employer_id": ids,
            "district_code": draw(
                st.lists(st.sampled_from(DISTRICTS), min_size=count, max_size=count)
            ),
            "industry_code": draw(
                st.lists(
                    st.sampled_from(["C3311", "E4710", "H6210"]), min_size=count, max_size=count
                )
            ),
            "headcount": draw(st.lists(st.integers(1, 120), min_size=count, max_size=count)),
            "expected_injuries": draw(st.lists(st.floats(0, 3), min_size=count, max_size=count)),
        }
    )
    weeks = draw(st.integers(1, 8))
    trained = draw(st.lists(st.sampled_from(ids), max_size=3, unique=True))
    records = pd.DataFrame(
        {
            "record_id": [f"R{i}" for i in range(len(trained))],
            "employer_id": trained,
            "course_id": "C0",
            "attendees": 10,
            "delivered_on": [
                pd.Timestamp(AS_OF) - pd.Timedelta(days=draw(st.integers(0, 700))) for _ in trained
            ],
        }
    )
    blackout = {
        i: frozenset(draw(st.lists(st.integers(1, weeks), max_size=weeks, unique=True)))
        for i in draw(st.lists(st.sampled_from(ids), max_size=4, unique=True))
    }
    # Lower limits (minimum quotas, must-include employers) are drawn rarely: most of them make
    # a random request infeasible, and feasible requests are where constraints can be broken.
    minimum = st.just({}) | st.dictionaries(
        st.sampled_from(DISTRICTS), st.integers(0, 2), max_size=1
    )
    maximum = st.dictionaries(st.sampled_from(DISTRICTS), st.integers(0, 4), max_size=2)
    must = draw(st.sampled_from([0, 0, 0, 0, 1, 2]))
    budget = PlanBudget(
        max_employers=draw(st.none() | st.integers(0, 8)),
        max_sessions=draw(st.none() | st.integers(0, 30)),
        max_trainer_hours=draw(st.none() | st.floats(0, 80)),
    )
    options = PlanOptions(
        horizon_weeks=weeks,
        as_of=AS_OF,
        start_date=dt.date(2026, 1, 5),
        max_sessions_per_employer_week=draw(st.integers(1, 3)),
        blackout_weeks=blackout,
        district_min=draw(minimum),
        district_max=draw(maximum),
        must_include=frozenset(
            draw(
                st.lists(
                    st.sampled_from(ids),
                    min_size=min(must, count),
                    max_size=min(must, count),
                    unique=True,
                )
            )
        ),
        exclude_trained_months=draw(st.sampled_from([0, 6, 12])),
        time_limit_seconds=20,
        strategy=draw(st.sampled_from(["joint", "two_stage"])),
        tailoring=TailoringOptions(
            max_courses_per_employer=draw(st.integers(1, 3)),
            max_sessions_per_course=draw(st.integers(1, 3)),
        ),
    )
    return {"candidates": candidates, "records": records, "budget": budget, "options": options}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(courses=catalogues(), trainers=trainer_files(), request=requests())
def test_plan_courses_random_requests_keep_every_constraint(
    courses: pd.DataFrame, trainers: pd.DataFrame, request: dict[str, object]
) -> None:
    """Plans for random requests keep every planning constraint.

    The checked limits are capacity, qualification, district, weekly, blackout, budget and quota.
    """
    candidates = request["candidates"]
    options = request["options"]
    budget = request["budget"]
    records = request["records"]
    assert isinstance(candidates, pd.DataFrame) and isinstance(options, PlanOptions)
    assert isinstance(budget, PlanBudget) and isinstance(records, pd.DataFrame)
    evidence = HazardEvidence(training_records=records)

    try:
        plan = plan_courses(
            candidates, courses, trainers, budget, evidence=evidence, options=options
        )
    except PlanInfeasibleError as error:
        # Only lower limits can make a request infeasible, and the error names a known constraint.
        assert options.must_include or any(options.district_min.values())
        assert error.constraint.split(":", 1)[0] in GROUP_LABELS
        assert "无法在现有约束下排出培训计划" in str(error)
        event("infeasible")
        return

    event("plan with employers" if plan.course_plans else "empty plan")
    assert plan_violations(plan, candidates, courses, trainers, budget, options, records) == []
    assert plan.solve.gap >= 0.0
    assert plan.expected_injuries_averted <= plan.solve.bound + 1e-6


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(courses=catalogues(), trainers=trainer_files(), request=requests())
def test_plan_courses_without_lower_limits_never_infeasible(
    courses: pd.DataFrame, trainers: pd.DataFrame, request: dict[str, object]
) -> None:
    """Without must-include employers or district minimums a plan always exists."""
    options = request["options"]
    assert isinstance(options, PlanOptions)
    relaxed = PlanOptions(**{**options.__dict__, "must_include": frozenset(), "district_min": {}})
    candidates = request["candidates"]
    budget = request["budget"]
    assert isinstance(candidates, pd.DataFrame) and isinstance(budget, PlanBudget)

    plan = plan_courses(candidates, courses, trainers, budget, options=relaxed)

    assert plan_violations(plan, candidates, courses, trainers, budget, relaxed) == []


@pytest.mark.parametrize("strategy", ["joint", "two_stage"])
def test_plan_courses_strategies_reach_same_objective(strategy: str) -> None:
    """Both strategies find the optimum of a small request without blackout weeks."""
    courses = make_courses([{"course_id": "A", "accident_types": "03", "class_size": "20"}])
    trainers = make_trainers([{"trainer_id": "T0", "sessions_per_week": "1"}])
    candidates = pd.DataFrame(
        {
            "employer_id": ["E0", "E1", "E2"],
            "district_code": "330102",
            "industry_code": "C3311",
            "headcount": [20, 40, 20],
            "expected_injuries": [1.0, 1.5, 0.9],
        }
    )
    options = PlanOptions(horizon_weeks=2, as_of=AS_OF, strategy=strategy)  # type: ignore[arg-type]

    plan = plan_courses(candidates, courses, trainers, PlanBudget(), options=options)

    # Two weekly slots: E1 needs both (1.5), E0 and E2 one each (1.9 together) wins.
    assert sorted(p.employer_id for p in plan.course_plans) == ["E0", "E2"]
    assert plan.solve.status == "optimal"
    assert plan.solve.gap == pytest.approx(0.0, abs=1e-6)
