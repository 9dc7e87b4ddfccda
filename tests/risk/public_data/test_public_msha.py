"""Tests of the MSHA panel adapter on the real panel and on small hand-made panels."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from risk.public import codemaps, quarters
from risk.public.msha import (
    EMPLOYMENT_FILE,
    INJURIES_FILE,
    VIOLATIONS_FILE,
    MshaPanel,
    read_msha_panel,
)
from risk.public.msha_violations import parse_violation_columns


def _raw(panel_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(panel_dir / name, dtype={"mineid": str}, low_memory=False)


def test_read_msha_panel_keeps_leading_zeros(panel_dir: Path, full_panel: MshaPanel) -> None:
    """Mine ids stay 7-character text with their leading zeros in every table."""
    employers = full_panel.tables.employers
    raw_ids = set(_raw(panel_dir, EMPLOYMENT_FILE)["mineid"])
    assert employers["employer_id"].str.fullmatch(r"\d{7}").all()
    assert "0100851" in set(employers["employer_id"])
    assert set(employers["employer_id"]) == raw_ids
    assert employers["employer_id"].str.startswith("0").sum() == sum(
        mine.startswith("0") for mine in raw_ids
    )
    assert full_panel.tables.incidents["employer_id"].str.fullmatch(r"\d{7}").all()
    assert full_panel.tables.hazard_findings["employer_id"].str.fullmatch(r"\d{7}").all()
    assert (employers["id_scheme"] == "msha").all()


def test_read_msha_panel_maps_industry_and_state(full_panel: MshaPanel) -> None:
    """Underground coal mines are GB/T 4754 class B0610 (risk class 8) and keep their US state."""
    employers = full_panel.tables.employers
    assert (employers["industry_code"] == "B0610").all()
    from risk import codelists

    assert codelists.risk_class_of("B0610") == 8
    assert set(employers["district_code"]) >= {"KY", "WV", "VA"}


def test_read_msha_panel_injuries_reconcile(panel_dir: Path, full_panel: MshaPanel) -> None:
    """Every injury in the file either becomes an incident or is reported with its count."""
    injuries = _raw(panel_dir, INJURIES_FILE)
    employment = _raw(panel_dir, EMPLOYMENT_FILE)
    read = injuries["totalinjuries"].fillna(0).sum()
    placed = len(full_panel.tables.incidents)
    rejected = full_panel.report.units_rejected(INJURIES_FILE)
    assert placed + rejected == read

    # Independently: injuries at mine-quarters absent from the employment file.
    keys = set(zip(employment["mineid"], employment["quarter"], strict=True))
    absent = np.array(
        [
            (mine, quarter) not in keys
            for mine, quarter in zip(injuries["mineid"], injuries["quarter"], strict=True)
        ]
    )
    outside = injuries[injuries["quarter"].notna().to_numpy() & absent]
    by_reason = full_panel.report.counts_by_reason()
    unknown_mine = ~outside["mineid"].isin(set(employment["mineid"]))
    assert (
        by_reason["injury_mine_not_in_employment"]["units"]
        == outside.loc[unknown_mine, "totalinjuries"].sum()
    )
    assert by_reason["injury_mine_not_in_employment"]["rows"] == unknown_mine.sum()
    assert (
        by_reason["injury_quarter_not_in_employment"]["units"]
        == outside.loc[~unknown_mine, "totalinjuries"].sum()
    )
    assert by_reason["injury_quarter_not_in_employment"]["rows"] == (~unknown_mine).sum()


def test_read_msha_panel_incidents_per_quarter_match_file(
    panel_dir: Path, full_panel: MshaPanel
) -> None:
    """The incidents of a mine-quarter number its injury count and are dated inside the quarter."""
    incidents = full_panel.tables.incidents
    oak_grove = incidents[incidents["employer_id"] == "0100851"]
    per_quarter = oak_grove.groupby(quarters.index_of_date(oak_grove["occurred_on"])).size()
    injuries = _raw(panel_dir, INJURIES_FILE)
    expected = injuries[injuries["mineid"] == "0100851"].set_index("quarter")["totalinjuries"]
    expected.index = quarters.index_of_decimal_quarter(pd.Series(expected.index)).to_numpy()
    assert per_quarter.to_dict() == expected.astype(int).to_dict()
    assert (incidents["accident_type"] == "20").all()
    assert incidents["source_event_code"].isna().all()


def test_read_msha_panel_reports_injury_row_without_quarter(
    panel_dir: Path, full_panel: MshaPanel
) -> None:
    """The injury row with a blank quarter is reported with its file and spreadsheet row number."""
    injuries = _raw(panel_dir, INJURIES_FILE)
    blank_rows = [int(index) + 2 for index in injuries.index[injuries["quarter"].isna()]]
    reported = [
        item.error.row
        for item in full_panel.report.rejected
        if item.error.file == INJURIES_FILE
        and item.error.column in {"quarter", "mineid"}
        and item.error.row in blank_rows
    ]
    assert blank_rows
    assert sorted(reported) == blank_rows


def test_read_msha_panel_violations_reconcile(panel_dir: Path, full_panel: MshaPanel) -> None:
    """Per mine, decoded violations plus the unsplittable remainder equal the first backward sum."""
    raw = _raw(panel_dir, VIOLATIONS_FILE)
    columns = [
        measures["violations"] for measures in parse_violation_columns(list(raw.columns)).values()
    ]
    totals = pd.DataFrame(
        {
            "mineid": raw["mineid"],
            "quarter": raw["quarter"],
            "total": raw[columns].sum(axis=1, min_count=1),
        }
    ).sort_values(["mineid", "quarter"])
    known = totals.dropna(subset=["total"])
    first_known = known.groupby("mineid")["total"].first()

    findings = full_panel.tables.hazard_findings
    placed = findings.groupby("employer_id").size()
    open_ended = pd.Series(
        {
            item.error.value: item.units
            for item in full_panel.report.rejected
            if item.code == "violations_open_ended"
        }
    )
    decoded = placed.reindex(first_known.index, fill_value=0) + open_ended.reindex(
        first_known.index, fill_value=0
    )
    assert np.allclose(decoded.to_numpy(), first_known.to_numpy())


def test_read_msha_panel_violations_levels(full_panel: MshaPanel) -> None:
    """S&S violations are the major hazards; no finding claims a rectification."""
    findings = full_panel.tables.hazard_findings
    assert set(findings["hazard_level"]) == {"general", "major"}
    assert findings["rectified_on"].isna().all()
    assert findings["finding_id"].is_unique
    assert findings["description"].str.startswith("30 CFR ").all()
    assert full_panel.quarters["violations_known"].any()
    assert not full_panel.quarters["violations_known"].all()


def test_panel_sections_all_mapped(panel_dir: Path) -> None:
    """Every CFR section in the panel's violation file has a hazard category."""
    header = pd.read_csv(panel_dir / VIOLATIONS_FILE, nrows=0)
    sections = parse_violation_columns(list(header.columns))
    unmapped = [
        section for section in sections if codemaps.hazard_category_of_section(section) is None
    ]
    assert len(sections) == 139
    assert unmapped == []


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _employment_row(mine: str, quarter: float, hours: float) -> dict[str, object]:
    return {
        "mineid": mine,
        "quarter": quarter,
        "hours_qtr": hours,
        "employment_qtr": 10,
        "coal_prod_qtr": 1000,
        "minename": f"Mine {mine}",
        "coalcormetalmmine": "C",
        "minetype": "Underground",
        "stateabbreviation": "WV",
    }


