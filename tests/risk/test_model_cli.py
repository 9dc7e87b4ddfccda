"""The ``train``, ``backtest`` and ``promote`` commands on a small demo store, with no arguments."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.config import get_settings
from risk.demo import generate_demo_data, generate_demo_tables
from risk.store import create_store_engine, upgrade_store
from risk.store.load import load_tables

EMPLOYERS = 500
YEARS = 5
SEED = 31
END_YEAR = 2025


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Settings that point at a loaded demo store, a fresh MLflow store and a demo truth folder."""
    root = tmp_path_factory.mktemp("model_cli")
    tables = generate_demo_tables(EMPLOYERS, YEARS, SEED, end_year=END_YEAR)
    engine = create_store_engine(f"sqlite:///{root / 'store.db'}")
    upgrade_store(engine)
    load_tables(engine, tables.frames())
    engine.dispose()
    generate_demo_data(root / "demo", EMPLOYERS, YEARS, SEED, end_year=END_YEAR)

    patch = pytest.MonkeyPatch()
    patch.setenv("INJURY_RISK_DATABASE_URL", f"sqlite:///{root / 'store.db'}")
    patch.setenv("INJURY_RISK_MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    patch.setenv("INJURY_RISK_MLFLOW_ARTIFACT_ROOT", str(root / "mlartifacts"))
    patch.setenv("INJURY_RISK_MODELS_DIR", str(root / "models"))
    patch.setenv("INJURY_RISK_VAR_DIR", str(root))
    get_settings.cache_clear()
    yield root
    patch.undo()
    get_settings.cache_clear()


def test_model_cli_help_names_units() -> None:
    """Each option's help states what it sets and in what unit."""
    runner = CliRunner()

    train = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "200"})
    backtest = runner.invoke(app, ["backtest", "--help"], env={"COLUMNS": "200"})
    promote = runner.invoke(app, ["promote", "--help"], env={"COLUMNS": "200"})

    assert train.exit_code == 0
    assert "in days" in train.output
    assert "YYYY-MM-DD" in train.output
    assert "INJURY_RISK_MLFLOW_TRACKING_URI" in train.output
    assert "--report-out" in backtest.output
    assert "monthly_rates.csv.gz" in backtest.output
    assert "higher wins" in promote.output


def test_model_cli_train_backtest_promote(configured: Path) -> None:
    """With settings only: train registers, backtest writes a report, promote exports."""
    runner = CliRunner()

    # One thread per fit: on a shared 2-core machine OpenMP threads waiting for a core
    # made the two-thread default several times slower.
    trained = runner.invoke(app, ["train", "--backtest-folds", "1", "--threads", "1"])
    backtested = runner.invoke(
        app,
        [
            "backtest",
            "--folds",
            "1",
            "--threads",
            "1",
            "--report-out",
            str(configured / "report.json"),
        ],
    )
    promoted = runner.invoke(app, ["promote"])

    assert trained.exit_code == 0, trained.output
    assert "version 1 (alias candidate)" in trained.output
    assert backtested.exit_code == 0, backtested.output
    report = json.loads((configured / "report.json").read_text(encoding="utf-8"))
    assert list(report["folds"][0]["models"]) == [
        "xgboost",
        "logistic",
        "risk_class",
        "last_year_rate",
        "peer_percentile",
        "oracle",
    ]
    assert promoted.exit_code == 0, promoted.output
    assert "first_champion" in promoted.output
    assert (configured / "models" / "model_card.md").is_file()
    assert (configured / "models" / "champion" / "MLmodel").is_file()


def test_model_cli_bad_as_of_rejected(configured: Path) -> None:
    """An --as-of that is not a date is rejected with the expected format."""
    result = CliRunner().invoke(app, ["train", "--as-of", "2024-13-01"])

    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_model_cli_promote_without_candidate_fails(tmp_path: Path) -> None:
    """Promote on an empty registry exits 1 and names the command to run first."""
    result = CliRunner().invoke(
        app, ["promote", "--tracking-uri", f"sqlite:///{tmp_path / 'empty.db'}"]
    )

    assert result.exit_code == 1
    assert "injury-risk train" in result.output
