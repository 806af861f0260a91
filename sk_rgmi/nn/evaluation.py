"""Held-out evaluation of fixed critics: the Donsker–Varadhan and InfoNCE estimates.

:func:`estimate_mi` scores one critic on data (public); :func:`member_estimates`
scores each of M critics on its own rows (the training path's selection and report
estimates). Both pair each row with ``n_permutations`` others through fixed
random pairings, far less noisy than the single-batch form used in training. MI
values are in nats.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .._random import seed_int
from .data import PairDataset, PairView

__all__ = ["critic_scores", "estimate_mi", "member_estimates", "member_scores"]


def critic_scores(module: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """``module(x, y)`` as a (B,) tensor; a clear error for any other shape."""
    out = module(x, y)
    if isinstance(out, Tensor) and out.dim() == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if not isinstance(out, Tensor) or out.shape != (x.shape[0],):
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(
            f"The critic module must return scores of shape (B,) or (B, 1) for B "
            f"input rows; got {shape} for B={x.shape[0]}."
        )
    return out


def member_scores(module: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Scores (M, B) of M stacked critics on inputs (M, B, d).

    A module with an ``n_members`` attribute (the registered critics, stacked
    factories) takes the stacked inputs; any other module is one critic and is
    called on ``x[0], y[0]``.
    """
    n_members = getattr(module, "n_members", None)
    if n_members is None:
        if x.shape[0] != 1:
            raise ValueError(
                f"{type(module).__name__} is a single critic (no n_members "
                f"attribute) but {x.shape[0]} critics' inputs were given."
            )
        return critic_scores(module, x[0], y[0])[None]
    out = module(x, y)
    if not isinstance(out, Tensor) or out.shape != x.shape[:2]:
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(
            f"A module of {n_members} critics must map inputs (M, B, d) to scores "
            f"(M, B) = {tuple(x.shape[:2])}; got {shape}."
        )
    return out


def _module_device(module: nn.Module) -> torch.device:
    for p in module.parameters():
        return p.device
    for b in module.buffers():
        return b.device
    return torch.device("cpu")


def _pairings(
    n_members: int, n: int, k: int, gen: torch.Generator, device: torch.device
) -> tuple[Tensor, Tensor]:
    """A random order of each critic's n rows (the same positions for every critic)
    and k distinct cyclic shifts."""
    perm = torch.randperm(n, generator=gen).to(device)
    shifts = (1 + torch.randperm(n - 1, generator=gen)[:k]).to(device)
    return perm.expand(n_members, -1), shifts


def _grouped(t: Tensor, groups: Tensor | None) -> Tensor:
    """Scores (M, c) of M critics as (K, c) scores of K averaged critics."""
    if groups is None:
        return t
    k = int(groups.max()) + 1
    total = torch.zeros(k, t.shape[1], dtype=t.dtype, device=t.device)
    total.index_add_(0, groups, t)
    return total / torch.bincount(groups, minlength=k).to(t.dtype)[:, None]


