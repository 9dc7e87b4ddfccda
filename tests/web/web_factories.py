"""A scored store and a champion for the web tests and the page benchmark.

The model is fitted on a small synthetic history (``tests/api/api_factories``)
and then scores as many employers as asked, at two as-of dates a quarter
apart, so pages have a previous scoring to compare ranks with.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

# The synthetic tables and model fit of the API tests are reused, not copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from api_factories import MODEL_NAME, make_tables, store_tables  # noqa: E402, F401  (MODEL_NAME re-exported)

from api.serving import LoadedModel  # noqa: E402
from risk.labels import as_of_grid, latest_as_of  # noqa: E402
from risk.model.xgb import RiskModel, XGBParams, fit_risk_model  # noqa: E402
from risk.panel import build_panel  # noqa: E402
from risk.scoring import score_employers, write_score_frame  # noqa: E402
from risk.store import create_store_engine, upgrade_store  # noqa: E402
from risk.tables import CanonicalTables  # noqa: E402

# Few trees: the pages need a real model, not a good one, and the suite must stay fast.
FAST_PARAMS = XGBParams(n_estimators=40, early_stopping_rounds=10, n_jobs=2, random_state=5)
MODEL_VERSION = "3"
METRICS = {"backtest_roc_auc_mean": 0.78, "backtest_pr_auc_mean": 0.41, "brier": 0.12}


def fit_fast_model(tables: CanonicalTables) -> RiskModel:
    """Fit a small model on the last eight quarterly as-of dates of ``tables``.

    Two years of dates, because the fit calibrates on a slice whose outcome
    window must close before the latest date.
    """
    panel = build_panel(tables, as_of_grid(tables)[-8:])
    return fit_risk_model(panel, params=FAST_PARAMS)


@dataclass
class FittedChampion:
    """A champion source that serves one fitted model, standing in for the MLflow registry."""

    model: RiskModel
    version: str = MODEL_VERSION
    metrics: dict[str, float] = field(default_factory=lambda: dict(METRICS))

    def champion_version(self) -> str | None:
        """Return the served version."""
        return self.version

    def load(self, version: str) -> LoadedModel:
        """Return the fitted model as version ``version``."""
        return LoadedModel(version, self.model, self.metrics)


@dataclass(frozen=True)
class ScoredWebStore:
    """A migrated store with employers, records and two scoring runs of one model."""

    url: str
    engine: Engine
    tables: CanonicalTables
    model: RiskModel
    as_of: dt.date
    previous_as_of: dt.date


def build_scored_store(
    url: str, *, n_employers: int = 300, model: RiskModel | None = None
) -> ScoredWebStore:
    """Create a store at ``url`` holding ``n_employers`` employers scored at two dates."""
    engine = create_store_engine(url)
    upgrade_store(engine)
    tables = make_tables(n_employers)
    model = model or fit_fast_model(tables if n_employers <= 1000 else make_tables(300))
    store_tables(engine, tables)
    as_of = latest_as_of(tables)
    previous = as_of - dt.timedelta(days=91)
    for date in (previous, as_of):
        frame = score_employers(tables, model, date)
        write_score_frame(engine, frame, model_name=MODEL_NAME, model_version=MODEL_VERSION)
    return ScoredWebStore(url, engine, tables, model, as_of, previous)
