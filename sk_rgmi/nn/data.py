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

    Iterating over it yields the selection view alone, as one batch: that is what
    skorch's validation loop scores each epoch.
    """

    select: PairView
    report: PairView

    def __len__(self) -> int:  # skorch counts validation rows with len()
        return len(self.select)


class HeldOutSplit:
    """The net's ``train_split``: training rows, a selection part and a report part.

    With one critic (``n_members=1``) a fraction ``validation_fraction`` of the
    rows (at least 4) is held out and halved: the *selection* half is scored after
    every epoch (best epoch, early stopping) and the *report* half once, after the
    best epoch is restored. Picking the maximum of a noisy curve overstates it, so
    only the report half gives an honest held-out estimate.

    With ``n_members = M >= 2`` the rows are cross-fitted: they are cut into M
    folds; critic ``m`` reports on fold ``m``, selects on ``validation_fraction /
    2`` of all rows drawn from the other folds, and trains on the rest. Every row
    is then reported on exactly once, by a critic that never saw it.

    Parameters
    ----------
    validation_fraction : float in (0, 1), default=0.2
    n_members : int, default=1
    random_state : anything :func:`sk_rgmi._random.check_seed_sequence` accepts
        Seeds the split (a fixed value gives the same split on every call).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.nn.data import HeldOutSplit, PairDataset
    >>> ds = PairDataset(np.zeros((100, 1)), np.zeros(100))
    >>> train, held_out = HeldOutSplit(0.2, random_state=0)(ds)
    >>> len(train), len(held_out.select), len(held_out.report)
    (80, 10, 10)
    >>> train, held_out = HeldOutSplit(0.2, n_members=5, random_state=0)(ds)
    >>> train.index.shape, held_out.select.index.shape, held_out.report.index.shape
    (torch.Size([5, 70]), torch.Size([5, 10]), torch.Size([5, 20]))
    """

    def __init__(
        self,
        validation_fraction: float = 0.2,
        n_members: int = 1,
        random_state: Any = None,
    ) -> None:
        self.validation_fraction = validation_fraction
        self.n_members = n_members
        self.random_state = random_state

    def _check(self, n: int) -> tuple[float, int]:
        frac, m = self.validation_fraction, self.n_members
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise ValueError(f"n_members must be an integer >= 1, got {m!r}.")
        if not (isinstance(frac, float | int) and 0.0 < float(frac) < 1.0):
            raise ValueError(
                f"validation_fraction must be a number in (0, 1), got {frac!r}."
            )
        return float(frac), m

    def sizes(self, n: int) -> tuple[int, int, int]:
        """Rows per critic for training, selection and report, out of ``n``."""
        frac, m = self._check(n)
        if m == 1:
            n_hold = max(round(frac * n), 4)
            n_sel = n_hold - n_hold // 2
            return n - n_hold, n_sel, n_hold // 2
        n_sel = max(2, round(frac / 2 * n))
        return n - math.ceil(n / m) - n_sel, n_sel, n // m

    def __call__(
        self, dataset: PairDataset, y: Any = None, **fit_params: Any
    ) -> tuple[PairView, HeldOut]:
        n = len(dataset)
        m = self.n_members
        n_train, n_sel, n_report = self.sizes(n)
        device = dataset.x.device
        rng = generator(self.random_state)
        perm = rng.permutation(n)
        if m == 1:
            if n_train < 2:
                raise ValueError(
                    f"{n} samples are too few: at least 4 are held out (2 to select "
                    "the best epoch, 2 to report the held-out MI) and 2 are needed "
                    "to train. Pass more data."
                )
            parts = np.split(perm, [n_train, n_train + n_sel])
            train, select, report = (p[None, :] for p in parts)
        else:
            folds = np.array_split(perm, m)  # every critic reports on n_report rows
            if n_report < 2 or n_train < 2:
                raise ValueError(
                    f"{n} samples are too few for {m} cross-fitted critics: each "
                    "needs at least 2 rows to report on, 2 to select on and 2 to "
                    "train on. Pass more data or fewer critics."
                )
            train, select, report = [], [], []
            for k in range(m):
                rest = np.concatenate([f for j, f in enumerate(folds) if j != k])
                rest = rest[rng.permutation(len(rest))]
                select.append(rest[:n_sel])
                train.append(rest[n_sel : n_sel + n_train])
                report.append(folds[k][:n_report])
            train, select, report = (np.stack(p) for p in (train, select, report))

        def view(index: np.ndarray) -> PairView:
            return PairView(dataset, torch.from_numpy(index).to(device))

        return view(train), HeldOut(view(select), view(report))


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
