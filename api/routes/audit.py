"""The audit log of employer reads, for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.audit import read_audit_log
from api.auth import ADMINS
from api.deps import PrincipalDep, ServicesDep
from api.routes.employers import require_role
from api.schemas import AuditEntryPublic, AuditLogPublic

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", response_model=AuditLogPublic)
def read_audit(
    principal: PrincipalDep,
    services: ServicesDep,
    employer_id: Annotated[str | None, Query(max_length=32)] = None,
    key_id: Annotated[str | None, Query(max_length=16)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditLogPublic:
    """Return audit rows, newest first; rows queued before this request are included."""
    require_role(principal, ADMINS)
    services.audit.flush()
    entries, total = read_audit_log(
        services.engine, employer_id=employer_id, key_id=key_id, offset=offset, limit=limit
    )
    state = services.holder.current
    return AuditLogPublic(
        model_version=None if state is None else state.model_version,
        as_of=None if state is None or state.run is None else state.run.as_of,
        total=total,
        offset=offset,
        limit=limit,
        data=[AuditEntryPublic(**vars(entry)) for entry in entries],
    )
