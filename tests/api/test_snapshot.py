"""The in-memory copy of a scoring run that the service reads single employers from."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from api_factories import MODEL_NAME, ScoredStore

from risk.errors import StoreError
from risk.store.scores import (
    latest_scoring_run,
    load_run_snapshot,
    read_employer_explanation,
    read_employer_score,
)


def test_snapshot_matches_store_reads(scored_store: ScoredStore) -> None:
    """Every employer's score and arrays equal what a store read returns."""
    run = latest_scoring_run(scored_store.engine, MODEL_NAME, "1")
    assert run is not None

    snapshot = load_run_snapshot(scored_store.engine, run)

    assert len(snapshot.scores) == run.row_count
    for employer_id in snapshot.scores:
        stored = read_employer_explanation(scored_store.engine, run.run_id, employer_id)
        in_memory = snapshot.explanation(employer_id)
        assert in_memory is not None and stored is not None
        assert in_memory.score == stored.score
        assert snapshot.score(employer_id) == read_employer_score(
            scored_store.engine, run.run_id, employer_id
        )
        np.testing.assert_array_equal(in_memory.contributions, stored.contributions)
        np.testing.assert_array_equal(in_memory.feature_values, stored.feature_values)


def test_snapshot_unknown_employer_none(scored_store: ScoredStore) -> None:
    """An employer outside the run has no score and no explanation."""
    run = latest_scoring_run(scored_store.engine, MODEL_NAME, "1")
    assert run is not None

    snapshot = load_run_snapshot(scored_store.engine, run)

    assert snapshot.score("not-an-employer") is None
    assert snapshot.explanation("not-an-employer") is None


def test_snapshot_arrays_read_only(scored_store: ScoredStore) -> None:
    """Requests share the matrices, so writing to them fails."""
    run = latest_scoring_run(scored_store.engine, MODEL_NAME, "1")
    assert run is not None
    snapshot = load_run_snapshot(scored_store.engine, run)
    employer_id = next(iter(snapshot.scores))
    in_memory = snapshot.explanation(employer_id)
    assert in_memory is not None

    with pytest.raises(ValueError, match="read-only"):
        in_memory.contributions[0] = 1.0


@pytest.mark.parametrize("offset", [-1, 1])
def test_snapshot_row_count_mismatch_raises(scored_store: ScoredStore, offset: int) -> None:
    """A run whose stored rows differ from its recorded count is not loaded."""
    run = latest_scoring_run(scored_store.engine, MODEL_NAME, "1")
    assert run is not None
    wrong = dataclasses.replace(run, row_count=run.row_count + offset)

    with pytest.raises(StoreError, match="rescore"):
        load_run_snapshot(scored_store.engine, wrong)
