"""The MSHA pipeline: adapt, load, read back, build features, backtest, train and score.

:func:`run_msha_pipeline` returns everything the ``public msha`` command
reports; planning courses for the scored mines is left to the caller,
because the planner lives in ``training/``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from risk.errors import InputDataError
from risk.model.report import json_safe
from risk.public import quarters
from risk.public.msha import MshaPanel, read_msha_panel
from risk.public.msha_backtest import (
    FOLD_DESIGN,
    HEADLINE_METRICS,
    MODEL_NAMES,
    compare_to_baselines,
    evaluate_fold,
    plan_folds,
    score_model,
    summarize,
)
from risk.public.msha_curves import calibration_points, capture_curves
from risk.public.msha_features import (
    FEATURE_NAMES,
    FEATURES,
    HORIZON_QUARTERS,
    STATE_FEATURE,
    attach_outcomes,
    build_features,
    quarter_panel,
)
from risk.public.msha_model import (
    DEFAULT_PARAMS,
    DEFAULT_ROUNDS,
    fit_poisson_rate,
    shap_contributions,
)
from risk.store.load import load_tables
from risk.store.read import read_tables
from risk.tables import CanonicalTables

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MshaRun:
    """The outputs of one pipeline run.

    ``report`` is JSON-ready: the backtest report plus the data, SHAP and
    scoring sections. ``scores`` has one row per mine scored as of the last
    complete quarter, and ``contributions`` is the long SHAP frame of those mines.
    """

    report: dict[str, Any]
    scores: pd.DataFrame
    contributions: pd.DataFrame
    tables: CanonicalTables
    panel: MshaPanel


def run_msha_pipeline(
    data_dir: Path,
    engine: Engine,
    *,
    mine_ids: Collection[str] | None = None,
    rounds: int = DEFAULT_ROUNDS,
) -> MshaRun:
    """Run the pipeline on the panel in ``data_dir`` with ``engine`` as the (migrated) store.

    Raises
    ------
    InputDataError
        When the panel contains fewer than four years, so no fold can be tested.
    """
    started = time.perf_counter()
    panel = read_msha_panel(data_dir, mine_ids=mine_ids)
    tables = _ingest(panel, engine)
    grid = quarter_panel(tables, panel.quarters)
    rows = attach_outcomes(build_features(grid), grid)
    states = tuple(sorted(tables.employers["district_code"].unique()))
    last_year = panel.last_complete_year()
    folds = plan_folds(rows, last_year)
    if not folds:
        raise InputDataError(
            f"面板不足四年，无法回测 / the panel in {str(data_dir)!r} needs at least four"
            " years for a"
            f" test fold; its last complete year is {last_year}"
        )

    entries, curve_frames = [], []
    for fold in folds:
        entry, curve_rows = evaluate_fold(rows, fold, states, rounds=rounds)
        entries.append(entry)
        curve_frames.append(curve_rows)
    test = pd.concat(curve_frames, ignore_index=True)
    scores, contributions, shap_summary = _train_and_score(rows, states, last_year, rounds)

    report = {
        "source": _source_section(data_dir, panel, tables, mine_ids),
        "horizon_quarters": HORIZON_QUARTERS,
        "fold_design": FOLD_DESIGN,
        "feature_names": list(FEATURE_NAMES),
        "features": [
            {"name": spec.name, "label_zh": spec.label_zh, "label_en": spec.label_en}
            for spec in FEATURES
        ],
        "xgboost_params": {**DEFAULT_PARAMS, "num_boost_round": rounds},
        "model_names": list(MODEL_NAMES),
        "headline_metrics": list(HEADLINE_METRICS),
        "folds": entries,
        "summary": summarize(entries),
        "comparison": compare_to_baselines(entries),
        "curves": capture_curves(test),
        "calibration": calibration_points(test),
        "shap": shap_summary,
        "scoring": _scoring_section(scores, last_year),
        "runtime_seconds": round(time.perf_counter() - started, 1),
    }
    logger.info(
        "MSHA pipeline finished in %.1f s: %d folds", report["runtime_seconds"], len(entries)
    )
    return MshaRun(json_safe(report), scores, contributions, tables, panel)


def _ingest(panel: MshaPanel, engine: Engine) -> CanonicalTables:
    frames = {
        "employers": panel.tables.employers,
        "headcounts": panel.tables.headcounts,
        "incidents": panel.tables.incidents,
        "hazard_findings": panel.tables.hazard_findings,
    }
    load_tables(engine, frames)
    tables = read_tables(engine)
    mines = set(panel.tables.employers["employer_id"])
    # Features are built from what the store returns, restricted to this panel's mines.
    return CanonicalTables.from_frames(
        employers=tables.employers[tables.employers["employer_id"].isin(mines)],
        headcounts=tables.headcounts[tables.headcounts["employer_id"].isin(mines)],
        incidents=tables.incidents[tables.incidents["employer_id"].isin(mines)],
        hazard_findings=tables.hazard_findings[tables.hazard_findings["employer_id"].isin(mines)],
    )


def _train_and_score(
    rows: pd.DataFrame, states: tuple[str, ...], last_year: int, rounds: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
    as_of_quarter = last_year * 4 + 3
    train = rows[
        (rows["quarter_index"] + 4 <= as_of_quarter)
        & (rows["hours_worked_4q"] > 0)
        & rows["outcome_complete"]
    ]
    model = fit_poisson_rate(train, states, rounds=rounds)
    current = rows[(rows["quarter_index"] == as_of_quarter) & (rows["hours_worked_4q"] > 0)]
    scored = score_model(model, current)
    score_columns = [
        "employer_id",
        STATE_FEATURE,
        "employees_latest",
        "hours_worked_4q",
        "injuries_4q",
    ]
    scores = pd.concat([current[score_columns], scored], axis=1)
    scores = scores.assign(as_of=quarters.end_date_of(as_of_quarter).date())
    scores["rank"] = scores["expected_injuries"].rank(ascending=False, method="first").astype(int)
    scores = scores.sort_values("rank").reset_index(drop=True)

    shap = shap_contributions(model, current)
    shap.index = current["employer_id"].to_numpy()
    long = shap.stack().rename("contribution").reset_index()
    long.columns = ["employer_id", "feature_name", "contribution"]
    values = current.set_index("employer_id")[list(FEATURE_NAMES)]
    long["feature_value"] = [
        values.at[mine, name]
        for mine, name in zip(long["employer_id"], long["feature_name"], strict=True)
    ]
    summary = [
        {"feature_name": name, "mean_abs_contribution": float(value)}
        for name, value in shap.abs().mean().sort_values(ascending=False).items()
    ]
    return scores, long, summary


def _scoring_section(scores: pd.DataFrame, last_year: int) -> dict[str, Any]:
    top = scores.head(20)
    return {
        "as_of": dt.date(last_year, 12, 31),
        "mines_scored": len(scores),
        "expected_injuries_total": float(scores["expected_injuries"].sum()),
        "top": [
            {
                "rank": int(row.rank),
                "employer_id": row.employer_id,
                "state": row.state,
                "expected_injuries": float(row.expected_injuries),
                "injury_rate": float(row.injury_rate),
                "injuries_4q": float(row.injuries_4q),
            }
            for row in top.itertuples(index=False)
        ],
    }


def _source_section(
    data_dir: Path, panel: MshaPanel, tables: CanonicalTables, mine_ids: Collection[str] | None
) -> dict[str, Any]:
    exposure = panel.quarters
    first, last = int(exposure["quarter_index"].min()), int(exposure["quarter_index"].max())
    return {
        "directory": str(data_dir),
        "subset_mines": None if mine_ids is None else len(set(mine_ids)),
        "first_quarter": quarters.label_of(first),
        "last_quarter": quarters.label_of(last),
        "last_complete_year": panel.last_complete_year(),
        "mines": int(tables.employers.shape[0]),
        "states": int(tables.employers["district_code"].nunique()),
        "mine_quarters": int(len(exposure)),
        "hours_worked": float(exposure["hours_worked"].sum()),
        "incidents": int(len(tables.incidents)),
        "hazard_findings": int(len(tables.hazard_findings)),
        "major_hazard_findings": int((tables.hazard_findings["hazard_level"] == "major").sum()),
        "violations_known_share": float(np.mean(exposure["violations_known"])),
        "adapter": panel.report.summary(),
    }
