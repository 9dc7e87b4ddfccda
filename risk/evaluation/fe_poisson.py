"""Poisson regression with one set of group fixed effects, fitted by conditional maximum likelihood.

The model is ``E[y_gt] = exp(alpha_g + x_gt' beta + offset_gt)``. For Poisson
counts the maximum-likelihood ``beta`` with a free ``alpha_g`` per group is the
``beta`` that maximises the conditional (multinomial) likelihood given each
group's total, ``sum_gt y_gt log p_gt`` with ``p_gt = exp(eta_gt) / sum_s
exp(eta_gs)``. The group effects drop out, so tens of thousands of employers
cost little, and groups with no events carry no information and are dropped.
The tests check the coefficients against statsmodels' Poisson fit with one
dummy per group.

Standard errors are clustered by group, or by ``clusters`` when given. They
are the sandwich ``H^-1 (sum_c s_c s_c') H^-1`` with the scores ``s_c``
summed over each cluster, times ``C / (C - 1)``. Clustered by group, this
variance stays valid under any overdispersion and any correlation within a
group as long as the conditional mean is right. It equals statsmodels'
cluster-robust covariance of the dummy-variable fit without the
``(n - 1) / (n - k)`` factor, which would count the group dummies as
parameters.

The design is a SciPy sparse matrix, so time dummies and event-time dummies
(a handful of non-zeros per row) stay cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from risk.errors import ModelError

logger = logging.getLogger(__name__)

MAX_ITERATIONS = 100
# Newton stops when the largest coefficient step is below this, in log-rate units.
STEP_TOLERANCE = 1e-9
MAX_STEP_HALVINGS = 30


@dataclass(frozen=True)
class PoissonFit:
    """A fitted fixed-effects Poisson model.

    Attributes
    ----------
    names : tuple of str
        Coefficient names, in design column order.
    coef : ndarray
        Log rate ratios.
    cov : ndarray
        Cluster-robust covariance of ``coef``.
    n_rows, n_groups, n_clusters : int
        Rows, groups and clusters that carry information (groups with at least one event).
    n_events : int
        Total count over those rows.
    log_likelihood : float
        Conditional log-likelihood at the optimum.
    iterations : int
        Newton iterations used.
    """

    names: tuple[str, ...]
    coef: npt.NDArray[np.float64]
    cov: npt.NDArray[np.float64]
    n_rows: int
    n_groups: int
    n_clusters: int
    n_events: int
    log_likelihood: float
    iterations: int

    @property
    def std_err(self) -> npt.NDArray[np.float64]:
        """Cluster-robust standard errors of ``coef``."""
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """Return coefficients as rate ratios with Wald confidence intervals.

        Columns: ``term``, ``coef`` (log rate ratio), ``std_err``,
        ``rate_ratio``, ``ci_low``, ``ci_high`` (of the rate ratio) and
        ``p_value`` (two-sided, normal approximation).
        """
        z = float(stats.norm.ppf(0.5 + level / 2.0))
        se = self.std_err
        with np.errstate(divide="ignore", invalid="ignore"):
            p_values = 2.0 * stats.norm.sf(np.abs(self.coef / se))
        return pd.DataFrame(
            {
                "term": list(self.names),
                "coef": self.coef,
                "std_err": se,
                "rate_ratio": np.exp(self.coef),
                "ci_low": np.exp(self.coef - z * se),
                "ci_high": np.exp(self.coef + z * se),
                "p_value": p_values,
            }
        )


@dataclass(frozen=True)
class _Groups:
    starts: npt.NDArray[np.intp]
    index: npt.NDArray[np.intp]
    indicator: sp.csr_matrix
    totals: npt.NDArray[np.float64]


def _groups(codes: npt.NDArray[np.intp], y: npt.NDArray[np.float64]) -> _Groups:
    # Rows arrive sorted by group, so each group is one contiguous segment.
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    index = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, codes.size]))
    indicator = sp.csr_matrix(
        (np.ones(codes.size), (index, np.arange(codes.size))), shape=(starts.size, codes.size)
    )
    return _Groups(starts, index, indicator, np.add.reduceat(y, starts))


def _sum_by(matrix: sp.csr_matrix, labels: npt.NDArray[np.intp]) -> npt.NDArray[np.float64]:
    n_labels = int(labels.max()) + 1
    indicator = sp.csr_matrix(
        (np.ones(labels.size), (labels, np.arange(labels.size))), shape=(n_labels, labels.size)
    )
    return np.asarray((indicator @ matrix).toarray())


def _shares(eta: npt.NDArray[np.float64], groups: _Groups) -> npt.NDArray[np.float64]:
    # Softmax within each group; subtracting the group maximum keeps exp() finite.
    shifted = np.exp(eta - np.maximum.reduceat(eta, groups.starts)[groups.index])
    return shifted / np.add.reduceat(shifted, groups.starts)[groups.index]


def _log_likelihood(y: npt.NDArray[np.float64], shares: npt.NDArray[np.float64]) -> float:
    positive = y > 0
    return float(np.sum(y[positive] * np.log(shares[positive])))


def _newton_parts(
    design: sp.csr_matrix,
    y: npt.NDArray[np.float64],
    shares: npt.NDArray[np.float64],
    groups: _Groups,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return the gradient and information matrix (minus Hessian) of the conditional likelihood."""
    expected = groups.totals[groups.index] * shares
    gradient = np.asarray(design.T @ (y - expected)).ravel()
    weighted = design.multiply(expected[:, None]).tocsr()
    group_means = groups.indicator @ design.multiply(shares[:, None]).tocsr()
    information = (design.T @ weighted).toarray() - (
        group_means.T @ group_means.multiply(groups.totals[:, None]).tocsr()
    ).toarray()
    return gradient, information


