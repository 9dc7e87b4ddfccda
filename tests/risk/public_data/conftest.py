"""Fixtures of the public-data tests: the shared real-data folders, read in place, never copied."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from risk.public.msha import MshaPanel, read_msha_panel

# The shared folder sits beside the repository; INJURY_RISK_REALDATA points elsewhere.
REALDATA = Path(
    os.environ.get(
        "INJURY_RISK_REALDATA", Path(__file__).resolve().parents[4] / "shared" / "realdata"
    )
)
PANEL_DIR = REALDATA / "msha_coal_panel"
SEVERE_INJURY_FILE = REALDATA / "osha_severe_injury_sample" / "severe_injury_sample.csv"


@pytest.fixture(scope="session")
def panel_dir() -> Path:
    """The MSHA mine-quarter panel folder; the test is skipped when it is absent."""
    if not (PANEL_DIR / "mine_quarter_employment.csv").exists():
        pytest.skip(f"the MSHA panel is not at {PANEL_DIR}")
    return PANEL_DIR


@pytest.fixture(scope="session")
def severe_injury_file() -> Path:
    """The OSHA severe-injury extract; the test is skipped when it is absent."""
    if not SEVERE_INJURY_FILE.exists():
        pytest.skip(f"the OSHA severe-injury extract is not at {SEVERE_INJURY_FILE}")
    return SEVERE_INJURY_FILE


@pytest.fixture(scope="session")
def full_panel(panel_dir: Path) -> MshaPanel:
    """The whole panel, adapted once for the tests that only read it."""
    return read_msha_panel(panel_dir)
