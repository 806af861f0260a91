"""MINEEstimator: neural mutual-information estimation (MINE and friends).

A thin scikit-learn wrapper around the torch core in :mod:`sk_rgmi.nn`: it builds a
critic, trains it through the one training path (:class:`sk_rgmi.nn.MINENet`) and
scores with the held-out evaluation of :mod:`sk_rgmi.nn.evaluation`.
"""

from __future__ import annotations

import copy
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._history import history_rows
from ._neural import NEURAL_CONSTRAINTS
from ._random import check_seed_sequence, seed_int, stream
from ._validation import to_units, validate_pair
from .nn.critics import make_critic
from .nn.data import HeldOutSplit
from .nn.net import DEFAULTS, MINENet
from .nn.normalization import NORMALIZERS, NormalizedCritic, fit_normalizer

__all__ = ["MINEEstimator"]


class MINEEstimator(BaseEstimator):
    """Mutual information I(X; y) from a neural critic (MINE), scored on held-out data.

    A critic network ``T(x, y)`` is trained to maximise a variational lower bound on
    the MI (Donsker–Varadhan with MINE's moving-average gradient by default) through
    skorch with a fast tensor-slicing batch path. ``validation_fraction`` of the data
    is held out and halved: one half picks the best epoch (and drives early
    stopping), the other reports ``mi_`` at that restored epoch, so ``mi_`` is an
    honest held-out estimate. :meth:`score` evaluates the bound on any data with
    many shuffled pairings; ``GridSearchCV`` therefore maximises held-out MI.

    MI values (``mi_``, ``history_``, :meth:`score`) are in nats unless
    ``units="bits"``.

    Parameters
    ----------
    critic : {"concat", "two-branch", "separable"} or callable, default="concat"
        The original notebook's residual concat "Net 2", its two-branch "Net 1", a
        separable ``g(x)·h(y)`` critic, or a factory
        ``(x_dim, y_dim) -> torch.nn.Module`` whose ``forward(x, y)`` returns (B,)
        or (B, 1) scores.
    hidden_size : int, default=32
        Width of the registered critics (ignored by factories). The original
        notebook used 100.
    n_layers : int or None, default=None
        Hidden layers of the registered critics (None: the critic's default, the
        original notebook's: 3 for concat, 2 per branch for two-branch).
    loss : {"mine", "mine_biased", "fdiv", "infonce", "smile"}, default="mine"
        Training bound (:mod:`sk_rgmi.nn.bounds`). Held-out values always use the
        Donsker–Varadhan evaluation form.
    lr : float, default=1e-2
        Adam learning rate.
    batch_size : int or "auto", default="auto"
        Minibatch size. "auto": ``n_train // 8`` clipped to [32, 1024] (at least
        8 steps per epoch). An int larger than the training split raises.
    max_epochs : int, default=200
    lr_schedule : dict or None, default=None
        ``{"step_size": s, "gamma": g}`` (the original notebook's StepLR, per
        epoch).
    ema_alpha : float, default=0.01
        Weight of the new batch in the ``mine`` moving average.
    validation_fraction : float, default=0.2
        Held-out fraction (half selection, half report).
    early_stopping : int or None, default=10
        Patience in epochs without improvement of the selection-half MI; None trains
        ``max_epochs`` epochs (the best epoch is still restored).
    callbacks : list of skorch callbacks or None, default=None
        Passed through to the skorch net.
    normalize : {"quantile", "zscore"} or None, default="quantile"
        Per-feature monotone map of X and y learned in ``fit`` and built into
        ``critic_`` (which therefore takes raw data). MI is invariant to it; it only
        helps the optimiser. ``"quantile"`` maps each feature to standard-normal
        scores through its training quantiles
        (:class:`~sk_rgmi.nn.normalization.QuantileNormal`), which tames heavy
        tails and outliers; ``"zscore"`` subtracts the mean and divides by the
        standard deviation; None feeds the raw values.
    n_permutations : int, default=4
        Shuffled pairings per sample in held-out estimates and :meth:`score`.
    device : {"auto", "cpu", "cuda"} or "cuda:<index>", default="auto"
        "auto" uses CUDA when available; "cuda" without CUDA raises.
    units : {"nats", "bits"}, default="nats"
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, splits, shuffling and pairings; a fixed int makes CPU
        fits reproducible (torch's global RNG state is left unchanged).
    verbose : int, default=0
        1: skorch's epoch table; 2: also a progress bar.
    warm_start : bool, default=False
        ``fit`` continues training the current critic (``max_epochs`` more epochs).

    Attributes
    ----------
    mi_ : float
        Held-out MI at the restored best epoch, on the report half, in ``units``.
    mi_std_ : float
        Standard error of ``mi_`` from the finite report half, in ``units``
        (:func:`~sk_rgmi.nn.estimate_mi` with ``return_std``): the sampling noise
        of the evaluation for this critic. Seed-to-seed training noise is not in
        it; refit with other ``random_state`` values to see that.
    history_ : list of dict
        One dict per epoch: ``epoch``, ``train_mi`` (mean minibatch bound on the
        training data), ``valid_mi`` (selection half), ``valid_mi_best``, ``dur``
        (seconds), ``event_lr`` with an ``lr_schedule``; MI values in ``units``.
    critic_ : torch.nn.Module
        The trained critic, taking raw inputs: with ``normalize`` set, a
        :class:`~sk_rgmi.nn.NormalizedCritic` holding the maps in front of
        ``net_.module_``.
    normalizers_ : tuple of two torch.nn.Module or None
        The per-feature maps of X and y learned in ``fit`` (None without
        ``normalize``); the net trains on data mapped once, not per batch.
    net_ : sk_rgmi.nn.MINENet
        The skorch net (history, optimizer state), trained on normalised data.
    best_epoch_ : int
    n_epochs_ : int
        Epochs run in total.
    n_features_in_ : int
    n_features_y_ : int

    Notes
    -----
    *Held-out honesty.* The selection half picks the best epoch, and at that maximum
    it is optimistic (the maximum of a noisy curve overstates it). ``mi_`` comes
    from the report half, which influenced no choice; ``history_[*]["valid_mi"]`` is
    the selection half.

    How the defaults were chosen, with the measurements, is in the documentation
    (page "How the defaults were chosen").

    See Also
    --------
    sk_rgmi.nn.MINENet : the training path.
    sk_rgmi.nn.estimate_mi : the held-out evaluation.
    sk_rgmi.KSGEstimator : k-nearest-neighbour MI for continuous, low-dimensional data.
    sk_rgmi.PluginMIEstimator : count-based MI for discrete data.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi import MINEEstimator
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(4000, 1))
    >>> y = x + rng.normal(size=(4000, 1))          # true MI: 0.5 ln 2 = 0.347 nats
    >>> est = MINEEstimator(device="cpu", random_state=0).fit(x, y)
    >>> 0.15 < est.mi_ < 0.5     # report split: 10% of the data, so a noisy value
    True
    >>> x_new = rng.normal(size=(4000, 1))
    >>> 0.25 < est.score(x_new, x_new + rng.normal(size=(4000, 1))) < 0.4
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **NEURAL_CONSTRAINTS,
        "n_layers": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [
            Interval(Integral, 2, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "ema_alpha": [Interval(Real, 0, 1, closed="right")],
        "early_stopping": [Interval(Integral, 1, None, closed="left"), None],
        "normalize": [StrOptions(set(NORMALIZERS)), None],
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        critic: Any = "concat",
        *,
        hidden_size: int = 32,
        n_layers: int | None = None,
        loss: str = DEFAULTS["loss"],
        lr: float = DEFAULTS["lr"],
        batch_size: int | str = DEFAULTS["batch_size"],
        max_epochs: int = DEFAULTS["max_epochs"],
        lr_schedule: dict | None = DEFAULTS["lr_schedule"],
        ema_alpha: float = DEFAULTS["ema_alpha"],
        validation_fraction: float = DEFAULTS["validation_fraction"],
        early_stopping: int | None = DEFAULTS["early_stopping"],
        callbacks: list | None = None,
        normalize: str | None = "quantile",
        n_permutations: int = DEFAULTS["n_permutations"],
        device: str = "auto",
        units: str = "nats",
        random_state: Any = None,
        verbose: int = 0,
        warm_start: bool = False,
    ) -> None:
        self.critic = critic
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.loss = loss
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr_schedule = lr_schedule
        self.ema_alpha = ema_alpha
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.callbacks = callbacks
        self.normalize = normalize
        self.n_permutations = n_permutations
        self.device = device
        self.units = units
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    @classmethod
    def _fast_test_params(cls) -> dict[str, Any]:
        """Tiny settings for scikit-learn's estimator checks (tiny data sets)."""
        return {
            "hidden_size": 8,
            "batch_size": 4,
            "max_epochs": 2,
            "validation_fraction": 0.4,
            "early_stopping": None,
            "n_permutations": 2,
            "device": "cpu",
            "random_state": 0,
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------------ fitting
    def _build_critic(self, X: np.ndarray, Y: np.ndarray) -> torch.nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_int(self._seed_seq, "init"))
            return make_critic(
                self.critic,
                X.shape[1],
                Y.shape[1],
                hidden_size=self.hidden_size,
                n_layers=self.n_layers,
            )

    def _normalized(self, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, ...]:
        """(X, Y) as float32 through the fitted per-feature maps.

        Applied once to the whole data per ``fit``/``score`` call, never per batch:
        inside the critic the quantile map cost 44-56% of an epoch.
        """
        X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
        if self.normalizers_ is None:
            return X32, Y32
        x_map, y_map = self.normalizers_
        with torch.no_grad():
            return (
                x_map(torch.from_numpy(X32)).numpy(),
                y_map(torch.from_numpy(Y32)).numpy(),
            )

    def _train(self, X: np.ndarray, Y: np.ndarray, *, epochs: int | None) -> None:
        continuing = hasattr(self, "net_") and (self.warm_start or epochs == 1)
        if not continuing:
            self._seed_seq = check_seed_sequence(self.random_state)
            module = self._build_critic(X, Y)
            self.normalizers_ = (
                None
                if self.normalize is None
                else (
                    fit_normalizer(self.normalize, X),
                    fit_normalizer(self.normalize, Y),
                )
            )
            self.net_ = MINENet(
                module,
                loss=self.loss,
                ema_alpha=self.ema_alpha,
                lr=self.lr,
                batch_size=self.batch_size,
                max_epochs=self.max_epochs,
                lr_schedule=self.lr_schedule,
                train_split=HeldOutSplit(
                    self.validation_fraction,
                    random_state=stream(self._seed_seq, "split"),
                ),
                early_stopping=self.early_stopping,
                callbacks=list(self.callbacks) if self.callbacks else None,
                device=self.device,
                random_state=stream(self._seed_seq, "net"),
                verbose=self.verbose,
                n_permutations=self.n_permutations,
                warm_start=True,
            )
        X32, Y32 = self._normalized(X, Y)
        if continuing or epochs is not None:
            self.net_.partial_fit(X32, Y32, epochs=epochs)
        else:
            self.net_.fit(X32, Y32)
        self._set_fitted_attributes()

    def _set_fitted_attributes(self) -> None:
        net = self.net_
        self.critic_ = net.module_
        if self.normalizers_ is not None:
            # critic_ takes raw data: the maps (copies, on the critic's device)
            # in front of the trained network, which it shares with net_.
            device = torch.device(net.device)
            x_map, y_map = (copy.deepcopy(m).to(device) for m in self.normalizers_)
            self.critic_ = NormalizedCritic(net.module_, x_map, y_map)
        self.best_epoch_ = net.best_epoch_
        self.n_epochs_ = len(net.history)
        self.mi_ = float(to_units(net.heldout_mi_, self.units))
        self.mi_std_ = float(to_units(net.heldout_std_, self.units))
        self.history_ = history_rows(net.history, self.units)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> MINEEstimator:
        """Train the critic on (X, y) and estimate the held-out MI ``mi_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_x)
        y : array-like of shape (n_samples,) or (n_samples, n_features_y)

        Returns
        -------
        self
        """
        reset = not (self.warm_start and hasattr(self, "net_"))
        X, Y = validate_pair(self, X, y, reset=reset)
        if reset:
            self.n_features_y_ = Y.shape[1]
            if hasattr(self, "net_"):
                del self.net_
        self._train(X, Y, epochs=None)
        return self

    def partial_fit(self, X: Any, y: Any) -> MINEEstimator:
        """Train one more epoch on (X, y) (the first call initialises the critic).

        The best of the starting parameters and the new epoch (by the selection
        half) is kept and ``mi_`` is re-estimated on the report half, in ``units``.

        Returns
        -------
        self
        """
        first = not hasattr(self, "net_")
        if first:
            self._validate_params()
        X, Y = validate_pair(self, X, y, reset=first)
        if first:
            self.n_features_y_ = Y.shape[1]
        self._train(X, Y, epochs=1)
        return self

    # ------------------------------------------------------------------ scoring
    def score(self, X: Any, y: Any) -> float:
        """MI estimate on (X, y) with the trained critic, in ``units``.

        The Donsker–Varadhan bound in its evaluation form: mean critic score on the
        given pairs minus the log-mean-exp over ``n_permutations`` shuffled pairings
        of every sample (for ``loss="infonce"``, the InfoNCE bound with those
        pairings as negatives, capped at ``log(K + 1)``). Higher is better, so
        ``GridSearchCV`` maximises it.

        Returns
        -------
        float
        """
        check_is_fitted(self, "critic_")
        X, Y = validate_pair(self, X, y, reset=False)
        value = self.net_.estimate(
            *self._normalized(X, Y), random_state=stream(self._seed_seq, "score")
        )
        return float(to_units(value, self.units))
