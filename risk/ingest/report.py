"""Error reports and reject files: problems as row errors, and both as CSV files for Excel.

Both files are UTF-8 with a BOM so that Excel opens them with the right
encoding. Resident ID numbers are masked in every value written, and a value
that Excel would run as a formula is prefixed with an apostrophe.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from risk.errors import RowError
from risk.ingest.privacy import mask_id_numbers

if TYPE_CHECKING:
    from risk.ingest.exports import ParsedExport

ERROR_REPORT_COLUMNS = [
    "文件 file",
    "行号 row",
    "列 column",
    "值 value",
    "原因 reason_zh",
    "原因（英文） reason_en",
]
REJECT_FILE_COLUMNS = ["文件 file", "行号 row", "原因 reason_zh", "原因（英文） reason_en"]
_FORMULA_START = re.compile(r"^(?:[=+@\t\r]|-(?![0-9.]))")


def problems_to_errors(export: ParsedExport) -> list[RowError]:
    """Return the file's errors and problems as row errors, in row then column order.

    Each error names the original header and carries the cell as it was read,
    with ID numbers masked.
    """
    errors = list(export.file_errors)
    problems = export.problems.reset_index(drop=True)
    if problems.empty:
        return errors

    values = _raw_values(export).tolist()
    positions = {name: position for position, name in enumerate(export.headers)}
    sort_keys = pd.DataFrame(
        {
            "row": problems["row"].to_numpy(),
            "position": problems["column"].map(positions).fillna(-1).to_numpy(),
        }
    )
    order = sort_keys.sort_values(["row", "position"], kind="stable").index
    rows = problems["row"].tolist()
    columns = problems["column"].tolist()
    reasons_zh = problems["reason_zh"].tolist()
    reasons_en = problems["reason_en"].tolist()
    for i in order:
        value = values[i]
        errors.append(
            RowError(
                export.name,
                int(rows[i]),
                None if columns[i] is None else export.headers.get(columns[i], columns[i]),
                None if value is None else mask_id_numbers(str(value)),
                reasons_zh[i],
                reasons_en[i],
            )
        )
    return errors


def _raw_values(export: ParsedExport) -> pd.Series:
    # The cell as read is what the user can find in the file; fall back to the parsed value.
    problems = export.problems.reset_index(drop=True)
    values = problems["value"].astype(object).copy()
    for column, group in problems.groupby("column", sort=False):
        header = export.headers.get(str(column))
        if header is not None and header in export.raw.columns:
            cells = export.raw[header].reindex(group["row"].to_numpy()).to_numpy(dtype=object)
            values.loc[group.index] = cells
    return values.where(values.notna(), None)


def rejected_rows(export: ParsedExport) -> pd.DataFrame:
    """Return the file's rejected rows with their reasons and original cells.

    The columns are ``REJECT_FILE_COLUMNS`` followed by the file's kept
    headers; ID numbers in the cells are masked.
    """
    problems = export.problems
    if problems.empty or export.raw.empty:
        return pd.DataFrame(columns=REJECT_FILE_COLUMNS)

    reasons = problems.groupby("row", sort=True).agg(
        reason_zh=("reason_zh", lambda texts: "；".join(dict.fromkeys(texts))),
        reason_en=("reason_en", lambda texts: "; ".join(dict.fromkeys(texts))),
    )
    cells = export.raw.reindex(reasons.index).astype(object)
    cells = cells.map(lambda cell: mask_id_numbers(cell) if isinstance(cell, str) else cell)
    head = pd.DataFrame(
        {
            REJECT_FILE_COLUMNS[0]: export.name,
            REJECT_FILE_COLUMNS[1]: reasons.index.to_numpy(),
            REJECT_FILE_COLUMNS[2]: reasons["reason_zh"].to_numpy(),
            REJECT_FILE_COLUMNS[3]: reasons["reason_en"].to_numpy(),
        },
        index=reasons.index,
    )
    return pd.concat([head, cells], axis=1).reset_index(drop=True)


def write_error_report(errors: list[RowError], path: Path) -> Path:
    """Write ``errors`` as a CSV error report (UTF-8 with BOM) and return its path."""
    frame = pd.DataFrame(
        [
            (error.file, error.row, error.column, error.value, error.reason_zh, error.reason_en)
            for error in errors
        ],
        columns=ERROR_REPORT_COLUMNS,
    )
    frame[ERROR_REPORT_COLUMNS[1]] = frame[ERROR_REPORT_COLUMNS[1]].astype("Int64")
    return _write_csv(frame, path)


def write_rejected_rows(rejected: pd.DataFrame, path: Path) -> Path:
    """Write rejected rows (as from :func:`rejected_rows`) as CSV with BOM; return the path."""
    return _write_csv(rejected, path)


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    safe = frame.astype(object).map(_escape_cell)
    safe.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _escape_cell(cell: object) -> object:
    if isinstance(cell, str):
        cell = mask_id_numbers(cell)
        return "'" + cell if _FORMULA_START.match(cell) else cell
    return cell
