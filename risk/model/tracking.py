"""MLflow tracking and registry: log a fit, register it, load a version by alias.

Every function takes the tracking URI explicitly, because ``risk`` reads no
environment variables. MLflow 3 needs a database-backed store for the model
registry, so the URI is a SQLAlchemy URL such as ``sqlite:///var/mlflow.db``.
Run artifacts go to the experiment's artifact location, which is set when the
experiment is first created.

Backtest metrics of a registered version are logged on the run that produced
it, as ``backtest_<metric>_mean`` (mean over folds) and ``backtest_<metric>``
with ``step`` = fold number; the promotion gate in
:mod:`risk.model.promotion` reads them.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from risk.errors import ModelError
from risk.model.metrics import METRIC_NAMES, score_metrics
from risk.model.plots import plot_calibration_curve, plot_capture_curve, plot_shap_summary
from risk.model.pyfunc import RiskPyfuncModel, log_pyfunc_model
from risk.model.report import BacktestReport, json_safe
from risk.model.slices import split_time_slices
from risk.model.xgb import RiskModel

logger = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "injury-risk"
CANDIDATE_ALIAS = "candidate"
CHAMPION_ALIAS = "champion"
BACKTEST_REPORT_ARTIFACT = "backtest/report.json"
SHAP_SAMPLE_ROWS = 500


def tracking_client(tracking_uri: str) -> MlflowClient:
    """Return a client of ``tracking_uri`` and make it MLflow's global tracking and registry URI.

    The fluent API (``start_run``, ``log_model``, ``load_model``) reads the
    global URI, so every public function here sets it first.
    """
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def ensure_experiment(
    tracking_uri: str, artifact_root: Path, name: str = DEFAULT_EXPERIMENT
) -> str:
    """Return the id of experiment ``name``, creating it with artifacts under ``artifact_root``."""
    client = tracking_client(tracking_uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    artifact_root.mkdir(parents=True, exist_ok=True)
    location = (artifact_root.resolve() / name).as_uri()
    logger.info("creating MLflow experiment %s with artifacts at %s", name, location)
    return str(client.create_experiment(name, artifact_location=location))


def _calibration_slice(model: RiskModel, panel: pd.DataFrame) -> pd.DataFrame:
    as_of = pd.to_datetime(panel["as_of"]).dt.date
    calibration_as_of = split_time_slices(panel["as_of"], model.horizon_days).calibration_as_of
    return panel[(as_of == calibration_as_of).to_numpy()]


def _log_diagnostics(
    model: RiskModel, panel: pd.DataFrame, work_dir: Path
) -> dict[str, float | None]:
    """Log calibration-slice metrics and the three plots; return the metrics."""
    rows = _calibration_slice(model, panel)
    predicted = model.predict(rows)
    metrics = score_metrics(
        rows["injury_any"],
        rows["injury_count"],
        predicted["risk_score"],
        expected_injuries=predicted["expected_injuries"],
        ranking_score=predicted["uncalibrated_score"],
        capture_score=predicted["expected_injuries"],
    )
    plots = work_dir / "plots"
    plot_calibration_curve(
        rows["injury_any"], predicted["risk_score"], plots / "calibration_curve.png"
    )
    plot_capture_curve(
        rows["injury_count"], predicted["expected_injuries"], plots / "capture_curve.png"
    )
    plot_shap_summary(
        model.classifier.get_booster(),
        model.prepare(rows).frame,
        plots / "shap_summary.png",
        max_rows=SHAP_SAMPLE_ROWS,
        seed=model.params.random_state,
    )
    mlflow.log_artifacts(str(plots), artifact_path="plots")
    return metrics


@dataclass(frozen=True)
class TrainingRun:
    """A logged fit: the MLflow run id and the URI of its logged model (``models:/m-…``)."""

    run_id: str
    model_uri: str


def log_training_run(
    model: RiskModel,
    panel: pd.DataFrame,
    *,
    tracking_uri: str,
    artifact_root: Path,
    experiment_name: str = DEFAULT_EXPERIMENT,
    data_source: str = "",
    backtest: BacktestReport | None = None,
) -> TrainingRun:
    """Log one fit as an MLflow run and return its run id and model URI.

    The run records the hyper-parameters, the slices and row counts, the
    calibration choice, metrics on the calibration slice (prefixed
    ``calibration_slice_``), the feature list and schema, the panel
    fingerprint, calibration and capture curves, a SHAP summary plot, the
    pyfunc model with its signature and input example, and, when given, the
    backtest of the same configuration.
    """
    experiment_id = ensure_experiment(tracking_uri, artifact_root, experiment_name)
    summary = model.summary
    with mlflow.start_run(experiment_id=experiment_id) as run, tempfile.TemporaryDirectory() as tmp:
        work_dir = Path(tmp)
        mlflow.set_tags(
            {
                "data_fingerprint": summary.fingerprint,
                "data_source": data_source,
                "as_of_first": summary.slices.fit_as_of[0].isoformat(),
                "as_of_last": summary.slices.calibration_as_of.isoformat(),
                "calibration_method": model.calibration.method,
            }
        )
        mlflow.log_params({f"xgb_{key}": value for key, value in model.params.to_dict().items()})
        mlflow.log_params(
            {
                "horizon_days": summary.horizon_days,
                "calibration_method": model.calibration.method,
                "n_features": len(model.feature_names),
                **{f"n_rows_{name}": value for name, value in summary.n_rows.items()},
                **{
                    f"best_iteration_{name}": value
                    for name, value in summary.best_iteration.items()
                },
            }
        )
        mlflow.log_dict({"feature_names": model.feature_names}, "features/feature_list.json")
        mlflow.log_dict(model.schema.to_dict(), "features/feature_schema.json")
        mlflow.log_dict(json_safe(summary.to_dict()), "training/summary.json")
        mlflow.log_dict(json_safe(model.calibration.to_dict()), "training/calibration.json")
        metrics = _log_diagnostics(model, panel, work_dir)
        mlflow.log_metrics(
            {
                f"calibration_slice_{name}": value
                for name, value in metrics.items()
                if value is not None
            }
        )
        mlflow.log_metric("count_scale", summary.count_scale)
        model_uri = log_pyfunc_model(model, panel[model.feature_names], work_dir / "model")
        if backtest is not None:
            _log_backtest(backtest)
        run_id = str(run.info.run_id)
    logger.info("logged training run %s (fingerprint %s)", run_id, summary.fingerprint[:12])
    return TrainingRun(run_id, model_uri)


def _log_backtest(report: BacktestReport) -> None:
    for metric in METRIC_NAMES:
        mean = report.mean_metric("xgboost", metric)
        if mean is not None:
            mlflow.log_metric(f"backtest_{metric}_mean", mean)
        for step, value in enumerate(report.metric_values("xgboost", metric)):
            if value is not None:
                mlflow.log_metric(f"backtest_{metric}", value, step=step)
    mlflow.log_dict(report.to_dict(), BACKTEST_REPORT_ARTIFACT)


def log_backtest_metrics(tracking_uri: str, run_id: str, report: BacktestReport) -> None:
    """Log the XGBoost metrics of ``report`` and the report itself on an existing run."""
    tracking_client(tracking_uri)
    with mlflow.start_run(run_id=run_id):
        _log_backtest(report)


def register_model(
    run: TrainingRun, *, tracking_uri: str, name: str, alias: str = CANDIDATE_ALIAS
) -> str:
    """Register the run's pyfunc model under ``name``, point ``alias`` at it, return the version."""
    client = tracking_client(tracking_uri)
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(
            name, description="工伤预防风险模型 / injury-prevention risk model (risk.model)"
        )
    # MLflow 3 stores logged models outside the run's artifacts, so the
    # source is the logged model's URI, not runs:/<run_id>/model.
    version = client.create_model_version(name, run.model_uri, run_id=run.run_id)
    client.set_registered_model_alias(name, alias, version.version)
    logger.info("registered %s version %s with alias %s", name, version.version, alias)
    return str(version.version)


