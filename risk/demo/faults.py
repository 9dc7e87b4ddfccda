"""Data-entry faults injected into the export frames for ingest to catch.

About ``fault_rate`` of the rows of each faulted table get one fault, and every
fault kind of a table appears at least once when the table has enough rows.
Each fault is logged with the file, the row number a spreadsheet shows (the
header is row 1) and the column, so a test can check that ingest rejects
exactly these rows. A duplicated recognition number logs both of its rows.

The employers file gets no faults on purpose: a rejected employer would make
every row that refers to it fail as well, and the log could no longer name the
rejected rows one by one. Credit-code typos go into the referring tables instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from risk.credit_code import ALPHABET
from risk.demo import identifiers
from risk.demo.writer import EXPORT_FILES

FAULT_KINDS = {
    "headcounts": ("bad_credit_code",),
    "incidents": (
        "bad_credit_code",
        "impossible_date",
        "unknown_accident_type",
        "minor_with_long_absence",
        "unknown_employer",
        "duplicate_recognition_number",
    ),
    "hazard_findings": ("bad_credit_code", "impossible_date", "id_number_in_description"),
}
FAULT_LOG_COLUMNS = ["file", "row", "column", "kind", "value"]

_CODE_COLUMN = "统一社会信用代码"
_DATE_COLUMN = {"incidents": "事故发生日期", "hazard_findings": "检查日期"}
_IMPOSSIBLE_MONTH_DAYS = ((2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31))
_UNKNOWN_ACCIDENT_TEXT = np.array(["工作中受伤", "意外", "碰伤", "扭伤", "不慎受伤"])


def inject_faults(
    frames: dict[str, pd.DataFrame],
    rng: np.random.Generator,
    fault_rate: float,
    known_employer_ids: np.ndarray,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Return copies of the export frames with faults, and the log of every fault."""
    faulted = dict(frames)
    logs = []
    for table, kinds in FAULT_KINDS.items():
        frame = frames[table].copy()
        rows = _pick_rows(rng, len(frame), fault_rate, len(kinds))
        assigned = np.array(kinds)[np.arange(len(rows)) % len(kinds)]
        file_name = EXPORT_FILES[table][0]
        for kind in kinds:
            chosen = rows[assigned == kind]
            if len(chosen) == 0:
                continue
            if kind == "duplicate_recognition_number":
                frame, log = _append_duplicates(frame, chosen)
            else:
                column, values = _FAULTS[kind](frame, chosen, rng, table, known_employer_ids)
                frame.loc[chosen, column] = values
                log = pd.DataFrame({"row": chosen + 2, "column": column, "value": values})
            logs.append(log.assign(file=file_name, kind=kind))
        faulted[table] = frame
    log = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=FAULT_LOG_COLUMNS)
    return faulted, log[FAULT_LOG_COLUMNS].sort_values(["file", "row"], ignore_index=True)


def _pick_rows(
    rng: np.random.Generator, n_rows: int, fault_rate: float, n_kinds: int
) -> np.ndarray:
    count = int(round(fault_rate * n_rows))
    # Every kind appears at least once, unless the table is too small to spare the rows.
    if n_rows >= 20 * n_kinds:
        count = max(count, n_kinds)
    return np.sort(rng.choice(n_rows, size=min(count, n_rows), replace=False))


def _append_duplicates(frame: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    # A double export: the same recognition appears twice, the copy at the end of the file.
    # Both rows are logged, because nothing marks either one as the right one.
    copies = frame.iloc[rows]
    new_rows = np.arange(len(frame), len(frame) + len(rows))
    combined = pd.concat([frame, copies], ignore_index=True)
    numbers = copies["工伤认定书编号"].to_numpy()
    log = pd.DataFrame({
        "row": np.concatenate([rows, new_rows]) + 2,
        "column": "工伤认定书编号",
        "value": np.concatenate([numbers, numbers]),
    })
    return combined, log


def _bad_credit_code(
    frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator, table: str, known: np.ndarray
) -> tuple[str, np.ndarray]:
    codes = frame.loc[rows, _CODE_COLUMN].to_numpy().astype("<U18")
    position = np.array([ALPHABET.index(code[17]) for code in codes])
    wrong = np.array(list(ALPHABET))[(position + rng.integers(1, 31, size=len(rows))) % 31]
    return _CODE_COLUMN, np.char.add(codes.astype("<U17"), wrong)


def _impossible_date(
    frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator, table: str, known: np.ndarray
) -> tuple[str, np.ndarray]:
    # Keep the year and the style of the original: 2023-02-30, 2023年2月30日 or 2023/2/30.
    column = _DATE_COLUMN[table]
    original = frame.loc[rows, column].to_numpy().astype(str)
    picks = rng.integers(0, len(_IMPOSSIBLE_MONTH_DAYS), len(rows))
    values = []
    for text, pick in zip(original, picks, strict=True):
        month, day = _IMPOSSIBLE_MONTH_DAYS[pick]
        year = text[:4]
        if "年" in text:
            values.append(f"{year}年{month}月{day}日")
        elif "/" in text:
            values.append(f"{year}/{month}/{day}")
        else:
            values.append(f"{year}-{month:02d}-{day:02d}")
    return column, np.array(values)


def _unknown_accident_type(
    frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator, table: str, known: np.ndarray
) -> tuple[str, np.ndarray]:
    pick = rng.integers(0, len(_UNKNOWN_ACCIDENT_TEXT), len(rows))
    return "事故类别", _UNKNOWN_ACCIDENT_TEXT[pick]


def _minor_with_long_absence(
    frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator, table: str, known: np.ndarray
) -> tuple[str, np.ndarray]:
    # GB 6441 makes 105 or more lost workdays a serious injury, so 轻伤 with 200 days conflicts.
    frame.loc[rows, "伤害程度"] = "轻伤"
    return "停工留薪期(天)", rng.integers(150, 301, size=len(rows)).astype(str)


def _unknown_employer(
    frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator, table: str, known: np.ndarray
) -> tuple[str, np.ndarray]:
    # A well-formed code with a correct check character that no employer in the export has.
    districts = np.array([code[2:8] for code in frame.loc[rows, _CODE_COLUMN].astype(str)])
    codes = identifiers.make_credit_codes(rng, districts, np.full(len(rows), "91"))
    while np.isin(codes, known).any():
        codes = identifiers.make_credit_codes(rng, districts, np.full(len(rows), "91"))
    return _CODE_COLUMN, codes


def _id_number_in_description(
    frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator, table: str, known: np.ndarray
) -> tuple[str, np.ndarray]:
    age = rng.integers(0, 40 * 365, len(rows)).astype("timedelta64[D]")
    births = np.datetime64("1970-01-01") + age
    numbers = identifiers.make_resident_ids(rng, births)
    described = frame.loc[rows, "隐患描述"].to_numpy().astype(str)
    return "隐患描述", np.char.add(np.char.add(described, "，责任人身份证号"), numbers)


_FAULTS = {
    "bad_credit_code": _bad_credit_code,
    "impossible_date": _impossible_date,
    "unknown_accident_type": _unknown_accident_type,
    "minor_with_long_absence": _minor_with_long_absence,
    "unknown_employer": _unknown_employer,
    "id_number_in_description": _id_number_in_description,
}
