"""Figures of the real-data report, drawn from the report JSON alone (matplotlib, Agg backend)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

logger = logging.getLogger(__name__)

IMAGE_DIR = "images"
# File names under docs/images/, referred to by both language versions of the page.
FIGURES = {
    "capture_count": "real-data-capture-count.png",
    "capture_rate": "real-data-capture-rate.png",
    "calibration": "real-data-calibration.png",
    "shap": "real-data-shap.png",
    "folds": "real-data-folds.png",
}
_MODEL_STYLE = {"xgboost": {"color": "black", "linewidth": 2.2}}
_SHAP_FEATURES = 15


def _save(figure: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # No software metadata, so regenerating the same report gives the same bytes.
    figure.savefig(path, dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return path


def _curve_figure(report: dict[str, Any], scale: str, path: Path, title: str, ylabel: str) -> Path:
    shares = np.asarray(report["curves"]["shares"]["x"])
    figure, axes = plt.subplots(figsize=(6.5, 5))
    for name, points in report["curves"][scale].items():
        axes.plot(shares, points, label=name, **_MODEL_STYLE.get(name, {"linewidth": 1.2}))
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8, label="random order")
    axes.axvline(0.1, color="lightgrey", linewidth=0.8)
    axes.set_xlabel("share of mines, highest ranked first")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend(fontsize=8)
    return _save(figure, path)


def _calibration_figure(report: dict[str, Any], path: Path) -> Path:
    points = report["calibration"]
    figure, axes = plt.subplots(figsize=(5.5, 5))
    observed = np.asarray(points["observed"])
    for key, label, marker in (
        ("expected", "expected (last year's hours)", "o"),
        ("rate_times_next_hours", "rate x next year's hours", "s"),
    ):
        axes.plot(np.asarray(points[key]), observed, marker=marker, label=label)
    limit = max(float(np.max(observed)), float(np.max(points["expected"]))) * 1.3
    axes.plot(
        [1e-3, limit], [1e-3, limit], linestyle="--", color="grey", label="perfect calibration"
    )
    axes.set_xscale("symlog", linthresh=0.1)
    axes.set_yscale("symlog", linthresh=0.1)
    axes.set_xlabel("mean predicted injuries per mine in the test year")
    axes.set_ylabel("mean observed injuries per mine")
    axes.set_title("Calibration, test years pooled (10 equal-size bins)")
    axes.legend(fontsize=8)
    return _save(figure, path)


def _shap_figure(report: dict[str, Any], path: Path) -> Path:
    rows = report["shap"][:_SHAP_FEATURES][::-1]
    figure, axes = plt.subplots(figsize=(6.5, 5))
    axes.barh([row["feature_name"] for row in rows], [row["mean_abs_contribution"] for row in rows])
    axes.set_xlabel("mean |SHAP contribution| to the log injury rate")
    axes.set_title(f"What the model learned: top {len(rows)} features")
    return _save(figure, path)


def _folds_figure(report: dict[str, Any], path: Path) -> Path:
    metrics = report["headline_metrics"]
    years = [fold["test_year"] for fold in report["folds"]]
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4.2))
    for axis, metric in zip(np.atleast_1d(axes), metrics, strict=True):
        for name in report["model_names"]:
            values = [fold["models"][name].get(metric) for fold in report["folds"]]
            axis.plot(
                years,
                [np.nan if value is None else value for value in values],
                marker=".",
                label=name,
                **_MODEL_STYLE.get(name, {"linewidth": 1.0}),
            )
        axis.set_title(metric)
        axis.set_xlabel("test year")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    return _save(figure, path)


def draw_figures(report: dict[str, Any], docs_dir: Path) -> dict[str, Path]:
    """Draw every figure of the report into ``docs_dir / images`` and return their paths."""
    image_dir = docs_dir / IMAGE_DIR
    paths = {
        "capture_count": _curve_figure(
            report,
            "count",
            image_dir / FIGURES["capture_count"],
            "Count scale: injuries captured, test years averaged",
            "share of the test year's injuries captured",
        ),
        "capture_rate": _curve_figure(
            report,
            "rate",
            image_dir / FIGURES["capture_rate"],
            "Rate scale: top-quarter-rate mines found (>= 20,000 hours)",
            "share of top-quarter-rate mines found",
        ),
        "calibration": _calibration_figure(report, image_dir / FIGURES["calibration"]),
        "shap": _shap_figure(report, image_dir / FIGURES["shap"]),
        "folds": _folds_figure(report, image_dir / FIGURES["folds"]),
    }
    logger.info("drew %d figures into %s", len(paths), image_dir)
    return paths
