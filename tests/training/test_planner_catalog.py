"""Tests of the shipped course catalogue, trainer file and effect table, and of their validation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from risk import codelists
from training.catalog import (
    load_course_effects,
    load_courses,
    load_trainers,
    read_table,
    validate_course_effects,
)
from training.errors import CatalogueError

CATALOGUE = Path(__file__).resolve().parents[2] / "training" / "catalog"


def test_load_courses_shipped_catalogue_covers_programme() -> None:
    """The shipped catalogue has 25+ courses covering required sectors and cross-cutting topics."""
    courses = load_courses()

    assert len(courses) >= 25
    assert courses["course_id"].is_unique
    covered = {code for codes in courses["accident_types"] for code in codes}
    assert covered == set(codelists.accident_types()["code"])
    sections = {industry for industries in courses["industries"] for industry in industries}
    assert {"C", "E", "G", "H"} <= sections
    titles = " ".join(courses["title_zh"])
    for topic in (
        "主体责任",
        "隐患排查治理",
        "应急处置",
        "骑手",
        "有限空间",
        "危险化学品",
        "高处作业",
    ):
        assert topic in titles
    assert set(courses["mode"]) == {"on_site", "online"}


def test_load_trainers_every_course_qualification_held() -> None:
    """Each course's qualification is held by some shipped trainer, and every district is served."""
    courses = load_courses()
    trainers = load_trainers()

    held = set().union(*trainers["qualifications"])
    served = set().union(*trainers["district_codes"])

    assert set(courses["qualification"]) <= held
    assert served == set(codelists.districts()["code"])
    assert (trainers["sessions_per_week"] > 0).all()


def test_load_courses_bad_rows_reported_with_location(tmp_path: Path) -> None:
    """Every invalid cell is reported with file, row, column, value and both reasons."""
    frame = read_table(CATALOGUE / "courses.csv")
    frame.loc[0, "accident_types"] = "01|99"
    frame.loc[1, "mode"] = "video"
    frame.loc[2, "course_id"] = frame.loc[0, "course_id"]
    frame.loc[3, "class_size"] = "0"
    frame.loc[4, "industries"] = "Z"
    path = tmp_path / "agency_courses.csv"
    frame.to_csv(path, index=False)

    with pytest.raises(CatalogueError, match="has 5 invalid value") as caught:
        load_courses(path)

    found = {(error.row, error.column, error.value) for error in caught.value.errors}
    assert found == {
        (2, "accident_types", "01|99"),
        (3, "mode", "video"),
        (4, "course_id", frame.loc[0, "course_id"]),
        (5, "class_size", "0"),
        (6, "industries", "Z"),
    }
    first = caught.value.errors[0]
    assert first.file == str(path)
    assert "GB 6441-86" in first.reason_zh and "GB 6441-86" in first.reason_en


def test_load_courses_online_hands_on_rejected(tmp_path: Path) -> None:
    """An online course cannot claim hands-on engagement."""
    frame = read_table(CATALOGUE / "courses.csv")
    online = frame.index[frame["mode"] == "online"][0]
    frame.loc[online, "engagement"] = "hands_on"
    path = tmp_path / "courses.xlsx"
    frame.to_excel(path, index=False)

    with pytest.raises(CatalogueError, match="has 1 invalid value") as caught:
        load_courses(path)

    assert caught.value.errors[0].row == online + 2
    assert caught.value.errors[0].reason_en == "an online course cannot be hands_on"


def test_load_trainers_missing_column_named(tmp_path: Path) -> None:
    """A trainer file without sessions_per_week names the missing column and the present ones."""
    frame = read_table(CATALOGUE / "trainers.csv").drop(columns=["sessions_per_week"])
    path = tmp_path / "trainers.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")

    with pytest.raises(CatalogueError, match=r"missing column\(s\) \['sessions_per_week'\]"):
        load_trainers(path)


def test_load_trainers_unknown_district_rejected(tmp_path: Path) -> None:
    """A district code outside the Hangzhou list is an invalid cell."""
    frame = read_table(CATALOGUE / "trainers.csv")
    frame.loc[0, "district_codes"] = "330102|110101"
    path = tmp_path / "trainers.csv"
    frame.to_csv(path, index=False)

    with pytest.raises(CatalogueError, match="has 1 invalid value") as caught:
        load_trainers(path)

    assert (caught.value.errors[0].row, caught.value.errors[0].column) == (2, "district_codes")


def test_validate_course_effects_missing_combination_reported() -> None:
    """Every scope, engagement and severity combination must have an effect."""
    effects = load_course_effects().astype(str)
    effects = effects[~((effects["scope"] == "targeted") & (effects["engagement"] == "lecture"))]

    with pytest.raises(CatalogueError, match="has 2 invalid value") as caught:
        validate_course_effects(effects)

    assert {error.value for error in caught.value.errors} == {
        "targeted/lecture/high",
        "targeted/lecture/low",
    }


def test_load_course_effects_engaging_wins_for_severe() -> None:
    """For severe hazards the shipped defaults rank hands-on above interactive above lecture."""
    effects = load_course_effects().set_index(["scope", "engagement", "hazard_severity"])[
        "relative_reduction"
    ]

    for scope in ("targeted", "cross_cutting"):
        assert effects[(scope, "hands_on", "high")] >= effects[(scope, "interactive", "high")]
        assert effects[(scope, "interactive", "high")] >= effects[(scope, "lecture", "high")]
    assert (
        effects[("targeted", "hands_on", "high")] > effects[("cross_cutting", "hands_on", "high")]
    )
    assert isinstance(effects, pd.Series)
