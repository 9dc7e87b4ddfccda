"""Metrics for ranked, calibrated risk scores and expected injury counts.

Every function returns a plain ``float`` or ``None`` where the metric is not
defined on the input (one outcome class only, no injuries to capture, a
constant score), so that reports serialise to JSON without ``NaN``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

# Probabilities are clipped away from 0 and 1 before taking logits so that a
# score of exactly 0 or 1 (isotonic calibration produces them) stays finite.
_LOGIT_CLIP = 1e-6
_NEWTON_MAX_ITER = 50
_NEWTON_TOL = 1e-10

CAPTURE_FRACTIONS: dict[str, float] = {
    "capture_top_1pct": 0.01,
    "capture_top_5pct": 0.05,
    "capture_top_10pct": 0.10,
}
# 70 is the number of employers the first programme round reached; 500 is a
# larger round. Both are counts of employers, not shares.
CAPTURE_COUNTS: dict[str, int] = {"capture_top_70": 70, "capture_top_500": 500}

METRIC_NAMES: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "brier",
    "calibration_slope",
    "calibration_intercept",
    "ece",
    *CAPTURE_FRACTIONS,
    *CAPTURE_COUNTS,
    "poisson_deviance",
)
# Metrics where a larger value is better; the oracle ratios use these.
HIGHER_IS_BETTER: tuple[str, ...] = ("roc_auc", "pr_auc", *CAPTURE_FRACTIONS, *CAPTURE_COUNTS)


def _as_float_array(values: npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def _has_both_classes(outcome: FloatArray) -> bool:
    return bool(outcome.size) and 0 < outcome.sum() < outcome.size


def roc_auc(outcome: npt.ArrayLike, risk_score: npt.ArrayLike) -> float | None:
    """Return the area under the ROC curve, or None when only one class occurs."""
    y = _as_float_array(outcome)
    if not _has_both_classes(y):
        return None
    return float(roc_auc_score(y, _as_float_array(risk_score)))


def pr_auc(outcome: npt.ArrayLike, risk_score: npt.ArrayLike) -> float | None:
    """Return the average precision (area under the precision-recall curve), or None."""
    y = _as_float_array(outcome)
    if not _has_both_classes(y):
        return None
    return float(average_precision_score(y, _as_float_array(risk_score)))


def brier(outcome: npt.ArrayLike, risk_score: npt.ArrayLike) -> float | None:
    """Return the Brier score, the mean squared error of the probabilities, or None if empty."""
    y = _as_float_array(outcome)
    if not y.size:
        return None
    return float(brier_score_loss(y, _as_float_array(risk_score)))


def expected_calibration_error(
    outcome: npt.ArrayLike, risk_score: npt.ArrayLike, n_bins: int = 10
) -> float | None:
    """Return the expected calibration error over equal-frequency bins.

    Rows are sorted by ``risk_score`` and split into ``n_bins`` bins of equal
    size (the first bins take one extra row when the count does not divide).
    ECE is the row-weighted mean of ``|mean(outcome) - mean(risk_score)|``
    over the bins.
    """
    y = _as_float_array(outcome)
    p = _as_float_array(risk_score)
    if not y.size:
        return None

    order = np.argsort(p, kind="stable")
    total = 0.0
    for bin_rows in np.array_split(order, min(n_bins, y.size)):
        total += bin_rows.size * abs(float(y[bin_rows].mean() - p[bin_rows].mean()))
    return total / y.size


def _logit(risk_score: FloatArray) -> FloatArray:
    clipped = np.clip(risk_score, _LOGIT_CLIP, 1.0 - _LOGIT_CLIP)
    return np.log(clipped / (1.0 - clipped))


def _fit_logistic(design: FloatArray, outcome: FloatArray, offset: FloatArray) -> FloatArray | None:
    """Fit an unpenalised logistic regression by Newton-Raphson; None if it does not converge."""
    coef = np.zeros(design.shape[1])
    for _ in range(_NEWTON_MAX_ITER):
        eta = np.clip(design @ coef + offset, -35.0, 35.0)
        mu = 1.0 / (1.0 + np.exp(-eta))
        gradient = design.T @ (outcome - mu)
        hessian = design.T @ (design * (mu * (1.0 - mu))[:, None])
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return None
        coef = coef + step
        if float(np.max(np.abs(step))) < _NEWTON_TOL:
            return coef
    return None


def calibration_slope(outcome: npt.ArrayLike, risk_score: npt.ArrayLike) -> float | None:
    """Return the slope ``b`` of the logistic recalibration ``logit P(y) = a + b logit(p)``.

    A slope of 1 means the spread of the scores is right; below 1 the scores
    are too extreme. None when there is one class only, the scores are
    constant, or the fit diverges (perfect separation).
    """
    y = _as_float_array(outcome)
    x = _logit(_as_float_array(risk_score))
    if not _has_both_classes(y) or np.ptp(x) == 0:
        return None

    design = np.column_stack([np.ones_like(x), x])
    coef = _fit_logistic(design, y, np.zeros_like(x))
    return None if coef is None else float(coef[1])


def calibration_intercept(outcome: npt.ArrayLike, risk_score: npt.ArrayLike) -> float | None:
    """Return the calibration-in-the-large ``a`` of ``logit P(y) = a + 1 * logit(p)``.

    Zero means the mean of the scores matches the event rate; a positive value
    means the scores are too low on average.
    """
    y = _as_float_array(outcome)
    if not _has_both_classes(y):
        return None

    x = _logit(_as_float_array(risk_score))
    coef = _fit_logistic(np.ones((x.size, 1)), y, x)
    return None if coef is None else float(coef[0])


def capture_top_k(
    injury_count: npt.ArrayLike, ranking_score: npt.ArrayLike, k: int
) -> float | None:
    """Return the share of all injuries that occur at the ``k`` highest-ranked employers.

    Ties in ``ranking_score`` are broken at random in expectation: when the
    k-th place falls inside a group of tied employers, that group contributes
    its injuries in proportion to the places left. None when there are no
    injuries at all.
    """
    counts = _as_float_array(injury_count)
    score = _as_float_array(ranking_score)
    total = float(counts.sum())
    if total <= 0 or k <= 0:
        return None

    k = min(k, counts.size)
    unique_scores, inverse = np.unique(-score, return_inverse=True)
    group_sizes = np.bincount(inverse, minlength=unique_scores.size)
    group_injuries = np.bincount(inverse, weights=counts, minlength=unique_scores.size)
    places_before = np.concatenate([[0], np.cumsum(group_sizes)[:-1]])
    places_taken = np.clip(k - places_before, 0, group_sizes)
    captured = float(np.sum(group_injuries * places_taken / group_sizes))
    return captured / total


def capture_top_fraction(
    injury_count: npt.ArrayLike, ranking_score: npt.ArrayLike, fraction: float
) -> float | None:
    """Return :func:`capture_top_k` with ``k = ceil(fraction * n_employers)``."""
    n_rows = _as_float_array(injury_count).size
    return capture_top_k(injury_count, ranking_score, math.ceil(fraction * n_rows))


def poisson_deviance(injury_count: npt.ArrayLike, expected_injuries: npt.ArrayLike) -> float | None:
    """Return the mean Poisson deviance of expected counts, or None if empty.

    Expected counts are floored at 1e-9 so that a zero prediction for an
    employer with injuries gives a large but finite deviance.
    """
    y = _as_float_array(injury_count)
    mu = np.maximum(_as_float_array(expected_injuries), 1e-9)
    if not y.size:
        return None

    # y log(y / mu) is 0 where y is 0.
    ratio_term = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
    return float(np.mean(2.0 * (ratio_term - (y - mu))))


def score_metrics(
    injury_any: npt.ArrayLike,
    injury_count: npt.ArrayLike,
    risk_score: npt.ArrayLike,
    expected_injuries: npt.ArrayLike | None = None,
    ranking_score: npt.ArrayLike | None = None,
    capture_score: npt.ArrayLike | None = None,
) -> dict[str, float | None]:
    """Compute every metric in :data:`METRIC_NAMES` for one set of scores.

    Parameters
    ----------
    injury_any : array-like of 0/1
        Whether the employer had at least one injury in the horizon.
    injury_count : array-like of float
        Number of injuries in the horizon; the capture metrics sum it.
    risk_score : array-like of float
        Calibrated probabilities, scored by Brier, ECE and the calibration fit.
    expected_injuries : array-like of float, optional
        Expected counts; without them ``poisson_deviance`` is None.
    ranking_score : array-like of float, optional
        The order used by ROC-AUC and PR-AUC; default ``risk_score``. Isotonic
        calibration maps ranges of raw scores to one value, so passing the
        uncalibrated score keeps the model's own order inside those ties.
    capture_score : array-like of float, optional
        The order used by the capture metrics; default ``ranking_score``.
        Capture counts injuries, so a model with expected counts passes them.

    Returns
    -------
    dict
        Metric name to value, None where undefined.
    """
    order = risk_score if ranking_score is None else ranking_score
    capture_order = order if capture_score is None else capture_score
    metrics: dict[str, float | None] = {
        "roc_auc": roc_auc(injury_any, order),
        "pr_auc": pr_auc(injury_any, order),
        "brier": brier(injury_any, risk_score),
        "calibration_slope": calibration_slope(injury_any, risk_score),
        "calibration_intercept": calibration_intercept(injury_any, risk_score),
        "ece": expected_calibration_error(injury_any, risk_score),
    }
    for name, fraction in CAPTURE_FRACTIONS.items():
        metrics[name] = capture_top_fraction(injury_count, capture_order, fraction)
    for name, count in CAPTURE_COUNTS.items():
        metrics[name] = capture_top_k(injury_count, capture_order, count)
    metrics["poisson_deviance"] = (
        None if expected_injuries is None else poisson_deviance(injury_count, expected_injuries)
    )
    return metrics


def ratios_to_oracle(
    metrics: Mapping[str, float | None], oracle: Mapping[str, float | None]
) -> dict[str, float | None]:
    """Return ``<metric>_vs_oracle``, model value over oracle value, per higher-is-better metric."""
    ratios: dict[str, float | None] = {}
    for name in HIGHER_IS_BETTER:
        value, reference = metrics.get(name), oracle.get(name)
        ratios[f"{name}_vs_oracle"] = (
            None if value is None or not reference else float(value) / float(reference)
        )
    return ratios
