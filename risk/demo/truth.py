"""Ground truth of a demo data set, written apart from the exports under ``<out>/truth/``.

Ingest never reads these files. They let a backtest compare a model with an
oracle that ranks employers by their true expected injuries.

* ``monthly_rates.csv.gz``: ``employer_id``, ``month`` (first day, ``YYYY-MM-01``),
  ``expected_injuries``: the true expected number of recognised workplace
  (non-commuting) injuries of the employer in that month, given frailty,
  unrectified major hazards, the training effect, season and trend. Only months
  in which the employer had insured workers are listed. A missing month means 0.
* ``parameters.json``: seed, sizes and every model parameter.
* ``faults.csv``: every injected data-entry fault (file, row, column, kind, value).
* ``employer_state.csv.gz``: each employer's frailty, risk class and entry year.
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

MONTHLY_RATES_FILE = "monthly_rates.csv.gz"
PARAMETERS_FILE = "parameters.json"
FAULTS_FILE = "faults.csv"
EMPLOYER_STATE_FILE = "employer_state.csv.gz"


@dataclass(frozen=True)
class MonthlyRates:
    """True expected workplace injuries, shape (N, M), with the insured employer-months."""

    employer_ids: np.ndarray
    month_starts: np.ndarray
    expected: np.ndarray
    active: np.ndarray


def write_truth(
    truth_dir: Path,
    rates: MonthlyRates,
    parameters: dict[str, Any],
    faults: pd.DataFrame,
    employer_state: pd.DataFrame,
) -> list[Path]:
    """Write the ground-truth files and return their paths.

    Gzip headers carry no time stamp or file name, so equal inputs give equal bytes.
    """
    truth_dir.mkdir(parents=True, exist_ok=True)
    paths = [truth_dir / name for name in (MONTHLY_RATES_FILE, EMPLOYER_STATE_FILE)]
    paths[0].write_bytes(_gzip(_monthly_rates_csv(rates)))
    state_text = employer_state.to_csv(index=False, lineterminator="\n", float_format="%.6g")
    paths[1].write_bytes(_gzip(state_text.encode("utf-8")))
    faults.to_csv(truth_dir / FAULTS_FILE, index=False, lineterminator="\n")
    text = json.dumps(parameters, ensure_ascii=False, indent=2, sort_keys=True, default=_json_value)
    (truth_dir / PARAMETERS_FILE).write_text(text + "\n", encoding="utf-8")
    return [*paths, truth_dir / FAULTS_FILE, truth_dir / PARAMETERS_FILE]


def read_monthly_rates(path: str | Path) -> pd.DataFrame:
    """Read ``monthly_rates.csv.gz`` (or the ``truth`` folder that contains it).

    Returns
    -------
    pandas.DataFrame
        ``employer_id`` (str), ``month`` (datetime64, first day of the month) and
        ``expected_injuries`` (float64).
    """
    path = Path(path)
    if path.is_dir():
        path = path / MONTHLY_RATES_FILE
    frame = pd.read_csv(path, dtype={"employer_id": str, "expected_injuries": float})
    frame["month"] = pd.to_datetime(frame["month"], format="%Y-%m-%d")
    return frame


def read_faults(path: str | Path) -> pd.DataFrame:
    """Read ``faults.csv`` (or the ``truth`` folder that contains it)."""
    path = Path(path)
    if path.is_dir():
        path = path / FAULTS_FILE
    return pd.read_csv(path, dtype={"file": str, "column": str, "kind": str, "value": str})


def _monthly_rates_csv(rates: MonthlyRates) -> bytes:
    # pyarrow writes the 1-2 million rows several times faster than pandas. The
    # IDs and months are dictionary-encoded, so no per-row strings are built.
    rows, months = np.nonzero(rates.active)
    month_text = np.datetime_as_string(rates.month_starts.astype("datetime64[D]"), unit="D")
    table = pa.table({
        "employer_id": pa.DictionaryArray.from_arrays(
            pa.array(rows.astype(np.int32)), pa.array(rates.employer_ids.astype(str))
        ),
        "month": pa.DictionaryArray.from_arrays(
            pa.array(months.astype(np.int32)), pa.array(month_text)
        ),
        # Ten decimals keep every rate above 1e-6 to at least four significant digits.
        "expected_injuries": np.round(rates.expected[rows, months], 10),
    })
    buffer = io.BytesIO()
    buffer.write(b"employer_id,month,expected_injuries\n")
    pa_csv.write_csv(
        table, buffer, pa_csv.WriteOptions(include_header=False, quoting_style="none")
    )
    return buffer.getvalue()


def _gzip(data: bytes) -> bytes:
    # Level 1: the monthly rates are tens of megabytes and level 6 takes seconds longer.
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=1) as handle:
        handle.write(data)
    return buffer.getvalue()


def _json_value(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} to parameters.json")
