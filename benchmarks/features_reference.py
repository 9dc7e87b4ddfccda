"""Synthetic data and a DuckDB reference for the feature benchmark.

``generate_bench_tables`` builds random canonical tables of any size, and
``duckdb_feature_sql`` writes every feature of ``risk.features.build_features``
as one DuckDB query. The benchmark times both engines on the same frames and
checks that they agree, so the query doubles as an independent implementation
of the feature definitions.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from risk import codelists
from risk.features.catalog import (
    MONTHS_SINCE_CAP,
    OVERDUE_AFTER_DAYS,
    SEVERITY_SLICES,
    long_windows,
)
from risk.features.windows import DAYS_PER_MONTH
from risk.tables import COLUMNS, CanonicalTables

LAST_YEAR = 2024
WINDOWS = (3, 12, 36)


def generate_bench_tables(
    n_employers: int, years: int, n_incidents: int, seed: int = 7
) -> CanonicalTables:
    """Generate random canonical tables ending on 31 December 2024.

    Employer size is log-normal and events land on employers in proportion to
    size. Hazard findings number half the incidents and trainings a sixth.
    """
    rng = np.random.default_rng(seed)
    ids = np.array([f"91330100{i:09d}X" for i in range(n_employers)], dtype=object)
    divisions = codelists.industry_divisions()
    pick = rng.integers(0, len(divisions), n_employers)
    industry = divisions["section"].to_numpy()[pick] + divisions["division"].to_numpy()[pick] + "11"
    districts = codelists.districts()["code"].to_numpy()
    size = np.maximum(1, rng.lognormal(3.0, 1.2, n_employers)).astype(np.int64)
    share = size / size.sum()
    first = np.datetime64(f"{LAST_YEAR - years + 1}-01-01")
    span = int((np.datetime64(f"{LAST_YEAR + 1}-01-01") - first).astype(int))

    def days(n: int) -> np.ndarray:
        return first + rng.integers(0, span, n).astype("timedelta64[D]")

    employer_years = np.tile(np.arange(n_employers), years)
    n_findings, n_trainings = n_incidents // 2, n_incidents // 6
    inspected = days(n_findings)
    rectified = inspected + rng.integers(1, 200, n_findings).astype("timedelta64[D]")
    types = codelists.accident_types()["code"].to_numpy()
    return CanonicalTables.from_frames(
        employers={
            "employer_id": ids,
            "name": "bench",
            "industry_code": industry,
            "district_code": districts[rng.integers(0, len(districts), n_employers)],
        },
        headcounts={
            "employer_id": ids[employer_years],
            "year": np.repeat(np.arange(LAST_YEAR - years + 1, LAST_YEAR + 1), n_employers),
            "insured_headcount": np.maximum(
                1, size[employer_years] + rng.integers(-3, 4, len(employer_years))
            ),
        },
        incidents={
            "incident_id": np.arange(n_incidents).astype(str),
            "employer_id": ids[rng.choice(n_employers, n_incidents, p=share)],
            "occurred_on": days(n_incidents),
            "accident_type": types[rng.integers(0, len(types), n_incidents)],
            "severity": rng.choice(
                np.array(["minor", "serious", "fatal"]), n_incidents, p=[0.9, 0.09, 0.01]
            ),
            "lost_workdays": np.where(
                rng.random(n_incidents) < 0.05, np.nan, rng.integers(1, 200, n_incidents)
            ),
            "disability_grade": np.where(
                rng.random(n_incidents) < 0.1, rng.integers(1, 11, n_incidents), np.nan
            ),
            "is_commuting": rng.random(n_incidents) < 0.15,
        },
        hazard_findings={
            "finding_id": np.arange(n_findings).astype(str),
            "employer_id": ids[rng.choice(n_employers, n_findings, p=share)],
            "inspected_on": inspected,
            "hazard_category": "electrical",
            "hazard_level": np.where(rng.random(n_findings) < 0.1, "major", "general"),
            "rectified_on": np.where(rng.random(n_findings) < 0.2, np.datetime64("NaT"), rectified),
        },
        training_records={
            "record_id": np.arange(n_trainings).astype(str),
            "employer_id": ids[rng.choice(n_employers, n_trainings, p=share)],
            "course_id": "bench",
            "delivered_on": days(n_trainings),
            "attendees": rng.integers(5, 50, n_trainings),
        },
    )


def _values(rows: list[tuple[object, ...]]) -> str:
    return ", ".join("(" + ", ".join(repr(value) for value in row) + ")" for row in rows)


def _rate(count: str, window: int) -> str:
    return f"CASE WHEN hc > 0 THEN 100.0 * {count} / (hc * {window} / 12.0) END"


def _incident_aggregates(start: dict[int, str]) -> list[str]:
    """Filtered aggregates of the incidents of each employer, one per count in the catalogue."""
    severity_filter = {
        "minor": "severity = 'minor'",
        "serious": "severity = 'serious'",
        "fatal": "severity = 'fatal'",
        "serious_fatal": "severity IN ('serious', 'fatal')",
    }
    columns = []
    for window, since in start.items():
        workplace = f"occurred_on > {since} AND NOT is_commuting"
        columns.append(f"count(*) FILTER (WHERE {workplace}) AS incident_{window}")
        columns += [
            f"count(*) FILTER (WHERE {workplace} AND {severity_filter[s]}) AS {s}_incident_{window}"
            for s in SEVERITY_SLICES
        ]
        columns += [
            f"count(*) FILTER (WHERE {workplace} AND grp = '{g}') AS {g}_incident_{window}"
            for g in codelists.accident_type_groups()["group"]
        ]
        commuting = f"occurred_on > {since} AND is_commuting"
        columns.append(f"count(*) FILTER (WHERE {commuting}) AS commuting_incident_{window}")
        if window in long_windows(tuple(start)):
            columns += [
                f"sum(lost_workdays) FILTER (WHERE {workplace}) AS lost_{window}",
                f"sum(weight) FILTER (WHERE {workplace}) AS weighted_{window}",
                f"count(disability_grade) FILTER (WHERE {workplace}) AS disability_{window}",
            ]
    columns.append("max(occurred_on) FILTER (WHERE NOT is_commuting) AS last_incident_on")
    return columns


def _peer_totals(windows: tuple[int, ...], column: str) -> str:
    """Per-group injuries and headcount of employers with a positive headcount."""
    sums = ", ".join(
        f"sum(CASE WHEN hc > 0 THEN coalesce(incident_{w}, 0) ELSE 0 END) AS {column}_count_{w}"
        for w in windows
    )
    return (
        f"SELECT {column}, {sums}, sum(CASE WHEN hc > 0 THEN hc ELSE 0 END) AS {column}_hc"
        f" FROM base WHERE {column} IS NOT NULL GROUP BY {column}"
    )


def _months_since(column: str, as_of: str) -> str:
    months = f"date_diff('day', {column}, {as_of}) / {DAYS_PER_MONTH}"
    return f"least(coalesce({months}, {MONTHS_SINCE_CAP}), {MONTHS_SINCE_CAP})"


def _feature_expressions(start: dict[int, str], as_of: str) -> dict[str, str]:
    """SQL expression of every feature over the joined per-employer aggregates."""
    expressions = {
        "insured_headcount": "hc",
        "insured_headcount_log_growth_1y": (
            "CASE WHEN hc > 0 AND previous_hc > 0 THEN ln(hc / previous_hc) END"
        ),
        "industry_section": "section",
        "industry_division": "division",
        "industry_risk_class": "risk_class::DOUBLE",
        "district_code": "district",
    }
    groups = list(codelists.accident_type_groups()["group"])
    for window in start:
        for prefix in [
            "incident",
            *[f"{s}_incident" for s in SEVERITY_SLICES],
            *[f"{g}_incident" for g in groups],
            "commuting_incident",
        ]:
            count = f"coalesce({prefix}_{window}, 0)::DOUBLE"
            expressions[f"{prefix}_count_{window}m"] = count
            expressions[f"{prefix}_rate_per_100_{window}m"] = _rate(count, window)
    for window in long_windows(tuple(start)):
        expressions[f"lost_workdays_{window}m"] = f"coalesce(lost_{window}, 0)::DOUBLE"
        expressions[f"lost_workdays_per_100_{window}m"] = _rate(
            f"coalesce(lost_{window}, 0)", window
        )
        expressions[f"severity_weighted_incident_count_{window}m"] = (
            f"coalesce(weighted_{window}, 0)::DOUBLE"
        )
        expressions[f"disability_incident_count_{window}m"] = (
            f"coalesce(disability_{window}, 0)::DOUBLE"
        )
        expressions[f"training_count_{window}m"] = f"coalesce(training_{window}, 0)::DOUBLE"
        expressions[f"training_attendees_per_100_{window}m"] = _rate(
            f"coalesce(attendees_{window}, 0)", window
        )
        expressions[f"hazard_finding_count_{window}m"] = f"coalesce(finding_{window}, 0)::DOUBLE"
        expressions[f"major_hazard_finding_count_{window}m"] = (
            f"coalesce(major_finding_{window}, 0)::DOUBLE"
        )
        own = f"CASE WHEN hc > 0 THEN coalesce(incident_{window}, 0) ELSE 0 END"
        own_hc = "CASE WHEN hc > 0 THEN hc ELSE 0 END"
        for peer, column in (("division", "division"), ("district", "district")):
            peer_rate = (
                f"CASE WHEN {column} IS NOT NULL THEN 100.0 * ({column}_count_{window} - {own})"
                f" / nullif({column}_hc - {own_hc}, 0) * 12.0 / {window} END"
            )
            expressions[f"{peer}_peer_incident_rate_per_100_{window}m"] = peer_rate
            own_rate = _rate(f"coalesce(incident_{window}, 0)", window)
            expressions[f"incident_rate_ratio_to_{peer}_peers_{window}m"] = (
                f"CASE WHEN ({peer_rate}) > 0 THEN ({own_rate}) / ({peer_rate}) END"
            )
    longest = max(start)
    expressions.update(
        {
            "months_since_last_incident": _months_since("last_incident_on", as_of),
            "months_since_last_training": _months_since("last_training_on", as_of),
            "open_general_hazard_count": "coalesce(open_general, 0)::DOUBLE",
            "open_major_hazard_count": "coalesce(open_major, 0)::DOUBLE",
            f"overdue_hazard_count_{OVERDUE_AFTER_DAYS}d": "coalesce(overdue, 0)::DOUBLE",
            f"days_to_rectify_mean_{longest}m": "rectify_mean",
            f"days_to_rectify_median_{longest}m": "rectify_median",
        }
    )
    return expressions


def duckdb_feature_sql(as_of: dt.date, windows: tuple[int, ...] = WINDOWS) -> str:
    """Return one DuckDB query computing every feature of ``build_features`` as of ``as_of``."""
    stamp = f"TIMESTAMP '{as_of}'"
    start = {
        w: f"TIMESTAMP '{(pd.Timestamp(as_of) - pd.DateOffset(months=w)).date()}'" for w in windows
    }
    longest = max(windows)

    # The code lists, inlined as VALUES tables.
    types = codelists.accident_types()[["code", "group"]]
    type_groups = _values(list(types.itertuples(index=False)))
    severities = codelists.severities()
    weights = _values([(row.code, float(row.weight)) for row in severities.itertuples()])
    division_rows = codelists.industry_divisions()[["division", "section", "risk_class"]]
    divisions = _values(list(division_rows.itertuples(index=False)))
    districts = _values([(code,) for code in codelists.districts()["code"]])
    division = (
        "CASE WHEN regexp_matches(e.industry_code, '^[A-Za-z]') THEN substr(e.industry_code, 2, 2)"
        " ELSE substr(e.industry_code, 1, 2) END"
    )

    # Per-employer aggregates of findings and trainings.
    is_open = f"(rectified_on IS NULL OR rectified_on > {stamp})"
    overdue = f"{is_open} AND inspected_on < {stamp} - INTERVAL {OVERDUE_AFTER_DAYS} DAY"
    rectify_days = "greatest(date_diff('day', inspected_on, rectified_on), 0)"
    rectified_recently = f"rectified_on > {start[longest]} AND rectified_on <= {stamp}"
    finding_columns = [
        f"count(*) FILTER (WHERE inspected_on > {start[w]}) AS finding_{w}, "
        f"count(*) FILTER (WHERE inspected_on > {start[w]} AND hazard_level = 'major')"
        f" AS major_finding_{w}"
        for w in long_windows(windows)
    ]
    training_columns = [
        f"count(*) FILTER (WHERE delivered_on > {start[w]}) AS training_{w}, "
        f"sum(attendees) FILTER (WHERE delivered_on > {start[w]}) AS attendees_{w}"
        for w in long_windows(windows)
    ]

    features = _feature_expressions(start, stamp)
    return f"""
