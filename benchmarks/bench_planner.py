"""Benchmark the training planner: speed at two sizes, and injuries averted on the demo data.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_planner               # full sizes
    .venv/bin/python -m benchmarks.bench_planner --quick       # small sizes, a few seconds

Parts:

1. ``programme``: 70 employers chosen from 2,000 synthetic candidates, 10
   trainers, 26 weeks (target: under 5 s), three runs;
2. ``large``: 5,000 candidates and 200 trainers, budget 2,500 employers
   (target: under 120 s with an optimality gap under 1 %);
3. ``demo``: 20,000-employer demo data sets (``risk.demo``), one per
   ``--demo-seeds`` seed. A risk model is fitted on the years before the last
   one and scores employers as of the end of the second-to-last year. Two
   plans with the same budget (70 employers, 26 weeks, the shipped trainers)
   are compared on the generator's *true* expected injuries of the last year:
   the planner's, and one that takes the top employers by ``risk_score``
   (both leave out employers trained in the last 12 months, and both are
   scheduled by the same model). Injuries averted use the generator's true
   training effect (``training_effect_rate_ratio``).

Results go to ``benchmarks/results/planner.json`` and the "Planner" section
of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.report import write_doc_section
from risk import codelists
from training import PlanBudget, PlanOptions, plan_courses
from training.catalog import load_course_effects, load_courses, load_trainers, validate_trainers
from training.models import HazardEvidence

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "planner.json"
SMALL_ARGS = ["--quick"]
INDUSTRIES = (
    "C3311",
    "C2614",
    "C1711",
    "E4710",
    "E4813",
    "G5430",
    "G6020",
    "H6210",
    "F5212",
    "I6510",
    "Q8411",
    "K7020",
)


def synthetic_instance(
    candidates: int, trainers: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, HazardEvidence]:
    """Return candidates, trainers and incidents of a random Hangzhou-like instance."""
    rng = np.random.default_rng(seed)
    districts = codelists.districts()["code"].to_numpy()
    qualifications = sorted(set(load_courses()["qualification"]) - {"general"})
    rows = []
    for t in range(trainers):
        held = {"general", *rng.choice(qualifications, rng.integers(2, 6), replace=False)}
        served = rng.choice(districts, rng.integers(2, 6), replace=False)
        rows.append(
            {
                "trainer_id": f"T{t:03d}",
                "organisation": f"机构{t // 2:03d}",
                "qualifications": "|".join(sorted(held)),
                "district_codes": "|".join(served),
                "sessions_per_week": str(rng.integers(1, 4)),
            }
        )
    frame = pd.DataFrame(
        {
            "employer_id": [f"E{i:05d}" for i in range(candidates)],
            "district_code": rng.choice(districts, candidates),
            "industry_code": rng.choice(INDUSTRIES, candidates),
            "headcount": (rng.lognormal(3.5, 1.0, candidates)).astype(int) + 1,
            "expected_injuries": rng.gamma(1.0, 0.3, candidates),
        }
    )
    count = candidates * 2
    incidents = pd.DataFrame(
        {
            "incident_id": [f"I{i}" for i in range(count)],
            "employer_id": rng.choice(frame["employer_id"], count),
            "occurred_on": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 700, count), "D"),
            "accident_type": rng.choice(
                ["01", "02", "03", "04", "05", "07", "09", "10", "19", "20"], count
            ),
            "severity": rng.choice(["minor", "serious", "fatal"], count, p=[0.9, 0.08, 0.02]),
            "is_commuting": rng.random(count) < 0.1,
        }
    )
    return frame, validate_trainers(pd.DataFrame(rows)), HazardEvidence(incidents=incidents)


def bench_size(
    candidates: int, trainers: int, budget: int, runs: int, seed: int, time_limit: float
) -> dict[str, Any]:
    """Time ``plan_courses`` on a synthetic instance ``runs`` times."""
    frame, trainer_file, evidence = synthetic_instance(candidates, trainers, seed)
    courses = load_courses()
    options = PlanOptions(
        as_of=dt.date(2025, 12, 31), horizon_weeks=26, time_limit_seconds=time_limit
    )
    seconds, plan = [], None
    for _ in range(runs):
        started = time.perf_counter()
        plan = plan_courses(
            frame,
            courses,
            trainer_file,
            PlanBudget(max_employers=budget),
            evidence=evidence,
            options=options,
        )
        seconds.append(time.perf_counter() - started)
    assert plan is not None
    return {
        "candidates": candidates,
        "trainers": trainers,
        "budget_employers": budget,
        "weeks": 26,
        "runs": runs,
        "median_seconds": statistics.median(seconds),
        "max_seconds": max(seconds),
        "employers": len(plan.course_plans),
        "sessions": len(plan.sessions),
        "strategy": plan.solve.strategy,
        "status": plan.solve.status,
        "gap": plan.solve.gap,
        "expected_injuries_averted": plan.expected_injuries_averted,
        "stages": [
            {
                "name": s.name,
                "status": s.status,
                "seconds": s.solve_seconds,
                "variables": s.variables,
                "constraints": s.constraints,
            }
            for s in plan.solve.stages
        ],
    }


def _true_horizon_injuries(truth: pd.DataFrame, start: dt.date, months: int = 12) -> pd.Series:
    """Return each employer's true expected workplace injuries in the months after ``start``."""
    end = pd.Timestamp(start) + pd.DateOffset(months=months)
    window = truth[(truth["month"] > pd.Timestamp(start)) & (truth["month"] <= end)]
    return window.groupby("employer_id")["expected_injuries"].sum()


