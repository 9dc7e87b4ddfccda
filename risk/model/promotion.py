"""The promotion gate: move the ``champion`` alias to the candidate only when it is better.

Each registered version carries the backtest of its own configuration on the
data it was trained from, logged on its training run as
``backtest_<metric>_mean`` (see :mod:`risk.model.tracking`). The gate compares
these logged values; it does not refit anything. Two versions trained on
different data were therefore backtested on different folds, which the
result records (``same_data``) and the model card repeats.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from risk.errors import ModelError
from risk.model.metrics import METRIC_NAMES
from risk.model.tracking import (
    CANDIDATE_ALIAS,
    CHAMPION_ALIAS,
    model_version_by_alias,
    tracking_client,
)

logger = logging.getLogger(__name__)

DEFAULT_GATE_METRIC = "pr_auc"
LOWER_IS_BETTER: tuple[str, ...] = ("brier", "ece", "poisson_deviance")
# Calibration slope and intercept are best at 1 and 0, not at an extreme,
# so they cannot rank two models on their own.
GATE_METRICS: tuple[str, ...] = tuple(
    name for name in METRIC_NAMES if name not in ("calibration_slope", "calibration_intercept")
)


@dataclass(frozen=True)
class PromotionResult:
    """Outcome of one call of the promotion gate.

    ``action`` is ``"first_champion"``, ``"promoted"``, ``"kept_champion"`` or
    ``"already_champion"``.
    """

    action: str
    metric: str
    candidate_version: str
    champion_version_before: str | None
    champion_version: str
    candidate_value: float | None
    champion_value: float | None
    same_data: bool | None

    @property
    def promoted(self) -> bool:
        """Whether the candidate is now the champion because of this call."""
        return self.action in ("first_champion", "promoted")

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain JSON types."""
        return {**asdict(self), "promoted": self.promoted}


def check_gate_metric(metric: str) -> str:
    """Return ``metric`` if the gate can use it, else raise ModelError naming the choices."""
    if metric not in GATE_METRICS:
        raise ModelError(
            f"不支持的晋级指标 {metric!r} / metric {metric!r} cannot gate promotion; "
            f"choose one of {', '.join(GATE_METRICS)}"
        )
    return metric


def _logged_backtest_value(tracking_uri: str, run_id: str, metric: str) -> float | None:
    run = tracking_client(tracking_uri).get_run(run_id)
    value = run.data.metrics.get(f"backtest_{metric}_mean")
    return None if value is None else float(value)


def _fingerprint(tracking_uri: str, run_id: str) -> str | None:
    return tracking_client(tracking_uri).get_run(run_id).data.tags.get("data_fingerprint")


def _is_better(candidate: float, champion: float, metric: str) -> bool:
    return candidate < champion if metric in LOWER_IS_BETTER else candidate > champion


def promote_candidate(
    tracking_uri: str, name: str, metric: str = DEFAULT_GATE_METRIC
) -> PromotionResult:
    """Point ``champion`` at the ``candidate`` version if it beats the champion on ``metric``.

    "Beats" is strictly better on the mean over backtest folds (higher, or
    lower for Brier, ECE and Poisson deviance); a tie keeps the champion.
    With no champion yet, the candidate becomes champion.

    Raises
    ------
    ModelError
        When there is no candidate, the metric cannot gate, or the candidate
        has no logged backtest value while a champion exists.
    """
    check_gate_metric(metric)
    client = tracking_client(tracking_uri)
    candidate = model_version_by_alias(tracking_uri, name, CANDIDATE_ALIAS)
    if candidate is None:
        raise ModelError(
            f"模型 {name!r} 没有候选版本 / registered model {name!r} has no {CANDIDATE_ALIAS!r} "
            f"version in {tracking_uri}; run `injury-risk train` first"
        )
    champion = model_version_by_alias(tracking_uri, name, CHAMPION_ALIAS)
    candidate_value = _logged_backtest_value(tracking_uri, candidate.run_id, metric)

    if champion is None:
        client.set_registered_model_alias(name, CHAMPION_ALIAS, candidate.version)
        return _result(
            "first_champion", metric, candidate, None, candidate, candidate_value, None, None
        )
    champion_value = _logged_backtest_value(tracking_uri, champion.run_id, metric)
    same_data = _fingerprint(tracking_uri, candidate.run_id) == _fingerprint(
        tracking_uri, champion.run_id
    )
    if champion.version == candidate.version:
        return _result(
            "already_champion",
            metric,
            candidate,
            champion,
            champion,
            candidate_value,
            champion_value,
            True,
        )
    if candidate_value is None:
        raise ModelError(
            f"候选版本 {candidate.version} 没有回测指标 / "
            f"candidate version {candidate.version} has no "
            f"logged backtest_{metric}_mean; retrain with `injury-risk train --backtest-folds 4`"
        )

    # TODO: when same_data is False the two values come from different folds; refitting the
    # champion's configuration on the candidate's folds would compare like with like.
    if champion_value is None or _is_better(candidate_value, champion_value, metric):
        client.set_registered_model_alias(name, CHAMPION_ALIAS, candidate.version)
        return _result(
            "promoted",
            metric,
            candidate,
            champion,
            candidate,
            candidate_value,
            champion_value,
            same_data,
        )
    return _result(
        "kept_champion",
        metric,
        candidate,
        champion,
        champion,
        candidate_value,
        champion_value,
        same_data,
    )


def _result(
    action: str,
    metric: str,
    candidate: Any,
    champion_before: Any | None,
    champion_after: Any,
    candidate_value: float | None,
    champion_value: float | None,
    same_data: bool | None,
) -> PromotionResult:
    result = PromotionResult(
        action=action,
        metric=metric,
        candidate_version=str(candidate.version),
        champion_version_before=None if champion_before is None else str(champion_before.version),
        champion_version=str(champion_after.version),
        candidate_value=candidate_value,
        champion_value=champion_value,
        same_data=same_data,
    )
    logger.info(
        "promotion %s: candidate v%s (%s=%s), champion now v%s",
        action,
        result.candidate_version,
        metric,
        candidate_value,
        result.champion_version,
    )
    return result
