"""Content fingerprints of panels and tables, logged with every fit and backtest."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import pandas as pd

_KEY_COLUMNS = ["employer_id", "as_of"]


def frame_fingerprint(frame: pd.DataFrame, columns: Sequence[str], sort_by: Sequence[str]) -> str:
    """Return a SHA-256 hex digest of ``columns`` of ``frame``, rows sorted by ``sort_by``.

    The digest depends on the values and the column names, not on row order
    or the index. Categorical columns hash their values, not their codes.
    """
    ordered = frame.sort_values(list(sort_by), kind="stable")[list(columns)].reset_index(drop=True)
    digest = hashlib.sha256()
    digest.update("\x1f".join(columns).encode("utf-8"))
    digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def panel_fingerprint(panel: pd.DataFrame, feature_names: Iterable[str]) -> str:
    """Return the fingerprint of a panel's keys, outcomes and feature values."""
    outcomes = [name for name in ("injury_any", "injury_count") if name in panel.columns]
    columns = [*_KEY_COLUMNS, *outcomes, *feature_names]
    return frame_fingerprint(panel, columns, _KEY_COLUMNS)
