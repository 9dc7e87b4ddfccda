"""Tests of the negative-binomial dispersion fit behind the demo frailty variance."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from risk.demo.dispersion import fit_injury_overdispersion
from risk.demo.parameters import FRAILTY_VARIANCE, HEADCOUNT_ELASTICITY
from risk.errors import InputDataError

MSHA_DIR = Path("/work/shared/realdata/msha_coal_panel")


def _write_panel(folder: Path, variance: float, seed: int = 0) -> tuple[Path, Path]:
    """Write a synthetic mine-quarter panel with gamma frailty of the given variance.

    Kentucky mines follow the model; West Virginia mines have hours but never appear
    in the injuries file, like the gap in the real extract.
    """
    rng = np.random.default_rng(seed)
    n_mines, n_quarters = 600, 24
    frailty = rng.gamma(1.0 / variance, variance, size=n_mines)
    mine = np.repeat(np.arange(n_mines), n_quarters)
    quarter = 2000.0 + np.tile(np.arange(n_quarters), n_mines) / 4.0
    hours = np.round(20_000.0 * np.exp(rng.standard_normal(n_mines))[mine])
    injuries = rng.poisson(10.0 * hours / 200_000.0 * frailty[mine])
    state = np.where(mine < 500, "KY", "WV")

    employment = pd.DataFrame({
        "mineid": [f"{m:07d}" for m in mine],
        "quarter": quarter,
        "hours_qtr": hours,
        "year": np.floor(quarter).astype(int),
        "stateabbreviation": state,
    })
    reported = (injuries > 0) & (state == "KY")
    injury_rows = employment.loc[reported, ["mineid", "quarter"]].assign(
        totalinjuries=injuries[reported].astype(float)
    )
    employment_csv = folder / "employment.csv"
    injuries_csv = folder / "injuries.csv"
    employment.to_csv(employment_csv, index=False)
    injury_rows.to_csv(injuries_csv, index=False)
    return employment_csv, injuries_csv


def test_overdispersion_recovers_synthetic_variance(tmp_path: Path) -> None:
    """On data with a known gamma frailty the mine-total alpha recovers its variance."""
    employment_csv, injuries_csv = _write_panel(tmp_path, variance=0.4)

    fit = fit_injury_overdispersion(employment_csv, injuries_csv)

    assert fit.states_excluded == ("WV",)
    assert fit.n_mines == 500
    assert fit.alpha_mine_total == pytest.approx(0.4, abs=0.12)
    assert fit.persistent_moment == pytest.approx(0.4, abs=0.15)
    assert fit.exposure_elasticity == pytest.approx(1.0, abs=0.1)
    assert fit.injuries_per_200k_hours == pytest.approx(10.0, rel=0.2)


def test_overdispersion_missing_column(tmp_path: Path) -> None:
    """An employment file without hours_qtr is rejected and the missing column named."""
    employment_csv, injuries_csv = _write_panel(tmp_path, variance=0.4)
    pd.read_csv(employment_csv).drop(columns="hours_qtr").to_csv(employment_csv, index=False)

    with pytest.raises(InputDataError, match=r"missing columns \['hours_qtr'\]"):
        fit_injury_overdispersion(employment_csv, injuries_csv)


def test_overdispersion_msha_panel() -> None:
    """On the real MSHA panel alpha is finite and positive and matches the shipped constant."""
    if not MSHA_DIR.is_dir():
        pytest.skip(f"MSHA coal panel not found at {MSHA_DIR}; the real-data fit cannot run")

    fit = fit_injury_overdispersion(
        MSHA_DIR / "mine_quarter_employment.csv", MSHA_DIR / "mine_quarter_injuries.csv"
    )

    assert math.isfinite(fit.alpha_mine_total)
    assert fit.alpha_mine_total > 0
    assert math.isfinite(fit.alpha_quarterly)
    assert fit.alpha_quarterly > 0
    assert "WV" in fit.states_excluded
    # The generator's hard-coded defaults must stay in step with this fit.
    assert fit.frailty_variance == pytest.approx(FRAILTY_VARIANCE, abs=0.005)
    assert fit.exposure_elasticity == pytest.approx(HEADCOUNT_ELASTICITY, abs=0.005)