def bench_demo(employers: int, seed: int, budget: int) -> dict[str, Any]:
    """Compare the planner with a top-by-risk plan on the demo data's true injuries."""
    from risk.demo.generate import generate_demo_tables
    from risk.demo.parameters import DemoParameters
    from risk.labels import as_of_grid
    from risk.model.xgb import XGBParams, fit_risk_model
    from risk.panel import build_panel
    from risk.scoring import score_employers
    from risk.tables import CanonicalTables
    from training.candidates import candidates_from_score_frame, evidence_from_tables

    started = time.perf_counter()
    demo = generate_demo_tables(employers=employers, years=6, seed=seed, end_year=2025)
    tables = CanonicalTables.from_frames(**demo.frames())
    # Plan as of the end of 2024 and judge on 2025, which the model never sees.
    as_of = dt.date(2024, 12, 31)
    known = tables.until(as_of)
    grid = as_of_grid(known)[-8:]
    model = fit_risk_model(build_panel(known, grid), params=XGBParams(n_estimators=200, n_jobs=2))
    frame = score_employers(known, model, as_of)
    candidate_set = candidates_from_score_frame(
        frame, tables.employers.set_index("employer_id")["name"]
    )
    evidence = evidence_from_tables(known, candidate_set.contributions)
    prepared = time.perf_counter() - started

    truth = pd.DataFrame(
        {
            "employer_id": np.repeat(
                demo.population.employers["employer_id"].to_numpy(), len(demo.month_starts)
            ),
            "month": np.tile(demo.month_starts, len(demo.population.employers)),
            "expected_injuries": demo.injuries.expected_injuries.ravel(),
        }
    )
    true_injuries = _true_horizon_injuries(truth, as_of)
    effect = 1.0 - DemoParameters().training_effect_rate_ratio
    courses, trainers, effects = load_courses(), load_trainers(), load_course_effects()
    options = PlanOptions(as_of=as_of, horizon_weeks=26, time_limit_seconds=60)
    plan_budget = PlanBudget(max_employers=budget)

    ours = plan_courses(
        candidate_set.candidates,
        courses,
        trainers,
        plan_budget,
        effects=effects,
        evidence=evidence,
        options=options,
    )
    eligible = candidate_set.candidates[
        ~candidate_set.candidates["employer_id"].isin(ours.excluded["employer_id"])
    ]
    top = eligible.sort_values("risk_score", ascending=False).head(budget)
    baseline = plan_courses(
        top, courses, trainers, plan_budget, effects=effects, evidence=evidence, options=options
    )

    def averted(plan: Any) -> float:
        chosen = [p.employer_id for p in plan.course_plans]
        return float(effect * true_injuries.reindex(chosen).fillna(0.0).sum())

    # The same budget in trainer hours: what the top-by-risk plan spends.
    hours = float(sum(session.hours for session in baseline.sessions))
    by_hours = plan_courses(
        candidate_set.candidates,
        courses,
        trainers,
        PlanBudget(max_trainer_hours=hours),
        effects=effects,
        evidence=evidence,
        options=options,
    )
    ours_true, baseline_true = averted(ours), averted(baseline)
    return {
        "trainer_hours_budget": hours,
        "planner_same_hours": {
            "employers": len(by_hours.course_plans),
            "sessions": len(by_hours.sessions),
            "true_injuries_averted": averted(by_hours),
        },
        "ratio_same_hours": averted(by_hours) / baseline_true
        if baseline_true > 0
        else float("nan"),
        "employers": employers,
        "seed": seed,
        "as_of": str(as_of),
        "budget_employers": budget,
        "true_effect_relative_reduction": effect,
        "prepare_seconds": prepared,
        "planner": {
            "employers": len(ours.course_plans),
            "sessions": len(ours.sessions),
            "true_injuries_averted": ours_true,
            "estimated_injuries_averted": ours.expected_injuries_averted,
            "gap": ours.solve.gap,
            "seconds": ours.solve.solve_seconds,
        },
        "top_by_risk": {
            "employers": len(baseline.course_plans),
            "sessions": len(baseline.sessions),
            "true_injuries_averted": baseline_true,
            "estimated_injuries_averted": baseline.expected_injuries_averted,
        },
        "ratio": ours_true / baseline_true if baseline_true > 0 else float("nan"),
        "overlap": len(
            {p.employer_id for p in ours.course_plans}
            & {p.employer_id for p in baseline.course_plans}
        ),
    }


