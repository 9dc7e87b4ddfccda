"""Tests of the training-plan endpoints over HTTP: roles, lifecycle, trainers' sessions, exports."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import icalendar
import openpyxl
import pytest
from api_factories import SCOPE_DISTRICT, Registry, ScoredStore, running_server, service_settings
from sqlalchemy import select

from api.auth import Role, create_api_key
from api.main import create_app
from risk.store import create_store_engine
from risk.store.models import TrainingRecord
from training.catalog import load_trainers
from training.records import link_trainer_key

BUDGET = {"name": "二〇二六年上半年", "budget_employers": 8, "weeks": 12}


@dataclass(frozen=True)
class PlanService:
    """A server on a private copy of the scored store, with keys by role."""

    url: str
    store: ScoredStore
    keys: dict[str, str]
    organisation: str


def _copy_store(source: ScoredStore, target: Path) -> ScoredStore:
    # The backup API copies a WAL-mode database consistently; the plan tests write to their copy.
    with sqlite3.connect(source.engine.url.database) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)
    url = f"sqlite:///{target}"
    return ScoredStore(url, create_store_engine(url), source.run_id)


@pytest.fixture(scope="module")
def plan_service(
    scored_store: ScoredStore, registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlanService]:
    """Serve the API on a copy of the scored store, with trainer keys linked to organisations."""
    store = _copy_store(scored_store, tmp_path_factory.mktemp("plans") / "store.db")
    keys = {
        role: create_api_key(store.engine, Role(role))[0]
        for role in ("admin", "inspector", "data_scientist")
    }
    keys["scoped"] = create_api_key(store.engine, Role.INSPECTOR, [SCOPE_DISTRICT])[0]
    organisations = load_trainers()["organisation"].tolist()
    for name, organisation in (("trainer", organisations[0]), ("other_trainer", organisations[7])):
        key, info = create_api_key(store.engine, Role.TRAINER)
        link_trainer_key(store.engine, info.key_id, organisation)
        keys[name] = key
    keys["unlinked_trainer"] = create_api_key(store.engine, Role.TRAINER)[0]
    with running_server(create_app(service_settings(store, registry))) as url:
        yield PlanService(url, store, keys, organisations[0])


def _client(service: PlanService, role: str, language: str = "zh-CN") -> httpx.Client:
    headers = {"Authorization": f"Bearer {service.keys[role]}", "Accept-Language": language}
    return httpx.Client(base_url=service.url, headers=headers, timeout=120)


@pytest.fixture(scope="module")
def published(plan_service: PlanService) -> dict[str, object]:
    """A plan created by an inspector, approved and published by an admin."""
    with _client(plan_service, "inspector") as inspector, _client(plan_service, "admin") as admin:
        created = inspector.post("/v1/plans", json=BUDGET)
        assert created.status_code == 201, created.text
        plan = created.json()
        assert admin.post(f"/v1/plans/{plan['plan_id']}/versions/1/approve").status_code == 200
        assert admin.post(f"/v1/plans/{plan['plan_id']}/versions/1/publish").status_code == 200
    return plan


@pytest.mark.parametrize("role", ["trainer", "data_scientist"])
def test_create_plan_other_roles_forbidden(plan_service: PlanService, role: str) -> None:
    """Only admins and inspectors may create plans."""
    with _client(plan_service, role, "en") as client:
        response = client.post("/v1/plans", json=BUDGET)

    assert response.status_code == 403
    assert response.json()["detail"] == (
        f"Role {role!r} may not use this endpoint; it needs one of: admin, inspector."
    )


def test_create_plan_inspector_gets_plan_with_rationale(published: dict[str, object]) -> None:
    """The created plan is a draft with employers, sessions and Chinese rationale."""
    assert published["status"] == "draft"
    employers = published["employers"]
    assert isinstance(employers, list) and 0 < len(employers) <= 8
    assert published["session_count"] == len(published["sessions"])  # type: ignore[arg-type]
    assert employers[0]["rationale"].startswith("预计未来12个月发生工伤")
    assert employers[0]["courses"][0]["reason"]
    assert published["gap"] >= 0  # type: ignore[operator]


def test_read_plan_english_and_scoped(
    plan_service: PlanService, published: dict[str, object]
) -> None:
    """English rationale with Accept-Language: en; a scoped key sees only its district."""
    plan_id = published["plan_id"]
    with _client(plan_service, "admin", "en") as admin, _client(plan_service, "scoped") as scoped:
        full = admin.get(f"/v1/plans/{plan_id}").json()
        limited = scoped.get(f"/v1/plans/{plan_id}").json()

    assert full["status"] == "published"
    assert full["employers"][0]["rationale"].startswith("Expected")
    assert {e["district_code"] for e in limited["employers"]} <= {SCOPE_DISTRICT}
    ids = {e["employer_id"] for e in limited["employers"]}
    assert {s["employer_id"] for s in limited["sessions"]} <= ids


def test_read_plan_audits_each_employer_shown(
    plan_service: PlanService, published: dict[str, object]
) -> None:
    """A plan shows risk scores, so each employer in the response gets an audit row."""
    plan_id = published["plan_id"]
    with _client(plan_service, "admin") as admin:
        everyone = admin.get(f"/v1/plans/{plan_id}").json()["employers"]
        district = everyone[0]["district_code"]
        key, info = create_api_key(plan_service.store.engine, Role.INSPECTOR, [district])
        scoped = admin.get(f"/v1/plans/{plan_id}", headers={"Authorization": f"Bearer {key}"})
        audit = admin.get("/v1/audit", params={"key_id": info.key_id, "limit": 1000}).json()

    scoped_ids = {e["employer_id"] for e in scoped.json()["employers"]}
    assert scoped_ids == {e["employer_id"] for e in everyone if e["district_code"] == district}
    assert {row["employer_id"] for row in audit["data"]} == scoped_ids
    assert {row["endpoint"] for row in audit["data"]} == {"GET /v1/plans/{plan_id}"}


def test_approve_plan_inspector_forbidden_and_state_conflict(
    plan_service: PlanService, published: dict[str, object]
) -> None:
    """Inspectors cannot approve; approving a published version is a conflict."""
    plan_id = published["plan_id"]
    with (
        _client(plan_service, "inspector") as inspector,
        _client(plan_service, "admin", "en") as admin,
    ):
        forbidden = inspector.post(f"/v1/plans/{plan_id}/versions/1/approve")
        conflict = admin.post(f"/v1/plans/{plan_id}/versions/1/approve")

    assert forbidden.status_code == 403
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "plan-state-conflict"
    assert conflict.json()["detail"] == (
        f"Plan {plan_id} version 1 is published; only a draft version can be approved."
    )


def test_trainer_sessions_only_own_organisation(
    plan_service: PlanService, published: dict[str, object]
) -> None:
    """A trainer sees only its organisation's sessions; an unlinked trainer key is refused."""
    with (
        _client(plan_service, "trainer") as trainer,
        _client(plan_service, "unlinked_trainer", "en") as unlinked,
    ):
        own = trainer.get("/v1/trainer/sessions")
        refused = unlinked.get("/v1/trainer/sessions")
        calendar = trainer.get("/v1/trainer/sessions.ics")

    assert own.status_code == 200
    assert {s["organisation"] for s in own.json()} <= {plan_service.organisation}
    expected = [s for s in published["sessions"] if s["organisation"] == plan_service.organisation]  # type: ignore[union-attr]
    assert len(own.json()) == len(expected)
    assert refused.status_code == 403
    assert "not linked to a training organisation" in refused.json()["detail"]
    assert len(icalendar.Calendar.from_ical(calendar.content).walk("VEVENT")) == len(expected)