def _small_panel(folder: Path) -> Path:
    _write_csv(
        folder / EMPLOYMENT_FILE,
        [
            _employment_row("0100001", 2010.0, 5000),
            _employment_row("0100001", 2010.25, 6000),
            _employment_row("0100001", 2010.5, 0),
            _employment_row("0100002", 2010.0, 7000),
        ],
    )
    _write_csv(
        folder / INJURIES_FILE,
        [
            {"mineid": "0100001", "quarter": 2010.0, "totalinjuries": 2},
            {"mineid": "0100001", "quarter": 2011.0, "totalinjuries": 3},
            {"mineid": "0100002", "quarter": "", "totalinjuries": 1},
            {"mineid": "100002", "quarter": 2010.0, "totalinjuries": 4},
            {"mineid": "0100002", "quarter": 2010.1, "totalinjuries": 5},
            {"mineid": "0100002", "quarter": 2010.0, "totalinjuries": 1.5},
        ],
    )
    return folder


def test_read_msha_panel_reports_unplaceable_rows(tmp_path: Path) -> None:
    """Rows the adapter cannot place are reported one by one with code, row, column and value."""
    panel = read_msha_panel(_small_panel(tmp_path))
    reported = {(item.error.file, item.error.row): item for item in panel.report.rejected}

    assert reported[(EMPLOYMENT_FILE, 4)].code == "employment_no_hours"
    assert reported[(INJURIES_FILE, 3)].code == "injury_quarter_not_in_employment"
    assert reported[(INJURIES_FILE, 3)].units == 3
    assert reported[(INJURIES_FILE, 4)].code == "injury_no_quarter"
    assert reported[(INJURIES_FILE, 5)].code == "injury_bad_mine_id"
    assert reported[(INJURIES_FILE, 5)].error.value == "100002"
    assert reported[(INJURIES_FILE, 6)].code == "injury_no_quarter"
    assert reported[(INJURIES_FILE, 7)].code == "injury_bad_count"
    assert len(panel.tables.incidents) == 2
    assert (
        len(panel.tables.incidents) + panel.report.units_rejected(INJURIES_FILE)
        == 2 + 3 + 1 + 4 + 5 + 1.5
    )


