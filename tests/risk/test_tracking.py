"""MLflow runs, the registry round trip, the promotion gate and the model card, on a real store."""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from model_factories import FEATURES, HORIZON_DAYS, make_panel

from risk.errors import ModelError
from risk.model import (
    BacktestReport,
    RiskModel,
    TrainingRun,
    XGBParams,
    backtest_panel,
    export_champion,
    fit_risk_model,
    load_champion,
    load_model_version,
    log_training_run,
    promote_candidate,
    register_model,
)
from risk.model.tracking import tracking_client

FAST = XGBParams(n_estimators=200, learning_rate=0.1, early_stopping_rounds=20, n_jobs=1)


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite MLflow store shared by this module; each test registers its own model name."""
    folder = tmp_path_factory.mktemp("mlflow")
    return f"sqlite:///{folder / 'mlflow.db'}"


@pytest.fixture(scope="module")
def artifact_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Artifact folder of the module's MLflow experiments."""
    return tmp_path_factory.mktemp("mlartifacts")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """A signal panel with Chinese ownership labels, 7 quarterly as-of dates."""
    return make_panel(n_employers=600, n_dates=7, seed=23)


@pytest.fixture(scope="module")
def model(panel: pd.DataFrame) -> RiskModel:
    """The risk model fitted on the panel."""
    return fit_risk_model(panel, feature_names=FEATURES, params=FAST)


@pytest.fixture(scope="module")
def report() -> BacktestReport:
    """A one-fold XGBoost backtest, the template of the reports logged by the gate tests."""
    backtest_source = make_panel(n_employers=400, n_dates=10, seed=29)
    return backtest_panel(
        backtest_source,
        horizon_days=HORIZON_DAYS,
        n_folds=1,
        feature_names=FEATURES,
        params=FAST,
        models=["xgboost"],
    )


def _with_metrics(report: BacktestReport, **values: float) -> BacktestReport:
    """Return ``report`` with the XGBoost metrics of every fold set to ``values``."""
    folds = [
        dataclasses.replace(fold, models={"xgboost": {**fold.models["xgboost"], **values}})
        for fold in report.folds
    ]
    return dataclasses.replace(report, folds=folds)


def _model_name() -> str:
    return f"injury-risk-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def registered(
    model: RiskModel,
    panel: pd.DataFrame,
    tracking_uri: str,
    artifact_root: Path,
    report: BacktestReport,
) -> tuple[str, TrainingRun, str]:
    """One logged and registered run, shared by the tests that only read it: name, run, version."""
    name = _model_name()
    run = log_training_run(
        model,
        panel,
        tracking_uri=tracking_uri,
        artifact_root=artifact_root,
        data_source="sqlite:///var/injury_risk.db",
        backtest=report,
    )
    return name, run, register_model(run, tracking_uri=tracking_uri, name=name)


def _json_records(rows: pd.DataFrame) -> pd.DataFrame:
    """Return ``rows`` as a client would send them: JSON text parsed back into plain values."""
    text = rows.to_json(orient="records", force_ascii=False)
    return pd.DataFrame(json.loads(text))


def test_registered_model_scores_json_like_memory(
    model: RiskModel,
    panel: pd.DataFrame,
    tracking_uri: str,
    registered: tuple[str, TrainingRun, str],
) -> None:
    """The version loaded by alias scores JSON input exactly as the in-memory model does."""
    name = registered[0]
    rows = panel[panel["as_of"] == panel["as_of"].max()].head(40)
    expected = model.predict(rows)

    received = _json_records(rows[FEATURES])
    assert received["ownership"].map(type).eq(str).all()
    pyfunc_model = mlflow.pyfunc.load_model(f"models:/{name}@candidate")
    scored = pyfunc_model.predict(received)
    loaded = load_model_version(tracking_uri, name, "candidate")

    np.testing.assert_allclose(scored["risk_score"], expected["risk_score"], rtol=1e-6)
    np.testing.assert_allclose(
        scored["expected_injuries"], expected["expected_injuries"], rtol=1e-6
    )
    np.testing.assert_allclose(
        loaded.predict(received)["risk_score"], expected["risk_score"], rtol=1e-6
    )
    assert loaded.schema == model.schema


def test_registered_model_flags_unseen_chinese_category(
    panel: pd.DataFrame, tracking_uri: str, registered: tuple[str, TrainingRun, str]
) -> None:
    """Through the pyfunc, an unseen Chinese label scores as missing and is flagged."""
    name = registered[0]
    tracking_client(tracking_uri)
    rows = _json_records(panel[FEATURES].head(10))
    unseen = rows.assign(ownership="集体")
    missing = rows.assign(ownership=None)

    pyfunc_model = mlflow.pyfunc.load_model(f"models:/{name}@candidate")
    scored_unseen = pyfunc_model.predict(unseen)
    scored_missing = pyfunc_model.predict(missing)

    np.testing.assert_allclose(
        scored_unseen["risk_score"], scored_missing["risk_score"], rtol=1e-12
    )
    assert (scored_unseen["unknown_categories"] == "ownership").all()
    assert (scored_missing["unknown_categories"] == "").all()


