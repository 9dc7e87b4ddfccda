"""Training plans: create (admin, inspector), read, approve, publish, export; trainers' sessions.

A trainer key sees only the sessions of the training organisation it is
linked to (``injury-risk plans link-key``), and only of published plans. A
district-scoped inspector key reads only the employers and sessions of its
districts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Path, Query, Response, status

from api.auth import ApiKeyPrincipal, Role
from api.config import Settings
from api.deps import LanguageDep, PrincipalDep, ServicesDep
from api.plan_schemas import (
    CourseChoicePublic,
    DeliveryRequest,
    PlanEmployerPublic,
    PlanPublic,
    PlanRequest,
    PlanSummaryPublic,
    SessionPublic,
)
from api.problems import ProblemError, plan_problem
from api.routes.employers import require_role
from risk.errors import InputDataError
from training.errors import (
    CatalogueError,
    PlanInfeasibleError,
    PlanningError,
    PlanNotFoundError,
    PlanStateError,
)
from training.export import MEDIA_TYPES, export_bytes, to_ics
from training.models import PlanBudget, PlanOptions
from training.records import (
    PlanVersionInfo,
    StoredPlan,
    change_plan_status,
    list_plans,
    list_trainer_sessions,
    mark_session_delivered,
    read_plan,
    read_session,
    save_plan,
    trainer_organisation,
)
from training.service import load_catalogue, plan_from_store

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["plans"])

PLANNERS = frozenset({Role.ADMIN, Role.INSPECTOR})
ADMINS = frozenset({Role.ADMIN})
DELIVERERS = frozenset({Role.TRAINER, Role.ADMIN})
PlanIdPath = Annotated[int, Path(ge=1, description="Stored plan id.")]
VersionPath = Annotated[int, Path(ge=1, description="Version number within the plan.")]
ExportFormat = Literal["xlsx", "csv", "ics"]


_PROBLEM_CODES = {
    404: "plan-not-found",
    409: "plan-state-conflict",
    503: "plan-unavailable",
}


def _problem(
    status_code: int, error: Exception, extra: dict[str, object] | None = None
) -> ProblemError:
    """Return the problem detail of a planning error with HTTP status ``status_code``."""
    if status_code == 422:
        code = "plan-infeasible" if isinstance(error, PlanInfeasibleError) else "plan-invalid-input"
    else:
        code = _PROBLEM_CODES[status_code]
    return plan_problem(code, error, extra)


def _summary(info: PlanVersionInfo) -> PlanSummaryPublic:
    fields = dataclasses.asdict(info)
    fields["expected_injuries_averted"] = fields.pop("objective")
    return PlanSummaryPublic(
        **{k: v for k, v in fields.items() if k in PlanSummaryPublic.model_fields}
    )


def _session(row: dict[str, object]) -> SessionPublic:
    clean = {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in row.items()}
    for key in ("delivered_on", "week_start"):
        if isinstance(clean.get(key), pd.Timestamp):
            clean[key] = clean[key].date()  # type: ignore[union-attr]
    return SessionPublic.model_validate(clean)


def _employer(row: dict[str, object], language: str) -> PlanEmployerPublic:
    courses = [
        CourseChoicePublic(
            course_id=c["course_id"],
            title=c["title_en" if language == "en" else "title_zh"],
            sessions=c["sessions"],
            trainees=c["trainees"],
            engagement=c["engagement"],
            mode=c["mode"],
            hours=c["hours"],
            expected_injuries_averted=c["expected_injuries_averted"],
            reason=c["reason_en" if language == "en" else "reason_zh"],
        )
        for c in json.loads(str(row["courses"]))
    ]
    return PlanEmployerPublic(
        employer_id=str(row["employer_id"]),
        name=str(row["name"]),
        district_code=str(row["district_code"]),
        industry_code=str(row["industry_code"]),
        headcount=int(row["headcount"]),  # type: ignore[call-overload]
        risk_score=float(row["risk_score"]),
        expected_injuries=float(row["expected_injuries"]),  # type: ignore[arg-type]
        expected_injuries_averted=float(row["expected_injuries_averted"]),  # type: ignore[arg-type]
        courses=courses,
        rationale=str(row["rationale_en" if language == "en" else "rationale_zh"]),
    )


def _visible(stored: StoredPlan, principal: ApiKeyPrincipal) -> StoredPlan:
    """Return the plan limited to the employers and sessions of the key's districts."""
    if not principal.district_codes:
        return stored
    employers = stored.employers[stored.employers["district_code"].isin(principal.district_codes)]
    sessions = stored.sessions[stored.sessions["employer_id"].isin(employers["employer_id"])]
    return StoredPlan(stored.info, employers, sessions)


