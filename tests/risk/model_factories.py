"""Small synthetic panels for the model, backtest and tracking tests.

The panels have the shape of ``risk.panel.build_panel`` output: keys, a few
features named as in the feature catalogue, ``injury_any`` and
``injury_count``. Each employer also has a known true injury rate, so tests
can check that a model learns a real signal and finds none in pure noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HORIZON_DAYS = 365
DIVISIONS = ["06", "13", "33", "47", "51", "65"]
SECTIONS = {"06": "B", "13": "C", "33": "C", "47": "E", "51": "F", "65": "I"}
RISK_CLASSES = {"06": 8, "13": 3, "33": 5, "47": 5, "51": 2, "65": 1}
DISTRICTS = ["330102", "330106", "330109", "330110"]
# Chinese labels on purpose: the category vocabulary must survive non-ASCII text.
OWNERSHIP = ["国有", "民营", "外资"]


def quarterly_as_of(n_dates: int, start: str = "2018-12-31") -> list[pd.Timestamp]:
    """Return ``n_dates`` quarter ends beginning at ``start``."""
    return list(pd.date_range(start, periods=n_dates, freq="QE-DEC"))


def _employers(n_employers: int, rng: np.random.Generator) -> pd.DataFrame:
    division = rng.choice(DIVISIONS, n_employers)
    headcount = np.round(np.exp(rng.normal(3.3, 1.2, n_employers))).astype(np.int64) + 1
    frame = pd.DataFrame(
        {
            "employer_id": [f"E{i:05d}" for i in range(n_employers)],
            "division": division,
            "district_code": rng.choice(DISTRICTS, n_employers),
            "ownership": rng.choice(OWNERSHIP, n_employers),
            "insured_headcount": headcount,
        }
    )
    frame["industry_risk_class"] = frame["division"].map(RISK_CLASSES)
    # True annual injuries: headcount times a class-driven rate, times an
    # employer-level frailty, times a boost for one ownership type.
    frailty = np.exp(rng.normal(0.0, 0.6, n_employers))
    boost = np.where(frame["ownership"] == "民营", 1.8, 1.0)
    frame["true_rate"] = (
        frame["insured_headcount"] * 0.0015 * frame["industry_risk_class"] * frailty * boost
    )
    return frame


def make_panel(
    n_employers: int = 1500,
    n_dates: int = 12,
    seed: int = 7,
    *,
    noise: bool = False,
    start: str = "2018-12-31",
) -> pd.DataFrame:
    """Return a panel of ``n_employers`` x ``n_dates`` quarterly as-of dates.

    With ``noise=True`` the outcomes are drawn from one rate for every
    employer, independent of every feature and of the past.
    """
    rng = np.random.default_rng(seed)
    employers = _employers(n_employers, rng)
    overall_rate = float(employers["true_rate"].mean())
    frames = []
    for as_of in quarterly_as_of(n_dates, start):
        past = rng.poisson(employers["true_rate"])
        future_rate = np.full(n_employers, overall_rate) if noise else employers["true_rate"]
        future = rng.poisson(future_rate)
        frames.append(
            pd.DataFrame(
                {
                    "employer_id": employers["employer_id"],
                    "as_of": as_of,
                    "insured_headcount": employers["insured_headcount"].astype(np.float64),
                    "industry_section": employers["division"].map(SECTIONS),
                    "industry_division": employers["division"],
                    "industry_risk_class": employers["industry_risk_class"].astype(np.float64),
                    "district_code": employers["district_code"],
                    "ownership": employers["ownership"],
                    "incident_count_12m": past.astype(np.float64),
                    "incident_rate_per_100_12m": 100.0 * past / employers["insured_headcount"],
                    "open_general_hazard_count": rng.poisson(employers["true_rate"] * 2).astype(
                        np.float64
                    ),
                    "injury_count": future.astype(np.int64),
                    "oracle_expected_injuries": future_rate,
                }
            )
        )
    panel = pd.concat(frames, ignore_index=True)
    panel["injury_any"] = (panel["injury_count"] > 0).astype(np.int64)
    for name, levels in {
        "industry_section": sorted(set(SECTIONS.values())),
        "industry_division": DIVISIONS,
        "district_code": DISTRICTS,
        "ownership": OWNERSHIP,
    }.items():
        panel[name] = pd.Categorical(panel[name], categories=levels)
    return panel


FEATURES = [
    "insured_headcount",
    "industry_section",
    "industry_division",
    "industry_risk_class",
    "district_code",
    "ownership",
    "incident_count_12m",
    "incident_rate_per_100_12m",
    "open_general_hazard_count",
]
