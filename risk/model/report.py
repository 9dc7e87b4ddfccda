"""Backtest results: per-fold metrics of every model, by slice, as plain JSON.

The JSON written by :meth:`BacktestReport.to_dict` has this shape (documented
with the metric definitions in ``docs/model.md``)::

    {
      "horizon_days": 365,
      "fold_design": "...",
      "data_fingerprint": "<sha256>",
      "feature_names": [...],
      "xgboost_params": {...},
      "summary": {MODEL: {METRIC: mean over folds, ...}, ...},
      "folds": [
        {"test_start": "2023-03-31", "test_end": "2024-03-30",
         "train_as_of_first": ..., "train_as_of_last": ..., "calibration_as_of": ...,
         "n_train_rows": ..., "n_test_rows": ..., "test_injuries": ...,
         "models": {MODEL: {METRIC: value, ..., "calibration_method": "isotonic",
                            "slices": {"size_band": {BAND: {METRIC: value}}, ...}}}},
        ...
      ]
    }

Undefined values are ``null``, never ``NaN``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from risk.model.metrics import METRIC_NAMES

MODEL_NAMES: tuple[str, ...] = (
    "xgboost",
    "logistic",
    "risk_class",
    "last_year_rate",
    "peer_percentile",
    "oracle",
)
FOLD_DESIGN = (
    "rolling origin: one fold per quarterly as-of date t among the last n_folds dates whose "
    "outcome window is complete; training rows have as_of + horizon <= t, the latest of them "
    "calibrate, the test rows have as_of = t"
)


def json_safe(value: Any) -> Any:
    """Return ``value`` with NaN and infinities replaced by None and numpy scalars made plain."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class FoldResult:
    """Metrics of every model on one test as-of date.

    ``models`` maps a model name to its metrics (see
    :data:`risk.model.metrics.METRIC_NAMES`), ``calibration_method``, the
    ``<metric>_vs_oracle`` ratios when the oracle ran, and ``slices``.
    """

    test_as_of: dt.date
    horizon_days: int
    train_as_of: tuple[dt.date, ...]
    calibration_as_of: dt.date
    n_train_rows: int
    n_test_rows: int
    test_injuries: int
    models: dict[str, dict[str, Any]]

    @property
    def test_end(self) -> dt.date:
        """Last day of the test rows' outcome window."""
        return self.test_as_of + dt.timedelta(days=self.horizon_days)

    def to_dict(self) -> dict[str, Any]:
        """Return the fold as plain JSON types."""
        return json_safe(
            {
                "test_start": self.test_as_of,
                "test_end": self.test_end,
                "train_as_of_first": self.train_as_of[0],
                "train_as_of_last": self.train_as_of[-1],
                "calibration_as_of": self.calibration_as_of,
                "n_train_rows": self.n_train_rows,
                "n_test_rows": self.n_test_rows,
                "test_injuries": self.test_injuries,
                "models": self.models,
            }
        )


@dataclass(frozen=True)
class BacktestReport:
    """Every fold of one backtest, with what it ran on."""

    horizon_days: int
    folds: list[FoldResult]
    data_fingerprint: str
    feature_names: list[str]
    xgboost_params: dict[str, Any] = field(default_factory=dict)

    @property
    def model_names(self) -> list[str]:
        """Models present in the folds, in :data:`MODEL_NAMES` order."""
        present = {name for fold in self.folds for name in fold.models}
        return [name for name in MODEL_NAMES if name in present]

    def metric_values(self, model: str, metric: str) -> list[float | None]:
        """Return ``metric`` of ``model`` in each fold, None where absent or undefined."""
        return [fold.models.get(model, {}).get(metric) for fold in self.folds]

    def mean_metric(self, model: str, metric: str) -> float | None:
        """Return the mean of ``metric`` over the folds where it is defined, or None."""
        values = [value for value in self.metric_values(model, metric) if value is not None]
        return sum(values) / len(values) if values else None

    def summary(self) -> dict[str, dict[str, float | None]]:
        """Return the mean over folds of every metric (and oracle ratio) of every model."""
        summary: dict[str, dict[str, float | None]] = {}
        for model in self.model_names:
            names = [name for name in self.folds[0].models.get(model, {}) if name != "slices"]
            summary[model] = {
                name: self.mean_metric(model, name)
                for name in names
                if name in METRIC_NAMES or name.endswith("_vs_oracle")
            }
        return summary

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON types (see the module docstring for the shape)."""
        return json_safe(
            {
                "horizon_days": self.horizon_days,
                "fold_design": FOLD_DESIGN,
                "data_fingerprint": self.data_fingerprint,
                "feature_names": self.feature_names,
                "xgboost_params": self.xgboost_params,
                "summary": self.summary(),
                "folds": [fold.to_dict() for fold in self.folds],
            }
        )

    def write_json(self, path: Path) -> Path:
        """Write :meth:`to_dict` to ``path`` as UTF-8 JSON and return the path."""
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2, allow_nan=False)
        path.write_text(text + "\n", encoding="utf-8")
        return path
