"""Tests of point-in-time features: the as_of rule, windows, and each feature family."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from factories import (
    EMPLOYER_A,
    EMPLOYER_B,
    EMPLOYER_C,
    make_findings,
    make_headcounts,
    make_incidents,
    make_random_tables,
    make_tables,
    make_trainings,
    with_rows,
)

from risk.errors import InputDataError
from risk.features import (
    CATEGORICAL_FEATURES,
    FEATURE_NAMES,
    build_features,
    category_levels,
    feature_catalog,
)
from risk.features.catalog import MONTHS_SINCE_CAP

AS_OF = dt.date(2024, 3, 31)


def _row(frame: pd.DataFrame, employer_id: str) -> pd.Series:
    return frame.set_index("employer_id").loc[employer_id]


def _history() -> dict[str, list[dict[str, object]]]:
    """Some records of every kind before AS_OF."""
    return {
        "incidents": [
            {
                "occurred_on": "2023-06-01",
                "severity": "serious",
                "accident_type": "09",
                "lost_workdays": 120,
                "disability_grade": 7,
            },
            {"occurred_on": "2024-02-10", "accident_type": "02", "is_commuting": True},
            {"employer_id": EMPLOYER_B, "occurred_on": "2022-05-05"},
        ],
        "findings": [
            {"inspected_on": "2023-01-10", "rectified_on": "2023-02-09"},
            {"inspected_on": "2024-03-01", "hazard_level": "major"},
        ],
        "trainings": [{"delivered_on": "2023-09-01", "attendees": 30}],
    }


def test_build_features_one_row_per_employer() -> None:
    """The frame has every employer once, in table order, with keys then catalogue columns."""
    tables = make_tables(**_history())

    features = build_features(tables, AS_OF)

    assert list(features.columns) == ["employer_id", "as_of", *FEATURE_NAMES]
    assert features["employer_id"].tolist() == [EMPLOYER_A, EMPLOYER_B, EMPLOYER_C]
    assert (features["as_of"] == pd.Timestamp(AS_OF)).all()
    assert str(features["employer_id"].dtype) == "str"


def test_feature_catalog_describes_every_feature() -> None:
    """Each feature has one catalogue entry with a family, both labels, a unit and a kind."""
    catalog = feature_catalog()

    assert tuple(catalog["name"]) == FEATURE_NAMES
    assert catalog["name"].is_unique
    assert set(catalog["family"]) == {
        "exposure",
        "industry",
        "district",
        "incidents",
        "severity",
        "accident_type",
        "commuting",
        "hazards",
        "training",
        "peers",
    }
    assert set(catalog["kind"]) == {"numeric", "categorical"}
    assert tuple(catalog.loc[catalog["kind"] == "categorical", "name"]) == CATEGORICAL_FEATURES
    for column in ("label_zh", "label_en", "unit"):
        assert (catalog[column].str.len() > 0).all(), column
    assert catalog.set_index("name").loc["incident_count_12m", "label_zh"] == "近12个月工伤起数"


def test_feature_catalog_listed_in_docs() -> None:
    """docs/features.md lists every feature of the catalogue, with its labels and unit."""
    text = (Path(__file__).parents[2] / "docs" / "features.md").read_text(encoding="utf-8")

    for row in feature_catalog().itertuples(index=False):
        window = "" if pd.isna(row.window_months) else f"{row.window_months} months"
        line = (
            f"| `{row.name}` | {row.family} | {row.label_zh} | {row.label_en} | {window}"
            f" | {row.unit} | {row.kind} |"
        )
        assert line in text, row.name


def test_build_features_ignores_records_after_as_of() -> None:
    """Incidents, findings, rectifications, trainings and headcounts after as_of change nothing."""
    tables = make_tables(**_history())
    before = build_features(tables, AS_OF)
    later = with_rows(
        tables,
        incidents=make_incidents(
            [
                {"occurred_on": "2024-04-01", "severity": "fatal"},
                {"employer_id": EMPLOYER_C, "occurred_on": "2025-01-01"},
            ]
        ),
        hazard_findings=make_findings([{"inspected_on": "2024-04-01", "hazard_level": "major"}]),
        training_records=make_trainings([{"delivered_on": "2024-04-01"}]),
        headcounts=make_headcounts(
            [{"employer_id": EMPLOYER_A, "year": 2025, "insured_headcount": 9}]
        ),
    )
    # The open major finding of 2024-03-01 is rectified after as_of, so it stays open.
    later.hazard_findings.loc[1, "rectified_on"] = pd.Timestamp("2024-04-02")
    # The 2024 headcount is reported only after 2024 closes.
    later.headcounts.loc[later.headcounts["year"] == 2024, "insured_headcount"] = 5000

    after = build_features(later, AS_OF)

    pd.testing.assert_frame_equal(before, after, check_exact=True)


def test_build_features_same_on_tables_until_as_of() -> None:
    """Features built from all data equal those built from the data known on as_of."""
    tables = make_random_tables()

    for as_of in (dt.date(2020, 6, 30), dt.date(2022, 12, 31), dt.date(2023, 2, 28)):
        full = build_features(tables, as_of)
        known = build_features(tables.until(as_of), as_of)
        pd.testing.assert_frame_equal(full, known, check_exact=True)


def test_build_features_reads_records_on_as_of() -> None:
    """Records dated on as_of change the features they feed."""
    tables = make_tables(**_history())
    before = _row(build_features(tables, AS_OF), EMPLOYER_A)
    on_as_of = with_rows(
        tables,
        incidents=make_incidents([{"occurred_on": "2024-03-31"}]),
        hazard_findings=make_findings([{"inspected_on": "2024-03-31"}]),
        training_records=make_trainings([{"delivered_on": "2024-03-31", "attendees": 10}]),
    )
    on_as_of.hazard_findings.loc[1, "rectified_on"] = pd.Timestamp("2024-03-31")

    after = _row(build_features(on_as_of, AS_OF), EMPLOYER_A)

    assert after["incident_count_3m"] == before["incident_count_3m"] + 1
    assert after["months_since_last_incident"] == 0.0
    assert after["open_general_hazard_count"] == before["open_general_hazard_count"] + 1
    assert after["open_major_hazard_count"] == before["open_major_hazard_count"] - 1
    assert after["training_count_12m"] == before["training_count_12m"] + 1
    assert after["months_since_last_training"] == 0.0


def test_build_features_window_boundaries() -> None:
    """A window is (as_of - w months, as_of]: it starts the day after the date w months back."""
    tables = make_tables(
        incidents=[
            {"occurred_on": "2024-03-31"},  # on as_of: in every window
            {"occurred_on": "2024-04-01"},  # after as_of: in none
            {"occurred_on": "2023-03-31"},  # exactly 12 months back: in 36m only
            {"occurred_on": "2023-04-01"},  # first day of the 12-month window
            {"occurred_on": "2023-12-31"},  # exactly 3 months back: in 12m and 36m
        ]
    )

    row = _row(build_features(tables, AS_OF), EMPLOYER_A)

    assert row["incident_count_3m"] == 1
    assert row["incident_count_12m"] == 3
    assert row["incident_count_36m"] == 4


def test_build_features_rates_are_annual_per_100_workers() -> None:
    """Rates divide by the headcount and the window in years."""
    tables = make_tables(incidents=[{"occurred_on": "2024-01-15"}, {"occurred_on": "2023-05-01"}])

    row = _row(build_features(tables, AS_OF), EMPLOYER_A)

    assert row["incident_rate_per_100_3m"] == pytest.approx(1 / 100 * 100 * 4)
    assert row["incident_rate_per_100_12m"] == pytest.approx(2.0)
    assert row["incident_rate_per_100_36m"] == pytest.approx(2 / 3)


def test_build_features_headcount_from_year_before_as_of() -> None:
    """The headcount is that of the latest year before as_of's year; growth is the log ratio."""
    tables = make_tables(
        headcounts=[
            {"employer_id": EMPLOYER_A, "year": 2022, "insured_headcount": 80},
            {"employer_id": EMPLOYER_A, "year": 2023, "insured_headcount": 120},
            {"employer_id": EMPLOYER_A, "year": 2024, "insured_headcount": 500},
            {"employer_id": EMPLOYER_B, "year": 2021, "insured_headcount": 40},
        ]
    )

    features = build_features(tables, AS_OF)
    a, b, c = (_row(features, employer) for employer in (EMPLOYER_A, EMPLOYER_B, EMPLOYER_C))

    assert a["insured_headcount"] == 120
    assert a["insured_headcount_log_growth_1y"] == pytest.approx(math.log(120 / 80))
    assert b["insured_headcount"] == 40
    assert np.isnan(b["insured_headcount_log_growth_1y"])
    assert np.isnan(c["insured_headcount"])


