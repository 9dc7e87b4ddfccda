"""Point-in-time features of MSHA mines on the quarterly grid, and their outcomes.

The point-in-time rule. Features as of quarter ``q`` (as of the last day of
``q``) read only quarters ``<= q``: hours, employment and production of those
quarters, injuries dated in them and violations dated in them. Every window
below is a trailing window ending with ``q``: ``_4q`` is quarters ``q-3..q``.
Peer features (the state's rate) sum the same trailing windows over the other
mines of the state, so they too end with ``q``. The outcome of ``q`` is the
injuries and hours of quarters ``q+1..q+4``, the next four quarters.

Rates are injuries (or violations) per 200,000 hours worked, the US
convention (100 full-time workers for a year). A shrunk rate adds a prior of
``PRIOR_HOURS`` hours at the state's rate to the mine's own hours, so that a
small mine's rate moves toward its state's until it has worked enough hours.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk.public import quarters
from risk.tables import CanonicalTables

logger = logging.getLogger(__name__)

RATE_HOURS = 200_000.0
PRIOR_HOURS = 200_000.0
HORIZON_QUARTERS = 4
QUARTERS_SINCE_CAP = 60
STATE_FEATURE = "state"


@dataclass(frozen=True)
class FeatureSpec:
    """Name and labels of one feature, for reports and explanations."""

    name: str
    label_zh: str
    label_en: str


FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec("hours_worked_1q", "最近1季度工时", "hours worked, last quarter"),
    FeatureSpec("hours_worked_4q", "最近4季度工时", "hours worked, last 4 quarters"),
    FeatureSpec("hours_worked_12q", "最近12季度工时", "hours worked, last 12 quarters"),
    FeatureSpec(
        "employees_latest", "最近在册平均人数", "average employees, latest producing quarter"
    ),
    FeatureSpec("active_quarters_4q", "最近4季度生产季度数", "producing quarters of the last 4"),
    FeatureSpec("active_quarters_12q", "最近12季度生产季度数", "producing quarters of the last 12"),
    FeatureSpec(
        "hours_trend_4q", "工时变化（近4季/前4季）", "hours, last 4 quarters over the 4 before"
    ),
    FeatureSpec(
        "hours_share_last_quarter",
        "最近1季度工时占比",
        "share of the last 4 quarters' hours in the last one",
    ),
    FeatureSpec(
        "coal_tons_per_hour_4q",
        "最近4季度每工时产煤量",
        "coal tons per hour worked, last 4 quarters",
    ),
    FeatureSpec(
        "quarters_observed",
        "有记录的季度跨度",
        "quarters since the first producing quarter on record",
    ),
    FeatureSpec("injuries_1q", "最近1季度工伤数", "injuries, last quarter"),
    FeatureSpec("injuries_4q", "最近4季度工伤数", "injuries, last 4 quarters"),
    FeatureSpec("injuries_12q", "最近12季度工伤数", "injuries, last 12 quarters"),
    FeatureSpec("injuries_20q", "最近20季度工伤数", "injuries, last 20 quarters"),
    FeatureSpec("injuries_all", "全部历史工伤数", "injuries, all quarters on record"),
    FeatureSpec("injury_rate_4q", "最近4季度工伤率", "injuries per 200,000 hours, last 4 quarters"),
    FeatureSpec(
        "injury_rate_12q", "最近12季度工伤率", "injuries per 200,000 hours, last 12 quarters"
    ),
    FeatureSpec(
        "injury_rate_20q", "最近20季度工伤率", "injuries per 200,000 hours, last 20 quarters"
    ),
    FeatureSpec(
        "injury_rate_all", "全部历史工伤率", "injuries per 200,000 hours, all quarters on record"
    ),
    FeatureSpec(
        "injury_rate_4q_shrunk",
        "最近4季度工伤率（向州均值收缩）",
        "injury rate, last 4 quarters, shrunk to the state's",
    ),
    FeatureSpec(
        "injury_rate_12q_shrunk",
        "最近12季度工伤率（向州均值收缩）",
        "injury rate, last 12 quarters, shrunk to the state's",
    ),
    FeatureSpec(
        "injury_rate_all_shrunk",
        "全部历史工伤率（向州均值收缩）",
        "injury rate, all quarters, shrunk to the state's",
    ),
    FeatureSpec(
        "quarters_since_injury",
        "距上次工伤的季度数",
        "quarters since the last injury (60 when none)",
    ),
    FeatureSpec("violations_4q", "最近4季度违规数", "violations cited, last 4 quarters"),
    FeatureSpec("violations_12q", "最近12季度违规数", "violations cited, last 12 quarters"),
    FeatureSpec(
        "ss_violations_4q",
        "最近4季度严重违规数",
        "significant-and-substantial violations, last 4 quarters",
    ),
    FeatureSpec(
        "ss_violations_12q",
        "最近12季度严重违规数",
        "significant-and-substantial violations, last 12 quarters",
    ),
    FeatureSpec(
        "violation_rate_4q", "最近4季度违规率", "violations per 200,000 hours, last 4 quarters"
    ),
    FeatureSpec(
        "ss_violation_rate_4q",
        "最近4季度严重违规率",
        "S&S violations per 200,000 hours, last 4 quarters",
    ),
    FeatureSpec(
        "ss_violation_rate_12q",
        "最近12季度严重违规率",
        "S&S violations per 200,000 hours, last 12 quarters",
    ),
    FeatureSpec(
        "violations_known_quarters_4q",
        "最近4季度违规数据已知的季度数",
        "quarters with known violation counts, last 4",
    ),
    FeatureSpec(
        "violations_known_quarters_12q",
        "最近12季度违规数据已知的季度数",
        "quarters with known violation counts, last 12",
    ),
    FeatureSpec(
        "state_injury_rate_4q",
        "同州其他矿山最近4季度工伤率",
        "injury rate of the state's other mines, last 4 quarters",
    ),
    FeatureSpec(
        "state_injury_rate_12q",
        "同州其他矿山最近12季度工伤率",
        "injury rate of the state's other mines, last 12 quarters",
    ),
    FeatureSpec(STATE_FEATURE, "所在州", "US state"),
)
FEATURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in FEATURES)


def quarter_panel(tables: CanonicalTables, exposure: pd.DataFrame) -> pd.DataFrame:
    """Return one row per mine and quarter with the quarter's exposure, injuries and violations.

    Parameters
    ----------
    tables : CanonicalTables
        Employers, incidents and hazard findings (as read back from the store).
    exposure : DataFrame
        ``MshaPanel.quarters``: hours, employment and production per producing
        mine-quarter, and whether its violation counts are known.

    Each mine's rows run without gaps from its first producing quarter to the
    last quarter of the data, so that trailing and leading windows are plain
    row windows. Quarters without production have zero hours. Whether a mine
    has a row as of a quarter thus depends on the past only: ending its rows
    when it stops producing would make them depend on whether it reopens.
    """
    first = exposure.groupby("employer_id")["quarter_index"].min()
    data_end = int(exposure["quarter_index"].max())
    lengths = data_end - first.to_numpy() + 1
    grid = pd.DataFrame(
        {
            "employer_id": np.repeat(first.index.to_numpy(), lengths),
            "quarter_index": np.concatenate(
                [np.arange(start, data_end + 1) for start in first.to_numpy()]
            ),
        }
    )
    panel = grid.merge(exposure, on=["employer_id", "quarter_index"], how="left")
    panel["hours_worked"] = panel["hours_worked"].fillna(0.0)
    panel["violations_known"] = panel["violations_known"].fillna(False).astype(bool)
    panel = panel.merge(_quarter_counts(tables), on=["employer_id", "quarter_index"], how="left")
    for column in ("injuries", "violations", "ss_violations"):
        panel[column] = panel[column].fillna(0.0)
    states = tables.employers.set_index("employer_id")["district_code"]
    panel[STATE_FEATURE] = panel["employer_id"].map(states).astype("str")
    return panel.sort_values(["employer_id", "quarter_index"]).reset_index(drop=True)


def _quarter_counts(tables: CanonicalTables) -> pd.DataFrame:
    incidents = tables.incidents
    injuries = (
        incidents.groupby(
            [
                incidents["employer_id"],
                quarters.index_of_date(incidents["occurred_on"]).rename("quarter_index"),
            ]
        )
        .size()
        .rename("injuries")
    )
    findings = tables.hazard_findings
    keys = [
        findings["employer_id"],
        quarters.index_of_date(findings["inspected_on"]).rename("quarter_index"),
    ]
    violations = findings.groupby(keys).size().rename("violations")
    major = (findings["hazard_level"] == "major").groupby(keys).sum().rename("ss_violations")
    counts = pd.concat([injuries, violations, major], axis=1).reset_index()
    return counts.astype(
        {"injuries": "float64", "violations": "float64", "ss_violations": "float64"}
    )


def _trailing(panel: pd.DataFrame, column: str, window: int | None) -> pd.Series:
    # A window sum is the running total minus the running total ``window`` rows earlier.
    running = panel[column].astype(float).groupby(panel["employer_id"], sort=False).cumsum()
    if window is None:
        return running
    earlier = running.groupby(panel["employer_id"], sort=False).shift(window, fill_value=0.0)
    return running - earlier


def _rate(events: pd.Series | np.ndarray, hours: pd.Series | np.ndarray) -> np.ndarray:
    hours = np.asarray(hours, dtype=float)
    return np.where(
        hours > 0, np.asarray(events, dtype=float) / np.maximum(hours, 1.0) * RATE_HOURS, np.nan
    )


def build_features(panel: pd.DataFrame) -> pd.DataFrame:
    """Return the features of every mine as of every quarter of ``panel``.

    The result has ``employer_id``, ``quarter_index`` and the columns of
    :data:`FEATURE_NAMES`; the row of quarter ``q`` reads quarters ``<= q`` only.
    """
    sums = {
        f"{column}_{label}": _trailing(panel, column, window)
        for column in ("hours_worked", "injuries")
        for label, window in (
            ("1q", 1),
            ("4q", 4),
            ("8q", 8),
            ("12q", 12),
            ("20q", 20),
            ("all", None),
        )
    }
    for column in ("violations", "ss_violations"):
        for label, window in (("4q", 4), ("12q", 12)):
            sums[f"{column}_{label}"] = _trailing(panel, column, window)
    active = (panel["hours_worked"] > 0).astype(float)
    known = panel["violations_known"].astype(float)
    frame = panel[["employer_id", "quarter_index"]].copy()
    work = panel.assign(active=active, known=known)
    features: dict[str, object] = {
        "hours_worked_1q": sums["hours_worked_1q"],
        "hours_worked_4q": sums["hours_worked_4q"],
        "hours_worked_12q": sums["hours_worked_12q"],
        "employees_latest": panel["employment"].groupby(panel["employer_id"]).ffill(),
        "active_quarters_4q": _trailing(work, "active", 4),
        "active_quarters_12q": _trailing(work, "active", 12),
        "hours_trend_4q": _ratio(
            sums["hours_worked_4q"], sums["hours_worked_8q"] - sums["hours_worked_4q"]
        ),
        "hours_share_last_quarter": _ratio(sums["hours_worked_1q"], sums["hours_worked_4q"]),
        "coal_tons_per_hour_4q": _ratio(
            _trailing(work.assign(coal=panel["coal_production"].fillna(0.0)), "coal", 4),
            sums["hours_worked_4q"],
        ),
        "quarters_observed": panel.groupby("employer_id").cumcount().astype(float),
    }
    for label in ("1q", "4q", "12q", "20q", "all"):
        features[f"injuries_{label}"] = sums[f"injuries_{label}"]
    for label in ("4q", "12q", "20q", "all"):
        features[f"injury_rate_{label}"] = _rate(
            sums[f"injuries_{label}"], sums[f"hours_worked_{label}"]
        )
    features.update(_shrunk_rates(panel, sums))
    features["quarters_since_injury"] = _quarters_since_injury(panel)
    for label in ("4q", "12q"):
        features[f"violations_{label}"] = sums[f"violations_{label}"]
        features[f"ss_violations_{label}"] = sums[f"ss_violations_{label}"]
        features[f"violations_known_quarters_{label}"] = _trailing(work, "known", int(label[:-1]))
    features["violation_rate_4q"] = _rate(sums["violations_4q"], sums["hours_worked_4q"])
    features["ss_violation_rate_4q"] = _rate(sums["ss_violations_4q"], sums["hours_worked_4q"])
    features["ss_violation_rate_12q"] = _rate(sums["ss_violations_12q"], sums["hours_worked_12q"])
    for label in ("4q", "12q"):
        features[f"state_injury_rate_{label}"] = _state_rate_without_mine(
            panel, sums[f"injuries_{label}"], sums[f"hours_worked_{label}"]
        )
    features[STATE_FEATURE] = panel[STATE_FEATURE]
    result = pd.concat([frame, pd.DataFrame(features, index=panel.index)], axis=1)
    return result[["employer_id", "quarter_index", *FEATURE_NAMES]]


def _ratio(numerator: pd.Series, denominator: pd.Series) -> np.ndarray:
    denominator = np.asarray(denominator, dtype=float)
    return np.where(
        denominator > 0, np.asarray(numerator, dtype=float) / np.maximum(denominator, 1e-9), np.nan
    )


def _state_sums(panel: pd.DataFrame, values: pd.Series) -> pd.Series:
    return values.groupby([panel[STATE_FEATURE], panel["quarter_index"]]).transform("sum")


def _state_rate_without_mine(
    panel: pd.DataFrame, injuries: pd.Series, hours: pd.Series
) -> np.ndarray:
    # Leave the mine out, so that its own record does not enter its peer context twice.
    return _rate(_state_sums(panel, injuries) - injuries, _state_sums(panel, hours) - hours)


def _shrunk_rates(panel: pd.DataFrame, sums: dict[str, pd.Series]) -> dict[str, np.ndarray]:
    shrunk: dict[str, np.ndarray] = {}
    for label in ("4q", "12q", "all"):
        injuries, hours = sums[f"injuries_{label}"], sums[f"hours_worked_{label}"]
        state_rate = (
            np.nan_to_num(_state_rate_without_mine(panel, injuries, hours), nan=0.0) / RATE_HOURS
        )
        shrunk[f"injury_rate_{label}_shrunk"] = (
            (injuries.to_numpy() + state_rate * PRIOR_HOURS)
            / (hours.to_numpy() + PRIOR_HOURS)
            * RATE_HOURS
        )
    return shrunk


def _quarters_since_injury(panel: pd.DataFrame) -> np.ndarray:
    last = panel["quarter_index"].where(panel["injuries"] > 0).groupby(panel["employer_id"]).ffill()
    since = (panel["quarter_index"] - last).fillna(QUARTERS_SINCE_CAP)
    return since.clip(upper=QUARTERS_SINCE_CAP).to_numpy(dtype=float)


def attach_outcomes(features: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Add the outcome of each row: injuries and hours in the next four quarters.

    ``outcome_complete`` is False where the four quarters run past the end of
    the data; those rows cannot be trained on or tested.
    """
    leading = {}
    for column, name in (("injuries", "injuries_next_4q"), ("hours_worked", "hours_next_4q")):
        running = panel[column].astype(float).groupby(panel["employer_id"], sort=False).cumsum()
        total = running.groupby(panel["employer_id"], sort=False).transform("last")
        later = (
            running.groupby(panel["employer_id"], sort=False).shift(-HORIZON_QUARTERS).fillna(total)
        )
        leading[name] = later - running
    data_end = int(panel["quarter_index"].max())
    outcome = pd.DataFrame(leading, index=panel.index)
    outcome["outcome_complete"] = panel["quarter_index"] + HORIZON_QUARTERS <= data_end
    keyed = pd.concat([panel[["employer_id", "quarter_index"]], outcome], axis=1)
    return features.merge(
        keyed, on=["employer_id", "quarter_index"], how="left", validate="one_to_one"
    )
