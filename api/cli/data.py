"""Data commands: database migrations, demo data and ingest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import OperationalError

from api.cli import app
from api.config import get_settings
from risk.errors import IngestError, RowError, StoreError
from risk.ingest import IngestResult, ingest_files, write_error_report, write_rejected_rows
from risk.store import create_store_engine, current_revision, upgrade_store

db_app = typer.Typer(help="数据库结构 / Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(
    database_url: str = typer.Option(
        None, help="SQLAlchemy URL of the store; default INJURY_RISK_DATABASE_URL."
    ),
) -> None:
    """Create or migrate the store's tables to the newest schema."""
    engine = create_store_engine(database_url or get_settings().database_url)
    upgrade_store(engine)
    typer.echo(f"schema revision: {current_revision(engine)}")


_KIND_LABELS = {
    "employers": ("用人单位", "employers"),
    "headcounts": ("参保人数", "headcounts"),
    "incidents": ("工伤事故", "incidents"),
    "hazard_findings": ("隐患", "hazard findings"),
    "training_records": ("培训记录", "training records"),
    "courses": ("课程", "courses"),
    "trainers": ("培训机构", "trainers"),
}
_EXPORT_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")
# Errors printed to the console; the CSV report lists all of them.
CONSOLE_ERROR_LINES = 50


@app.command("ingest")
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(
            exists=True,
            help="Export files (CSV in UTF-8 or GB18030, or XLSX), or folders of them;"
            " each file's table is recognised from its headers.",
        ),
    ],
    database_url: Annotated[
        str | None,
        typer.Option(help="SQLAlchemy URL of the store; default INJURY_RISK_DATABASE_URL."),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            help="Load the valid rows and write the invalid ones to the reject file,"
            " instead of loading nothing when any row is invalid.",
        ),
    ] = False,
    report_out: Annotated[
        Path | None,
        typer.Option(
            help="Path of the CSV error report (UTF-8 with BOM), written when there are"
            " errors; default var/reports/ingest_errors_<time>.csv."
        ),
    ] = None,
    reject_out: Annotated[
        Path | None,
        typer.Option(
            help="Path of the CSV file of rows rejected with --skip-invalid;"
            " default var/reports/ingest_rejected_<time>.csv."
        ),
    ] = None,
    id_scheme: Annotated[
        str | None,
        typer.Option(
            help="Identifier scheme of employers in files without an id_scheme column,"
            " e.g. msha; default uscc (unified social credit codes, check character verified)."
        ),
    ] = None,
) -> None:
    """Validate agency exports and load them into the store, all or nothing.

    Exit status 0 when the run was loaded, 1 when input was rejected and
    nothing was loaded, 2 when the store is unreachable or not migrated.
    """
    settings = get_settings()
    files = _export_files(paths)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    report_path = report_out or settings.reports_dir / f"ingest_errors_{stamp}.csv"
    reject_path = reject_out or settings.reports_dir / f"ingest_rejected_{stamp}.csv"
    engine = create_store_engine(database_url or settings.database_url)
    console = Console(stderr=True)

    try:
        with _progress(console) as progress:
            file_task = progress.add_task("读取文件 files", total=len(files))
            row_task = progress.add_task("写入 rows", total=None)
            result = ingest_files(
                files,
                engine,
                skip_invalid=skip_invalid,
                id_scheme=id_scheme,
                on_file=lambda _path: progress.advance(file_task),
                on_chunk=lambda _kind, rows: progress.advance(row_task, rows),
            )
    except IngestError as exc:
        write_error_report(exc.errors, report_path)
        _print_errors(console, exc.errors, report_path)
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except (StoreError, OperationalError) as exc:
        typer.echo(
            f"数据库不可用或结构未更新 / the store is unavailable or not migrated: {exc}", err=True
        )
        raise typer.Exit(2) from exc

    if result.errors:
        write_error_report(result.errors, report_path)
        write_rejected_rows(result.rejected, reject_path)
        _print_errors(console, result.errors, report_path)
        typer.echo(
            f"已跳过 {result.rows_rejected} 行无效数据，见 {reject_path}"
            f" / skipped {result.rows_rejected} invalid row(s); see {reject_path}",
            err=True,
        )
    typer.echo(_summary(result))


def _export_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in _EXPORT_SUFFIXES))
        else:
            files.append(path)
    return files


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _print_errors(console: Console, errors: list[RowError], report_path: Path) -> None:
    for error in errors[:CONSOLE_ERROR_LINES]:
        console.print(error.describe(), markup=False, highlight=False)
    if len(errors) > CONSOLE_ERROR_LINES:
        more = len(errors) - CONSOLE_ERROR_LINES
        console.print(f"…… 另有 {more} 个错误 / … and {more} more error(s)", markup=False)
    console.print(
        f"错误报告 / error report ({len(errors)}): {report_path}", markup=False, highlight=False
    )


def _summary(result: IngestResult) -> str:
    parts_zh = []
    parts_en = []
    for kind, rows in result.rows_loaded.items():
        load = result.loads[kind]
        label_zh, label_en = _KIND_LABELS[kind]
        parts_zh.append(f"{label_zh} {rows} 行（新增 {load.inserted}，更新 {load.updated}）")
        parts_en.append(f"{label_en} {rows} ({load.inserted} inserted, {load.updated} updated)")
    return (
        f"导入完成（运行编号 {result.run_id}）：{'；'.join(parts_zh) or '无数据'}"
        f"\nIngest run {result.run_id} {result.status}: {'; '.join(parts_en) or 'no rows'}"
    )
