"""The feature columns a model was trained on, and how to cast new input to them.

A fitted model keeps a :class:`FeatureSchema`: the feature names in training
order and, for each categorical feature, the exact categories it saw, in
their training order. XGBoost splits categorical features on category codes,
so new input must be cast to those same categories in that same order. A
value the model never saw becomes missing and is flagged. It is never mapped
to another category.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from risk.errors import ModelError

logger = logging.getLogger(__name__)

# Columns of a panel that are keys or outcomes, never features.
PANEL_KEYS: tuple[str, ...] = ("employer_id", "as_of")
PANEL_LABELS: tuple[str, ...] = ("injury_any", "injury_count", "exposure")
# Columns the backtest adds to a panel: the oracle's true expected count and
# the peer-percentile baseline's score.
BACKTEST_COLUMNS: tuple[str, ...] = ("oracle_expected_injuries", "peer_percentile")

UNKNOWN_CATEGORIES_COLUMN = "unknown_categories"


def _name_list(names: Sequence[str], limit: int = 5) -> str:
    listed = ", ".join(repr(name) for name in list(names)[:limit])
    return listed + (", …" if len(names) > limit else "")


def infer_feature_names(panel: pd.DataFrame) -> list[str]:
    """Return every column of ``panel`` that is not a key, an outcome or a backtest column."""
    excluded = set(PANEL_KEYS) | set(PANEL_LABELS) | set(BACKTEST_COLUMNS)
    return [column for column in panel.columns if column not in excluded]


def _is_categorical(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.CategoricalDtype) or (
        pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)
    )


def _vocabulary(series: pd.Series) -> tuple[str, ...]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        # Keep the declared order, unused categories included, so that codes
        # stay the same whatever subset of rows a model was fitted on.
        return tuple(str(category) for category in series.cat.categories)
    return tuple(sorted({str(value) for value in series.dropna()}))


@dataclass(frozen=True)
class PreparedFeatures:
    """Features cast to the training dtypes, with the rows whose category was unseen in training.

    Attributes
    ----------
    frame : DataFrame
        One column per feature in training order: ``category`` dtype with the
        training categories for categorical features, ``float64`` otherwise.
    unknown_categories : Series of str
        For each row, the comma-separated names of categorical features whose
        value was not among the training categories (now missing); empty
        when there were none.
    """

    frame: pd.DataFrame
    unknown_categories: pd.Series


@dataclass(frozen=True)
class FeatureSchema:
    """Feature names in training order and the category vocabulary of each categorical feature."""

    feature_names: tuple[str, ...]
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, feature_names: Sequence[str]) -> FeatureSchema:
        """Record the schema of the training ``frame``.

        Columns with ``category`` dtype keep their declared categories; text
        columns become categorical with their sorted distinct values.
        """
        missing = [name for name in feature_names if name not in frame.columns]
        if missing:
            raise ModelError(
                f"训练数据缺少特征列 / training data lacks feature columns: {_name_list(missing)}; "
                f"columns present: {_name_list(list(frame.columns))}"
            )
        if not feature_names:
            raise ModelError("没有特征列 / no feature columns: pass at least one feature name")

        categories = {
            name: _vocabulary(frame[name]) for name in feature_names if _is_categorical(frame[name])
        }
        return cls(feature_names=tuple(feature_names), categories=categories)

    @property
    def numeric_features(self) -> list[str]:
        """Names of the features that are not categorical."""
        return [name for name in self.feature_names if name not in self.categories]

    def prepare(self, frame: pd.DataFrame) -> PreparedFeatures:
        """Cast ``frame`` to the training dtypes; extra columns are ignored.

        Raises
        ------
        ModelError
            When a feature column is missing or a numeric feature contains text
            that is not a number.
        """
        missing = [name for name in self.feature_names if name not in frame.columns]
        if missing:
            raise ModelError(
                f"评分数据缺少特征列 / input lacks feature columns: {_name_list(missing)}; "
                "pass every feature the model was trained on"
            )

        columns: dict[str, pd.Series] = {}
        unknown_flags: dict[str, pd.Series] = {}
        for name in self.feature_names:
            if name in self.categories:
                columns[name], unknown_flags[name] = self._cast_categorical(frame[name], name)
            else:
                columns[name] = self._cast_numeric(frame[name], name)

        prepared = pd.DataFrame(columns, index=frame.index)
        return PreparedFeatures(prepared, self._describe_unknown(unknown_flags, frame.index))

    def _cast_categorical(self, values: pd.Series, name: str) -> tuple[pd.Series, pd.Series]:
        # JSON and CSV input brings categories as plain strings, so compare as text.
        as_text = values.astype("object").where(values.notna(), None)
        as_text = as_text.map(lambda value: None if value is None else str(value))
        vocabulary = list(self.categories[name])
        unknown = as_text.notna() & ~as_text.isin(vocabulary)
        # pandas 3 deprecates building a Categorical from values outside its
        # categories, so unseen values are blanked first.
        cast = pd.Series(
            pd.Categorical(as_text.where(~unknown, None), categories=vocabulary),
            index=values.index,
            name=name,
        )
        if unknown.any():
            logger.warning(
                "feature %s: %d rows have categories unseen in training; scored as missing",
                name,
                int(unknown.sum()),
            )
        return cast, unknown

    @staticmethod
    def _cast_numeric(values: pd.Series, name: str) -> pd.Series:
        if pd.api.types.is_bool_dtype(values.dtype):
            return values.astype("float64")
        try:
            numbers = pd.to_numeric(values, errors="raise")
        except (ValueError, TypeError) as exc:
            bad = values[pd.to_numeric(values, errors="coerce").isna() & values.notna()]
            raise ModelError(
                f"特征 {name!r} 应为数值 / feature {name!r} must be numeric, got "
                f"{_name_list([str(value) for value in bad.unique()])}"
            ) from exc
        return numbers.astype("float64")

    @staticmethod
    def _describe_unknown(flags: dict[str, pd.Series], index: pd.Index) -> pd.Series:
        described = pd.Series("", index=index, dtype="object")
        for name, flag in flags.items():
            separator = pd.Series(
                np.where(described.to_numpy() != "", ",", ""), index=index, dtype="object"
            )
            described = described.where(~flag, described + separator + name)
        return described

    def to_dict(self) -> dict[str, Any]:
        """Return the schema as plain JSON types."""
        return {
            "feature_names": list(self.feature_names),
            "categories": {name: list(values) for name, values in self.categories.items()},
        }

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> FeatureSchema:
        """Rebuild a schema written by :meth:`to_dict`."""
        return cls(
            feature_names=tuple(payload["feature_names"]),
            categories={name: tuple(values) for name, values in payload["categories"].items()},
        )
