"""Adapters from OSHA's public injury files to the canonical tables.

* Severe Injury Reports (one row per hospitalisation, amputation or loss of an
  eye reported since 2015): each report becomes one incident. Its OIICS 2.01
  event-or-exposure code is mapped to a GB 6441-86 accident type and kept
  beside it in ``source_event_code``, because GB 6441-86 has no category for
  overexertion or same-level falls (those map to 20, 其它伤害). An amputation
  or loss of an eye is a serious injury (重伤). A hospitalisation alone is
  recorded as minor, because the report gives no lost workdays.
* Injury Tracking Application Form 300A summaries (one row per establishment
  and year): the establishment is an employer, its average employment and
  hours worked a headcount row, and each injury case an incident dated
  1 July of the year, because the summary gives counts, not dates.

Narratives are never read into the tables: they can name or describe workers.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from risk.errors import InputDataError, RowError
from risk.public import codemaps
from risk.public.report import AdapterReport
from risk.tables import CanonicalTables, canonical_frame

logger = logging.getLogger(__name__)

SIR_ID_SCHEME = "osha_sir"
ITA_ID_SCHEME = "osha_ita"

# Official header first, then the variant of the geocoded extract in the shared sample.
_SIR_ALTERNATIVES = {
    "address": ("Address1", "Address"),
    "state": ("State", "Region"),
    "zip": ("Zip", "Postal"),
}
_SIR_REQUIRED = ("ID", "EventDate", "Primary NAICS", "Event", "Hospitalized", "Amputation", "City")
# NOTE: the ITA column names follow OSHA's 300A data dictionary; no real 300A file was
# available here, so the adapter is tested on a hand-made file in this layout only.
_ITA_REQUIRED = (
    "establishment_name",
    "naics_code",
    "state",
    "annual_average_employees",
    "total_hours_worked",
    "total_deaths",
    "total_injuries",
    "year_filing_for",
)


def read_severe_injury_reports(path: Path) -> tuple[CanonicalTables, AdapterReport]:
    """Read a Severe Injury Reports CSV into employers and incidents.

    The employer of a report is its ``Employer`` name and ZIP code when the
    file has that column. The geocoded extract lacks it, so there the employer
    is approximated by the street address, city and ZIP code. The employer id is
    ``SIR-`` and the first 12 hex digits of a SHA-256 of that key.
    """
    frame = _read_text_csv(path, _SIR_REQUIRED)
    columns = {
        name: _first_present(frame, options, path) for name, options in _SIR_ALTERNATIVES.items()
    }
    report = AdapterReport(source=f"osha severe injury reports {path}")
    file = path.name
    report.rows_read[file] += len(frame)
    report.units_read[file] += len(frame)

    occurred = pd.to_datetime(frame["EventDate"], errors="coerce", format="mixed")
    accident_type = frame["Event"].map(lambda code: codemaps.accident_type_of_oiics(str(code)))
    industry = frame["Primary NAICS"].map(lambda code: codemaps.industry_of_naics(str(code)))
    state = frame[columns["state"]].map(codemaps.state_abbreviation)
    checks = [
        (frame["ID"].str.strip().eq(""), "sir_no_id", "ID", "缺少报告编号", "report id is missing"),
        (
            occurred.isna(),
            "sir_bad_date",
            "EventDate",
            "事故日期无法解析",
            "event date cannot be parsed",
        ),
        (
            accident_type.isna(),
            "sir_unmapped_event",
            "Event",
            "OIICS 事件代码没有 GB 6441 映射",
            "OIICS event code has no GB 6441-86 mapping",
        ),
        (
            industry.isna(),
            "sir_unmapped_naics",
            "Primary NAICS",
            "NAICS 代码没有国民经济行业分类映射",
            "NAICS code has no GB/T 4754 mapping",
        ),
        (
            state.isna(),
            "sir_unknown_state",
            columns["state"],
            "无法识别的美国州名",
            "unknown US state",
        ),
    ]
    placed = _apply_checks(frame, checks, report, file)
    report.units_placed[file] += int(placed.sum())
    rows = frame[placed]

    employer_key = (
        rows["Employer"].str.upper().str.strip() + "|" + rows[columns["zip"]].str.strip()
        if "Employer" in rows.columns
        else rows[columns["address"]].str.upper().str.strip()
        + "|"
        + rows["City"].str.upper().str.strip()
        + "|"
        + rows[columns["zip"]].str.strip()
    )
    employer_ids = employer_key.map(
        lambda key: "SIR-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    )
    names = (
        rows["Employer"]
        if "Employer" in rows.columns
        else rows[columns["address"]] + ", " + rows["City"]
    )
    employers = pd.DataFrame(
        {
            "employer_id": employer_ids,
            "id_scheme": SIR_ID_SCHEME,
            "name": names.str.strip(),
            "industry_code": industry[placed],
            "district_code": state[placed],
        }
    ).drop_duplicates("employer_id", keep="last")
    serious = (_count(rows, "Amputation") > 0) | (_count(rows, "Loss of Eye") > 0)
    incidents = canonical_frame(
        "incidents",
        {
            "incident_id": "OSHA-SIR-" + rows["ID"].str.strip(),
            "employer_id": employer_ids,
            "occurred_on": occurred[placed].dt.normalize(),
            "accident_type": accident_type[placed],
            "severity": np.where(serious, "serious", "minor"),
            "lost_workdays": pd.array([pd.NA] * len(rows), dtype="Int64"),
            "disability_grade": pd.array([pd.NA] * len(rows), dtype="Int64"),
            "is_commuting": False,
            "source_event_code": rows["Event"].str.strip(),
        },
    )
    tables = CanonicalTables.from_frames(employers=employers, incidents=incidents)
    logger.info("adapted %d of %d severe injury reports from %s", len(incidents), len(frame), file)
    return tables, report


def read_ita_summaries(path: Path) -> tuple[CanonicalTables, AdapterReport]:
    """Read an ITA Form 300A summary CSV into employers, headcounts and incidents.

    The employer id is ``ITA-`` and the file's ``establishment_id`` (or ``id``
    in files without it). Each of ``total_injuries`` becomes an incident, the
    first ``total_deaths`` of them fatal.
    """
    frame = _read_text_csv(path, _ITA_REQUIRED)
    key_column = _first_present(frame, ("establishment_id", "id"), path)
    report = AdapterReport(source=f"osha ita 300a {path}")
    file = path.name
    report.rows_read[file] += len(frame)
    injuries = pd.to_numeric(frame["total_injuries"], errors="coerce")
    deaths = pd.to_numeric(frame["total_deaths"], errors="coerce")
    report.units_read[file] += float(injuries.fillna(0).clip(lower=0).sum())

    year = pd.to_numeric(frame["year_filing_for"], errors="coerce")
    industry = frame["naics_code"].map(lambda code: codemaps.industry_of_naics(str(code)))
    state = frame["state"].map(codemaps.state_abbreviation)
    checks = [
        (
            frame[key_column].str.strip().eq(""),
            "ita_no_id",
            key_column,
            "缺少机构编号",
            "establishment id is missing",
        ),
        (
            ~year.between(1990, 2100),
            "ita_bad_year",
            "year_filing_for",
            "年度无效",
            "year is invalid",
        ),
        (
            ~((injuries >= 0) & (injuries == injuries.round())),
            "ita_bad_count",
            "total_injuries",
            "工伤数不是非负整数",
            "injury count is not a non-negative whole number",
        ),
        (
            industry.isna(),
            "ita_unmapped_naics",
            "naics_code",
            "NAICS 代码没有国民经济行业分类映射",
            "NAICS code has no GB/T 4754 mapping",
        ),
        (state.isna(), "ita_unknown_state", "state", "无法识别的美国州名", "unknown US state"),
    ]
    placed = _apply_checks(frame, checks, report, file, units=injuries.fillna(0).clip(lower=0))
    rows = frame[placed]
    employer_ids = "ITA-" + rows[key_column].str.strip()
    employers = pd.DataFrame(
        {
            "employer_id": employer_ids,
            "id_scheme": ITA_ID_SCHEME,
            "name": rows["establishment_name"].str.strip(),
            "industry_code": industry[placed],
            "district_code": state[placed],
        }
    ).drop_duplicates("employer_id", keep="last")
    headcounts = pd.DataFrame(
        {
            "employer_id": employer_ids,
            "year": year[placed].astype("int64"),
            "insured_headcount": pd.to_numeric(rows["annual_average_employees"], errors="coerce")
            .fillna(0)
            .round()
            .astype("int64"),
            "hours_worked": pd.to_numeric(rows["total_hours_worked"], errors="coerce").astype(
                "float64"
            ),
        }
    )
    incidents = _ita_incidents(employer_ids, year[placed], injuries[placed], deaths[placed])
    report.units_placed[file] += len(incidents)
    tables = CanonicalTables.from_frames(
        employers=employers, headcounts=headcounts, incidents=incidents
    )
    logger.info("adapted %d of %d ITA 300A rows from %s", int(placed.sum()), len(frame), file)
    return tables, report


def _ita_incidents(
    employer_ids: pd.Series, years: pd.Series, injuries: pd.Series, deaths: pd.Series
) -> pd.DataFrame:
    repeats = injuries.astype("int64").to_numpy()
    fatal_counts = np.minimum(deaths.fillna(0).clip(lower=0).astype("int64").to_numpy(), repeats)
    mines = np.repeat(employer_ids.to_numpy(), repeats)
    year_values = np.repeat(years.astype("int64").to_numpy(), repeats)
    position = np.arange(repeats.sum()) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    fatal = position < np.repeat(fatal_counts, repeats)
    return canonical_frame(
        "incidents",
        {
            "incident_id": [
                f"{employer}-{year}-{number + 1:04d}"
                for employer, year, number in zip(mines, year_values, position, strict=True)
            ],
            "employer_id": mines,
            "occurred_on": pd.to_datetime(
                pd.DataFrame({"year": year_values, "month": 7, "day": 1})
            ),
            "accident_type": "20",
            "severity": np.where(fatal, "fatal", "minor"),
            "lost_workdays": pd.array([pd.NA] * len(mines), dtype="Int64"),
            "disability_grade": pd.array([pd.NA] * len(mines), dtype="Int64"),
            "is_commuting": False,
            "source_event_code": pd.Series([pd.NA] * len(mines), dtype="str"),
        },
    )


def _read_text_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    if not path.exists():
        raise InputDataError(f"缺少文件 {path} / missing file {str(path)!r}")
    # utf-8-sig strips the byte-order mark that the shared extract starts with.
    frame = pd.read_csv(
        path, dtype=str, keep_default_na=False, encoding="utf-8-sig", encoding_errors="replace"
    )
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise InputDataError(
            f"{path.name} 缺少列 {missing!r} / {path.name!r} is missing columns {missing!r};"
            f" it has {list(frame.columns)[:5]!r}",
            [
                RowError(path.name, None, column, None, "缺少列", "missing column")
                for column in missing
            ],
        )
    return frame


def _first_present(frame: pd.DataFrame, options: tuple[str, ...], path: Path) -> str:
    for option in options:
        if option in frame.columns:
            return option
    raise InputDataError(
        f"{path.name} 缺少列 {options[0]!r} / {path.name!r} has none of the columns"
        f" {list(options)!r}"
    )


def _count(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(0, index=frame.index)
    return pd.to_numeric(frame[column], errors="coerce").fillna(0)


def _apply_checks(
    frame: pd.DataFrame,
    checks: list[tuple[pd.Series, str, str, str, str]],
    report: AdapterReport,
    file: str,
    units: pd.Series | None = None,
) -> pd.Series:
    bad = pd.Series(False, index=frame.index)
    for mask, code, column, reason_zh, reason_en in checks:
        for index in frame.index[(mask & ~bad).to_numpy()]:
            report.reject(
                code,
                RowError(
                    file, int(index) + 2, column, str(frame.at[index, column]), reason_zh, reason_en
                ),
                1.0 if units is None else float(units.at[index]),
            )
        bad |= mask
    return ~bad
