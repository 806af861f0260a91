"""The one training path for neural MI estimators: a skorch net with a slicing iterator.

Every neural estimator in sk_rgmi (``MINEEstimator``, the MI-maximising
coarse-grainer) trains through :func:`make_mi_net` / :class:`MINENet` and scores
through :func:`estimate_mi`.

Module contract
---------------
Any :class:`torch.nn.Module` whose ``forward(x, y)`` returns one score per row,
shape (B,) or (B, 1). For each shuffled minibatch the net scores the joint pairs
``(x_i, y_i)`` and product-of-marginals pairs ``(x_i, y_j)``, j ≠ i, formed by a
random cyclic shift of the (already shuffled) batch of ``y`` — a permutation of ``y``
within the batch without fixed points, drawn from a :class:`torch.Generator` seeded
from ``random_state``. Joint and marginal pairs go through the module in *one*
call on the stacked 2B rows. Anything inside the module (e.g. a coarse-graining
layer applied to ``x`` and ``y``) is trained by the same optimizer.

Held-out honesty
----------------
``validation_fraction`` of the data is held out and split in two halves:

* the *selection* half is scored with :func:`estimate_mi` after every epoch
  (``valid_mi`` in the history); the best epoch's parameters are checkpointed,
  early stopping watches it, and the best epoch is restored at the end;
* the *report* half is used once, after restoring: ``net.heldout_mi_``.

Picking the maximum of a noisy curve overstates it (REFERENCES §3: 0.47 vs 0.41
nats), so ``valid_mi`` at the best epoch is optimistic and ``heldout_mi_`` is not:
the report half never influenced any choice.

Divergence
----------
A non-finite training loss skips that optimizer step and ends the epoch; a
non-finite loss or held-out bound stops training, restores the best epoch and warns
:class:`~sk_rgmi.exceptions.DivergenceWarning` with advice; if no epoch was finite,
:class:`FloatingPointError` is raised.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, LRScheduler, PrintLog, ProgressBar
from skorch.utils import TeeGenerator
from torch import Tensor, nn

from ..exceptions import DivergenceWarning
from ._device import default_num_threads, resolve_device, torch_threads
from .bounds import check_loss, compute_bound

__all__ = [
    "DEFAULTS",
    "MIBoundLoss",
    "MINENet",
    "PairDataset",
    "SliceIterator",
    "estimate_mi",
    "make_mi_net",
    "resolve_batch_size",
]


def _fused_adam_available() -> bool:
    # fused Adam on CPU needs torch >= 2.4; the project allows torch >= 2.2
    try:
        torch.optim.Adam([nn.Parameter(torch.zeros(1))], fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


_FUSED_ADAM = _fused_adam_available()

#: Training defaults shared by every neural estimator (chosen from measurements,
#: see ``sk_rgmi.mine.MINEEstimator`` for the numbers).
DEFAULTS: dict[str, Any] = {
    "loss": "mine",
    "ema_alpha": 0.01,
    "lr": 1e-2,
    "batch_size": "auto",
    "max_epochs": 200,
    "lr_schedule": None,
    "validation_fraction": 0.2,
    "early_stopping": 10,
    "n_permutations": 4,
}


def resolve_batch_size(batch_size: int | str, n_train: int) -> int:
    """``"auto"``: ``n_train // 8`` clipped to [32, 1024] (and to ``n_train``).

    At least 8 optimizer steps per epoch on small data; 1024 on large data: on
    100k binary 2×2 pairs at lr 1e-2, batches of 512-1024 reached 2% of the exact MI
    after 57k-102k samples (0.4-0.8 s), batches of 2048 needed 123k-147k samples
    (0.6-3.5 s), the seed's 256 at lr 1e-3 53k-74k samples but 1.1-2.4 s. An int
    is checked against ``n_train``: a batch larger than the training data is an
    error.
    """
    if isinstance(batch_size, str):
        if batch_size != "auto":
            raise ValueError(
                f"batch_size must be an int or 'auto', got {batch_size!r}."
            )
        return int(min(1024, max(32, n_train // 8), n_train))
    if int(batch_size) < 2:
        raise ValueError(f"batch_size must be >= 2, got {batch_size!r}.")
    if int(batch_size) > n_train:
        raise ValueError(
            f"batch_size={batch_size} is larger than the {n_train} training samples "
            f"(after holding out the validation fraction); pass batch_size <= "
            f"{n_train}, batch_size='auto', or more data."
        )
    return int(batch_size)


# --------------------------------------------------------------------------- data
def as_float_tensor(
    data: Any, name: str, device: torch.device | str | None = None
) -> Tensor:
    """``data`` (array-like or tensor) as a 2-D float32 tensor on ``device``."""
    if isinstance(data, Tensor):
        t = data.detach()
        if not torch.is_floating_point(t) or t.dtype != torch.float32:
            t = t.float()
    else:
        try:
            arr = np.asarray(data, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric: {exc}") from exc
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.dim() == 1:
        t = t[:, None]
    if t.dim() != 2:
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {tuple(t.shape)}.")
    if device is not None:
        t = t.to(device)
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return t


class PairDataset(torch.utils.data.Dataset):
    """Paired samples ``(x_i, y_i)`` held as two float32 tensors on one device.

    Parameters
    ----------
    X, Y : array-like or Tensor, shape (n_samples, n_features_*)
    device : str or torch.device, default="cpu"

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.nn.training import PairDataset
    >>> ds = PairDataset(np.zeros((5, 2)), np.ones(5))
    >>> len(ds), ds.y.shape
    (5, torch.Size([5, 1]))
    """

    def __init__(self, X: Any, Y: Any = None, device: torch.device | str = "cpu"):
        if Y is None:
            raise ValueError("PairDataset needs both X and Y (Y is None).")
        self.x = as_float_tensor(X, "X", device)
        self.y = as_float_tensor(Y, "Y", device)
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(
                f"X and Y must have the same number of samples, got "
                f"{self.x.shape[0]} and {self.y.shape[0]}."
            )

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, index: Any) -> tuple[Tensor, Tensor]:
        return self.x[index], self.y[index]

    def subset(self, index: Tensor) -> PairDataset:
        """The rows ``index`` as a new dataset (no copy of the checks)."""
        out = PairDataset.__new__(PairDataset)
        out.x, out.y = self.x[index], self.y[index]
        return out


class SliceIterator:
    """Minibatches by slicing shuffled tensors: one gather per epoch, no per-item
    ``__getitem__`` and no collation (REFERENCES §5: skorch's default DataLoader
    costs ≈33 µs per sample).

    Parameters
    ----------
    dataset : PairDataset
    batch_size : int
    shuffle : bool, default=False
        Reshuffle (with ``generator``) at the start of every pass.
    generator : torch.Generator or None
    drop_last : bool, default=False
        Drop a final batch smaller than ``batch_size`` (unless it is the only one).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.nn.training import PairDataset, SliceIterator
    >>> it = SliceIterator(PairDataset(np.zeros((10, 2)), np.zeros(10)), batch_size=4)
    >>> [len(x) for x, y in it], len(it)
    ([4, 4, 2], 3)
    """

    def __init__(
        self,
        dataset: PairDataset,
        batch_size: int,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
        drop_last: bool = False,
    ) -> None:
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = generator
        self.drop_last = drop_last

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.drop_last and n >= self.batch_size:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        x, y = self.dataset.x, self.dataset.y
        n = x.shape[0]
        if self.shuffle:
            perm = torch.randperm(n, generator=self.generator).to(x.device)
            x, y = x[perm], y[perm]
        bs = self.batch_size
        for i in range(len(self)):
            yield x[i * bs : (i + 1) * bs], y[i * bs : (i + 1) * bs]


# ------------------------------------------------------------------------- scores
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


def _module_device(module: nn.Module) -> torch.device:
    for p in module.parameters():
        return p.device
    for b in module.buffers():
        return b.device
    return torch.device("cpu")


def _seed_from(random_state: Any) -> int:
    """A 63-bit integer seed drawn from an int, None, RandomState or Generator."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
    if isinstance(random_state, (int, np.integer)) and not isinstance(
        random_state, bool
    ):
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**62))
    raise ValueError(
        f"random_state must be None, an int, a numpy RandomState or Generator; got "
        f"{random_state!r}."
    )


