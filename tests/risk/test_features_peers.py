"""Tests of the leave-one-out peer features."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from factories import EMPLOYER_A, EMPLOYER_B, EMPLOYER_C, credit_code, make_tables

from risk.features import build_features
from risk.features.peers import leave_one_out_rate

AS_OF = dt.date(2024, 3, 31)
EMPLOYER_D = credit_code(4)


def test_leave_one_out_rate_hand_computed() -> None:
    """Each row's rate is (group total - own) / (group exposure - own exposure)."""
    groups = np.array([0, 0, 0, 1, 1, -1])
    counts = np.array([2.0, 1.0, 0.0, 5.0, 3.0, 4.0])
    exposure = np.array([100.0, 50.0, 50.0, 10.0, np.nan, 10.0])

    rate = leave_one_out_rate(groups, counts, exposure)

    assert rate[0] == pytest.approx((3 - 2) / (200 - 100))
    assert rate[1] == pytest.approx((3 - 1) / (200 - 50))
    assert rate[2] == pytest.approx((3 - 0) / (200 - 50))
    # Group 1 has one member with exposure: alone, it has no peers.
    assert np.isnan(rate[3])
    # A row without exposure adds nothing to its group, so its peers are the whole group.
    assert rate[4] == pytest.approx(5 / 10)
    assert np.isnan(rate[5])


def test_peer_features_exclude_the_employer() -> None:
    """Division and district peer rates leave the employer itself out (hand-computed)."""
    tables = make_tables(
        employers=[
            {"employer_id": EMPLOYER_A, "industry_code": "C3311", "district_code": "330109"},
            {"employer_id": EMPLOYER_B, "industry_code": "C3312", "district_code": "330109"},
            {"employer_id": EMPLOYER_C, "industry_code": "C3320", "district_code": "330106"},
            {"employer_id": EMPLOYER_D, "industry_code": "E4710", "district_code": "330109"},
        ],
        headcounts=[
            {"employer_id": e, "year": 2023, "insured_headcount": h}
            for e, h in ((EMPLOYER_A, 100), (EMPLOYER_B, 200), (EMPLOYER_C, 300), (EMPLOYER_D, 50))
        ],
        incidents=[
            *[{"employer_id": EMPLOYER_A, "occurred_on": "2024-01-10"}] * 4,
            *[{"employer_id": EMPLOYER_B, "occurred_on": "2023-12-10"}] * 2,
            {"employer_id": EMPLOYER_C, "occurred_on": "2023-05-10"},
            {"employer_id": EMPLOYER_D, "occurred_on": "2023-05-10"},
        ],
    )

    features = build_features(tables, AS_OF).set_index("employer_id")
    a = features.loc[EMPLOYER_A]

    # Division 33 without A: B and C, (2 + 1) injuries over 500 workers.
    assert a["division_peer_incident_rate_per_100_12m"] == pytest.approx(100 * 3 / 500)
    # District 330109 without A: B and D, (2 + 1) injuries over 250 workers.
    assert a["district_peer_incident_rate_per_100_12m"] == pytest.approx(100 * 3 / 250)
    assert a["incident_rate_ratio_to_division_peers_12m"] == pytest.approx(4.0 / 0.6)
    assert a["incident_rate_ratio_to_district_peers_12m"] == pytest.approx(4.0 / 1.2)
    assert a["division_peer_incident_rate_per_100_36m"] == pytest.approx(100 * 3 / 500 / 3)
    # D is alone in division 47.
    assert np.isnan(features.loc[EMPLOYER_D, "division_peer_incident_rate_per_100_12m"])


def test_peer_ratio_missing_when_peers_have_no_injuries() -> None:
    """A peer rate of zero leaves the ratio undefined (NaN), not infinite."""
    tables = make_tables(incidents=[{"employer_id": EMPLOYER_A, "occurred_on": "2024-01-10"}])

    features = build_features(tables, AS_OF).set_index("employer_id")

    assert features.loc[EMPLOYER_A, "district_peer_incident_rate_per_100_12m"] == 0.0
    assert np.isnan(features.loc[EMPLOYER_A, "incident_rate_ratio_to_district_peers_12m"])
    assert features.loc[EMPLOYER_B, "incident_rate_ratio_to_district_peers_12m"] == 0.0
