"""Gaussian pairs of known MI (sk_rgmi.datasets.synthetic)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sk_rgmi.datasets import gaussian_pairs_mi, make_gaussian_pairs


@pytest.mark.parametrize(("d", "mi"), [(1, 0.3), (3, 1.5), (2, 0.0)])
def test_correlation_gives_the_requested_mi(d: int, mi: float) -> None:
    n = 20_000
    X, y = make_gaussian_pairs(n, d, mi=mi, random_state=0)
    assert X.shape == y.shape == (n, d)
    rho = math.sqrt(1.0 - math.exp(-2.0 * mi / d))
    assert gaussian_pairs_mi(rho, d) == pytest.approx(mi, abs=1e-12)
    # per column: unit variances and correlation rho, each within 5 standard errors
    # (se of a sample correlation: (1 - rho^2) / sqrt(n); of a variance: sqrt(2 / n))
    for j in range(d):
        r = np.corrcoef(X[:, j], y[:, j])[0, 1]
        assert abs(r - rho) < 5 * (1 - rho**2) / math.sqrt(n)
        assert abs(y[:, j].var() - 1.0) < 5 * math.sqrt(2.0 / n)
    # columns of different pairs are independent
    if d > 1:
        assert abs(np.corrcoef(X[:, 0], y[:, 1])[0, 1]) < 5 / math.sqrt(n)


def test_seeded_and_same_stream_as_default_rng() -> None:
    a = make_gaussian_pairs(50, 2, mi=0.4, random_state=3)
    b = make_gaussian_pairs(50, 2, mi=0.4, random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(
        a[0], np.random.default_rng(3).standard_normal((50, 2))
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mi": -0.1}, ValueError, "mi must be finite and >= 0"),
        ({"mi": float("inf")}, ValueError, "mi must be finite"),
        ({"mi": "1"}, TypeError, "mi must be a real number"),
        ({"n_samples": 0}, ValueError, "n_samples must be >= 1"),
        ({"n_features": 1.5}, TypeError, "n_features must be an integer"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make_gaussian_pairs(**kwargs)


@pytest.mark.parametrize("rho", [1.0, -1.0, 2.0])
def test_mi_needs_a_correlation_inside_minus_one_one(rho: float) -> None:
    with pytest.raises(ValueError, match="correlation must lie in"):
        gaussian_pairs_mi(rho)