def test_build_features_employer_without_headcount_has_missing_rates() -> None:
    """An employer without a headcount is still scored: counts are known, rates are NaN."""
    tables = make_tables(
        headcounts=[{"employer_id": EMPLOYER_B, "year": 2023, "insured_headcount": 10}],
        incidents=[{"occurred_on": "2024-01-15"}],
    )

    row = _row(build_features(tables, AS_OF), EMPLOYER_A)

    assert row["incident_count_12m"] == 1
    assert np.isnan(row["incident_rate_per_100_12m"])
    assert np.isnan(row["lost_workdays_per_100_12m"])


def test_build_features_commuting_kept_apart() -> None:
    """Commuting injuries feed only the commuting features."""
    tables = make_tables(
        incidents=[
            {
                "occurred_on": "2024-01-15",
                "is_commuting": True,
                "accident_type": "02",
                "severity": "fatal",
            },
        ]
    )

    row = _row(build_features(tables, AS_OF), EMPLOYER_A)

    assert row["commuting_incident_count_12m"] == 1
    assert row["commuting_incident_rate_per_100_12m"] == pytest.approx(1.0)
    assert row["incident_count_12m"] == 0
    assert row["fatal_incident_count_12m"] == 0
    assert row["vehicle_incident_count_12m"] == 0
    assert row["months_since_last_incident"] == MONTHS_SINCE_CAP


