"""End-to-end tests of the ``public`` commands on a subset of the real MSHA panel.

The full run (all mines, 300 rounds) belongs to the documented command. Here
120 mines and 40 boosting rounds keep the run short and still exercise every step.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from risk.public.msha_backtest import HEADLINE_METRICS, MODEL_NAMES

SAMPLE_MINES = 120


@dataclass(frozen=True)
class MshaRunFiles:
    """Files written by one ``public msha`` and one ``public report`` run."""

    report: dict[str, object]
    folder: Path
    docs: Path


@pytest.fixture(scope="module")
def msha_run(panel_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> MshaRunFiles:
    """Run ``public msha`` on 120 mines, then ``public report`` on its JSON."""
    folder = tmp_path_factory.mktemp("msha")
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "public",
            "msha",
            "--data",
            str(panel_dir),
            "--report-out",
            str(folder / "report.json"),
            "--mine-sample",
            str(SAMPLE_MINES),
            "--rounds",
            "40",
            "--reject-out",
            str(folder / "rejects.csv"),
            "--scores-out",
            str(folder / "scores.csv"),
            "--plan-out",
            str(folder / "plan.csv"),
            "--plan-employers",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    docs = folder / "docs"
    pages = runner.invoke(
        app, ["public", "report", "--report", str(folder / "report.json"), "--out", str(docs)]
    )
    assert pages.exit_code == 0, pages.output
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    return MshaRunFiles(report=report, folder=folder, docs=docs)


def test_public_msha_report_shape(msha_run: MshaRunFiles) -> None:
    """The report has the backtest shape: time-ordered folds with every model's metrics."""
    report = msha_run.report
    folds = report["folds"]
    assert [fold["test_year"] for fold in folds] == list(range(2003, 2013))
    assert folds[-1]["test_end"] == "2012-12-31"
    assert [fold["test_start"] for fold in folds] == sorted(fold["test_start"] for fold in folds)
    for fold in folds:
        assert set(fold["models"]) == set(MODEL_NAMES)
        for metrics in fold["models"].values():
            assert set(HEADLINE_METRICS) <= set(metrics)
        assert fold["models"]["xgboost"]["capture_top_10pct"] is not None
    assert report["source"]["mines"] == SAMPLE_MINES
    assert set(report["comparison"]) == set(MODEL_NAMES) - {"xgboost"}


def test_public_msha_training_outcomes_end_before_test(msha_run: MshaRunFiles) -> None:
    """In every fold the latest training outcome window ends on or before the test as-of date."""
    for fold in msha_run.report["folds"]:
        assert fold["train_outcome_end"] <= fold["test_start"]
        assert fold["train_as_of_last"] < fold["test_start"]
        assert fold["n_train_rows"] > 0


def test_public_msha_writes_side_files(msha_run: MshaRunFiles) -> None:
    """Rejected rows, scores and the plan are written to the paths the options name."""
    report = msha_run.report
    rejects = pd.read_csv(msha_run.folder / "rejects.csv", dtype=str, encoding="utf-8-sig")
    reasons = report["source"]["adapter"]["rejected_by_reason"]
    assert len(rejects) == sum(item["rows"] for item in reasons.values())
    scores = pd.read_csv(
        msha_run.folder / "scores.csv", dtype={"employer_id": str}, encoding="utf-8-sig"
    )
    assert scores["employer_id"].str.fullmatch(r"\d{7}").all()
    assert (scores["as_of"] == "2012-12-31").all()
    assert report["plan"]["employers"] <= 20
    assert (msha_run.folder / "plan.csv").exists()


def test_public_report_pages(msha_run: MshaRunFiles) -> None:
    """Both language pages and every figure are written, with each fold's year in the tables."""
    english = (msha_run.docs / "real-data.md").read_text(encoding="utf-8")
    chinese = (msha_run.docs / "real-data.zh-CN.md").read_text(encoding="utf-8")
    for year in range(2003, 2013):
        assert f"| {year} |" in english
    assert "## Where the model wins and loses" in english
    assert "## 模型在哪里胜出、在哪里落后" in chinese
    images = sorted(path.name for path in (msha_run.docs / "images").iterdir())
    assert images == sorted(
        [
            "real-data-calibration.png",
            "real-data-capture-count.png",
            "real-data-capture-rate.png",
            "real-data-folds.png",
            "real-data-shap.png",
        ]
    )


@pytest.fixture
def local_server(tmp_path: Path, severe_injury_file: Path) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 serving a copy of the severe-injury extract from ``tmp_path``."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "severeinjury.csv").write_bytes(severe_injury_file.read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def test_public_download_command(tmp_path: Path, local_server: str) -> None:
    """``public download`` fetches the manifest's files, adapts them and writes a summary."""
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "name,url,format,archive,member,min_bytes,sha256\n"
        f"severe,{local_server}severeinjury.csv,osha_severe_injury,none,,1000,\n"
        f"missing,{local_server}absent.csv,osha_severe_injury,none,,1000,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "public",
            "download",
            "--out",
            str(out),
            "--manifest",
            str(manifest),
            "--only",
            "severe",
            "--reject-out",
            str(tmp_path / "rejects.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "public_data_summary.json").read_text(encoding="utf-8"))
    assert summary["tables"]["severe"]["incidents"] == 195
    assert (tmp_path / "rejects.csv").exists()

    failed = runner.invoke(
        app,
        ["public", "download", "--out", str(out), "--manifest", str(manifest), "--only", "missing"],
    )
    assert failed.exit_code == 1
    assert "HTTP status 404" in failed.output
