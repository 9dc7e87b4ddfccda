"""Hazard profiles: how an employer's expected injuries split over the GB 6441-86 accident types.

Four sources feed the profile, each turned into shares over the 20 accident
types that add up to 1 per employer:

(a) ``shap``: positive SHAP contributions of the accident-type features
    (``<group>_incident_count_<w>m`` and ``..._rate_per_100_<w>m``, plus the
    commuting features, which count as vehicle injuries), spread over the
    types of each group by the employer's industry mix;
(b) ``incidents``: the employer's own injuries in the lookback window before
    ``as_of``, weighted by severity (``risk/codes/severities.csv``);
(c) ``hazards``: hazard findings still open at ``as_of``, each category
    mapped to its accident types by ``risk/codes/hazard_categories.csv``;
(d) ``industry``: the accident-type mix of all injuries in the employer's
    industry division (falling back to its section, then to every injury).

The profile is the weighted mean of the sources an employer has data for.
An accident type is *severe* for an employer when it is severe by nature
(:data:`training.models.DEFAULT_SEVERE_ACCIDENT_TYPES`), when a serious or fatal
injury of that type happened in the window, or when an open major hazard maps to it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from risk import codelists
from training.models import HazardEvidence, ProfileWeights

logger = logging.getLogger(__name__)

ACCIDENT_TYPES: tuple[str, ...] = tuple(codelists.accident_types()["code"])
SOURCES: tuple[str, ...] = ("shap", "incidents", "hazards", "industry")


@dataclass(frozen=True)
class HazardProfiles:
    """Accident-type profiles of a set of employers.

    Attributes
    ----------
    shares : pd.DataFrame
        Index ``employer_id``, one column per accident type; each row adds up to 1.
    sources : dict[str, pd.DataFrame]
        The normalised share of each source, same shape; a row of zeros where
        the employer has no data from that source.
    severe : pd.DataFrame
        Boolean, same shape: whether each accident type is severe for the employer.
    serious : pd.DataFrame
        Boolean, same shape: a serious or fatal injury of the type happened in the window.
    major : pd.DataFrame
        Boolean, same shape: an open major hazard finding maps to the type.
    open_categories : pd.Series
        Frozenset of hazard categories with an open finding, by employer.
    major_categories : pd.Series
        Frozenset of hazard categories with an open major finding, by employer.
    """

    shares: pd.DataFrame
    sources: dict[str, pd.DataFrame]
    severe: pd.DataFrame
    serious: pd.DataFrame
    major: pd.DataFrame
    open_categories: pd.Series
    major_categories: pd.Series


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)


def _months_before(as_of: dt.date, months: int) -> pd.Timestamp:
    return pd.Timestamp(as_of) - pd.DateOffset(months=months)


def industry_mix(incidents: pd.DataFrame | None, employers: pd.DataFrame) -> dict[str, np.ndarray]:
    """Return accident-type shares keyed by ``"div:<division>"``, ``"sec:<section>"`` and ``"all"``.

    Commuting injuries are left out, because they reflect the road rather than
    the industry's work. Without any incident the ``"all"`` entry is uniform.
    """
    uniform = np.full(len(ACCIDENT_TYPES), 1.0 / len(ACCIDENT_TYPES))
    if incidents is None or incidents.empty:
        return {"all": uniform}

    industry = employers.drop_duplicates("employer_id").set_index("employer_id")["industry_code"]
    work = incidents.loc[~incidents["is_commuting"].astype(bool), ["employer_id", "accident_type"]]
    work = work.assign(industry_code=work["employer_id"].map(industry)).dropna(
        subset=["industry_code"]
    )
    work["division"] = work["industry_code"].map(codelists.industry_division_of)
    work["section"] = work["industry_code"].map(codelists.industry_section_of)

    mixes: dict[str, np.ndarray] = {}
    for key, column in (("div", "division"), ("sec", "section")):
        counts = pd.crosstab(work[column], work["accident_type"]).reindex(
            columns=list(ACCIDENT_TYPES), fill_value=0
        )
        # A division or section with few injuries gives a noisy mix; fall back to the wider one.
        counts = counts[counts.sum(axis=1) >= 20]
        for code, row in zip(counts.index, _normalise_rows(counts.to_numpy(float)), strict=True):
            mixes[f"{key}:{code}"] = row
    overall = work["accident_type"].value_counts().reindex(list(ACCIDENT_TYPES), fill_value=0)
    mixes["all"] = overall.to_numpy(float) / overall.sum() if overall.sum() > 0 else uniform
    return mixes


def industry_shares(candidates: pd.DataFrame, mixes: dict[str, np.ndarray]) -> np.ndarray:
    """Return each candidate's industry mix: its division's, else its section's, else overall."""
    rows = []
    for code in candidates["industry_code"]:
        division = codelists.industry_division_of(str(code))
        section = codelists.industry_section_of(str(code))
        rows.append(mixes.get(f"div:{division}", mixes.get(f"sec:{section}", mixes["all"])))
    return np.vstack(rows) if rows else np.zeros((0, len(ACCIDENT_TYPES)))