def _dv(module, view, perm, shifts, chunk, groups) -> tuple[np.ndarray, ...]:
    """Per critic: DV estimate and its delta-method standard error."""
    x, y, index = view.data.x, view.data.y, view.index
    n, k = index.shape[1], shifts.shape[0]
    m = index.shape[0] if groups is None else int(groups.max()) + 1
    joint = torch.zeros(m, dtype=torch.float64, device=x.device)
    joint_sq = torch.zeros_like(joint)
    for i in range(0, n, chunk):
        rows = index[:, i : i + chunk]
        t = _grouped(member_scores(module, x[rows], y[rows]).double(), groups)
        joint += t.sum(1)
        joint_sq += (t * t).sum(1)
    rows_by_perm = index.gather(1, perm)
    lse, lse2 = [], []  # log sum e^T and log sum e^2T over the marginal pairs
    total = k * n
    for p0 in range(0, total, chunk):
        p = torch.arange(p0, min(p0 + chunk, total), device=x.device)
        pos = p % n
        ia = rows_by_perm[:, pos]
        ib = rows_by_perm[:, (pos + shifts[p // n]) % n]
        t = _grouped(member_scores(module, x[ia], y[ib]).double(), groups)
        lse.append(torch.logsumexp(t, 1))
        lse2.append(torch.logsumexp(2 * t, 1))
    log_sum = torch.logsumexp(torch.stack(lse, 1), 1)
    log_sum2 = torch.logsumexp(torch.stack(lse2, 1), 1)
    mean_joint = joint / n
    value = mean_joint - (log_sum - math.log(total))
    var_joint = (joint_sq / n - mean_joint**2).clamp(min=0.0)
    # relative variance of e^T over the marginal pairs: E[e^2T] / E[e^T]^2 - 1
    rel_var = torch.expm1(log_sum2 + math.log(total) - 2 * log_sum).clamp(min=0.0)
    std = torch.sqrt(var_joint / n + rel_var / total)
    return value.cpu().numpy(), std.cpu().numpy()


def _infonce(module, view, perm, shifts, chunk, groups) -> tuple[np.ndarray, ...]:
    """Per critic: InfoNCE on fixed pairings (row i's negatives: y at the K shifted
    rows) and the standard error of the mean of the per-row terms."""
    x, y, index = view.data.x, view.data.y, view.index
    n, k = index.shape[1], shifts.shape[0]
    m = index.shape[0] if groups is None else int(groups.max()) + 1
    rows_by_perm = index.gather(1, perm)
    offsets = torch.cat([shifts.new_zeros(1), shifts])
    total = torch.zeros(m, dtype=torch.float64, device=x.device)
    total_sq = torch.zeros_like(total)
    step = max(chunk // (k + 1), 1)
    for i0 in range(0, n, step):
        r = torch.arange(i0, min(i0 + step, n), device=x.device)
        ia = rows_by_perm[:, r].repeat(1, k + 1)  # (M, (K+1)·c)
        ib = rows_by_perm[:, ((r[None, :] + offsets[:, None]) % n).reshape(-1)]
        t = _grouped(member_scores(module, x[ia], y[ib]).double(), groups)
        t = t.reshape(m, k + 1, -1)
        term = t[:, 0] - torch.logsumexp(t, 1)
        total += term.sum(1)
        total_sq += (term * term).sum(1)
    mean = total / n
    var = (total_sq / n - mean**2).clamp(min=0.0)
    value = mean + math.log(k + 1)
    return value.cpu().numpy(), torch.sqrt(var / n).cpu().numpy()


@torch.no_grad()
def member_estimates(
    module: nn.Module,
    view: PairView,
    *,
    n_permutations: int = 8,
    bound: str = "dv",
    random_state: Any = None,
    batch_size: int = 32768,
    groups: Tensor | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out estimate (nats) and standard error of each of M critics on its rows.

    Critic ``m`` is scored on the rows ``view.index[m]`` with ``n_permutations``
    fixed pairings (the same random positions for every critic); see
    :func:`estimate_mi` for the two forms. With ``groups`` (LongTensor (M,) of
    group ids 0..K-1; the critics of a group must share their rows), the critics
    of each group are scored as one critic, the mean of their scores. Averaging
    critics never lowers the DV bound (it is concave in the critic) and removes
    much of their training noise. No gradients; the module is put in eval mode
    and restored.

    Returns
    -------
    values, stds : ndarray of shape (M,), or (K,) with ``groups``
    """
    if bound not in ("dv", "infonce"):
        raise ValueError(f"bound must be 'dv' or 'infonce', got {bound!r}.")
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations!r}.")
    n = len(view)
    if n < 2:
        raise ValueError(f"an MI estimate needs at least 2 samples, got {n}.")
    k = min(int(n_permutations), n - 1)
    gen = torch.Generator().manual_seed(seed_int(random_state))
    perm, shifts = _pairings(view.n_members, n, k, gen, view.data.x.device)
    chunk = max(int(batch_size) // view.n_members, 1)
    was_training = module.training
    module.eval()
    try:
        form = _infonce if bound == "infonce" else _dv
        return form(module, view, perm, shifts, chunk, groups)
    finally:
        module.train(was_training)


def estimate_mi(
    module: nn.Module,
    X: Any,
    Y: Any,
    *,
    n_permutations: int = 8,
    batch_size: int = 32768,
    random_state: Any = None,
    bound: str = "dv",
    return_std: bool = False,
) -> float | tuple[float, float]:
    """Donsker–Varadhan (or InfoNCE) estimate of I(X; Y) in nats for a fixed critic.

    ``mean_i T(x_i, y_i) - log mean_{K·N pairs} e^T(x_a, y_b)`` where the marginal
    pairs are K = ``n_permutations`` distinct fixed-point-free pairings of the N
    rows (random permutation, then K distinct cyclic shifts), K·N pairs in all. For
    any critic this is (up to finite-sample noise) a lower bound on the MI of the
    distribution the rows come from. No gradients; computed in chunks of
    ``batch_size`` rows on the module's device.

    Parameters
    ----------
    module : torch.nn.Module
        ``forward(x, y)`` -> (B,) or (B, 1) scores; a module of M stacked critics
        is scored as one critic, the mean of their scores.
    X, Y : array-like or Tensor, shape (n_samples, n_features_*)
    n_permutations : int, default=8
        K; clamped to N - 1.
    batch_size : int, default=32768
        Rows per forward call.
    random_state : int, SeedSequence, Generator or None
        Seeds the pairings.
    bound : {"dv", "infonce"}, default="dv"
        ``"infonce"`` evaluates ``mean_i [T(x_i, y_i) - log((e^T(x_i, y_i) +
        sum_k e^T(x_i, y_k)) / (K + 1))]`` with the same K pairings as negatives.
        Use it for critics trained with the InfoNCE loss: those are defined only up
        to an additive function of x, which leaves InfoNCE unchanged but makes the
        DV form arbitrarily loose. It can never exceed ``log(K + 1)``.
    return_std : bool, default=False
        Also return a standard error (nats) for the finite sample: DV -- the
        delta-method error of the joint mean plus that of the log-partition term
        over the K·N marginal pairs, treated as independent; InfoNCE -- the
        standard error of the mean of the per-row terms. It measures the sampling
        noise of the evaluation data for this critic, not the noise of training
        one.

    Returns
    -------
    float, or (float, float) with ``return_std``
        The estimate in nats (and its standard error).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sk_rgmi.nn.evaluation import estimate_mi
    >>> class Product(torch.nn.Module):  # a simple, suboptimal critic
    ...     def forward(self, x, y):
    ...         return 0.3 * (x * y).sum(1)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(4000, 1))
    >>> Y = X + rng.normal(size=(4000, 1))  # I(X; Y) = ln(2) / 2 = 0.347 nats
    >>> bound = estimate_mi(Product(), X, Y, random_state=0)  # about 0.20
    >>> 0.1 < bound < 0.347  # a lower bound, up to noise
    True
    """
    data = PairDataset(X, Y, device=_module_device(module))
    n_members = getattr(module, "n_members", 1) or 1
    values, stds = member_estimates(
        module,
        data.view(n_members),
        n_permutations=n_permutations,
        bound=bound,
        random_state=random_state,
        batch_size=batch_size,
        groups=torch.zeros(n_members, dtype=torch.long, device=data.x.device),
    )
    value, std = float(values[0]), float(stds[0])
    return (value, std) if return_std else value
