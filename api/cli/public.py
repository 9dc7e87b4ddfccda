"""Public-data commands: ``public download``, ``public msha`` and ``public report``."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from api.cli import app

logger = logging.getLogger(__name__)

public_app = typer.Typer(
    help="公开数据（美国 MSHA、OSHA）/ Public US injury data: download, MSHA pipeline, report.",
    no_args_is_help=True,
)
app.add_typer(public_app, name="public")

HEADLINE_COLUMNS = ("capture_top_10pct", "rate_precision_top_10pct", "rate_spearman")


@public_app.command("download")
def download(
    out: Annotated[
        Path,
        typer.Option(help="Folder for the downloads, the unpacked files and the MSHA panel files."),
    ],
    manifest: Annotated[
        Path | None,
        typer.Option(
            help="CSV of the files to fetch (columns name,url,format,archive,member,min_bytes,"
            "sha256); default: the shipped risk/public/mappings/public_sources.csv."
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(help="Fetch only the manifest row with this name; repeat for several."),
    ] = None,
    reject_out: Annotated[
        Path | None, typer.Option(help="CSV file listing every row the adapters could not place.")
    ] = None,
) -> None:
    """Download, verify and unpack the public MSHA and OSHA files, then adapt them."""
    from risk.public.download import DownloadError
    from risk.public.loader import SUMMARY_FILE, fetch_public_data

    try:
        result = fetch_public_data(out, manifest=manifest, only=only or None)
    except DownloadError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc
    for item in result.files:
        typer.echo(f"{item.source.name}: {item.size_bytes:,} bytes, sha256 {item.sha256}")
    for name, tables in result.tables.items():
        typer.echo(f"{name}: {tables.row_counts()}")
    typer.echo(result.report.describe())
    if result.panel_dir is not None:
        typer.echo(f"MSHA 面板 / MSHA panel: {result.panel_dir}")
        typer.echo(f"  injury-risk public msha --data {result.panel_dir} --report-out FILE.json")
    if reject_out is not None:
        result.report.write_rejects(reject_out)
    typer.echo(f"summary: {out / SUMMARY_FILE}")


@public_app.command("msha")
def msha(
    data: Annotated[
        Path,
        typer.Option(
            help="Folder with mine_quarter_employment.csv, mine_quarter_injuries.csv and,"
            " optionally, mine_quarter_lagged_violations.csv.gz."
        ),
    ],
    report_out: Annotated[
        Path, typer.Option(help="JSON file for the backtest report (same shape as `backtest`).")
    ],
    database_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL of the store the panel is loaded into; default: a throwaway"
            " SQLite file in a temporary folder, deleted afterwards, so the agency's store is"
            " never touched."
        ),
    ] = None,
    reject_out: Annotated[
        Path | None,
        typer.Option(help="CSV file listing every panel row the adapter could not place."),
    ] = None,
    scores_out: Annotated[
        Path | None, typer.Option(help="CSV file for the scores of every mine as of the data end.")
    ] = None,
    plan_out: Annotated[
        Path | None, typer.Option(help="CSV file for the sessions of the course plan.")
    ] = None,
    plan_employers: Annotated[
        int,
        typer.Option(
            help="Most mines the course plan may include (the first programme round reached 70);"
            " 0 skips planning."
        ),
    ] = 70,
    mine_sample: Annotated[
        int | None,
        typer.Option(
            help="Use only this many mines, spread evenly over the sorted mine ids, for a quick"
            " run; all mines when not given."
        ),
    ] = None,
    rounds: Annotated[int, typer.Option(help="XGBoost boosting rounds of every fit.")] = 300,
) -> None:
    """Run ingest, features, backtest, training, scoring and planning on the MSHA mine panel."""
    from risk.public.msha import sample_mine_ids
    from risk.public.msha_pipeline import run_msha_pipeline
    from risk.store import create_store_engine, upgrade_store

    mine_ids = None if mine_sample is None else sample_mine_ids(data, mine_sample)
    with tempfile.TemporaryDirectory(prefix="injury-risk-msha-") as scratch:
        url = database_url or f"sqlite:///{Path(scratch) / 'msha.db'}"
        engine = create_store_engine(url)
        upgrade_store(engine)
        run = run_msha_pipeline(data, engine, mine_ids=mine_ids, rounds=rounds)
        engine.dispose()
    report = dict(run.report)
    if plan_employers > 0:
        report["plan"] = _plan_mines(run, plan_employers, plan_out)

    report_out.parent.mkdir(parents=True, exist_ok=True)
    report_out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    if reject_out is not None:
        run.panel.report.write_rejects(reject_out)
    if scores_out is not None:
        scores_out.parent.mkdir(parents=True, exist_ok=True)
        run.scores.to_csv(scores_out, index=False, encoding="utf-8-sig")
    typer.echo(run.panel.report.describe())
    typer.echo(_summary_table(report))
    typer.echo(f"report: {report_out}")


@public_app.command("report")
def report_pages(
    report: Annotated[
        Path, typer.Option(help="JSON written by `injury-risk public msha --report-out`.")
    ],
    out: Annotated[
        Path, typer.Option(help="Folder for real-data.md, real-data.zh-CN.md and images/.")
    ] = Path("docs"),
) -> None:
    """Write the real-data pages (English and Chinese) and their figures from a report JSON."""
    from risk.public.msha_docs import write_report_pages

    content = json.loads(report.read_text(encoding="utf-8"))
    for path in write_report_pages(content, out):
        typer.echo(str(path))


def _summary_table(report: dict[str, Any]) -> str:
    lines = [f"{'model':<18}" + "".join(f"{name:>26}" for name in HEADLINE_COLUMNS)]
    for name in report["model_names"]:
        values = report["summary"][name]
        lines.append(
            f"{name:<18}"
            + "".join(
                f"{'–' if values.get(metric) is None else format(values[metric], '.3f'):>26}"
                for metric in HEADLINE_COLUMNS
            )
        )
    return "\n".join(lines)


def _plan_mines(run: Any, max_employers: int, plan_out: Path | None) -> dict[str, Any]:
    """Plan courses for the scored mines with one demonstration trainer per US state.

    The shipped trainer file serves Hangzhou districts only, so the plan uses
    one trainer per state of the candidates, qualified for every course. This
    shows the planner's mechanics on real scores. It is not a plan any
    organisation could deliver.
    """
    from training import PlanBudget, PlanOptions, plan_courses
    from training.catalog import load_course_effects, load_courses
    from training.models import HazardEvidence

    scores = run.scores
    employers = run.tables.employers.set_index("employer_id")
    candidates = pd.DataFrame(
        {
            "employer_id": scores["employer_id"],
            "name": scores["employer_id"].map(employers["name"]),
            "district_code": scores["state"],
            "industry_code": scores["employer_id"].map(employers["industry_code"]),
            "expected_injuries": scores["expected_injuries"],
            "risk_score": scores["risk_score"],
            "headcount": scores["employees_latest"].fillna(1.0).round().astype("int64"),
        }
    )
    courses = load_courses()
    qualifications = frozenset(courses["qualification"])
    states = sorted(candidates["district_code"].unique())
    trainers = pd.DataFrame(
        {
            "trainer_id": [f"US-{state}" for state in states],
            "organisation": [f"Demonstration trainer, {state}" for state in states],
            "qualifications": [qualifications] * len(states),
            "district_codes": [frozenset({state}) for state in states],
            "sessions_per_week": 4,
        }
    )
    evidence = HazardEvidence(
        contributions=run.contributions,
        incidents=run.tables.incidents,
        hazard_findings=run.tables.hazard_findings,
        employers=run.tables.employers,
    )
    as_of = pd.Timestamp(scores["as_of"].iloc[0]).date()
    plan = plan_courses(
        candidates,
        courses,
        trainers,
        PlanBudget(max_employers=max_employers),
        effects=load_course_effects(),
        evidence=evidence,
        options=PlanOptions(as_of=as_of),
    )
    sessions = plan.sessions_frame()
    if plan_out is not None:
        plan_out.parent.mkdir(parents=True, exist_ok=True)
        sessions.to_csv(plan_out, index=False, encoding="utf-8-sig")
    return {
        "as_of": as_of.isoformat(),
        "employers": len(plan.course_plans),
        "sessions": len(sessions),
        "expected_injuries_averted": plan.expected_injuries_averted,
        "solver_status": plan.solve.status,
        "trainers": "one demonstration trainer per US state",
    }
