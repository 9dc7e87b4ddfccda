"""Read the canonical tables out of the store.

PostgreSQL tables are streamed with ``COPY ... TO STDOUT`` as CSV and parsed by
Arrow's CSV reader. SQLite tables are fetched in chunks through the DBAPI cursor
and turned into Arrow arrays column by column, which avoids the per-cell work
that makes ``pandas.read_sql`` slow on millions of rows.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Engine

from risk.errors import StoreError
from risk.store.db import require_current_schema
from risk.tables import CanonicalTables, canonical_frame

logger = logging.getLogger(__name__)

CHUNK_ROWS = 200_000

# Store table and columns behind each canonical frame, with the Arrow type read into.
_SOURCES: dict[str, tuple[str, dict[str, pa.DataType]]] = {
    "employers": (
        "employer",
        {
            "employer_id": pa.string(),
            "id_scheme": pa.string(),
            "name": pa.string(),
            "industry_code": pa.string(),
            "district_code": pa.string(),
        },
    ),
    "headcounts": (
        "employer_headcount",
        {
            "employer_id": pa.string(),
            "year": pa.int64(),
            "insured_headcount": pa.int64(),
            "hours_worked": pa.float64(),
        },
    ),
    "incidents": (
        "incident",
        {
            "incident_id": pa.string(),
            "employer_id": pa.string(),
            "occurred_on": pa.date32(),
            "accident_type": pa.string(),
            "severity": pa.string(),
            "lost_workdays": pa.int64(),
            "disability_grade": pa.int64(),
            "is_commuting": pa.bool_(),
            "source_event_code": pa.string(),
        },
    ),
    "hazard_findings": (
        "hazard_finding",
        {
            "finding_id": pa.string(),
            "employer_id": pa.string(),
            "inspected_on": pa.date32(),
            "hazard_category": pa.string(),
            "hazard_level": pa.string(),
            "rectified_on": pa.date32(),
            "description": pa.string(),
        },
    ),
    "training_records": (
        "training_record",
        {
            "record_id": pa.string(),
            "employer_id": pa.string(),
            "course_id": pa.string(),
            "delivered_on": pa.date32(),
            "attendees": pa.int64(),
        },
    ),
}


def _to_type(values: pa.Array | pa.ChunkedArray, target: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """Cast one column to ``target``.

    SQLite returns dates as ISO text and booleans as 0/1, and a column of only
    NULLs arrives with a guessed type. PostgreSQL returns the target types.
    """
    if values.type == target:
        return values
    if values.null_count == len(values):
        return pa.nulls(len(values), type=target)
    if pa.types.is_date32(target) and pa.types.is_string(values.type):
        # Keep the YYYY-MM-DD part: a row written from a Timestamp carries a time as well.
        text = pc.utf8_slice_codeunits(values, 0, 10)
        return pc.cast(pc.cast(text, pa.timestamp("s")), pa.date32())
    if pa.types.is_boolean(target) and pa.types.is_integer(values.type):
        return pc.not_equal(values, 0)
    return pc.cast(values, target)


def _conform(table: pa.Table, columns: dict[str, pa.DataType]) -> pa.Table:
    arrays = [_to_type(table.column(name), target) for name, target in columns.items()]
    return pa.Table.from_arrays(arrays, schema=pa.schema(list(columns.items())))


def _chunks(cursor: Any, columns: dict[str, pa.DataType]) -> Iterator[pa.RecordBatch]:
    while True:
        rows = cursor.fetchmany(CHUNK_ROWS)
        if not rows:
            return
        values = list(zip(*rows, strict=True))
        arrays = [
            _to_type(pa.array(column), target)
            for column, target in zip(values, columns.values(), strict=True)
        ]
        yield pa.RecordBatch.from_arrays(arrays, names=list(columns))


def _read_with_cursor(engine: Engine, table: str, columns: dict[str, pa.DataType]) -> pa.Table:
    """Read through the DBAPI cursor: the portable path, used for in-memory SQLite."""
    query = f"SELECT {', '.join(columns)} FROM {table}"  # names come from _SOURCES, not from input
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(query)
        batches = list(_chunks(cursor, columns))
        cursor.close()
    finally:
        raw.close()
    return pa.Table.from_batches(batches, schema=pa.schema(list(columns.items())))


def _read_with_copy(engine: Engine, table: str, columns: dict[str, pa.DataType]) -> pa.Table:
    """Read a PostgreSQL table with COPY ... TO STDOUT as CSV, parsed by Arrow's CSV reader."""
    query = f"COPY (SELECT {', '.join(columns)} FROM {table}) TO STDOUT WITH (FORMAT csv)"
    buffer = io.BytesIO()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(query) as copy:
            for block in copy:
                buffer.write(block)
        cursor.close()
    finally:
        raw.close()
    if buffer.tell() == 0:
        # Arrow's CSV reader rejects empty input, so an empty table is built from the schema.
        return pa.schema(list(columns.items())).empty_table()
    buffer.seek(0)
    return pacsv.read_csv(
        buffer,
        read_options=pacsv.ReadOptions(column_names=list(columns)),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        # PostgreSQL writes NULL as an empty unquoted field and an empty string as "".
        convert_options=pacsv.ConvertOptions(
            column_types=columns,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )


def _read_table(engine: Engine, name: str) -> pa.Table:
    table, columns = _SOURCES[name]
    if engine.dialect.name == "postgresql":
        return _read_with_copy(engine, table, columns)
    # SQLite is read through the DBAPI cursor only. A second SQLite library in the same
    # process (the ADBC driver was tried) breaks the file locks of WAL mode, after which
    # every new connection fails with "disk I/O error".
    return _read_with_cursor(engine, table, columns)


def read_tables(engine: Engine) -> CanonicalTables:
    """Read employers, headcounts, incidents, hazard findings and training records.

    Returns
    -------
    CanonicalTables
        Frames with the contract's columns and dtypes (see ``risk.tables.COLUMNS``),
        dates as ``datetime64``. Rows come in the store's order, which is not sorted.

    Raises
    ------
    StoreError
        When the store's schema is not at the newest migration.
    """
    require_current_schema(engine)
    started = time.perf_counter()
    frames = {}
    for name in _SOURCES:
        try:
            arrow = _read_table(engine, name)
        except Exception as exc:  # the DBAPI's own error types differ per driver
            raise StoreError(f"读取表 {name} 失败 / reading table {name!r} failed: {exc}") from exc
        # date_as_object=False gives datetime64 columns instead of Python date objects.
        frames[name] = canonical_frame(name, arrow.to_pandas(date_as_object=False))
    tables = CanonicalTables(**frames)
    logger.info(
        "Read %s from the store in %.1f s", tables.row_counts(), time.perf_counter() - started
    )
    return tables