def test_training_run_logs_parameters_plots_and_signature(
    model: RiskModel, tracking_uri: str, registered: tuple[str, TrainingRun, str]
) -> None:
    """The run records the fingerprint, parameters, metrics, plots and a typed signature."""
    run = registered[1]
    client = tracking_client(tracking_uri)
    logged = client.get_run(run.run_id)
    artifacts = {item.path for item in client.list_artifacts(run.run_id, "plots")}
    signature = mlflow.models.get_model_info(run.model_uri).signature

    assert logged.data.tags["data_fingerprint"] == model.summary.fingerprint
    assert logged.data.params["calibration_method"] == model.calibration.method
    assert logged.data.params["xgb_max_depth"] == str(FAST.max_depth)
    assert "calibration_slice_brier" in logged.data.metrics
    assert "backtest_pr_auc_mean" in logged.data.metrics
    assert artifacts == {
        "plots/calibration_curve.png",
        "plots/capture_curve.png",
        "plots/shap_summary.png",
    }
    input_types = {spec.name: spec.type.name for spec in signature.inputs.inputs}
    assert input_types["ownership"] == "string"
    assert input_types["incident_count_12m"] == "double"
    assert [spec.name for spec in signature.outputs.inputs][:2] == [
        "risk_score",
        "expected_injuries",
    ]


def test_promotion_gate_moves_alias_only_for_better(
    model: RiskModel,
    panel: pd.DataFrame,
    tracking_uri: str,
    artifact_root: Path,
    report: BacktestReport,
) -> None:
    """First candidate becomes champion; a worse one does not move the alias; a better one does."""
    name = _model_name()

    def register(pr_auc: float, brier: float) -> str:
        logged = _with_metrics(report, pr_auc=pr_auc, brier=brier)
        run = log_training_run(
            model, panel, tracking_uri=tracking_uri, artifact_root=artifact_root, backtest=logged
        )
        return register_model(run, tracking_uri=tracking_uri, name=name)

    first = register(pr_auc=0.40, brier=0.10)
    first_result = promote_candidate(tracking_uri, name, "pr_auc")
    worse = register(pr_auc=0.35, brier=0.09)
    worse_result = promote_candidate(tracking_uri, name, "pr_auc")
    better = register(pr_auc=0.45, brier=0.12)
    better_result = promote_candidate(tracking_uri, name, "pr_auc")
    # Brier is lower-is-better: a higher PR-AUC does not help a candidate with a larger Brier.
    register(pr_auc=0.50, brier=0.13)
    brier_result = promote_candidate(tracking_uri, name, "brier")

    assert (first_result.action, first_result.champion_version) == ("first_champion", first)
    assert (worse_result.action, worse_result.champion_version) == ("kept_champion", first)
    assert worse_result.candidate_version == worse
    assert worse_result.candidate_value == pytest.approx(0.35)
    assert worse_result.champion_value == pytest.approx(0.40)
    assert (better_result.action, better_result.champion_version) == ("promoted", better)
    assert better_result.champion_version_before == first
    assert (brier_result.action, brier_result.champion_version) == ("kept_champion", better)
    champion = tracking_client(tracking_uri).get_model_version_by_alias(name, "champion")
    assert str(champion.version) == better


def test_promotion_unknown_metric_rejected(tracking_uri: str) -> None:
    """Calibration slope cannot rank two models, so the gate rejects it."""
    with pytest.raises(ModelError, match="cannot gate promotion"):
        promote_candidate(tracking_uri, _model_name(), "calibration_slope")


def test_promotion_without_candidate_rejected(tracking_uri: str) -> None:
    """A registry without a candidate is rejected with a pointer to `injury-risk train`."""
    with pytest.raises(ModelError, match="injury-risk train"):
        promote_candidate(tracking_uri, _model_name(), "pr_auc")


def test_load_champion_without_alias_rejected(tracking_uri: str) -> None:
    """Loading a champion that does not exist names the missing alias."""
    with pytest.raises(ModelError, match="has no alias 'champion'"):
        load_champion(tracking_uri, _model_name())


def test_export_champion_writes_model_and_card(
    model: RiskModel,
    panel: pd.DataFrame,
    tracking_uri: str,
    registered: tuple[str, TrainingRun, str],
    tmp_path: Path,
) -> None:
    """The export contains a loadable pyfunc directory and the card in JSON and Markdown."""
    name, _, version = registered
    promote_candidate(tracking_uri, name)

    exported = export_champion(tracking_uri, name, tmp_path / "models")
    card = json.loads(exported.card_json.read_text(encoding="utf-8"))
    markdown = exported.card_markdown.read_text(encoding="utf-8")
    reloaded = mlflow.pyfunc.load_model(str(exported.model_dir))

    assert exported.version == version
    assert card["model"]["version"] == version
    assert card["data"]["fingerprint"] == model.summary.fingerprint
    assert card["data"]["source"] == "sqlite:///var/injury_risk.db"
    assert card["data"]["rows"] == model.summary.n_rows
    assert card["calibration"]["method"] == model.calibration.method
    assert len(card["metrics"]["backtest"]["folds"]) == 1
    assert "size_band" in card["metrics"]["backtest"]["folds"][0]["metrics"]["slices"]
    assert card["known_limits"]
    assert f"version {version}" in markdown
    assert "## 已知局限 / Known limits" in markdown
    rows = _json_records(panel[FEATURES].head(5))
    np.testing.assert_allclose(
        reloaded.predict(rows)["risk_score"], model.predict(panel.head(5))["risk_score"], rtol=1e-6
    )
    assert load_champion(tracking_uri, name).summary.fingerprint == model.summary.fingerprint
