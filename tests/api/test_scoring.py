"""Batch scoring: bands, size bands, percentiles, ranks and the stored runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from api_factories import MODEL_NAME, Fitted, Registry, ScoredStore, store_tables
from typer.testing import CliRunner

from api.cli import app
from api.config import get_settings
from risk.scoring import (
    BandThresholds,
    assign_bands,
    assign_size_bands,
    write_score_frame,
)
from risk.store import create_store_engine, upgrade_store
from risk.store.scores import (
    latest_scoring_run,
    read_employer_explanation,
    read_score_history,
)


def test_band_thresholds_defaults_cut_scores() -> None:
    """Scores at a bound fall into the riskier band."""
    scores = np.array([0.9, 0.5, 0.49, 0.2, 0.1, 0.05, 0.049, 0.0])

    bands = assign_bands(scores, BandThresholds())

    assert bands.tolist() == ["red", "red", "orange", "orange", "yellow", "yellow", "blue", "blue"]


@pytest.mark.parametrize("values", [(0.2, 0.5, 0.05), (0.5, 0.2, 0.0), (1.5, 0.2, 0.05)])
def test_band_thresholds_out_of_order_raises(values: tuple[float, float, float]) -> None:
    """Thresholds must be 0 < yellow < orange < red <= 1."""
    with pytest.raises(ValueError, match="0 < yellow < orange < red <= 1"):
        BandThresholds(*values)


def test_band_thresholds_parse_text() -> None:
    """Thresholds parse from "RED,ORANGE,YELLOW", and other text is rejected."""
    assert BandThresholds.parse("0.6, 0.3, 0.1") == BandThresholds(0.6, 0.3, 0.1)
    with pytest.raises(ValueError, match="RED,ORANGE,YELLOW"):
        BandThresholds.parse("high")


def test_assign_size_bands_bounds_and_missing() -> None:
    """Size bands follow the headcount bounds 20, 300 and 1000; NaN is unknown."""
    headcount = np.array([1, 19, 20, 299, 300, 999, 1000, np.nan])

    bands = assign_size_bands(headcount)

    assert bands.tolist() == [
        "micro",
        "micro",
        "small",
        "small",
        "medium",
        "medium",
        "large",
        "unknown",
    ]


def test_score_employers_ranks_percentiles_bands(fitted: Fitted) -> None:
    """Every employer gets one row, ranks 1..n, percentiles in (0, 100] and consistent bands."""
    scores = fitted.scores.scores

    assert len(scores) == len(fitted.tables.employers)
    assert sorted(scores["risk_rank"]) == list(range(1, len(scores) + 1))
    assert scores.sort_values("risk_rank")["risk_score"].is_monotonic_decreasing
    assert scores["industry_percentile"].between(0, 100, inclusive="right").all()
    assert scores.groupby("district_code")["district_percentile"].max().eq(100.0).all()
    assert (
        assign_bands(scores["risk_score"].to_numpy(), BandThresholds()) == scores["risk_band"]
    ).all()
    assert scores["risk_score"].between(0, 1).all()
    assert (scores["expected_injuries"] >= 0).all()


def test_score_employers_explanation_shapes(fitted: Fitted) -> None:
    """Contributions and feature values have one row per employer and one column per feature."""
    frame = fitted.scores
    n_rows, n_features = len(frame.scores), len(frame.feature_names)

    assert frame.explanation.contributions.shape == (n_rows, n_features)
    assert frame.feature_values.shape == (n_rows, n_features)
    assert np.allclose(frame.explanation.margin, frame.scores["margin"])


def test_write_score_frame_round_trip(fitted: Fitted, scored_store: ScoredStore) -> None:
    """A stored explanation reads back with the same contributions and values."""
    row = 11
    employer_id = str(fitted.scores.scores["employer_id"].iloc[row])

    stored = read_employer_explanation(scored_store.engine, scored_store.run_id, employer_id)

    assert stored is not None
    np.testing.assert_array_equal(
        stored.contributions, fitted.scores.explanation.contributions[row]
    )
    np.testing.assert_array_equal(stored.feature_values, fitted.scores.feature_values[row])
    assert stored.score.risk_rank == int(fitted.scores.scores["risk_rank"].iloc[row])


def test_write_score_frame_same_as_of_replaces_other_kept(
    fitted: Fitted, scored_store: ScoredStore
) -> None:
    """Rescoring a date replaces its run; another date's run stays in the history."""
    engine = scored_store.engine
    name = "injury-risk-history"
    earlier = dataclasses.replace(
        fitted.scores, as_of=fitted.as_of.replace(year=fitted.as_of.year - 1)
    )
    employer_id = str(fitted.scores.scores["employer_id"].iloc[0])

    write_score_frame(engine, earlier, model_name=name, model_version="7")
    first = write_score_frame(engine, fitted.scores, model_name=name, model_version="7")
    second = write_score_frame(engine, fitted.scores, model_name=name, model_version="7")

    latest = latest_scoring_run(engine, name, "7")
    assert latest is not None and latest.run_id == second != first
    assert latest.row_count == len(fitted.scores.scores)
    dates = [
        past.as_of for past in read_score_history(engine, employer_id) if past.model_name == name
    ]
    assert dates == [fitted.as_of, earlier.as_of]


def test_score_cli_scores_champion_latest_as_of(
    fitted: Fitted, registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`injury-risk score` stores a finished run of the champion at the latest as_of."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = create_store_engine(url)
    upgrade_store(engine)
    store_tables(engine, fitted.tables)
    monkeypatch.setenv("INJURY_RISK_DATABASE_URL", url)
    monkeypatch.setenv("INJURY_RISK_MLFLOW_TRACKING_URI", registry.tracking_uri)
    get_settings.cache_clear()

    try:
        result = CliRunner().invoke(app, ["score", "--band-thresholds", "0.6,0.3,0.1"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    run = latest_scoring_run(engine, MODEL_NAME, "1")
    assert run is not None
    assert run.as_of == fitted.as_of
    assert run.row_count == len(fitted.tables.employers)
    assert run.band_thresholds == {"red": 0.6, "orange": 0.3, "yellow": 0.1}
    assert f"version 1, as_of {fitted.as_of}" in result.stdout