def _plan_public(stored: StoredPlan, language: str) -> PlanPublic:
    return PlanPublic(
        **_summary(stored.info).model_dump(),
        employers=[_employer(row, language) for row in stored.employers.to_dict("records")],
        sessions=[_session(row) for row in stored.sessions.to_dict("records")],
    )


def _options(body: PlanRequest) -> PlanOptions:
    return PlanOptions(
        horizon_weeks=body.weeks,
        start_date=body.start_date,
        max_sessions_per_employer_week=body.max_sessions_per_employer_week,
        blackout_weeks={k: frozenset(v) for k, v in body.blackout_weeks.items()},
        district_min=body.district_min,
        district_max=body.district_max,
        must_include=frozenset(body.must_include),
        exclude_trained_months=body.exclude_trained_months,
        time_limit_seconds=body.time_limit_seconds,
    )


def _catalogue(settings: Settings) -> object:
    return load_catalogue(
        settings.training_courses_path,
        settings.training_trainers_path,
        settings.training_effects_path,
    )


@router.post("/plans", response_model=PlanPublic, status_code=status.HTTP_201_CREATED)
def create_plan(
    body: PlanRequest, principal: PrincipalDep, services: ServicesDep, language: LanguageDep
) -> PlanPublic:
    """Plan over the latest stored scores and store the plan as a draft version."""
    require_role(principal, PLANNERS)
    budget = PlanBudget(body.budget_employers, body.budget_sessions, body.budget_trainer_hours)
    try:
        plan = plan_from_store(
            services.engine,
            services.settings.registered_model_name,
            _catalogue(services.settings),
            budget,
            _options(body),
        )  # type: ignore[arg-type]
        info = save_plan(services.engine, plan, body.name, principal.key_id, body.plan_id)
    except PlanInfeasibleError as exc:
        raise _problem(422, exc, {"constraint": exc.constraint}) from exc
    except CatalogueError as exc:
        # The agency's course or trainer file is broken: the service's fault, not the request's.
        logger.error("Planning failed on an invalid catalogue file: %s", exc)
        raise _problem(503, exc) from exc
    except InputDataError as exc:
        raise _problem(422, exc) from exc
    except PlanNotFoundError as exc:
        raise _problem(404, exc) from exc
    except PlanningError as exc:
        raise _problem(503, exc) from exc
    return _plan_public(
        _visible(read_plan(services.engine, info.plan_id, info.version), principal), language
    )


@router.get("/plans", response_model=list[PlanSummaryPublic])
def read_plans(principal: PrincipalDep, services: ServicesDep) -> list[PlanSummaryPublic]:
    """List stored plans, each with its latest version."""
    require_role(principal, PLANNERS)
    return [_summary(info) for info in list_plans(services.engine)]


def _read(services: ServicesDep, plan_id: int, version: int | None) -> StoredPlan:
    try:
        return read_plan(services.engine, plan_id, version)
    except PlanNotFoundError as exc:
        raise _problem(404, exc) from exc


