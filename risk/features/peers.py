"""Peer features: injury rates of the employer's industry division and district, leaving it out.

An employer's peer rate is its group's rate computed without it:
(group injuries - own injuries) / (group exposure - own exposure). Including the
employer would leak its own injuries into its peer context, which matters most
in small groups. Only employers with a known, positive headcount enter a
group's totals; an employer without one is compared with its whole group.
"""

from __future__ import annotations

import numpy as np

from risk.features.catalog import long_windows
from risk.features.prepare import FloatArray, IntArray, PreparedTables
from risk.features.windows import AsOfWindows, annual_rate_per_100

PEER_GROUPS = {"division": "industry_division", "district": "district_code"}


def own_contribution(
    groups: IntArray, counts: FloatArray, exposure: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Return what each row adds to its group's counts and exposure.

    A row adds nothing when it has no group (negative code), no finite count, or
    an exposure that is NaN or <= 0.
    """
    contributes = (groups >= 0) & (exposure > 0) & np.isfinite(counts)
    return np.where(contributes, counts, 0.0), np.where(contributes, exposure, 0.0)


def group_totals(
    groups: IntArray, counts: FloatArray, exposure: FloatArray, n_groups: int
) -> tuple[FloatArray, FloatArray]:
    """Return the total counts and exposure of each group 0..``n_groups`` - 1."""
    own_count, own_exposure = own_contribution(groups, counts, exposure)
    grouped = groups >= 0
    total_count = np.bincount(groups[grouped], own_count[grouped], minlength=n_groups)
    total_exposure = np.bincount(groups[grouped], own_exposure[grouped], minlength=n_groups)
    return total_count.astype(np.float64), total_exposure.astype(np.float64)


def rate_without_own(
    groups: IntArray,
    own_count: FloatArray,
    own_exposure: FloatArray,
    total_count: FloatArray,
    total_exposure: FloatArray,
) -> FloatArray:
    """Return (group count - own count) / (group exposure - own exposure) for each row.

    NaN for rows without a group (negative code) or whose group has no other exposure.
    """
    grouped = groups >= 0
    group = np.where(grouped, groups, 0)
    if len(total_count) == 0:
        return np.full(len(groups), np.nan)
    peer_count = total_count[group] - own_count
    peer_exposure = total_exposure[group] - own_exposure
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = peer_count / peer_exposure
    return np.where(grouped & (peer_exposure > 0), rate, np.nan)


def leave_one_out_rate(groups: IntArray, counts: FloatArray, exposure: FloatArray) -> FloatArray:
    """Return each row's group rate (counts per unit of exposure) without the row itself.

    Parameters
    ----------
    groups : ndarray of int
        Group code of each row, from 0; a negative code means no group.
    counts : ndarray of float
        Events of each row.
    exposure : ndarray of float
        Exposure of each row; NaN or a value <= 0 keeps the row out of the totals.

    Returns
    -------
    ndarray of float
        NaN for rows without a group, or whose group has no other exposure.
    """
    n_groups = int(groups.max()) + 1 if len(groups) and groups.max() >= 0 else 0
    total_count, total_exposure = group_totals(groups, counts, exposure, n_groups)
    own_count, own_exposure = own_contribution(groups, counts, exposure)
    return rate_without_own(groups, own_count, own_exposure, total_count, total_exposure)


def rate_ratio(own_rate: FloatArray, peer_rate: FloatArray) -> FloatArray:
    """Return ``own_rate / peer_rate``; NaN where either is missing or the peer rate is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = own_rate / peer_rate
    return np.where(peer_rate > 0, ratio, np.nan)


def peer_features(
    prepared: PreparedTables,
    windows: AsOfWindows,
    headcount: FloatArray,
    incident_counts: dict[int, FloatArray],
) -> dict[str, FloatArray]:
    """Return every feature of the peers family.

    ``incident_counts`` maps each window to the employers' non-commuting injury counts.
    """
    features: dict[str, FloatArray] = {}
    for window in long_windows(tuple(windows.start)):
        counts = incident_counts[window]
        own_rate = annual_rate_per_100(counts, headcount, window)
        for peer, category in PEER_GROUPS.items():
            per_worker = leave_one_out_rate(prepared.category_codes[category], counts, headcount)
            # The per-worker rate over the window, scaled like every other rate here.
            peer_rate = annual_rate_per_100(per_worker, np.ones_like(per_worker), window)
            features[f"{peer}_peer_incident_rate_per_100_{window}m"] = peer_rate
            features[f"incident_rate_ratio_to_{peer}_peers_{window}m"] = rate_ratio(
                own_rate, peer_rate
            )
    return features
