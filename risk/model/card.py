"""Export the champion model and its model card to a folder (``models/`` by default).

The export contains a copy of the champion's pyfunc model directory, which
``mlflow.pyfunc.load_model`` reads without the tracking server. Beside it,
``model_card.json`` and ``model_card.md`` describe the training data (source,
period, rows, fingerprint), the registered version, the metrics by backtest
fold and by slice, the calibration method and the known limits.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow.artifacts

from risk.errors import ModelError
from risk.model.report import json_safe
from risk.model.tracking import (
    BACKTEST_REPORT_ARTIFACT,
    CHAMPION_ALIAS,
    load_run_dict,
    model_version_by_alias,
    tracking_client,
)

logger = logging.getLogger(__name__)

MODEL_DIR_NAME = "champion"
CARD_JSON = "model_card.json"
CARD_MARKDOWN = "model_card.md"
KNOWN_LIMITS: tuple[str, ...] = (
    "Recognised injuries only: unreported or unrecognised injuries are invisible to the model.",
    "Commuting injuries (上下班途中) are excluded from the outcome; separate features count them.",
    "Rates are per 100 insured workers of the last complete year, not per hours worked, "
    "because Chinese exports carry no hours.",
    "Employers without history (new registrations) are scored mostly from industry, "
    "district and size.",
    "The backtest folds are the latest quarterly as-of dates of this version's training data; "
    "a version trained on other data was compared on other folds.",
    "risk_score is calibrated on the latest training as-of date only; later drift is not "
    "corrected until the next training run.",
    "SHAP contributions explain the uncalibrated booster in log-odds, not the calibrated "
    "risk_score.",
)


@dataclass(frozen=True)
class ChampionExport:
    """Paths written by :func:`export_champion` and the exported version."""

    version: str
    model_dir: Path
    card_json: Path
    card_markdown: Path


def _backtest_section(report: dict[str, Any] | None) -> dict[str, Any]:
    if report is None:
        return {"folds": [], "mean": {}}
    folds = [
        {
            "test_start": fold["test_start"],
            "test_end": fold["test_end"],
            "n_test_rows": fold["n_test_rows"],
            "metrics": fold["models"].get("xgboost", {}),
        }
        for fold in report.get("folds", [])
    ]
    return {"folds": folds, "mean": report.get("summary", {}).get("xgboost", {})}


def build_model_card(tracking_uri: str, name: str, alias: str = CHAMPION_ALIAS) -> dict[str, Any]:
    """Collect the model card of the version ``alias`` points at, as plain JSON types."""
    version = model_version_by_alias(tracking_uri, name, alias)
    if version is None:
        raise ModelError(
            f"模型 {name!r} 没有别名 {alias!r} / registered model {name!r} has no alias {alias!r}; "
            "run `injury-risk promote` first"
        )
    run = tracking_client(tracking_uri).get_run(version.run_id)
    summary = load_run_dict(tracking_uri, version.run_id, "training/summary.json") or {}
    slices = summary.get("slices", {})
    return json_safe(
        {
            "model": {
                "name": name,
                "version": str(version.version),
                "alias": alias,
                "run_id": version.run_id,
                "source": version.source,
                "created_at": dt.datetime.fromtimestamp(version.creation_timestamp / 1000, dt.UTC),
            },
            "data": {
                "source": run.data.tags.get("data_source", ""),
                "as_of_first": run.data.tags.get("as_of_first"),
                "as_of_last": run.data.tags.get("as_of_last"),
                "calibration_as_of": slices.get("calibration_as_of"),
                "rows": summary.get("n_rows", {}),
                "fingerprint": run.data.tags.get("data_fingerprint"),
            },
            "horizon_days": summary.get("horizon_days"),
            "calibration": load_run_dict(tracking_uri, version.run_id, "training/calibration.json")
            or {},
            "hyperparameters": {
                key.removeprefix("xgb_"): value
                for key, value in run.data.params.items()
                if key.startswith("xgb_")
            },
            "features": (
                load_run_dict(tracking_uri, version.run_id, "features/feature_list.json") or {}
            ).get("feature_names", []),
            "metrics": {
                "calibration_slice": {
                    key.removeprefix("calibration_slice_"): value
                    for key, value in run.data.metrics.items()
                    if key.startswith("calibration_slice_")
                },
                "backtest": _backtest_section(
                    load_run_dict(tracking_uri, version.run_id, BACKTEST_REPORT_ARTIFACT)
                ),
            },
            "known_limits": list(KNOWN_LIMITS),
        }
    )


def _format(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _format_scores(scores: dict[str, Any]) -> str:
    if not scores:
        return "not compared"
    return ", ".join(f"{name} {_format(value)}" for name, value in scores.items())


_CARD_METRICS = ("roc_auc", "pr_auc", "brier", "ece", "calibration_slope", "capture_top_10pct")


def render_model_card(card: dict[str, Any]) -> str:
    """Render ``card`` as Markdown."""
    model, data = card["model"], card["data"]
    lines = [
        f"# 模型卡 / Model card: {model['name']} version {model['version']}",
        "",
        f"- Alias `{model['alias']}`, MLflow run `{model['run_id']}`, "
        f"registered {model['created_at']}",
        f"- Horizon: {card['horizon_days']} days after `as_of`",
        f"- Calibration: {card['calibration'].get('method', '—')} "
        f"(out-of-fold Brier: {_format_scores(card['calibration'].get('brier', {}))})",
        "",
        "## 数据 / Data",
        "",
        f"- Source: {data['source'] or '—'}",
        f"- As-of dates: {data['as_of_first']} to {data['as_of_last']} "
        f"(calibration slice {data['calibration_as_of']})",
        f"- Rows: {data['rows']}",
        f"- Fingerprint: `{data['fingerprint']}`",
        "",
        "## 回测指标 / Backtest metrics (XGBoost)",
        "",
        "| test as_of | outcome window ends | " + " | ".join(_CARD_METRICS) + " |",
        "| --- | --- | " + " | ".join("---" for _ in _CARD_METRICS) + " |",
    ]
    backtest = card["metrics"]["backtest"]
    for fold in backtest["folds"]:
        values = " | ".join(_format(fold["metrics"].get(name)) for name in _CARD_METRICS)
        lines.append(f"| {fold['test_start']} | {fold['test_end']} | {values} |")
    mean = " | ".join(_format(backtest["mean"].get(name)) for name in _CARD_METRICS)
    lines += [f"| mean | | {mean} |", ""]
    lines += _slice_lines(backtest["folds"][-1] if backtest["folds"] else None)
    lines += ["## 已知局限 / Known limits", ""]
    lines += [f"- {limit}" for limit in card["known_limits"]]
    return "\n".join(lines) + "\n"


def _slice_lines(fold: dict[str, Any] | None) -> list[str]:
    if fold is None:
        return []
    lines = [f"## 分组指标 / Metrics by slice (fold {fold['test_start']})", ""]
    for slice_name, groups in fold["metrics"].get("slices", {}).items():
        lines += [f"### {slice_name}", "", "| group | " + " | ".join(_CARD_METRICS) + " |"]
        lines.append("| --- | " + " | ".join("---" for _ in _CARD_METRICS) + " |")
        for group, metrics in groups.items():
            lines.append(
                f"| {group} | " + " | ".join(_format(metrics.get(n)) for n in _CARD_METRICS) + " |"
            )
        lines.append("")
    return lines


def export_champion(tracking_uri: str, name: str, models_dir: Path) -> ChampionExport:
    """Copy the champion's pyfunc model to ``models_dir/champion`` and write its model card.

    A previous export in ``models_dir/champion`` is replaced.
    """
    card = build_model_card(tracking_uri, name, CHAMPION_ALIAS)
    models_dir.mkdir(parents=True, exist_ok=True)
    model_dir = models_dir / MODEL_DIR_NAME
    if model_dir.exists():
        shutil.rmtree(model_dir)
    tracking_client(tracking_uri)
    mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/{name}@{CHAMPION_ALIAS}", dst_path=str(model_dir)
    )

    card_json = models_dir / CARD_JSON
    card_json.write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    card_markdown = models_dir / CARD_MARKDOWN
    card_markdown.write_text(render_model_card(card), encoding="utf-8")
    logger.info("exported %s version %s to %s", name, card["model"]["version"], models_dir)
    return ChampionExport(card["model"]["version"], model_dir, card_json, card_markdown)