def test_build_features_severity_and_accident_groups() -> None:
    """Counts split by severity, serious+fatal combined, and by accident-type group."""
    tables = make_tables(
        incidents=[
            {"occurred_on": "2024-01-15", "severity": "minor", "accident_type": "03"},
            {
                "occurred_on": "2023-11-15",
                "severity": "serious",
                "accident_type": "09",
                "lost_workdays": 150,
                "disability_grade": 8,
            },
            {
                "occurred_on": "2023-10-15",
                "severity": "fatal",
                "accident_type": "10",
                "lost_workdays": None,
            },
        ]
    )

    row = _row(build_features(tables, AS_OF), EMPLOYER_A)

    assert (
        row["minor_incident_count_12m"],
        row["serious_incident_count_12m"],
        row["fatal_incident_count_12m"],
        row["serious_fatal_incident_count_12m"],
    ) == (1, 1, 1, 2)
    assert row["struck_machinery_incident_count_12m"] == 1
    assert row["fall_collapse_incident_count_12m"] == 2
    assert row["lost_workdays_12m"] == 160
    assert row["lost_workdays_per_100_12m"] == pytest.approx(160.0)
    assert row["severity_weighted_incident_count_12m"] == 1 + 5 + 20
    assert row["disability_incident_count_12m"] == 1


def test_build_features_months_since_last_incident() -> None:
    """Months since the latest non-commuting injury; the cap when there is none."""
    tables = make_tables(
        incidents=[
            {"occurred_on": "2023-03-31"},
            {"occurred_on": "2010-01-01", "employer_id": EMPLOYER_B},
        ]
    )

    features = build_features(tables, AS_OF)

    assert _row(features, EMPLOYER_A)["months_since_last_incident"] == pytest.approx(
        366 / (365.25 / 12)
    )
    assert _row(features, EMPLOYER_B)["months_since_last_incident"] == MONTHS_SINCE_CAP
    assert _row(features, EMPLOYER_C)["months_since_last_incident"] == MONTHS_SINCE_CAP


def test_build_features_hazards() -> None:
    """Open, overdue and recent findings, and days to rectify over 36 months."""
    tables = make_tables(
        findings=[
            {"inspected_on": "2023-06-01", "rectified_on": "2023-06-11"},  # 10 days
            {"inspected_on": "2023-07-01", "rectified_on": "2023-08-30"},  # 60 days
            {"inspected_on": "2022-01-01", "rectified_on": "2022-01-31"},  # 30 days
            {"inspected_on": "2023-12-01", "hazard_level": "major"},  # open, overdue
            {"inspected_on": "2024-03-01"},  # open, not overdue
            {"inspected_on": "2019-01-01", "rectified_on": "2020-12-31"},  # rectified before 36m
        ]
    )

    row = _row(build_features(tables, AS_OF), EMPLOYER_A)

    assert row["open_general_hazard_count"] == 1
    assert row["open_major_hazard_count"] == 1
    assert row["overdue_hazard_count_90d"] == 1
    assert row["hazard_finding_count_12m"] == 4
    assert row["major_hazard_finding_count_12m"] == 1
    assert row["hazard_finding_count_36m"] == 5
    assert row["days_to_rectify_mean_36m"] == pytest.approx(100 / 3)
    assert row["days_to_rectify_median_36m"] == 30
    assert np.isnan(_row(build_features(tables, AS_OF), EMPLOYER_B)["days_to_rectify_median_36m"])


