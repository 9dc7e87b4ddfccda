"""The ``demo-data`` command: write a synthetic Hangzhou demo data set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli import app
from api.config import get_settings
from risk.demo import DemoDataSummary, default_end_year, generate_demo_data
from risk.demo.generate import DEFAULT_EMPLOYERS, DEFAULT_YEARS

_STAGES = ("simulate", "exports", "truth")


@app.command("demo-data")
def demo_data(
    out: Annotated[
        Path | None,
        typer.Option(
            help="Output folder. Exports go to OUT/exports, ground truth to OUT/truth."
            " Default: INJURY_RISK_VAR_DIR/demo."
        ),
    ] = None,
    employers: Annotated[
        int, typer.Option(min=1, help="Number of employers to generate.")
    ] = DEFAULT_EMPLOYERS,
    years: Annotated[
        int, typer.Option(min=1, help="Length of the history in calendar years.")
    ] = DEFAULT_YEARS,
    seed: Annotated[
        int, typer.Option(min=0, help="Random seed. The same seed writes byte-identical files.")
    ] = 0,
    end_year: Annotated[
        int | None,
        typer.Option(
            help="Last calendar year of the history. Default: the last complete year before today."
        ),
    ] = None,
) -> None:
    """生成杭州示例数据 / Generate the synthetic Hangzhou demo data set."""
    out_dir = out or get_settings().var_dir / "demo"
    last_year = end_year if end_year is not None else default_end_year()
    typer.echo(
        f"生成示例数据 / generating demo data: {employers} employers,"
        f" {last_year - years + 1}-{last_year}, seed {seed} -> {out_dir}"
    )
    with typer.progressbar(length=len(_STAGES), label="demo-data") as bar:
        summary = generate_demo_data(
            out_dir, employers, years, seed, last_year, progress=lambda stage: bar.update(1)
        )
    _echo_summary(summary)


def _echo_summary(summary: DemoDataSummary) -> None:
    for table, rows in summary.rows.items():
        typer.echo(f"  {table}: {rows} rows")
    typer.echo(
        f"  注入的数据错误 / injected faults: {summary.faults};"
        f" 工伤率 / injuries per 100 insured workers: {summary.injuries_per_100:.3f}"
    )
    typer.echo(f"  exports: {summary.out_dir / 'exports'}; truth: {summary.out_dir / 'truth'}")