def test_mark_delivered_writes_record_once(
    plan_service: PlanService, published: dict[str, object]
) -> None:
    """The session's trainer marks it delivered once; another organisation's trainer gets 404."""
    with _client(plan_service, "trainer") as trainer:
        sessions = trainer.get("/v1/trainer/sessions", params={"status": "planned"}).json()
    if not sessions:
        pytest.skip("the plan gave this organisation no session")
    session_id = sessions[0]["session_id"]
    body = {"delivered_on": "2026-01-08", "attendees": 21}

    with (
        _client(plan_service, "other_trainer") as other,
        _client(plan_service, "trainer") as trainer,
    ):
        stranger = other.post(f"/v1/sessions/{session_id}/delivered", json=body)
        delivered = trainer.post(f"/v1/sessions/{session_id}/delivered", json=body)
        again = trainer.post(f"/v1/sessions/{session_id}/delivered", json=body)

    assert stranger.status_code == 404
    assert delivered.status_code == 200
    assert delivered.json()["status"] == "delivered"
    assert delivered.json()["record_id"] == f"PLAN-{session_id}"
    assert again.status_code == 409
    with plan_service.store.engine.connect() as connection:
        record = connection.execute(
            select(TrainingRecord).where(TrainingRecord.record_id == f"PLAN-{session_id}")
        ).one()
    assert record.attendees == 21


def test_export_plan_formats(plan_service: PlanService, published: dict[str, object]) -> None:
    """The export endpoint serves XLSX, CSV with BOM and ICS with matching media types."""
    plan_id = published["plan_id"]
    with _client(plan_service, "inspector") as inspector:
        xlsx = inspector.get(f"/v1/plans/{plan_id}/export", params={"format": "xlsx"})
        csv = inspector.get(f"/v1/plans/{plan_id}/export", params={"format": "csv"})
        ics = inspector.get(f"/v1/plans/{plan_id}/export", params={"format": "ics"})

    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert workbook.worksheets[0].max_row == published["session_count"] + 1  # type: ignore[operator]
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert csv.headers["content-type"].startswith("text/csv")
    assert ics.headers["content-type"].startswith("text/calendar")


def test_create_plan_infeasible_names_constraint(plan_service: PlanService) -> None:
    """A district minimum that cannot be met returns 422 with the binding constraint."""
    request = {**BUDGET, "district_min": {"330127": 1}}
    with _client(plan_service, "admin", "en") as admin:
        response = admin.post("/v1/plans", json=request)

    assert response.status_code == 422
    assert response.json()["constraint"] == "district_min:330127"
    assert response.json()["code"] == "plan-infeasible"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "District 330127 needs at least 1 employers but only 0" in response.json()["detail"]


def test_cli_plan_writes_file_and_stores_draft(
    scored_store: ScoredStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`injury-risk plan` plans over the stored scores, writes the XLSX and stores a draft."""
    from api_factories import MODEL_NAME
    from typer.testing import CliRunner

    from api.cli import app
    from api.config import get_settings

    store = _copy_store(scored_store, tmp_path / "store.db")
    monkeypatch.setenv("INJURY_RISK_DATABASE_URL", store.url)
    monkeypatch.setenv("INJURY_RISK_REGISTERED_MODEL_NAME", MODEL_NAME)
    get_settings.cache_clear()
    out = tmp_path / "plan.xlsx"

    try:
        result = CliRunner().invoke(
            app, ["plan", "--budget-employers", "5", "--weeks", "8", "--out", str(out)]
        )
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    assert "stored as plan 1 version 1 (draft)" in result.output
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["培训场次 Sessions", "培训单位 Employers"]
    assert 1 < workbook.worksheets[1].max_row <= 6
