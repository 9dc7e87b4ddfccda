"""Idempotent bulk upsert of canonical frames into the store.

Rows are matched on their natural key (``NATURAL_KEYS``). A new key is
inserted; an existing key is updated only when some value differs, through
``INSERT ... ON CONFLICT DO UPDATE ... WHERE <a column differs>``. Loading the
same frames twice therefore changes no row, and a corrected export updates
exactly the rows it corrects.

SQLite receives chunked ``executemany`` calls on the raw DBAPI cursor with
plain Python values, which avoids SQLAlchemy's per-row processing.
PostgreSQL receives each table through ``COPY`` into a temporary staging
table and one ``INSERT ... SELECT ... ON CONFLICT``. Both run inside the
caller's transaction. When a load has more rows than its table, the table's
secondary indexes are dropped and rebuilt after it, so on PostgreSQL the
table is locked against readers until the transaction ends.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import Column, Connection, Engine, Table, bindparam, func, or_, select
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import Boolean, Date, DateTime, Float, Integer

from risk.errors import InputDataError, RowError, StoreError
from risk.schema import NATURAL_KEYS
from risk.store.models import (
    Course,
    Employer,
    EmployerHeadcount,
    HazardFinding,
    Incident,
    Trainer,
    TrainingRecord,
)

logger = logging.getLogger(__name__)

# Parents first, so that foreign keys to employer are satisfied within the transaction.
TABLES: dict[str, Table] = {
    "employers": Employer.__table__,
    "courses": Course.__table__,
    "trainers": Trainer.__table__,
    "headcounts": EmployerHeadcount.__table__,
    "incidents": Incident.__table__,
    "hazard_findings": HazardFinding.__table__,
    "training_records": TrainingRecord.__table__,
}
_KIND_OF_TABLE = {table.name: kind for kind, table in TABLES.items()}
# Values for columns a frame may leave out; other columns are required.
_DEFAULTS: dict[str, object] = {
    "id_scheme": "uscc",
    "is_commuting": False,
    "title_en": "",
    "accident_types": "",
    "industries": "",
    "qualification": "",
    "qualifications": "",
    "district_codes": "",
}
# Set to the load time when a row changes; not taken from frames.
_MAINTAINED = frozenset({"updated_at"})
DEFAULT_CHUNK_ROWS = 50_000
# SQLite page cache during a load, in KiB. The default 2 MiB cache makes index updates of a
# million-row load miss on nearly every row; 256 MiB fits the indexes of several million rows.
SQLITE_CACHE_KIB = 262_144

Progress = Callable[[str, int], None]
"""Called as ``progress(kind, rows)`` after each chunk of ``rows`` rows is sent."""


@dataclass(frozen=True)
class TableLoad:
    """Rows of one table inserted and updated by a load; unchanged rows count in neither.

    ``seconds`` is the wall-clock time of the table's load, preparation included, and
    ``cpu_seconds`` the CPU time of this process (all threads) in that span.
    """

    inserted: int
    updated: int
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def changed(self) -> int:
        """Rows inserted or updated."""
        return self.inserted + self.updated


def load_tables(
    engine: Engine,
    frames: Mapping[str, pd.DataFrame],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Upsert canonical frames into the store in one transaction.

    Parameters
    ----------
    engine : Engine
        The store (SQLite or PostgreSQL), migrated to the current schema.
    frames : mapping of str to DataFrame
        Keyed by table kind (``"employers"``, ``"incidents"`` ...) or table
        name (``"employer"``, ``"incident"`` ...), in the canonical columns.
        Optional columns may be missing. When a key occurs more than once in
        a frame, the last row wins.
    chunk_rows : int, default=50_000
        Rows sent per ``executemany`` or ``COPY`` write.
    progress : callable, optional
        Called as ``progress(kind, rows)`` after each chunk.

    Returns
    -------
    dict of str to int
        Rows inserted or updated, under the keys of ``frames``.
    """
    with engine.begin() as connection:
        loads = load_frames(connection, frames, chunk_rows=chunk_rows, progress=progress)
    return {key: load.changed for key, load in loads.items()}


def load_frames(
    connection: Connection,
    frames: Mapping[str, pd.DataFrame],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Progress | None = None,
) -> dict[str, TableLoad]:
    """Upsert frames inside the caller's transaction; see :func:`load_tables`."""
    kinds = {key: _kind_of(key) for key in frames}
    loads: dict[str, TableLoad] = {}
    for kind in TABLES:
        for key in (key for key, key_kind in kinds.items() if key_kind == kind):
            started, cpu_started = time.perf_counter(), time.process_time()
            prepared = _prepare(kind, frames[key])
            inserted, updated = _upsert(connection, kind, prepared, chunk_rows, progress)
            loads[key] = TableLoad(
                inserted,
                updated,
                seconds=time.perf_counter() - started,
                cpu_seconds=time.process_time() - cpu_started,
            )
            logger.info(
                "Loaded %s: %d rows, %d inserted, %d updated in %.1f s",
                TABLES[kind].name,
                len(prepared),
                inserted,
                updated,
                loads[key].seconds,
            )
    return loads