def model_version_by_alias(tracking_uri: str, name: str, alias: str) -> Any | None:
    """Return the model version that ``alias`` points at, or None when the alias is not set.

    The client gets its URIs explicitly and leaves MLflow's process-wide URIs alone: the
    service's champion watcher polls this from a thread, and switching the global URIs there
    would send another thread's ``log_model`` to the wrong store.
    """
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def load_model_version(tracking_uri: str, name: str, alias: str) -> RiskModel:
    """Load the :class:`RiskModel` that ``alias`` of registered model ``name`` points at.

    Raises
    ------
    ModelError
        When the alias is not set or the stored model is not a risk model.
    """
    tracking_client(tracking_uri)
    if model_version_by_alias(tracking_uri, name, alias) is None:
        raise ModelError(
            f"模型 {name!r} 没有别名 {alias!r} / registered model {name!r} has no alias {alias!r} "
            f"in {tracking_uri}; run `injury-risk train` and `injury-risk promote` first"
        )
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@{alias}")
    # MLflow 3.17's load_model makes the loaded model the process's "active model", and a
    # later log_model in the same process then links to it, failing when it lives in another
    # store. Loading for scoring should leave no such global state behind.
    mlflow.clear_active_model()
    wrapped = loaded.unwrap_python_model()
    if not isinstance(wrapped, RiskPyfuncModel):
        raise ModelError(
            f"models:/{name}@{alias} is not a risk model (got {type(wrapped).__name__})"
        )
    return wrapped.risk_model


def load_champion(tracking_uri: str, name: str) -> RiskModel:
    """Load the registered model version with the alias ``champion``."""
    return load_model_version(tracking_uri, name, CHAMPION_ALIAS)


def load_run_dict(tracking_uri: str, run_id: str, artifact: str) -> dict[str, Any] | None:
    """Return the JSON artifact ``artifact`` of run ``run_id``, or None when it is missing."""
    tracking_client(tracking_uri)
    try:
        return dict(mlflow.artifacts.load_dict(f"runs:/{run_id}/{artifact}"))
    except (MlflowException, OSError, json.JSONDecodeError):
        return None
