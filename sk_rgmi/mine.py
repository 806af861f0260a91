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
from .nn.critics import MeanCritic, make_critic
from .nn.data import HeldOutSplit
from .nn.net import MINENet
from .nn.normalization import NORMALIZERS, NormalizedCritic, fit_normalizer
from .reliability import (
    Z95,
    bound_limit,
    flag,
    fold_interval,
    lower_bound_interval,
    mean_std_err,
    warn_flags,
)

__all__ = ["MINEEstimator"]


class MINEEstimator(BaseEstimator):
    """Mutual information I(X; y) from neural critics (MINE), with an honest interval.

    Critic networks ``T(x, y)`` are trained to maximise a variational lower bound on
    the MI (Donsker–Varadhan with MINE's moving-average gradient by default)
    through skorch with a fast tensor-slicing batch path. The data are
    *cross-fitted*: cut into ``n_folds`` folds, each scored by an ensemble of
    ``n_critics`` critics that never saw it (trained on the other folds, each
    picking its best epoch on its own selection rows), averaged into one critic.
    The mean of the per-fold held-out estimates -- every sample is used once for
    reporting -- is a lower bound on the MI; its shortfall is estimated from how
    much critics trained on half the data fall short (``check_convergence``) and
    from the critics' excess on their training rows, and ``mi_`` is the held-out
    value plus that shortfall. ``mi_ci_`` is a 95% interval built from the spread of
    the folds (evaluation and training noise) and the shortfall. A number that may
    be wrong is flagged: ``diagnostics_["flags"]`` and a
    :class:`~sk_rgmi.exceptions.ReliabilityWarning` (see
    :mod:`sk_rgmi.reliability`). :meth:`score` evaluates the averaged critic on
    any data with many shuffled pairings; ``GridSearchCV`` therefore maximises
    held-out MI.

    MI values (``mi_``, ``mi_std_``, ``mi_ci_``, ``history_``, :meth:`score`) are in
    nats unless ``units="bits"``.

    Parameters
    ----------
    critic : {"concat", "two-branch", "separable"} or callable, default="concat"
        The original notebook's residual concat "Net 2", its two-branch "Net 1", a
        separable ``g(x)·h(y)`` critic, or a factory
        ``(x_dim, y_dim) -> torch.nn.Module`` whose ``forward(x, y)`` returns (B,)
        or (B, 1) scores (stacked into an ensemble with :mod:`torch.func`).
    hidden_size : int, default=32
        Width of the registered critics (ignored by factories). The original
        notebook used 100.
    n_layers : int or None, default=None
        Hidden layers of the registered critics (None: the critic's default, the
        original notebook's: 3 for concat, 2 per branch for two-branch).
    loss : {"mine", "mine_biased", "fdiv", "infonce", "smile"}, default="mine"
        Training bound (:mod:`sk_rgmi.nn.bounds`). Held-out values use the
        Donsker–Varadhan evaluation form (InfoNCE for ``"infonce"``).
    lr : float, default=1e-2
        Adam learning rate (at the start of the ``lr_schedule``).
    batch_size : int or "auto", default="auto"
        Minibatch size. "auto": ``n_train // 8`` clipped to [32, 1024] (at least
        8 steps per epoch). An int larger than the training rows raises.
    max_epochs : int, default=400
    lr_schedule : "plateau", dict or None, default="plateau"
        ``"plateau"``: halve the learning rate when the selection estimate has not
        improved for a quarter of the ``early_stopping`` patience;
        ``{"step_size": s, "gamma": g}``: the original notebook's StepLR, per
        epoch; None: constant.
    ema_alpha : float, default=0.01
        Weight of the new batch in the ``mine`` moving average.
    validation_fraction : float, default=0.2
        Half of it is each critic's selection rows (best epoch, early stopping);
        with ``n_folds=1`` the other half is the report part.
    early_stopping : int or None, default=40
        Patience in epochs without improvement of the selection estimate (mean
        over the critics); None trains ``max_epochs`` epochs (the best epoch is
        still restored).
    n_folds : int, default=5
        Cross-fitting folds; every sample is reported on once. With 1, a single
        report part of ``validation_fraction / 2`` of the data (faster, noisier,
        and ``mi_ci_`` then holds the evaluation noise only).
    n_critics : int, default=2
        Critics per fold, trained together in one stacked network and averaged.
    check_convergence : bool, default=True
        Also train one critic per fold on half of its training rows and compare
        on the same held-out rows: the shortfall sets the upper end of
        ``mi_ci_`` and the ``"not_converged_in_n"`` flag. Costs about a quarter
        more time.
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
        ``fit`` continues training the current critics (``max_epochs`` more
        epochs; the convergence check is not redone).

    Attributes
    ----------
    mi_ : float
        The MI estimate, in ``units``: the held-out value (the mean over folds of
        the averaged critics' estimates, ``diagnostics_["heldout_mi"]``; for any
        critic a lower bound on the MI up to noise) plus its estimated shortfall
        (``diagnostics_["shortfall"]``): the larger of the rise from half to all
        the data and half the critics' excess on their training rows (a fitted
        critic's held-out pessimism mirrors its training optimism), never past
        what the data can certify (``diagnostics_["bound_limit"]``). Near zero MI
        it can be slightly negative (noise).
    mi_std_ : float
        Standard error of ``mi_`` (spread of the folds / sqrt(n_folds)), in
        ``units``: evaluation and training noise.
    mi_ci_ : tuple of two floats
        95% interval, in ``units``: from the held-out value minus ``t · mi_std_``
        (Student's t over the folds) to ``mi_ + t · mi_std_``, clipped at 0 (MI is
        never negative): below, it allows for the shortfall being overestimated,
        above for noise.
    diagnostics_ : dict
        ``"flags"`` (list of str, see :mod:`sk_rgmi.reliability`), and the numbers
        behind them, in ``units``: ``heldout_mi``, ``shortfall``, ``fold_mi`` (per
        fold), ``single_critic_mi``,
        ``half_data_mi``, ``n_slope`` (full minus half data), ``train_mi`` and
        ``train_gap`` (training rows minus held-out rows), ``bound_limit``,
        ``n_epochs``.
    history_ : list of dict
        One dict per epoch: ``epoch``, ``train_mi`` (mean minibatch bound on the
        training rows), ``valid_mi`` (selection rows), ``valid_mi_best``, ``dur``
        (seconds), ``event_lr``; MI values in ``units``.
    critic_ : torch.nn.Module
        The averaged critic, taking raw inputs: with ``normalize`` set, a
        :class:`~sk_rgmi.nn.NormalizedCritic` holding the maps in front of a
        :class:`~sk_rgmi.nn.MeanCritic` of ``net_.module_``.
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
    *Held-out honesty.* Each critic picks its best epoch on its own selection rows;
    at that maximum the selection value is optimistic (the maximum of a noisy curve
    overstates it). ``mi_`` comes from rows that influenced no choice;
    ``history_[*]["valid_mi"]`` is the selection value.

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
    >>> x = rng.normal(size=(3000, 1))
    >>> y = x + rng.normal(size=(3000, 1))          # true MI: 0.5 ln 2 = 0.347 nats
    >>> est = MINEEstimator(device="cpu", random_state=0).fit(x, y)
    >>> low, high = est.mi_ci_
    >>> bool(low < 0.347 < high), est.diagnostics_["flags"]
    (True, [])
    >>> bool(abs(est.mi_ - 0.347) < 0.03)
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
        "lr_schedule": [StrOptions({"plateau"}), dict, None],
        "ema_alpha": [Interval(Real, 0, 1, closed="right")],
        "early_stopping": [Interval(Integral, 1, None, closed="left"), None],
        "n_folds": [Interval(Integral, 1, None, closed="left")],
        "n_critics": [Interval(Integral, 1, None, closed="left")],
        "check_convergence": ["boolean"],
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
        loss: str = "mine",
        lr: float = 1e-2,
        batch_size: int | str = "auto",
        max_epochs: int = 400,
        lr_schedule: str | dict | None = "plateau",
        ema_alpha: float = 0.01,
        validation_fraction: float = 0.2,
        early_stopping: int | None = 40,
        n_folds: int = 5,
        n_critics: int = 2,
        check_convergence: bool = True,
        callbacks: list | None = None,
        normalize: str | None = "quantile",
        n_permutations: int = 4,
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
        self.n_folds = n_folds
        self.n_critics = n_critics
        self.check_convergence = check_convergence
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
            "batch_size": 2,
            "max_epochs": 2,
            "validation_fraction": 0.4,
            "early_stopping": None,
            "n_folds": 2,
            "n_critics": 1,
            "check_convergence": False,
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
    def _net(self, X: np.ndarray, Y: np.ndarray, n_critics: int, **split: Any):
        """A net of ``n_folds * n_critics`` stacked critics and its split."""
        n_members = self.n_folds * n_critics
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_int(self._seed_seq, "init"))
            module = make_critic(
                self.critic,
                X.shape[1],
                Y.shape[1],
                hidden_size=self.hidden_size,
                n_layers=self.n_layers,
                n_members=n_members,
            )
        half = self.validation_fraction / 2
        return MINENet(
            module,
            loss=self.loss,
            ema_alpha=self.ema_alpha,
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            lr_schedule=self.lr_schedule,
            train_split=HeldOutSplit(
                select_fraction=half,
                report_fraction=half,
                n_members=n_members,
                n_folds=self.n_folds,
                random_state=stream(self._seed_seq, "split"),
                **split,
            ),
            early_stopping=self.early_stopping,
            callbacks=list(self.callbacks) if self.callbacks else None,
            device=self.device,
            random_state=stream(self._seed_seq, "net"),
            verbose=self.verbose,
            n_permutations=self.n_permutations,
            warm_start=True,
        )

    def _normalized(self, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, ...]:
        """(X, Y) as float32 through the fitted per-feature maps.

        Applied once to the whole data per ``fit``/``score`` call, never per batch
        (inside the critic the quantile map would cost about half an epoch).
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
            self.normalizers_ = (
                None
                if self.normalize is None
                else (
                    fit_normalizer(self.normalize, X),
                    fit_normalizer(self.normalize, Y),
                )
            )
            self.net_ = self._net(X, Y, self.n_critics)
        X32, Y32 = self._normalized(X, Y)
        if continuing or epochs is not None:
            self.net_.partial_fit(X32, Y32, epochs=epochs)
        else:
            self.net_.fit(X32, Y32)
        half_data = None
        if self.check_convergence and not continuing and epochs is None:
            half_data = self._net(X, Y, 1, train_fraction=0.5).fit(X32, Y32)
        self._set_fitted_attributes(X32, Y32, half_data)

    def _checks(self, X32: np.ndarray, Y32: np.ndarray, half_data: Any) -> dict:
        """Single-critic, half-data and training-row estimates (nats) per fold."""
        net, k = self.net_, self.n_folds
        report, on_train = net.check_views(X32, Y32)
        single, _ = net.evaluate(report, stream="report")  # every critic alone
        first = single[:k]  # critic 0 of each fold, the one the half-data fit mirrors
        trained, _ = net.evaluate(on_train, stream="report")
        out = {"single": first, "trained": trained, "gap": trained - single}
        out["half"] = None
        if half_data is not None:
            report_half, _ = half_data.check_views(X32, Y32)
            out["half"], _ = half_data.evaluate(report_half, stream="report")
            out["half_diverged"] = bool(half_data.diverged_)
        return out

    def _set_fitted_attributes(
        self, X32: np.ndarray, Y32: np.ndarray, half_data: Any
    ) -> None:
        net = self.net_
        self.critic_ = MeanCritic(net.module_)
        if self.normalizers_ is not None:
            # critic_ takes raw data: the maps (copies, on the critic's device)
            # in front of the averaged critic, which shares net_'s parameters.
            device = torch.device(net.device)
            x_map, y_map = (copy.deepcopy(m).to(device) for m in self.normalizers_)
            self.critic_ = NormalizedCritic(self.critic_, x_map, y_map)
        self.best_epoch_ = net.best_epoch_
        self.n_epochs_ = len(net.history)
        self.history_ = history_rows(net.history, self.units)

        folds = net.report_["values"]
        if len(folds) >= 2:
            mi, se, t = fold_interval(folds)
        else:  # one report part: evaluation noise only
            mi, se, t = float(folds[0]), float(net.heldout_std_), Z95
        checks = self._checks(X32, Y32, half_data)
        n_slope = n_slope_se = None
        if checks["half"] is not None:
            n_slope, n_slope_se = mean_std_err(checks["single"] - checks["half"])
        gap_mean, gap_se = mean_std_err(checks["gap"])
        bound = "infonce" if self.loss == "infonce" else "dv"
        limit = bound_limit(bound, len(X32), int(net.n_negatives))
        diverged = bool(net.diverged_) or bool(checks.get("half_diverged"))
        flags = flag(
            estimate=mi,
            limit=limit,
            n_slope=n_slope,
            n_slope_se=n_slope_se,
            gap=gap_mean,
            gap_se=gap_se,
            diverged=diverged,
        )
        # The held-out estimate is a lower bound. Its shortfall below the MI is
        # estimated twice -- the rise from half to all the data (a 1/N law) and
        # half the critics' excess on their training rows (a fitted model's
        # held-out pessimism mirrors its training optimism, as in Akaike's
        # criterion) -- and the larger is added to the estimate and to the
        # interval's upper end. MI is >= 0.
        # The correction never takes the estimate past what N samples can
        # certify (log N for DV): on tiny or degenerate data the training excess
        # can be huge, and an estimate beyond the limit would be a guess.
        shortfall = max(n_slope or 0.0, gap_mean / 2, 0.0)
        shortfall = min(shortfall, max(limit - mi, 0.0))
        low, high = lower_bound_interval(mi, se, t, shortfall)
        heldout, mi = mi, mi + shortfall  # the bias-corrected estimate

        def units(v):
            return None if v is None else to_units(v, self.units)

        self.mi_ = float(units(mi))
        self.mi_std_ = float(units(se))
        self.mi_ci_ = (float(units(low)), float(units(high)))
        self.diagnostics_ = {
            "flags": flags,
            "heldout_mi": float(units(heldout)),
            "shortfall": float(units(shortfall)),
            "fold_mi": units(np.asarray(folds, dtype=float)).tolist(),
            "single_critic_mi": float(units(checks["single"].mean())),
            "half_data_mi": (
                None if checks["half"] is None else float(units(checks["half"].mean()))
            ),
            "n_slope": units(n_slope),
            "train_mi": float(units(checks["trained"].mean())),
            "train_gap": float(units(gap_mean)),
            "bound_limit": float(units(limit)),
            "n_epochs": self.n_epochs_,
        }
        details = {
            "near_bound_limit": (
                f"{self.mi_:.3g} {self.units} against about "
                f"{self.diagnostics_['bound_limit']:.3g} certifiable"
            ),
            "train_heldout_gap": f"{units(gap_mean):.3g} {self.units} higher",
        }
        if n_slope is not None:
            details["not_converged_in_n"] = (
                f"half the data gives {units(n_slope):.3g} {self.units} less"
            )
        self._flag_details = details

    def _warn(self, stacklevel: int) -> None:
        """Warn about the flags of the last fit; ``stacklevel`` counts from the
        public method that calls this one."""
        flags = self.diagnostics_["flags"]
        warn_flags(type(self).__name__, flags, self._flag_details, stacklevel + 1)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> MINEEstimator:
        """Train the critics on (X, y); estimate ``mi_``, ``mi_ci_`` and flags.

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
        self._warn(stacklevel=3)  # fit <- scikit-learn's _fit_context <- caller
        return self

    def partial_fit(self, X: Any, y: Any) -> MINEEstimator:
        """Train one more epoch on (X, y) (the first call initialises the critics).

        The best of the starting parameters and the new epoch (by the selection
        rows) is kept and ``mi_``, ``mi_ci_`` are re-estimated on the report rows,
        in ``units`` (without the half-data convergence check).

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
        self._warn(stacklevel=2)
        return self

    # ------------------------------------------------------------------ scoring
    def score(self, X: Any, y: Any) -> float:
        """MI estimate on (X, y) with the averaged critic, in ``units``.

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