def _kind_of(key: str) -> str:
    if key in TABLES:
        return key
    if key in _KIND_OF_TABLE:
        return _KIND_OF_TABLE[key]
    raise InputDataError(
        f"未知的表 {key!r} / unknown table {key!r}; expected one of {sorted(TABLES)}"
        f" or {sorted(_KIND_OF_TABLE)}"
    )


@dataclass(frozen=True)
class _PreparedRows:
    """A frame in the table's column order, and the positions of the rows to load, in key order.

    Rows in key order append to the primary-key B-tree instead of splitting pages all over
    it, and ``order`` keeps only the last row of a repeated key, because one
    ``ON CONFLICT`` statement cannot touch a row twice.
    """

    frame: pd.DataFrame
    order: np.ndarray

    def __len__(self) -> int:
        return len(self.order)

    def chunks(self, size: int) -> Iterator[pd.DataFrame]:
        """Yield the rows to load in key order, ``size`` rows at a time."""
        for start in range(0, len(self.order), size):
            yield self.frame.take(self.order[start : start + size])


def _prepare(kind: str, frame: pd.DataFrame) -> _PreparedRows:
    table = TABLES[kind]
    names = [column.name for column in table.columns if column.name not in _MAINTAINED]
    missing = [
        name
        for name in names
        if name not in frame.columns and name not in _DEFAULTS and not table.c[name].nullable
    ]
    if missing:
        raise InputDataError(
            f"表 {kind} 缺少列 {missing!r} / frame {kind!r} is missing columns {missing!r};"
            f" it has {list(frame.columns)[:8]!r}",
            [RowError(kind, None, name, None, "缺少列", "missing column") for name in missing],
        )
    prepared = frame[[name for name in names if name in frame.columns]].reset_index(drop=True)
    for name in names:
        if name not in prepared.columns:
            prepared[name] = _DEFAULTS.get(name)
    prepared = prepared[names]
    return _PreparedRows(prepared, _last_row_of_each_key(prepared, list(NATURAL_KEYS[kind])))


def _last_row_of_each_key(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    # Arrow's sort is stable, so among rows with one key the last one comes last.
    table = pa.table({key: pa.array(frame[key]) for key in keys})
    order = pc.sort_indices(table, sort_keys=[(key, "ascending") for key in keys])
    if len(order) < 2:
        return order.to_numpy()
    ordered = table.take(order)
    same_as_next = None
    for key in keys:
        column = ordered[key]
        equal = pc.fill_null(pc.equal(column.slice(1), column.slice(0, len(order) - 1)), False)
        same_as_next = equal if same_as_next is None else pc.and_(same_as_next, equal)
    keep = np.append(~same_as_next.to_numpy(zero_copy_only=False), True)
    return order.to_numpy()[keep]


def _upsert(
    connection: Connection,
    kind: str,
    prepared: _PreparedRows,
    chunk_rows: int,
    progress: Progress | None,
) -> tuple[int, int]:
    table = TABLES[kind]
    before = _count(connection, table)
    if connection.dialect.name not in ("sqlite", "postgresql"):
        raise StoreError(
            f"不支持的数据库 {connection.dialect.name!r} / unsupported database"
            f" {connection.dialect.name!r}; use SQLite or PostgreSQL"
        )

    # Building an index once after a large load is cheaper than updating it row by row.
    rebuild = before < len(prepared)
    if rebuild:
        for index in table.indexes:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
    # Keys are unique within ``prepared``, so into an empty table a plain INSERT does the
    # same as the upsert, without the conflict check on every row.
    upsert = before > 0
    if connection.dialect.name == "sqlite":
        changed = _upsert_sqlite(connection, kind, prepared, upsert, chunk_rows, progress)
    else:
        changed = _upsert_postgresql(connection, kind, prepared, upsert, chunk_rows, progress)
    if rebuild:
        for index in table.indexes:
            index.create(connection)

    inserted = _count(connection, table) - before
    return inserted, changed - inserted


def _count(connection: Connection, table: Table) -> int:
    return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def _conflict_update(insert, table: Table, kind: str, names: list[str]):  # type: ignore[no-untyped-def]
    # Update only when a value differs, so an unchanged row is not written (and not counted).
    keys = list(NATURAL_KEYS[kind])
    values = [name for name in names if name not in keys]
    assignments = {name: insert.excluded[name] for name in values}
    if "updated_at" in table.c:
        assignments["updated_at"] = func.now()
    differs = or_(*(table.c[name].is_distinct_from(insert.excluded[name]) for name in values))
    return insert.on_conflict_do_update(index_elements=keys, set_=assignments, where=differs)


def _upsert_sqlite(
    connection: Connection,
    kind: str,
    prepared: _PreparedRows,
    upsert: bool,
    chunk_rows: int,
    progress: Progress | None,
) -> int:
    table = TABLES[kind]
    names = list(prepared.frame.columns)
    insert = sqlite.insert(table).values({name: bindparam(name) for name in names})
    statement = _conflict_update(insert, table, kind, names) if upsert else insert
    compiled = statement.compile(dialect=connection.dialect)
    order = list(compiled.positiontup or names)
    converters = [_sqlite_converter(table.c[name]) for name in order]

    cache_size = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    try:
        changed = 0
        for chunk in prepared.chunks(chunk_rows):
            values = [convert(chunk[name]) for convert, name in zip(converters, order, strict=True)]
            rows = list(zip(*values, strict=True))
            changed += connection.exec_driver_sql(str(compiled), rows).rowcount
            if progress is not None:
                progress(kind, len(rows))
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(cache_size)}")
    return changed


