"""Per-feature input maps built into critics (sk_rgmi.nn.normalization)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.preprocessing import QuantileTransformer

from sk_rgmi.nn.critics import ConcatCritic
from sk_rgmi.nn.normalization import (
    NormalizedCritic,
    QuantileNormal,
    ZScore,
    fit_normalizer,
)


def test_zscore_applies_loc_and_scale_and_guards_constant_columns() -> None:
    A = np.array([[1.0, 5.0], [3.0, 5.0]])
    z = ZScore.from_data(A)
    out = z(torch.tensor([[2.0, 6.0]]))
    torch.testing.assert_close(out, torch.tensor([[0.0, 1.0]]))  # scale 1 if constant


def test_quantile_normal_matches_sklearn_inside_the_training_range() -> None:
    rng = np.random.default_rng(0)
    A = rng.standard_t(2, size=(3000, 3))
    B = np.clip(rng.standard_t(2, size=(500, 3)), A.min(0) + 1e-3, A.max(0) - 1e-3)
    ref = QuantileTransformer(output_distribution="normal", n_quantiles=1000).fit(A)
    ours = QuantileNormal.from_data(A)(torch.tensor(B, dtype=torch.float32))
    # float32 knots and probabilities: agreement to ~1e-5 in normal scores
    np.testing.assert_allclose(ours.numpy(), ref.transform(B), atol=1e-4)


def test_quantile_normal_gives_mid_ranks_to_ties_and_is_monotone() -> None:
    rng = np.random.default_rng(1)
    spins = rng.integers(0, 2, size=(4000, 1)).astype(float)
    q = QuantileNormal.from_data(spins)
    lo, hi = q(torch.tensor([[0.0], [1.0]])).ravel().tolist()
    p0 = (spins == 0).mean()
    # mid-ranks: Phi^-1(p0 / 2) and Phi^-1(p0 + (1 - p0) / 2), up to knot spacing
    from scipy.stats import norm

    assert lo == pytest.approx(norm.ppf(p0 / 2), abs=2e-3)
    assert hi == pytest.approx(norm.ppf(p0 + (1 - p0) / 2), abs=2e-3)
    x = torch.linspace(-3, 3, 101)[:, None]
    z = QuantileNormal.from_data(rng.normal(size=(2000, 1)))(x).ravel()
    assert bool((z[1:] >= z[:-1]).all())
    # outside the training range: the end knots, finite
    assert torch.isfinite(q(torch.tensor([[-10.0], [10.0]]))).all()


def test_normalized_critic_composes_and_keeps_maps_as_buffers() -> None:
    torch.manual_seed(0)
    inner = ConcatCritic(2, 1, hidden_size=4)
    xm, ym = ZScore([1.0, 2.0], [2.0, 4.0]), QuantileNormal([[0.0, 1.0, 2.0]])
    wrapped = NormalizedCritic(inner, xm, ym)
    x, y = torch.randn(5, 2), torch.rand(5, 1) * 2
    torch.testing.assert_close(wrapped(x, y), inner(xm(x), ym(y)))
    assert {"x_map.loc", "x_map.scale", "y_map.knots", "y_map.p_lo"} <= set(
        dict(wrapped.named_buffers())
    )


def test_fit_normalizer_errors() -> None:
    with pytest.raises(ValueError, match="Unknown normalizer 'rank'"):
        fit_normalizer("rank", np.ones((3, 1)))
    with pytest.raises(ValueError, match="knots must have shape"):
        QuantileNormal(np.ones(3))
