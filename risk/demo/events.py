"""Monthly simulation of recognised injuries and of the training programme.

The expected number of workplace (non-commuting) injuries of employer ``i`` in
month ``m`` is::

    scale * class_rate_i * frailty_i * headcount_im ** elasticity
          * hazard_im * season_m * trend_m / 12 * training_im

``scale`` is set before the simulation so that, without the training effect,
recognised injuries (workplace plus commuting) per insured worker-year equal
the national rate. Commuting injuries follow headcount, season and trend only:
a road accident on the way to work says nothing about the workplace.

Months are simulated in order. The training programme picks employers in
month ``m`` from what happened before month ``m`` (injuries, major hazards
found), and a training lowers the rate from month ``m + 1`` on, so no record
depends on the future.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from risk.demo.hazards import HazardHistory
from risk.demo.parameters import MONTH_FACTORS, DemoParameters
from risk.demo.population import Population
from risk.demo.sampling import poisson_from_uniform

_LOOKBACK_MONTHS = 12


@dataclass(frozen=True)
class InjuryHistory:
    """Monthly rates and counts, shape (N, M) unless stated.

    Attributes
    ----------
    base_rate : numpy.ndarray
        Expected workplace injuries without the training effect.
    training_multiplier : numpy.ndarray
        Rate ratio of the training effect: 1 outside the months after a training.
    commuting_rate : numpy.ndarray
        Expected commuting injuries.
    work_counts, commuting_counts : numpy.ndarray
        Simulated injury counts.
    training_employer, training_month : numpy.ndarray
        Employer row and month index of each training, shape (T,).
    scale : float
        Normalising constant of the workplace rate.
    """

    base_rate: np.ndarray
    training_multiplier: np.ndarray
    commuting_rate: np.ndarray
    work_counts: np.ndarray
    commuting_counts: np.ndarray
    training_employer: np.ndarray
    training_month: np.ndarray
    scale: float

    @property
    def expected_injuries(self) -> np.ndarray:
        """Return the true expected workplace injuries per employer-month."""
        return self.base_rate * self.training_multiplier


def monthly_headcount(population: Population) -> np.ndarray:
    """Return the insured headcount of each employer in each month, shape (N, 12 * Y)."""
    return np.repeat(population.headcount, 12, axis=1)


def calendar_factor(n_months: int, params: DemoParameters) -> np.ndarray:
    """Return season times secular trend for each month, with the trend equal to 1 mid-panel."""
    season = np.array(MONTH_FACTORS) / np.mean(MONTH_FACTORS)
    years_from_middle = (np.arange(n_months) + 0.5) / 12.0 - n_months / 24.0
    return season[np.arange(n_months) % 12] * np.exp(params.annual_rate_trend * years_from_middle)


def work_injury_base_rate(
    population: Population, hazards: HazardHistory, params: DemoParameters
) -> tuple[np.ndarray, float]:
    """Return expected workplace injuries before the training effect, and the scale used."""
    headcount = monthly_headcount(population).astype(float)
    raw = (
        (population.class_relative_rate * population.frailty)[:, None]
        * headcount**params.headcount_elasticity
        * hazards.rate_multiplier
        * calendar_factor(headcount.shape[1], params)[None, :]
        / 12.0
    )
    target = _national_total(population, params) * (1.0 - params.commuting_share)
    scale = target / raw.sum()
    return raw * scale, float(scale)


def commuting_rate(population: Population, params: DemoParameters) -> np.ndarray:
    """Return expected commuting injuries per employer-month."""
    headcount = monthly_headcount(population).astype(float)
    raw = headcount * calendar_factor(headcount.shape[1], params)[None, :] / 12.0
    return raw * (_national_total(population, params) * params.commuting_share / raw.sum())


def simulate_injuries(
    month_seeds: list[np.random.SeedSequence],
    population: Population,
    hazards: HazardHistory,
    params: DemoParameters,
) -> InjuryHistory:
    """Simulate injury counts and training selections month by month.

    Each month draws its uniforms from its own seed, one per employer and purpose,
    so a change in one month or one employer leaves every other draw unchanged.
    """
    base_rate, scale = work_injury_base_rate(population, hazards, params)
    commute = commuting_rate(population, params)
    n_employers, n_months = base_rate.shape
    active = monthly_headcount(population) > 0

    multiplier = np.ones_like(base_rate)
    work = np.zeros((n_employers, n_months), dtype=np.int64)
    commuting = np.zeros_like(work)
    last_training = np.full(n_employers, -(10**6))
    trained_employer: list[np.ndarray] = []
    trained_month: list[np.ndarray] = []
    recent_major = _trailing_counts(hazards.major_found_month) > 0
    recent_work = np.zeros(n_employers, dtype=np.int64)

    for month in range(n_months):
        uniform = np.random.default_rng(month_seeds[month]).random((3, n_employers))
        rate = base_rate[:, month] * multiplier[:, month]
        work[:, month] = poisson_from_uniform(uniform[0], rate)
        commuting[:, month] = poisson_from_uniform(uniform[1], commute[:, month])

        # Slide the window of injuries to the 12 months before this month.
        if month >= 1:
            recent_work += work[:, month - 1]
        if month > _LOOKBACK_MONTHS:
            recent_work -= work[:, month - 1 - _LOOKBACK_MONTHS]
        chance = _training_chance(recent_work > 0, recent_major[:, month], params)
        eligible = active[:, month] & (month - last_training >= params.training_effect_months)
        chosen = np.nonzero(eligible & (uniform[2] < chance))[0]
        effect_end = min(month + 1 + params.training_effect_months, n_months)
        multiplier[chosen, month + 1 : effect_end] = params.training_effect_rate_ratio
        last_training[chosen] = month
        trained_employer.append(chosen)
        trained_month.append(np.full(len(chosen), month))

    return InjuryHistory(
        base_rate=base_rate,
        training_multiplier=multiplier,
        commuting_rate=commute,
        work_counts=work,
        commuting_counts=commuting,
        training_employer=np.concatenate(trained_employer),
        training_month=np.concatenate(trained_month),
        scale=scale,
    )


def _trailing_counts(counts: np.ndarray) -> np.ndarray:
    # Sum over the 12 months before each month. Only earlier months count, because
    # the agency decides on records it already has.
    cumulative = np.cumsum(np.pad(counts, ((0, 0), (1, 0))), axis=1)
    months = np.arange(counts.shape[1])
    return cumulative[:, months] - cumulative[:, np.maximum(months - _LOOKBACK_MONTHS, 0)]


def _training_chance(
    recent_injury: np.ndarray, recent_major: np.ndarray, params: DemoParameters
) -> np.ndarray:
    return (
        params.training_base_probability
        * (1.0 + params.training_incident_boost * recent_injury)
        * (1.0 + params.training_major_hazard_boost * recent_major)
    )


def _national_total(population: Population, params: DemoParameters) -> float:
    # Recognised injuries expected in the whole panel at the national rate.
    worker_years = float(population.headcount.sum())
    return params.national_injuries_per_100 / 100.0 * worker_years
