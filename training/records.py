"""Plans as records: save, version, approve, publish, read, and mark sessions delivered.

Status moves one way: ``draft`` -> ``approved`` -> ``published``, and a newer
published version turns the older one ``superseded``. Only sessions of a
published version reach trainers, and only those can be marked delivered,
which writes a ``training_record`` row (``record_id`` ``PLAN-<session_id>``)
in the same transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from risk.store.models import Employer, TrainingRecord
from training.db_models import (
    TrainerApiKeyRow,
    TrainingPlanEmployerRow,
    TrainingPlanRow,
    TrainingPlanSessionRow,
    TrainingPlanVersionRow,
)
from training.errors import PlanNotFoundError, PlanStateError
from training.models import TrainingPlan

logger = logging.getLogger(__name__)

_NEXT_STATUS = {"approve": ("draft", "approved"), "publish": ("approved", "published")}
_ACTION_ZH = {"approve": "审批", "publish": "发布"}


@dataclass(frozen=True)
class PlanVersionInfo:
    """One stored plan version without its employers and sessions."""

    plan_id: int
    name: str
    version: int
    version_id: int
    status: str
    as_of: dt.date
    start_date: dt.date
    horizon_weeks: int
    strategy: str
    solver_status: str
    objective: float
    bound: float
    gap: float
    solve_seconds: float
    employer_count: int
    session_count: int
    created_at: dt.datetime
    created_by: str
    approved_at: dt.datetime | None
    published_at: dt.datetime | None


@dataclass(frozen=True)
class StoredPlan:
    """A stored plan version with its employers and sessions as frames."""

    info: PlanVersionInfo
    employers: pd.DataFrame
    sessions: pd.DataFrame


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _parameters(plan: TrainingPlan) -> str:
    options = dataclasses.asdict(plan.options)
    options["blackout_weeks"] = {k: sorted(v) for k, v in plan.options.blackout_weeks.items()}
    options["must_include"] = sorted(plan.options.must_include)
    options["profile"]["severe_accident_types"] = sorted(plan.options.profile.severe_accident_types)
    document = {"budget": dataclasses.asdict(plan.budget), "options": options}
    return json.dumps(document, ensure_ascii=False, default=str, sort_keys=True)


def save_plan(
    engine: Engine, plan: TrainingPlan, name: str, created_by: str, plan_id: int | None = None
) -> PlanVersionInfo:
    """Store ``plan`` as a new draft: version 1 of a new plan, or the next version of ``plan_id``.

    Raises
    ------
    PlanNotFoundError
        If ``plan_id`` is given and no such plan exists.
    """
    now = _now()
    with engine.begin() as connection:
        if plan_id is None:
            plan_id = int(
                connection.execute(
                    insert(TrainingPlanRow).values(name=name, created_at=now, created_by=created_by)
                ).inserted_primary_key[0]
            )
        elif (
            connection.execute(
                select(TrainingPlanRow.plan_id).where(TrainingPlanRow.plan_id == plan_id)
            ).first()
            is None
        ):
            raise _plan_not_found(plan_id)
        version = (
            int(
                connection.execute(
                    select(func.coalesce(func.max(TrainingPlanVersionRow.version), 0)).where(
                        TrainingPlanVersionRow.plan_id == plan_id
                    )
                ).scalar_one()
            )
            + 1
        )
        version_id = int(
            connection.execute(
                insert(TrainingPlanVersionRow).values(
                    plan_id=plan_id,
                    version=version,
                    status="draft",
                    as_of=plan.as_of,
                    start_date=plan.start_date,
                    horizon_weeks=plan.horizon_weeks,
                    strategy=plan.solve.strategy,
                    solver_status=plan.solve.status,
                    objective=plan.solve.objective,
                    bound=plan.solve.bound,
                    gap=plan.solve.gap,
                    solve_seconds=plan.solve.solve_seconds,
                    parameters=_parameters(plan),
                    created_at=now,
                    created_by=created_by,
                )
            ).inserted_primary_key[0]
        )
        _insert_content(connection, version_id, plan)
    logger.info(
        "Saved plan %d version %d: %d employers, %d sessions",
        plan_id,
        version,
        len(plan.course_plans),
        len(plan.sessions),
    )
    return read_plan_info(engine, plan_id, version)


def _insert_content(connection: Connection, version_id: int, plan: TrainingPlan) -> None:
    employers = [
        {
            "version_id": version_id,
            "employer_id": p.employer_id,
            "name": p.name,
            "district_code": p.district_code,
            "industry_code": p.industry_code,
            "headcount": p.headcount,
            "risk_score": p.risk_score,
            "expected_injuries": p.expected_injuries,
            "expected_injuries_averted": p.expected_injuries_averted,
            "courses": json.dumps([dataclasses.asdict(c) for c in p.courses], ensure_ascii=False),
            "rationale_zh": p.rationale_zh,
            "rationale_en": p.rationale_en,
        }
        for p in plan.course_plans
    ]
    sessions = [
        {
            "version_id": version_id,
            "employer_id": s.employer_id,
            "course_id": s.course_id,
            "trainer_id": s.trainer_id,
            "organisation": s.organisation,
            "week": s.week,
            "week_start": s.week_start,
            "sequence": s.sequence,
            "hours": s.hours,
            "mode": s.mode,
            "planned_attendees": s.planned_attendees,
            "status": "planned",
        }
        for s in plan.sessions
    ]
    if employers:
        connection.execute(insert(TrainingPlanEmployerRow), employers)
    if sessions:
        connection.execute(insert(TrainingPlanSessionRow), sessions)


def _plan_not_found(plan_id: int, version: int | None = None) -> PlanNotFoundError:
    what = f"{plan_id}" if version is None else f"{plan_id} 第 {version} 版"
    what_en = f"{plan_id}" if version is None else f"{plan_id} version {version}"
    return PlanNotFoundError(f"未找到培训计划 {what}。 / Training plan {what_en} not found.")


def _version_row(connection: Connection, plan_id: int, version: int | None) -> Row[Any]:
    query = select(TrainingPlanVersionRow).where(TrainingPlanVersionRow.plan_id == plan_id)
    if version is None:
        query = query.order_by(TrainingPlanVersionRow.version.desc()).limit(1)
    else:
        query = query.where(TrainingPlanVersionRow.version == version)
    row = connection.execute(query).first()
    if row is None:
        raise _plan_not_found(plan_id, version)
    return row


def _info(connection: Connection, row: Row[Any]) -> PlanVersionInfo:
    name = connection.execute(
        select(TrainingPlanRow.name).where(TrainingPlanRow.plan_id == row.plan_id)
    ).scalar_one()
    employers = connection.execute(
        select(func.count())
        .select_from(TrainingPlanEmployerRow)
        .where(TrainingPlanEmployerRow.version_id == row.version_id)
    ).scalar_one()
    sessions = connection.execute(
        select(func.count())
        .select_from(TrainingPlanSessionRow)
        .where(TrainingPlanSessionRow.version_id == row.version_id)
    ).scalar_one()
    return PlanVersionInfo(
        plan_id=row.plan_id,
        name=name,
        version=row.version,
        version_id=row.version_id,
        status=row.status,
        as_of=row.as_of,
        start_date=row.start_date,
        horizon_weeks=row.horizon_weeks,
        strategy=row.strategy,
        solver_status=row.solver_status,
        objective=row.objective,
        bound=row.bound,
        gap=row.gap,
        solve_seconds=row.solve_seconds,
        employer_count=int(employers),
        session_count=int(sessions),
        created_at=row.created_at,
        created_by=row.created_by,
        approved_at=row.approved_at,
        published_at=row.published_at,
    )


def read_plan_info(engine: Engine, plan_id: int, version: int | None = None) -> PlanVersionInfo:
    """Return a plan version's summary; the latest version when ``version`` is None."""
    with engine.connect() as connection:
        return _info(connection, _version_row(connection, plan_id, version))


