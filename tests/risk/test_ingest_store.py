"""Ingest runs against a real store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from factories import credit_code
from ingest_factories import (
    CODES,
    EMPLOYER_HEADERS,
    INCIDENT_HEADERS,
    WORKER_ID_NUMBERS,
    WORKER_NAMES,
    WORKER_PHONES,
    AgencyExports,
    employer_rows,
    incident_rows,
    write_agency_exports,
    write_csv,
)
from sqlalchemy import Engine, MetaData, String, Text, create_engine, func, select, text

from risk.errors import IngestError, StoreError
from risk.ingest import ingest_files, write_error_report
from risk.ingest.crosscheck import ORPHAN_REASON, REJECTED_EMPLOYER_REASON
from risk.ingest.headers import PERSONAL_DATA_HEADERS
from risk.ingest.report import ERROR_REPORT_COLUMNS
from risk.store import Base
from risk.store.models import Employer, Incident, IngestRun

DATA_TABLES = (
    "employer",
    "employer_headcount",
    "incident",
    "hazard_finding",
    "training_record",
    "course",
    "trainer",
)


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in DATA_TABLES
        }


def _contents(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(connection.execute(select(table)).all(), key=repr)
            for table in Base.metadata.sorted_tables
            if table.name in DATA_TABLES
        }


def _runs(engine: Engine) -> list[tuple[str, int, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(IngestRun.status, IngestRun.rows_loaded, IngestRun.rows_rejected).order_by(
                IngestRun.run_id
            )
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def exports(tmp_path: Path) -> AgencyExports:
    """The five valid agency exports."""
    return write_agency_exports(tmp_path / "exports")


def test_ingest_files_loads_every_table(store_engine: Engine, exports: AgencyExports) -> None:
    """A valid run loads every file and records one ingest_run row."""
    result = ingest_files(exports.paths(), store_engine)

    assert result.status == "loaded"
    assert result.errors == []
    assert _counts(store_engine) == {
        "employer": 3,
        "employer_headcount": 6,
        "incident": 4,
        "hazard_finding": 3,
        "training_record": 2,
        "course": 0,
        "trainer": 0,
    }
    assert {kind: load.inserted for kind, load in result.loads.items()} == result.rows_loaded
    assert _runs(store_engine) == [("loaded", 18, 0)]


def test_ingest_files_stores_no_personal_data(store_engine: Engine, exports: AgencyExports) -> None:
    """No dropped column and no worker's name, ID number or phone reaches any text column."""
    ingest_files(exports.paths(), store_engine)

    forbidden = WORKER_NAMES + WORKER_ID_NUMBERS + WORKER_PHONES
    personal = {header.casefold() for header in PERSONAL_DATA_HEADERS}
    stored = MetaData()
    stored.reflect(store_engine)
    with store_engine.connect() as connection:
        for table in stored.sorted_tables:
            assert not personal & {column.name.casefold() for column in table.columns}, table.name
            for column in table.columns:
                if not isinstance(column.type, String | Text):
                    continue
                values = connection.execute(select(column).where(column.is_not(None))).scalars()
                leaked = [
                    value for value in values if any(item in str(value) for item in forbidden)
                ]
                assert leaked == [], f"{table.name}.{column.name}"


def test_ingest_files_all_or_nothing(
    store_engine: Engine, exports: AgencyExports, tmp_path: Path
) -> None:
    """One bad row among good ones writes nothing, and the report lists every error."""
    rows = incident_rows()
    rows[1][6] = "意外事件"
    rows[3][5] = "2023-02-30"
    write_csv(exports.incidents, INCIDENT_HEADERS, rows)

    with pytest.raises(IngestError, match="2 error") as caught:
        ingest_files(exports.paths(), store_engine)
    report = write_error_report(caught.value.errors, tmp_path / "report.csv")

    assert _counts(store_engine) == dict.fromkeys(DATA_TABLES, 0)
    assert _runs(store_engine) == [("rejected", 0, 2)]
    assert report.read_bytes().startswith(b"\xef\xbb\xbf")
    with report.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ERROR_REPORT_COLUMNS
    assert [line[:4] for line in lines[1:]] == [
        [str(exports.incidents), "3", "事故类别", "意外事件"],
        [str(exports.incidents), "5", "事故发生日期", "2023-02-30"],
    ]


def test_ingest_files_skip_invalid_rejects_dependents(
    store_engine: Engine, exports: AgencyExports
) -> None:
    """With skip_invalid, a bad employer and the rows that depend on it are rejected together."""
    employers = employer_rows()
    employers[0][2] = "C0099"
    write_csv(exports.employers, EMPLOYER_HEADERS, employers, "utf-8-sig")

    result = ingest_files(exports.paths(), store_engine, skip_invalid=True)

    assert result.status == "partial"
    assert _counts(store_engine)["employer"] == 2
    assert _counts(store_engine)["incident"] == 2
    with store_engine.connect() as connection:
        stored = set(connection.execute(select(Employer.employer_id)).scalars())
    assert CODES[0] not in stored
    rejected = result.rejected
    assert len(rejected) == 1 + 2 + 2 + 1 + 1
    dependent = rejected[rejected["文件 file"] == str(exports.incidents)]
    assert dependent["行号 row"].tolist() == [2, 3]
    assert set(dependent["原因 reason_zh"]) == {REJECTED_EMPLOYER_REASON[0]}
    assert dependent["工伤认定书编号"].tolist() == ["GS2023-0001", "GS2023-0002"]
    assert "身份证号" not in rejected.columns
    assert _runs(store_engine) == [("partial", 11, 7)]