def test_build_features_training() -> None:
    """Trainings received and attendees per 100 workers per year."""
    tables = make_tables(
        trainings=[
            {"delivered_on": "2024-01-31", "attendees": 30},
            {"delivered_on": "2022-06-30", "attendees": 60},
        ]
    )

    row = _row(build_features(tables, AS_OF), EMPLOYER_A)

    assert row["training_count_12m"] == 1
    assert row["training_count_36m"] == 2
    assert row["training_attendees_per_100_12m"] == pytest.approx(30.0)
    assert row["training_attendees_per_100_36m"] == pytest.approx(30.0)
    assert row["months_since_last_training"] == pytest.approx(60 / (365.25 / 12))


def test_build_features_categories_fixed_across_as_of() -> None:
    """Categorical features carry the code lists' categories at every as_of."""
    tables = make_random_tables(n_employers=50, n_incidents=100)
    levels = category_levels()

    for as_of in (dt.date(2020, 12, 31), dt.date(2024, 6, 30)):
        features = build_features(tables, as_of)
        for name in CATEGORICAL_FEATURES:
            assert isinstance(features[name].dtype, pd.CategoricalDtype)
            assert features[name].cat.categories.tolist() == levels[name]


def test_build_features_profile_from_industry_and_district() -> None:
    """Section, division and risk class come from the industry code; unknown districts are NaN."""
    tables = make_tables(
        employers=[
            {"employer_id": EMPLOYER_A, "industry_code": "B0610", "district_code": "330109"},
            {"employer_id": EMPLOYER_B, "industry_code": "6510", "district_code": "110101"},
        ]
    )

    features = build_features(tables, AS_OF)
    a, b = _row(features, EMPLOYER_A), _row(features, EMPLOYER_B)

    assert (a["industry_section"], a["industry_division"], a["industry_risk_class"]) == (
        "B",
        "06",
        8,
    )
    assert (b["industry_section"], b["industry_division"], b["industry_risk_class"]) == (
        "I",
        "65",
        1,
    )
    assert a["district_code"] == "330109"
    assert pd.isna(b["district_code"])


def test_build_features_rejects_unknown_severity() -> None:
    """A severity outside the code list is an input error naming the value."""
    tables = make_tables(incidents=[{"severity": "moderate"}])

    with pytest.raises(InputDataError, match="unknown 伤害程度 severity codes: 'moderate'"):
        build_features(tables, AS_OF)


def test_build_features_rejects_time_of_day() -> None:
    """as_of is a date; a timestamp with a time of day is rejected."""
    tables = make_tables()

    with pytest.raises(TypeError, match="as_of must be a date without a time of day"):
        build_features(tables, pd.Timestamp("2024-03-31 12:00"))  # type: ignore[arg-type]


def test_build_features_skips_unknown_employer(caplog: pytest.LogCaptureFixture) -> None:
    """Incidents of an employer missing from the employer table are skipped with a warning."""
    tables = make_tables(
        incidents=[{"employer_id": "91330100999999999X", "occurred_on": "2024-01-01"}]
    )

    with caplog.at_level("WARNING"):
        features = build_features(tables, AS_OF)

    assert features["incident_count_12m"].sum() == 0
    assert "Skipping 1 incident rows" in caplog.text


def test_build_features_skips_rows_without_date(caplog: pytest.LogCaptureFixture) -> None:
    """An incident or finding without a date is skipped, not counted as long ago or open."""
    tables = make_tables(
        incidents=[{"occurred_on": None}],
        findings=[{"inspected_on": None}],
    )

    with caplog.at_level("WARNING"):
        row = _row(build_features(tables, AS_OF), EMPLOYER_A)

    assert row["incident_count_36m"] == 0
    assert row["months_since_last_incident"] == MONTHS_SINCE_CAP
    assert row["open_general_hazard_count"] == 0
    assert "Skipping 1 incident rows without occurred_on" in caplog.text
    assert "Skipping 1 hazard finding rows without inspected_on" in caplog.text


def test_build_features_matches_duckdb_reference() -> None:
    """Every feature equals the independent DuckDB formulation used by the benchmark."""
    from benchmarks.features_reference import run_duckdb

    tables = make_random_tables(n_employers=300, n_incidents=3_000, seed=21)

    for as_of in (dt.date(2021, 6, 30), dt.date(2023, 12, 31)):
        ours = build_features(tables, as_of).set_index("employer_id")
        reference = run_duckdb(tables, as_of).set_index("employer_id").loc[ours.index]
        for row in feature_catalog().itertuples(index=False):
            if row.kind == "categorical":
                expected = reference[row.name].astype("str").fillna("").tolist()
                assert ours[row.name].astype("str").fillna("").tolist() == expected, row.name
            else:
                np.testing.assert_allclose(
                    ours[row.name].to_numpy(float),
                    reference[row.name].to_numpy(float, na_value=np.nan),
                    rtol=1e-9,
                    atol=1e-9,
                    err_msg=row.name,
                )