def _child_seeds(seed: int, *key: int, n: int = 4) -> list[int]:
    ss = np.random.SeedSequence([seed & (2**63 - 1), *key])
    return [int(s >> 1) for s in ss.generate_state(n, np.uint64)]


def _infonce_estimate(
    module: nn.Module, x: Tensor, y: Tensor, perm: Tensor, shifts: Tensor, bs: int
) -> tuple[float, float]:
    """InfoNCE on fixed pairings (row i's negatives: y at the K shifted rows), and
    the standard error of the mean of the per-row terms."""
    n, k = x.shape[0], shifts.shape[0]
    rows = max(bs // (k + 1), 1)
    total = torch.zeros((), dtype=torch.float64, device=x.device)
    total_sq = torch.zeros((), dtype=torch.float64, device=x.device)
    for i0 in range(0, n, rows):
        r = torch.arange(i0, min(i0 + rows, n), device=x.device)
        ia = perm[r]
        ib = perm[(r[None, :] + torch.cat([shifts.new_zeros(1), shifts])[:, None]) % n]
        xs = x[ia].repeat(k + 1, 1)
        t = critic_scores(module, xs, y[ib.reshape(-1)]).double().reshape(k + 1, -1)
        term = t[0] - torch.logsumexp(t, 0)
        total += term.sum()
        total_sq += (term * term).sum()
    mean = float(total / n)
    var = max(float(total_sq / n) - mean * mean, 0.0)
    return mean + math.log(k + 1), math.sqrt(var / n)


@torch.no_grad()
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
    rows (random permutation, then K distinct cyclic shifts), K·N pairs in all.
    Many shuffled pairings make the log-partition term far less noisy than the
    single-batch form used in training. For any critic this is (up to finite-sample
    noise) a lower bound on the MI of the distribution the rows come from. No
    gradients; the module is put in eval mode and restored; computed in chunks of
    ``batch_size`` rows on the module's device.

    Parameters
    ----------
    module : torch.nn.Module
        ``forward(x, y)`` -> (B,) or (B, 1) scores.
    X, Y : array-like or Tensor, shape (n_samples, n_features_*)
    n_permutations : int, default=8
        K; clamped to N - 1.
    batch_size : int, default=32768
        Rows per forward call.
    random_state : int, RandomState, Generator or None
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
        over the K·N marginal pairs, treated as independent, neglecting the
        covariance of the two terms (for the exact critic of bivariate Gaussians,
        N = 2000, K = 4, it predicted 0.023 / 0.013 / 0.033 nats against a spread
        of 0.022 / 0.012 / 0.032 over 40 independent data sets at rho = 0.8 / 0.5
        / 0.95); InfoNCE -- the standard error of the mean of the per-row terms. It
        measures the sampling noise of the evaluation data for this critic, not the
        optimisation noise of training one.

    Returns
    -------
    float, or (float, float) with ``return_std``
        The estimate in nats (and its standard error).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sk_rgmi.nn.training import estimate_mi
    >>> class Product(torch.nn.Module):
    ...     def forward(self, x, y):
    ...         return (x * y).sum(1)
    >>> X = np.random.default_rng(0).normal(size=(500, 1))
    >>> round(estimate_mi(Product(), X, X, random_state=0), 1) > 0.3
    True
    """
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations!r}.")
    device = _module_device(module)
    x = as_float_tensor(X, "X", device)
    y = as_float_tensor(Y, "Y", device)
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(
            f"X and Y must have the same number of samples, got {n} and {y.shape[0]}."
        )
    if n < 2:
        raise ValueError(f"estimate_mi needs at least 2 samples, got {n}.")
    k = min(int(n_permutations), n - 1)
    gen = torch.Generator().manual_seed(_seed_from(random_state))
    perm = torch.randperm(n, generator=gen).to(device)
    shifts = (1 + torch.randperm(n - 1, generator=gen)[:k]).to(device)
    bs = max(int(batch_size), 1)
    if bound not in ("dv", "infonce"):
        raise ValueError(f"bound must be 'dv' or 'infonce', got {bound!r}.")
    was_training = module.training
    module.eval()
    try:
        if bound == "infonce":
            value, std = _infonce_estimate(module, x, y, perm, shifts, bs)
        else:
            value, std = _dv_estimate(module, x, y, perm, shifts, bs)
    finally:
        module.train(was_training)
    return (value, std) if return_std else value


def _dv_estimate(
    module: nn.Module, x: Tensor, y: Tensor, perm: Tensor, shifts: Tensor, bs: int
) -> tuple[float, float]:
    """DV on fixed pairings and its delta-method standard error (see estimate_mi)."""
    n, k, device = x.shape[0], shifts.shape[0], x.device
    joint = torch.zeros((), dtype=torch.float64, device=device)
    joint_sq = torch.zeros((), dtype=torch.float64, device=device)
    for i in range(0, n, bs):
        t = critic_scores(module, x[i : i + bs], y[i : i + bs]).double()
        joint += t.sum()
        joint_sq += (t * t).sum()
    lse, lse2 = [], []  # log sum e^T and log sum e^2T over the marginal pairs
    total = k * n
    for p0 in range(0, total, bs):
        p = torch.arange(p0, min(p0 + bs, total), device=device)
        row = p % n
        ia = perm[row]
        ib = perm[(row + shifts[p // n]) % n]
        t = critic_scores(module, x[ia], y[ib]).double()
        lse.append(torch.logsumexp(t, 0))
        lse2.append(torch.logsumexp(2 * t, 0))
    log_sum = torch.logsumexp(torch.stack(lse), 0)
    log_sum2 = torch.logsumexp(torch.stack(lse2), 0)
    mean_joint = float(joint / n)
    value = mean_joint - float(log_sum - math.log(total))
    var_joint = max(float(joint_sq / n) - mean_joint**2, 0.0)
    # relative variance of e^T over the marginal pairs: E[e^2T] / E[e^T]^2 - 1
    rel_var = max(math.expm1(float(log_sum2 + math.log(total) - 2 * log_sum)), 0.0)
    return value, math.sqrt(var_joint / n + rel_var / (k * n))


# ------------------------------------------------------------------------ the net
class MIBoundLoss(nn.Module):
    """skorch criterion: ``forward(t_joint, t_marg, state) -> (bound, state)``.

    A thin stateless wrapper around :func:`sk_rgmi.nn.bounds.compute_bound`; the
    ``mine`` moving-average state is owned by the net (``net.ema_state_``).

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.training import MIBoundLoss
    >>> bound, state = MIBoundLoss("mine")(torch.ones(4), torch.zeros(4))
    >>> float(bound.detach()), float(state)
    (1.0, 0.0)
    """

    def __init__(self, loss: str = "mine", ema_alpha: float = 0.01, clip: float = 5.0):
        super().__init__()
        self.loss = check_loss(loss)
        self.ema_alpha = ema_alpha
        self.clip = clip

    def forward(
        self, t_joint: Tensor, t_marg: Tensor, state: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        return compute_bound(
            self.loss, t_joint, t_marg, state, ema_alpha=self.ema_alpha, clip=self.clip
        )


def _check_lr_schedule(lr_schedule: Any) -> dict[str, Any] | None:
    if lr_schedule is None:
        return None
    if not isinstance(lr_schedule, Mapping):
        raise TypeError(
            "lr_schedule must be None or a dict like {'step_size': 30, 'gamma': 0.5} "
            f"(StepLR, stepped per epoch); got {lr_schedule!r}."
        )
    unknown = set(lr_schedule) - {"step_size", "gamma"}
    if unknown or "step_size" not in lr_schedule:
        raise ValueError(
            "lr_schedule must have the keys 'step_size' (epochs) and optionally "
            f"'gamma'; got {dict(lr_schedule)!r}."
        )
    step, gamma = lr_schedule["step_size"], lr_schedule.get("gamma", 0.1)
    if int(step) < 1 or not 0 < float(gamma) <= 1:
        raise ValueError(
            f"lr_schedule needs step_size >= 1 and 0 < gamma <= 1; got {lr_schedule!r}."
        )
    return {"step_size": int(step), "gamma": float(gamma)}


class MINENet(NeuralNet):
    """skorch net that maximises a variational MI bound of ``module(x, y)``.

    Build it with :func:`make_mi_net` (which documents every parameter); fit with
    ``net.fit(X, Y)`` on float arrays or tensors with equal numbers of rows. After
    fitting:

    * ``net.history`` has, per epoch, ``train_mi`` (mean minibatch bound, training
      data, nats), ``train_loss`` (= -train_mi), ``valid_mi`` (:func:`estimate_mi`
      on the selection half, nats), ``valid_mi_best`` and ``dur``;
    * ``net.module_`` holds the parameters of the best epoch (restored);
    * ``best_epoch_``, ``best_valid_mi_``, ``heldout_mi_`` and ``heldout_std_``
      (estimate and its standard error on the report half after restoring; None
      without held-out data), ``diverged_``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.nn.critics import ConcatCritic
    >>> from sk_rgmi.nn.training import make_mi_net
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 1)).astype("float32")
    >>> Y = (X + rng.normal(size=(400, 1))).astype("float32")
    >>> net = make_mi_net(ConcatCritic(1, 1, hidden_size=16), batch_size=64,
    ...                   max_epochs=3, random_state=0)
    >>> net = net.fit(X, Y)
    >>> len(net.history), sorted(k for k in net.history[-1] if k.endswith("_mi"))
    (3, ['train_mi', 'valid_mi'])
    """

    def __init__(
        self,
        module: nn.Module | type[nn.Module],
        *,
        loss: str = DEFAULTS["loss"],
        ema_alpha: float = DEFAULTS["ema_alpha"],
        clip: float = 5.0,
        n_negatives: int = 16,
        lr_schedule: Mapping[str, Any] | None = None,
        validation_fraction: float | None = DEFAULTS["validation_fraction"],
        early_stopping: int | None = DEFAULTS["early_stopping"],
        n_permutations: int = DEFAULTS["n_permutations"],
        select_permutations: int = 2,
        eval_batch_size: int = 32768,
        random_state: Any = None,
        n_threads: int | str | None = "auto",
        criterion: Any = MIBoundLoss,
        optimizer: Any = torch.optim.Adam,
        lr: float = DEFAULTS["lr"],
        max_epochs: int = DEFAULTS["max_epochs"],
        batch_size: int | str = DEFAULTS["batch_size"],
        iterator_train: Any = SliceIterator,
        iterator_valid: Any = SliceIterator,
        dataset: Any = PairDataset,
        train_split: Any = None,
        callbacks: Any = None,
        verbose: int = 0,
        device: str = "cpu",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            module,
            criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            iterator_train=iterator_train,
            iterator_valid=iterator_valid,
            dataset=dataset,
            train_split=train_split,
            callbacks=callbacks,
            verbose=verbose,
            device=device,
            **kwargs,
        )
        self.loss = loss
        self.ema_alpha = ema_alpha
        self.clip = clip
        self.n_negatives = n_negatives
        self.lr_schedule = lr_schedule
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_permutations = n_permutations
        self.select_permutations = select_permutations
        self.eval_batch_size = eval_batch_size
        self.random_state = random_state
        self.n_threads = n_threads

    # -- components -------------------------------------------------------------
    @property
    def _default_callbacks(self) -> list[tuple[str, Callback]]:
        callbacks: list[tuple[str, Callback]] = [("epoch_timer", EpochTimer())]
        schedule = _check_lr_schedule(self.lr_schedule)
        if schedule is not None:
            callbacks.append(
                (
                    "lr_scheduler",
                    LRScheduler(policy=torch.optim.lr_scheduler.StepLR, **schedule),
                )
            )
        if self.verbose and self.verbose > 1:
            callbacks.append(("progress_bar", ProgressBar(batches_per_epoch="count")))
        callbacks.append(("print_log", PrintLog()))
        return callbacks

    def initialize_criterion(self) -> MINENet:
        self.criterion_ = MIBoundLoss(self.loss, self.ema_alpha, self.clip)
        return self

    def initialize(self) -> MINENet:
        check_loss(self.loss)
        _check_lr_schedule(self.lr_schedule)
        self.device = str(resolve_device(self.device))
        super().initialize()
        self.ema_state_ = None
        self.best_epoch_ = None
        self.best_valid_mi_ = None
        self.heldout_mi_ = None
        self.heldout_std_ = None
        self.diverged_ = False
        self.base_seed_ = _seed_from(self.random_state)
        return self

    def get_params_for_optimizer(
        self, prefix: str, named_parameters: Any
    ) -> tuple[list[Any], dict[str, Any]]:
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        # Fused Adam (one kernel for all parameters): the optimizer step of a
        # hidden-32 concat critic fell from 0.27 to 0.11 ms and a whole training
        # step at batch 2048 from 1.50 to 1.33 ms on one CPU thread. Used unless the
        # user chose another optimizer or implementation.
        if (
            self.optimizer is torch.optim.Adam
            and _FUSED_ADAM
            and "fused" not in kwargs
            and "foreach" not in kwargs
        ):
            kwargs["fused"] = True
        return args, kwargs

    def get_dataset(self, X: Any, y: Any = None) -> Any:
        # The data go to the training device once, here; every minibatch is then a
        # slice of device tensors (no per-batch host <-> device copies).
        if isinstance(X, torch.utils.data.Dataset):
            return X
        kwargs = self.get_params_for("dataset")
        if self.dataset is PairDataset:
            kwargs.setdefault("device", self.device)
        return self.dataset(X, y, **kwargs)

    def get_iterator(self, dataset: Any, training: bool = False) -> Any:
        if training and self.iterator_train is SliceIterator:
            kwargs = self.get_params_for("iterator_train")
            kwargs.setdefault("batch_size", self.batch_size_)
            kwargs.setdefault("shuffle", True)
            kwargs.setdefault("drop_last", True)
            kwargs.setdefault("generator", self.shuffle_generator_)
            return SliceIterator(dataset, **kwargs)
        return super().get_iterator(dataset, training=training)

    # -- one training step ------------------------------------------------------
    def batch_scores(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """Scores of the joint pairs (B,) and of the marginal pairs (B,) or (B, K)."""
        b = x.shape[0]
        if b < 2:
            raise ValueError("A minibatch needs at least 2 rows to pair marginals.")
        gen = self.shuffle_generator_
        if self.loss == "infonce":
            k = min(int(self.n_negatives), b - 1)
            shifts = 1 + torch.randperm(b - 1, generator=gen)[:k].to(x.device)
            idx = (torch.arange(b, device=x.device)[None, :] + shifts[:, None]) % b
            xs = torch.cat([x, x.repeat(k, 1)])
            ys = torch.cat([y, y[idx.reshape(-1)]])
            t = critic_scores(self.module_, xs, ys)
            return t[:b], t[b:].reshape(k, b).T
        shift = int(torch.randint(1, b, (1,), generator=gen))
        t = critic_scores(
            self.module_, torch.cat([x, x]), torch.cat([y, torch.roll(y, shift, 0)])
        )
        return t[:b], t[b:]

    def train_step(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        # Train mode is set once per epoch (run_single_epoch), not per batch: a
        # module.train() walk costs ~4% of an epoch of a small critic.
        self._zero_grad_optimizer()
        x, y = batch
        t_joint, t_marg = self.batch_scores(x, y)
        bound, state = self.criterion_(t_joint, t_marg, self.ema_state_)
        loss = -bound
        loss.backward()
        if self.grad_callbacks_:
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        value = loss.item()
        if math.isfinite(value):
            self._step_optimizer(None)
            self.ema_state_ = state
        return {"loss": loss.detach(), "loss_value": value, "y_pred": t_joint.detach()}

    def validation_step(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        self._set_training(False)
        x, y = batch
        with torch.no_grad():
            t_joint, t_marg = self.batch_scores(x, y)
            bound, _ = self.criterion_(t_joint, t_marg, self.ema_state_)
        return {"loss": -bound, "y_pred": t_joint}

    def run_single_epoch(
        self,
        iterator: Any,
        training: bool,
        prefix: str,
        step_fn: Any,
        **fit_params: Any,
    ) -> None:
        if iterator is None:
            return
        self._set_training(training)
        total, count, batches = 0.0, 0, 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            value = step.get("loss_value")
            if value is None:
                value = step["loss"].item()
            size = batch[0].shape[0]
            self.history.record_batch(prefix + "_loss", value)
            self.history.record_batch(prefix + "_batch_size", size)
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batches += 1
            if not math.isfinite(value):
                self.diverged_ = f"non-finite {prefix} loss ({value}) in a minibatch"
                total, count = float("nan"), 1
                break
            total += value * size
            count += size
        self.history.record(prefix + "_batch_count", batches)
        mean = total / max(count, 1)
        self.history.record(prefix + "_loss", mean)
        self.history.record(prefix + "_mi", -mean)

    # -- the loop ---------------------------------------------------------------
    def _split(self, X: Any, y: Any) -> tuple[Any, Any, Any]:
        dataset = self.get_dataset(X, y)
        n = len(dataset)
        frac = self.validation_fraction
        if not frac:
            return dataset, None, None
        if not 0.0 < float(frac) < 1.0:
            raise ValueError(
                f"validation_fraction must be in (0, 1) or None, got {frac!r}."
            )
        n_hold = round(float(frac) * n)
        if n_hold < 4:
            raise ValueError(
                f"validation_fraction={frac} of {n} samples holds out {n_hold}; at "
                "least 4 are needed (2 to select the best epoch, 2 to report the "
                "held-out MI). Pass more data or a larger validation_fraction."
            )
        split_seed = _child_seeds(self.base_seed_, 0)[0]
        perm = torch.from_numpy(np.random.default_rng(split_seed).permutation(n))
        perm = perm.to(dataset.x.device)
        n_sel = n_hold - n_hold // 2
        n_train = n - n_hold
        return (
            dataset.subset(perm[:n_train]),
            dataset.subset(perm[n_train : n_train + n_sel]),
            dataset.subset(perm[n_train + n_sel :]),
        )

    def _evaluate(self, dataset: PairDataset, *, select: bool = False) -> float:
        # The per-epoch selection estimate only ranks epochs, with the same pairings
        # every epoch (common random numbers), so it uses fewer pairings
        # (select_permutations) than the reported estimate (n_permutations): at
        # batch 4096 the per-epoch evaluation was ~13% of an epoch with 4.
        return self.estimate(
            dataset.x,
            dataset.y,
            n_permutations=self.select_permutations if select else None,
            random_state=self.valid_seed_,
        )

    def estimate(
        self,
        X: Any,
        Y: Any,
        *,
        n_permutations: int | None = None,
        random_state: Any = None,
        return_std: bool = False,
    ) -> float | tuple[float, float]:
        """:func:`estimate_mi` of the current critic on (X, Y), in nats.

        The evaluation form matches the training loss: Donsker–Varadhan for every
        loss but ``"infonce"``, whose critic is scored by InfoNCE (a DV score of an
        InfoNCE critic is arbitrarily loose) with at least ``n_negatives``
        negatives. ``n_permutations`` defaults to the net's; ``return_std`` also
        returns the standard error of :func:`estimate_mi`.
        """
        k = self.n_permutations if n_permutations is None else n_permutations
        bound = "dv"
        if self.loss == "infonce":
            bound, k = "infonce", max(k, int(self.n_negatives))
        return estimate_mi(
            self.module_,
            X,
            Y,
            n_permutations=k,
            batch_size=self.eval_batch_size,
            random_state=random_state,
            bound=bound,
            return_std=return_std,
        )

    def _checkpoint(self, epoch: int, score: float) -> None:
        self.best_epoch_ = epoch
        self.best_valid_mi_ = score
        self.best_state_ = {
            k: v.detach().clone() for k, v in self.module_.state_dict().items()
        }

    def fit_loop(
        self, X: Any, y: Any = None, epochs: int | None = None, **fit_params: Any
    ) -> MINENet:
        fit_params.pop("_routing_method", None)
        self.check_training_readiness()
        epochs = self.max_epochs if epochs is None else epochs
        ds_train, ds_select, ds_report = self._split(X, y)
        self.report_data_ = ds_report
        self.batch_size_ = resolve_batch_size(self.batch_size, len(ds_train))
        patience = self.early_stopping
        if patience is not None and patience is not False:
            if ds_select is None:
                raise ValueError("early_stopping needs a validation_fraction > 0.")
            if int(patience) < 1:
                raise ValueError(f"early_stopping must be >= 1, got {patience!r}.")
        else:
            patience = None
        seeds = _child_seeds(self.base_seed_, 1, len(self.history))
        self.shuffle_generator_ = torch.Generator().manual_seed(seeds[0])
        self.valid_seed_ = _child_seeds(self.base_seed_, 2)[0]
        self.best_state_ = None
        self.best_valid_mi_ = None
        self.diverged_ = False
        if len(self.history) and ds_select is not None:
            # warm start: the parameters we start from are a candidate too
            self._checkpoint(len(self.history), self._evaluate(ds_select, select=True))
        iterator_train = self.get_iterator(ds_train, training=True)
        # on_grad_computed is only announced when some callback listens to it
        self.grad_callbacks_ = any(
            type(cb).on_grad_computed is not Callback.on_grad_computed
            for _, cb in self.callbacks_
        )
        since_best = 0
        for _ in range(epochs):
            kwargs = {"dataset_train": ds_train, "dataset_valid": ds_select}
            self.notify("on_epoch_begin", **kwargs)
            self.run_single_epoch(
                iterator_train,
                training=True,
                prefix="train",
                step_fn=self.train_step,
                **fit_params,
            )
            epoch = len(self.history)
            score = -self.history[-1, "train_loss"]
            if ds_select is not None and not self.diverged_:
                score = self._evaluate(ds_select, select=True)
                self.history.record("valid_mi", score)
                self.history.record("valid_loss", -score)
            if not math.isfinite(score) and not self.diverged_:
                self.diverged_ = "non-finite bound at the end of an epoch"
            improved = not self.diverged_ and (
                self.best_valid_mi_ is None
                or ds_select is None
                or score > self.best_valid_mi_
            )
            if improved:
                self._checkpoint(epoch, score)
                since_best = 0
            else:
                since_best += 1
            self.history.record("valid_mi_best", bool(improved))
            self.notify("on_epoch_end", **kwargs)
            if self.diverged_ or (patience is not None and since_best >= patience):
                break
        return self

    def on_train_end(self, net: Any, X: Any = None, y: Any = None, **kwargs: Any):
        best = getattr(self, "best_state_", None)
        report = getattr(self, "report_data_", None)
        self.report_data_ = None
        self.best_state_ = None
        if best is None and self.diverged_:
            raise FloatingPointError(
                f"MI training diverged ({self.diverged_}) before any finite "
                "epoch. Try a smaller lr, loss='smile' or 'mine' with a smaller "
                "ema_alpha, or standardised inputs."
            )
        # best is None only when training was interrupted (KeyboardInterrupt from
        # the user or a callback) inside the first epoch: keep the parameters.
        if best is not None:
            self.module_.load_state_dict(best)
        if self.diverged_:
            warnings.warn(
                f"MI training diverged ({self.diverged_}) at epoch "
                f"{len(self.history)}; restored the best epoch {self.best_epoch_}. "
                "Try a smaller lr, an lr_schedule, loss='smile', or standardised "
                "inputs.",
                DivergenceWarning,
                stacklevel=2,
            )
        if report is not None:
            self.heldout_mi_, self.heldout_std_ = self.estimate(
                report.x, report.y, random_state=self.valid_seed_, return_std=True
            )

    # -- determinism and threads ------------------------------------------------
    @contextlib.contextmanager
    def _fit_context(self) -> Iterator[None]:
        threads = self.n_threads
        device = resolve_device(self.device)
        if threads == "auto":
            threads = default_num_threads(device)
        seed = _child_seeds(_seed_from_fixed(self.random_state), 3)[0]
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch_threads(threads), torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    def fit(self, X: Any, y: Any = None, **fit_params: Any) -> MINENet:
        with self._fit_context():
            if not self.warm_start or not self.initialized_:
                self.initialize()
            NeuralNet.partial_fit(self, X, y, **fit_params)
        return self

    def partial_fit(
        self, X: Any, y: Any = None, classes: Any = None, **fit_params: Any
    ) -> MINENet:
        with self._fit_context():
            NeuralNet.partial_fit(self, X, y, classes, **fit_params)
        return self


def _seed_from_fixed(random_state: Any) -> int:
    """Like ``_seed_from`` but never consumes a RandomState/Generator (for contexts)."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(
        random_state, bool
    ):
        return int(random_state)
    return _seed_from(None)


