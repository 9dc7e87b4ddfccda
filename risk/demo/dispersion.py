"""Over-dispersion of injury counts on the MSHA underground-coal mine-quarter panel.

The demo generator gives every employer a gamma frailty with mean 1. Its
variance is taken from real data: the negative-binomial (NB2) dispersion
``alpha`` of injury counts given hours worked, where
``Var(y) = mu + alpha * mu**2`` and ``alpha`` is the variance of a mean-1 gamma
frailty.

Three estimates are returned because they answer different questions:

* ``alpha_quarterly``: NB2 on mine-quarter counts with a ``log(hours)`` offset
  and year effects. It mixes the persistent mine effect with quarter-to-quarter
  noise.
* ``alpha_mine_total``: NB2 on each mine's total over all its quarters, with the
  sum of the quarterly model's expected counts as exposure. Summing over
  quarters averages out transient noise, so this is the persistent,
  mine-level frailty variance. The generator uses this one.
* ``persistent_moment``: the covariance of ``(y - mu)`` between quarters of the
  same mine that lie 4 to 20 quarters apart, divided by ``sum(mu_i * mu_j)``.
  Only a persistent effect survives in that covariance. The estimator weights
  mines by ``mu**2``, so the largest mines dominate it.

The injuries file lists only mine-quarters with at least one injury, so a
missing row means zero. That holds only for mines the extract covers:
every West Virginia mine and most Virginia mines are absent although they
are as large as the covered ones. Treating them as zero-injury mines would
make ``alpha`` several times larger. States where fewer than half the mines
appear in the injuries file are therefore left out.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.discrete.discrete_model import NegativeBinomialResultsWrapper
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from risk.errors import InputDataError, ModelError

logger = logging.getLogger(__name__)

# Exposure unit: 200,000 hours is 100 full-time workers for one year.
HOURS_PER_EXPOSURE_UNIT = 200_000.0
MIN_STATE_COVERAGE = 0.5
MOMENT_LAGS_QUARTERS = range(4, 21)
_EMPLOYMENT_COLUMNS = ("mineid", "quarter", "hours_qtr", "year", "stateabbreviation")
_INJURY_COLUMNS = ("mineid", "quarter", "totalinjuries")


@dataclass(frozen=True)
class DispersionFit:
    """Dispersion estimates of mine injury counts given hours worked.

    Attributes
    ----------
    alpha_mine_total, alpha_mine_total_se : float
        NB2 dispersion of mine totals and its standard error: the persistent frailty variance.
    alpha_quarterly, alpha_quarterly_se : float
        NB2 dispersion of mine-quarter counts (persistent plus quarter-to-quarter variation).
    persistent_moment : float
        Cross-quarter covariance estimate of the persistent variance, weighted towards large mines.
    same_quarter_moment : float
        Moment estimate of the total extra-Poisson variance within a quarter, same weighting.
    exposure_elasticity : float
        Coefficient of ``log(hours)`` when it enters as a covariate instead of an offset.
    injuries_per_200k_hours : float
        Injury rate of the panel per 200,000 hours worked.
    n_mines, n_mine_quarters, n_injuries : int
        Size of the panel after the coverage filter.
    states_excluded : tuple of str
        States dropped because the injuries file covers under half of their mines.
    """

    alpha_mine_total: float
    alpha_mine_total_se: float
    alpha_quarterly: float
    alpha_quarterly_se: float
    persistent_moment: float
    same_quarter_moment: float
    exposure_elasticity: float
    injuries_per_200k_hours: float
    n_mines: int
    n_mine_quarters: int
    n_injuries: int
    states_excluded: tuple[str, ...]

    @property
    def frailty_variance(self) -> float:
        """Return the variance of the persistent gamma frailty (``alpha_mine_total``)."""
        return self.alpha_mine_total


def fit_injury_overdispersion(
    employment_csv: str | Path,
    injuries_csv: str | Path,
    min_state_coverage: float = MIN_STATE_COVERAGE,
) -> DispersionFit:
    """Fit negative-binomial dispersion of quarterly mine injury counts given hours worked.

    Parameters
    ----------
    employment_csv : str or Path
        ``mine_quarter_employment.csv``: one row per producing mine-quarter with ``hours_qtr``.
    injuries_csv : str or Path
        ``mine_quarter_injuries.csv``: ``totalinjuries`` for mine-quarters with at least one.
    min_state_coverage : float, default=0.5
        Keep a state only when at least this share of its mines appear in the injuries file.

    Returns
    -------
    DispersionFit

    Raises
    ------
    InputDataError
        A file lacks a required column.
    ModelError
        A negative-binomial fit did not converge.
    """
    panel, excluded = _read_panel(Path(employment_csv), Path(injuries_csv), min_state_coverage)
    quarterly = _fit_nb2(panel["injuries"], _year_design(panel), np.log(panel["exposure"]))
    panel["expected"] = quarterly.predict(_year_design(panel), offset=np.log(panel["exposure"]))

    totals = panel.groupby("mineid").agg(
        injuries=("injuries", "sum"), expected=("expected", "sum")
    )
    mine_total = _fit_nb2(
        totals["injuries"], np.ones((len(totals), 1)), np.log(totals["expected"])
    )
    elastic_design = _year_design(panel).assign(log_exposure=np.log(panel["exposure"]))
    elastic = _fit_nb2(panel["injuries"], elastic_design, None)

    fit = DispersionFit(
        alpha_mine_total=float(mine_total.params.iloc[-1]),
        alpha_mine_total_se=float(mine_total.bse.iloc[-1]),
        alpha_quarterly=float(quarterly.params.iloc[-1]),
        alpha_quarterly_se=float(quarterly.bse.iloc[-1]),
        persistent_moment=_persistent_moment(panel),
        same_quarter_moment=_same_quarter_moment(panel),
        exposure_elasticity=float(elastic.params["log_exposure"]),
        injuries_per_200k_hours=float(panel["injuries"].sum() / panel["exposure"].sum()),
        n_mines=int(panel["mineid"].nunique()),
        n_mine_quarters=len(panel),
        n_injuries=int(panel["injuries"].sum()),
        states_excluded=excluded,
    )
    logger.info(
        "MSHA dispersion fit: %d mines, %d mine-quarters, alpha_mine_total=%.4f",
        fit.n_mines,
        fit.n_mine_quarters,
        fit.alpha_mine_total,
    )
    return fit


def _read_panel(
    employment_csv: Path, injuries_csv: Path, min_state_coverage: float
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    # Mine IDs keep their leading zeros only when read as text.
    employment = pd.read_csv(employment_csv, dtype={"mineid": str})
    injuries = pd.read_csv(injuries_csv, dtype={"mineid": str})
    _require_columns(employment, _EMPLOYMENT_COLUMNS, employment_csv)
    _require_columns(injuries, _INJURY_COLUMNS, injuries_csv)

    states = employment.groupby("mineid")["stateabbreviation"].first()
    coverage = states.index.isin(set(injuries["mineid"]))
    share_by_state = pd.Series(coverage, index=states.index).groupby(states).mean()
    excluded = tuple(sorted(share_by_state[share_by_state < min_state_coverage].index))

    panel = employment.loc[
        ~employment["stateabbreviation"].isin(excluded), list(_EMPLOYMENT_COLUMNS[:4])
    ].merge(injuries[list(_INJURY_COLUMNS)], how="left", on=["mineid", "quarter"])
    panel["injuries"] = panel["totalinjuries"].fillna(0.0)
    panel["exposure"] = panel["hours_qtr"] / HOURS_PER_EXPOSURE_UNIT
    panel["quarter_index"] = (panel["quarter"] * 4).round().astype(np.int64)
    return panel, excluded


def _require_columns(frame: pd.DataFrame, required: tuple[str, ...], path: Path) -> None:
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise InputDataError(
            f"{path.name}: missing columns {missing!r}; found {list(frame.columns)[:5]!r}…"
            " Use the MSHA panel files described in their SOURCE.md."
        )


def _year_design(panel: pd.DataFrame) -> pd.DataFrame:
    years = pd.get_dummies(panel["year"].astype(str), prefix="year", drop_first=True, dtype=float)
    return sm.add_constant(years, has_constant="add")


def _fit_nb2(
    counts: pd.Series, design: pd.DataFrame | np.ndarray, offset: pd.Series | None
) -> NegativeBinomialResultsWrapper:
    exposure_total = np.exp(offset).sum() if offset is not None else len(counts)
    start = np.zeros(np.shape(design)[1] + 1)
    # Start at the pooled log rate and alpha=1: statsmodels' default start
    # overflows when the offset is large, and Newton steps diverge here, so use BFGS.
    start[0] = np.log(counts.sum() / exposure_total)
    start[-1] = 1.0
    model = sm.NegativeBinomial(counts, design, offset=offset, loglike_method="nb2")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            result = model.fit(start_params=start, method="bfgs", maxiter=1000, disp=0)
        except ConvergenceWarning as exc:
            raise ModelError(f"negative-binomial fit did not converge: {exc}") from exc
    if not np.isfinite(result.params).all():
        raise ModelError("negative-binomial fit returned non-finite parameters")
    return result


def _persistent_moment(panel: pd.DataFrame) -> float:
    # E[(y_s - mu_s)(y_t - mu_t)] = mu_s * mu_t * Var(frailty) for distinct quarters
    # s, t of one mine, because Poisson and quarter-level noise are independent.
    residual = panel[["mineid", "quarter_index", "injuries", "expected"]]
    numerator = 0.0
    denominator = 0.0
    for lag in MOMENT_LAGS_QUARTERS:
        later = residual.assign(quarter_index=residual["quarter_index"] - lag)
        pairs = residual.merge(later, on=["mineid", "quarter_index"], suffixes=("", "_later"))
        numerator += float(
            ((pairs["injuries"] - pairs["expected"])
             * (pairs["injuries_later"] - pairs["expected_later"])).sum()
        )
        denominator += float((pairs["expected"] * pairs["expected_later"]).sum())
    return numerator / denominator


def _same_quarter_moment(panel: pd.DataFrame) -> float:
    residual = panel["injuries"] - panel["expected"]
    return float(((residual**2 - panel["injuries"]).sum()) / (panel["expected"] ** 2).sum())
