"""Tests of hazard profiles and course tailoring."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from planner_factories import AS_OF, make_courses, make_trainers, shipped_effects

from training.catalog import load_course_effects, load_courses, load_trainers
from training.models import HazardEvidence, ProfileWeights, TailoringOptions
from training.profile import build_hazard_profiles
from training.tailor import tailor_courses


def _incidents(
    employer_id: str,
    accident_type: str,
    count: int,
    severity: str = "minor",
    commuting: bool = False,
    on: dt.date = AS_OF,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_id": [f"{employer_id}-{accident_type}-{i}" for i in range(count)],
            "employer_id": employer_id,
            "occurred_on": pd.Timestamp(on),
            "accident_type": accident_type,
            "severity": severity,
            "is_commuting": commuting,
        }
    )


def _findings(
    employer_id: str, category: str, level: str, rectified: dt.date | None = None
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "finding_id": [f"{employer_id}-{category}"],
            "employer_id": employer_id,
            "inspected_on": pd.Timestamp(AS_OF - dt.timedelta(days=30)),
            "hazard_category": category,
            "hazard_level": level,
            "rectified_on": pd.Timestamp(rectified) if rectified else pd.NaT,
        }
    )


def _candidate(employer_id: str, industry: str, headcount: int = 60) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employer_id": [employer_id],
            "district_code": ["330109"],
            "industry_code": [industry],
            "headcount": [headcount],
            "expected_injuries": [2.0],
        }
    )


def _first_course(candidates: pd.DataFrame, evidence: HazardEvidence) -> str:
    profiles = build_hazard_profiles(candidates, evidence, AS_OF)
    tailored = tailor_courses(
        candidates, profiles, load_courses(), load_trainers(), load_course_effects()
    )
    return str(tailored.picks["course_id"].iloc[0])


@pytest.mark.parametrize(
    ("industry", "accident_type", "category", "expected"),
    [
        ("E4710", "09", "fall_protection", "CON-01"),
        ("C3311", "03", "machine_guarding", "MFG-01"),
        ("G6020", "02", None, "LOG-02"),
        ("C2614", "19", "hazardous_chemicals", "CHM-02"),
    ],
)
def test_tailor_courses_dominant_hazard_gets_hands_on_course(
    industry: str, accident_type: str, category: str | None, expected: str
) -> None:
    """The first course chosen is the hands-on course for the employer's dominant accident type."""
    candidates = _candidate("E1", industry)
    findings = _findings("E1", category, "major") if category else None
    evidence = HazardEvidence(
        incidents=_incidents("E1", accident_type, 6), hazard_findings=findings
    )

    assert _first_course(candidates, evidence) == expected


def test_build_hazard_profiles_sources_combined() -> None:
    """Each source is normalised, then weighted; an employer without a source keeps the others."""
    candidates = pd.concat(
        [_candidate("E1", "C3311"), _candidate("E2", "C3311")], ignore_index=True
    )
    contributions = pd.DataFrame(
        {
            "employer_id": ["E1", "E1", "E1"],
            "feature_name": [
                "fall_collapse_incident_count_12m",
                "vehicle_incident_rate_per_100_36m",
                "industry_risk_class",
            ],
            "contribution": [0.6, -0.2, 0.9],
        }
    )
    evidence = HazardEvidence(contributions=contributions, incidents=_incidents("E1", "03", 2))
    weights = ProfileWeights(shap=0.5, incidents=0.5, hazards=0.0, industry=0.0)

    profiles = build_hazard_profiles(candidates, evidence, AS_OF, weights)

    shares = profiles.shares.loc["E1"]
    assert shares.sum() == pytest.approx(1.0)
    assert shares["03"] == pytest.approx(0.5)
    # The positive fall/collapse contribution spreads over 09, 10 and 11; negative ones are ignored.
    assert shares[["09", "10", "11"]].sum() == pytest.approx(0.5)
    assert shares["02"] == 0.0
    # E2 has no data except the industry mix, which is uniform without incidents in its industry.
    assert profiles.shares.loc["E2"].sum() == pytest.approx(1.0)


