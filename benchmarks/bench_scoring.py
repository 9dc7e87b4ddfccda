"""Benchmark batch scoring with SHAP explanations, and compare with shap.TreeExplainer.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_scoring                      # 500,000 employers
    .venv/bin/python -m benchmarks.bench_scoring --employers 20000    # a quick check

Steps, each timed in a fresh subprocess so its peak RSS is its own:

1. fit a model on a 20,000-employer panel (6 quarterly as_of dates) with a
   fixed number of trees, and save it;
2. ``score``: :func:`risk.scoring.score_employers` on every employer (features,
   calibrated scores, expected injuries, bands, percentiles and TreeSHAP
   contributions), then :func:`risk.scoring.write_score_frame` into SQLite;
3. ``ours`` and ``shap``: contributions only, for the same prepared rows, with
   :func:`risk.explain.explain_margin` and with
   ``shap.TreeExplainer(booster).shap_values`` (explainer construction
   included), alternated ``--runs`` times, and the largest difference between
   the two.

Results go to ``benchmarks/results/scoring.json`` and the "Scoring" section of
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from benchmarks.bench_features import generate_bench_tables
from benchmarks.report import publish
from risk.explain import encode_matrix, explain_margin
from risk.features import build_features
from risk.labels import as_of_grid, latest_as_of
from risk.model.xgb import XGBParams, fit_risk_model
from risk.panel import build_panel
from risk.scoring import (
    explained_booster,
    mask_unknown_categories,
    score_employers,
    write_score_frame,
)
from risk.store import create_store_engine, upgrade_store

ROOT = Path(__file__).resolve().parent.parent
# Arguments of the quick run that `python -m benchmarks` (make bench) makes.
SMALL_ARGS = ["--employers", "5000", "--runs", "1", "--no-doc"]
RESULTS = ROOT / "benchmarks" / "results" / "scoring.json"
YEARS = 6
# Trees are fixed (no early stopping) so the timed model has a known size.
PARAMS = XGBParams(n_estimators=300, early_stopping_rounds=300, max_depth=4)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tables(n_employers: int, seed: int) -> Any:
    return generate_bench_tables(n_employers, YEARS, n_employers * 6, seed=seed)


def _fit(folder: Path) -> dict[str, Any]:
    tables = _tables(20_000, seed=11)
    panel = build_panel(tables, as_of_grid(tables)[-6:])
    started = time.perf_counter()
    model = fit_risk_model(panel, params=PARAMS)
    joblib.dump(model, folder / "model.joblib")
    trees = explained_booster(model).num_boosted_rounds()
    return {
        "seconds": time.perf_counter() - started,
        "trees": trees,
        "features": len(model.feature_names),
    }


def _score(folder: Path, n_employers: int) -> dict[str, Any]:
    model = joblib.load(folder / "model.joblib")
    tables = _tables(n_employers, seed=7)
    as_of = latest_as_of(tables)
    started = time.perf_counter()
    frame = score_employers(tables, model, as_of)
    scored = time.perf_counter()
    engine = create_store_engine(f"sqlite:///{folder / 'scores.db'}")
    upgrade_store(engine)
    written = time.perf_counter()
    write_score_frame(engine, frame, model_name="bench", model_version="1")
    return {
        "score_seconds": scored - started,
        "write_seconds": time.perf_counter() - written,
        "peak_rss_mb": _peak_rss_mb(),
        "rows": len(frame.scores),
    }


def _prepared(folder: Path, n_employers: int) -> tuple[Any, Any]:
    model = joblib.load(folder / "model.joblib")
    tables = _tables(n_employers, seed=7)
    features, _ = mask_unknown_categories(
        build_features(tables, latest_as_of(tables)), model.schema.categories
    )
    return model, model.prepare(features).frame


def _explain(folder: Path, n_employers: int, engine: str) -> dict[str, Any]:
    model, prepared = _prepared(folder, n_employers)
    booster = explained_booster(model)
    baseline_rss = _peak_rss_mb()
    if engine == "ours":
        started = time.perf_counter()
        values = explain_margin(booster, encode_matrix(prepared)).contributions
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import shap
            import xgboost as xgb

            started = time.perf_counter()
            explainer = shap.TreeExplainer(booster)
            values = explainer.shap_values(xgb.DMatrix(prepared, enable_categorical=True))
    seconds = time.perf_counter() - started
    np.save(folder / f"{engine}.npy", np.asarray(values, dtype=np.float32)[:2000])
    return {"seconds": seconds, "peak_rss_mb": _peak_rss_mb(), "rss_before_mb": baseline_rss}


def _worker(mode: str, folder: Path, n_employers: int) -> dict[str, Any]:
    if mode == "fit":
        return _fit(folder)
    if mode == "score":
        return _score(folder, n_employers)
    return _explain(folder, n_employers, mode)


def _run(mode: str, folder: Path, n_employers: int) -> dict[str, Any]:
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_scoring",
            "--worker",
            mode,
            "--folder",
            str(folder),
            "--employers",
            str(n_employers),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _machine() -> dict[str, Any]:
    import xgboost

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "xgboost": xgboost.__version__,
        "platform": platform.platform(),
    }


def _doc_section(result: dict[str, Any]) -> str:
    score, ours, theirs = result["score"], result["ours"], result["shap"]
    machine = result["machine"]
    return (
        "## Scoring\n\n"
        f"`python -m benchmarks.bench_scoring --employers {result['employers']} --runs"
        f" {len(ours['runs'])}` on"
        f" {machine['cpus']} CPUs ({machine['platform']}), Python {machine['python']},"
        f" XGBoost {machine['xgboost']}. The model has {result['fit']['trees']} trees of depth"
        f" {PARAMS.max_depth} over {result['fit']['features']} features (fitted on 20,000"
        " employers); each step ran in its own process. Scoring ran once; the two"
        f" explainers ran {len(ours['runs'])} times each, alternated, and the table gives"
        " their medians. Load average at the end:"
        f" {', '.join(f'{value:.1f}' for value in result['load_average'])}.\n\n"
        "| step | seconds | peak RSS (MB) |\n| --- | ---: | ---: |\n"
        f"| score_employers: features, scores, bands, percentiles, SHAP ({score['rows']:,} rows)"
        f" | {score['score_seconds']:.1f} | {score['peak_rss_mb']:.0f} |\n"
        f"| write_score_frame into SQLite | {score['write_seconds']:.1f} | (same process) |\n"
        f"| contributions only: risk.explain.explain_margin (median) | {ours['seconds']:.1f}"
        f" | {ours['peak_rss_mb']:.0f} |\n"
        f"| contributions only: shap.TreeExplainer(booster).shap_values (median)"
        f" | {theirs['seconds']:.1f}"
        f" | {theirs['peak_rss_mb']:.0f} |\n\n"
        f"shap.TreeExplainer time / explain_margin time: **{result['ratio']:.2f}** (target: at"
        f" least 1). Largest difference between the two on the first 2,000 rows:"
        f" {result['max_difference']:.1e}. For an XGBoost booster, shap.TreeExplainer runs"
        " XGBoost's own TreeSHAP (`pred_contribs`), the kernel explain_margin calls, so the two"
        " differ only in the work around it: the explainer parses the model, and both compute"
        " the margin for the additivity check.\n"
    )


def main(argv: list[str] | None = None) -> None:
    """Run every step and record the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=500_000, help="Employers scored.")
    parser.add_argument("--runs", type=int, default=3, help="Runs of each explainer.")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--no-doc",
        action="store_true",
        help="Only print: update neither docs/benchmarks.md nor the results file.",
    )
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.folder, args.employers)))  # noqa: T201
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result: dict[str, Any] = {"employers": args.employers, "machine": _machine()}
        for mode in ("fit", "score"):
            result[mode] = _run(mode, folder, args.employers)
            print(mode, result[mode], flush=True)  # noqa: T201

        # Alternate the two explainers so that a change in machine load hits both alike.
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "shap": []}
        for _ in range(args.runs):
            for mode in ("ours", "shap"):
                runs[mode].append(_run(mode, folder, args.employers))
                print(mode, runs[mode][-1], flush=True)  # noqa: T201
        for mode, timings in runs.items():
            result[mode] = {
                "seconds": float(np.median([run["seconds"] for run in timings])),
                "peak_rss_mb": float(np.median([run["peak_rss_mb"] for run in timings])),
                "runs": [run["seconds"] for run in timings],
            }
        ours, theirs = np.load(folder / "ours.npy"), np.load(folder / "shap.npy")
        result["load_average"] = os.getloadavg()
    result["ratio"] = result["shap"]["seconds"] / result["ours"]["seconds"]
    result["max_difference"] = float(np.abs(ours - theirs).max())
    publish(result, RESULTS, "Scoring", _doc_section(result), record=not args.no_doc)


if __name__ == "__main__":
    main()
