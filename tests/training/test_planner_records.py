"""Tests of stored plans: versions, status changes, trainers' sessions and delivered sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from planner_factories import AS_OF, make_candidates, make_courses, make_trainers
from sqlalchemy import Engine, insert, select

from risk.store.models import Employer, TrainingRecord
from training import PlanBudget, PlanOptions, TrainingPlan, plan_courses
from training.errors import PlanNotFoundError, PlanStateError
from training.records import (
    change_plan_status,
    link_trainer_key,
    list_plans,
    list_trainer_sessions,
    mark_session_delivered,
    read_plan,
    save_plan,
    trainer_organisation,
)


def _plan(count: int = 3) -> TrainingPlan:
    candidates = make_candidates(count, headcount=30)
    courses = make_courses([{"course_id": "A", "accident_types": "03", "class_size": "20"}])
    trainers = make_trainers(
        [
            {"trainer_id": "T1", "organisation": "甲机构"},
            {"trainer_id": "T2", "organisation": "乙机构"},
        ]
    )
    return plan_courses(
        candidates, courses, trainers, PlanBudget(), options=PlanOptions(as_of=AS_OF)
    )


def _add_employers(engine: Engine, plan: TrainingPlan) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(Employer),
            [
                {
                    "employer_id": p.employer_id,
                    "name": p.name,
                    "industry_code": p.industry_code,
                    "district_code": p.district_code,
                }
                for p in plan.course_plans
            ],
        )


def test_save_plan_versions_and_status_flow(store_engine: Engine) -> None:
    """A plan gets versions; approve then publish; a newer published version supersedes the old."""
    plan = _plan()

    first = save_plan(store_engine, plan, "二〇二六年上半年", "cli")
    second = save_plan(store_engine, plan, "ignored", "cli", plan_id=first.plan_id)
    for version in (1, 2):
        change_plan_status(store_engine, first.plan_id, version, "approve", "admin-key")
        change_plan_status(store_engine, first.plan_id, version, "publish", "admin-key")

    assert (first.version, second.version) == (1, 2)
    assert first.status == "draft"
    assert read_plan(store_engine, first.plan_id, 1).info.status == "superseded"
    latest = read_plan(store_engine, first.plan_id)
    assert latest.info.status == "published"
    assert latest.info.session_count == len(plan.sessions) == len(latest.sessions)
    assert latest.info.employer_count == len(plan.course_plans)
    assert [info.name for info in list_plans(store_engine)] == ["二〇二六年上半年"]
    assert latest.employers["rationale_en"].str.startswith("Expected").all()


def test_change_plan_status_wrong_state_rejected(store_engine: Engine) -> None:
    """A draft cannot be published before it is approved, nor approved twice."""
    info = save_plan(store_engine, _plan(), "p", "cli")

    with pytest.raises(PlanStateError, match="only a approved version can be published"):
        change_plan_status(store_engine, info.plan_id, 1, "publish", "admin")
    change_plan_status(store_engine, info.plan_id, 1, "approve", "admin")
    with pytest.raises(PlanStateError, match="is approved; only a draft version"):
        change_plan_status(store_engine, info.plan_id, 1, "approve", "admin")


def test_read_plan_unknown_raises(store_engine: Engine) -> None:
    """An unknown plan or version is reported as not found."""
    with pytest.raises(PlanNotFoundError, match="Training plan 99 not found"):
        read_plan(store_engine, 99)
    with pytest.raises(PlanNotFoundError, match="Training plan 99 not found"):
        save_plan(store_engine, _plan(1), "p", "cli", plan_id=99)


def test_mark_session_delivered_writes_training_record(store_engine: Engine) -> None:
    """Delivering a published session writes one training record; a second report is rejected."""
    plan = _plan()
    _add_employers(store_engine, plan)
    info = save_plan(store_engine, plan, "p", "cli")
    draft_session = int(read_plan(store_engine, info.plan_id).sessions["session_id"].iloc[0])

    with pytest.raises(PlanStateError, match="only sessions of a\n?.*published version"):
        mark_session_delivered(store_engine, draft_session, dt.date(2026, 1, 7), 18)
    change_plan_status(store_engine, info.plan_id, 1, "approve", "admin")
    change_plan_status(store_engine, info.plan_id, 1, "publish", "admin")
    sessions = list_trainer_sessions(store_engine, "甲机构")
    session_id = int(sessions["session_id"].iloc[0])
    record_id = mark_session_delivered(store_engine, session_id, dt.date(2026, 1, 7), 18, "甲机构")

    assert set(sessions["organisation"]) == {"甲机构"}
    with store_engine.connect() as connection:
        record = connection.execute(
            select(TrainingRecord).where(TrainingRecord.record_id == record_id)
        ).one()
    assert (record.employer_id, record.course_id, record.attendees) == (
        sessions["employer_id"].iloc[0],
        "A",
        18,
    )
    assert record.delivered_on == dt.date(2026, 1, 7)
    delivered = list_trainer_sessions(store_engine, "甲机构", "delivered")
    assert delivered["session_id"].tolist() == [session_id]
    with pytest.raises(PlanStateError, match="already marked delivered on 2026-01-07"):
        mark_session_delivered(store_engine, session_id, dt.date(2026, 1, 8), 18)


def test_mark_session_delivered_other_organisation_not_found(store_engine: Engine) -> None:
    """A trainer cannot report another organisation's session; it looks like an unknown session."""
    plan = _plan()
    _add_employers(store_engine, plan)
    info = save_plan(store_engine, plan, "p", "cli")
    change_plan_status(store_engine, info.plan_id, 1, "approve", "admin")
    change_plan_status(store_engine, info.plan_id, 1, "publish", "admin")
    other = int(list_trainer_sessions(store_engine, "乙机构")["session_id"].iloc[0])

    with pytest.raises(PlanNotFoundError, match=f"Training session {other} not found"):
        mark_session_delivered(store_engine, other, dt.date(2026, 1, 7), 10, "甲机构")


def test_mark_session_delivered_unknown_employer_rejected(store_engine: Engine) -> None:
    """Without the employer in the store no training record can be written."""
    info = save_plan(store_engine, _plan(1), "p", "cli")
    change_plan_status(store_engine, info.plan_id, 1, "approve", "admin")
    change_plan_status(store_engine, info.plan_id, 1, "publish", "admin")
    session_id = int(read_plan(store_engine, info.plan_id).sessions["session_id"].iloc[0])

    with pytest.raises(PlanStateError, match="is not in the store"):
        mark_session_delivered(store_engine, session_id, dt.date(2026, 1, 7), 10)


def test_link_trainer_key_replaces_link(store_engine: Engine) -> None:
    """A key links to one organisation; linking again replaces it."""
    from api.auth import Role, create_api_key

    _, key = create_api_key(store_engine, Role.TRAINER, label="trainer")
    link_trainer_key(store_engine, key.key_id, "甲机构")
    link_trainer_key(store_engine, key.key_id, "乙机构")

    assert trainer_organisation(store_engine, key.key_id) == "乙机构"
    assert trainer_organisation(store_engine, "0000000000000000") is None
