"""Model commands: ``train``, ``backtest`` and ``promote``.

Each works with no arguments on the configured store and MLflow tracking URI,
using the latest as-of date the data allow; options override the settings.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli import app
from api.config import Settings, get_settings

if TYPE_CHECKING:
    import pandas as pd

    from risk.model import BacktestReport, RiskModel, XGBParams
    from risk.tables import CanonicalTables

logger = logging.getLogger(__name__)
console = Console()

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(help="SQLAlchemy URL of the store to read; default INJURY_RISK_DATABASE_URL."),
]
TrackingUriOption = Annotated[
    str | None,
    typer.Option(help="MLflow tracking and registry URI; default INJURY_RISK_MLFLOW_TRACKING_URI."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        help="Data end, a date YYYY-MM-DD: records after it are ignored and only as-of dates "
        "whose outcome window ends by it are used; default the latest incident date."
    ),
]
HorizonOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Outcome window after each as-of date, in days; default INJURY_RISK_HORIZON_DAYS.",
    ),
]
ThreadsOption = Annotated[
    int | None,
    typer.Option(min=1, help="CPU threads of each XGBoost fit; default all cores."),
]
_FOLDS_HELP = "Number of backtest folds, one per quarterly as-of date, the latest first."
_DISPLAYED_METRICS = (
    "roc_auc",
    "pr_auc",
    "brier",
    "ece",
    "capture_top_10pct",
    "capture_top_10pct_vs_oracle",
)


def _parse_day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"日期格式应为 YYYY-MM-DD / expected a date YYYY-MM-DD, got {value!r}"
        ) from exc


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        # Not a SQLAlchemy URL: record the scheme only, in case the rest contains a secret.
        return url.split(":", 1)[0]


def _read_tables(database_url: str, data_end: dt.date | None) -> CanonicalTables:
    from risk.store import create_store_engine
    from risk.store.read import read_tables

    with console.status("读取数据 / reading the store…"):
        tables = read_tables(create_store_engine(database_url))
    return tables if data_end is None else tables.until(data_end)


@contextmanager
def _progress(description: str, total: int) -> Iterator[Callable[[str], None]]:
    """Yield a callback that advances a progress bar by one step per call after the first."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(description, total=total)
        calls = [0]

        def advance(step: str) -> None:
            # Each call announces the next step, so the previous one is done.
            if calls[0]:
                progress.advance(task)
            calls[0] += 1
            progress.update(task, description=f"{description}: {step}")

        yield advance
        progress.update(task, completed=total, description=f"{description}: done")


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]{exc}[/red]", highlight=False)
    return typer.Exit(code=1)


def _cell(value: Any) -> str:
    return "—" if value is None else f"{value:.4f}"


def _build_panel(tables: CanonicalTables, horizon: int) -> pd.DataFrame:
    from risk.model.backtest import build_grid_panel

    with console.status("构建面板 / building the panel over the quarterly as-of grid…"):
        return build_grid_panel(tables, horizon)


def _fit_and_log(
    panel: pd.DataFrame,
    horizon: int,
    folds: int,
    params: XGBParams,
    tracking_uri: str,
    source: str,
) -> tuple[RiskModel, str, BacktestReport | None]:
    from risk.features import FEATURE_NAMES
    from risk.model import backtest_panel, fit_risk_model, log_training_run, register_model

    settings = get_settings()
    names = list(FEATURE_NAMES)
    report = None
    if folds:
        with _progress("backtest", folds) as progress:
            report = backtest_panel(
                panel, horizon_days=horizon, n_folds=folds, feature_names=names, params=params,
                models=["xgboost"], progress=progress,
            )  # fmt: skip
    with console.status("训练模型 / fitting the model…"):
        model = fit_risk_model(panel, feature_names=names, params=params, horizon_days=horizon)
    with console.status("记录到 MLflow / logging to MLflow…"):
        run = log_training_run(
            model, panel, tracking_uri=tracking_uri, artifact_root=settings.mlflow_artifact_root,
            data_source=source, backtest=report,
        )  # fmt: skip
        version = register_model(
            run, tracking_uri=tracking_uri, name=settings.registered_model_name
        )
    return model, version, report


