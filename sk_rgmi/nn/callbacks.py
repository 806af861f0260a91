"""skorch callbacks of the training path and of learned coarse-grainings.

The training path (:class:`~sk_rgmi.nn.net.MINENet`) is skorch's own fit loop with
these callbacks, in this order:

* :class:`MIHistory` -- records ``train_mi`` and ``valid_mi`` (nats) per epoch;
* :class:`DivergenceGuard` -- stops training on a non-finite or exploding bound,
  then warns (:class:`~sk_rgmi.exceptions.DivergenceWarning`) or, when no epoch
  was finite, raises :class:`FloatingPointError`;
* :class:`BestEpoch` -- skorch's :class:`~skorch.callbacks.EarlyStopping` with
  ``load_best=True`` on the selection estimate: checkpoints the best epoch, stops
  after ``patience`` epochs without improvement and restores the best epoch;
* :class:`ReportEstimate` -- after the restore, the held-out estimate on the report
  part of the split (``net.report_``, ``net.heldout_mi_``);
* :class:`TextProgressBar` -- skorch's progress bar, falling back to a text bar in
  notebooks without ipywidgets.

For coarse-grainings (each finds the coarse layer as ``net.module_.<module_attr>``,
default ``"coarse"``, the attribute of
:class:`~sk_rgmi.nn.layers.CoarseGrainedCritic`):

* :class:`TemperatureAnnealing` -- geometric annealing of the relaxation
  temperature of a :class:`~sk_rgmi.nn.layers.RelaxedBinaryCoarse` layer (RSMI:
  0.75 → 0.1);
* :class:`AlternatingSchedule` -- the original notebook's schedule:
  ``critic_steps`` epochs that train only the critic, then one epoch that trains
  only the coarse-grainer;
* :class:`FilterHistory` -- records the (sign- and scale-normalised) filters and
  the threshold in ``net.history`` at the end of every epoch.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from skorch.callbacks import Callback, EarlyStopping, ProgressBar

from ..exceptions import DivergenceWarning

__all__ = [
    "AlternatingSchedule",
    "BestEpoch",
    "DivergenceGuard",
    "FilterHistory",
    "MIHistory",
    "ReportEstimate",
    "TemperatureAnnealing",
    "TextProgressBar",
    "normalize_filters",
]


# ----------------------------------------------------------------- training path
class MIHistory(Callback):
    """Record ``train_mi`` (mean minibatch bound) and ``valid_mi`` (selection
    estimate) in nats, the negatives of skorch's ``train_loss`` / ``valid_loss``.

    Examples
    --------
    >>> from sk_rgmi.nn.callbacks import MIHistory
    >>> from sk_rgmi.nn.net import MINENet
    >>> "mi_history" in dict(MINENet(None)._default_callbacks)
    True
    """

    def on_epoch_end(self, net, **kwargs) -> None:
        row = net.history[-1]
        for name in ("train", "valid"):
            if f"{name}_loss" in row:
                net.history.record(f"{name}_mi", -row[f"{name}_loss"])


class DivergenceGuard(Callback):
    """Stop training when the bound diverges; warn, or raise if nothing is usable.

    A minibatch bound (training) or selection estimate that is non-finite or
    larger in magnitude than ``max_abs_bound`` nats stops training (the optimizer
    step of a non-finite minibatch is skipped by the net). At the end of training
    the best epoch has been restored by :class:`BestEpoch`; this callback then
    warns :class:`~sk_rgmi.exceptions.DivergenceWarning` with advice, or raises
    :class:`FloatingPointError` when no epoch was finite. ``net.diverged_`` holds
    the reason (or False).

    Parameters
    ----------
    max_abs_bound : float, default=1e4
        Bounds beyond this (in nats) are numerical blow-ups: no data set of fewer
        than ``e**max_abs_bound`` samples can certify that much information.

    Examples
    --------
    >>> from sk_rgmi.nn.callbacks import DivergenceGuard
    >>> DivergenceGuard().max_abs_bound
    10000.0
    """

    def __init__(self, max_abs_bound: float = 1e4) -> None:
        self.max_abs_bound = max_abs_bound

    def _bad(self, value: float) -> bool:
        return not math.isfinite(value) or abs(value) > self.max_abs_bound

    def on_train_begin(self, net, **kwargs) -> None:
        net.diverged_ = False

    def on_batch_end(self, net, batch=None, training=None, loss=None, **kwargs):
        if training and loss is not None:
            value = -float(loss)
            if self._bad(value):
                net.diverged_ = f"minibatch bound {value:.4g} nats"
                raise KeyboardInterrupt

    def on_epoch_end(self, net, **kwargs) -> None:
        value = net.history[-1].get("valid_mi")
        if value is not None and self._bad(value):
            net.diverged_ = f"held-out selection estimate {value:.4g} nats"
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs) -> None:
        if not net.diverged_:
            return
        best = dict(net.callbacks_).get("best_epoch")
        restored = best is not None and best.best_model_weights_ is not None
        advice = (
            "Try a smaller lr, an lr_schedule, loss='smile', or standardised inputs."
        )
        if not restored:
            raise FloatingPointError(
                f"MI training diverged ({net.diverged_}) before any usable epoch. "
                + advice
            )
        warnings.warn(
            f"MI training diverged ({net.diverged_}) at epoch {len(net.history)}; "
            f"restored the best epoch {best.best_epoch_}. " + advice,
            DivergenceWarning,
            stacklevel=2,
        )


class BestEpoch(EarlyStopping):
    """skorch's ``EarlyStopping(load_best=True)`` on the selection estimate.

    Monitors ``valid_loss`` (minus the selection-part MI) with no threshold,
    records ``valid_mi_best`` in the history, stops after ``patience`` epochs
    without a new best (``patience=None``: never), and restores the best epoch at
    the end. When training continues (warm start, ``partial_fit``), the parameters
    it starts from are a candidate too. Without held-out data
    (``monitor=None``) every finite epoch is the new best: the last is kept.

    Parameters
    ----------
    patience : int or None, default=10
    monitor : str or None, default="valid_loss"

    Examples
    --------
    >>> from sk_rgmi.nn.callbacks import BestEpoch
    >>> BestEpoch(patience=5).load_best
    True
    """

    def __init__(self, patience: int | None = 10, monitor: str | None = "valid_loss"):
        super().__init__(
            monitor=monitor,
            patience=patience,
            threshold=0.0,
            threshold_mode="abs",
            lower_is_better=True,
            load_best=True,
            sink=_silent,
        )

    def on_train_begin(self, net, **kwargs) -> None:
        super().on_train_begin(net, **kwargs)
        self.candidate_start_ = len(net.history) > 0

    def on_epoch_begin(self, net, dataset_valid=None, **kwargs) -> None:
        if self.candidate_start_ and dataset_valid is not None:
            # warm start: score the starting parameters on this fit's selection part
            values, _ = net.evaluate(dataset_valid.select, stream="select")
            self.dynamic_threshold_ = -float(np.mean(values))
            self.best_epoch_ = len(net.history) - 1
            self.best_model_weights_ = _state_copy(net.module_)
        self.candidate_start_ = False

    def on_epoch_end(self, net, **kwargs) -> None:
        if self.monitor is None:
            self.best_epoch_ = net.history[-1, "epoch"]
            self.best_model_weights_ = _state_copy(net.module_)
            net.history.record("valid_mi_best", True)
            return
        before = self.best_epoch_
        try:
            super().on_epoch_end(net, **kwargs)
        finally:
            net.history.record("valid_mi_best", self.best_epoch_ != before)


def _silent(*args, **kwargs) -> None:
    """A sink that drops skorch's messages (picklable, unlike a lambda)."""