def test_ingest_files_reload_changes_nothing(store_engine: Engine, exports: AgencyExports) -> None:
    """Loading the same exports twice updates no row and leaves every table identical."""
    ingest_files(exports.paths(), store_engine)
    before = _contents(store_engine)

    second = ingest_files(exports.paths(), store_engine)

    assert {kind: load.changed for kind, load in second.loads.items()} == dict.fromkeys(
        second.loads, 0
    )
    assert _contents(store_engine) == before


def test_ingest_files_corrected_export_updates_rows(
    store_engine: Engine, exports: AgencyExports
) -> None:
    """A corrected export updates exactly the changed rows, matched by natural key."""
    ingest_files(exports.paths(), store_engine)
    employers = employer_rows()
    employers[2][1] = "杭州丙软件股份有限公司"
    rows = incident_rows()
    rows[0][7], rows[0][8] = "重伤", "120"
    write_csv(exports.employers, EMPLOYER_HEADERS, employers, "utf-8-sig")
    write_csv(exports.incidents, INCIDENT_HEADERS, rows)

    result = ingest_files([exports.employers, exports.incidents], store_engine)

    assert result.loads["employers"].inserted == 0
    assert result.loads["employers"].updated == 1
    assert result.loads["incidents"].updated == 1
    with store_engine.connect() as connection:
        name = connection.execute(
            select(Employer.name).where(Employer.employer_id == CODES[2])
        ).scalar_one()
        incident = connection.execute(
            select(Incident.severity, Incident.lost_workdays).where(
                Incident.incident_id == "GS2023-0001"
            )
        ).one()
    assert name == "杭州丙软件股份有限公司"
    assert tuple(incident) == ("serious", 120)
    assert _counts(store_engine)["incident"] == 4


def test_ingest_files_orphan_incident(store_engine: Engine, exports: AgencyExports) -> None:
    """An incident whose employer is neither in the run nor in the store is rejected."""
    rows = incident_rows()
    rows[2][1] = credit_code(99)
    write_csv(exports.incidents, INCIDENT_HEADERS, rows)

    with pytest.raises(IngestError) as caught:
        ingest_files(exports.paths(), store_engine)

    [error] = caught.value.errors
    assert (error.file, error.row, error.column, error.value) == (
        str(exports.incidents),
        4,
        "统一社会信用代码",
        credit_code(99),
    )
    assert error.reason_en == ORPHAN_REASON[1]


def test_ingest_files_employer_from_store(store_engine: Engine, exports: AgencyExports) -> None:
    """Incidents of employers loaded by an earlier run need no employer file."""
    ingest_files([exports.employers], store_engine)

    result = ingest_files([exports.incidents], store_engine)

    assert result.rows_loaded == {"incidents": 4}


def test_ingest_files_duplicate_key_across_files(
    store_engine: Engine, exports: AgencyExports, tmp_path: Path
) -> None:
    """The same incident in two files of one run is rejected in both."""
    second = write_csv(tmp_path / "incidents_more.csv", INCIDENT_HEADERS, incident_rows()[:1])

    with pytest.raises(IngestError) as caught:
        ingest_files([*exports.paths(), second], store_engine)

    assert sorted((error.file, error.row) for error in caught.value.errors) == sorted(
        [(str(exports.incidents), 2), (str(second), 2)]
    )


def test_ingest_files_requires_migrated_store(tmp_path: Path, exports: AgencyExports) -> None:
    """An empty database is rejected before any file is read."""
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")

    with pytest.raises(StoreError, match="db upgrade"):
        ingest_files(exports.paths(), engine)


def test_ingest_files_counts_match_store(sqlite_engine: Engine, exports: AgencyExports) -> None:
    """The run's counts agree with the rows in the store."""
    result = ingest_files(exports.paths(), sqlite_engine)

    with sqlite_engine.connect() as connection:
        incidents = connection.execute(select(func.count()).select_from(Incident)).scalar_one()
    assert result.rows_loaded["incidents"] == incidents


def test_ingest_files_loads_catalogues(store_engine: Engine, tmp_path: Path) -> None:
    """Course and trainer catalogue files load into the course and trainer tables."""
    courses = write_csv(
        tmp_path / "courses.csv",
        ["课程编号", "课程名称", "英文名称", "事故类别", "适用行业", "学时", "培训形式", "班额"],
        [
            ["C-MACH-01", "机械伤害预防", "Machinery safety", "机械伤害", "C", "4", "现场", "30"],
            ["C-FALL-01", "高处坠落预防", "Working at height", "09、10", "E", "2.5", "线上", "200"],
        ],
    )
    trainers = write_csv(
        tmp_path / "trainers.csv",
        ["培训机构编号", "机构名称", "服务区县", "每周场次"],
        [["T-01", "杭州安培培训中心", "萧山区、西湖区", "5"]],
    )

    result = ingest_files([courses, trainers], store_engine)

    assert result.rows_loaded == {"courses": 2, "trainers": 1}
    with store_engine.connect() as connection:
        stored = connection.execute(
            text("SELECT course_id, accident_types, hours, mode FROM course ORDER BY course_id")
        ).all()
        districts = connection.execute(text("SELECT district_codes FROM trainer")).scalar_one()
    assert [tuple(row) for row in stored] == [
        ("C-FALL-01", "09|10", 2.5, "online"),
        ("C-MACH-01", "03", 4.0, "on_site"),
    ]
    assert districts == "330109|330106"
