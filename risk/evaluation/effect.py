"""The effect of delivered training on later workplace injury rates: an event study.

Design. Each employer-month with insured workers is one observation of its
workplace injury count. A fixed-effects Poisson model
(:mod:`risk.evaluation.fe_poisson`) compares each employer with itself, so
everything constant about an employer (industry, frailty, management) drops
out, and calendar-month effects absorb the season, the trend and any
city-wide shock::

    log E[injuries_it] = alpha_i + gamma_t + sum_k beta_k D_k,it
                         + rho log(headcount_it) + theta open_major_share_it

``D_k`` are event-time indicators relative to the employer's trainings: the
training month itself (0), bins after the most recent training and bins
before the next one. The reference is every month outside those windows,
including all months of employers never trained. Standard errors are
clustered by employer.

Why the months before a training are not the comparison. Programmes pick
employers after recent injuries, so the months just before a training are
high by selection, and a plain before/after comparison mistakes the fall back
to normal (regression to the mean) for an effect.
:func:`naive_before_after` shows that bias. Here the ``selection_months``
before each training get indicators of their own, so they never serve as the
reference. The earlier bins (``-window_months`` to ``-selection_months - 1``)
are a placebo check: they should show a rate ratio near 1.

Assumptions, which the notebook states for a reviewer:

1. Parallel trends: without training, an employer's rate outside the
   selection window would follow the calendar-month pattern of the other
   employers, after adjusting for headcount and open major hazards.
2. Selection on past outcomes only within ``selection_months`` before the
   training; the placebo bins test this.
3. No anticipation: nothing changes before the training month.
4. No spill-over to other employers, and one multiplicative effect shared by
   all trainings (the pooled estimate is an average over them).
5. The effect is over after ``window_months``, so months beyond are reference.

``adjust_for_hazards`` keeps open major hazards fixed. Training that leads an
employer to rectify hazards faster then has that part of its effect removed,
so the adjusted estimate is the effect beyond hazard rectification.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from risk.evaluation.employer_months import EmployerMonths, build_employer_months
from risk.evaluation.event_time import EventWindow, bin_label, event_columns, event_times
from risk.evaluation.fe_poisson import PoissonFit, fit_fe_poisson
from risk.evaluation.matched import (
    BeforeAfter,
    MatchedEffect,
    matched_training_effect,
    naive_before_after,
)
from risk.tables import CanonicalTables

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Design:
    y: npt.NDArray[np.float64]
    matrix: sp.csr_matrix
    groups: npt.NDArray[np.intp]
    names: list[str]


def _design(
    panel: EmployerMonths,
    bins: list[tuple[int, int]],
    adjust_for_hazards: bool,
    event_time: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
) -> _Design:
    cells = panel.insured.ravel()
    since, until = (array.ravel()[cells] for array in event_time)
    events = event_columns(since, until, bins)
    names = [bin_label(first, last) for first, last in bins]

    covariates = [np.log(panel.headcount.ravel()[cells])]
    names.append("log_headcount")
    if adjust_for_hazards:
        covariates.append(panel.open_major_share.ravel()[cells])
        names.append("open_major_share")

    # Calendar-month dummies, the first month as reference.
    month = np.tile(np.arange(panel.months.size), panel.injuries.shape[0])[cells]
    dummies = sp.csr_matrix(
        (np.ones(month.size), (np.arange(month.size), month)), shape=(month.size, panel.months.size)
    )[:, 1:]
    names.extend(f"month_{period}" for period in panel.months[1:])

    matrix = sp.hstack([events, sp.csr_matrix(np.column_stack(covariates)), dummies], format="csr")
    groups = np.repeat(np.arange(panel.injuries.shape[0]), panel.months.size)[cells]
    return _Design(panel.injuries.ravel()[cells].astype(np.float64), matrix, groups, names)


def _drop_empty_terms(design: _Design) -> _Design:
    """Keep employers with an injury (the others carry no information) and drop bins without rows.

    A bin that no such employer-month falls in, for example in a short panel,
    cannot be estimated.
    """
    totals = np.bincount(design.groups, weights=design.y)
    rows = totals[design.groups] > 0
    matrix = design.matrix[rows]
    kept = np.flatnonzero(np.asarray(abs(matrix).sum(axis=0)).ravel() > 0)
    dropped = sorted(set(range(len(design.names))) - set(kept.tolist()))
    if dropped:
        logger.info(
            "dropping terms with no rows: %s", ", ".join(design.names[i] for i in dropped[:10])
        )
    return _Design(
        design.y[rows], matrix[:, kept], design.groups[rows], [design.names[i] for i in kept]
    )


def fit_event_model(
    panel: EmployerMonths, bins: list[tuple[int, int]], *, adjust_for_hazards: bool = True
) -> PoissonFit:
    """Fit the fixed-effects Poisson model of the module docstring with the event-time ``bins``."""
    design = _drop_empty_terms(_design(panel, bins, adjust_for_hazards, event_times(panel)))
    return fit_fe_poisson(design.y, design.matrix, design.groups, names=design.names)


def _bin_role(first: int, last: int, window: EventWindow) -> str:
    if first == 0:
        return "training_month"
    if first > 0:
        return "effect" if last <= window.effect_months else "after_effect"
    return "selection" if -first <= window.selection_months else "placebo"


def _event_table(
    fit: PoissonFit, bins: list[tuple[int, int]], window: EventWindow, level: float
) -> pd.DataFrame:
    table = fit.table(level).set_index("term")
    rows = []
    for first, last in bins:
        label = bin_label(first, last)
        if label not in table.index:
            continue
        entry = table.loc[label]
        rows.append(
            {
                "term": label,
                "first": first,
                "last": last,
                "role": _bin_role(first, last, window),
                **{
                    key: float(entry[key])
                    for key in ("coef", "std_err", "rate_ratio", "ci_low", "ci_high", "p_value")
                },
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class TrainingEffect:
    """Estimated rate ratio of workplace injuries in the ``effect_months`` after a training.

    Attributes
    ----------
    rate_ratio, ci_low, ci_high : float
        Pooled estimate and its confidence interval at ``level``.
    p_value : float
        Two-sided p-value of no effect (rate ratio 1).
    event_study : DataFrame
        One row per event-time bin: ``term``, ``first``, ``last``, ``role``
        (placebo, selection, training_month, effect or after_effect),
        ``rate_ratio``, ``ci_low``, ``ci_high``, ``coef``, ``std_err``, ``p_value``.
    pooled : DataFrame
        The same columns for the bins of the pooled model.
    covariates : DataFrame
        Rate ratios of ``log_headcount`` and, when adjusted, ``open_major_share``.
    naive : BeforeAfter
        The before/after comparison, for contrast.
    matched : MatchedEffect or None
        The matched comparison of :mod:`risk.evaluation.matched`, a second design.
    """

    rate_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    level: float
    window: EventWindow
    adjust_for_hazards: bool
    event_study: pd.DataFrame
    pooled: pd.DataFrame
    covariates: pd.DataFrame
    naive: BeforeAfter
    matched: MatchedEffect | None
    n_employers: int
    n_employers_with_injuries: int
    n_trainings: int
    n_trained_employers: int
    n_cells: int
    n_injuries: int
    first_month: str
    last_month: str

    def covers(self, rate_ratio: float) -> bool:
        """Return whether the confidence interval contains ``rate_ratio``."""
        return self.ci_low <= rate_ratio <= self.ci_high

    def summary(self) -> dict[str, object]:
        """Return the headline numbers as plain values."""
        return {
            "rate_ratio": self.rate_ratio,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "level": self.level,
            "effect_months": self.window.effect_months,
            "adjust_for_hazards": self.adjust_for_hazards,
            "n_trainings": self.n_trainings,
            "n_trained_employers": self.n_trained_employers,
            "n_employers": self.n_employers,
            "n_cells": self.n_cells,
            "n_injuries": self.n_injuries,
            "months": f"{self.first_month}..{self.last_month}",
        }


def estimate_training_effect(
    tables: CanonicalTables,
    *,
    window: EventWindow | None = None,
    adjust_for_hazards: bool = True,
    level: float = 0.95,
    start: dt.date | None = None,
    end: dt.date | None = None,
    matched: bool = True,
) -> TrainingEffect:
    """Estimate the effect of training on workplace injury rates (see the module docstring).

    Parameters
    ----------
    tables : CanonicalTables
        The data, e.g. from :func:`risk.store.read.read_tables`.
    window : EventWindow, optional
        Event-time windows; default ``EventWindow()`` (12-month effect,
        24-month plot window in 3-month bins, 12-month selection window).
    adjust_for_hazards : bool, default=True
        Hold the share of days with an open major hazard fixed.
    level : float, default=0.95
        Confidence level of the intervals.
    start, end : datetime.date, optional
        Months to cover; default the months of the first and last injury.
    matched : bool, default=True
        Also run the matched comparison, with ``effect_months`` of follow-up
        and ``selection_months`` of matched history.

    Raises
    ------
    ModelError
        When no training falls in the panel or the model cannot be fitted.
    """
    from risk.errors import ModelError

    window = window or EventWindow()
    panel = build_employer_months(tables, start, end)
    if panel.training_month.size == 0:
        raise ModelError(
            "分析期内没有培训记录 / no training record falls in the panel months "
            f"{panel.months[0]} to {panel.months[-1]}; load training records first"
        )
    event_fit = fit_event_model(panel, window.bins(), adjust_for_hazards=adjust_for_hazards)
    pooled_fit = fit_event_model(panel, window.pooled_bins(), adjust_for_hazards=adjust_for_hazards)
    pooled = _event_table(pooled_fit, window.pooled_bins(), window, level)
    effect = pooled.set_index("term").loc[bin_label(1, window.effect_months)]
    covariates = pooled_fit.table(level)
    covariates = covariates[covariates["term"].isin(["log_headcount", "open_major_share"])]
    result = TrainingEffect(
        rate_ratio=float(effect["rate_ratio"]),
        ci_low=float(effect["ci_low"]),
        ci_high=float(effect["ci_high"]),
        p_value=float(effect["p_value"]),
        level=level,
        window=window,
        adjust_for_hazards=adjust_for_hazards,
        event_study=_event_table(event_fit, window.bins(), window, level),
        pooled=pooled,
        covariates=covariates.reset_index(drop=True),
        naive=naive_before_after(panel, window.effect_months, level),
        matched=matched_training_effect(
            panel,
            follow_up_months=window.effect_months,
            history_months=window.selection_months,
            level=level,
        )
        if matched
        else None,
        n_employers=int(panel.employer_ids.size),
        n_employers_with_injuries=pooled_fit.n_groups,
        n_trainings=int(panel.training_month.size),
        n_trained_employers=int(np.unique(panel.training_employer).size),
        n_cells=int(panel.insured.sum()),
        n_injuries=int(panel.injuries[panel.insured].sum()),
        first_month=str(panel.months[0]),
        last_month=str(panel.months[-1]),
    )
    logger.info(
        "training effect: rate ratio %.3f (%.0f%% CI %.3f to %.3f) from %d trainings",
        result.rate_ratio,
        100 * level,
        result.ci_low,
        result.ci_high,
        result.n_trainings,
    )
    return result


def read_true_effect(truth_dir: str | Path) -> tuple[float, int]:
    """Return the demo generator's true training effect: (rate ratio, months it lasts).

    Reads ``parameters.json`` from a demo data set's ``truth/`` folder (or the file itself).
    """
    path = Path(truth_dir)
    if path.is_dir():
        path = path / "parameters.json"
    parameters = json.loads(path.read_text(encoding="utf-8"))
    return float(parameters["training_effect_rate_ratio"]), int(
        parameters["training_effect_months"]
    )