def fit_fe_poisson(
    y: npt.ArrayLike,
    design: sp.spmatrix | npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    names: Sequence[str],
    offset: npt.ArrayLike | None = None,
    clusters: npt.ArrayLike | None = None,
) -> PoissonFit:
    """Fit ``E[y] = exp(alpha_group + design @ beta + offset)`` by conditional maximum likelihood.

    Parameters
    ----------
    y : array-like of shape (n,)
        Non-negative counts.
    design : sparse matrix or array of shape (n, k)
        Covariates, without an intercept (the group effects contain it).
    groups : array-like of shape (n,)
        Group label of each row (the employer); standard errors cluster on it.
    names : sequence of str
        One name per design column.
    offset : array-like of shape (n,), optional
        Known log exposure added to the linear predictor.
    clusters : array-like of shape (n,), optional
        Cluster label of each row for the standard errors; default ``groups``.

    Raises
    ------
    ModelError
        When the inputs disagree in length, no group has an event, the
        information matrix is singular (a column constant within every group,
        or a dummy with no rows among groups with events), or Newton's method
        does not converge.
    """
    counts = np.asarray(y, dtype=np.float64)
    matrix = sp.csr_matrix(design, dtype=np.float64)
    labels = pd.factorize(np.asarray(groups), sort=False)[0]
    extra = np.zeros(counts.size) if offset is None else np.asarray(offset, dtype=np.float64)
    cluster_labels = labels if clusters is None else pd.factorize(np.asarray(clusters))[0]
    _check_inputs(counts, matrix, labels, extra, names)
    if cluster_labels.size != counts.size:
        raise ModelError(f"clusters has {cluster_labels.size} rows for {counts.size} counts")

    keep = _rows_with_events(labels, counts)
    order = np.argsort(labels[keep], kind="stable")
    rows = np.flatnonzero(keep)[order]
    counts, matrix, extra = counts[rows], matrix[rows], extra[rows]
    cluster_labels = pd.factorize(cluster_labels[rows])[0]
    group_info = _groups(labels[rows], counts)

    coef, iterations = _newton(matrix, counts, extra, group_info, names)
    shares = _shares(matrix @ coef + extra, group_info)
    _, information = _newton_parts(matrix, counts, shares, group_info)
    row_scores = matrix.multiply((counts - group_info.totals[group_info.index] * shares)[:, None])
    scores = _sum_by(row_scores.tocsr(), cluster_labels)
    bread = np.linalg.inv(information)
    n_clusters = int(cluster_labels.max()) + 1
    cov = bread @ (scores.T @ scores) @ bread * (n_clusters / max(n_clusters - 1, 1))
    fit = PoissonFit(
        names=tuple(names),
        coef=coef,
        cov=cov,
        n_rows=int(rows.size),
        n_groups=int(group_info.starts.size),
        n_clusters=n_clusters,
        n_events=int(counts.sum()),
        log_likelihood=_log_likelihood(counts, shares),
        iterations=iterations,
    )
    logger.info(
        "fixed-effects Poisson: %d rows, %d groups, %d events, %d iterations",
        fit.n_rows,
        fit.n_groups,
        fit.n_events,
        iterations,
    )
    return fit


