"""Point-in-time employer features: the inputs of the risk model.

:func:`build_features` returns one row per employer as of a date, following the
point-in-time rule stated in :mod:`risk.features.build`. :func:`feature_catalog`
names, labels and groups every feature.
"""

from risk.features.build import build_features, build_features_prepared
from risk.features.catalog import (
    CATEGORICAL_FEATURES,
    DEFAULT_WINDOWS_MONTHS,
    FEATURE_NAMES,
    category_levels,
    feature_catalog,
)
from risk.features.prepare import PreparedTables, prepare_tables
from risk.features.transformers import PeerRateEncoder, PointInTimeFeatures

__all__ = [
    "CATEGORICAL_FEATURES",
    "DEFAULT_WINDOWS_MONTHS",
    "FEATURE_NAMES",
    "PeerRateEncoder",
    "PointInTimeFeatures",
    "PreparedTables",
    "build_features",
    "build_features_prepared",
    "category_levels",
    "feature_catalog",
    "prepare_tables",
]
