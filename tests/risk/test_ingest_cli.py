"""The ``injury-risk ingest`` command, run through Typer's test runner."""

from __future__ import annotations

import csv
from pathlib import Path

from ingest_factories import INCIDENT_HEADERS, incident_rows, write_agency_exports, write_csv
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from api.cli import app
from risk.ingest.report import ERROR_REPORT_COLUMNS, REJECT_FILE_COLUMNS
from risk.store import create_store_engine, upgrade_store

runner = CliRunner()


def _store(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = create_store_engine(url)
    upgrade_store(engine)
    return url, engine


def _incident_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM incident")).scalar_one()


def test_ingest_command_loads_folder(tmp_path: Path) -> None:
    """A folder of valid exports loads with exit status 0 and a bilingual summary."""
    url, engine = _store(tmp_path)
    write_agency_exports(tmp_path / "exports")

    result = runner.invoke(app, ["ingest", str(tmp_path / "exports"), "--database-url", url])

    assert result.exit_code == 0, result.output
    assert "工伤事故 4 行（新增 4，更新 0）" in result.stdout
    assert "incidents 4 (4 inserted, 0 updated)" in result.stdout
    assert _incident_count(engine) == 4


def test_ingest_command_rejects_run(tmp_path: Path) -> None:
    """An invalid row gives exit status 1, the errors on stderr and the CSV report."""
    url, engine = _store(tmp_path)
    exports = write_agency_exports(tmp_path / "exports")
    rows = incident_rows()
    rows[1][7] = "中度"
    write_csv(exports.incidents, INCIDENT_HEADERS, rows)
    report = tmp_path / "errors.csv"

    result = runner.invoke(
        app,
        ["ingest", *map(str, exports.paths()), "--database-url", url, "--report-out", str(report)],
    )

    assert result.exit_code == 1
    assert "第3行 (row 3)" in result.stderr
    assert "伤害程度" in result.stderr
    assert "nothing was loaded" in result.stderr
    assert _incident_count(engine) == 0
    with report.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ERROR_REPORT_COLUMNS
    assert lines[1][1:4] == ["3", "伤害程度", "中度"]


def test_ingest_command_skip_invalid_writes_reject_file(tmp_path: Path) -> None:
    """--skip-invalid loads the valid rows and writes the rejected ones with reasons."""
    url, engine = _store(tmp_path)
    exports = write_agency_exports(tmp_path / "exports")
    rows = incident_rows()
    rows[1][6] = "意外事件"
    write_csv(exports.incidents, INCIDENT_HEADERS, rows)
    rejects = tmp_path / "rejected.csv"

    result = runner.invoke(
        app,
        [
            "ingest",
            *map(str, exports.paths()),
            "--database-url",
            url,
            "--skip-invalid",
            "--reject-out",
            str(rejects),
            "--report-out",
            str(tmp_path / "errors.csv"),
        ],
    )

    assert result.exit_code == 0, result.output
    assert _incident_count(engine) == 3
    with rejects.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert list(lines[0])[:4] == REJECT_FILE_COLUMNS
    assert [(line["行号 row"], line["事故类别"]) for line in lines] == [("3", "意外事件")]


def test_ingest_command_unmigrated_store(tmp_path: Path) -> None:
    """A store without tables gives exit status 2 and says how to migrate it."""
    exports = write_agency_exports(tmp_path / "exports")

    result = runner.invoke(
        app,
        ["ingest", str(exports.employers), "--database-url", f"sqlite:///{tmp_path / 'new.db'}"],
    )

    assert result.exit_code == 2
    assert "injury-risk db upgrade" in result.stderr


def test_ingest_command_help_names_every_option() -> None:
    """--help describes every option of the command."""
    result = runner.invoke(app, ["ingest", "--help"], terminal_width=200)

    assert result.exit_code == 0
    for option in (
        "--database-url",
        "--skip-invalid",
        "--report-out",
        "--reject-out",
        "--id-scheme",
    ):
        assert option in result.stdout