def _sqlite_converter(column: Column) -> Callable[[pd.Series], list[object]]:
    """Return a function turning a slice of a column into Python values that sqlite3 binds."""
    if isinstance(column.type, Date):
        return _iso_dates
    if isinstance(column.type, Boolean):
        return _flags
    if isinstance(column.type, Integer):
        return lambda values: _objects(pd.Series(values).astype("Int64"))
    if isinstance(column.type, Float):
        return lambda values: _objects(pd.Series(values, dtype="float64"))
    if isinstance(column.type, DateTime):
        raise StoreError(f"column {column.name!r} cannot be bulk loaded")
    return lambda values: _objects(pd.Series(values).astype("str"))


def _objects(values: pd.Series) -> list[object]:
    array = values.to_numpy(dtype=object, na_value=None)
    return array.tolist()


def _flags(values: pd.Series) -> list[object]:
    flags = pd.Series(values).astype("boolean")
    if flags.isna().any():
        return [None if pd.isna(flag) else int(flag) for flag in flags.tolist()]
    return flags.to_numpy(dtype="int64").tolist()


def _iso_dates(values: pd.Series) -> list[object]:
    # 'YYYY-MM-DD' text is how SQLAlchemy's Date type stores dates in SQLite. A chunk has
    # few distinct dates, so each is formatted once; code -1 (NaT) picks the trailing None.
    codes, uniques = pd.factorize(pd.to_datetime(pd.Series(values)))
    text = np.append(np.asarray(uniques.strftime("%Y-%m-%d"), dtype=object), None)
    return text[codes].tolist()


def _upsert_postgresql(
    connection: Connection,
    kind: str,
    prepared: _PreparedRows,
    upsert: bool,
    chunk_rows: int,
    progress: Progress | None,
) -> int:
    table = TABLES[kind]
    names = list(prepared.frame.columns)
    stage_name = f"_stage_{table.name}"
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {stage_name}")
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {stage_name} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP"
    )

    driver_connection = connection.connection.driver_connection
    copy_sql = f"COPY {stage_name} ({', '.join(names)}) FROM STDIN (FORMAT csv)"
    with driver_connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for chunk in prepared.chunks(chunk_rows):
            copy.write(_csv_chunk(table, chunk))
            if progress is not None:
                progress(kind, len(chunk))

    # TODO: PostgreSQL checks the employer foreign key row by row here; dropping and re-adding
    # the constraint around a large load would validate it in one join (3M incidents: ~50 s).
    stage = sql_table(stage_name, *(sql_column(name) for name in names))
    insert = postgresql.insert(table).from_select(names, select(*stage.c))
    statement = _conflict_update(insert, table, kind, names) if upsert else insert
    # SQLAlchemy reports rowcount of an INSERT only when asked to keep it.
    changed = connection.execute(statement.execution_options(preserve_rowcount=True)).rowcount
    connection.exec_driver_sql(f"DROP TABLE {stage_name}")
    return int(changed)


def _csv_chunk(table: Table, chunk: pd.DataFrame) -> bytes:
    # In PostgreSQL's CSV format an unquoted empty field is NULL and "" is an empty string,
    # which is how Arrow writes nulls and empty strings.
    arrays = {name: _arrow_array(table.c[name], chunk[name]) for name in chunk.columns}
    sink = io.BytesIO()
    pa_csv.write_csv(pa.table(arrays), sink, pa_csv.WriteOptions(include_header=False))
    return sink.getvalue()


def _arrow_array(column: Column, values: pd.Series) -> pa.Array:
    if isinstance(column.type, Date):
        days = pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[D]")
        return pa.array(days, type=pa.date32(), mask=np.isnat(days))
    if isinstance(column.type, Boolean):
        return pa.array(pd.Series(values).astype("boolean"), type=pa.bool_())
    if isinstance(column.type, Integer):
        return pa.array(pd.Series(values).astype("Int64"), type=pa.int64())
    if isinstance(column.type, Float):
        return pa.array(pd.Series(values, dtype="float64"), type=pa.float64(), from_pandas=True)
    return pa.array(pd.Series(values).astype("str"), type=pa.string())
