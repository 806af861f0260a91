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
        knots = torch.as_tensor(np.asarray(knots, np.float32))
        if knots.dim() != 2 or knots.shape[1] < 2:
            raise ValueError(
                "knots must have shape (n_features, n_quantiles >= 2), got "
                f"{tuple(knots.shape)}."
            )
        self.register_buffer("knots", knots.contiguous())
        probs = torch.linspace(0.0, 1.0, knots.shape[1], dtype=torch.float32)
        self.register_buffer("probs", probs)

    @classmethod
    def from_data(cls, A: Any, n_quantiles: int = 1000) -> QuantileNormal:
        """Knots from the training data ``A``: ``min(n_quantiles, n_samples)``."""
        A = _as_2d(A)
        k = max(2, min(int(n_quantiles), A.shape[0]))
        return cls(np.quantile(A, np.linspace(0.0, 1.0, k), axis=0).T)

    def _cdf(self, xt: Tensor, right: bool) -> Tensor:
        # xt: (n_features, B). One-sided linear interpolation of the ECDF; for x on
        # a run of tied knots, right=False gives the run's first probability and
        # right=True its last, so their mean is the mid-rank.
        q, k = self.knots, self.knots.shape[1]
        idx = torch.searchsorted(q, xt, right=right).clamp_(1, k - 1)
        lo, hi = q.gather(1, idx - 1), q.gather(1, idx)
        w = ((xt - lo) / (hi - lo).clamp_min(1e-30)).clamp_(0.0, 1.0)
        p_lo, p_hi = self.probs[idx - 1], self.probs[idx]
        return p_lo + w * (p_hi - p_lo)

    def forward(self, x: Tensor) -> Tensor:
        xt = x.T.contiguous()
        p = 0.5 * (self._cdf(xt, False) + self._cdf(xt, True))
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
