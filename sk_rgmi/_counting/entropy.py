"""Entropy of histograms, with bias corrections (batched over leading axes).

``"none"``
    plug-in (maximum-likelihood) estimate.
``"miller-madow"``
    ``H + (K - 1) / (2 N)`` with ``K`` the number of occupied bins.
``"jackknife"``
    exact leave-one-out jackknife ``N H - (N - 1) mean(H_{-k})``; removing a sample
    from a bin of count ``c`` changes only that bin, so the ``N`` leave-one-out values
    are computed per bin, in ``O(#bins)``.
``"chao-shen"``
    coverage-adjusted Horvitz-Thompson estimator (Chao & Shen 2003).
``"grassberger"``
    ``log N - (1/N) sum n G(n)`` with
    ``G(n) = psi(n) + (-1)^n (psi((n+1)/2) - psi(n/2)) / 2`` (Grassberger 2003).

All values are in nats.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma, xlogy

__all__ = ["CORRECTIONS", "check_correction", "entropy_from_counts"]

CORRECTIONS = ("none", "miller-madow", "jackknife", "chao-shen", "grassberger")


def check_correction(correction: str) -> str:
    """Return ``correction`` if it names a correction, else raise ValueError.

    Examples
    --------
    >>> from sk_rgmi._counting.entropy import check_correction
    >>> check_correction("jackknife")
    'jackknife'
    """
    if correction not in CORRECTIONS:
        raise ValueError(
            f"correction must be one of {CORRECTIONS}, got {correction!r}."
        )
    return correction


def _grassberger_g(n: np.ndarray) -> np.ndarray:
    """G(n) of Grassberger (2003) for n >= 1 (entries n == 0 give 0)."""
    n = np.where(n > 0, n, 1.0)
    sign = np.where(np.mod(n, 2) == 0, 1.0, -1.0)
    return digamma(n) + 0.5 * sign * (digamma((n + 1) / 2) - digamma(n / 2))


def plugin_entropy(counts: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Plug-in entropy (nats) of float counts along the last axis with totals ``n``."""
    return np.log(n) - xlogy(counts, counts).sum(-1) / n


def entropy_delta(counts: np.ndarray, n: np.ndarray, correction: str) -> np.ndarray:
    """Corrected minus plug-in entropy (nats), float counts along the last axis."""
    check_correction(correction)
    if correction == "none":
        return np.zeros(np.shape(n))
    occupied = counts > 0
    if correction == "miller-madow":
        return (occupied.sum(-1) - 1) / (2 * n)
    if correction == "jackknife":
        # Leave one out of a bin of count c: only that bin changes, c -> c - 1, so
        # H_jk - H = (N - 1)(H - mean_k H_{-k}) sums over bins. Written to avoid the
        # cancellation of N H - (N - 1) mean H_{-k}:
        #   (N - 1) log1p(1/(N - 1)) + S/N - sum_bins c d(c) / N,
        # with S = sum c log c and d(c) = c log c - (c-1) log(c-1)
        #                             = log c + (c - 1) log1p(1/(c - 1)).
        s = xlogy(counts, counts).sum(-1)
        c = np.where(counts > 1, counts, 2.0)
        d = np.where(counts > 1, np.log(c) + (c - 1) * np.log1p(1 / (c - 1)), 0.0)
        return (n - 1) * np.log1p(1 / (n - 1)) + s / n - (counts * d).sum(-1) / n
    if correction == "chao-shen":
        f1 = (counts == 1).sum(-1)
        f1 = np.where(f1 == n, n - 1, f1)
        coverage = 1 - f1 / n
        pa = coverage[..., None] * counts / n[..., None]
        la = 1 - (1 - pa) ** n[..., None]
        terms = np.where(occupied, -xlogy(pa, pa) / np.where(occupied, la, 1.0), 0.0)
        return terms.sum(-1) - plugin_entropy(counts, n)
    # "grassberger"
    g = np.where(occupied, counts * _grassberger_g(counts), 0.0).sum(-1)
    return (np.log(n) - g / n) - plugin_entropy(counts, n)


def entropy_from_counts(
    counts: Any, *, correction: str = "none", axis: int = -1
) -> float | np.ndarray:
    """Entropy (nats) of a histogram, with an optional bias correction.

    Parameters
    ----------
    counts : array-like of non-negative counts
        Histogram along ``axis``; zeros are allowed (empty bins). Leading axes are a
        batch: one entropy per histogram.
    correction : {"none", "miller-madow", "jackknife", "chao-shen", "grassberger"}
        Bias correction (see the module docstring). ``"jackknife"`` needs N >= 2.
    axis : int
        Axis holding the bins.

    Returns
    -------
    float or ndarray
        Entropy in nats.

    Examples
    --------
    >>> from sk_rgmi._counting import entropy_from_counts
    >>> round(entropy_from_counts([5, 5]), 6)  # ln 2
    0.693147
    >>> round(entropy_from_counts([5, 5], correction="miller-madow"), 6)
    0.743147
    """
    check_correction(correction)
    c = np.moveaxis(np.asarray(counts, dtype=np.float64), axis, -1)
    n = c.sum(-1)
    h = plugin_entropy(c, n) + entropy_delta(c, n, correction)
    return float(h) if np.ndim(h) == 0 else h
