"""Tests of the ``injury-risk demo-data`` command."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from api.cli import app


def test_demo_data_cli_writes_files(tmp_path: Path) -> None:
    """The command writes the five export files and the truth folder."""
    result = CliRunner().invoke(
        app,
        ["demo-data", "--out", str(tmp_path), "--employers", "150", "--years", "2",
         "--seed", "4", "--end-year", "2024"],
    )

    assert result.exit_code == 0, result.output
    assert "150 employers, 2023-2024, seed 4" in result.output
    exports = sorted(path.name for path in (tmp_path / "exports").iterdir())
    assert exports == [
        "employers.csv", "hazard_findings.csv", "headcounts.csv", "incidents.csv",
        "training_records.xlsx",
    ]
    assert (tmp_path / "truth" / "monthly_rates.csv.gz").is_file()


def test_demo_data_cli_help_names_units() -> None:
    """--help states what each option sets and in what unit."""
    result = CliRunner().invoke(app, ["demo-data", "--help"], env={"COLUMNS": "200"})

    assert result.exit_code == 0
    for phrase in ("Number of employers", "calendar years", "Random seed", "Last calendar year"):
        assert phrase in result.output


def test_demo_data_cli_rejects_zero_employers(tmp_path: Path) -> None:
    """A count of employers below 1 is rejected before anything is written."""
    result = CliRunner().invoke(app, ["demo-data", "--out", str(tmp_path), "--employers", "0"])

    assert result.exit_code == 2
    assert not (tmp_path / "exports").exists()