def _state_copy(module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


class ReportEstimate(Callback):
    """After training (and the best-epoch restore), estimate MI on the report part.

    The critics of a report fold are scored as one averaged critic. Sets
    ``net.report_`` (a dict of per-fold ``values`` and ``stds`` in nats and the
    fold rows ``index``, or None without held-out data), ``net.heldout_mi_``
    (their mean) and ``net.heldout_std_``.

    Examples
    --------
    >>> from sk_rgmi.nn.net import MINENet
    >>> "report" in dict(MINENet(None)._default_callbacks)
    True
    """

    def on_train_begin(self, net, **kwargs) -> None:
        self.held_out_ = None

    def on_epoch_begin(self, net, dataset_valid=None, **kwargs) -> None:
        self.held_out_ = dataset_valid

    def on_train_end(self, net, **kwargs) -> None:
        held_out, self.held_out_ = self.held_out_, None
        if held_out is None:
            net.report_ = net.heldout_mi_ = net.heldout_std_ = None
            return
        values, stds = net.evaluate(
            held_out.report, stream="report", groups=held_out.groups
        )
        folds = len(values)
        index = held_out.report.index[:folds]  # the rows of each fold, once
        net.report_ = {"values": values, "stds": stds, "index": index}
        net.heldout_mi_ = float(np.mean(values))
        # the folds are disjoint: their evaluation noise averages
        net.heldout_std_ = float(np.sqrt(np.mean(stds**2) / folds))


class TextProgressBar(ProgressBar):
    """skorch's progress bar; in a notebook without ipywidgets, a text bar.

    Examples
    --------
    >>> from sk_rgmi.nn.callbacks import TextProgressBar
    >>> TextProgressBar(batches_per_epoch="count").batches_per_epoch
    'count'
    """

    def _use_notebook(self) -> bool:
        if not super()._use_notebook():
            return False
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            return False
        return True


# ------------------------------------------------------------- coarse-graining
def normalize_filters(
    weights: np.ndarray, intercept: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Normalise each filter row to unit L2 norm and a non-negative sum.

    Scaling a row by a positive number leaves both the hard binary code
    ``1[Λx + b > 0]`` and the MI of a real code unchanged, and flipping its sign (with
    the threshold) swaps the two binary states: neither changes MI. The normalised form
    makes filters of different runs comparable. The intercept is scaled and flipped with
    its row, so ``1[Λ'x + b' > 0]`` is the (possibly complemented) same code.

    Parameters
    ----------
    weights : ndarray of shape (n_components, n_features)
    intercept : ndarray of shape (n_components,), optional

    Returns
    -------
    weights, intercept : ndarrays
        Normalised copies (intercept zeros when not given).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.nn.callbacks import normalize_filters
    >>> w, b = normalize_filters(np.array([[-2.0, -2.0, -2.0, -2.0]]), np.array([5.0]))
    >>> w.tolist(), b.tolist()
    ([[0.5, 0.5, 0.5, 0.5]], [-1.25])
    """
    w = np.array(weights, dtype=np.float64, copy=True)
    if w.ndim == 1:
        w = w[None, :]
    b = (
        np.zeros(w.shape[0])
        if intercept is None
        else np.array(intercept, dtype=np.float64).reshape(-1).copy()
    )
    norm = np.linalg.norm(w, axis=1)
    norm[norm == 0] = 1.0
    total = w.sum(axis=1)
    # Sign of the row sum; for a (numerically) zero sum, that of the largest entry.
    largest = w[np.arange(w.shape[0]), np.abs(w).argmax(axis=1)]
    sign = np.where(np.abs(total) > 1e-12 * norm, np.sign(total), np.sign(largest))
    sign[sign == 0] = 1.0
    scale = sign / norm
    return w * scale[:, None], b * scale


def _coarse_layer(net, module_attr: str):
    module = net.module_
    try:
        return getattr(module, module_attr)
    except AttributeError as exc:
        raise AttributeError(
            f"{type(module).__name__} has no coarse layer attribute {module_attr!r}; "
            "these callbacks expect a CoarseGrainedCritic-like module."
        ) from exc


class TemperatureAnnealing(Callback):
    """Anneal the relaxation temperature geometrically from ``start`` to ``end``.

    At epoch ``e`` (1-based) of ``n_epochs`` the temperature is
    ``start * (end / start) ** ((e - 1) / (n_epochs - 1))``; after ``n_epochs`` it
    stays at ``end``. The value used is recorded as ``"temperature"`` in the history.

    Parameters
    ----------
    start, end : float, default=0.75, 0.1
        Temperatures of the first and last epoch (RSMI's values).
    n_epochs : int, optional
        Length of the schedule; ``None`` uses ``net.max_epochs``.
    module_attr : str, default="coarse"
        Attribute of ``net.module_`` that holds the layer with a ``temperature``.

    Examples
    --------
    >>> from sk_rgmi.nn.callbacks import TemperatureAnnealing
    >>> cb = TemperatureAnnealing(0.75, 0.1, n_epochs=3)
    >>> [round(cb.temperature_at(e), 4) for e in (1, 2, 3, 4)]
    [0.75, 0.2739, 0.1, 0.1]
    """

    def __init__(
        self,
        start: float = 0.75,
        end: float = 0.1,
        *,
        n_epochs: int | None = None,
        module_attr: str = "coarse",
    ) -> None:
        self.start = start
        self.end = end
        self.n_epochs = n_epochs
        self.module_attr = module_attr

    def initialize(self):
        if not (self.start > 0 and self.end > 0):
            raise ValueError(
                f"temperatures must be positive, got start={self.start!r}, "
                f"end={self.end!r}."
            )
        self.n_epochs_ = self.n_epochs
        return self

    def on_train_begin(self, net, **kwargs) -> None:
        if self.n_epochs is None:
            self.n_epochs_ = int(net.max_epochs)

    def temperature_at(self, epoch: int) -> float:
        """Temperature of 1-based epoch ``epoch``."""
        n = getattr(self, "n_epochs_", None) or self.n_epochs or 1
        if n <= 1:
            return float(self.end)
        frac = min(max(epoch - 1, 0) / (n - 1), 1.0)
        return float(self.start * (self.end / self.start) ** frac)

    def on_epoch_begin(self, net, **kwargs) -> None:
        # NeuralNet.on_epoch_begin (run before the callbacks) opened the new row.
        temperature = self.temperature_at(len(net.history))
        _coarse_layer(net, self.module_attr).temperature = temperature
        net.history.record("temperature", temperature)


class AlternatingSchedule(Callback):
    """Alternate ``critic_steps`` critic-only epochs with one coarse-grainer epoch.

    The original notebook's schedule: the critic (MINE) is trained for ``k`` epochs
    with the filter frozen, then the filter is trained for one epoch with the critic
    frozen. Freezing sets ``requires_grad=False``; the optimiser then sees no
    gradient for those parameters and (Adam, SGD) leaves them untouched. The phase is
    recorded as ``"phase"`` (``"critic"`` or ``"coarse"``) in the history.

    Parameters
    ----------
    critic_steps : int, default=5
        Critic epochs per coarse-grainer epoch.
    module_attr : str, default="coarse"
        Attribute of ``net.module_`` holding the coarse layer; every other parameter
        of the module belongs to the critic.

    Examples
    --------
    >>> from sk_rgmi.nn.callbacks import AlternatingSchedule
    >>> cb = AlternatingSchedule(critic_steps=2)
    >>> [cb.phase_at(e) for e in range(1, 7)]
    ['critic', 'critic', 'coarse', 'critic', 'critic', 'coarse']
    """

    def __init__(self, critic_steps: int = 5, *, module_attr: str = "coarse") -> None:
        self.critic_steps = critic_steps
        self.module_attr = module_attr

    def initialize(self):
        if int(self.critic_steps) != self.critic_steps or self.critic_steps < 1:
            raise ValueError(
                f"critic_steps must be a positive integer, got {self.critic_steps!r}."
            )
        return self

    def phase_at(self, epoch: int) -> str:
        """Phase (``"critic"`` or ``"coarse"``) of 1-based epoch ``epoch``."""
        k = int(self.critic_steps)
        return "critic" if (epoch - 1) % (k + 1) < k else "coarse"

    def _set(self, net, *, coarse: bool, critic: bool) -> None:
        coarse_layer = _coarse_layer(net, self.module_attr)
        coarse_ids = {id(p) for p in coarse_layer.parameters()}
        for p in net.module_.parameters():
            p.requires_grad_(coarse if id(p) in coarse_ids else critic)

    def on_epoch_begin(self, net, **kwargs) -> None:
        phase = self.phase_at(len(net.history))
        self._set(net, coarse=phase == "coarse", critic=phase == "critic")
        net.history.record("phase", phase)

    def on_train_end(self, net, **kwargs) -> None:
        self._set(net, coarse=True, critic=True)


class FilterHistory(Callback):
    """Record the normalised filters (and thresholds) in the history every epoch.

    Adds ``"filters"`` (list of ``n_components`` lists of ``n_features`` floats,
    normalised by :func:`normalize_filters`) and ``"intercept"`` (list of floats) to
    each epoch row of ``net.history``.

    Parameters
    ----------
    module_attr : str, default="coarse"
        Attribute of ``net.module_`` holding the coarse layer (with
        ``effective_filters()``, see :mod:`sk_rgmi.nn.layers`).

    Examples
    --------
    >>> from sk_rgmi.nn.callbacks import FilterHistory
    >>> FilterHistory().module_attr
    'coarse'
    """

    def __init__(self, module_attr: str = "coarse") -> None:
        self.module_attr = module_attr

    def on_epoch_end(self, net, **kwargs) -> None:
        w, b = _coarse_layer(net, self.module_attr).effective_filters()
        w, b = normalize_filters(w.cpu().numpy(), b.cpu().numpy())
        net.history.record("filters", w.tolist())
        net.history.record("intercept", b.tolist())
