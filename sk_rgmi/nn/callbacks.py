"""skorch callbacks for learning coarse-grainings on the shared MINE training path.

* :class:`TemperatureAnnealing` -- geometric annealing of the relaxation temperature of
  a :class:`~sk_rgmi.nn.layers.RelaxedBinaryCoarse` layer (RSMI: 0.75 → 0.1).
* :class:`AlternatingSchedule` -- the seed's schedule: ``critic_steps`` epochs that
  train only the critic, then one epoch that trains only the coarse-grainer.
* :class:`FilterHistory` -- records the (sign- and scale-normalised) filters and the
  threshold in ``net.history`` at the end of every epoch.

Each callback finds the coarse layer as ``net.module_.<module_attr>`` (default
``"coarse"``, the attribute of :class:`~sk_rgmi.nn.layers.CoarseGrainedCritic`).
"""

from __future__ import annotations

import numpy as np
from skorch.callbacks import Callback

__all__ = [
    "AlternatingSchedule",
    "FilterHistory",
    "TemperatureAnnealing",
    "normalize_filters",
]


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

    The seed's schedule: the critic (MINE) is trained for ``k`` epochs with the filter
    frozen, then the filter is trained for one epoch with the critic frozen. Freezing
    sets ``requires_grad=False``; the optimiser then sees no gradient for those
    parameters and (Adam, SGD) leaves them untouched. The phase is recorded as
    ``"phase"`` (``"critic"`` or ``"coarse"``) in the history.

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