def list_plans(engine: Engine) -> list[PlanVersionInfo]:
    """Return the latest version of every plan, newest plan first."""
    with engine.connect() as connection:
        latest = (
            select(
                TrainingPlanVersionRow.plan_id, func.max(TrainingPlanVersionRow.version).label("v")
            )
            .group_by(TrainingPlanVersionRow.plan_id)
            .subquery()
        )
        rows = connection.execute(
            select(TrainingPlanVersionRow)
            .join(
                latest,
                (latest.c.plan_id == TrainingPlanVersionRow.plan_id)
                & (latest.c.v == TrainingPlanVersionRow.version),
            )
            .order_by(TrainingPlanVersionRow.plan_id.desc())
        ).all()
        return [_info(connection, row) for row in rows]


def read_plan(engine: Engine, plan_id: int, version: int | None = None) -> StoredPlan:
    """Return a plan version with its employers and sessions (latest version when None)."""
    with engine.connect() as connection:
        row = _version_row(connection, plan_id, version)
        info = _info(connection, row)
        employers = pd.read_sql(
            select(TrainingPlanEmployerRow)
            .where(TrainingPlanEmployerRow.version_id == row.version_id)
            .order_by(TrainingPlanEmployerRow.expected_injuries_averted.desc()),
            connection,
        )
        sessions = pd.read_sql(
            select(TrainingPlanSessionRow)
            .where(TrainingPlanSessionRow.version_id == row.version_id)
            .order_by(
                TrainingPlanSessionRow.week,
                TrainingPlanSessionRow.trainer_id,
                TrainingPlanSessionRow.session_id,
            ),
            connection,
        )
    return StoredPlan(info, employers, sessions)


