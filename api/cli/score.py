"""The ``score`` command: score every employer with the champion model and store the run."""

from __future__ import annotations

import datetime as dt
import logging

import typer

from api.cli import app
from api.config import get_settings

logger = logging.getLogger(__name__)


@app.command("score")
def score(
    as_of: str = typer.Option(
        None, help="评估基准日 YYYY-MM-DD; default the last quarter end on or before the data end."
    ),
    band_thresholds: str = typer.Option(
        None,
        help="Lower bounds of risk_score for red, orange and yellow, e.g. 0.5,0.2,0.05;"
        " default INJURY_RISK_BAND_THRESHOLDS.",
    ),
    database_url: str = typer.Option(
        None, help="SQLAlchemy URL of the store; default INJURY_RISK_DATABASE_URL."
    ),
) -> None:
    """Score and explain every employer with the champion model; store the scores as a run."""
    # Imported here: MLflow, XGBoost and pandas take seconds to import, and every
    # other command would pay for them.
    from api.champion import MlflowChampionSource
    from risk.errors import RiskError
    from risk.labels import latest_as_of
    from risk.scoring import BandThresholds, score_employers, write_score_frame
    from risk.store import create_store_engine
    from risk.store.read import read_tables

    settings = get_settings()
    try:
        thresholds = BandThresholds.parse(band_thresholds or settings.band_thresholds)
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc

    source = MlflowChampionSource(settings.mlflow_tracking_uri, settings.registered_model_name)
    version = source.champion_version()
    if version is None:
        typer.echo(
            f"模型 {settings.registered_model_name} 尚无冠军版本；请先运行 `injury-risk train` 与"
            " `injury-risk promote`。 / No champion version of"
            f" {settings.registered_model_name!r}; run `injury-risk train` and"
            " `injury-risk promote` first.",
            err=True,
        )
        raise typer.Exit(code=1)
    try:
        engine = create_store_engine(database_url or settings.database_url)
        tables = read_tables(engine)
        day = day or latest_as_of(tables)
        loaded = source.load(version)
        frame = score_employers(tables, loaded.model, day, thresholds)
        run_id = write_score_frame(
            engine, frame, model_name=settings.registered_model_name, model_version=version
        )
    except RiskError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc
    bands = frame.scores["risk_band"].value_counts().to_dict()
    typer.echo(
        f"scoring run {run_id}: model {settings.registered_model_name} version {version},"
        f" as_of {day}, {len(frame.scores)} employers, bands {bands}"
    )