def _check_inputs(
    counts: npt.NDArray[np.float64],
    matrix: sp.csr_matrix,
    labels: npt.NDArray[np.intp],
    offset: npt.NDArray[np.float64],
    names: Sequence[str],
) -> None:
    lengths = {
        "y": counts.size,
        "design rows": matrix.shape[0],
        "groups": labels.size,
        "offset": offset.size,
    }
    if len(set(lengths.values())) != 1:
        raise ModelError(f"inputs of fit_fe_poisson differ in length: {lengths}")
    if len(names) != matrix.shape[1]:
        raise ModelError(f"names has {len(names)} entries for {matrix.shape[1]} design columns")
    if counts.size and (counts.min() < 0 or not np.all(np.isfinite(counts))):
        raise ModelError("y must contain finite, non-negative counts")


def _rows_with_events(
    labels: npt.NDArray[np.intp], counts: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    totals = np.bincount(labels, weights=counts, minlength=labels.max(initial=-1) + 1)
    keep = totals[labels] > 0 if labels.size else np.zeros(0, dtype=bool)
    if not keep.any():
        raise ModelError(
            "no group has an event, so the fixed-effects Poisson model has no information"
        )
    return keep


def _newton(
    matrix: sp.csr_matrix,
    counts: npt.NDArray[np.float64],
    offset: npt.NDArray[np.float64],
    groups: _Groups,
    names: Sequence[str],
) -> tuple[npt.NDArray[np.float64], int]:
    _check_within_variation(matrix, groups, names)
    coef = np.zeros(matrix.shape[1])
    current = _log_likelihood(counts, _shares(matrix @ coef + offset, groups))
    for iteration in range(1, MAX_ITERATIONS + 1):
        shares = _shares(matrix @ coef + offset, groups)
        gradient, information = _newton_parts(matrix, counts, shares, groups)
        step = _solve(information, gradient)
        coef, current = _halve_until_better(matrix, counts, offset, groups, coef, step, current)
        if float(np.max(np.abs(step), initial=0.0)) < STEP_TOLERANCE:
            return coef, iteration
    raise ModelError(f"fixed-effects Poisson did not converge in {MAX_ITERATIONS} iterations")


def _check_within_variation(matrix: sp.csr_matrix, groups: _Groups, names: Sequence[str]) -> None:
    """Raise when a column is constant within every group, so the group effects absorb it."""
    sizes = np.diff(np.r_[groups.starts, matrix.shape[0]]).astype(np.float64)
    sums = np.asarray((groups.indicator @ matrix).toarray())
    squares = np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel()
    within = squares - np.sum(sums**2 / sizes[:, None], axis=0)
    constant = [names[i] for i in np.flatnonzero(within <= 1e-10 * np.maximum(squares, 1e-300))]
    if constant:
        raise ModelError(
            f"terms {constant[:5]!r} have no variation within groups that have events, so the "
            "group effects absorb them; drop them from the design"
        )


def _solve(
    information: npt.NDArray[np.float64], gradient: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    try:
        return np.linalg.solve(information, gradient)
    except np.linalg.LinAlgError as exc:
        raise ModelError(
            f"the design is collinear, so the information matrix is singular: {exc}"
        ) from exc


def _halve_until_better(
    matrix: sp.csr_matrix,
    counts: npt.NDArray[np.float64],
    offset: npt.NDArray[np.float64],
    groups: _Groups,
    coef: npt.NDArray[np.float64],
    step: npt.NDArray[np.float64],
    current: float,
) -> tuple[npt.NDArray[np.float64], float]:
    # The conditional log-likelihood is concave, so a full Newton step rarely
    # overshoots; halving guards the first steps from a poor start.
    scale = 1.0
    for _ in range(MAX_STEP_HALVINGS):
        candidate = coef + scale * step
        value = _log_likelihood(counts, _shares(matrix @ candidate + offset, groups))
        if value >= current - 1e-12:
            return candidate, value
        scale /= 2.0
    return coef, current
