"""One export file: read, recognise, drop personal data, parse and validate.

:func:`parse_export` does everything that needs only the file itself. Checks
that look across files or at the store live in :mod:`risk.ingest.crosscheck`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from risk.errors import RowError
from risk.ingest import headers as hm
from risk.ingest import privacy
from risk.ingest.readers import RawTable, ReadError, read_table
from risk.ingest.report import problems_to_errors
from risk.ingest.tables import TEXT_COLUMNS, build_frame, to_contract_dtypes
from risk.schema import PROBLEM_COLUMNS, credit_code_valid, validate_table

logger = logging.getLogger(__name__)

ID_NUMBER_REASON = (
    "含有居民身份证号码；个人信息不得导入，请删除后重新导出",
    "contains a resident ID number; personal data must not be imported, remove it and export again",
)


@dataclass
class ParsedExport:
    """One export file after parsing and validation.

    ``frame`` is the canonical frame of every data row, indexed by spreadsheet
    row number, with NA where a cell failed to parse. ``raw`` contains the kept
    cells as read, under their original headers, for error reports.
    ``headers`` maps each canonical column to its original header.
    ``problems`` lists the problems of cells and rows (columns ``PROBLEM_COLUMNS``),
    and ``file_errors`` the errors about the whole file (unreadable, unrecognised
    headers).
    """

    path: Path
    kind: str | None
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    raw: pd.DataFrame = field(default_factory=pd.DataFrame)
    headers: dict[str, str] = field(default_factory=dict)
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))
    file_errors: list[RowError] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The file as reported to users: the path as given."""
        return str(self.path)

    def invalid_rows(self) -> pd.Index:
        """Return the row numbers that have at least one problem."""
        return pd.Index(self.problems["row"].unique(), dtype="int64")

    def valid_frame(self) -> pd.DataFrame:
        """Return the rows without problems, cast to the contract dtypes."""
        if self.kind is None or self.file_errors:
            return pd.DataFrame()
        valid = self.frame.drop(index=self.invalid_rows(), errors="ignore")
        return to_contract_dtypes(self.kind, valid)

    def add_problems(self, problems: pd.DataFrame) -> None:
        """Append problems found by a later check."""
        if not problems.empty:
            self.problems = pd.concat([self.problems, problems], ignore_index=True)


def parse_export(path: Path, id_scheme: str | None = None) -> ParsedExport:
    """Read and validate one export file; every problem found is recorded, none raised."""
    id_scheme = None if id_scheme is None else id_scheme.strip().casefold()
    try:
        table = read_table(path)
    except ReadError as exc:
        return ParsedExport(path, None, file_errors=exc.errors)

    match = hm.recognize_kind(table.headers)
    if match is None:
        return ParsedExport(path, None, file_errors=[_unrecognised(path, table.headers)])
    duplicates = hm.duplicate_columns(table.headers, match)
    if duplicates:
        return ParsedExport(path, match.kind, file_errors=[_duplicated(path, duplicates)])

    dropped = privacy.personal_data_columns(table.headers, match.kind)
    privacy.log_dropped_columns(str(path), len(dropped))
    raw, cells = _kept_cells(table, match, dropped)
    del table

    frame, parse_problems = build_frame(match.kind, cells, raw.index, id_scheme)
    schema_problems = validate_table(match.kind, frame)
    export = ParsedExport(path, match.kind, frame, raw, match.columns)
    export.add_problems(parse_problems)
    export.add_problems(_without_parse_failures(schema_problems, parse_problems))
    export.add_problems(_id_number_problems(match.kind, frame))
    logger.info(
        "Parsed %s as %s: %d rows, %d with problems",
        path,
        match.kind,
        len(frame),
        len(export.invalid_rows()),
    )
    return export


def _kept_cells(
    table: RawTable, match: hm.HeaderMatch, dropped: list[int]
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    position_of = {header: position for position, header in enumerate(table.headers)}
    kept = {
        name: f"c{position_of[header]}"
        for name, header in match.columns.items()
        if position_of[header] not in dropped
    }
    mapped = {position_of[header] for header in match.columns.values()}
    ignored = [h for i, h in enumerate(table.headers) if i not in dropped and i not in mapped]
    if ignored:
        logger.info("Ignored %d unknown column(s) in %s: %s", len(ignored), table.path, ignored[:5])
    raw = table.frame[list(kept.values())]
    raw.columns = [match.columns[name] for name in kept]
    cells = {name: table.frame[column] for name, column in kept.items()}
    return raw, cells


def _without_parse_failures(schema: pd.DataFrame, parsed: pd.DataFrame) -> pd.DataFrame:
    # A cell that failed to parse is NA, and the schema would report it again as missing.
    if parsed.empty or schema.empty:
        return schema
    failed = pd.MultiIndex.from_frame(parsed[["row", "column"]])
    return schema[~pd.MultiIndex.from_frame(schema[["row", "column"]]).isin(failed)]


def _id_number_problems(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    problems = []
    for column in TEXT_COLUMNS[kind]:
        found = privacy.contains_id_number(frame[column])
        if column == "employer_id" and found.any():
            # A valid credit code is an employer's identifier, whatever digits it has.
            found[found] = ~credit_code_valid(frame.loc[found, column]).to_numpy()
        if found.any():
            rows = frame.index[found.to_numpy()]
            problems.append(
                pd.DataFrame(
                    {
                        "row": rows.to_numpy(dtype="int64"),
                        "column": column,
                        "value": None,
                        "reason_zh": ID_NUMBER_REASON[0],
                        "reason_en": ID_NUMBER_REASON[1],
                    },
                    columns=PROBLEM_COLUMNS,
                )
            )
    return pd.concat(problems, ignore_index=True) if problems else pd.DataFrame()


def _unrecognised(path: Path, headers: list[str]) -> RowError:
    closest = hm.closest_kind(headers)
    missing = [f"{hm.canonical_header(closest.kind, name)} ({name})" for name in closest.missing]
    shown = "、".join(headers[:8]) + ("…" if len(headers) > 8 else "")
    return RowError(
        str(path),
        1,
        None,
        shown,
        f"无法从表头识别表类型；最接近「{closest.kind}」，但缺少列：{'、'.join(missing)}",
        f"cannot recognise the table from its headers; the closest is {closest.kind!r},"
        f" which also needs the columns {', '.join(missing)}",
    )


def _duplicated(path: Path, groups: list[list[str]]) -> RowError:
    shown = "; ".join(" = ".join(group) for group in groups)
    return RowError(
        str(path),
        1,
        None,
        shown,
        "多列对应同一字段，请只保留一列",
        "several columns map to the same field; keep only one of them",
    )


def read_export(
    path: str | Path, id_scheme: str | None = None
) -> tuple[str | None, pd.DataFrame, list[RowError]]:
    """Read one export file into its canonical frame, without a database.

    Parameters
    ----------
    path : str or Path
        A CSV (UTF-8, UTF-8 with BOM, UTF-16 or GB18030) or XLSX file.
    id_scheme : str, optional
        Identifier scheme of employers, for employer files without an
        ``id_scheme`` column; ``"uscc"`` (credit codes) when None.

    Returns
    -------
    kind : str or None
        The table kind recognised from the headers (``"employers"``,
        ``"incidents"`` ...), or None when the file was not recognised.
    frame : DataFrame
        The valid rows in the contract's columns and dtypes; rows with
        errors are left out.
    errors : list of RowError
        Every problem found in the file. Checks that need other files or the
        store (unknown employers) are not run here.
    """
    export = parse_export(Path(path), id_scheme)
    return export.kind, export.valid_frame(), problems_to_errors(export)
