"""Diagnostic plots logged with each training run: calibration, capture and SHAP summary.

Plots use matplotlib's Agg backend, so they render without a display.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
import pandas as pd  # noqa: E402
import shap  # noqa: E402
import xgboost as xgb  # noqa: E402

logger = logging.getLogger(__name__)


def plot_calibration_curve(
    outcome: npt.ArrayLike, risk_score: npt.ArrayLike, path: Path, n_bins: int = 10
) -> Path:
    """Draw observed injury frequency against mean risk score in equal-frequency bins."""
    y = np.asarray(outcome, dtype=np.float64)
    p = np.asarray(risk_score, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    bins = np.array_split(order, min(n_bins, max(y.size, 1)))
    predicted = [float(p[rows].mean()) for rows in bins if rows.size]
    observed = [float(y[rows].mean()) for rows in bins if rows.size]

    figure, axes = plt.subplots(figsize=(5, 5))
    limit = max([*predicted, *observed, 0.01]) * 1.05
    axes.plot([0, limit], [0, limit], linestyle="--", color="grey", label="perfect calibration")
    axes.plot(predicted, observed, marker="o", label="model")
    axes.set_xlabel("mean risk_score in bin")
    axes.set_ylabel("share of employers with an injury")
    axes.set_title(f"Calibration ({len(bins)} equal-frequency bins)")
    axes.legend()
    return _save(figure, path)


def plot_capture_curve(
    injury_count: npt.ArrayLike, ranking_score: npt.ArrayLike, path: Path
) -> Path:
    """Draw the cumulative share of injuries against the share of employers ranked highest."""
    counts = np.asarray(injury_count, dtype=np.float64)
    order = np.argsort(-np.asarray(ranking_score, dtype=np.float64), kind="stable")
    total = counts.sum()
    captured = np.cumsum(counts[order]) / total if total > 0 else np.zeros(counts.size)
    share = np.arange(1, counts.size + 1) / max(counts.size, 1)

    figure, axes = plt.subplots(figsize=(5, 5))
    axes.plot(np.concatenate([[0], share]), np.concatenate([[0], captured]), label="model")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random order")
    axes.axvline(0.1, color="lightgrey", linewidth=0.8)
    axes.set_xlabel("share of employers, highest ranked first")
    axes.set_ylabel("share of injuries captured")
    axes.set_title("Capture curve")
    axes.legend()
    return _save(figure, path)


def plot_shap_summary(
    booster: xgb.Booster, features: pd.DataFrame, path: Path, max_rows: int = 500, seed: int = 0
) -> Path:
    """Draw the SHAP summary (beeswarm) of ``booster`` on a random sample of ``features``.

    ``features`` must already be cast to the training dtypes. SHAP values come
    from ``shap.TreeExplainer`` on the booster, fed an XGBoost ``DMatrix``
    because shap 0.51 cannot pass categorical columns to XGBoost itself.
    """
    sample = features.sample(n=min(max_rows, len(features)), random_state=seed)
    explainer = shap.TreeExplainer(booster)
    values = explainer.shap_values(xgb.DMatrix(sample, enable_categorical=True))

    plt.figure()
    # An explicit generator keeps the beeswarm's jitter reproducible. Without one, shap 0.51
    # warns once numpy's global RNG has been seeded (hypothesis seeds it during tests).
    shap.summary_plot(values, sample, show=False, max_display=20, rng=np.random.default_rng(seed))
    figure = plt.gcf()
    figure.suptitle(f"SHAP summary, {len(sample)} sampled rows (log-odds)")
    return _save(figure, path)


def _save(figure: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path
