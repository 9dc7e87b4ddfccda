"""Evaluation charts: each one draws, with a title and both axis labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from risk.evaluation import plots


def _labelled(figure: Figure) -> bool:
    axes = figure.axes[0]
    return (
        bool(axes.get_title() or figure.get_suptitle())
        and bool(axes.get_xlabel())
        and bool(axes.get_ylabel())
    )


@pytest.fixture
def outcomes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores with a real signal and the counts they predict."""
    rng = np.random.default_rng(1)
    score = rng.beta(1, 20, 2_000)
    counts = rng.poisson(score * 2)
    return counts, (counts > 0).astype(int), score


def test_capture_curve_ends_at_one(outcomes: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """The capture curve starts at (0, 0), ends at (1, 1) and never falls."""
    counts, _, score = outcomes

    curve = plots.capture_curve(counts, score)

    assert curve.iloc[0].tolist() == [0.0, 0.0]
    assert curve.iloc[-1].tolist() == pytest.approx([1.0, 1.0])
    assert (np.diff(curve["injury_share"]) >= 0).all()


def test_calibration_bins_cover_every_row(
    outcomes: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """Equal-frequency bins hold every row once."""
    _, any_injury, score = outcomes

    bins = plots.calibration_bins(any_injury, score, n_bins=10)

    assert bins["rows"].sum() == score.size
    assert list(bins["predicted"]) == sorted(bins["predicted"])


def test_plots_are_titled_and_labelled(outcomes: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Every chart has a title and labelled axes."""
    counts, any_injury, score = outcomes
    event_study = pd.DataFrame(
        {
            "term": ["-3..-1", "0", "1..3"],
            "first": [-3, 0, 1],
            "last": [-1, 0, 3],
            "role": ["selection", "training_month", "effect"],
            "rate_ratio": [1.5, 1.0, 0.8],
            "ci_low": [1.2, 0.7, 0.6],
            "ci_high": [1.9, 1.4, 1.0],
        }
    )
    drift = pd.DataFrame({"feature": ["a", "b"], "psi": [0.3, 0.05]})
    slices = pd.DataFrame(
        {"xgboost": [0.8, 0.7], "logistic": [0.7, 0.6]}, index=["330102", "330106"]
    )

    figures = [
        plots.plot_calibration(any_injury, {"model": score}),
        plots.plot_capture_curves(
            counts, {"model": score, "random": np.random.default_rng(2).random(score.size)}
        ),
        plots.plot_slice_metric(slices, "roc_auc", slice_label="区县 district"),
        plots.plot_event_study(event_study, true_rate_ratio=0.85, true_months=12),
        plots.plot_psi(drift),
        plots.plot_score_distributions({"2024": score, "2025": score * 1.1}),
        plots.plot_shap_summary(
            np.random.default_rng(3).normal(size=(50, 2)),
            pd.DataFrame({"x": np.arange(50.0), "y": np.ones(50)}),
        ),
    ]

    for figure in figures:
        assert _labelled(figure), figure.axes[0].get_title()
        plots.close(figure)


def test_use_cjk_font_never_raises() -> None:
    """The font helper returns a family name or None, and never raises."""
    chosen = plots.use_cjk_font()

    assert chosen is None or chosen in plots.CJK_FONT_FAMILIES
