"""Fixed-effects Poisson regression against statsmodels with one dummy per group."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import statsmodels.api as sm

from risk.errors import ModelError
from risk.evaluation.fe_poisson import fit_fe_poisson


def _overdispersed_panel(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    groups, months = 80, 24
    group = np.repeat(np.arange(groups), months)
    month = np.tile(np.arange(months), groups)
    alpha = rng.normal(-1.0, 0.7, groups)
    design = np.column_stack([rng.normal(size=group.size), rng.random(group.size) < 0.3, month])
    rate = np.exp(alpha[group] + design @ np.array([0.3, -0.4, 0.02]))
    # Gamma noise per cell makes the counts overdispersed, so robust errors matter.
    counts = rng.poisson(rate * rng.gamma(2.0, 0.5, group.size))
    return counts, design.astype(float), group


def test_fit_fe_poisson_matches_statsmodels_dummies() -> None:
    """Coefficients equal the dummy-variable Poisson fit; clustered errors differ by its df factor.

    The tolerance on the errors allows for statsmodels' IRLS stopping rule.
    """
    counts, design, group = _overdispersed_panel(1)
    dummies = (group[:, None] == np.arange(group.max() + 1)[None, :]).astype(float)

    fit = fit_fe_poisson(counts, design, group, names=["x", "d", "t"])
    reference = sm.GLM(
        counts, np.column_stack([design, dummies]), family=sm.families.Poisson()
    ).fit(cov_type="cluster", cov_kwds={"groups": group, "use_correction": False})
    n_groups = group.max() + 1

    np.testing.assert_allclose(fit.coef, reference.params[:3], rtol=1e-6)
    np.testing.assert_allclose(
        fit.std_err, reference.bse[:3] * np.sqrt(n_groups / (n_groups - 1)), rtol=1e-3
    )


def test_fit_fe_poisson_accepts_sparse_design_and_offset() -> None:
    """A sparse design and an offset give the same fit as dense columns with the offset added."""
    counts, design, group = _overdispersed_panel(2)
    offset = np.log(np.random.default_rng(3).uniform(1, 5, counts.size))

    dense = fit_fe_poisson(counts, design, group, names=["x", "d", "t"], offset=offset)
    sparse = fit_fe_poisson(
        counts, sp.csr_matrix(design), group, names=["x", "d", "t"], offset=offset
    )

    np.testing.assert_allclose(dense.coef, sparse.coef, rtol=1e-9)


def test_fit_fe_poisson_drops_groups_without_events() -> None:
    """Groups with no events carry no information and do not change the estimate."""
    counts, design, group = _overdispersed_panel(4)
    empty = np.zeros(48, dtype=counts.dtype)
    extra_design = np.random.default_rng(5).normal(size=(48, 3))

    base = fit_fe_poisson(counts, design, group, names=["x", "d", "t"])
    padded = fit_fe_poisson(
        np.r_[counts, empty],
        np.vstack([design, extra_design]),
        np.r_[group, np.repeat([900, 901], 24)],
        names=["x", "d", "t"],
    )

    np.testing.assert_allclose(base.coef, padded.coef, rtol=1e-9)
    assert padded.n_groups == base.n_groups


def test_fit_fe_poisson_table_intervals() -> None:
    """The table gives rate ratios inside their Wald intervals."""
    counts, design, group = _overdispersed_panel(6)

    table = fit_fe_poisson(counts, design, group, names=["x", "d", "t"]).table()

    assert list(table["term"]) == ["x", "d", "t"]
    assert (table["ci_low"] < table["rate_ratio"]).all()
    assert (table["rate_ratio"] < table["ci_high"]).all()


def test_fit_fe_poisson_rejects_constant_within_groups() -> None:
    """A column constant within every group is absorbed by the group effects."""
    counts, design, group = _overdispersed_panel(7)
    constant = (group % 2).astype(float)[:, None]

    with pytest.raises(ModelError, match="no variation"):
        fit_fe_poisson(counts, constant, group, names=["even_group"])


def test_fit_fe_poisson_rejects_no_events() -> None:
    """All-zero counts have no information."""
    with pytest.raises(ModelError, match="no group has an event"):
        fit_fe_poisson(np.zeros(10), np.ones((10, 1)), np.arange(10), names=["x"])


def test_fit_fe_poisson_rejects_mismatched_lengths() -> None:
    """Inputs of different lengths are named in the error."""
    with pytest.raises(ModelError, match="differ in length"):
        fit_fe_poisson(np.ones(10), np.ones((9, 1)), np.arange(10), names=["x"])
