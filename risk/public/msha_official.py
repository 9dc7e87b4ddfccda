"""Build the mine-quarter panel files from MSHA's official Open Government Data files.

MSHA publishes ``Mines.txt``, ``MinesProdQuarterly.txt`` and ``Accidents.txt``
as pipe-delimited Latin-1 text. :func:`build_panel_files` turns them into the
two panel files that :func:`risk.public.msha.read_msha_panel` reads, for the
same scope as the shared panel (underground coal mines):

* employment: hours worked, average employees and coal production summed
  over a mine's subunits in each calendar quarter, producing quarters only;
* injuries: accident reports whose degree of injury is 01-06 (fatality,
  permanent disability, days away, days restricted, or neither but
  recordable), counted per mine and calendar quarter. Codes 00 (accident
  without injury), 07 (occupational illness) and higher are not injuries to
  the mine's employees and are counted as excluded.

Violations are not built here: the shared panel's violation file is a
processed product, and the official Violations file is not among the
downloads.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from risk.errors import InputDataError, RowError
from risk.public.msha import EMPLOYMENT_FILE, INJURIES_FILE
from risk.public.report import AdapterReport

logger = logging.getLogger(__name__)

INJURY_DEGREES = frozenset({1, 2, 3, 4, 5, 6})
# NOTE: these column names follow MSHA's definition files as published; the tests build
# files in this layout from the shared panel, because no real download was available here.
_MINES_COLUMNS = ("MINE_ID", "CURRENT_MINE_NAME", "COAL_METAL_IND", "CURRENT_MINE_TYPE", "STATE")
_PRODUCTION_COLUMNS = (
    "MINE_ID",
    "CAL_YR",
    "CAL_QTR",
    "HOURS_WORKED",
    "AVG_EMPLOYEE_CNT",
    "COAL_PRODUCTION",
)
_ACCIDENT_COLUMNS = ("MINE_ID", "CAL_YR", "CAL_QTR", "DEGREE_INJURY_CD")


def read_official_file(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read one pipe-delimited MSHA file as text, checking its required columns."""
    if not path.exists():
        raise InputDataError(f"缺少文件 {path} / missing file {str(path)!r}")
    frame = pd.read_csv(path, sep="|", dtype=str, keep_default_na=False, encoding="latin-1")
    frame.columns = [column.strip().strip('"') for column in frame.columns]
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
    # MSHA ids are 7 digits with leading zeros; pad any id that was written as a number.
    frame["MINE_ID"] = frame["MINE_ID"].str.strip().str.zfill(7)
    return frame


def build_panel_files(
    mines_path: Path, production_path: Path, accidents_path: Path, out_dir: Path
) -> AdapterReport:
    """Write ``mine_quarter_employment.csv`` and ``mine_quarter_injuries.csv`` into ``out_dir``.

    Returns a report that counts the rows read and the rows excluded by scope.
    """
    report = AdapterReport(source="msha official files")
    mines = read_official_file(mines_path, _MINES_COLUMNS)
    production = read_official_file(production_path, _PRODUCTION_COLUMNS)
    accidents = read_official_file(accidents_path, _ACCIDENT_COLUMNS)
    for path, frame in (
        (mines_path, mines),
        (production_path, production),
        (accidents_path, accidents),
    ):
        report.rows_read[path.name] += len(frame)

    in_scope = mines[
        (mines["COAL_METAL_IND"].str.strip() == "C")
        & (mines["CURRENT_MINE_TYPE"].str.strip() == "Underground")
    ].drop_duplicates("MINE_ID", keep="last")
    report.excluded["mine_not_underground_coal"] += len(mines) - len(in_scope)

    employment = _employment(production, in_scope, report)
    injuries = _injuries(accidents, set(in_scope["MINE_ID"]), report)
    out_dir.mkdir(parents=True, exist_ok=True)
    employment.to_csv(out_dir / EMPLOYMENT_FILE, index=False)
    injuries.to_csv(out_dir / INJURIES_FILE, index=False)
    logger.info(
        "built the MSHA panel files in %s: %d mine-quarters, %d injury mine-quarters",
        out_dir,
        len(employment),
        len(injuries),
    )
    return report


def _quarter(frame: pd.DataFrame) -> pd.Series:
    year = pd.to_numeric(frame["CAL_YR"], errors="coerce")
    quarter = pd.to_numeric(frame["CAL_QTR"], errors="coerce")
    # The panel's decimal year: 2000.0 is the first quarter, 2000.75 the fourth.
    return (year + (quarter - 1) / 4).where(quarter.isin([1, 2, 3, 4]))


def _employment(
    production: pd.DataFrame, mines: pd.DataFrame, report: AdapterReport
) -> pd.DataFrame:
    rows = production[production["MINE_ID"].isin(set(mines["MINE_ID"]))]
    report.excluded["production_other_mine"] += len(production) - len(rows)
    numbers = rows.assign(
        quarter=_quarter(rows),
        hours_qtr=pd.to_numeric(rows["HOURS_WORKED"], errors="coerce"),
        employment_qtr=pd.to_numeric(rows["AVG_EMPLOYEE_CNT"], errors="coerce"),
        coal_prod_qtr=pd.to_numeric(rows["COAL_PRODUCTION"], errors="coerce"),
    )
    summed = numbers.groupby(["MINE_ID", "quarter"], as_index=False)[
        ["hours_qtr", "employment_qtr", "coal_prod_qtr"]
    ].sum(min_count=1)
    producing = summed[summed["hours_qtr"] > 0]
    report.excluded["production_quarter_without_hours"] += len(summed) - len(producing)
    attributes = mines.rename(
        columns={
            "MINE_ID": "mineid",
            "CURRENT_MINE_NAME": "minename",
            "COAL_METAL_IND": "coalcormetalmmine",
            "CURRENT_MINE_TYPE": "minetype",
            "STATE": "stateabbreviation",
        }
    )[["mineid", "minename", "coalcormetalmmine", "minetype", "stateabbreviation"]]
    panel = producing.rename(columns={"MINE_ID": "mineid"}).merge(
        attributes, on="mineid", how="left"
    )
    panel["year"] = panel["quarter"].floordiv(1).astype("int64")
    return panel.sort_values(["mineid", "quarter"]).reset_index(drop=True)


def _injuries(accidents: pd.DataFrame, mine_ids: set[str], report: AdapterReport) -> pd.DataFrame:
    rows = accidents[accidents["MINE_ID"].isin(mine_ids)]
    report.excluded["accident_other_mine"] += len(accidents) - len(rows)
    degree = pd.to_numeric(rows["DEGREE_INJURY_CD"], errors="coerce")
    injured = rows[degree.isin(INJURY_DEGREES)]
    report.excluded["accident_without_employee_injury"] += len(rows) - len(injured)
    counted = injured.assign(quarter=_quarter(injured))
    # A report without a valid quarter keeps an empty quarter so that the panel adapter reports it.
    grouped = counted.groupby(["MINE_ID", "quarter"], as_index=False, dropna=False).size()
    return grouped.rename(columns={"MINE_ID": "mineid", "size": "totalinjuries"})[
        ["mineid", "quarter", "totalinjuries"]
    ]
