"""Per-quarter violation counts decoded from the panel's ``*.c.lag.all`` columns.

What the columns contain was checked on the 2000-2012 copy of the panel
rather than taken from their names, which read "cumulative counts up to the
previous quarter":

* Within a mine, every column is non-increasing from one row to the next:
  31,292 decreases and no increase. A count up to the previous quarter could
  only grow, so each value is a sum over the mine's rows from that row on,
  to the end of the source file: it includes later quarters.
* The difference between a row and the next row of the same mine correlates
  best with that row's own quarter (injuries and hours in the same quarter,
  with mine means removed, correlate 0.036 and 0.062 with it, against 0.022
  and 0.052 for the next quarter), so the difference is the count of the
  row's own quarter.
* Across a gap of missing quarters the difference is no larger than between
  adjacent quarters (mean 2.3 against 3.1), so the sums run over rows, not
  calendar quarters. The last row of a mine that stops before the file ends
  has a value like one quarter's count (mean 1.4), but in the file's final
  quarter the value averages 28, because the source ran to 2016 and this
  copy was cut at 2012: those values include later quarters.
* A blank row makes every earlier row of the mine blank (the sums were taken
  backwards in time and a blank propagated), so blank rows are quarters whose
  counts are unknown, not zero.

So the count of a row's quarter is its value minus the next row's value of the
same mine; a mine's last row keeps its value unless it lies in the file's final
quarter, whose sum cannot be split and is reported. Columns missing for a
section (the source dropped columns that were zero throughout) count as zero.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk.errors import RowError
from risk.public.report import AdapterReport

logger = logging.getLogger(__name__)

_COLUMN = re.compile(
    r"^sp(?P<section>.+?)\.(?:(?P<measure>penaltypoints|sigandsub)\.)?c\.lag\.all$"
)
_MEASURES = {
    None: "violations",
    "sigandsub": "significant_substantial",
    "penaltypoints": "penalty_points",
}


@dataclass(frozen=True)
class ViolationCounts:
    """Decoded counts: one row per mine, quarter and CFR section with any violation.

    ``counts`` has ``mineid``, ``quarter_index`` (year * 4 + quarter - 1),
    ``section``, ``violations``, ``significant_substantial`` and
    ``penalty_points``. ``known_quarters`` has one row per mine and quarter
    whose counts are known, zero or not.
    """

    counts: pd.DataFrame
    known_quarters: pd.DataFrame


def parse_violation_columns(columns: list[str]) -> dict[str, dict[str, str]]:
    """Return ``{section: {measure: column}}`` for every ``sp<section>...c.lag.all`` column."""
    sections: dict[str, dict[str, str]] = {}
    for column in columns:
        match = _COLUMN.match(column)
        if match is None:
            continue
        sections.setdefault(match["section"], {})[_MEASURES[match["measure"]]] = column
    return sections


def decode_violations(
    raw: pd.DataFrame, quarter_index: pd.Series, file: str, report: AdapterReport
) -> ViolationCounts:
    """Decode the backward sums of ``raw`` into per-quarter counts, reporting what cannot be split.

    Parameters
    ----------
    raw : DataFrame
        The violations file as read, with ``mineid`` and the ``sp...`` columns;
        its index is the 0-based data row, used for the reported row numbers.
    quarter_index : Series
        ``year * 4 + quarter - 1`` of each row of ``raw`` (same index); rows
        whose quarter could not be read must already be removed from ``raw``.
    file : str
        The file name written into reported rows.
    report : AdapterReport
        Receives the rejected rows and the violation counts read and placed.
    """
    sections = parse_violation_columns(list(raw.columns))
    frame = (
        raw[["mineid"]].assign(quarter_index=quarter_index).sort_values(["mineid", "quarter_index"])
    )
    order = frame.index
    count_columns = [
        measures["violations"] for measures in sections.values() if "violations" in measures
    ]
    blank = raw.loc[order, count_columns].isna().all(axis=1).to_numpy()

    next_same_mine = frame["mineid"].shift(-1).eq(frame["mineid"]).to_numpy()
    is_last = ~next_same_mine
    final_quarter = int(quarter_index.max())
    open_ended = is_last & (frame["quarter_index"].to_numpy() == final_quarter) & ~blank
    next_blank = next_same_mine & np.roll(blank, -1) & ~blank

    per_measure = {
        measure: _decode_measure(raw, order, sections, measure, next_same_mine)
        for measure in ("violations", "significant_substantial", "penalty_points")
    }
    negative = (per_measure["violations"] < 0).any(axis=1) | (
        per_measure["significant_substantial"] < 0
    ).any(axis=1)
    too_many_major = (per_measure["significant_substantial"] > per_measure["violations"]).any(
        axis=1
    )
    usable = ~blank & ~open_ended & ~next_blank & ~negative & ~too_many_major

    _report_rows(
        report,
        file,
        frame,
        raw.loc[order, count_columns],
        blank,
        open_ended,
        next_blank,
        negative & ~blank,
        too_many_major & ~blank & ~negative,
    )

    section_names = list(sections)
    long = pd.DataFrame(
        {
            "mineid": np.repeat(frame["mineid"].to_numpy()[usable], len(section_names)),
            "quarter_index": np.repeat(
                frame["quarter_index"].to_numpy()[usable], len(section_names)
            ),
            "section": np.tile(section_names, int(usable.sum())),
            **{measure: values[usable].reshape(-1) for measure, values in per_measure.items()},
        }
    )
    long = long[long["violations"] > 0].reset_index(drop=True)
    long["violations"] = long["violations"].astype("int64")
    long["significant_substantial"] = long["significant_substantial"].astype("int64")

    placed = float(long["violations"].sum())
    report.units_placed[file] += placed
    report.units_read[file] += placed + report.units_rejected(file)
    known = frame.loc[usable, ["mineid", "quarter_index"]].reset_index(drop=True)
    logger.info(
        "decoded %d violations in %d known mine-quarters of %s (%d blank, %d open-ended)",
        int(placed),
        len(known),
        file,
        int(blank.sum()),
        int(open_ended.sum()),
    )
    return ViolationCounts(counts=long, known_quarters=known)


def _decode_measure(
    raw: pd.DataFrame,
    order: pd.Index,
    sections: dict[str, dict[str, str]],
    measure: str,
    next_same_mine: np.ndarray,
) -> np.ndarray:
    # One column per section, in the order of ``sections``; a missing column is all zero.
    values = np.column_stack(
        [
            raw.loc[order, columns[measure]].to_numpy(dtype=float)
            if measure in columns
            else np.zeros(len(order))
            for columns in sections.values()
        ]
    )
    following = np.vstack([values[1:], np.zeros((1, values.shape[1]))])
    following[~next_same_mine] = 0.0
    return np.nan_to_num(values - following, nan=0.0)


def _report_rows(
    report: AdapterReport,
    file: str,
    frame: pd.DataFrame,
    counts: pd.DataFrame,
    blank: np.ndarray,
    open_ended: np.ndarray,
    next_blank: np.ndarray,
    negative: np.ndarray,
    too_many_major: np.ndarray,
) -> None:
    totals = counts.sum(axis=1).to_numpy()
    reasons = [
        (
            blank,
            "violations_blank",
            0.0,
            "违规计数为空，该季度违规数未知",
            "violation counts are blank, so the quarter's violations are unknown",
        ),
        (
            open_ended,
            "violations_open_ended",
            None,
            "文件最后一个季度的累计数包含文件之后的季度，无法拆分",
            "the backward sum in the file's final quarter includes quarters after the file ends"
            " and cannot be split",
        ),
        (
            next_blank,
            "violations_next_blank",
            None,
            "下一行违规计数为空，无法求差",
            "the next row of the mine is blank, so the difference cannot be taken",
        ),
        (
            negative,
            "violations_not_cumulative",
            None,
            "累计数随时间增加，与向后累计不符",
            "the backward sum grows over time, which a backward sum cannot do",
        ),
        (
            too_many_major,
            "violations_ss_exceeds_total",
            None,
            "严重违规数超过违规总数",
            "significant-and-substantial violations exceed all violations",
        ),
    ]
    for mask, code, fixed_units, reason_zh, reason_en in reasons:
        for position in np.flatnonzero(mask):
            row_number = int(frame.index[position]) + 2
            units = fixed_units if fixed_units is not None else float(totals[position])
            report.reject(
                code,
                RowError(
                    file,
                    row_number,
                    "sp*.c.lag.all",
                    str(frame["mineid"].iloc[position]),
                    reason_zh,
                    reason_en,
                ),
                units,
            )