def test_build_hazard_profiles_ignores_records_after_as_of() -> None:
    """Incidents after as_of and findings rectified by as_of do not count."""
    candidates = _candidate("E1", "C3311")
    incidents = pd.concat(
        [_incidents("E1", "09", 3, on=AS_OF + dt.timedelta(days=1)), _incidents("E1", "03", 1)]
    )
    findings = pd.concat(
        [
            _findings("E1", "electrical", "major", rectified=AS_OF),
            _findings("E1", "fire_safety", "general", rectified=AS_OF + dt.timedelta(days=5)),
        ]
    )
    evidence = HazardEvidence(incidents=incidents, hazard_findings=findings)

    profiles = build_hazard_profiles(candidates, evidence, AS_OF)

    assert profiles.sources["incidents"].loc["E1", "09"] == 0.0
    assert profiles.sources["incidents"].loc["E1", "03"] == pytest.approx(1.0)
    assert profiles.open_categories.loc["E1"] == frozenset({"fire_safety"})
    assert not profiles.major.loc["E1"].any()


def test_build_hazard_profiles_severe_from_major_hazard_and_serious_injury() -> None:
    """A type is severe after a serious injury or with an open major hazard, not for a minor one."""
    candidates = _candidate("E1", "C3311")
    incidents = pd.concat(
        [_incidents("E1", "01", 1, severity="serious"), _incidents("E1", "20", 4)]
    )
    evidence = HazardEvidence(
        incidents=incidents, hazard_findings=_findings("E1", "machine_guarding", "major")
    )

    profiles = build_hazard_profiles(candidates, evidence, AS_OF)

    assert profiles.serious.loc["E1", "01"]
    assert profiles.major.loc["E1", "03"]
    assert not profiles.severe.loc["E1", "20"]


def test_tailor_courses_session_count_from_headcount() -> None:
    """Sessions are headcount over class size, rounded up and capped per course."""
    courses = make_courses([{"course_id": "A", "accident_types": "03", "class_size": "20"}])
    trainers = make_trainers([{"trainer_id": "T"}])
    candidates = pd.DataFrame(
        {
            "employer_id": ["S", "M", "L"],
            "district_code": "330109",
            "industry_code": "C3311",
            "headcount": [7, 45, 5000],
            "expected_injuries": 1.0,
        }
    )
    profiles = build_hazard_profiles(candidates, None, AS_OF)
    options = TailoringOptions(max_sessions_per_course=4)

    tailored = tailor_courses(candidates, profiles, courses, trainers, shipped_effects(), options)

    assert tailored.picks.set_index("employer_id")["sessions"].to_dict() == {"S": 1, "M": 3, "L": 4}
    assert tailored.picks.set_index("employer_id")["trainees"].to_dict() == {
        "S": 7,
        "M": 45,
        "L": 80,
    }


def test_tailor_courses_no_trainer_in_district_unplannable() -> None:
    """A course that no trainer in the employer's district is qualified for is never offered."""
    courses = make_courses([{"course_id": "A", "qualification": "machinery"}])
    trainers = make_trainers(
        [{"trainer_id": "T", "qualifications": "machinery", "district_codes": "330102"}]
    )
    candidates = _candidate("E1", "C3311")
    profiles = build_hazard_profiles(candidates, None, AS_OF)

    tailored = tailor_courses(candidates, profiles, courses, trainers, shipped_effects())

    assert tailored.picks.empty
    assert tailored.unplannable["reason_code"].tolist() == ["no_deliverable_course"]


@settings(max_examples=30, deadline=None)
@given(
    dominant=st.sampled_from(["01", "03", "05", "09", "19"]),
    other=st.sampled_from(["02", "07", "20"]),
    engagement=st.sampled_from(["hands_on", "interactive", "lecture"]),
)
def test_tailor_courses_random_catalogue_picks_dominant_course(
    dominant: str, other: str, engagement: str
) -> None:
    """Whatever the decoys' format, the course covering a 90 % accident type is chosen first."""
    courses = make_courses(
        [
            {"course_id": "DECOY1", "accident_types": other, "engagement": "hands_on"},
            {"course_id": "TARGET", "accident_types": dominant, "engagement": engagement},
            {"course_id": "DECOY2", "accident_types": other, "engagement": "hands_on"},
        ]
    )
    trainers = make_trainers([{"trainer_id": "T"}])
    candidates = _candidate("E1", "C3311")
    incidents = pd.concat([_incidents("E1", dominant, 9), _incidents("E1", other, 1)])
    weights = ProfileWeights(shap=0.0, incidents=1.0, hazards=0.0, industry=0.0)
    profiles = build_hazard_profiles(
        candidates, HazardEvidence(incidents=incidents), AS_OF, weights
    )

    tailored = tailor_courses(candidates, profiles, courses, trainers, shipped_effects())

    assert tailored.picks["course_id"].iloc[0] == "TARGET"
    assert np.isclose(profiles.shares.loc["E1", dominant], 0.9)
