"""Entry points of the demo generator: in-memory tables and the export/truth files."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from risk.demo import faults, records, truth, writer
from risk.demo.events import InjuryHistory, monthly_headcount, simulate_injuries
from risk.demo.hazards import HazardHistory, simulate_hazards
from risk.demo.parameters import DemoParameters
from risk.demo.population import Population, build_population
from risk.demo.timeline import month_starts as monthly_grid

logger = logging.getLogger(__name__)

DEFAULT_EMPLOYERS = 20_000
DEFAULT_YEARS = 6
# One child seed per purpose, in this order. Appending a new purpose keeps the old draws.
_STREAMS = ("population", "hazards", "months", "incidents", "training", "exports", "faults")
ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class DemoTables:
    """Canonical frames of a demo data set before fault injection, with the latent state.

    Attributes
    ----------
    employers, headcounts, incidents, hazard_findings, training_records : pandas.DataFrame
        Canonical frames as ingest would produce them from clean exports.
    month_starts : numpy.ndarray
        First day of each month of the panel (datetime64[D]).
    population, hazards, injuries
        Latent state and rate arrays of the generator, for tests and the ground truth.
    """

    employers: pd.DataFrame
    headcounts: pd.DataFrame
    incidents: pd.DataFrame
    hazard_findings: pd.DataFrame
    training_records: pd.DataFrame
    month_starts: np.ndarray
    population: Population
    hazards: HazardHistory
    injuries: InjuryHistory

    def frames(self) -> dict[str, pd.DataFrame]:
        """Return the five canonical frames by table name."""
        return {
            "employers": self.employers,
            "headcounts": self.headcounts,
            "incidents": self.incidents,
            "hazard_findings": self.hazard_findings,
            "training_records": self.training_records,
        }


@dataclass(frozen=True)
class DemoDataSummary:
    """Summary of the files written by :func:`generate_demo_data`.

    ``rows`` counts the data rows of each export file, faults included.
    ``injuries_per_100`` is recognised injuries (commuting included) per 100
    insured worker-years of the generated data.
    """

    out_dir: Path
    employers: int
    first_year: int
    last_year: int
    seed: int
    rows: dict[str, int]
    faults: int
    injuries_per_100: float
    export_files: list[Path]
    truth_files: list[Path]


def default_end_year(today: dt.date | None = None) -> int:
    """Return the last complete calendar year before ``today``."""
    return (today or dt.date.today()).year - 1


def generate_demo_tables(
    employers: int = DEFAULT_EMPLOYERS,
    years: int = DEFAULT_YEARS,
    seed: int = 0,
    end_year: int | None = None,
    params: DemoParameters | None = None,
) -> DemoTables:
    """Generate the canonical demo frames and the generator's latent state in memory.

    Parameters
    ----------
    employers : int, default=20000
        Number of employers.
    years : int, default=6
        Number of calendar years, ending at ``end_year``.
    seed : int, default=0
        Seed of every random draw. The same seed gives the same tables.
    end_year : int, optional
        Last year of the panel. Default: the last complete calendar year before today.
    params : DemoParameters, optional
        Model parameters. Default: ``DemoParameters()``.

    Raises
    ------
    ValueError
        ``employers`` or ``years`` is below 1, or ``seed`` is negative.
    """
    _check_sizes(employers, years, seed)
    params = params or DemoParameters()
    last = default_end_year() if end_year is None else end_year
    calendar = np.arange(last - years + 1, last + 1)
    grid = monthly_grid(calendar)
    streams = dict(zip(_STREAMS, np.random.SeedSequence(seed).spawn(len(_STREAMS)), strict=True))

    population = build_population(_rng(streams["population"]), employers, calendar, params)
    hazards = simulate_hazards(_rng(streams["hazards"]), population, grid, params)
    injuries = simulate_injuries(streams["months"].spawn(len(grid)), population, hazards, params)
    incidents = records.build_incidents(
        _rng(streams["incidents"]), population, injuries, grid, params
    )
    training = records.build_training_records(
        _rng(streams["training"]), population, injuries, grid, params
    )
    logger.info(
        "generated demo tables: %d employers, %d-%d, %d incidents, %d hazard findings,"
        " %d training records",
        employers, calendar[0], calendar[-1], len(incidents), len(hazards.findings), len(training),
    )
    return DemoTables(
        employers=population.employers,
        headcounts=population.headcounts,
        incidents=incidents,
        hazard_findings=hazards.findings,
        training_records=training,
        month_starts=grid,
        population=population,
        hazards=hazards,
        injuries=injuries,
    )


def generate_demo_data(
    out_dir: str | Path,
    employers: int = DEFAULT_EMPLOYERS,
    years: int = DEFAULT_YEARS,
    seed: int = 0,
    end_year: int | None = None,
    params: DemoParameters | None = None,
    progress: ProgressCallback | None = None,
) -> DemoDataSummary:
    """Generate a demo data set and write ``exports/`` and ``truth/`` under ``out_dir``.

    The same arguments give byte-identical files. ``progress``, when given, is
    called with the name of each stage (simulate, exports, truth) when it
    finishes. Other parameters are those of :func:`generate_demo_tables`.
    """
    report = progress or (lambda stage: None)
    params = params or DemoParameters()
    out_dir = Path(out_dir)
    streams = dict(zip(_STREAMS, np.random.SeedSequence(seed).spawn(len(_STREAMS)), strict=True))

    tables = generate_demo_tables(employers, years, seed, end_year, params)
    report("simulate")
    frames = writer.build_export_frames(tables.frames(), _rng(streams["exports"]))
    frames, fault_log = faults.inject_faults(
        frames, _rng(streams["faults"]), params.fault_rate,
        tables.employers["employer_id"].to_numpy(),
    )
    export_paths = writer.write_exports(frames, out_dir / "exports")
    report("exports")
    truth_paths = _write_truth(out_dir / "truth", tables, fault_log, params, seed)
    report("truth")

    summary = DemoDataSummary(
        out_dir=out_dir,
        employers=employers,
        first_year=int(tables.population.years[0]),
        last_year=int(tables.population.years[-1]),
        seed=seed,
        rows={table: len(frame) for table, frame in frames.items()},
        faults=len(fault_log),
        injuries_per_100=_injuries_per_100(tables),
        export_files=list(export_paths.values()),
        truth_files=truth_paths,
    )
    logger.info("wrote demo data to %s: %s rows, %d faults", out_dir, summary.rows, summary.faults)
    return summary


def _write_truth(
    truth_dir: Path, tables: DemoTables, fault_log: pd.DataFrame, params: DemoParameters, seed: int
) -> list[Path]:
    population = tables.population
    employer_ids = population.employers["employer_id"].to_numpy()
    rates = truth.MonthlyRates(
        employer_ids=employer_ids,
        month_starts=tables.month_starts,
        expected=tables.injuries.expected_injuries,
        active=monthly_headcount(population) > 0,
    )
    state = pd.DataFrame({
        "employer_id": employer_ids,
        "frailty": population.frailty,
        "risk_class": population.risk_class,
        "entry_year": population.entry_year,
    })
    parameters = {
        "seed": seed,
        "employers": len(employer_ids),
        "first_year": int(population.years[0]),
        "last_year": int(population.years[-1]),
        "rate_scale": tables.injuries.scale,
        "injuries_per_100_generated": _injuries_per_100(tables),
        **params.to_dict(),
    }
    return truth.write_truth(truth_dir, rates, parameters, fault_log, state)


def _injuries_per_100(tables: DemoTables) -> float:
    worker_years = float(tables.population.headcount.sum())
    return 100.0 * len(tables.incidents) / worker_years if worker_years else 0.0


def _check_sizes(employers: int, years: int, seed: int) -> None:
    if employers < 1:
        raise ValueError(f"employers must be at least 1, got {employers!r}")
    if years < 1:
        raise ValueError(f"years must be at least 1, got {years!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _rng(seed: np.random.SeedSequence) -> np.random.Generator:
    return np.random.default_rng(seed)