WITH type_groups(accident_type, grp) AS (VALUES {type_groups}),
weights(severity, weight) AS (VALUES {weights}),
divisions(division, section, risk_class) AS (VALUES {divisions}),
districts(district) AS (VALUES {districts}),
inc AS (SELECT employer_id, {", ".join(_incident_aggregates(start))}
        FROM incidents JOIN type_groups USING (accident_type) JOIN weights USING (severity)
        WHERE occurred_on <= {stamp} GROUP BY employer_id),
latest AS (SELECT employer_id, arg_max(insured_headcount, year) AS hc, max(year) AS hc_year
           FROM headcounts WHERE year < {as_of.year} GROUP BY employer_id),
hcs AS (SELECT l.employer_id, l.hc::DOUBLE AS hc, p.insured_headcount::DOUBLE AS previous_hc
        FROM latest l LEFT JOIN headcounts p
             ON p.employer_id = l.employer_id AND p.year = l.hc_year - 1),
fnd AS (SELECT employer_id,
               count(*) FILTER (WHERE {is_open} AND hazard_level <> 'major') AS open_general,
               count(*) FILTER (WHERE {is_open} AND hazard_level = 'major') AS open_major,
               count(*) FILTER (WHERE {overdue}) AS overdue,
               {", ".join(finding_columns)},
               avg({rectify_days}) FILTER (WHERE {rectified_recently}) AS rectify_mean,
               median({rectify_days}) FILTER (WHERE {rectified_recently}) AS rectify_median
        FROM hazard_findings WHERE inspected_on <= {stamp} GROUP BY employer_id),