def _machine() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python"
        f" {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__};"
        f" load average at start {load}"
    )


def _size_rows(results: dict[str, Any]) -> list[str]:
    lines = [
        "| instance | candidates | trainers | budget | weeks | median s | max s | runs"
        " | strategy | status | gap | employers | sessions |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, target in (("programme", "< 5 s"), ("large", "< 120 s, gap < 1 %")):
        row = results[name]
        lines.append(
            f"| {name} (target {target}) | {row['candidates']} | {row['trainers']}"
            f" | {row['budget_employers']} | {row['weeks']} | {row['median_seconds']:.2f}"
            f" | {row['max_seconds']:.2f} | {row['runs']} | {row['strategy']} | {row['status']}"
            f" | {row['gap']:.4%} | {row['employers']} | {row['sessions']} |"
        )
    return lines


def _demo_rows(demos: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| employers | seed | planner: employers | planner: true injuries averted"
        " | top by risk: employers | top by risk: true injuries averted | ratio"
        " | same trainer hours: true injuries averted | ratio, same hours | in both plans |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for demo in demos:
        planner, top, hours = demo["planner"], demo["top_by_risk"], demo["planner_same_hours"]
        lines.append(
            f"| {demo['employers']:,} | {demo['seed']} | {planner['employers']}"
            f" | {planner['true_injuries_averted']:.2f} | {top['employers']}"
            f" | {top['true_injuries_averted']:.2f} | {demo['ratio']:.3f}"
            f" | {hours['true_injuries_averted']:.2f} | {demo['ratio_same_hours']:.3f}"
            f" | {demo['overlap']} |"
        )
    return lines


def write_doc(results: dict[str, Any]) -> None:
    """Replace (or append) the "Planner" section of ``docs/benchmarks.md``."""
    demos = results["demo"]
    ratios = [demo["ratio"] for demo in demos]
    lines = [
        "## Planner",
        "",
        f"Command: `{results['command']}` (run on {results['date']}).",
        f"Machine: {results['machine']}. Solver: HiGHS through scipy.optimize.milp.",
        "",
        *_size_rows(results),
        "",
        "Synthetic instances (`synthetic_instance`): random districts and industries, lognormal"
        " headcounts, random trainers holding 3-6 qualifications in 2-5 districts with 1-3"
        " sessions a week; the shipped course catalogue.",
        "",
        f"Demo data (`risk.demo`, years 2020-2025, one data set per seed): a risk model fitted"
        f" on data up to {demos[0]['as_of']} scores every employer. Both plans have the same"
        f" budget ({demos[0]['budget_employers']} employers, 26 weeks, the shipped trainers)."
        " Both leave out employers trained in the previous 12 months, and the same model"
        " schedules them. Each is judged on the generator's true expected workplace injuries of the"
        " next 12 months times its true training effect"
        f" ({demos[0]['true_effect_relative_reduction']:.0%} fewer injuries, the same for every"
        ' course). "Top by risk" takes the employers with the highest `risk_score`, and those'
        ' the trainers\' capacity cannot fit drop out. "Same trainer hours" gives the planner the'
        " trainer hours the top-by-risk plan used instead of its employer count.",
        "",
        *_demo_rows(demos),
        "",
        f"Ratio planner / top by risk: median {statistics.median(ratios):.3f}, lowest"
        f" {min(ratios):.3f}, over {len(ratios)} data sets.",
        "",
        "Raw results: `benchmarks/results/planner.json` (not committed).",
        "",
    ]
    write_doc_section("Planner", "\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    """Run the three parts and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes; no doc update.")
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument(
        "--demo-seeds",
        type=int,
        nargs="+",
        default=[20261204, 1, 2],
        help="Seeds of the demo data sets the two plans are compared on.",
    )
    args = parser.parse_args(argv)
    sizes = (
        ((300, 10, 70, 1), (1000, 40, 400, 1), 3000)
        if args.quick
        else ((2000, 10, 70, 3), (5000, 200, 2500, 1), 20000)
    )
    seeds = args.demo_seeds[:1] if args.quick else args.demo_seeds
    results: dict[str, Any] = {
        "command": "python -m benchmarks.bench_planner" + (" --quick" if args.quick else ""),
        "date": str(dt.date.today()),
        "machine": _machine(),
        "programme": bench_size(*sizes[0], seed=args.seed, time_limit=60),
        "large": bench_size(*sizes[1], seed=args.seed, time_limit=115),
        "demo": [bench_demo(sizes[2], seed, 70) for seed in seeds],
    }
    print(json.dumps(results, indent=2, ensure_ascii=False, default=str))  # noqa: T201
    # A quick run neither replaces the results file nor the doc section of a full run.
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        write_doc(results)


if __name__ == "__main__":
    main(sys.argv[1:])
