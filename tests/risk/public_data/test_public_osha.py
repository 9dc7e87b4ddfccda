"""Tests of the OSHA adapters: severe-injury reports (real extract) and ITA 300A summaries."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from risk.public import codemaps
from risk.public.osha import read_ita_summaries, read_severe_injury_reports


def test_severe_injury_keeps_oiics_code(severe_injury_file: Path) -> None:
    """Each incident keeps the report's OIICS event code beside its GB 6441-86 accident type."""
    tables, report = read_severe_injury_reports(severe_injury_file)
    raw = pd.read_csv(severe_injury_file, dtype=str, encoding="utf-8-sig")
    incidents = tables.incidents.set_index("incident_id")

    assert report.rejected == []
    assert len(incidents) == len(raw)
    expected_codes = dict(zip("OSHA-SIR-" + raw["ID"], raw["Event"], strict=True))
    assert incidents["source_event_code"].to_dict() == expected_codes
    same_level_falls = incidents[incidents["source_event_code"].str.startswith("42")]
    assert not same_level_falls.empty
    assert (same_level_falls["accident_type"] == "20").all()
    falls_to_lower_level = incidents[incidents["source_event_code"].str.startswith("43")]
    assert (falls_to_lower_level["accident_type"] == "09").all()
    overexertion = incidents[incidents["source_event_code"].str.startswith("7")]
    assert not overexertion.empty
    assert (overexertion["accident_type"] == "20").all()


def test_severe_injury_employers_and_severity(severe_injury_file: Path) -> None:
    """Employers are approximated by address; amputations are serious injuries."""
    tables, _ = read_severe_injury_reports(severe_injury_file)
    raw = pd.read_csv(severe_injury_file, dtype=str, encoding="utf-8-sig")
    employers = tables.employers
    assert employers["employer_id"].str.fullmatch(r"SIR-[0-9a-f]{12}").all()
    assert (employers["id_scheme"] == "osha_sir").all()
    assert employers["district_code"].str.fullmatch(r"[A-Z]{2}").all()
    assert employers["industry_code"].str.startswith("D").sum() >= len(employers) - 2
    amputations = set("OSHA-SIR-" + raw.loc[raw["Amputation"].astype(int) > 0, "ID"])
    serious = set(tables.incidents.loc[tables.incidents["severity"] == "serious", "incident_id"])
    assert serious == amputations


@pytest.mark.parametrize(
    ("event_code", "accident_type"),
    [
        ("4335", "09"),
        ("422", "20"),
        ("5112", "05"),
        ("642", "03"),
        ("6239", "01"),
        ("651", "10"),
        ("323", "17"),
        ("317", "08"),
        ("533", "07"),
        ("7120", "20"),
        ("2442", "02"),
        ("9999", "20"),
        ("abc", None),
    ],
)
def test_accident_type_of_oiics(event_code: str, accident_type: str | None) -> None:
    """The longest OIICS prefix decides the GB 6441-86 accident type."""
    assert codemaps.accident_type_of_oiics(event_code) == accident_type


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_severe_injury_reports_bad_rows(tmp_path: Path) -> None:
    """Reports with a bad date, an unmapped code or an unknown state are reported, not dropped."""
    header = [
        "ID",
        "EventDate",
        "Employer",
        "Address1",
        "City",
        "State",
        "Zip",
        "Primary NAICS",
        "Hospitalized",
        "Amputation",
        "Event",
        "Final Narrative",
    ]
    path = _write(
        tmp_path / "severeinjury.csv",
        header,
        [
            [
                "1",
                "1/5/2015",
                "Acme Power",
                "1 Main St",
                "AUSTIN",
                "TEXAS",
                "78701",
                "221122",
                "1",
                "0",
                "4212",
                "x",
            ],
            [
                "2",
                "not a date",
                "Acme Power",
                "1 Main St",
                "AUSTIN",
                "TEXAS",
                "78701",
                "221122",
                "1",
                "0",
                "4212",
                "x",
            ],
            [
                "3",
                "2015-02-01",
                "Acme Bakery",
                "2 Main St",
                "AUSTIN",
                "TEXAS",
                "78701",
                "311811",
                "1",
                "0",
                "642",
                "x",
            ],
            [
                "4",
                "2015-02-01",
                "Acme Power",
                "1 Main St",
                "AUSTIN",
                "ATLANTIS",
                "78701",
                "221122",
                "0",
                "1",
                "642",
                "x",
            ],
            [
                "5",
                "2015-02-01",
                "Acme Power",
                "1 Main St",
                "AUSTIN",
                "TEXAS",
                "78701",
                "221122",
                "0",
                "1",
                "",
                "x",
            ],
        ],
    )
    tables, report = read_severe_injury_reports(path)
    codes = {item.error.row: item.code for item in report.rejected}
    assert codes == {
        3: "sir_bad_date",
        4: "sir_unmapped_naics",
        5: "sir_unknown_state",
        6: "sir_unmapped_event",
    }
    assert list(tables.incidents["incident_id"]) == ["OSHA-SIR-1"]
    assert tables.employers["name"].tolist() == ["Acme Power"]
    assert tables.employers["district_code"].tolist() == ["TX"]


def test_read_ita_summaries(tmp_path: Path) -> None:
    """A 300A row gives an employer, a headcount with hours, and one incident per injury case."""
    header = [
        "id",
        "establishment_id",
        "establishment_name",
        "naics_code",
        "state",
        "annual_average_employees",
        "total_hours_worked",
        "total_deaths",
        "total_injuries",
        "year_filing_for",
    ]
    path = _write(
        tmp_path / "ita.csv",
        header,
        [
            ["10", "900", "Plant A", "221112", "OH", "120", "240000", "1", "3", "2019"],
            ["11", "901", "Plant B", "221122", "PA", "40", "80000", "0", "0", "2019"],
            ["12", "902", "Bakery", "311811", "PA", "40", "80000", "0", "2", "2019"],
        ],
    )
    tables, report = read_ita_summaries(path)
    assert tables.employers["employer_id"].tolist() == ["ITA-900", "ITA-901"]
    assert tables.headcounts["hours_worked"].tolist() == [240000.0, 80000.0]
    assert tables.incidents["severity"].tolist() == ["fatal", "minor", "minor"]
    assert (tables.incidents["occurred_on"] == pd.Timestamp("2019-07-01")).all()
    assert [item.code for item in report.rejected] == ["ita_unmapped_naics"]
    assert report.units_rejected("ita.csv") == 2
    assert len(tables.incidents) + report.units_rejected("ita.csv") == report.units_read["ita.csv"]
