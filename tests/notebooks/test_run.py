"""Execute the three notebooks on a small demo data set with a throwaway store and MLflow store.

The notebooks read their settings from INJURY_RISK_* environment variables,
so the kernel, which inherits this process's environment, works only on
files under the test's temporary folder. Before the run a deliberately weak
champion (two-level trees) is registered, so the retrain notebook goes
through the comparison with a champion and the promotion gate decides.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from mlflow.tracking import MlflowClient
from nbclient import NotebookClient

from risk.demo import generate_demo_data
from risk.features import FEATURE_NAMES
from risk.ingest import ingest_files
from risk.labels import as_of_grid
from risk.model import (
    XGBParams,
    backtest_panel,
    fit_risk_model,
    log_training_run,
    promote_candidate,
    register_model,
)
from risk.panel import build_panel
from risk.store import create_store_engine, upgrade_store
from risk.store.read import read_tables

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
MODEL_NAME = "injury-risk"
# 1,500 employers over five years: about 120 trainings and 13 as-of dates, the
# smallest set on which every notebook step has data (backtest folds need 13).
DEMO = {"employers": 1_500, "years": 5, "seed": 11, "end_year": 2025}
# Fewer trees than the defaults keep the run short; the notebook passes them to XGBParams.
CANDIDATE_XGB = {"n_estimators": 300, "early_stopping_rounds": 30, "n_jobs": 2}
WEAK_CHAMPION = XGBParams(
    n_estimators=40, max_depth=2, learning_rate=0.1, early_stopping_rounds=10, n_jobs=2
)
CELL_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class NotebookRun:
    """The throwaway stores and the notebooks as executed."""

    var_dir: Path
    tracking_uri: str
    runs_before: int
    champion_before: str
    executed: dict[str, nbformat.NotebookNode]


def _seed_champion(var_dir: Path, database_url: str, tracking_uri: str) -> str:
    tables = read_tables(create_store_engine(database_url))
    panel = build_panel(tables, as_of_grid(tables, 365), 365)
    report = backtest_panel(
        panel,
        horizon_days=365,
        n_folds=1,
        feature_names=list(FEATURE_NAMES),
        params=WEAK_CHAMPION,
        models=["xgboost"],
    )
    model = fit_risk_model(panel, feature_names=list(FEATURE_NAMES), params=WEAK_CHAMPION)
    run = log_training_run(
        model,
        panel,
        tracking_uri=tracking_uri,
        artifact_root=var_dir / "mlartifacts",
        backtest=report,
    )
    register_model(run, tracking_uri=tracking_uri, name=MODEL_NAME)
    return promote_candidate(tracking_uri, MODEL_NAME).champion_version


def _execute(name: str, out_dir: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    try:
        client.execute()
    finally:
        # The executed copy, outputs included, helps to read a failure.
        nbformat.write(notebook, out_dir / name)
    return notebook


@pytest.fixture(scope="module")
def notebook_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotebookRun]:
    """Generate and ingest demo data, register a weak champion, then run the notebooks in order."""
    var_dir = tmp_path_factory.mktemp("notebooks")
    database_url = f"sqlite:///{var_dir / 'injury_risk.db'}"
    tracking_uri = f"sqlite:///{var_dir / 'mlflow.db'}"
    generate_demo_data(var_dir / "demo", **DEMO)
    engine = create_store_engine(database_url)
    upgrade_store(engine)
    ingest_files(sorted((var_dir / "demo" / "exports").iterdir()), engine, skip_invalid=True)
    engine.dispose()
    champion_before = _seed_champion(var_dir, database_url, tracking_uri)
    runs_before = len(
        MlflowClient(tracking_uri).search_runs(experiment_ids=_experiments(tracking_uri))
    )

    environment = {
        "INJURY_RISK_VAR_DIR": str(var_dir),
        "INJURY_RISK_DATABASE_URL": database_url,
        "INJURY_RISK_MLFLOW_TRACKING_URI": tracking_uri,
        "INJURY_RISK_MLFLOW_ARTIFACT_ROOT": str(var_dir / "mlartifacts"),
        "INJURY_RISK_MODELS_DIR": str(var_dir / "models"),
        "INJURY_RISK_NOTEBOOK_FOLDS": "1",
        "INJURY_RISK_NOTEBOOK_XGB_PARAMS": json.dumps(CANDIDATE_XGB),
        # Keeps jupyter_core from warning about its coming path change.
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in environment.items():
            patch.setenv(key, value)
        executed = {}
        for name in ("01_retrain.ipynb", "02_evaluate.ipynb", "03_training_effect.ipynb"):
            executed[name] = _execute(name, var_dir)
    yield NotebookRun(var_dir, tracking_uri, runs_before, champion_before, executed)


def _experiments(tracking_uri: str) -> list[str]:
    return [
        experiment.experiment_id for experiment in MlflowClient(tracking_uri).search_experiments()
    ]


def _outputs(notebook: nbformat.NotebookNode, kind: str) -> list[str]:
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if kind == "stream" and output.output_type == "stream":
                found.append(output.text)
            elif kind in output.get("data", {}):
                found.append(output["data"][kind])
    return found


@pytest.mark.slow
def test_retrain_notebook_logs_a_new_run(notebook_run: NotebookRun) -> None:
    """The retrain notebook leaves one new MLflow run, registered as the candidate."""
    client = MlflowClient(notebook_run.tracking_uri)
    runs = client.search_runs(experiment_ids=_experiments(notebook_run.tracking_uri))
    candidate = client.get_model_version_by_alias(MODEL_NAME, "candidate")

    assert len(runs) == notebook_run.runs_before + 1
    assert str(candidate.version) != notebook_run.champion_before
    assert candidate.run_id == runs[0].info.run_id


@pytest.mark.slow
def test_retrain_notebook_applies_the_gate(notebook_run: NotebookRun) -> None:
    """The champion moved to the new version exactly when its logged backtest pr_auc was higher."""
    client = MlflowClient(notebook_run.tracking_uri)
    candidate = client.get_model_version_by_alias(MODEL_NAME, "candidate")
    champion = client.get_model_version_by_alias(MODEL_NAME, "champion")
    old = client.get_model_version(MODEL_NAME, notebook_run.champion_before)

    def gate_value(version: object) -> float:
        return float(client.get_run(version.run_id).data.metrics["backtest_pr_auc_mean"])  # type: ignore[attr-defined]

    won = gate_value(candidate) > gate_value(old)
    assert str(champion.version) == str(candidate.version if won else notebook_run.champion_before)
    assert (notebook_run.var_dir / "models" / "champion").is_dir()


@pytest.mark.slow
def test_evaluate_notebook_draws_charts(notebook_run: NotebookRun) -> None:
    """The evaluation notebook renders its charts: calibration, capture, slices, SHAP and drift."""
    images = _outputs(notebook_run.executed["02_evaluate.ipynb"], "image/png")

    assert len(images) >= 8


@pytest.mark.slow
def test_effect_notebook_checks_the_truth(notebook_run: NotebookRun) -> None:
    """The last cell compared the interval with the generator's true effect, and it covered it."""
    last_cell = notebook_run.executed["03_training_effect.ipynb"].cells[-1]
    text = "".join(output.get("text", "") for output in last_cell.outputs)

    assert "覆盖生成器的真实率比 0.85" in text, text


def test_notebook_environment_variables_are_read_by_settings() -> None:
    """The variables the run sets are the ones api.config.Settings reads."""
    from api.config import Settings

    names = {f"INJURY_RISK_{name.upper()}" for name in Settings.model_fields}

    assert {
        "INJURY_RISK_VAR_DIR",
        "INJURY_RISK_DATABASE_URL",
        "INJURY_RISK_MLFLOW_TRACKING_URI",
        "INJURY_RISK_MLFLOW_ARTIFACT_ROOT",
        "INJURY_RISK_MODELS_DIR",
    } <= names
