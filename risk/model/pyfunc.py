"""The MLflow pyfunc wrapper of :class:`~risk.model.xgb.RiskModel`.

MLflow's own XGBoost flavour returns 0/1 labels, and its signature has no
categorical type, so string categories would reach XGBoost uncast and fail.
This wrapper instead stores the whole fitted model (boosters, calibrator and
the category vocabularies), casts every input to the training dtypes, and
returns calibrated probabilities and expected injuries.

The signature declares categorical features as strings and every numeric
feature as double, because JSON input carries integers that may be missing as
floats or nulls. MLflow rejects int64 columns for a double input, so callers
of the pyfunc send numbers as floats; :meth:`RiskModel.predict` itself accepts
either.
"""

from __future__ import annotations

import logging
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import mlflow.pyfunc
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types.schema import ColSpec, Schema

from risk.model.schema import UNKNOWN_CATEGORIES_COLUMN
from risk.model.xgb import RiskModel

logger = logging.getLogger(__name__)

RISK_MODEL_ARTIFACT = "risk_model"
RISK_MODEL_FILE = "risk_model.joblib"
OUTPUT_COLUMNS: tuple[str, ...] = (
    "risk_score",
    "expected_injuries",
    "uncalibrated_score",
    UNKNOWN_CATEGORIES_COLUMN,
)
# Distributions the stored model needs to load; the platform's own package
# must be installed too, because the pickled wrapper imports ``risk.model``.
_REQUIRED_DISTRIBUTIONS = ("mlflow", "xgboost", "scikit-learn", "pandas", "numpy", "joblib", "shap")


class RiskPyfuncModel(mlflow.pyfunc.PythonModel):
    """Scores a frame of features with the stored :class:`RiskModel`."""

    risk_model: RiskModel

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        """Load the fitted model from the run's artifacts."""
        self.risk_model = joblib.load(context.artifacts[RISK_MODEL_ARTIFACT])

    def predict(
        self,
        context: mlflow.pyfunc.PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Return the columns of :data:`OUTPUT_COLUMNS` for each input row."""
        predicted = self.risk_model.predict(pd.DataFrame(model_input))
        return predicted[list(OUTPUT_COLUMNS)].reset_index(drop=True)


def model_signature(model: RiskModel) -> ModelSignature:
    """Return the signature: strings for categorical features, doubles for the rest."""
    inputs = Schema(
        [
            ColSpec("string" if name in model.schema.categories else "double", name)
            for name in model.feature_names
        ]
    )
    outputs = Schema(
        [
            ColSpec("double", "risk_score"),
            ColSpec("double", "expected_injuries"),
            ColSpec("double", "uncalibrated_score"),
            ColSpec("string", UNKNOWN_CATEGORIES_COLUMN),
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def input_example(model: RiskModel, frame: pd.DataFrame, n_rows: int = 3) -> pd.DataFrame:
    """Return ``n_rows`` of ``frame``'s features as the signature types: text and floats."""
    sample = model.prepare(frame.head(n_rows)).frame
    example = {}
    for name in model.feature_names:
        column = sample[name]
        if name in model.schema.categories:
            example[name] = column.astype("object").where(column.notna(), None)
        else:
            example[name] = column.astype("float64")
    return pd.DataFrame(example).reset_index(drop=True)


def pip_requirements() -> list[str]:
    """Return pinned requirements of the stored model, from the installed versions."""
    requirements = []
    for distribution in _REQUIRED_DISTRIBUTIONS:
        try:
            requirements.append(f"{distribution}=={metadata.version(distribution)}")
        except metadata.PackageNotFoundError:
            requirements.append(distribution)
    return requirements


def log_pyfunc_model(model: RiskModel, example_frame: pd.DataFrame, work_dir: Path) -> str:
    """Log ``model`` as a pyfunc model named ``model`` in the active run; return its model URI."""
    work_dir.mkdir(parents=True, exist_ok=True)
    model_file = work_dir / RISK_MODEL_FILE
    joblib.dump(model, model_file)
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=RiskPyfuncModel(),
        artifacts={RISK_MODEL_ARTIFACT: str(model_file)},
        signature=model_signature(model),
        input_example=input_example(model, example_frame),
        pip_requirements=pip_requirements(),
    )
    return str(info.model_uri)
