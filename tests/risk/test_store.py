"""Bulk loading into the store and the migration that creates it."""

from __future__ import annotations

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from factories import EMPLOYER_A, EMPLOYER_B, make_employers, make_incidents
from sqlalchemy import Engine, select

from risk.errors import InputDataError
from risk.store import Base
from risk.store.load import load_tables
from risk.store.models import Employer, Incident


def _incident_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(select(Incident).order_by(Incident.incident_id))
        ]


def test_migration_matches_models(store_engine: Engine) -> None:
    """Autogenerate finds no difference between the migrated schema and the models."""
    with store_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert diff == []


def test_load_tables_inserts_then_changes_nothing(store_engine: Engine) -> None:
    """A second load of the same frames changes no row."""
    frames = {
        "employers": make_employers(),
        "incidents": make_incidents([{}, {"severity": "fatal"}]),
    }

    first = load_tables(store_engine, frames)
    rows = _incident_rows(store_engine)
    second = load_tables(store_engine, frames)

    assert first == {"employers": 3, "incidents": 2}
    assert second == {"employers": 0, "incidents": 0}
    assert _incident_rows(store_engine) == rows


def test_load_tables_updates_changed_rows_only(store_engine: Engine) -> None:
    """A changed value updates its row; the other rows are not touched."""
    incidents = make_incidents([{}, {}, {}])
    load_tables(store_engine, {"employer": make_employers(), "incident": incidents})
    corrected = incidents.copy()
    corrected.loc[1, "lost_workdays"] = 200
    corrected.loc[1, "severity"] = "serious"

    changed = load_tables(store_engine, {"incident": corrected})

    assert changed == {"incident": 1}
    stored = {row[0]: row for row in _incident_rows(store_engine)}
    assert stored[corrected.loc[1, "incident_id"]][4:6] == ("serious", 200)


def test_load_tables_last_duplicate_wins(store_engine: Engine) -> None:
    """When a key repeats in one frame, its last row is stored."""
    employers = make_employers(
        [{"employer_id": EMPLOYER_A, "name": "旧名"}, {"employer_id": EMPLOYER_A, "name": "新名"}]
    )

    load_tables(store_engine, {"employers": employers})

    with store_engine.connect() as connection:
        assert connection.execute(select(Employer.name)).scalars().all() == ["新名"]


def test_load_tables_fills_optional_columns(store_engine: Engine) -> None:
    """A frame without optional columns gets their defaults."""
    employers = pd.DataFrame(
        {
            "employer_id": [EMPLOYER_B],
            "name": ["杭州乙"],
            "industry_code": ["E4710"],
            "district_code": ["330109"],
        }
    )

    load_tables(store_engine, {"employers": employers})

    with store_engine.connect() as connection:
        assert connection.execute(select(Employer.id_scheme)).scalar_one() == "uscc"


def test_load_tables_missing_column(sqlite_engine: Engine) -> None:
    """A frame without a required column names it."""
    employers = pd.DataFrame({"employer_id": ["x"], "name": ["n"], "industry_code": ["C3311"]})

    with pytest.raises(InputDataError, match="missing columns \\['district_code'\\]"):
        load_tables(sqlite_engine, {"employers": employers})


def test_load_tables_unknown_table(sqlite_engine: Engine) -> None:
    """An unknown frame key is rejected with the accepted ones."""
    with pytest.raises(InputDataError, match="unknown table 'injuries'"):
        load_tables(sqlite_engine, {"injuries": pd.DataFrame()})
