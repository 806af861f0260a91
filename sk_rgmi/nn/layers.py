"""Coarse-graining layers and the coarse-graining critic wrapper (torch only).

A coarse-graining layer maps a flattened block of ``n_features`` fine variables to
``n_components`` coarse variables through a linear filter ``Λ`` (one row per coarse
variable):

* :class:`RelaxedBinaryCoarse` -- stochastic binary units (the RSMI choice). In training
  mode each unit is a relaxed Bernoulli (binary Concrete / Gumbel-sigmoid) sample
  ``sigmoid((Λx + b + L) / τ)`` with logistic noise ``L`` and temperature ``τ``; in
  evaluation mode it returns the hard, deterministic code ``1[Λx + b > 0]``. Each unit
  carries at most ``ln 2`` nats, so maximising MI constrains ``Λ``.
* :class:`LinearCoarse` -- the original notebook's real-valued map ``Λx``. A generic
  real linear map of binary spins is one-to-one, so it keeps all the information
  whatever ``Λ`` is: MI says nothing about the filter (see the docs of
  :class:`sk_rgmi.MIMaximizingCoarseGrainer`).

:class:`CoarseGrainedCritic` joins a coarse layer and an MI critic into the module that
the shared MINE training path trains: ``forward(x, y) = critic(coarse(x), coarse(y))``
(``symmetric=True``: ``y`` is a block of the same shape coarse-grained with the same
``Λ``) or ``critic(coarse(x), y)`` (``symmetric=False``: ``y`` is the raw environment).
The trainer forms marginal pairs by permuting ``y`` inside a batch and calls
``module(x, y_perm)``, so gradients reach ``Λ`` through both terms of the bound.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .normalization import ZScore

__all__ = ["CoarseGrainedCritic", "LinearCoarse", "RelaxedBinaryCoarse"]


def _init_linear(
    linear: nn.Linear, generator: torch.Generator | None, scale: float | None = None
) -> None:
    """Initialise ``linear`` from ``generator`` (no global RNG); bias zero.

    ``scale=None``: ``nn.Linear``'s uniform(±1/sqrt(fan_in)); otherwise normal weights
    of standard deviation ``scale / sqrt(fan_in)``.
    """
    with torch.no_grad():
        if scale is None:
            bound = 1.0 / math.sqrt(linear.in_features)
            nn.init.uniform_(linear.weight, -bound, bound, generator=generator)
        else:
            std = scale / math.sqrt(linear.in_features)
            nn.init.normal_(linear.weight, 0.0, std, generator=generator)
        if linear.bias is not None:
            linear.bias.zero_()


class _Standardized(nn.Module):
    """A linear map applied to z-scored input (a :class:`~sk_rgmi.nn.ZScore`).

    The z-score is the identity until :meth:`set_standardization` sets it from the
    training data. :meth:`effective_filters` returns the filter and offset acting on
    the raw input.
    """

    linear: nn.Linear

    def _init_buffers(self, n_features: int) -> None:
        self.standardize = ZScore(np.zeros(n_features), np.ones(n_features))

    def set_standardization(self, zscore: ZScore) -> None:
        """Standardise inputs with ``zscore`` (e.g. ``ZScore.from_data(X_train)``)."""
        self.standardize = zscore.to(self.linear.weight.device)

    def _raw_weights(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Differentiable ``(W, b)`` acting on the raw input (standardisation folded
        into the parameters: two ops on tiny tensors instead of two on the batch)."""
        w = self.linear.weight / self.standardize.scale
        b = -(w @ self.standardize.loc)
        if self.linear.bias is not None:
            b = b + self.linear.bias
        return w, b

    def _affine(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self._raw_weights()
        return F.linear(x, w, b)

    def effective_filters(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(W, b)`` on the raw input: the layer computes ``x @ W.T + b``."""
        with torch.no_grad():
            w, b = self._raw_weights()
        return w.detach().clone(), b.detach().clone()


class LinearCoarse(_Standardized):
    """Real-valued linear coarse-graining ``h = Λx`` (the notebook's ``CoarseGrain``).

    Parameters
    ----------
    n_features : int
        Number of fine variables in a block.
    n_components : int
        Number of coarse variables.
    bias : bool, default=False
        Add a learned offset (the original notebook has none; an offset never changes
        MI).
    generator : torch.Generator, optional
        Source of the initial weights (seeded for reproducible fits).

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.layers import LinearCoarse
    >>> layer = LinearCoarse(4, 1, generator=torch.Generator().manual_seed(0))
    >>> layer(torch.ones(3, 4)).shape
    torch.Size([3, 1])
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        *,
        bias: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, n_components, bias=bias)
        _init_linear(self.linear, generator)
        self._init_buffers(n_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._affine(x)


class RelaxedBinaryCoarse(_Standardized):
    """Stochastic binary coarse units relaxed with a binary Concrete distribution.

    The input is first standardised by a :class:`~sk_rgmi.nn.ZScore`
    (:meth:`set_standardization`; identity by default), so a zero threshold starts at
    the data's centre; :meth:`effective_filters` gives ``Λ`` and ``b`` on the raw input.

    Training mode returns ``sigmoid((Λx + b + log U - log(1 - U)) / τ)`` with
    ``U ~ Uniform(0, 1)`` -- a differentiable sample that tends to a Bernoulli
    ``(sigmoid(Λx + b))`` sample as ``τ → 0`` (Maddison et al. 2017; Jang et al. 2017).
    Evaluation mode (``module.eval()``) or ``hard=True`` returns the deterministic code
    ``1[Λx + b > 0]`` as floats 0/1.

    Parameters
    ----------
    n_features : int
        Number of fine variables in a block.
    n_components : int
        Number of binary coarse variables.
    temperature : float, default=0.75
        Relaxation temperature ``τ``; annealed during training by
        :class:`sk_rgmi.nn.callbacks.TemperatureAnnealing`.
    bias : bool, default=True
        Learn the threshold ``b`` (a uniform filter with threshold between two and
        three up-spins is the 2×2 majority rule).
    init_scale : float, default=2.0
        Initial weights are normal with standard deviation ``init_scale / sqrt(
        n_features)``. The logistic noise has unit scale, so initial logits of order
        one or less make every code almost random and the critic sees no signal;
        logits of a few units start the training from informative codes.
    generator : torch.Generator, optional
        Source of the initial weights and of the relaxation noise.

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.layers import RelaxedBinaryCoarse
    >>> layer = RelaxedBinaryCoarse(4, 1, generator=torch.Generator().manual_seed(0))
    >>> x = torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    >>> soft = layer(x)  # relaxed sample in (0, 1)
    >>> bool(((soft > 0) & (soft < 1)).all())
    True
    >>> hard = layer.eval()(x)  # deterministic 0/1 code
    >>> sorted(set(hard.flatten().tolist())) in ([0.0], [1.0], [0.0, 1.0])
    True
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        *,
        temperature: float = 0.75,
        bias: bool = True,
        init_scale: float = 2.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, n_components, bias=bias)
        _init_linear(self.linear, generator, init_scale)
        self._init_buffers(n_features)
        self.temperature = float(temperature)
        self.hard = False
        self.generator = generator

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``Λx + b`` (``linear`` applied to the standardised input)."""
        return self._affine(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.logits(x)
        if self.hard or not self.training:
            return (logits > 0).to(logits.dtype)
        gen = self.generator
        if gen is not None and gen.device != logits.device:
            gen = None  # a CPU generator cannot drive CUDA sampling
        u = torch.rand(
            logits.shape, generator=gen, device=logits.device, dtype=logits.dtype
        )
        # Logistic noise log(u / (1 - u)); eps keeps it finite.
        noise = torch.logit(u, eps=1e-6)
        return torch.sigmoid((logits + noise) * (1.0 / self.temperature))


class CoarseGrainedCritic(nn.Module):
    """Module ``forward(x, y) -> scores (B,)`` that coarse-grains inside the critic.

    ``symmetric=True``: ``critic(coarse(x), coarse(y))`` -- ``x`` and ``y`` are blocks
    of the same shape coarse-grained with the same filter (the original notebook's
    set-up).
    ``symmetric=False``: ``critic(coarse(x), y)`` -- ``y`` is the raw environment
    (real-space mutual information, RSMI).

    Parameters
    ----------
    coarse : nn.Module
        A coarse layer (:class:`RelaxedBinaryCoarse` or :class:`LinearCoarse`).
    critic : nn.Module
        A critic ``(h_x, h_y) -> scores`` of shape ``(B,)`` or ``(B, 1)``.
    symmetric : bool, default=True
        Coarse-grain ``y`` with the same layer.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sk_rgmi.nn.layers import CoarseGrainedCritic, LinearCoarse
    >>> class Bilinear(nn.Module):
    ...     def forward(self, hx, hy):
    ...         return (hx * hy).sum(1)
    >>> g = torch.Generator().manual_seed(0)
    >>> module = CoarseGrainedCritic(LinearCoarse(4, 1, generator=g), Bilinear())
    >>> module(torch.ones(5, 4), torch.ones(5, 4)).shape
    torch.Size([5])
    """

    def __init__(
        self, coarse: nn.Module, critic: nn.Module, *, symmetric: bool = True
    ) -> None:
        super().__init__()
        self.coarse = coarse
        self.critic = critic
        self.symmetric = bool(symmetric)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.symmetric:
            # One pass of the coarse layer over both blocks (half the small ops).
            h = self.coarse(torch.cat([x, y]))
            hx, hy = h[: x.shape[0]], h[x.shape[0] :]
        else:
            hx, hy = self.coarse(x), y
        scores = self.critic(hx, hy)
        if scores.dim() == 2 and scores.shape[1] == 1:
            scores = scores[:, 0]
        return scores
