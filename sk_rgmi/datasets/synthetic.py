"""Synthetic pairs with a known mutual information, for checking estimators."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .._random import generator
from ._checks import _check_int

__all__ = ["gaussian_pairs_mi", "make_gaussian_pairs"]


def _check_mi(mi: Any) -> float:
    if isinstance(mi, bool) or not isinstance(mi, numbers.Real):
        raise TypeError(f"mi must be a real number of nats, got {type(mi).__name__}.")
    if not math.isfinite(mi) or mi < 0:
        raise ValueError(f"mi must be finite and >= 0 (nats), got {mi!r}.")
    return float(mi)


def gaussian_pairs_mi(correlation: float, n_features: int = 1) -> float:
    """Exact MI of ``n_features`` independent Gaussian pairs of one correlation.

    Each pair ``(x_j, y_j)`` is bivariate normal with correlation ``rho``, so
    ``I(X; Y) = -n_features / 2 * ln(1 - rho**2)`` nats.

    Parameters
    ----------
    correlation : float in (-1, 1)
        Correlation ``rho`` of every pair.
    n_features : int, default=1
        Number of independent pairs (columns of ``X`` and of ``y``).

    Returns
    -------
    float
        The mutual information in nats.

    Examples
    --------
    >>> from sk_rgmi.datasets import gaussian_pairs_mi
    >>> round(gaussian_pairs_mi(0.8, n_features=2), 4)
    1.0217
    """
    n_features = _check_int(n_features, "n_features", minimum=1)
    if isinstance(correlation, bool) or not isinstance(correlation, numbers.Real):
        raise TypeError(
            f"correlation must be a real number, got {type(correlation).__name__}."
        )
    if not -1.0 < float(correlation) < 1.0:
        raise ValueError(f"correlation must lie in (-1, 1), got {correlation!r}.")
    return -0.5 * n_features * math.log1p(-(float(correlation) ** 2))


def make_gaussian_pairs(
    n_samples: int = 1000,
    n_features: int = 1,
    *,
    mi: float = 0.5,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian ``(X, y)`` whose mutual information is exactly ``mi`` nats.

    ``X`` has ``n_features`` independent standard normal columns and
    ``y[:, j] = rho * X[:, j] + sqrt(1 - rho**2) * noise_j``, with the correlation
    ``rho`` chosen so that the total MI, ``-n_features / 2 * ln(1 - rho**2)``, is
    ``mi`` (see :func:`gaussian_pairs_mi`). The standard test case of MI
    estimators: the answer is known and the marginals are plain.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of rows.
    n_features : int, default=1
        Columns of ``X`` and of ``y``; the MI is shared equally among them.
    mi : float, default=0.5
        Total mutual information ``I(X; y)`` in nats (``>= 0``).
    random_state : None, int, sequence of int, SeedSequence or Generator, \
default=None
        Seed of the draws; an int ``s`` gives the stream of
        ``numpy.random.default_rng(s)`` (``X`` first, then the noise).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, n_features)

    Examples
    --------
    >>> from sk_rgmi import KSGEstimator
    >>> from sk_rgmi.datasets import make_gaussian_pairs
    >>> X, y = make_gaussian_pairs(2000, n_features=2, mi=1.0, random_state=0)
    >>> X.shape, y.shape
    ((2000, 2), (2000, 2))
    >>> abs(KSGEstimator().fit(X, y).mi_ - 1.0) < 0.1
    True
    """
    n_samples = _check_int(n_samples, "n_samples", minimum=1)
    n_features = _check_int(n_features, "n_features", minimum=1)
    mi = _check_mi(mi)
    rho = math.sqrt(-math.expm1(-2.0 * mi / n_features))
    rng = generator(random_state)
    x = rng.standard_normal((n_samples, n_features))
    noise = rng.standard_normal((n_samples, n_features))
    return x, rho * x + math.sqrt(1.0 - rho**2) * noise