def _feature_groups() -> dict[str, list[int]]:
    """Map each accident-type group, and ``commuting``, to the column positions of its types."""
    table = codelists.accident_types()
    groups = {
        group: [ACCIDENT_TYPES.index(code) for code in codes]
        for group, codes in table.groupby("group")["code"]
    }
    groups["commuting"] = [ACCIDENT_TYPES.index("02")]
    return groups


@cache
def _feature_pattern() -> re.Pattern[str]:
    names = "|".join(map(re.escape, _feature_groups()))
    return re.compile(r"^(" + names + r")_incident_(count|rate_per_100)_\d+m$")


def accident_feature_group(feature_name: str) -> str | None:
    """Return the accident-type group (or ``"commuting"``) a feature counts, or None."""
    match = _feature_pattern().match(feature_name)
    return match.group(1) if match else None


def shap_shares(
    contributions: pd.DataFrame | None, ids: pd.Index, industry: np.ndarray
) -> np.ndarray:
    """Return shares from positive SHAP contributions of accident-type features.

    A group's total is spread over its accident types in proportion to the
    employer's industry mix within the group (evenly when the mix is zero there).
    """
    result = np.zeros((len(ids), len(ACCIDENT_TYPES)))
    if contributions is None or contributions.empty:
        return result

    groups = _feature_groups()
    group_of = contributions["feature_name"].astype(str).map(accident_feature_group)
    relevant = contributions.assign(group=group_of).dropna(subset=["group"])
    relevant = relevant[relevant["contribution"] > 0]
    totals = (
        relevant.groupby(["employer_id", "group"])["contribution"].sum().unstack(fill_value=0.0)
    )
    totals = totals.reindex(index=ids, fill_value=0.0).fillna(0.0)

    for group, positions in groups.items():
        if group not in totals.columns:
            continue
        within = industry[:, positions]
        within_totals = within.sum(axis=1, keepdims=True)
        even = np.full_like(within, 1.0 / len(positions))
        split = np.where(
            within_totals > 0, within / np.where(within_totals > 0, within_totals, 1), even
        )
        result[:, positions] += totals[group].to_numpy(float)[:, None] * split
    return _normalise_rows(result)


def incident_shares(
    incidents: pd.DataFrame | None, ids: pd.Index, as_of: dt.date, weights: ProfileWeights
) -> tuple[np.ndarray, np.ndarray]:
    """Return severity-weighted incident shares and a serious-injury mask.

    The mask is True where the employer had a serious or fatal injury of that accident type
    in the lookback window.
    """
    shares = np.zeros((len(ids), len(ACCIDENT_TYPES)))
    severe = np.zeros_like(shares, dtype=bool)
    if incidents is None or incidents.empty:
        return shares, severe

    start = _months_before(as_of, weights.lookback_months)
    occurred = pd.to_datetime(incidents["occurred_on"])
    window = incidents[
        (occurred > start) & (occurred <= pd.Timestamp(as_of)) & incidents["employer_id"].isin(ids)
    ]
    severity_weight = codelists.severities().set_index("code")["weight"]
    weight = window["severity"].map(severity_weight).fillna(1.0).to_numpy(float)
    weight = np.where(
        window["is_commuting"].astype(bool), weight * weights.commuting_weight, weight
    )
    table = (
        window.assign(weight=weight)
        .pivot_table(
            index="employer_id",
            columns="accident_type",
            values="weight",
            aggfunc="sum",
            fill_value=0.0,
        )
        .reindex(index=ids, columns=list(ACCIDENT_TYPES), fill_value=0.0)
    )
    serious = window[window["severity"].isin(["serious", "fatal"])]
    serious_table = pd.crosstab(serious["employer_id"], serious["accident_type"]).reindex(
        index=ids, columns=list(ACCIDENT_TYPES), fill_value=0
    )
    return _normalise_rows(table.to_numpy(float)), serious_table.to_numpy() > 0


def _category_positions() -> dict[str, list[int]]:
    table = codelists.hazard_categories()
    return {
        row.code: [ACCIDENT_TYPES.index(code) for code in row.accident_types.split("|") if code]
        for row in table.itertuples(index=False)
    }


