"""The one training path for neural MI estimators: a skorch net and its callbacks.

Every neural estimator in sk_rgmi (``MINEEstimator``, the MI-maximising
coarse-grainer) builds a :class:`MINENet` and trains it with skorch's own fit
loop. What happens in one fit:

1. the data go to the training device once (:class:`~sk_rgmi.nn.data.PairDataset`);
2. ``train_split`` (:class:`~sk_rgmi.nn.data.HeldOutSplit`) cuts them into training
   rows, a selection part and a report part (cross-fitted folds for an ensemble
   of critics);
3. each epoch, minibatches are slices of shuffled tensors
   (:class:`~sk_rgmi.nn.data.SliceIterator`); for every minibatch the critic
   scores the joint pairs ``(x_i, y_i)`` and product-of-marginals pairs
   ``(x_i, y_j)`` formed by a random cyclic shift of ``y`` within the batch, in
   one call on the stacked rows, and the bound (``loss``) is maximised;
4. after each epoch the selection part is scored with fixed pairings
   (``valid_mi``); the callbacks (:mod:`sk_rgmi.nn.callbacks`) guard against
   divergence, checkpoint the best epoch, stop early, restore the best epoch and
   estimate MI on the report part (``heldout_mi_``), which influenced no choice.

Module contract
---------------
Any :class:`torch.nn.Module` whose ``forward(x, y)`` returns one score per row,
(B,) or (B, 1). A module with an ``n_members`` attribute holds M critics
(:func:`~sk_rgmi.nn.critics.make_critic` with ``n_members``): it maps (M, B, d)
inputs to (M, B) scores, each critic trains on its own rows, and the bounds are
summed. Anything inside the module (e.g. a coarse-graining layer) is trained by
the same optimizer.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import (
    Callback,
    EpochTimer,
    LRScheduler,
    PassthroughScoring,
    PrintLog,
)
from skorch.utils import TeeGenerator
from torch import Tensor, nn

from .. import _random
from ._device import default_num_threads, resolve_device, torch_threads
from .bounds import check_loss, compute_bound
from .callbacks import (
    BestEpoch,
    DivergenceGuard,
    MIHistory,
    ReportEstimate,
    TextProgressBar,
)
from .data import HeldOut, HeldOutSplit, PairDataset, PairView, SliceIterator
from .data import resolve_batch_size as resolve_batch_size
from .evaluation import member_estimates, member_scores

__all__ = ["DEFAULTS", "MIBoundLoss", "MINENet"]


def _fused_adam_available() -> bool:
    # fused Adam on CPU needs a recent torch; fall back to the default otherwise
    try:
        torch.optim.Adam([nn.Parameter(torch.zeros(1))], fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


_FUSED_ADAM = _fused_adam_available()

#: Training defaults shared by every neural estimator (how they were chosen: the
#: documentation's page on defaults).
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


_DEFAULT_SPLIT = HeldOutSplit()


class MIBoundLoss(nn.Module):
    """skorch criterion: ``forward(t_joint, t_marg, state) -> (bound, state)``.

    A thin stateless wrapper around :func:`sk_rgmi.nn.bounds.compute_bound`; the
    ``mine`` moving-average state is owned by the net (``net.ema_state_``).

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn.net import MIBoundLoss
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