def change_plan_status(
    engine: Engine, plan_id: int, version: int, action: str, by: str
) -> PlanVersionInfo:
    """Apply ``action`` (``"approve"`` or ``"publish"``) to a plan version.

    Raises
    ------
    PlanNotFoundError
        If the plan version does not exist.
    PlanStateError
        If the version is not in the state the action starts from.
    """
    before, after = _NEXT_STATUS[action]
    now = _now()
    with engine.begin() as connection:
        row = _version_row(connection, plan_id, version)
        if row.status != before:
            raise PlanStateError(
                f"培训计划 {plan_id} 第 {version} 版的状态为 {row.status}，"
                f"只有 {before} 状态才能{_ACTION_ZH[action]}。"
                f" / Plan {plan_id} version {version} is {row.status};"
                f" only a {before} version can be {after}."
            )
        values: dict[str, object] = {"status": after, f"{after}_at": now, f"{after}_by": by}
        if action == "publish":
            connection.execute(
                update(TrainingPlanVersionRow)
                .where(
                    TrainingPlanVersionRow.plan_id == plan_id,
                    TrainingPlanVersionRow.status == "published",
                )
                .values(status="superseded")
            )
        connection.execute(
            update(TrainingPlanVersionRow)
            .where(TrainingPlanVersionRow.version_id == row.version_id)
            .values(**values)
        )
    logger.info("Plan %d version %d is now %s (by %s)", plan_id, version, after, by)
    return read_plan_info(engine, plan_id, version)


def list_trainer_sessions(
    engine: Engine, organisation: str, status: str | None = None
) -> pd.DataFrame:
    """Return the sessions of published plans assigned to ``organisation``, by week."""
    query = (
        select(
            TrainingPlanSessionRow,
            TrainingPlanVersionRow.plan_id,
            TrainingPlanVersionRow.version,
            TrainingPlanEmployerRow.name.label("employer_name"),
            TrainingPlanEmployerRow.district_code,
        )
        .join(
            TrainingPlanVersionRow,
            TrainingPlanVersionRow.version_id == TrainingPlanSessionRow.version_id,
        )
        .join(
            TrainingPlanEmployerRow,
            (TrainingPlanEmployerRow.version_id == TrainingPlanSessionRow.version_id)
            & (TrainingPlanEmployerRow.employer_id == TrainingPlanSessionRow.employer_id),
        )
        .where(
            TrainingPlanVersionRow.status == "published",
            TrainingPlanSessionRow.organisation == organisation,
        )
        .order_by(TrainingPlanSessionRow.week_start, TrainingPlanSessionRow.session_id)
    )
    if status is not None:
        query = query.where(TrainingPlanSessionRow.status == status)
    with engine.connect() as connection:
        return pd.read_sql(query, connection)


