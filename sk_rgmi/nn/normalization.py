"""Per-feature input normalisation inside a critic.

MI is unchanged by any invertible map of X alone or of Y alone, so a critic may see
its inputs through per-feature monotone maps learned from the training data at no
cost to the estimate -- and with a large gain for the optimiser on heavy-tailed data
(see :class:`QuantileNormal`). The maps are ``nn.Module`` buffers, so a wrapped
critic (:class:`NormalizedCritic`) takes raw data, pickles and moves with its device.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

__all__ = [
    "NORMALIZERS",
    "NormalizedCritic",
    "QuantileNormal",
    "ZScore",
    "fit_normalizer",
]

# probabilities are kept inside [_EPS, 1 - _EPS] before the inverse normal CDF
_EPS = 1e-6


def _as_2d(A: Any) -> np.ndarray:
    A = np.asarray(A, dtype=np.float64)
    return A.reshape(-1, 1) if A.ndim == 1 else A


class ZScore(nn.Module):
    """``(x - loc) / scale`` per feature (constant features: scale 1).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sk_rgmi.nn.normalization import ZScore
    >>> z = ZScore.from_data(np.array([[0.0], [2.0]]))
    >>> z(torch.tensor([[1.0], [3.0]])).ravel().tolist()
    [0.0, 2.0]
    """

    def __init__(self, loc: Any, scale: Any) -> None:
        super().__init__()
        self.register_buffer("loc", torch.as_tensor(np.asarray(loc, np.float32)))
        self.register_buffer("scale", torch.as_tensor(np.asarray(scale, np.float32)))

    @classmethod
    def from_data(cls, A: Any) -> ZScore:
        """Location and scale from the training data ``A`` (n_samples, n_features)."""
        A = _as_2d(A)
        scale = A.std(axis=0)
        return cls(A.mean(axis=0), np.where(scale > 0, scale, 1.0))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.loc) / self.scale


class QuantileNormal(nn.Module):
    """Map each feature to standard-normal scores through its training quantiles.

    ``z = Phi^-1(F_n(x))`` with ``F_n`` the empirical CDF of the training column,
    linearly interpolated between ``n_quantiles`` knots -- as scikit-learn's
    :class:`~sklearn.preprocessing.QuantileTransformer` with
    ``output_distribution="normal"`` (agreement to 1e-5 inside the training range),
    except that tied values, including the minimum and maximum, get their mid-rank:
    0/1 spins with equal frequencies map to -0.674/+0.674, not to -5.2/+5.2. Values
    outside the training range map to the end knots. The map is monotone per feature,
    so MI is unchanged; heavy tails and outliers are tamed. Measured on 5 + 5-D
    correlated Gaussians pushed through ``sinh(2.5 x)`` (true MI 0.436 nats, 5000
    training pairs, 3 seeds): held-out MINE 0.13, -2.85, 0.07 nats with z-scores,
    0.39, 0.37, 0.35 with this map.

    Parameters
    ----------
    knots : array-like of shape (n_features, n_quantiles)
        Training quantiles of each feature at probabilities
        ``linspace(0, 1, n_quantiles)``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sk_rgmi.nn.normalization import QuantileNormal
    >>> q = QuantileNormal.from_data(np.repeat([[0.0], [1.0]], 500, axis=0))
    >>> [round(v, 1) for v in q(torch.tensor([[0.0], [1.0]])).ravel().tolist()]
    [-0.7, 0.7]
    """

    def __init__(self, knots: Any) -> None:
        super().__init__()
        knots = np.asarray(knots, dtype=np.float64)
        if knots.ndim != 2 or knots.shape[1] < 2:
            raise ValueError(
                "knots must have shape (n_features, n_quantiles >= 2), got "
                f"{knots.shape}."
            )
        knots = np.sort(knots, axis=1)
        probs = np.linspace(0.0, 1.0, knots.shape[1])
        # Runs of tied knots collapse to one knot with the probability range of the
        # run [p_lo, p_hi]: a tied value maps to the run's mid-rank, a value between
        # two runs is interpolated from the end of one to the start of the next.
        # Padded with +inf (never reached: inputs are clamped to the data range).
        runs = [np.unique(row, return_index=True, return_counts=True) for row in knots]
        width = max(len(u) for u, _, _ in runs)
        uniq = np.full((len(runs), width), np.inf)
        p_lo = np.ones((len(runs), width))
        p_hi = np.ones((len(runs), width))
        for f, (u, first, count) in enumerate(runs):
            uniq[f, : len(u)] = u
            p_lo[f, : len(u)] = probs[first]
            p_hi[f, : len(u)] = probs[first + count - 1]
        for name, value in (
            ("knots", uniq),
            ("p_lo", p_lo),
            ("p_hi", p_hi),
            ("x_min", knots[:, :1]),
            ("x_max", knots[:, -1:]),
        ):
            self.register_buffer(name, torch.as_tensor(value, dtype=torch.float32))

    @classmethod
    def from_data(cls, A: Any, n_quantiles: int = 1000) -> QuantileNormal:
        """Knots from the training data ``A``: ``min(n_quantiles, n_samples)``."""
        A = _as_2d(A)
        n = A.shape[0]
        k = max(2, min(int(n_quantiles), n))
        # np.quantile's default (linear) rule from one sort: measured 6.5x faster
        # than np.quantile on 10^5 x 4 binary data, 1.3x on Gaussian data
        S = np.sort(A, axis=0)
        pos = np.linspace(0.0, 1.0, k) * (n - 1)
        lo = np.floor(pos).astype(np.intp)
        hi = np.minimum(lo + 1, n - 1)
        w = (pos - lo)[:, None]
        return cls((S[lo] * (1.0 - w) + S[hi] * w).T)

    def forward(self, x: Tensor) -> Tensor:
        xt = torch.minimum(torch.maximum(x.T, self.x_min), self.x_max).contiguous()
        idx = torch.searchsorted(self.knots, xt)  # first knot >= x: in range
        prev = (idx - 1).clamp_(min=0)
        q_at, q_prev = self.knots.gather(1, idx), self.knots.gather(1, prev)
        p_at_lo, p_prev_hi = self.p_lo.gather(1, idx), self.p_hi.gather(1, prev)
        w = ((xt - q_prev) / (q_at - q_prev).clamp_min(1e-30)).clamp_(0.0, 1.0)
        p = p_prev_hi + w * (p_at_lo - p_prev_hi)
        mid = 0.5 * (p_at_lo + self.p_hi.gather(1, idx))
        p = torch.where(xt == q_at, mid, p)
        return torch.special.ndtri(p.clamp_(_EPS, 1.0 - _EPS)).T


#: normaliser names -> classes with a ``from_data(A)`` constructor.
NORMALIZERS: dict[str, type[nn.Module]] = {"quantile": QuantileNormal, "zscore": ZScore}


def fit_normalizer(kind: str, A: Any) -> nn.Module:
    """The ``kind`` normaliser ("quantile" or "zscore") fitted on training data ``A``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.nn.normalization import fit_normalizer
    >>> type(fit_normalizer("zscore", np.ones((3, 2)))).__name__
    'ZScore'
    """
    if kind not in NORMALIZERS:
        raise ValueError(
            f"Unknown normalizer {kind!r}; choose one of {sorted(NORMALIZERS)}."
        )
    return NORMALIZERS[kind].from_data(A)


class NormalizedCritic(nn.Module):
    """A critic that sees its inputs through per-feature normalisers.

    ``forward(x, y) = critic(x_map(x), y_map(y))``; the maps' parameters are
    buffers, so the wrapped critic takes raw data.

    Parameters
    ----------
    critic : torch.nn.Module
    x_map, y_map : torch.nn.Module
        Per-feature maps, e.g. :class:`ZScore` or :class:`QuantileNormal`.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sk_rgmi.nn.critics import ConcatCritic
    >>> from sk_rgmi.nn.normalization import NormalizedCritic, ZScore
    >>> c = NormalizedCritic(ConcatCritic(1, 1, hidden_size=4),
    ...                      ZScore([1.0], [2.0]), ZScore([0.0], [1.0]))
    >>> c(torch.ones(2, 1), torch.ones(2, 1)).shape
    torch.Size([2])
    """

    def __init__(self, critic: nn.Module, x_map: nn.Module, y_map: nn.Module) -> None:
        super().__init__()
        self.critic = critic
        self.x_map = x_map
        self.y_map = y_map

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.critic(self.x_map(x), self.y_map(y))