trn AS (SELECT employer_id, {", ".join(training_columns)}, max(delivered_on) AS last_training_on
        FROM training_records WHERE delivered_on <= {stamp} GROUP BY employer_id),
base AS (SELECT e.employer_id, d.division, d.section, d.risk_class, ds.district,
                hcs.hc, hcs.previous_hc,
                inc.* EXCLUDE (employer_id), fnd.* EXCLUDE (employer_id),
                trn.* EXCLUDE (employer_id)
         FROM employers e
         LEFT JOIN divisions d ON d.division = {division}
         LEFT JOIN districts ds ON ds.district = e.district_code
         LEFT JOIN hcs ON hcs.employer_id = e.employer_id
         LEFT JOIN inc ON inc.employer_id = e.employer_id
         LEFT JOIN fnd ON fnd.employer_id = e.employer_id
         LEFT JOIN trn ON trn.employer_id = e.employer_id),
division_totals AS ({_peer_totals(long_windows(windows), "division")}),
district_totals AS ({_peer_totals(long_windows(windows), "district")})
SELECT employer_id, {", ".join(f"{expression} AS {name}" for name, expression in features.items())}
FROM base LEFT JOIN division_totals USING (division) LEFT JOIN district_totals USING (district)
"""


def run_duckdb(tables: CanonicalTables, as_of: dt.date) -> pd.DataFrame:
    """Compute the features with DuckDB over the pandas frames, returning a pandas frame."""
    import duckdb

    connection = duckdb.connect()
    for name in COLUMNS:
        connection.register(name, getattr(tables, name))
    return connection.sql(duckdb_feature_sql(as_of)).df()
