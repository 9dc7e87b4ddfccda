"""Tests of reading the canonical tables out of a real SQLite and PostgreSQL store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest
from factories import EMPLOYER_A, make_findings, make_random_tables, with_rows
from sqlalchemy import Engine

from risk.errors import StoreError
from risk.store.db import create_store_engine, upgrade_store
from risk.store.models import Employer, EmployerHeadcount, HazardFinding, Incident, TrainingRecord
from risk.store.read import read_tables
from risk.tables import COLUMNS, CanonicalTables

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
_MODELS = {
    "employers": Employer,
    "headcounts": EmployerHeadcount,
    "incidents": Incident,
    "hazard_findings": HazardFinding,
    "training_records": TrainingRecord,
}
_KEYS = {
    "employers": ["employer_id"],
    "headcounts": ["employer_id", "year"],
    "incidents": ["incident_id"],
    "hazard_findings": ["finding_id"],
    "training_records": ["record_id"],
}


def _python_value(value: object) -> object:
    """Return a cell as a value the DBAPI drivers accept: a date, a Python scalar or None."""
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as dicts of Python values: dates as ``datetime.date``, missing as None."""
    converted = {column: [_python_value(value) for value in frame[column]] for column in frame}
    return [dict(zip(converted, row, strict=True)) for row in zip(*converted.values(), strict=True)]


def _write(engine: Engine, tables: CanonicalTables) -> None:
    with engine.begin() as connection:
        for name, model in _MODELS.items():
            records = _records(getattr(tables, name))
            if records:
                connection.execute(model.__table__.insert(), records)


def _sample_tables() -> CanonicalTables:
    tables = make_random_tables(n_employers=40, n_incidents=200, seed=3)
    # Free text with a comma, quotes, a newline and an empty string must survive the round trip.
    text = make_findings(
        [
            {"employer_id": EMPLOYER_A, "description": 'line one, "quoted"\nline two'},
            {"employer_id": EMPLOYER_A, "description": ""},
        ]
    )
    text["employer_id"] = tables.employers["employer_id"].iloc[0]
    tables.headcounts.loc[0, "hours_worked"] = 1234.5
    # Only the last incident has a source code: a column that starts NULL must still read as text.
    tables.incidents.loc[len(tables.incidents) - 1, "source_event_code"] = "6411"
    return with_rows(tables, hazard_findings=text)


def _assert_same_tables(actual: CanonicalTables, expected: CanonicalTables) -> None:
    for name, columns in COLUMNS.items():
        left = getattr(actual, name).sort_values(_KEYS[name]).reset_index(drop=True)
        right = getattr(expected, name).sort_values(_KEYS[name]).reset_index(drop=True)
        assert list(left.columns) == list(columns), name
        pd.testing.assert_frame_equal(left, right, check_exact=True, obj=name)


def test_read_tables_sqlite_round_trip(tmp_path: Path) -> None:
    """Tables written to a SQLite store come back equal, with the contract dtypes."""
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_store(engine)
    tables = _sample_tables()
    _write(engine, tables)

    _assert_same_tables(read_tables(engine), tables)
    engine.dispose()


def test_read_tables_in_memory_sqlite_round_trip() -> None:
    """An in-memory SQLite store, read through the DBAPI cursor, gives the same tables."""
    engine = create_store_engine("sqlite://")
    upgrade_store(engine)
    tables = _sample_tables()
    _write(engine, tables)

    _assert_same_tables(read_tables(engine), tables)
    engine.dispose()


def test_read_tables_empty_store(tmp_path: Path) -> None:
    """An empty store gives empty frames that still have the contract dtypes."""
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_store(engine)

    tables = read_tables(engine)

    for name, columns in COLUMNS.items():
        frame = getattr(tables, name)
        assert len(frame) == 0
        assert {column: str(dtype) for column, dtype in frame.dtypes.items()} == columns, name
    engine.dispose()


def test_read_tables_requires_migrated_store(tmp_path: Path) -> None:
    """A store without the schema is reported with the command that fixes it."""
    engine = create_store_engine(f"sqlite:///{tmp_path / 'empty.db'}")

    with pytest.raises(StoreError, match="run `injury-risk db upgrade` first"):
        read_tables(engine)
    engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """A throwaway migrated PostgreSQL database, dropped afterwards."""
    name = f"injury_risk_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is unreachable: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    engine = create_store_engine(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        upgrade_store(engine)
        yield engine
    finally:
        engine.dispose()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.postgres
def test_read_tables_postgres_round_trip(postgres_engine: Engine) -> None:
    """Tables written to PostgreSQL come back equal through COPY, NULL and empty text kept apart."""
    tables = _sample_tables()
    _write(postgres_engine, tables)

    _assert_same_tables(read_tables(postgres_engine), tables)


@pytest.mark.postgres
def test_read_tables_postgres_empty_store(postgres_engine: Engine) -> None:
    """An empty PostgreSQL store gives empty frames instead of failing on an empty COPY output."""
    tables = read_tables(postgres_engine)

    for name, columns in COLUMNS.items():
        frame = getattr(tables, name)
        assert len(frame) == 0
        assert {column: str(dtype) for column, dtype in frame.dtypes.items()} == columns, name