def mark_session_delivered(
    engine: Engine,
    session_id: int,
    delivered_on: dt.date,
    attendees: int,
    organisation: str | None = None,
) -> str:
    """Mark a published session delivered and write its training record; return the record id.

    ``organisation``, when given, must be the session's organisation.

    Raises
    ------
    PlanNotFoundError
        If no session has that id, or it belongs to another organisation.
    PlanStateError
        If its plan version is not published, it is already delivered, the
        attendee count is not positive, or its employer is not in the store.
    """
    if attendees <= 0:
        raise PlanStateError(
            f"参训人数必须为正整数，收到 {attendees}。"
            f" / Attendees must be positive, got {attendees}."
        )
    with engine.begin() as connection:
        row = connection.execute(
            select(TrainingPlanSessionRow, TrainingPlanVersionRow.status.label("plan_status"))
            .join(
                TrainingPlanVersionRow,
                TrainingPlanVersionRow.version_id == TrainingPlanSessionRow.version_id,
            )
            .where(TrainingPlanSessionRow.session_id == session_id)
        ).first()
        if row is None or (organisation is not None and row.organisation != organisation):
            raise PlanNotFoundError(
                f"未找到培训场次 {session_id}。 / Training session {session_id} not found."
            )
        session = row
        _check_deliverable(connection, session, row.plan_status)
        record_id = f"PLAN-{session_id}"
        connection.execute(
            insert(TrainingRecord).values(
                record_id=record_id,
                employer_id=session.employer_id,
                course_id=session.course_id,
                delivered_on=delivered_on,
                attendees=attendees,
            )
        )
        connection.execute(
            update(TrainingPlanSessionRow)
            .where(TrainingPlanSessionRow.session_id == session_id)
            .values(
                status="delivered",
                delivered_on=delivered_on,
                attendees=attendees,
                record_id=record_id,
            )
        )
    logger.info(
        "Session %d delivered on %s to employer %s", session_id, delivered_on, session.employer_id
    )
    return record_id


def _check_deliverable(connection: Connection, session: Row[Any], plan_status: str) -> None:
    if plan_status != "published":
        raise PlanStateError(
            f"培训场次 {session.session_id} 所属计划版本的状态为 {plan_status}，"
            "只有已发布计划的场次可以登记完成。"
            f" / Session {session.session_id} belongs to a {plan_status} plan version;"
            " only sessions of a published version can be marked delivered."
        )
    if session.status == "delivered":
        raise PlanStateError(
            f"培训场次 {session.session_id} 已于 {session.delivered_on} 登记完成。"
            f" / Session {session.session_id} was already marked delivered"
            f" on {session.delivered_on}."
        )
    known = connection.execute(
        select(Employer.employer_id).where(Employer.employer_id == session.employer_id)
    ).first()
    if known is None:
        raise PlanStateError(
            f"用人单位 {session.employer_id} 不在数据库中，无法写入培训记录；请先导入该单位。"
            f" / Employer {session.employer_id!r} is not in the store, so no training record can be"
            " written; ingest the employer first."
        )


def read_session(engine: Engine, session_id: int) -> dict[str, object]:
    """Return one session's columns by id.

    Raises
    ------
    PlanNotFoundError
        If no session has that id.
    """
    with engine.connect() as connection:
        row = connection.execute(
            select(TrainingPlanSessionRow).where(TrainingPlanSessionRow.session_id == session_id)
        ).first()
    if row is None:
        raise PlanNotFoundError(
            f"未找到培训场次 {session_id}。 / Training session {session_id} not found."
        )
    return {
        column.name: getattr(row, column.name)
        for column in TrainingPlanSessionRow.__table__.columns
    }


def link_trainer_key(engine: Engine, key_id: str, organisation: str) -> None:
    """Let the trainer-role API key ``key_id`` see the sessions of ``organisation``."""
    with engine.begin() as connection:
        connection.execute(
            TrainerApiKeyRow.__table__.delete().where(TrainerApiKeyRow.key_id == key_id)
        )
        connection.execute(
            insert(TrainerApiKeyRow).values(key_id=key_id, organisation=organisation)
        )
    logger.info("Linked API key %s to a training organisation", key_id)


def trainer_organisation(engine: Engine, key_id: str) -> str | None:
    """Return the organisation linked to ``key_id``, or None."""
    with engine.connect() as connection:
        return connection.execute(
            select(TrainerApiKeyRow.organisation).where(TrainerApiKeyRow.key_id == key_id)
        ).scalar_one_or_none()