def _check_lr_schedule(lr_schedule: Any) -> dict[str, Any] | str | None:
    if lr_schedule is None or lr_schedule == "plateau":
        return lr_schedule
    if not isinstance(lr_schedule, Mapping):
        raise TypeError(
            "lr_schedule must be None, 'plateau' or a dict like {'step_size': 30, "
            f"'gamma': 0.5}} (StepLR, stepped per epoch); got {lr_schedule!r}."
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

    Fit with ``net.fit(X, Y)`` on float arrays or tensors with equal numbers of
    rows. MI values are in nats.

    Parameters
    ----------
    module : torch.nn.Module
        ``forward(x, y) -> (B,)`` or (B, 1) scores (see the module docstring); a
        module with ``n_members`` holds an ensemble of critics.
    loss : {"mine", "mine_biased", "fdiv", "infonce", "smile"}, default="mine"
        The bound (:mod:`sk_rgmi.nn.bounds`).
    ema_alpha : float, default=0.01
        Weight of the new batch in the ``mine`` moving average.
    clip : float, default=5.0
        Critic clip of ``smile``.
    n_negatives : int, default=16
        Negatives per row of ``infonce`` (in training, and at least that many in
        its evaluation).
    lr_schedule : "plateau", dict or None, default=None
        ``"plateau"``: halve the learning rate after a quarter of the
        ``early_stopping`` patience (at least 2 epochs; 10 without early stopping)
        without a new best selection estimate (``ReduceLROnPlateau``).
        ``{"step_size": s, "gamma": g}``: StepLR stepped per epoch.
    early_stopping : int or None, default=10
        Patience in epochs without a new best selection estimate; None trains
        ``max_epochs`` epochs (the best epoch is still restored).
    n_permutations : int, default=4
        Pairings per row of the reported held-out estimate (:meth:`evaluate`).
    select_permutations : int, default=2
        Pairings per row of the per-epoch selection estimate (it only ranks
        epochs, always with the same pairings).
    eval_batch_size : int, default=32768
        Rows per forward call in evaluations.
    max_abs_bound : float, default=1e4
        A bound beyond this many nats is a numerical blow-up
        (:class:`~sk_rgmi.nn.callbacks.DivergenceGuard`).
    random_state : int, SeedSequence, Generator or None
        Seeds minibatch order and pairings ("shuffle"), the selection, report and
        score pairings, and torch's global RNG during fit (inside ``fork_rng``:
        the caller's RNG state is left unchanged).
    n_threads : int, "auto" or None, default="auto"
        torch threads during fit and evaluation (:mod:`sk_rgmi.nn._device`).
    lr : float, default=1e-2
        Adam learning rate (``optimizer=...`` and ``optimizer__*`` change the
        optimizer, e.g. ``optimizer__param_groups``).
    max_epochs : int, default=200
    batch_size : int or "auto", default="auto"
        "auto": ``n_train // 8`` clipped to [32, 1024].
    train_split : HeldOutSplit or None, default=HeldOutSplit()
        Training / selection / report split (give it a ``random_state`` for a
        reproducible split). None: no held-out data; the last finite epoch is kept
        and ``heldout_mi_`` is None.
    callbacks : list of skorch callbacks or None
        Extra callbacks, run after the training path's own.
    verbose : int, default=0
        1: skorch's epoch table; 2: also a progress bar.
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
    **kwargs
        Passed to :class:`skorch.NeuralNet` (``optimizer__*``, ``warm_start``, ...).

    Attributes
    ----------
    history : skorch History
        Per epoch: ``train_mi`` (mean minibatch bound on the training rows),
        ``valid_mi`` (selection estimate), ``valid_mi_best``, ``train_loss``,
        ``valid_loss`` (their negatives) and ``dur``.
    module_ : torch.nn.Module
        The critic(s), at the restored best epoch.
    best_epoch_ : int
    heldout_mi_, heldout_std_ : float or None
        Estimate on the report part after restoring, and its standard error.
    report_ : dict or None
        Per-critic report ``values``, ``stds`` (nats) and row ``index``.
    diverged_ : str or False
        Why training stopped on a divergence.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.nn.critics import ConcatCritic
    >>> from sk_rgmi.nn.data import HeldOutSplit
    >>> from sk_rgmi.nn.net import MINENet
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 1)).astype("float32")
    >>> Y = (X + rng.normal(size=(400, 1))).astype("float32")
    >>> net = MINENet(ConcatCritic(1, 1, hidden_size=16), batch_size=64,
    ...               max_epochs=3, train_split=HeldOutSplit(random_state=0),
    ...               random_state=0).fit(X, Y)
    >>> len(net.history), sorted(k for k in net.history[-1] if k.endswith("_mi"))
    (3, ['train_mi', 'valid_mi'])
    >>> net.heldout_mi_ is not None
    True
    """

    def __init__(
        self,
        module: nn.Module | type[nn.Module],
        *,
        loss: str = DEFAULTS["loss"],
        ema_alpha: float = DEFAULTS["ema_alpha"],
        clip: float = 5.0,
        n_negatives: int = 16,
        lr_schedule: Mapping[str, Any] | None = DEFAULTS["lr_schedule"],
        early_stopping: int | None = DEFAULTS["early_stopping"],
        n_permutations: int = DEFAULTS["n_permutations"],
        select_permutations: int = 2,
        eval_batch_size: int = 32768,
        max_abs_bound: float = 1e4,
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
        train_split: Any = _DEFAULT_SPLIT,
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
        self.early_stopping = early_stopping
        self.n_permutations = n_permutations
        self.select_permutations = select_permutations
        self.eval_batch_size = eval_batch_size
        self.max_abs_bound = max_abs_bound
        self.random_state = random_state
        self.n_threads = n_threads

    # -- components -------------------------------------------------------------
    @property
    def _default_callbacks(self) -> list[tuple[str, Callback]]:
        patience = self.early_stopping
        if patience is not None and (isinstance(patience, bool) or int(patience) < 1):
            raise ValueError(f"early_stopping must be >= 1 or None, got {patience!r}.")
        held_out = bool(self.train_split)
        if patience is not None and not held_out:
            raise ValueError(
                "early_stopping needs held-out data (a train_split); pass "
                "early_stopping=None to train without it."
            )
        callbacks: list[tuple[str, Callback]] = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("mi_history", MIHistory()),
            ("divergence", DivergenceGuard(self.max_abs_bound)),
            (
                "best_epoch",
                BestEpoch(patience, monitor="valid_loss" if held_out else None),
            ),
            ("report", ReportEstimate()),
        ]
        schedule = _check_lr_schedule(self.lr_schedule)
        if schedule == "plateau":
            scheduler = LRScheduler(
                policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
                monitor="valid_loss" if held_out else "train_loss",
                patience=10 if patience is None else max(2, int(patience) // 4),
                factor=0.5,
            )
            callbacks.append(("lr_scheduler", scheduler))
        elif schedule is not None:
            scheduler = LRScheduler(policy=torch.optim.lr_scheduler.StepLR, **schedule)
            callbacks.append(("lr_scheduler", scheduler))
        if self.verbose and self.verbose > 1:
            callbacks.append(("progress_bar", TextProgressBar("count")))
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
        self.seed_seq_ = _random.check_seed_sequence(self.random_state)
        self.shuffle_generator_ = torch.Generator().manual_seed(
            _random.seed_int(self.seed_seq_, "shuffle")
        )
        self.ema_state_ = None
        self.heldout_mi_ = self.heldout_std_ = self.report_ = None
        self.diverged_ = False
        return self

    @property
    def n_members(self) -> int:
        """Number of critics in the module (1 unless it has ``n_members``)."""
        return int(getattr(self.module_, "n_members", 1) or 1)

    @property
    def best_epoch_(self) -> int | None:
        best = dict(getattr(self, "callbacks_", [])).get("best_epoch")
        return None if best is None else best.best_epoch_ or None

    def get_params_for_optimizer(
        self, prefix: str, named_parameters: Any
    ) -> tuple[list[Any], dict[str, Any]]:
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        # Fused Adam (one kernel for all parameters) is used unless the user chose
        # another optimizer or implementation (speed: the documentation's page on
        # defaults).
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

    def get_split_datasets(self, X: Any, y: Any = None, **fit_params: Any):
        dataset_train, held_out = super().get_split_datasets(X, y, **fit_params)
        if not isinstance(dataset_train, PairView):
            dataset_train = dataset_train.view(1)
        if held_out is not None and not isinstance(held_out, HeldOut):
            raise TypeError(
                "MINENet's train_split must return (training rows, HeldOut) like "
                f"HeldOutSplit; got a {type(held_out).__name__}."
            )
        if dataset_train.n_members != self.n_members:
            raise ValueError(
                f"The module holds {self.n_members} critic(s) but the train_split "
                f"gives rows for {dataset_train.n_members}; pass "
                f"HeldOutSplit(n_members={self.n_members}, ...)."
            )
        self.batch_size_ = resolve_batch_size(self.batch_size, len(dataset_train))
        return dataset_train, held_out

    def get_iterator(self, dataset: Any, training: bool = False) -> Any:
        if isinstance(dataset, HeldOut):
            return [dataset.select]  # scored as one batch by validation_step
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
        """Scores (M, B) of the joint pairs and (M, B) or (M, B, K) of the
        marginal pairs of a minibatch of M critics' rows, (M, B, d)."""
        b = x.shape[1]
        if b < 2:
            raise ValueError("A minibatch needs at least 2 rows to pair marginals.")
        gen = self.shuffle_generator_
        if self.loss == "infonce":
            k = min(int(self.n_negatives), b - 1)
            shifts = 1 + torch.randperm(b - 1, generator=gen)[:k].to(x.device)
            idx = (torch.arange(b, device=x.device)[None, :] + shifts[:, None]) % b
            xs = torch.cat([x, x.repeat(1, k, 1)], 1)
            ys = torch.cat([y, y[:, idx.reshape(-1)]], 1)
            t = member_scores(self.module_, xs, ys)
            return t[:, :b], t[:, b:].reshape(-1, k, b).transpose(1, 2)
        shift = int(torch.randint(1, b, (1,), generator=gen))
        t = member_scores(
            self.module_,
            torch.cat([x, x], 1),
            torch.cat([y, torch.roll(y, shift, 1)], 1),
        )
        return t[:, :b], t[:, b:]

    def train_step(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        self._zero_grad_optimizer()
        x, y = batch
        if x.dim() == 2:
            x, y = x[None], y[None]
        t_joint, t_marg = self.batch_scores(x, y)
        bound, state = self.criterion_(t_joint, t_marg, self.ema_state_)
        # each critic maximises its own bound; the loss logged is their mean
        (-bound.sum()).backward()
        if self.grad_callbacks_:
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        loss = -bound.detach().mean()
        if math.isfinite(loss.item()):
            self._step_optimizer(None)
            self.ema_state_ = state
        return {"loss": loss, "y_pred": t_joint.detach()}

    def validation_step(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
        values, _ = self.evaluate(batch, stream="select")
        loss = torch.tensor(-float(np.mean(values)))
        return {"loss": loss, "y_pred": None}

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # train/eval mode once per epoch, not per batch (a module.train() walk costs
        # a few per cent of a small critic's epoch)
        self._set_training(training)
        super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)

    def on_train_begin(self, net: Any, X: Any = None, y: Any = None, **kwargs: Any):
        # on_grad_computed is only announced when some callback listens to it
        self.grad_callbacks_ = any(
            type(cb).on_grad_computed is not Callback.on_grad_computed
            for _, cb in self.callbacks_
        )

    # -- evaluation -------------------------------------------------------------
    def _evaluation_form(self, n_permutations: int | None) -> tuple[str, int]:
        k = self.n_permutations if n_permutations is None else n_permutations
        if self.loss == "infonce":
            # a DV score of an InfoNCE critic is arbitrarily loose
            return "infonce", max(int(k), int(self.n_negatives))
        return "dv", int(k)

    def evaluate(
        self,
        view: PairView,
        *,
        stream: str,
        n_permutations: int | None = None,
        groups: Tensor | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-critic held-out estimates and standard errors (nats) on ``view``.

        The evaluation form matches the training loss: Donsker–Varadhan for every
        loss but ``"infonce"``, whose critics are scored by InfoNCE with at least
        ``n_negatives`` negatives. ``stream`` names the pairings' random stream
        ("select", "report", "score"); the selection stream uses
        ``select_permutations`` pairings. ``groups``: score the critics of each
        group as one averaged critic (see
        :func:`~sk_rgmi.nn.evaluation.member_estimates`).
        """
        if n_permutations is None and stream == "select":
            n_permutations = self.select_permutations
        bound, k = self._evaluation_form(n_permutations)
        with torch_threads(self._threads()):
            return member_estimates(
                self.module_,
                view,
                n_permutations=k,
                bound=bound,
                random_state=_random.stream(self.seed_seq_, stream),
                batch_size=self.eval_batch_size,
                groups=groups,
            )

    def check_views(self, X: Any, y: Any) -> tuple[PairView, PairView]:
        """Each critic's report rows, and as many of its own training rows.

        The fit's own split (``train_split`` is seeded). Scoring the critics on
        both with :meth:`evaluate` shows how much their training rows flatter them:
        the train/held-out gap behind the reliability checks
        (:mod:`sk_rgmi.reliability`).
        """
        train, held = self.get_split_datasets(X, y)
        n_rows = min(len(held.report), len(train))
        return held.report, PairView(train.data, train.index[:, :n_rows])

    def estimate(
        self,
        X: Any,
        Y: Any,
        *,
        n_permutations: int | None = None,
        random_state: Any = None,
        return_std: bool = False,
    ) -> float | tuple[float, float]:
        """MI estimate (nats) of the trained critic(s) on new data ``(X, Y)``.

        Several critics are scored as one, the mean of their scores (with
        ``return_std``, also its standard error). ``random_state`` seeds the
        pairings (default: the net's "score" stream).
        """
        view = self.get_dataset(X, Y).view(self.n_members)
        groups = torch.zeros(self.n_members, dtype=torch.long, device=view.index.device)
        bound, k = self._evaluation_form(n_permutations)
        if random_state is None:
            random_state = _random.stream(self.seed_seq_, "score")
        with torch_threads(self._threads()):
            values, stds = member_estimates(
                self.module_,
                view,
                n_permutations=k,
                bound=bound,
                random_state=random_state,
                batch_size=self.eval_batch_size,
                groups=groups,
            )
        value, std = float(values[0]), float(stds[0])
        return (value, std) if return_std else value

    # -- determinism and threads ------------------------------------------------
    def _threads(self) -> int | None:
        if self.n_threads == "auto":
            return default_num_threads(resolve_device(self.device))
        return self.n_threads

    @contextlib.contextmanager
    def _fit_context(self) -> Iterator[None]:
        device = resolve_device(self.device)
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch_threads(self._threads()), torch.random.fork_rng(devices=devices):
            torch.manual_seed(_random.seed_int(self.seed_seq_, "torch"))
            yield

    def partial_fit(
        self, X: Any, y: Any = None, classes: Any = None, **fit_params: Any
    ) -> MINENet:
        if not self.initialized_:
            self.initialize()
        with self._fit_context():
            NeuralNet.partial_fit(self, X, y, classes, **fit_params)
        return self
