"""An ingest run: parse every file, check across files, then load all or nothing.

Without ``skip_invalid`` a run with any invalid row writes no data and raises
:class:`IngestError` listing every error. With ``skip_invalid`` the valid
rows are loaded and the rest, together with rows that depend on a rejected
employer, are returned as rejected rows. Either way the data and the run's
``ingest_run`` row are written in one transaction; a rejected run records
only its ``ingest_run`` row, with status ``rejected``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, insert

from risk.errors import IngestError, RowError
from risk.ingest.crosscheck import check_duplicate_keys, check_employers_exist
from risk.ingest.exports import ParsedExport, parse_export
from risk.ingest.report import REJECT_FILE_COLUMNS, problems_to_errors, rejected_rows
from risk.store.db import require_current_schema
from risk.store.load import Progress, TableLoad, load_frames
from risk.store.models import IngestRun

logger = logging.getLogger(__name__)

FileProgress = Callable[[Path], None]
"""Called with each file's path once it has been read and validated."""


@dataclass
class IngestResult:
    """The outcome of an ingest run.

    ``rows_loaded`` counts valid rows written per table kind, changed or not;
    ``loads`` counts how many of them were inserted and updated. ``errors``
    lists every problem, and ``rejected`` contains the rejected rows in the
    layout of the reject file (empty unless ``skip_invalid`` dropped rows).
    """

    run_id: int
    status: str
    files: list[str]
    rows_loaded: dict[str, int] = field(default_factory=dict)
    loads: dict[str, TableLoad] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    rejected: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=REJECT_FILE_COLUMNS)
    )

    @property
    def rows_rejected(self) -> int:
        """Rows rejected in this run."""
        return len(self.rejected)


def ingest_files(
    paths: Iterable[str | Path],
    engine: Engine,
    *,
    skip_invalid: bool = False,
    id_scheme: str | None = None,
    on_file: FileProgress | None = None,
    on_chunk: Progress | None = None,
) -> IngestResult:
    """Validate export files and load them into the store in one transaction.

    Parameters
    ----------
    paths : iterable of str or Path
        CSV or XLSX exports; each file's table is recognised from its headers.
    engine : Engine
        The store, migrated to the current schema.
    skip_invalid : bool, default=False
        Load the valid rows and reject the others, instead of rejecting the
        whole run when any row is invalid.
    id_scheme : str, optional
        Identifier scheme of employers without an ``id_scheme`` column, such
        as ``"msha"``; ``"uscc"`` (credit codes, check character verified)
        when None.
    on_file, on_chunk : callable, optional
        Progress callbacks: after each file is validated, and after each
        chunk of rows is written.

    Raises
    ------
    IngestError
        When ``skip_invalid`` is False and any file or row is invalid; its
        ``errors`` list every problem.
    StoreError
        When the store is not migrated to the current schema.
    """
    require_current_schema(engine)
    id_scheme = None if id_scheme is None else id_scheme.strip().casefold()
    started_at = dt.datetime.now(dt.UTC)
    files = [Path(path) for path in paths]
    logger.info("Ingest started: %d file(s)", len(files))

    exports = [_parse_with_progress(path, id_scheme, on_file) for path in files]
    check_duplicate_keys(exports)
    check_employers_exist(exports, engine, id_scheme)
    errors = [error for export in exports for error in problems_to_errors(export)]
    rejected = _rejected(exports)

    if errors and not skip_invalid:
        run_id = _record_run(engine, files, started_at, 0, len(rejected), "rejected")
        logger.info("Ingest run %d rejected: %d error(s), nothing loaded", run_id, len(errors))
        raise IngestError(_summary(errors, len(exports)), errors)

    frames = _valid_frames(exports)
    del exports
    with engine.begin() as connection:
        loads = load_frames(connection, frames, progress=on_chunk)
        loaded = {kind: len(frame) for kind, frame in frames.items()}
        status = "partial" if errors else "loaded"
        run_id = _insert_run(
            connection, files, started_at, sum(loaded.values()), len(rejected), status
        )

    logger.info(
        "Ingest run %d %s: %s rows loaded, %d rejected",
        run_id,
        status,
        loaded,
        len(rejected),
    )
    return IngestResult(
        run_id, status, [str(path) for path in files], loaded, loads, errors, rejected
    )


def _parse_with_progress(
    path: Path, id_scheme: str | None, on_file: FileProgress | None
) -> ParsedExport:
    export = parse_export(path, id_scheme)
    if on_file is not None:
        on_file(path)
    return export


def _rejected(exports: list[ParsedExport]) -> pd.DataFrame:
    parts = [rejected_rows(export) for export in exports]
    parts = [part for part in parts if not part.empty]
    if not parts:
        return pd.DataFrame(columns=REJECT_FILE_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def _valid_frames(exports: list[ParsedExport]) -> dict[str, pd.DataFrame]:
    by_kind: dict[str, list[pd.DataFrame]] = {}
    for export in exports:
        if export.kind is not None and not export.file_errors:
            by_kind.setdefault(export.kind, []).append(export.valid_frame())
    return {
        kind: parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        for kind, parts in by_kind.items()
    }


def _summary(errors: list[RowError], file_count: int) -> str:
    files = len({error.file for error in errors})
    return (
        f"导入被拒绝：{files}/{file_count} 个文件中共有 {len(errors)} 个错误，未写入任何数据"
        f" / ingest rejected: {len(errors)} error(s) in {files} of {file_count} file(s);"
        " nothing was loaded"
    )


def _record_run(
    engine: Engine,
    files: list[Path],
    started_at: dt.datetime,
    loaded: int,
    rejected: int,
    status: str,
) -> int:
    with engine.begin() as connection:
        return _insert_run(connection, files, started_at, loaded, rejected, status)


def _insert_run(
    connection: Connection,
    files: list[Path],
    started_at: dt.datetime,
    loaded: int,
    rejected: int,
    status: str,
) -> int:
    result = connection.execute(
        insert(IngestRun).values(
            started_at=started_at,
            finished_at=dt.datetime.now(dt.UTC),
            files=json.dumps([str(path) for path in files], ensure_ascii=False),
            rows_loaded=loaded,
            rows_rejected=rejected,
            status=status,
        )
    )
    return int(result.inserted_primary_key[0])
