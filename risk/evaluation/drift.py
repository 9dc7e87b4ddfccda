"""Population stability index (PSI) between two scorings, per feature and for the score.

PSI compares the distribution of one variable in a reference population
(an earlier scoring) with a current one::

    PSI = sum over bins of (current_share - reference_share) * ln(current_share / reference_share)

Numeric variables are cut into bins at the quantiles of the reference, so
each reference bin holds about the same share. Counts such as
``incident_count_12m`` are mostly zero, so equal quantiles collapse into
fewer, unequal bins. Categorical variables use one bin per category. Missing
values form a bin of their own in both cases, so a feature that starts
arriving empty shows up as drift. Shares are floored at ``epsilon`` so that a
bin empty on one side gives a large but finite PSI.

The usual reading is a rule of thumb from credit scoring: below 0.1 stable,
0.1 to 0.25 a moderate shift worth a look, above 0.25 a major shift.
:data:`PSI_LEVELS` contains these cut-offs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from risk.scoring import ScoreFrame

logger = logging.getLogger(__name__)

DEFAULT_BINS = 10
DEFAULT_EPSILON = 1e-4
# (upper bound of PSI, level code, Chinese label), in increasing order.
PSI_LEVELS: tuple[tuple[float, str, str], ...] = (
    (0.1, "stable", "稳定"),
    (0.25, "moderate", "中度偏移"),
    (float("inf"), "major", "显著偏移"),
)
_MISSING = "<missing>"


def psi_level(psi: float) -> str:
    """Return the level code (``stable``, ``moderate`` or ``major``) of a PSI value."""
    for upper, code, _ in PSI_LEVELS:
        if psi < upper:
            return code
    return PSI_LEVELS[-1][1]


def quantile_edges(reference: npt.ArrayLike, bins: int = DEFAULT_BINS) -> npt.NDArray[np.float64]:
    """Return the inner bin edges: the distinct ``1/bins`` quantiles of the non-missing reference.

    Bins are right-closed, ``(edge[k-1], edge[k]]``, with open ends below the
    first edge and above the last, so values outside the reference range still
    fall in a bin.
    """
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins!r}")
    values = np.asarray(reference, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.empty(0)
    inner = np.quantile(values, np.arange(1, bins) / bins)
    return np.unique(inner)


def _numeric_counts(
    values: npt.NDArray[np.float64], edges: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    finite = np.isfinite(values)
    # searchsorted(side="left") puts a value equal to an edge in the bin that ends there.
    positions = np.searchsorted(edges, values[finite], side="left")
    counts = np.bincount(positions, minlength=edges.size + 1).astype(np.float64)
    return np.append(counts, float((~finite).sum()))


def _categorical_counts(values: pd.Series, levels: list[str]) -> npt.NDArray[np.float64]:
    text = values.astype("object").where(values.notna(), _MISSING).astype(str)
    counts = text.value_counts()
    return np.array([float(counts.get(level, 0)) for level in levels])


def psi_from_counts(
    reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike, epsilon: float = DEFAULT_EPSILON
) -> float:
    """Return the PSI of two count vectors over the same bins.

    Raises
    ------
    ValueError
        When the vectors differ in length or either population is empty.
    """
    expected = np.asarray(reference_counts, dtype=np.float64)
    actual = np.asarray(current_counts, dtype=np.float64)
    if expected.shape != actual.shape:
        raise ValueError(f"count vectors differ in shape: {expected.shape} and {actual.shape}")
    if expected.sum() <= 0 or actual.sum() <= 0:
        raise ValueError(
            "PSI needs both populations to be non-empty, got "
            f"{expected.sum():.0f} reference and {actual.sum():.0f} current values"
        )
    expected_share = np.maximum(expected / expected.sum(), epsilon)
    actual_share = np.maximum(actual / actual.sum(), epsilon)
    return float(np.sum((actual_share - expected_share) * np.log(actual_share / expected_share)))


def population_stability_index(
    reference: npt.ArrayLike | pd.Series,
    current: npt.ArrayLike | pd.Series,
    *,
    bins: int = DEFAULT_BINS,
    categorical: bool = False,
    epsilon: float = DEFAULT_EPSILON,
) -> float:
    """Return the PSI of ``current`` against ``reference`` (see the module docstring).

    Parameters
    ----------
    reference, current : array-like
        The values of one variable in the two populations; NaN and None are missing.
    bins : int, default=10
        Number of reference quantile bins for a numeric variable.
    categorical : bool, default=False
        Use one bin per distinct value instead of quantile bins.
    epsilon : float, default=1e-4
        Floor of each bin's share.
    """
    if categorical:
        reference_series, current_series = pd.Series(reference), pd.Series(current)
        levels = sorted(
            set(_categorical_labels(reference_series)) | set(_categorical_labels(current_series))
        )
        return psi_from_counts(
            _categorical_counts(reference_series, levels),
            _categorical_counts(current_series, levels),
            epsilon,
        )
    reference_values = pd.to_numeric(pd.Series(reference), errors="coerce").to_numpy(np.float64)
    current_values = pd.to_numeric(pd.Series(current), errors="coerce").to_numpy(np.float64)
    edges = quantile_edges(reference_values, bins)
    return psi_from_counts(
        _numeric_counts(reference_values, edges), _numeric_counts(current_values, edges), epsilon
    )


def _categorical_labels(values: pd.Series) -> list[str]:
    return list(values.astype("object").where(values.notna(), _MISSING).astype(str).unique())


def _is_categorical(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) or isinstance(
        series.dtype, pd.CategoricalDtype
    )


def feature_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: Sequence[str] | None = None,
    *,
    categorical: Sequence[str] | None = None,
    bins: int = DEFAULT_BINS,
    epsilon: float = DEFAULT_EPSILON,
) -> pd.DataFrame:
    """Return the PSI of each feature between two frames, largest first.

    Parameters
    ----------
    reference, current : DataFrame
        One row per employer, the features as columns.
    features : sequence of str, optional
        Columns to compare; default the columns the two frames share.
    categorical : sequence of str, optional
        Columns to treat as categories; default the non-numeric columns.

    Returns
    -------
    DataFrame
        One row per feature, sorted by ``psi`` descending. Columns:
        ``feature``, ``kind`` (numeric or categorical), ``psi``, ``level``
        (see :func:`psi_level`), ``reference_mean`` and ``current_mean`` (NaN
        for categorical features), ``reference_missing_share``,
        ``current_missing_share`` and ``reference_distinct`` (distinct
        non-missing values in the reference).
        A numeric feature with few distinct values, such as a district's
        average rate, gets a large PSI whenever those values are recomputed,
        because every value then moves to another quantile bin.

    Raises
    ------
    KeyError
        When a requested feature is missing from either frame.
    """
    names = (
        list(features) if features is not None else [c for c in reference.columns if c in current]
    )
    absent = [name for name in names if name not in reference or name not in current]
    if absent:
        raise KeyError(f"features missing from one of the frames: {absent[:5]!r}")
    rows = [
        _feature_row(reference[name], current[name], name, categorical, bins, epsilon)
        for name in names
    ]
    table = pd.DataFrame(rows, columns=_DRIFT_COLUMNS)
    return table.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)


_DRIFT_COLUMNS = [
    "feature",
    "kind",
    "psi",
    "level",
    "reference_mean",
    "current_mean",
    "reference_missing_share",
    "current_missing_share",
    "reference_distinct",
]


def _feature_row(
    reference: pd.Series,
    current: pd.Series,
    name: str,
    categorical: Sequence[str] | None,
    bins: int,
    epsilon: float,
) -> dict[str, object]:
    is_categorical = name in categorical if categorical is not None else _is_categorical(reference)
    psi = population_stability_index(
        reference, current, bins=bins, categorical=is_categorical, epsilon=epsilon
    )
    numeric = not is_categorical
    return {
        "feature": name,
        "kind": "categorical" if is_categorical else "numeric",
        "psi": psi,
        "level": psi_level(psi),
        "reference_mean": float(pd.to_numeric(reference, errors="coerce").mean())
        if numeric
        else np.nan,
        "current_mean": float(pd.to_numeric(current, errors="coerce").mean())
        if numeric
        else np.nan,
        "reference_missing_share": float(reference.isna().mean()),
        "current_missing_share": float(current.isna().mean()),
        "reference_distinct": int(reference.nunique(dropna=True)),
    }


@dataclass(frozen=True)
class DriftReport:
    """Drift between two scorings: the PSI of ``risk_score`` and of every feature."""

    reference_as_of: dt.date
    current_as_of: dt.date
    score_psi: float
    features: pd.DataFrame

    @property
    def score_level(self) -> str:
        """Level code of ``score_psi``."""
        return psi_level(self.score_psi)

    def top(self, n: int = 10) -> pd.DataFrame:
        """Return the ``n`` features that moved most."""
        return self.features.head(n)


def score_frame_features(frame: ScoreFrame) -> pd.DataFrame:
    """Return the features a scoring read, one row per employer, categories as their labels.

    The booster reads categorical features as the codes of the training
    categories, so the codes are mapped back to the labels here. A category
    unseen in training was scored as missing and stays missing.
    """
    features = pd.DataFrame(frame.feature_values, columns=list(frame.feature_names))
    for name, labels in frame.feature_meta.get("categories", {}).items():
        if name in features:
            codes = features[name].to_numpy()
            known = np.isfinite(codes)
            text = np.full(codes.shape, None, dtype=object)
            text[known] = np.asarray(labels, dtype=object)[codes[known].astype(np.int64)]
            features[name] = pd.Series(text, dtype="object")
    return features


def scoring_drift(
    reference: ScoreFrame,
    current: ScoreFrame,
    *,
    bins: int = DEFAULT_BINS,
    epsilon: float = DEFAULT_EPSILON,
) -> DriftReport:
    """Compare two scorings, for example the same model at two as-of dates.

    Raises
    ------
    ValueError
        When the two scorings read different features, so they come from
        models that cannot be compared feature by feature.
    """
    if tuple(reference.feature_names) != tuple(current.feature_names):
        raise ValueError(
            "两次评分使用的特征不同 / the two scorings read different features; compare scorings"
            " of the same model version"
        )
    categorical = list(reference.feature_meta.get("categories", {}))
    table = feature_drift(
        score_frame_features(reference),
        score_frame_features(current),
        categorical=categorical,
        bins=bins,
        epsilon=epsilon,
    )
    score_psi = population_stability_index(
        reference.scores["risk_score"], current.scores["risk_score"], bins=bins, epsilon=epsilon
    )
    logger.info(
        "drift %s -> %s: score PSI %.3f, %d of %d features above 0.1",
        reference.as_of,
        current.as_of,
        score_psi,
        int((table["psi"] >= PSI_LEVELS[0][0]).sum()),
        len(table),
    )
    return DriftReport(reference.as_of, current.as_of, score_psi, table)