@router.get("/plans/{plan_id}", response_model=PlanPublic)
def read_plan_version(
    plan_id: PlanIdPath,
    principal: PrincipalDep,
    services: ServicesDep,
    language: LanguageDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> PlanPublic:
    """Return a plan version (the latest by default) with its employers and sessions.

    The plan shows each employer's risk score, so every employer in the response
    is written to the audit log, as the ranked list does.
    """
    require_role(principal, PLANNERS)
    stored = _visible(_read(services, plan_id, version), principal)
    services.audit.record_reads(
        principal,
        "GET /v1/plans/{plan_id}",
        stored.employers["employer_id"].tolist(),
        200,
        None,
        stored.info.as_of,
    )
    return _plan_public(stored, language)


def _change(
    services: ServicesDep, principal: ApiKeyPrincipal, plan_id: int, version: int, action: str
) -> PlanSummaryPublic:
    require_role(principal, ADMINS)
    try:
        return _summary(
            change_plan_status(services.engine, plan_id, version, action, principal.key_id)
        )
    except PlanNotFoundError as exc:
        raise _problem(404, exc) from exc
    except PlanStateError as exc:
        raise _problem(409, exc) from exc


@router.post("/plans/{plan_id}/versions/{version}/approve", response_model=PlanSummaryPublic)
def approve_plan(
    plan_id: PlanIdPath, version: VersionPath, principal: PrincipalDep, services: ServicesDep
) -> PlanSummaryPublic:
    """Approve a draft version (admin)."""
    return _change(services, principal, plan_id, version, "approve")


@router.post("/plans/{plan_id}/versions/{version}/publish", response_model=PlanSummaryPublic)
def publish_plan(
    plan_id: PlanIdPath, version: VersionPath, principal: PrincipalDep, services: ServicesDep
) -> PlanSummaryPublic:
    """Publish an approved version to the trainers (admin); the previous one is superseded."""
    return _change(services, principal, plan_id, version, "publish")


@router.get("/plans/{plan_id}/export", response_class=Response)
def export_plan(
    plan_id: PlanIdPath,
    principal: PrincipalDep,
    services: ServicesDep,
    format: Annotated[ExportFormat, Query(description="xlsx, csv or ics.")] = "xlsx",
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Download a plan version as XLSX, CSV (UTF-8 with BOM) or an ICS calendar."""
    require_role(principal, PLANNERS)
    stored = _visible(_read(services, plan_id, version), principal)
    filename = f"plan-{plan_id}-v{stored.info.version}.{format}"
    return Response(
        export_bytes(stored, format),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _organisation(services: ServicesDep, principal: ApiKeyPrincipal) -> str:
    require_role(principal, frozenset({Role.TRAINER}))
    organisation = trainer_organisation(services.engine, principal.key_id)
    if organisation is None:
        raise ProblemError("trainer-key-unlinked")
    return organisation


@router.get("/trainer/sessions", response_model=list[SessionPublic])
def read_trainer_sessions(
    principal: PrincipalDep,
    services: ServicesDep,
    session_status: Annotated[
        str | None, Query(alias="status", pattern="^(planned|delivered)$")
    ] = None,
) -> list[SessionPublic]:
    """List the sessions of published plans assigned to the key's training organisation."""
    organisation = _organisation(services, principal)
    frame = list_trainer_sessions(services.engine, organisation, session_status)
    return [_session(row) for row in frame.to_dict("records")]


@router.get("/trainer/sessions.ics", response_class=Response)
def read_trainer_calendar(principal: PrincipalDep, services: ServicesDep) -> Response:
    """Download the key's organisation's planned sessions as an ICS calendar."""
    organisation = _organisation(services, principal)
    frame = list_trainer_sessions(services.engine, organisation, "planned")
    frame = frame.assign(title_zh=frame["course_id"], title_en=frame["course_id"])
    return Response(to_ics(frame, f"培训计划 {organisation}"), media_type=MEDIA_TYPES["ics"])


@router.post("/sessions/{session_id}/delivered", response_model=SessionPublic)
def mark_delivered(
    session_id: Annotated[int, Path(ge=1)],
    body: DeliveryRequest,
    principal: PrincipalDep,
    services: ServicesDep,
) -> SessionPublic:
    """Mark a session delivered, which writes a training record.

    Allowed for admins and for trainers of the session's organisation.
    """
    require_role(principal, DELIVERERS)
    organisation = None if principal.role == Role.ADMIN else _organisation(services, principal)
    try:
        mark_session_delivered(
            services.engine, session_id, body.delivered_on, body.attendees, organisation
        )
    except PlanNotFoundError as exc:
        raise _problem(404, exc) from exc
    except PlanStateError as exc:
        raise _problem(409, exc) from exc
    return _session(read_session(services.engine, session_id))
