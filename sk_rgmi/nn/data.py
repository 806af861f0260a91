"""Data for the training path: paired tensors, the held-out split, minibatches.

* :class:`PairDataset` -- the paired samples ``(x_i, y_i)`` as two float32 tensors,
  moved to the training device once.
* :class:`PairView` -- the rows of a dataset that each of ``M`` critics uses (an
  (M, n) index); one critic is the case M = 1.
* :class:`HeldOutSplit` -- the net's ``train_split``: training rows, a *selection*
  part (best epoch, early stopping) and a *report* part (the held-out estimate),
  or, for an ensemble of M critics, cross-fitted folds.
* :class:`SliceIterator` -- minibatches by slicing shuffled tensors.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from .._random import generator

__all__ = [
    "HeldOut",
    "HeldOutSplit",
    "PairDataset",
    "PairView",
    "SliceIterator",
    "as_float_tensor",
    "resolve_batch_size",
]


def as_float_tensor(
    data: Any, name: str, device: torch.device | str | None = None
) -> Tensor:
    """``data`` (array-like or tensor) as a 2-D float32 tensor on ``device``.

    Raises ``ValueError`` for non-numeric data, more than two dimensions, NaN or
    infinite values.
    """
    if isinstance(data, Tensor):
        t = data.detach()
        if t.dtype != torch.float32:
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
    >>> from sk_rgmi.nn.data import PairDataset
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

    def view(self, n_members: int = 1) -> PairView:
        """All rows, for each of ``n_members`` critics."""
        index = torch.arange(len(self), device=self.x.device)
        return PairView(self, index.expand(n_members, -1))


class PairView:
    """The rows of a :class:`PairDataset` that each of M critics uses.

    Parameters
    ----------
    data : PairDataset
    index : LongTensor of shape (M, n)
        Row ``m`` lists the dataset rows of critic ``m`` (n rows each).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sk_rgmi.nn.data import PairDataset, PairView
    >>> ds = PairDataset(np.arange(6.0), np.arange(6.0))
    >>> view = PairView(ds, torch.tensor([[0, 1, 2], [3, 4, 5]]))
    >>> len(view), view.n_members, view.x.shape
    (3, 2, torch.Size([2, 3, 1]))
    """

    def __init__(self, data: PairDataset, index: Tensor) -> None:
        if index.dim() != 2:
            raise ValueError(f"index must be (M, n), got {tuple(index.shape)}.")
        self.data, self.index = data, index

    @property
    def n_members(self) -> int:
        return self.index.shape[0]

    def __len__(self) -> int:
        return self.index.shape[1]

    @property
    def x(self) -> Tensor:
        """The rows of X per critic, (M, n, n_features_x)."""
        return self.data.x[self.index]

    @property
    def y(self) -> Tensor:
        """The rows of Y per critic, (M, n, n_features_y)."""
        return self.data.y[self.index]


class HeldOut(NamedTuple):
    """The held-out parts of a split: ``select`` (per-epoch) and ``report`` (once).

    ``groups`` (LongTensor (M,)) says which report fold each critic belongs to:
    the critics of a group share their report rows and are scored there as one
    averaged critic. Iterating over it yields the selection view alone, as one
    batch: that is what skorch's validation loop scores each epoch.
    """

    select: PairView
    report: PairView
    groups: Tensor

    def __len__(self) -> int:  # skorch counts validation rows with len()
        return len(self.select)


class HeldOutSplit:
    """The net's ``train_split``: training rows, selection rows and report rows.

    The rows are cut into ``n_folds`` report folds (with one fold, a fraction
    ``report_fraction`` of the rows is the report part). Each of the
    ``n_members`` critics belongs to one fold (critic ``m`` to fold
    ``m % n_folds``): it never sees its fold's rows, selects its best epoch on its
    own random ``select_fraction`` of the other rows, and trains on the rest. The
    critics of a fold are scored on its rows as one averaged critic, once, after
    the best epoch is restored; with several folds every row is reported on
    exactly once, by critics that never saw it (cross-fitting). Picking the
    maximum of a noisy curve overstates it, so only the report rows give an honest
    held-out estimate.

    Parameters
    ----------
    select_fraction : float in (0, 1), default=0.1
        Rows each critic selects on (at least 2).
    report_fraction : float in (0, 1), default=0.1
        Report rows with ``n_folds=1`` (at least 2); with several folds, the
        folds are the report parts.
    n_members : int, default=1
        Critics; a multiple of ``n_folds``.
    n_folds : int, default=1
    train_fraction : float in (0, 1], default=1.0
        Train on this fraction of the training rows only (a random subset, nested:
        for the same ``random_state`` it is part of the full training rows, and the
        selection and report rows are the same). For checks of how the estimate
        grows with the sample size.
    random_state : anything :func:`sk_rgmi._random.check_seed_sequence` accepts
        Seeds the split (a fixed value gives the same split on every call).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.nn.data import HeldOutSplit, PairDataset
    >>> ds = PairDataset(np.zeros((100, 1)), np.zeros(100))
    >>> train, held_out = HeldOutSplit(random_state=0)(ds)
    >>> len(train), len(held_out.select), len(held_out.report)
    (80, 10, 10)
    >>> train, held_out = HeldOutSplit(n_members=10, n_folds=5, random_state=0)(ds)
    >>> train.index.shape, held_out.report.index.shape, held_out.groups.tolist()
    (torch.Size([10, 70]), torch.Size([10, 20]), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    """

    def __init__(
        self,
        select_fraction: float = 0.1,
        report_fraction: float = 0.1,
        n_members: int = 1,
        n_folds: int = 1,
        train_fraction: float = 1.0,
        random_state: Any = None,
    ) -> None:
        self.select_fraction = select_fraction
        self.report_fraction = report_fraction
        self.n_members = n_members
        self.n_folds = n_folds
        self.train_fraction = train_fraction
        self.random_state = random_state

    def _check(self) -> None:
        for name in ("n_members", "n_folds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
        if self.n_members % self.n_folds:
            raise ValueError(
                f"n_members={self.n_members} must be a multiple of n_folds="
                f"{self.n_folds} (the same number of critics for every fold)."
            )
        for name in ("select_fraction", "report_fraction"):
            frac = getattr(self, name)
            if not (isinstance(frac, float | int) and 0.0 < float(frac) < 1.0):
                raise ValueError(f"{name} must be a number in (0, 1), got {frac!r}.")
        frac = self.train_fraction
        if not (isinstance(frac, float | int) and 0.0 < float(frac) <= 1.0):
            raise ValueError(f"train_fraction must be in (0, 1], got {frac!r}.")

    def sizes(self, n: int) -> tuple[int, int, int]:
        """Rows per critic for training, selection and report, out of ``n``."""
        self._check()
        if self.n_folds == 1:
            n_report = max(round(self.report_fraction * n), 2)
            largest = n_report
        else:
            n_report, largest = n // self.n_folds, math.ceil(n / self.n_folds)
        n_sel = max(round(self.select_fraction * n), 2)
        n_train = math.floor(self.train_fraction * (n - largest - n_sel))
        return n_train, n_sel, n_report

    def __call__(
        self, dataset: PairDataset, y: Any = None, **fit_params: Any
    ) -> tuple[PairView, HeldOut]:
        n = len(dataset)
        n_train, n_sel, n_report = self.sizes(n)
        if n_train < 2 or n_report < 2:
            raise ValueError(
                f"{n} samples are too few: each critic needs at least 2 rows to "
                "select its best epoch on, 2 to report the held-out MI on and 2 to "
                "train on. Pass more data"
                + (" or fewer folds." if self.n_folds > 1 else ".")
            )
        rng = generator(self.random_state)
        perm = rng.permutation(n)
        if self.n_folds == 1:
            folds = [perm[:n_report]]
        else:
            folds = np.array_split(perm, self.n_folds)
        outside = [np.setdiff1d(perm, fold, assume_unique=True) for fold in folds]
        train, select, report = [], [], []
        for m in range(self.n_members):
            k = m % self.n_folds
            rest = outside[k][rng.permutation(len(outside[k]))]
            select.append(rest[:n_sel])
            train.append(rest[n_sel : n_sel + n_train])
            report.append(folds[k][:n_report])
        device = dataset.x.device

        def view(parts: list[np.ndarray]) -> PairView:
            return PairView(dataset, torch.from_numpy(np.stack(parts)).to(device))

        groups = torch.arange(self.n_members, device=device) % self.n_folds
        return view(train), HeldOut(view(select), view(report), groups)


class SliceIterator:
    """Minibatches by slicing shuffled tensors: one gather per epoch, no per-item
    ``__getitem__`` and no collation (skorch's default DataLoader costs tens of
    microseconds per sample).

    Over a :class:`PairView` of M critics each batch is ``(x, y)`` of shapes
    (M, B, d); each critic's rows are shuffled independently. Over a
    :class:`PairDataset` batches are (B, d).

    Parameters
    ----------
    dataset : PairView or PairDataset
    batch_size : int
    shuffle : bool, default=False
        Reshuffle (with ``generator``) at the start of every pass.
    generator : torch.Generator or None
    drop_last : bool, default=False
        Drop a final batch smaller than ``batch_size`` (unless it is the only one).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.nn.data import PairDataset, SliceIterator
    >>> it = SliceIterator(PairDataset(np.zeros((10, 2)), np.zeros(10)), batch_size=4)
    >>> [len(x) for x, y in it], len(it)
    ([4, 4, 2], 3)
    """

    def __init__(
        self,
        dataset: PairView | PairDataset,
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
        return math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        ds = self.dataset
        if isinstance(ds, PairView):
            data, index = ds.data, ds.index
        else:
            data, index = ds, None
        if self.shuffle:
            n_members = 1 if index is None else index.shape[0]
            keys = torch.rand(n_members, len(ds), generator=self.generator)
            order = keys.argsort(dim=1).to(data.x.device)
            index = order[0] if index is None else index.gather(1, order)
        x, y = (data.x, data.y) if index is None else (data.x[index], data.y[index])
        bs = self.batch_size
        for i in range(len(self)):
            yield x[..., i * bs : (i + 1) * bs, :], y[..., i * bs : (i + 1) * bs, :]


def resolve_batch_size(batch_size: int | str, n_train: int) -> int:
    """The minibatch size for ``n_train`` training rows.

    ``"auto"``: ``n_train // 8`` clipped to [32, 1024] (and to ``n_train``): at
    least 8 optimizer steps per epoch on small data, large cheap batches on large
    data (how this was chosen: the documentation's page on defaults). An int is
    checked against ``n_train``: a batch larger than the training data is an error.

    Examples
    --------
    >>> from sk_rgmi.nn.data import resolve_batch_size
    >>> resolve_batch_size("auto", 4000), resolve_batch_size("auto", 100)
    (500, 32)
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
            "(after holding out the validation fraction); pass a smaller batch_size "
            "or more data."
        )
    return int(batch_size)