def test_report_write_rejects_round_trip(tmp_path: Path) -> None:
    """The reject file lists every rejected row with its reasons in Chinese and English."""
    panel = read_msha_panel(
        _small_panel(tmp_path / "panel" if (tmp_path / "panel").mkdir() is None else tmp_path)
    )
    path = panel.report.write_rejects(tmp_path / "rejects.csv")
    written = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    assert list(written.columns) == [
        "file",
        "row",
        "column",
        "value",
        "reason_code",
        "units",
        "reason_zh",
        "reason_en",
    ]
    assert len(written) == len(panel.report.rejected)
    assert (
        "没有工时"
        in written.loc[
            written["reason_code"] == "injury_quarter_not_in_employment", "reason_zh"
        ].iloc[0]
    )


def _backward_sums(counts: list[float]) -> list[float]:
    return list(np.cumsum(counts[::-1])[::-1])


def test_decode_violations_backward_sums(tmp_path: Path) -> None:
    """Backward sums decode to quarter counts; blank rows and the final quarter are reported."""
    _write_csv(
        tmp_path / EMPLOYMENT_FILE,
        [_employment_row("0100001", 2010.0 + step / 4, 5000) for step in range(5)]
        + [_employment_row("0100002", 2010.0 + step / 4, 5000) for step in range(6)],
    )
    _write_csv(
        tmp_path / INJURIES_FILE, [{"mineid": "0100001", "quarter": 2010.0, "totalinjuries": 1}]
    )
    # Mine 1 stops before the file ends: counts 2, 0, 3, 1 after one blank quarter.
    totals_one = [None, *_backward_sums([2, 0, 3, 1])]
    major_one = [None, *_backward_sums([1, 0, 0, 1])]
    # Mine 2 reaches the file's final quarter, whose backward sum cannot be split.
    totals_two = _backward_sums([1, 1, 1, 1, 1, 9])
    rows = [
        {
            "mineid": "0100001",
            "quarter": 2010.0 + step / 4,
            "sp75.1722.c.lag.all": total,
            "sp75.1722.sigandsub.c.lag.all": major,
        }
        for step, (total, major) in enumerate(zip(totals_one, major_one, strict=True))
    ] + [
        {
            "mineid": "0100002",
            "quarter": 2010.0 + step / 4,
            "sp75.1722.c.lag.all": total,
            "sp75.1722.sigandsub.c.lag.all": 0,
        }
        for step, total in enumerate(totals_two)
    ]
    frame = pd.DataFrame(rows)
    frame.to_csv(tmp_path / VIOLATIONS_FILE, index=False, compression="gzip")

    panel = read_msha_panel(tmp_path)
    findings = panel.tables.hazard_findings
    first_mine = findings[findings["employer_id"] == "0100001"]
    per_quarter = (
        first_mine.groupby(quarters.index_of_date(first_mine["inspected_on"])).size().to_dict()
    )
    base = 2010 * 4
    assert per_quarter == {base + 1: 2, base + 3: 3, base + 4: 1}
    assert first_mine.loc[first_mine["hazard_level"] == "major"].shape[0] == 2
    assert set(first_mine["hazard_category"]) == {"machine_guarding"}
    second_mine = findings[findings["employer_id"] == "0100002"]
    assert len(second_mine) == 5
    codes = panel.report.counts_by_reason()
    assert codes["violations_blank"]["rows"] == 1
    assert codes["violations_open_ended"] == {"rows": 1, "units": 9.0}
    known = panel.quarters.set_index(["employer_id", "quarter_index"])["violations_known"]
    assert not known[("0100001", base)]
    assert known[("0100001", base + 1)]
    assert not known[("0100002", base + 5)]


@pytest.mark.parametrize(
    ("section", "category"),
    [
        ("75.1722", "machine_guarding"),
        ("77.1710", "ppe"),
        ("77.403-2", "machine_guarding"),
        ("75.812", "electrical"),
        ("77.413", "pressure_equipment"),
        ("77.216", "structural"),
        ("99.1", None),
        ("not a section", None),
    ],
)
def test_hazard_category_of_section(section: str, category: str | None) -> None:
    """A CFR section maps to the hazard category of its narrowest range."""
    assert codemaps.hazard_category_of_section(section) == category


def test_check_mappings_targets_exist() -> None:
    """Every mapping target is in the platform's code lists."""
    assert codemaps.check_mappings() == []
