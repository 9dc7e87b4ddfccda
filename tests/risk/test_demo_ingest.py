"""End-to-end test: ingest of a demo data set rejects exactly the injected faults."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

from risk.demo import generate_demo_data, read_faults
from risk.ingest import ingest_files
from risk.store import create_store_engine, upgrade_store


class IngestOutcome(NamedTuple):
    """A demo data set and the result of ingesting its exports."""

    out_dir: Path
    rejected: pd.DataFrame
    written: dict[str, int]
    loaded: dict[str, int]
    status: str


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> IngestOutcome:
    """Generate a small demo set and ingest it with skip_invalid into a fresh SQLite store."""
    out = tmp_path_factory.mktemp("demo_ingest")
    summary = generate_demo_data(out, employers=600, years=3, seed=7, end_year=2024)
    engine = create_store_engine(f"sqlite:///{out / 'store.db'}")
    upgrade_store(engine)

    result = ingest_files(sorted((out / "exports").iterdir()), engine, skip_invalid=True)

    rejected = pd.DataFrame({
        "file": [Path(name).name for name in result.rejected["文件 file"]],
        "row": result.rejected["行号 row"].astype(int).to_numpy(),
    })
    return IngestOutcome(out, rejected, summary.rows, result.rows_loaded, result.status)


def test_ingest_rejects_exactly_injected_faults(ingested: IngestOutcome) -> None:
    """Every injected fault row is rejected, and no clean row is."""
    faults = read_faults(ingested.out_dir / "truth")

    rejected_rows = set(zip(ingested.rejected["file"], ingested.rejected["row"], strict=True))
    fault_rows = set(zip(faults["file"], faults["row"], strict=True))

    assert ingested.status == "partial"
    assert fault_rows - rejected_rows == set(), "faults that ingest let through"
    assert rejected_rows - fault_rows == set(), "clean rows that ingest rejected"


def test_ingest_loads_every_clean_row(ingested: IngestOutcome) -> None:
    """Rows loaded per table are the rows written minus the rejected ones."""
    rejected_per_file = ingested.rejected["file"].value_counts()

    assert ingested.loaded["employers"] == ingested.written["employers"]
    assert ingested.loaded["training_records"] == ingested.written["training_records"]
    for table in ("headcounts", "incidents", "hazard_findings"):
        expected = ingested.written[table] - int(rejected_per_file.get(f"{table}.csv", 0))
        assert ingested.loaded[table] == expected, table