@app.command("train")
def train(
    database_url: DatabaseUrlOption = None,
    tracking_uri: TrackingUriOption = None,
    as_of: AsOfOption = None,
    horizon_days: HorizonOption = None,
    backtest_folds: Annotated[
        int,
        typer.Option(
            min=0,
            help=_FOLDS_HELP + " The promotion gate reads this backtest; 0 skips it.",
        ),
    ] = 4,
    threads: ThreadsOption = None,
) -> None:
    """Fit on every as-of date with a known outcome, log to MLflow, register a candidate."""
    from risk.errors import RiskError
    from risk.model import XGBParams

    settings = get_settings()
    horizon = horizon_days or settings.horizon_days
    url = database_url or settings.database_url
    uri = tracking_uri or settings.mlflow_tracking_uri
    try:
        panel = _build_panel(_read_tables(url, _parse_day(as_of)), horizon)
        model, version, report = _fit_and_log(
            panel, horizon, backtest_folds, XGBParams(n_jobs=threads), uri, _safe_url(url)
        )
    except RiskError as exc:
        raise _fail(exc) from exc

    slices = model.summary.slices
    console.print(
        f"trained {settings.registered_model_name} version {version} (alias candidate): "
        f"{len(panel)} rows, fit as_of {slices.fit_as_of[0]}..{slices.fit_as_of[-1]}, "
        f"calibrated on {slices.calibration_as_of} ({model.calibration.method})"
    )
    if report is not None:
        console.print(f"backtest mean pr_auc {_cell(report.mean_metric('xgboost', 'pr_auc'))}")


def _default_truth(settings: Settings) -> Path | None:
    candidate = settings.var_dir / "demo" / "truth"
    return candidate if candidate.exists() else None


def _print_report(report: BacktestReport) -> None:
    for fold in report.folds:
        table = Table(title=f"test as_of {fold.test_as_of} (outcomes to {fold.test_end})")
        table.add_column("model")
        for metric in _DISPLAYED_METRICS:
            table.add_column(metric, justify="right")
        for name, entry in fold.models.items():
            table.add_row(name, *(_cell(entry.get(metric)) for metric in _DISPLAYED_METRICS))
        console.print(table)


@app.command("backtest")
def backtest(
    database_url: DatabaseUrlOption = None,
    as_of: AsOfOption = None,
    horizon_days: HorizonOption = None,
    folds: Annotated[int, typer.Option(min=1, help=_FOLDS_HELP)] = 4,
    truth: Annotated[
        Path | None,
        typer.Option(
            help="Demo ground truth, the truth/ folder or its monthly_rates.csv.gz; adds the "
            "oracle. Default <INJURY_RISK_VAR_DIR>/demo/truth when it exists."
        ),
    ] = None,
    report_out: Annotated[
        Path | None, typer.Option(help="JSON file to write the full report to.")
    ] = None,
    threads: ThreadsOption = None,
) -> None:
    """Backtest XGBoost, the baselines and, on demo data, the oracle over rolling folds."""
    from risk.demo import read_monthly_rates
    from risk.errors import RiskError
    from risk.model import MODEL_NAMES, XGBParams, run_backtest

    settings = get_settings()
    truth_path = truth or _default_truth(settings)
    try:
        tables = _read_tables(database_url or settings.database_url, _parse_day(as_of))
        truth_frame = None if truth_path is None else read_monthly_rates(truth_path)
        n_models = len(MODEL_NAMES) - (truth_frame is None)
        with _progress("backtest", folds * n_models) as progress:
            report = run_backtest(
                tables,
                horizon_days=horizon_days or settings.horizon_days,
                n_folds=folds,
                truth=truth_frame,
                params=XGBParams(n_jobs=threads),
                progress=progress,
            )
    except RiskError as exc:
        raise _fail(exc) from exc

    _print_report(report)
    if report_out is not None:
        console.print(f"report written to {report.write_json(report_out)}")


@app.command("promote")
def promote(
    tracking_uri: TrackingUriOption = None,
    metric: Annotated[
        str,
        typer.Option(
            help="Backtest metric that decides, the mean over the folds logged with each "
            "version; higher wins, lower for brier, ece and poisson_deviance."
        ),
    ] = "pr_auc",
    models_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the exported champion and model card; default INJURY_RISK_MODELS_DIR."
        ),
    ] = None,
) -> None:
    """Move the champion alias to the candidate if it beats the champion; export the champion."""
    from risk.errors import RiskError
    from risk.model import export_champion, promote_candidate

    settings = get_settings()
    uri = tracking_uri or settings.mlflow_tracking_uri
    name = settings.registered_model_name
    try:
        result = promote_candidate(uri, name, metric)
        exported = export_champion(uri, name, models_dir or settings.models_dir)
    except RiskError as exc:
        raise _fail(exc) from exc

    console.print(
        f"{result.action}: candidate v{result.candidate_version} "
        f"{metric}={_cell(result.candidate_value)}, previous champion "
        f"v{result.champion_version_before or '—'} {metric}={_cell(result.champion_value)}; "
        f"champion is now v{result.champion_version}"
    )
    console.print(
        f"exported v{exported.version} to {exported.model_dir} and {exported.card_markdown}"
    )