def open_findings(findings: pd.DataFrame | None, ids: pd.Index, as_of: dt.date) -> pd.DataFrame:
    """Return findings inspected on or before ``as_of`` and not rectified by then."""
    if findings is None or findings.empty:
        return pd.DataFrame(columns=["employer_id", "hazard_category", "hazard_level"])
    inspected = pd.to_datetime(findings["inspected_on"])
    rectified = pd.to_datetime(findings["rectified_on"])
    is_open = (inspected <= pd.Timestamp(as_of)) & (
        rectified.isna() | (rectified > pd.Timestamp(as_of))
    )
    return findings.loc[is_open & findings["employer_id"].isin(ids)]


def hazard_shares(
    open_rows: pd.DataFrame, ids: pd.Index, weights: ProfileWeights
) -> tuple[np.ndarray, np.ndarray]:
    """Return shares from open findings and a mask of types that an open major finding maps to."""
    shares = np.zeros((len(ids), len(ACCIDENT_TYPES)))
    major = np.zeros_like(shares, dtype=bool)
    positions = _category_positions()
    row_of = {employer_id: i for i, employer_id in enumerate(ids)}
    for finding in open_rows.itertuples(index=False):
        targets = positions.get(str(finding.hazard_category), [])
        if not targets:
            continue
        i = row_of[finding.employer_id]
        is_major = finding.hazard_level == "major"
        shares[i, targets] += (weights.major_hazard_weight if is_major else 1.0) / len(targets)
        if is_major:
            major[i, targets] = True
    return _normalise_rows(shares), major


def _categories_by_employer(open_rows: pd.DataFrame, ids: pd.Index, major_only: bool) -> pd.Series:
    rows = open_rows[open_rows["hazard_level"] == "major"] if major_only else open_rows
    grouped = rows.groupby("employer_id")["hazard_category"].agg(
        lambda values: frozenset(map(str, values))
    )
    return grouped.reindex(ids).map(
        lambda value: value if isinstance(value, frozenset) else frozenset()
    )


def build_hazard_profiles(
    candidates: pd.DataFrame,
    evidence: HazardEvidence | None,
    as_of: dt.date,
    weights: ProfileWeights | None = None,
) -> HazardProfiles:
    """Build the accident-type profile of every candidate from whatever evidence is given.

    Parameters
    ----------
    candidates : pd.DataFrame
        At least ``employer_id`` and ``industry_code``.
    evidence : HazardEvidence or None
        SHAP contributions, incidents and hazard findings; missing parts are skipped.
    as_of : datetime.date
        Only incidents on or before this date, and findings open at it, are read.
    weights : ProfileWeights, optional
        Source weights, lookback window and severity settings.
    """
    weights = weights or ProfileWeights()
    evidence = evidence or HazardEvidence()
    ids = pd.Index(candidates["employer_id"].astype(str), name="employer_id")
    employers = candidates[["employer_id", "industry_code"]]
    if evidence.employers is not None:
        employers = pd.concat([evidence.employers[["employer_id", "industry_code"]], employers])

    industry = industry_shares(candidates, industry_mix(evidence.incidents, employers))
    incident, serious = incident_shares(evidence.incidents, ids, as_of, weights)
    open_rows = open_findings(evidence.hazard_findings, ids, as_of)
    hazard, major = hazard_shares(open_rows, ids, weights)
    sources = {
        "shap": shap_shares(evidence.contributions, ids, industry),
        "incidents": incident,
        "hazards": hazard,
        "industry": industry,
    }

    combined = np.zeros_like(industry)
    total_weight = np.zeros((len(ids), 1))
    for name in SOURCES:
        present = (sources[name].sum(axis=1, keepdims=True) > 0).astype(float)
        combined += getattr(weights, name) * present * sources[name]
        total_weight += getattr(weights, name) * present
    combined = _normalise_rows(
        np.divide(combined, total_weight, out=np.zeros_like(combined), where=total_weight > 0)
    )
    # An employer with no weighted evidence at all still gets its industry's mix.
    empty = combined.sum(axis=1) == 0
    combined[empty] = industry[empty]

    intrinsic = np.array([code in weights.severe_accident_types for code in ACCIDENT_TYPES])
    severe = serious | major | intrinsic[None, :]
    logger.info(
        "Built hazard profiles of %d employers as of %s (%d with open findings)",
        len(ids),
        as_of,
        open_rows["employer_id"].nunique(),
    )

    def frame(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=ids, columns=list(ACCIDENT_TYPES))

    return HazardProfiles(
        shares=frame(combined),
        sources={name: frame(values) for name, values in sources.items()},
        severe=frame(severe),
        serious=frame(serious),
        major=frame(major),
        open_categories=_categories_by_employer(open_rows, ids, major_only=False),
        major_categories=_categories_by_employer(open_rows, ids, major_only=True),
    )
