"""Variational lower bounds on mutual information, as pure functions of critic outputs.

Every function takes the critic's scores on joint pairs, ``t_joint`` of shape (B,),
and on product-of-marginals pairs, ``t_marg`` of shape (B,) (or (B, K) negatives per
row for :func:`infonce`), and returns the bound (a 0-d tensor, in nats) to be
*maximised*. Scores of M critics trained together (an ensemble) are stacked as
(M, B) (and (M, B, K)); the bounds are then computed per critic, shape (M,). The
returned tensor's value is the bound's estimate on the batch; its gradient is the
one used for training, which for ``mine`` and ``smile`` differs from the gradient of
the value on purpose (bias correction, variance reduction).

The only state, the running mean of E_Q[e^T] used by :func:`mine`, is an explicit
tensor (its logarithm; one value per critic) passed in and returned, so the trainer
owns it.

All bounds are computed in the log domain (``logsumexp``): critic outputs in the
hundreds or thousands give finite values and finite gradients for ``mine``,
``mine_biased``, ``infonce`` and ``smile``. The NWJ bound ``fdiv`` really is
``E_Q[e^(T-1)]``; it is evaluated in float64 and stays finite for critic outputs
up to about 700, beyond which its true value is below -1e300.

Registry: :data:`BOUNDS` maps the names accepted by the estimators (``loss=``) to
the functions; :func:`compute_bound` dispatches on a name.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor
from torch.nn import functional as F

__all__ = [
    "BOUNDS",
    "check_loss",
    "compute_bound",
    "dv_bound",
    "fdiv",
    "infonce",
    "mine",
    "mine_biased",
    "smile",
]


def _flat(t: Tensor, name: str) -> Tensor:
    """Scores with the batch along the last dimension: (B,), (B, 1) or (M, B)."""
    if t.dim() == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.dim() not in (1, 2):
        raise ValueError(
            f"{name} must have shape (B,), (B, 1) or (M, B) for M critics, got "
            f"{tuple(t.shape)}."
        )
    if t.shape[-1] == 0:
        raise ValueError(f"{name} is empty.")
    return t


def _pair(t_joint: Tensor, t_marg: Tensor) -> tuple[Tensor, Tensor]:
    """Joint and marginal scores of the same critics: equal leading dimensions."""
    t_joint, t_marg = _flat(t_joint, "t_joint"), _flat(t_marg, "t_marg")
    if t_joint.shape[:-1] != t_marg.shape[:-1]:
        raise ValueError(
            f"t_joint {tuple(t_joint.shape)} and t_marg {tuple(t_marg.shape)} must "
            "hold the scores of the same critics (equal leading dimensions)."
        )
    return t_joint, t_marg


def _log_mean_exp(t: Tensor) -> Tensor:
    return torch.logsumexp(t, -1) - math.log(t.shape[-1])


def dv_bound(t_joint: Tensor, t_marg: Tensor) -> Tensor:
    """Donsker–Varadhan bound ``E_P[T] - log E_Q[e^T]`` (value and plain gradient).

    Parameters
    ----------
    t_joint, t_marg : Tensor of shape (B,), (B, 1) or (M, B)
        Critic scores on joint pairs and on product-of-marginals pairs.

    Returns
    -------
    Tensor
        The bound in nats: 0-d, or (M,) for stacked critics.

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.bounds import dv_bound
    >>> float(dv_bound(torch.tensor([1.0, 1.0]), torch.tensor([0.0, 0.0])))
    1.0
    """
    t_joint, t_marg = _pair(t_joint, t_marg)
    return t_joint.mean(-1) - _log_mean_exp(t_marg)


def mine_biased(t_joint: Tensor, t_marg: Tensor) -> Tensor:
    """The 'mine_biased' loss: the DV bound with the plain minibatch gradient.

    ``E_P[T] - (logsumexp(T_marg) - log B)``; its gradient is biased because the
    log of a minibatch mean is not an unbiased estimate of the log of the mean.

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.bounds import mine_biased
    >>> float(mine_biased(torch.tensor([2.0]), torch.tensor([0.0, 0.0])))
    2.0
    """
    return dv_bound(t_joint, t_marg)


def mine(
    t_joint: Tensor,
    t_marg: Tensor,
    log_ema: Tensor | None = None,
    ema_alpha: float = 0.01,
) -> tuple[Tensor, Tensor]:
    """MINE's DV bound with the moving-average-corrected gradient (Belghazi et al.).

    The value returned is the minibatch DV bound. Its gradient replaces the biased
    ``∇ log mean(e^T)`` by ``mean(e^T ∇T) / m``, where ``m`` is an exponential moving
    average of ``mean(e^T)`` over batches, updated with weight ``ema_alpha`` on the
    new batch (MINE's and the original notebook's 0.01). ``m`` is kept as ``log m``
    and updated by ``logaddexp``, so nothing overflows: the per-sample gradient weights
    ``e^(T_i - log m) / B`` are at most ``1 / ema_alpha``.

    Parameters
    ----------
    t_joint, t_marg : Tensor of shape (B,), (B, 1) or (M, B)
        Critic scores on joint and on product-of-marginals pairs.
    log_ema : Tensor of shape () or (M,), or None
        Log of the running mean of ``E_Q[e^T]`` from the previous batch; None starts
        it at the current batch's value.
    ema_alpha : float in (0, 1]
        Weight of the new batch in the moving average.

    Returns
    -------
    bound : Tensor of shape () or (M,)
        The minibatch DV bound in nats (maximise it).
    log_ema : Tensor of shape () or (M,)
        The updated state (detached), to pass to the next call.

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.bounds import mine
    >>> t = torch.tensor([1000.0, -1000.0], requires_grad=True)
    >>> bound, state = mine(t[:1], t[1:])
    >>> float(bound.detach())
    2000.0
    >>> bound.backward(); bool(torch.isfinite(t.grad).all())
    True
    """
    if not 0.0 < ema_alpha <= 1.0:
        raise ValueError(f"ema_alpha must be in (0, 1], got {ema_alpha!r}.")
    t_joint, t_marg = _pair(t_joint, t_marg)
    lme = _log_mean_exp(t_marg.detach())
    if log_ema is None or ema_alpha == 1.0:
        new_log_ema = lme
    else:
        log_ema = log_ema.to(device=lme.device, dtype=lme.dtype)
        new_log_ema = torch.logaddexp(
            log_ema + math.log1p(-ema_alpha), lme + math.log(ema_alpha)
        )
    # weights e^(T_i) / (B m), bounded by 1/ema_alpha since m >= alpha * mean(e^T)
    weights = torch.exp(t_marg.detach() - new_log_ema[..., None]) / t_marg.shape[-1]
    # value: log mean e^T (exact); gradient: sum_i w_i ∇T_i (the corrected one)
    second = lme + (weights * (t_marg - t_marg.detach())).sum(-1)
    return t_joint.mean(-1) - second, new_log_ema


def fdiv(t_joint: Tensor, t_marg: Tensor) -> Tensor:
    """NWJ / f-divergence bound ``E_P[T] - E_Q[e^(T-1)]``.

    Computed as ``exp(logsumexp(T - 1) - log B)`` in float64: finite for critic
    outputs up to about 700 (the true bound is then below -1e300); beyond that it
    is -inf, which the trainer treats as divergence.

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.bounds import fdiv
    >>> round(float(fdiv(torch.tensor([1.0]), torch.tensor([1.0, 1.0]))), 6)
    0.0
    """
    t_joint, t_marg = _pair(t_joint, t_marg)
    second = torch.exp(_log_mean_exp(t_marg.double() - 1.0))
    return t_joint.double().mean(-1) - second


def infonce(t_joint: Tensor, t_marg: Tensor) -> Tensor:
    """InfoNCE bound ``mean_i[T_ii - log((e^T_ii + sum_k e^T_ik) / (K + 1))]``.

    Parameters
    ----------
    t_joint : Tensor of shape (B,)
        Scores of the positive (joint) pair of each row.
    t_marg : Tensor of shape (B, K) or (B,)
        Scores of K negative pairs per row (a (B,) input means K = 1).

    Returns
    -------
    Tensor
        The bound in nats, 0-d (or (M,) for stacked critics); never exceeds
        ``log(K + 1)``.

    Examples
    --------
    >>> import math, torch
    >>> from sk_rgmi.nn.bounds import infonce
    >>> b = infonce(torch.full((4,), 50.0), torch.zeros(4, 7))
    >>> round(float(b), 4), round(math.log(8), 4)
    (2.0794, 2.0794)
    """
    t_joint = _flat(t_joint, "t_joint")
    if t_marg.dim() == t_joint.dim():
        t_marg = t_marg[..., None]
    if t_marg.dim() != t_joint.dim() + 1 or t_marg.shape[:-1] != t_joint.shape:
        raise ValueError(
            f"t_marg must have shape (B, K) (or (M, B, K) for M critics) with "
            f"B={t_joint.shape[-1]}, got {tuple(t_marg.shape)}."
        )
    scores = torch.cat([t_joint[..., None], t_marg], dim=-1)
    return (t_joint - torch.logsumexp(scores, dim=-1)).mean(-1) + math.log(
        scores.shape[-1]
    )


def smile(t_joint: Tensor, t_marg: Tensor, clip: float = 5.0) -> Tensor:
    """SMILE bound (Song & Ermon 2020): DV with the critic clipped to [-clip, clip]
    in the partition term; trained with the Jensen–Shannon (f-GAN) gradient.

    The value is ``E_P[T] - log E_Q[e^clip(T)]``; the gradient is that of the JS
    bound ``E_P[-softplus(-T)] - E_Q[softplus(T)]``, as in the reference code, which
    keeps the variance of the gradient low when MI is large.

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.bounds import smile
    >>> float(smile(torch.tensor([3.0]), torch.tensor([100.0, 100.0]), clip=5.0))
    -2.0
    """
    if clip <= 0:
        raise ValueError(f"clip must be > 0, got {clip!r}.")
    t_joint, t_marg = _pair(t_joint, t_marg)
    dv = t_joint.mean(-1) - _log_mean_exp(torch.clamp(t_marg, -clip, clip))
    js = (-F.softplus(-t_joint)).mean(-1) - F.softplus(t_marg).mean(-1)
    return js + (dv - js).detach()


#: name -> bound function, for ``loss=`` parameters.
BOUNDS: dict[str, Callable[..., object]] = {
    "mine": mine,
    "mine_biased": mine_biased,
    "fdiv": fdiv,
    "infonce": infonce,
    "smile": smile,
}


def check_loss(loss: str) -> str:
    """Return ``loss`` if it names a bound in :data:`BOUNDS`, else raise ValueError."""
    if not isinstance(loss, str) or loss not in BOUNDS:
        raise ValueError(
            f"Unknown loss {loss!r}; choose one of {', '.join(map(repr, BOUNDS))}."
        )
    return loss


def compute_bound(
    loss: str,
    t_joint: Tensor,
    t_marg: Tensor,
    state: Tensor | None = None,
    *,
    ema_alpha: float = 0.01,
    clip: float = 5.0,
) -> tuple[Tensor, Tensor | None]:
    """Evaluate the bound named ``loss``; returns ``(bound, new_state)``.

    ``state`` is the ``mine`` moving-average state (returned unchanged, usually
    None, for the other bounds).

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.bounds import compute_bound
    >>> b, s = compute_bound("mine_biased", torch.ones(3), torch.zeros(3))
    >>> float(b), s is None
    (1.0, True)
    """
    check_loss(loss)
    if loss == "mine":
        return mine(t_joint, t_marg, state, ema_alpha)
    if loss == "smile":
        return smile(t_joint, t_marg, clip), state
    return BOUNDS[loss](t_joint, t_marg), state