def make_mi_net(
    module: nn.Module,
    *,
    loss: str = DEFAULTS["loss"],
    ema_alpha: float = DEFAULTS["ema_alpha"],
    lr: float = DEFAULTS["lr"],
    batch_size: int | str = DEFAULTS["batch_size"],
    max_epochs: int = DEFAULTS["max_epochs"],
    lr_schedule: Mapping[str, Any] | None = DEFAULTS["lr_schedule"],
    validation_fraction: float | None = DEFAULTS["validation_fraction"],
    early_stopping: int | None = DEFAULTS["early_stopping"],
    callbacks: Sequence[Any] | None = None,
    device: str = "cpu",
    random_state: Any = None,
    verbose: int = 0,
    **net_kwargs: Any,
) -> MINENet:
    """Build the skorch net that trains ``module`` to maximise an MI bound.

    Parameters
    ----------
    module : torch.nn.Module
        ``forward(x, y) -> (B,)`` or (B, 1) scores (see the module docstring).
    loss : {"mine", "mine_biased", "fdiv", "infonce", "smile"}, default="mine"
        The bound (:mod:`sk_rgmi.nn.bounds`).
    ema_alpha : float, default=0.01
        Weight of the new batch in the ``mine`` moving average.
    lr : float, default=1e-2
        Adam learning rate (``optimizer=...`` and ``optimizer__*`` in
        ``net_kwargs`` change the optimizer, e.g. ``optimizer__param_groups``).
    batch_size : int or "auto", default="auto"
        "auto": ``n_train // 8`` clipped to [32, 1024]; an int larger than the
        training split raises.
    max_epochs : int, default=200
    lr_schedule : dict or None
        ``{"step_size": s, "gamma": g}``: StepLR stepped per epoch.
    validation_fraction : float or None, default=0.2
        Held-out fraction, split into a selection half (best epoch, early
        stopping) and a report half (``heldout_mi_``). None/0: no held-out data,
        the last finite epoch is kept.
    early_stopping : int or None, default=10
        Patience in epochs without a new best ``valid_mi``; None disables.
    callbacks : list of skorch callbacks or None
        Extra callbacks (named ``(name, cb)`` tuples or instances).
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
    random_state : int, RandomState, Generator or None
        Seeds the split, shuffling, pairing and torch's global RNG during fit
        (in a ``fork_rng`` context: the caller's RNG state is left unchanged).
    verbose : int, default=0
        1: skorch's epoch table; 2: also a progress bar.
    **net_kwargs
        Passed to :class:`MINENet` / :class:`skorch.NeuralNet` (``clip`` for
        ``smile``, ``n_negatives`` for ``infonce``, ``n_permutations`` (default 4)
        for the reported held-out estimate, ``select_permutations`` (default 2)
        for the per-epoch selection estimate, ``n_threads``, ``warm_start``,
        ``optimizer__*``, ...).

    Returns
    -------
    MINENet

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.nn.critics import TwoBranchCritic
    >>> from sk_rgmi.nn.training import make_mi_net
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 2)).astype("float32")
    >>> net = make_mi_net(TwoBranchCritic(2, 2, hidden_size=16), batch_size=100,
    ...                   max_epochs=2, random_state=0).fit(X, X)
    >>> net.best_epoch_ in (1, 2), net.heldout_mi_ is not None
    (True, True)
    """
    return MINENet(
        module,
        loss=loss,
        ema_alpha=ema_alpha,
        lr=lr,
        batch_size=batch_size,
        max_epochs=max_epochs,
        lr_schedule=lr_schedule,
        validation_fraction=validation_fraction,
        early_stopping=early_stopping,
        callbacks=list(callbacks) if callbacks is not None else None,
        device=str(resolve_device(device)),
        random_state=random_state,
        verbose=verbose,
        **net_kwargs,
    )
