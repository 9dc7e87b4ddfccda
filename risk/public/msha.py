"""Adapter from the MSHA underground-coal mine-quarter panel to the canonical tables.

The panel is three files keyed by mine id and quarter (a decimal year, 2000.25
being the second quarter of 2000):

* ``mine_quarter_employment.csv``: hours worked, average employment and coal
  production of each producing mine-quarter, with mine attributes;
* ``mine_quarter_injuries.csv``: the number of injuries reported to MSHA per
  mine-quarter (mine-quarters without a row had none);
* ``mine_quarter_lagged_violations.csv.gz`` (optional): violation counts by
  30 CFR section, stored as backward sums (see :mod:`risk.public.msha_violations`).

A mine is an employer (id scheme ``"msha"``, the 7-digit mine id with its
leading zeros), every injury one incident and every violation one hazard
finding. What the panel does not record gets a documented stand-in:

* an injury or violation known only by quarter is dated the 15th of the
  quarter's middle month;
* an injury has accident type 20 (其它伤害) and severity ``minor`` with
  unknown lost workdays, because the panel contains no cause or degree of
  injury;
* a violation has no abatement date, so ``rectified_on`` is blank;
* ``district_code`` is the US state abbreviation, because GB/T 2260 has no
  US codes.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from risk.errors import InputDataError, RowError
from risk.public import codemaps, quarters
from risk.public.msha_violations import ViolationCounts, decode_violations
from risk.public.report import AdapterReport
from risk.tables import CanonicalTables, canonical_frame

logger = logging.getLogger(__name__)

EMPLOYMENT_FILE = "mine_quarter_employment.csv"
INJURIES_FILE = "mine_quarter_injuries.csv"
VIOLATIONS_FILE = "mine_quarter_lagged_violations.csv.gz"
ID_SCHEME = "msha"

_EMPLOYMENT_COLUMNS = (
    "mineid",
    "quarter",
    "hours_qtr",
    "employment_qtr",
    "coal_prod_qtr",
    "minename",
    "coalcormetalmmine",
    "minetype",
    "stateabbreviation",
)
_INJURY_COLUMNS = ("mineid", "quarter", "totalinjuries")


@dataclass(frozen=True)
class MshaPanel:
    """The panel as canonical tables, plus what the tables cannot hold.

    ``quarters`` has one row per producing mine-quarter: ``employer_id``,
    ``quarter_index`` (see :mod:`risk.public.quarters`), ``hours_worked``,
    ``employment``, ``coal_production`` and ``violations_known`` (False where
    the quarter's violation counts are blank or could not be decoded). The
    store keeps hours by year only, and features work on quarters.
    """

    tables: CanonicalTables
    quarters: pd.DataFrame
    report: AdapterReport

    def last_complete_year(self) -> int:
        """Return the last calendar year whose fourth quarter has employment rows."""
        years = self.quarters.loc[self.quarters["quarter_index"] % 4 == 3, "quarter_index"] // 4
        if years.empty:
            raise InputDataError("面板中没有完整的年度 / the panel contains no complete year")
        return int(years.max())


def read_msha_panel(directory: Path, mine_ids: Collection[str] | None = None) -> MshaPanel:
    """Read the panel files in ``directory`` and adapt them to canonical tables.

    Parameters
    ----------
    directory : Path
        Folder with ``mine_quarter_employment.csv`` and ``mine_quarter_injuries.csv``
        and, optionally, ``mine_quarter_lagged_violations.csv.gz``.
    mine_ids : collection of str, optional
        Keep only these mines (rows of other mines are not read and not
        counted); all mines when None.

    Raises
    ------
    InputDataError
        When a file is missing or lacks a required column.
    """
    report = AdapterReport(source=f"msha panel {directory}")
    keep = None if mine_ids is None else set(mine_ids)
    employment = _read_csv(directory / EMPLOYMENT_FILE, _EMPLOYMENT_COLUMNS, keep)
    injuries = _read_csv(directory / INJURIES_FILE, _INJURY_COLUMNS, keep)

    mine_quarters = _place_employment(employment, report)
    employers = _employers(mine_quarters)
    incidents = _place_injuries(injuries, mine_quarters, report)
    quarter_frame = mine_quarters[
        ["employer_id", "quarter_index", "hours_worked", "employment", "coal_production"]
    ].assign(violations_known=False)

    findings = canonical_frame("hazard_findings")
    violations_path = directory / VIOLATIONS_FILE
    if violations_path.exists():
        raw = _read_csv(violations_path, ("mineid", "quarter"), keep)
        decoded = _decode(raw, report)
        findings = _place_violations(decoded, set(employers["employer_id"]), report)
        known = decoded.known_quarters.rename(columns={"mineid": "employer_id"}).assign(known=True)
        quarter_frame = quarter_frame.drop(columns="violations_known").merge(
            known, on=["employer_id", "quarter_index"], how="left"
        )
        quarter_frame["violations_known"] = quarter_frame.pop("known").fillna(False).astype(bool)
    else:
        logger.info("no %s in %s: the panel has no hazard findings", VIOLATIONS_FILE, directory)

    tables = CanonicalTables.from_frames(
        employers=employers,
        headcounts=_headcounts(mine_quarters),
        incidents=incidents,
        hazard_findings=findings,
    )
    logger.info(
        "adapted the MSHA panel: %d mines, %d mine-quarters, %d incidents, %d findings,"
        " %d rows not placed",
        len(employers),
        len(quarter_frame),
        len(incidents),
        len(findings),
        len(report.rejected),
    )
    return MshaPanel(tables=tables, quarters=quarter_frame.reset_index(drop=True), report=report)


def _read_csv(path: Path, required: tuple[str, ...], keep: set[str] | None) -> pd.DataFrame:
    if not path.exists():
        raise InputDataError(f"缺少文件 {path} / missing file {str(path)!r}")
    # Ids are text so that leading zeros survive ("0100851").
    frame = pd.read_csv(path, dtype={"mineid": str, "operatorid": str}, low_memory=False)
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
    if keep is not None:
        frame = frame[frame["mineid"].isin(keep)]
    frame.attrs["file"] = path.name
    return frame


def _valid_mine_id(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.fullmatch(r"\d{7}")


def _reject_rows(
    report: AdapterReport,
    frame: pd.DataFrame,
    mask: pd.Series,
    code: str,
    column: str,
    reason_zh: str,
    reason_en: str,
    units: pd.Series | None = None,
) -> None:
    file = frame.attrs["file"]
    for index in frame.index[mask.to_numpy()]:
        value = frame.at[index, column]
        report.reject(
            code,
            RowError(
                file,
                int(index) + 2,
                column,
                None if pd.isna(value) else str(value),
                reason_zh,
                reason_en,
            ),
            0.0 if units is None else float(units.at[index]),
        )


def _place_employment(employment: pd.DataFrame, report: AdapterReport) -> pd.DataFrame:
    file = employment.attrs["file"]
    report.rows_read[file] += len(employment)
    frame = employment.assign(
        quarter_index=quarters.index_of_decimal_quarter(employment["quarter"])
    )
    pairs = frame[["coalcormetalmmine", "minetype"]].fillna("").astype(str)
    frame["industry_code"] = pd.Series(
        [
            codemaps.industry_of_mine(kind, mine_type)
            for kind, mine_type in pairs.itertuples(index=False)
        ],
        index=frame.index,
        dtype="str",
    )
    hours = pd.to_numeric(frame["hours_qtr"], errors="coerce")

    checks = [
        (
            ~_valid_mine_id(frame["mineid"]),
            "employment_bad_mine_id",
            "mineid",
            "矿山编号不是7位数字",
            "mine id is not 7 digits",
        ),
        (
            frame["quarter_index"].isna(),
            "employment_bad_quarter",
            "quarter",
            "季度缺失或不在季度网格上",
            "quarter is missing or not on the quarterly grid",
        ),
        (
            ~(hours > 0),
            "employment_no_hours",
            "hours_qtr",
            "工时缺失或不为正",
            "hours worked are missing or not positive",
        ),
        (
            frame["industry_code"].isna(),
            "employment_unmapped_mine_type",
            "minetype",
            "矿山类型无法映射到国民经济行业分类",
            "mine type has no GB/T 4754 mapping",
        ),
    ]
    bad = pd.Series(False, index=frame.index)
    for mask, code, column, reason_zh, reason_en in checks:
        new = mask & ~bad
        _reject_rows(report, frame, new, code, column, reason_zh, reason_en)
        bad |= mask
    duplicated = ~bad & frame.duplicated(["mineid", "quarter_index"], keep="first")
    _reject_rows(
        report,
        frame,
        duplicated,
        "employment_duplicate",
        "quarter",
        "同一矿山季度重复出现",
        "the mine-quarter appears more than once",
    )
    placed = frame[~bad & ~duplicated]
    report.units_read[file] += len(frame)
    report.units_placed[file] += len(placed)

    return (
        pd.DataFrame(
            {
                "employer_id": placed["mineid"].astype(str),
                "quarter_index": placed["quarter_index"].astype("int64"),
                "hours_worked": hours[placed.index].astype("float64"),
                "employment": pd.to_numeric(placed["employment_qtr"], errors="coerce").astype(
                    "float64"
                ),
                "coal_production": pd.to_numeric(placed["coal_prod_qtr"], errors="coerce").astype(
                    "float64"
                ),
                "name": placed["minename"].fillna("").astype(str),
                "industry_code": placed["industry_code"].astype(str),
                "district_code": placed["stateabbreviation"].fillna("").astype(str),
            }
        )
        .sort_values(["employer_id", "quarter_index"])
        .reset_index(drop=True)
    )


def _employers(mine_quarters: pd.DataFrame) -> pd.DataFrame:
    # The latest quarter's name and state describe the mine.
    latest = mine_quarters.groupby("employer_id", sort=True).tail(1)
    return pd.DataFrame(
        {
            "employer_id": latest["employer_id"],
            "id_scheme": ID_SCHEME,
            "name": latest["name"],
            "industry_code": latest["industry_code"],
            "district_code": latest["district_code"],
        }
    ).reset_index(drop=True)


def _headcounts(mine_quarters: pd.DataFrame) -> pd.DataFrame:
    yearly = (
        mine_quarters.assign(year=mine_quarters["quarter_index"] // 4)
        .groupby(["employer_id", "year"], as_index=False)
        .agg(employment=("employment", "mean"), hours_worked=("hours_worked", "sum"))
    )
    return pd.DataFrame(
        {
            "employer_id": yearly["employer_id"],
            "year": yearly["year"].astype("int64"),
            # The insured headcount of a mine-year is its mean quarterly employment.
            "insured_headcount": yearly["employment"].fillna(0).round().astype("int64"),
            "hours_worked": yearly["hours_worked"].astype("float64"),
        }
    )


def _place_injuries(
    injuries: pd.DataFrame, mine_quarters: pd.DataFrame, report: AdapterReport
) -> pd.DataFrame:
    file = injuries.attrs["file"]
    report.rows_read[file] += len(injuries)
    frame = injuries.assign(quarter_index=quarters.index_of_decimal_quarter(injuries["quarter"]))
    counts = pd.to_numeric(frame["totalinjuries"], errors="coerce")
    units = counts.fillna(0.0).clip(lower=0.0)
    report.units_read[file] += float(units.sum())

    known = pd.MultiIndex.from_frame(mine_quarters[["employer_id", "quarter_index"]])
    keys = pd.MultiIndex.from_arrays(
        [frame["mineid"].fillna("").astype(str), frame["quarter_index"].fillna(-1)]
    )
    known_mine = frame["mineid"].isin(set(mine_quarters["employer_id"]))
    checks = [
        (
            ~_valid_mine_id(frame["mineid"]),
            "injury_bad_mine_id",
            "mineid",
            "矿山编号缺失或不是7位数字",
            "mine id is missing or not 7 digits",
        ),
        (
            frame["quarter_index"].isna(),
            "injury_no_quarter",
            "quarter",
            "季度缺失或不在季度网格上",
            "quarter is missing or not on the quarterly grid",
        ),
        (
            ~((counts >= 0) & (counts == counts.round())),
            "injury_bad_count",
            "totalinjuries",
            "工伤数不是非负整数",
            "injury count is not a non-negative whole number",
        ),
        (
            ~known_mine,
            "injury_mine_not_in_employment",
            "mineid",
            "该矿山不在就业文件中，没有工时可作暴露量",
            "the mine is not in the employment file, so it has no hours as exposure",
        ),
        (
            pd.Series(~keys.isin(known), index=frame.index),
            "injury_quarter_not_in_employment",
            "quarter",
            "该矿山在这个季度没有就业记录，没有工时可作暴露量",
            "the mine has no employment row for this quarter, so it has no hours as exposure",
        ),
    ]
    bad = pd.Series(False, index=frame.index)
    for mask, code, column, reason_zh, reason_en in checks:
        _reject_rows(report, frame, mask & ~bad, code, column, reason_zh, reason_en, units)
        bad |= mask
    duplicated = ~bad & frame.duplicated(["mineid", "quarter_index"], keep="first")
    _reject_rows(
        report,
        frame,
        duplicated,
        "injury_duplicate",
        "quarter",
        "同一矿山季度重复出现",
        "the mine-quarter appears more than once",
        units,
    )
    placed = frame[~bad & ~duplicated]
    repeats = counts[placed.index].astype("int64").to_numpy()
    report.units_placed[file] += float(repeats.sum())
    return _incident_rows(
        placed["mineid"].to_numpy(), placed["quarter_index"].to_numpy(dtype="int64"), repeats
    )


def _incident_rows(
    mine_ids: np.ndarray, quarter_index: np.ndarray, repeats: np.ndarray
) -> pd.DataFrame:
    mines = np.repeat(mine_ids, repeats)
    index = pd.Series(np.repeat(quarter_index, repeats))
    # Number the injuries of each mine-quarter 1, 2, ... to build stable ids.
    ordinal = (
        pd.Series(np.ones(len(mines), dtype="int64")).groupby([mines, index.to_numpy()]).cumsum()
    )
    labels = [quarters.label_of(int(value)) for value in index]
    incident_ids = [
        f"MSHA-{mine}-{label}-{number:03d}"
        for mine, label, number in zip(mines, labels, ordinal, strict=True)
    ]
    return canonical_frame(
        "incidents",
        {
            "incident_id": incident_ids,
            "employer_id": mines,
            "occurred_on": quarters.middle_of(index),
            "accident_type": "20",
            "severity": "minor",
            "lost_workdays": pd.array([pd.NA] * len(mines), dtype="Int64"),
            "disability_grade": pd.array([pd.NA] * len(mines), dtype="Int64"),
            "is_commuting": False,
            "source_event_code": pd.Series([pd.NA] * len(mines), dtype="str"),
        },
    )


def _decode(raw: pd.DataFrame, report: AdapterReport) -> ViolationCounts:
    file = raw.attrs["file"]
    report.rows_read[file] += len(raw)
    index = quarters.index_of_decimal_quarter(raw["quarter"])
    bad = index.isna() | ~_valid_mine_id(raw["mineid"])
    _reject_rows(
        report,
        raw,
        bad,
        "violations_bad_key",
        "quarter",
        "矿山编号或季度无效",
        "mine id or quarter is invalid",
    )
    return decode_violations(raw[~bad], index[~bad].astype("int64"), file, report)


def _place_violations(
    decoded: ViolationCounts, mines: set[str], report: AdapterReport
) -> pd.DataFrame:
    counts = decoded.counts
    file = VIOLATIONS_FILE
    category = counts["section"].map(lambda section: codemaps.hazard_category_of_section(section))
    unmapped = category.isna()
    for section, total in counts[unmapped].groupby("section")["violations"].sum().items():
        report.reject(
            "violations_unmapped_section",
            RowError(
                file,
                None,
                f"sp{section}.c.lag.all",
                str(section),
                "该 CFR 条款没有隐患类别映射",
                "the CFR section has no hazard-category mapping",
            ),
            float(total),
        )
    outside = ~counts["mineid"].isin(mines) & ~unmapped
    for mine, total in counts[outside].groupby("mineid")["violations"].sum().items():
        report.reject(
            "violations_outside_employment",
            RowError(
                file,
                None,
                "mineid",
                str(mine),
                "该矿山不在就业文件中",
                "the mine is not in the employment file",
            ),
            float(total),
        )
    placeable = counts[~unmapped & ~outside].assign(hazard_category=category[~unmapped & ~outside])
    report.units_placed[file] -= float(counts.loc[unmapped | outside, "violations"].sum())
    return _finding_rows(placeable)


def _finding_rows(counts: pd.DataFrame) -> pd.DataFrame:
    repeats = counts["violations"].to_numpy(dtype="int64")
    position = np.arange(repeats.sum()) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    # The first ``significant_substantial`` violations of a section-quarter are the major hazards.
    major = position < np.repeat(counts["significant_substantial"].to_numpy(dtype="int64"), repeats)
    mines = np.repeat(counts["mineid"].to_numpy(), repeats)
    index = np.repeat(counts["quarter_index"].to_numpy(dtype="int64"), repeats)
    sections = np.repeat(counts["section"].to_numpy(), repeats)
    labels = [quarters.label_of(int(value)) for value in index]
    finding_ids = [
        f"MSHA-{mine}-{label}-{section}-{number + 1:03d}"
        for mine, label, section, number in zip(mines, labels, sections, position, strict=True)
    ]
    return canonical_frame(
        "hazard_findings",
        {
            "finding_id": finding_ids,
            "employer_id": mines,
            "inspected_on": quarters.middle_of(pd.Series(index)),
            "hazard_category": np.repeat(counts["hazard_category"].to_numpy(), repeats),
            "hazard_level": np.where(major, "major", "general"),
            "rectified_on": pd.Series(pd.NaT, index=range(len(mines)), dtype="datetime64[us]"),
            "description": [f"30 CFR {section}" for section in sections],
        },
    )


def sample_mine_ids(directory: Path, count: int) -> list[str]:
    """Return ``count`` mine ids spread evenly over the sorted ids of the employment file.

    An MSHA mine id starts with a two-digit state code (01 Alabama, 15 Kentucky,
    46 West Virginia ...), so an even spread over sorted ids draws mines from
    every state in proportion. The same folder gives the same sample.
    """
    ids = sorted(
        _read_csv(directory / EMPLOYMENT_FILE, ("mineid",), None)["mineid"]
        .dropna()
        .astype(str)
        .unique()
    )
    if count >= len(ids):
        return ids
    positions = np.linspace(0, len(ids) - 1, count).round().astype(int)
    return [ids[position] for position in positions]
