"""Two comparisons beside the event study: the naive before/after and a matched comparison.

The matched comparison emulates one small trial per calendar month. In month
``m`` every employer that is insured and had no training in the previous
``history_months`` is eligible. Employers trained in ``m`` are compared with
eligible employers not trained in ``m`` from the same stratum. A stratum is
one month, one number of workplace injuries in the previous
``history_months`` (0, 1, 2, 3 or more), whether a major hazard was open in
that period, and one headcount band. The outcome is the workplace injury count in the
``follow_up_months`` after ``m``, with the insured months as exposure.

The estimate is a fixed-effects Poisson model with one effect per stratum, so
trained employers are compared only with their own stratum. The log headcount
is a covariate. Standard errors are clustered by employer, because an
employer serves as a control in many months. It assumes that, within a
stratum, whether the employer was trained in ``m`` is unrelated to its later
injury rate (no unmeasured confounding). Controls trained later during the
follow-up stay controls, as in an intention-to-treat analysis, which pulls the
estimate slightly towards no effect.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from risk.errors import ModelError
from risk.evaluation.employer_months import EmployerMonths
from risk.evaluation.event_time import event_times
from risk.evaluation.fe_poisson import fit_fe_poisson

logger = logging.getLogger(__name__)

# Upper bounds of the headcount bands used for matching; the last band is open.
HEADCOUNT_BAND_EDGES = (10.0, 50.0, 300.0)
INJURY_HISTORY_CAP = 3
_FAR = 10**6


@dataclass(frozen=True)
class BeforeAfter:
    """The naive comparison: injuries in the months after each training against those before."""

    trainings: int
    injuries_before: int
    injuries_after: int
    rate_ratio: float
    ci_low: float
    ci_high: float


def naive_before_after(panel: EmployerMonths, months: int = 12, level: float = 0.95) -> BeforeAfter:
    """Compare injuries per insured worker-month in the ``months`` after and before each training.

    Only trainings with ``months`` insured months on both sides count. The
    interval treats the two totals as independent Poisson counts. Because
    programmes pick employers after recent injuries, the ratio mixes the
    effect with regression to the mean; it is shown for contrast only.
    """
    before = after = exposure_before = exposure_after = 0.0
    used = 0
    for employer, month in zip(panel.training_employer, panel.training_month, strict=True):
        if month - months < 0 or month + months >= panel.months.size:
            continue
        headcount = panel.headcount[employer]
        pre, post = slice(month - months, month), slice(month + 1, month + months + 1)
        if not (np.all(headcount[pre] > 0) and np.all(headcount[post] > 0)):
            continue
        used += 1
        before += panel.injuries[employer, pre].sum()
        after += panel.injuries[employer, post].sum()
        exposure_before += headcount[pre].sum()
        exposure_after += headcount[post].sum()
    if before == 0 or after == 0:
        return BeforeAfter(used, int(before), int(after), float("nan"), float("nan"), float("nan"))
    log_ratio = np.log((after / exposure_after) / (before / exposure_before))
    half_width = float(stats.norm.ppf(0.5 + level / 2.0)) * np.sqrt(1.0 / before + 1.0 / after)
    return BeforeAfter(
        used,
        int(before),
        int(after),
        float(np.exp(log_ratio)),
        float(np.exp(log_ratio - half_width)),
        float(np.exp(log_ratio + half_width)),
    )


@dataclass(frozen=True)
class MatchedEffect:
    """Result of :func:`matched_training_effect`.

    ``balance`` compares trained employers with their controls, weighted to
    the trained employers' strata. It covers the matching variables, the log
    headcount (matched only by band) and injuries 13-36 months before, which
    were not matched on. Similar means there support the no-confounding
    assumption.
    """

    rate_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    level: float
    n_trained: int
    n_controls: int
    n_strata: int
    follow_up_months: int
    balance: pd.DataFrame

    def covers(self, rate_ratio: float) -> bool:
        """Return whether the confidence interval contains ``rate_ratio``."""
        return self.ci_low <= rate_ratio <= self.ci_high


def _rolling(values: npt.NDArray[np.float64], start: int, stop: int) -> npt.NDArray[np.float64]:
    """Return, per cell (i, m), the sum of ``values[i, m + start : m + stop]`` inside the panel."""
    n_months = values.shape[1]
    cumulative = np.concatenate([np.zeros((values.shape[0], 1)), np.cumsum(values, axis=1)], axis=1)
    months = np.arange(n_months)
    low = np.clip(months + start, 0, n_months)
    high = np.clip(months + stop, 0, n_months)
    return cumulative[:, high] - cumulative[:, low]


def _candidate_cells(panel: EmployerMonths, history: int, follow_up: int) -> pd.DataFrame:
    since, _ = event_times(panel)
    insured = panel.insured.astype(np.float64)
    injuries = panel.injuries.astype(np.float64)
    treated = since == 0
    # Months since the latest training before this month.
    previous = np.full(since.shape, _FAR, dtype=np.int64)
    previous[:, 1:] = np.where(since[:, :-1] >= _FAR, _FAR, since[:, :-1] + 1)
    months = np.arange(panel.months.size)
    eligible = (
        panel.insured
        & (previous >= history)
        & (months >= history)[None, :]
        & (_rolling(insured, 1, follow_up + 1) > 0)
    )
    rows, columns = np.nonzero(eligible)
    headcount = panel.headcount[rows, columns]
    return pd.DataFrame(
        {
            "employer": rows,
            "month": columns,
            "treated": treated[rows, columns],
            "injuries_history": np.minimum(
                _rolling(injuries, -history, 0)[rows, columns], INJURY_HISTORY_CAP
            ),
            "major_hazard_history": _rolling(panel.open_major_share, -history, 0)[rows, columns]
            > 0,
            "headcount_band": np.searchsorted(HEADCOUNT_BAND_EDGES, headcount, side="right"),
            "log_headcount": np.log(headcount),
            "injuries_earlier": _rolling(injuries, -36, -history)[rows, columns],
            "outcome": _rolling(injuries, 1, follow_up + 1)[rows, columns],
            "insured_months": _rolling(insured, 1, follow_up + 1)[rows, columns],
        }
    )


_STRATUM = ["month", "injuries_history", "major_hazard_history", "headcount_band"]


def _match(cells: pd.DataFrame, controls_per_training: int, seed: int) -> pd.DataFrame:
    cells = cells.assign(stratum=cells.groupby(_STRATUM, sort=False).ngroup())
    n_treated = cells.groupby("stratum")["treated"].sum()
    cells = cells[cells["stratum"].map(n_treated).to_numpy() > 0]
    controls = cells[~cells["treated"]].copy()
    # A random order inside each stratum picks controls without replacement.
    controls["order"] = np.random.default_rng(seed).random(len(controls))
    controls["rank"] = controls.groupby("stratum")["order"].rank(method="first")
    limit = controls["stratum"].map(n_treated).to_numpy() * controls_per_training
    chosen = controls[controls["rank"].to_numpy() <= limit].drop(columns=["order", "rank"])
    return pd.concat([cells[cells["treated"]], chosen], ignore_index=True)


def _balance(matched: pd.DataFrame) -> pd.DataFrame:
    """Compare trained employers with their controls, weighted to the trainings of each stratum.

    The weights mirror the stratum effects of the model, so the matched-on
    variables balance exactly and the others show what matching left over.
    """
    is_treated = matched["treated"].to_numpy()
    per_stratum = matched.groupby("stratum")["treated"].agg(["sum", "size"])
    n_controls = (per_stratum["size"] - per_stratum["sum"]).reindex(matched["stratum"]).to_numpy()
    n_trained = per_stratum["sum"].reindex(matched["stratum"]).to_numpy()
    weights = np.where(is_treated, 1.0, n_trained / np.maximum(n_controls, 1))
    rows = []
    for column in ("injuries_history", "major_hazard_history", "log_headcount", "injuries_earlier"):
        values = matched[column].to_numpy(np.float64)
        trained_mean = float(values[is_treated].mean())
        control_mean = float(np.average(values[~is_treated], weights=weights[~is_treated]))
        spread = np.sqrt((values[is_treated].var() + values[~is_treated].var()) / 2.0)
        rows.append(
            {
                "variable": column,
                "matched_on": column in _STRATUM,
                "trained_mean": trained_mean,
                "control_mean": control_mean,
                "standardized_difference": (trained_mean - control_mean) / spread
                if spread > 0
                else 0.0,
            }
        )
    return pd.DataFrame(rows)


def matched_training_effect(
    panel: EmployerMonths,
    *,
    follow_up_months: int = 12,
    history_months: int = 12,
    controls_per_training: int = 20,
    seed: int = 0,
    level: float = 0.95,
) -> MatchedEffect:
    """Estimate the training effect by the monthly matched comparison of the module docstring.

    Raises
    ------
    ModelError
        When no training has an eligible control in its stratum.
    """
    cells = _candidate_cells(panel, history_months, follow_up_months)
    matched = _match(cells, controls_per_training, seed)
    if not matched["treated"].any() or matched["treated"].all():
        raise ModelError(
            "没有可比较的培训单位 / no trained employer has an eligible control in its stratum; "
            "the panel is too short or too small for the matched comparison"
        )
    design = np.column_stack([matched["treated"].to_numpy(np.float64), matched["log_headcount"]])
    fit = fit_fe_poisson(
        matched["outcome"],
        design,
        matched["stratum"],
        names=["trained", "log_headcount"],
        offset=np.log(matched["insured_months"].to_numpy(np.float64)),
        clusters=matched["employer"],
    )
    row = fit.table(level).iloc[0]
    result = MatchedEffect(
        rate_ratio=float(row["rate_ratio"]),
        ci_low=float(row["ci_low"]),
        ci_high=float(row["ci_high"]),
        p_value=float(row["p_value"]),
        level=level,
        n_trained=int(matched["treated"].sum()),
        n_controls=int((~matched["treated"]).sum()),
        n_strata=int(matched["stratum"].nunique()),
        follow_up_months=follow_up_months,
        balance=_balance(matched),
    )
    logger.info(
        "matched comparison: rate ratio %.3f (%.3f to %.3f), %d trained, %d controls",
        result.rate_ratio,
        result.ci_low,
        result.ci_high,
        result.n_trained,
        result.n_controls,
    )
    return result
