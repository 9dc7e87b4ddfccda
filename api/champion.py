"""The champion model from the MLflow registry, for :class:`api.serving.ModelHolder`."""

from __future__ import annotations

import logging

import mlflow.pyfunc
from mlflow.exceptions import MlflowException

from api.serving import LoadedModel
from risk.errors import ModelError
from risk.model.pyfunc import RiskPyfuncModel
from risk.model.tracking import CHAMPION_ALIAS, model_version_by_alias, tracking_client

logger = logging.getLogger(__name__)


class MlflowChampionSource:
    """Read the ``champion`` alias of a registered model and load versions by number.

    A version is loaded by its number, never through the alias, so the model
    loaded is the one the poll saw even if the alias moves again meanwhile.

    Parameters
    ----------
    tracking_uri : str
        MLflow tracking and registry URI, e.g. ``sqlite:///var/mlflow.db``.
    model_name : str
        Registered model name.
    """

    def __init__(self, tracking_uri: str, model_name: str) -> None:
        self.tracking_uri = tracking_uri
        self.model_name = model_name

    def champion_version(self) -> str | None:
        """Return the version the champion alias points at, or None when it is unset."""
        version = model_version_by_alias(self.tracking_uri, self.model_name, CHAMPION_ALIAS)
        return None if version is None else str(version.version)

    def load(self, version: str) -> LoadedModel:
        """Load ``version`` with its training run's metrics.

        Raises
        ------
        ModelError
            When the version does not hold a risk model.
        """
        client = tracking_client(self.tracking_uri)
        uri = f"models:/{self.model_name}/{version}"
        wrapped = mlflow.pyfunc.load_model(uri).unwrap_python_model()
        # load_model marks the model as the process's active model; clear it so a later
        # log_model in this process does not link to it (MLflow 3.17).
        mlflow.clear_active_model()
        if not isinstance(wrapped, RiskPyfuncModel):
            raise ModelError(f"{uri} is not a risk model (got {type(wrapped).__name__})")
        model_version = client.get_model_version(self.model_name, version)
        metrics: dict[str, float] = {}
        if model_version.run_id:
            try:
                metrics = dict(client.get_run(model_version.run_id).data.metrics)
            except MlflowException as exc:  # metrics are informative; the model still serves
                logger.warning("Could not read metrics of run %s: %s", model_version.run_id, exc)
        logger.info("Loaded %s (%d metrics)", uri, len(metrics))
        return LoadedModel(str(version), wrapped.risk_model, metrics, model_version.run_id)
