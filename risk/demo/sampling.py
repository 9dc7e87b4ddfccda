"""Random draws shared by the demo generator's modules."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from scipy import stats

# Above this mean the inverse-CDF loop would take many steps, so scipy's ppf is used instead.
_LOOP_MAX_MEAN = 30.0


def choose_weighted(
    rng: np.random.Generator, weights: Mapping[str, float], size: int
) -> np.ndarray:
    """Draw ``size`` keys of ``weights`` with probability proportional to their values."""
    keys = np.array(list(weights))
    values = np.array(list(weights.values()), dtype=float)
    return keys[rng.choice(len(keys), size=size, p=values / values.sum())]


def choose_by_group(
    rng: np.random.Generator,
    groups: np.ndarray,
    weights_for: Callable[[str], Mapping[str, float]],
) -> np.ndarray:
    """Draw one key per row from ``weights_for(group)`` of the row's group.

    Groups are visited in sorted order so the draws do not depend on dict order.
    """
    result = np.empty(len(groups), dtype=object)
    for group in sorted(set(groups.tolist())):
        rows = np.nonzero(groups == group)[0]
        result[rows] = choose_weighted(rng, weights_for(group), len(rows))
    return result.astype(str)


def poisson_from_uniform(uniform: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Return Poisson counts by inverting the CDF at the given uniforms.

    Each count depends only on its own uniform and mean, so changing one
    employer's rate never shifts the random numbers of another.
    """
    counts = np.zeros(len(mean), dtype=np.int64)
    small = mean <= _LOOP_MAX_MEAN
    probability = np.exp(-mean[small])
    cumulative = probability.copy()
    rows = np.nonzero(small)[0]
    pending = uniform[rows] >= cumulative
    k = 0
    while pending.any():
        k += 1
        probability[pending] *= mean[rows][pending] / k
        cumulative[pending] += probability[pending]
        counts[rows[pending]] = k
        # A uniform within rounding of 1 may never be reached, so stop once the tail is 0.
        pending &= (uniform[rows] >= cumulative) & (probability > 0.0)
    large = np.nonzero(~small)[0]
    if len(large):
        # ppf returns -1 at a uniform of exactly 0.
        quantiles = stats.poisson.ppf(uniform[large], mean[large])
        counts[large] = np.maximum(quantiles, 0).astype(np.int64)
    return counts


def truncated_lognormal(
    rng: np.random.Generator, median: np.ndarray, sigma: float, upper: float
) -> np.ndarray:
    """Draw log-normal values with the given medians, truncated above at ``upper``."""
    log_median = np.log(median)
    upper_quantile = stats.norm.cdf((np.log(upper) - log_median) / sigma)
    uniform = rng.random(len(median)) * upper_quantile
    return np.exp(log_median + sigma * stats.norm.ppf(uniform))
