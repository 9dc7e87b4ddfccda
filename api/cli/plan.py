"""Training-plan commands: ``plan`` builds a plan, ``plans ...`` manages stored ones."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import typer

from api.cli import app
from api.config import get_settings

logger = logging.getLogger(__name__)

plans_app = typer.Typer(help="已保存的培训计划 / Stored training plans.", no_args_is_help=True)
app.add_typer(plans_app, name="plans")


def _parse_quotas(values: list[str] | None, option: str) -> dict[str, int]:
    quotas: dict[str, int] = {}
    for value in values or []:
        district, separator, count = value.partition("=")
        if not separator or not count.strip().isdigit():
            raise typer.BadParameter(
                f"{option} 应写作 区县代码=数量，例如 330109=5，收到 {value!r}。"
                f" / {option} takes DISTRICT=COUNT, for example 330109=5; got {value!r}."
            )
        quotas[district.strip()] = int(count)
    return quotas


def _candidates(engine: object, settings: object, as_of: dt.date | None) -> object:
    """Return the stored candidates, falling back to champion-model scores.

    When no candidates are stored, every employer is scored with the champion model as of
    ``as_of``, or the latest period end in the store when ``as_of`` is None.
    """
    from api.champion import MlflowChampionSource
    from risk.labels import latest_as_of
    from risk.scoring import score_employers
    from risk.store.read import read_tables
    from training.candidates import candidates_from_score_frame, candidates_from_store

    stored = candidates_from_store(engine, settings.registered_model_name)  # type: ignore[arg-type, attr-defined]
    if stored is not None:
        return stored
    source = MlflowChampionSource(settings.mlflow_tracking_uri, settings.registered_model_name)  # type: ignore[attr-defined]
    version = source.champion_version()
    if version is None:
        typer.echo(
            "没有已保存的评分，也没有冠军模型；"
            "请先运行 `injury-risk train`、`injury-risk promote`。"
            " / No stored scores and no champion model; run `injury-risk train` and"
            " `injury-risk promote` first.",
            err=True,
        )
        raise typer.Exit(code=1)
    tables = read_tables(engine)  # type: ignore[arg-type]
    frame = score_employers(tables, source.load(version).model, as_of or latest_as_of(tables))
    names = tables.employers.set_index("employer_id")["name"]
    return candidates_from_score_frame(frame, names)


@app.command("plan")
def plan(
    out: Path = typer.Option(..., help="Output file; .xlsx, .csv or .ics picks the format."),
    budget_employers: int = typer.Option(None, help="Most employers the plan may include."),
    budget_sessions: int = typer.Option(None, help="Most training sessions over the horizon."),
    budget_trainer_hours: float = typer.Option(None, help="Most trainer hours over the horizon."),
    weeks: int = typer.Option(26, help="Planning horizon in weeks."),
    start_date: str = typer.Option(
        None, help="Monday of week 1, YYYY-MM-DD; default the Monday after as_of."
    ),
    max_per_week: int = typer.Option(2, help="Most sessions one employer hosts in a week."),
    exclude_trained_months: int = typer.Option(
        12, help="Leave out employers trained in this many months."
    ),
    district_min: list[str] = typer.Option(
        None, help="Minimum employers in a district, DISTRICT=COUNT; repeatable."
    ),
    district_max: list[str] = typer.Option(
        None, help="Maximum employers in a district, DISTRICT=COUNT; repeatable."
    ),
    must_include: list[str] = typer.Option(
        None, help="employer_id the plan must include; repeatable."
    ),
    time_limit: float = typer.Option(60.0, help="Solver time limit in seconds."),
    name: str = typer.Option(None, help="Name of the stored plan; default 'plan <date>'."),
    save: bool = typer.Option(True, help="Store the plan as a draft."),
    database_url: str = typer.Option(
        None, help="SQLAlchemy URL of the store; default INJURY_RISK_DATABASE_URL."
    ),
) -> None:
    """Build a training plan from the stored scores and write it to OUT."""
    from risk.errors import RiskError
    from risk.store import create_store_engine
    from training.export import format_from_suffix, write_plan
    from training.models import PlanBudget, PlanOptions
    from training.records import save_plan
    from training.service import load_catalogue, plan_from_candidates

    settings = get_settings()
    try:
        format_from_suffix(out)
        first_week = dt.date.fromisoformat(start_date) if start_date else None
        options = PlanOptions(
            horizon_weeks=weeks,
            start_date=first_week,
            max_sessions_per_employer_week=max_per_week,
            district_min=_parse_quotas(district_min, "--district-min"),
            district_max=_parse_quotas(district_max, "--district-max"),
            must_include=frozenset(must_include or ()),
            exclude_trained_months=exclude_trained_months,
            time_limit_seconds=time_limit,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    budget = PlanBudget(budget_employers, budget_sessions, budget_trainer_hours)
    try:
        engine = create_store_engine(database_url or settings.database_url)
        catalogue = load_catalogue(
            settings.training_courses_path,
            settings.training_trainers_path,
            settings.training_effects_path,
        )
        result = plan_from_candidates(
            engine,
            _candidates(engine, settings, None),
            catalogue,  # type: ignore[arg-type]
            budget,
            options,
        )
        write_plan(result, out)
        stored = (
            save_plan(engine, result, name or f"plan {dt.date.today()}", "cli") if save else None
        )
    except RiskError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc
    solve = result.solve
    typer.echo(
        f"{len(result.course_plans)} employers, {len(result.sessions)} sessions,"
        f" {result.expected_injuries_averted:.2f} expected injuries averted;"
        f" {solve.strategy}, {solve.status}, gap {solve.gap:.4%},"
        f" {solve.solve_seconds:.1f} s -> {out}"
    )
    if stored is not None:
        typer.echo(f"stored as plan {stored.plan_id} version {stored.version} ({stored.status})")


def _engine(database_url: str | None) -> object:
    from risk.store import create_store_engine

    return create_store_engine(database_url or get_settings().database_url)


_DATABASE = typer.Option(
    None, help="SQLAlchemy URL of the store; default INJURY_RISK_DATABASE_URL."
)


@plans_app.command("list")
def list_plans(database_url: str = _DATABASE) -> None:
    """List stored plans with their latest version and status."""
    from training.records import list_plans as read_plans

    for info in read_plans(_engine(database_url)):  # type: ignore[arg-type]
        typer.echo(
            f"{info.plan_id}\tv{info.version}\t{info.status}\t{info.employer_count} employers\t"
            f"{info.session_count} sessions\t{info.objective:.2f} averted\t{info.name}"
        )


def _change(action: str, plan_id: int, version: int, database_url: str | None) -> None:
    from training.errors import PlanningError
    from training.records import change_plan_status

    try:
        info = change_plan_status(_engine(database_url), plan_id, version, action, "cli")  # type: ignore[arg-type]
    except PlanningError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"plan {info.plan_id} version {info.version}: {info.status}")


@plans_app.command("approve")
def approve(plan_id: int, version: int, database_url: str = _DATABASE) -> None:
    """Approve a draft plan version."""
    _change("approve", plan_id, version, database_url)


@plans_app.command("publish")
def publish(plan_id: int, version: int, database_url: str = _DATABASE) -> None:
    """Publish an approved plan version to the trainers."""
    _change("publish", plan_id, version, database_url)


@plans_app.command("export")
def export(
    plan_id: int,
    out: Path = typer.Option(..., help="Output file: .xlsx, .csv or .ics."),
    version: int = typer.Option(None, help="Version to export; default the latest."),
    database_url: str = _DATABASE,
) -> None:
    """Export a stored plan version."""
    from training.errors import PlanningError
    from training.export import write_plan
    from training.records import read_plan

    try:
        write_plan(read_plan(_engine(database_url), plan_id, version), out)  # type: ignore[arg-type]
    except (PlanningError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"plan {plan_id} -> {out}")


@plans_app.command("link-key")
def link_key(
    key_id: str,
    organisation: str = typer.Option(..., help="Training organisation, as in the trainer file."),
    database_url: str = _DATABASE,
) -> None:
    """Let a trainer-role API key see the sessions of one training organisation."""
    from training.records import link_trainer_key

    link_trainer_key(_engine(database_url), key_id, organisation)  # type: ignore[arg-type]
    typer.echo(f"API key {key_id} -> {organisation}")
