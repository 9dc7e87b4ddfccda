"""The served champion model: version, metrics and scoring run."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PrincipalDep, ServingDep
from api.presenters import finite_or_none
from api.schemas import ModelPublic

router = APIRouter(prefix="/v1/model", tags=["model"])


@router.get("", response_model=ModelPublic)
async def read_model(principal: PrincipalDep, state: ServingDep) -> ModelPublic:
    """Return the served model version, its metrics and its scoring run; any role may read it."""
    run = state.run
    return ModelPublic(
        model_name=state.model_name,
        model_version=state.model_version,
        as_of=None if run is None else run.as_of,
        horizon_days=None if run is None else run.horizon_days,
        champion_version=state.pending_version or state.model_version,
        loaded_at=state.loaded_at,
        scored_employers=0 if run is None else run.row_count,
        base_value=None if run is None else run.base_value,
        band_thresholds={} if run is None else dict(run.band_thresholds),
        metrics={name: finite_or_none(value) for name, value in state.model.metrics.items()},
    )
