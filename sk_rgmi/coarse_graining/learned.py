"""The learned coarse-graining: :class:`MIMaximizingCoarseGrainer`."""

from __future__ import annotations

import math
import numbers
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._history import history_rows
from .._neural import NEURAL_CONSTRAINTS
from .._random import check_seed_sequence, seed_int, stream
from .._validation import to_units, validate_pair
from ..nn.callbacks import (
    AlternatingSchedule,
    FilterHistory,
    TemperatureAnnealing,
    normalize_filters,
)
from ..nn.critics import make_critic
from ..nn.data import HeldOutSplit
from ..nn.evaluation import estimate_mi
from ..nn.layers import CoarseGrainedCritic, LinearCoarse, RelaxedBinaryCoarse
from ..nn.net import MINENet
from ..nn.normalization import NORMALIZERS, ZScore, fit_normalizer
from ..plugin import PluginMIEstimator
from ..reliability import Z95, bound_limit, flag, lower_bound_interval, warn_flags
from ._common import _plugin_mi, second_block

__all__ = ["MIMaximizingCoarseGrainer"]


class MIMaximizingCoarseGrainer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Learn linear coarse-graining filters that maximise mutual information.

    For blocks ``X`` (rows: flattened fine variables, e.g. the spins of a 2×2 block)
    and a second variable ``y``, learns filters ``Λ`` (``n_components × n_features``)
    so that the coarse variables ``H = coarse(X)`` keep as much mutual information as
    possible:

    * ``symmetric=True`` (the original notebook's set-up): ``y`` is a neighbouring
      block of the same
      shape, coarse-grained with the same ``Λ``; the objective is
      ``I(coarse(X) : coarse(y))``.
    * ``symmetric=False`` (real-space mutual information, RSMI): ``y`` is the raw
      environment; the objective is ``I(coarse(X) : y)``.

    The MI objective, the critic and the training loop are the MINE estimator's
    (:class:`sk_rgmi.nn.MINENet`): the coarse layer is put in front of the
    critic (:class:`sk_rgmi.nn.layers.CoarseGrainedCritic`) and trained with it.

    *Binary vs. continuous output.* ``output="binary"`` (default, the RSMI choice):
    each coarse variable is a stochastic binary unit
    ``h = 1[Λx + b + logistic noise > 0]``, trained through its
    binary Concrete (Gumbel-sigmoid) relaxation with a temperature annealed
    geometrically from ``temperature[0]`` to ``temperature[1]``; ``transform`` returns
    the hard deterministic code ``1[Λx + b > 0]`` (0/1). A unit carries at most
    ``ln 2`` nats, so the objective prefers some filters to others.

    ``output="continuous"``: the original notebook's real linear map ``h = Λx``. **It is
    degenerate**: for binary (or any discrete) input a generic real ``Λ`` is
    one-to-one on the observed states, so ``I(Λx : y) = I(x : y)`` whatever the
    filter -- MI cannot single out a coarse-graining, and the learned filters (mixed
    signs in the original notebook) are arbitrary. It is kept to reproduce that study
    and for
    continuous data.

    The input need not be binary: a linear filter with a binary unit is defined for
    real features. (The exact search :func:`exhaustive_binary_coarse_graining` and
    ``BlockCoarseGrainer("majority")`` do need binary data.)

    Parameters
    ----------
    n_components : int, default=1
        Number of coarse variables (rows of ``Λ``); ``1 ≤ n_components ≤ n_features``.
    symmetric : bool, default=True
        Coarse-grain ``y`` with the same filters (``y`` must then have ``X``'s number
        of features). ``False``: ``y`` is the raw environment (RSMI).
    output : {"binary", "continuous"}, default="binary"
        Binary stochastic units (hard codes at transform) or the real linear map.
    temperature : tuple (start, end) or float, default=(0.75, 0.1)
        Relaxation temperature, annealed geometrically over ``max_epochs`` (binary
        output only). RSMI's values.
    critic : {"concat", "two-branch", "separable"} or callable, default="concat"
        MI critic, as for :class:`~sk_rgmi.MINEEstimator` (the residual concat
        critic finds the block-spin filter more reliably than the two-branch one:
        the documentation's page on defaults).
    hidden_size : int, default=32
        Width of the critic.
    loss : {"mine", "mine_biased", "fdiv", "infonce", "smile"}, default="mine"
        Variational bound maximised (see :mod:`sk_rgmi.nn.bounds`). The trainer
        selects the best epoch with a Donsker–Varadhan estimate, which is only
        meaningful for critics trained with a DV-type bound: with ``"infonce"``
        (critic defined up to a function of ``x``) that selection is arbitrary.
    lr : float, default=5e-3
        Adam learning rate of the critic (RSMI-NE's range is 5e-3–9e-3).
    coarse_lr : float or None, default=3e-2
        Learning rate of the filters (a separate parameter group); None: ``lr``.
    lr_schedule : dict or None, default=None
        ``{"step_size": s, "gamma": g}``: multiply every learning rate by ``g``
        every ``s`` epochs (StepLR, as for :class:`~sk_rgmi.MINEEstimator`).
    batch_size : int, default=256
        Minibatch size (clamped to the number of training samples). The filters
        need many small steps while the relaxation is hot.
    max_epochs : int, default=30
        Training epochs; the temperature schedule spans them (no early stopping:
        the schedule must run its course; the best epoch is restored).
    schedule : {"joint", "alternating"}, default="joint"
        ``"joint"``: filters and critic trained together by one optimiser.
        ``"alternating"``: the original notebook's schedule, ``critic_steps``
        critic-only epochs
        then one filter-only epoch (:class:`sk_rgmi.nn.callbacks.AlternatingSchedule`).
    critic_steps : int, default=5
        Critic epochs per filter epoch (``schedule="alternating"``).
    validation_fraction : float, default=0.2
        Fraction of the samples held out, halved into a selection part (picks the
        best epoch) and a report part (``mi_``), so the reported value is not the
        one the selection was made on.
    normalize : {"quantile", "zscore"} or None, default="quantile"
        Per-feature monotone map of the environment ``y`` (``symmetric=False``),
        learned in ``fit``, as in :class:`~sk_rgmi.MINEEstimator`: MI does not
        depend on the scale of ``y``, the critic's training does. ``X`` always
        goes through the filter's own z-score.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks passed to the skorch net.
    device : {"auto", "cpu", "cuda"} or "cuda:<index>", default="cpu"
        Torch device.
    units : {"nats", "bits"}, default="nats"
        Units of ``mi_``, ``score`` and ``history_`` MI values.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the initial weights, the relaxation noise and the batches.
    verbose : int, default=0
        skorch's epoch table when positive.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Learned filters, each normalised to unit L2 norm and a non-negative sum
        (:func:`sk_rgmi.nn.callbacks.normalize_filters`); neither changes MI.
    intercept_ : ndarray of shape (n_components,)
        Thresholds ``b`` scaled like ``components_`` (zeros for continuous output).
    mi_ : float
        Held-out MI of the learned coarse variables, in ``units``. Binary output with
        ``symmetric=True``: the count-based plug-in MI of the hard codes of the
        report part (exact up to the plug-in bias ``≈ (K - 1)² / (2 N)`` for
        ``K = 2**n_components`` states). Otherwise: the trained critic's bound
        (:func:`sk_rgmi.nn.estimate_mi`) on the report part, codes hard.
    mi_std_ : float
        Standard error of ``mi_``, in ``units``: the jackknife error of the counted
        MI (binary, symmetric), else the evaluation noise of the critic's bound on
        the report rows. One fit: the spread between fits (initialisation, split)
        is not in it; refit with other ``random_state`` values to see it.
    mi_ci_ : tuple of two floats
        95% interval, in ``units``: ``mi_ ± 1.96 mi_std_``; for the critic's bound,
        the upper end raised by half the critic's excess on its training rows (the
        held-out shortfall of a fitted critic), clipped at 0.
    diagnostics_ : dict
        ``"flags"``: reliability flags of the critic's bound (see
        :mod:`sk_rgmi.reliability`), warned as
        :class:`~sk_rgmi.exceptions.ReliabilityWarning`.
    history_ : list of dict
        Per epoch: ``train_mi``/``valid_mi`` (bounds on relaxed/hard codes), the
        ``temperature``, the normalised ``filters`` and ``intercept`` (and ``phase``
        for the alternating schedule).
    module_ : torch.nn.Module
        The trained :class:`~sk_rgmi.nn.layers.CoarseGrainedCritic`.
    y_normalizer_ : torch.nn.Module or None
        The learned map of the environment (``symmetric=False`` with
        ``normalize``), applied before the critic.
    n_features_in_ : int
        Number of features of ``X``.
    n_features_y_ : int
        Number of features of ``y``.
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    See Also
    --------
    BlockCoarseGrainer : fixed rules (mean, majority, ...).
    exhaustive_binary_coarse_graining : exact optimum of one binary unit, ≤ 4 spins.

    Notes
    -----
    In a ``Pipeline`` only ``X`` is transformed: ``make_pipeline(
    MIMaximizingCoarseGrainer(), PluginMIEstimator())`` scores ``I(coarse(X) : y)``
    with the raw ``y``. For ``I(coarse(X) : coarse(y))`` use :meth:`score` or
    :meth:`transform_pair`.

    A binary unit can settle on a poor filter: on the two-spin toy of the example
    (one spin shared, one independent) 2 of 6 seeds locked onto the independent
    spin (``mi_`` near 0 with a tight interval). Compare fits from a few
    ``random_state`` values and keep the one with the largest held-out ``mi_`` (or
    let ``GridSearchCV`` do it with ``score``).

    What it learns on 2D Ising blocks (the block-spin filter at T_c, level with the
    exact optimum over all Boolean functions; saturation near ln 2 below T_c) is
    measured in the documentation (pages on the reproduction and on defaults).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi import MIMaximizingCoarseGrainer
    >>> rng = np.random.default_rng(0)
    >>> shared = rng.integers(0, 2, size=(2000, 1))  # one spin shared by both blocks
    >>> X = np.hstack([shared, rng.integers(0, 2, size=(2000, 1))])
    >>> Y = np.hstack([shared, rng.integers(0, 2, size=(2000, 1))])
    >>> cg = MIMaximizingCoarseGrainer(max_epochs=15, random_state=1).fit(X, Y)
    >>> cg.transform(X[:3]).shape
    (3, 1)
    >>> bool(cg.mi_ > 0.6)  # close to ln 2: the shared spin was found
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **NEURAL_CONSTRAINTS,
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "symmetric": ["boolean"],
        "output": [StrOptions({"binary", "continuous"})],
        "temperature": [tuple, list, Interval(numbers.Real, 0, None, closed="neither")],
        "coarse_lr": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "schedule": [StrOptions({"joint", "alternating"})],
        "critic_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "normalize": [StrOptions(set(NORMALIZERS)), None],
    }

    def __init__(
        self,
        n_components: int = 1,
        *,
        symmetric: bool = True,
        output: str = "binary",
        temperature: tuple[float, float] | float = (0.75, 0.1),
        critic: Any = "concat",
        hidden_size: int = 32,
        loss: str = "mine",
        lr: float = 5e-3,
        coarse_lr: float | None = 3e-2,
        lr_schedule: dict | None = None,
        batch_size: int = 256,
        max_epochs: int = 30,
        schedule: str = "joint",
        critic_steps: int = 5,
        validation_fraction: float = 0.2,
        normalize: str | None = "quantile",
        callbacks: list | None = None,
        device: str = "cpu",
        units: str = "nats",
        random_state: Any = None,
        verbose: int = 0,
    ) -> None:
        self.n_components = n_components
        self.symmetric = symmetric
        self.output = output
        self.temperature = temperature
        self.critic = critic
        self.hidden_size = hidden_size
        self.loss = loss
        self.lr = lr
        self.coarse_lr = coarse_lr
        self.lr_schedule = lr_schedule
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.schedule = schedule
        self.critic_steps = critic_steps
        self.validation_fraction = validation_fraction
        self.normalize = normalize
        self.callbacks = callbacks
        self.device = device
        self.units = units
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def _fast_test_params(cls) -> dict[str, Any]:
        # scikit-learn's checks pass a 1-D y with any X: the RSMI (asymmetric) form
        # accepts that; a few short epochs keep the checks fast.
        return {
            "symmetric": False,
            "max_epochs": 2,
            "batch_size": 32,
            "hidden_size": 8,
            "random_state": 0,
        }

    # ------------------------------------------------------------------ helpers
    def _temperatures(self) -> tuple[float, float]:
        t = self.temperature
        if isinstance(t, numbers.Real):
            start = end = float(t)
        else:
            if len(t) != 2:
                raise ValueError(
                    f"temperature must be a float or a (start, end) pair, got {t!r}."
                )
            start, end = (float(v) for v in t)
        if not (start > 0 and end > 0 and math.isfinite(start) and math.isfinite(end)):
            raise ValueError(f"temperatures must be positive and finite, got {t!r}.")
        return start, end

    def _check_shapes(self, X: np.ndarray, Y: np.ndarray) -> None:
        n_features = X.shape[1]
        if self.n_components > n_features:
            raise ValueError(
                f"n_components={self.n_components} must be between 1 and "
                f"n_features={n_features}: a coarse-graining has at most as many "
                "variables as the block."
            )
        if self.symmetric and Y.shape[1] != n_features:
            raise ValueError(
                f"symmetric=True coarse-grains y with the same filters, so y must have "
                f"X's {n_features} features; got y with {Y.shape[1]}. Use "
                "symmetric=False for a raw environment y."
            )

    def _codes(self, X: np.ndarray) -> np.ndarray:
        z = X @ self.components_.T
        if self.output == "continuous":
            return z
        return (z + self.intercept_ > 0).astype(np.float64)

    def _mapped_y(self, Y: np.ndarray) -> np.ndarray:
        """``Y`` as float32, through the learned environment map (asymmetric form)."""
        Y32 = Y.astype(np.float32)
        if self.y_normalizer_ is None:
            return Y32
        with torch.no_grad():
            return self.y_normalizer_(torch.from_numpy(Y32)).numpy()

    def _mi_nats(self, X: np.ndarray, Y: np.ndarray, random_state: Any) -> float:
        """MI of the coarse variables on (X, Y): plug-in MI of the hard codes for the
        binary symmetric form, else the trained critic's bound (hard codes)."""
        if self.output == "binary" and self.symmetric:
            return _plugin_mi(self._codes(X), self._codes(Y))
        return float(
            estimate_mi(
                self.module_,
                X.astype(np.float32),
                self._mapped_y(Y),
                random_state=random_state,
            )
        )

    def _build_module(self, X: np.ndarray, Y: np.ndarray) -> CoarseGrainedCritic:
        start, _ = self._temperatures()
        n_features, k = X.shape[1], int(self.n_components)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_int(self._seed_seq, "init"))
            init_gen = torch.Generator().manual_seed(seed_int(self._seed_seq, "init"))
            if self.output == "binary":
                coarse = RelaxedBinaryCoarse(
                    n_features, k, temperature=start, generator=init_gen
                )
                noise = seed_int(self._seed_seq, "noise")
                coarse.generator = torch.Generator().manual_seed(noise)
            else:
                coarse = LinearCoarse(n_features, k, generator=init_gen)
            critic = make_critic(
                self.critic,
                k,
                k if self.symmetric else Y.shape[1],
                hidden_size=self.hidden_size,
            )
        # Standardise the filter's input with the data (both blocks for the
        # symmetric form): thresholds start at the data's centre, and the filter
        # does not depend on the scale of X.
        coarse.set_standardization(
            ZScore.from_data(np.vstack([X, Y]) if self.symmetric else X)
        )
        return CoarseGrainedCritic(coarse, critic, symmetric=self.symmetric)

    # --------------------------------------------------------------------- API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> MIMaximizingCoarseGrainer:
        """Learn the filters on ``(X, y)`` and measure ``mi_`` on held-out rows.

        One split (:class:`~sk_rgmi.nn.data.HeldOutSplit`): training rows, a
        selection part that picks the best epoch, and a report part on which
        ``mi_`` is measured.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Flattened blocks.
        y : array-like of shape (n_samples,) or (n_samples, n_features_y)
            The neighbouring block (``symmetric=True``) or the environment.

        Returns
        -------
        self
        """
        X, Y = validate_pair(self, X, y, min_samples=5)
        self._check_shapes(X, Y)
        self._temperatures()
        self.n_features_y_ = Y.shape[1]
        self._seed_seq = check_seed_sequence(self.random_state)
        # the raw environment is seen through a per-feature monotone map, as in
        # MINEEstimator: MI does not depend on the scale of y, the critic does
        self.y_normalizer_ = None
        if not self.symmetric and self.normalize is not None:
            self.y_normalizer_ = fit_normalizer(self.normalize, Y)
        self.module_ = self._build_module(X, Y)

        start, end = self._temperatures()
        callbacks: list = [("filter_history", FilterHistory())]
        if self.output == "binary":
            callbacks.append(("temperature", TemperatureAnnealing(start, end)))
        if self.schedule == "alternating":
            callbacks.append(
                ("alternating", AlternatingSchedule(critic_steps=self.critic_steps))
            )
        callbacks += list(self.callbacks or [])
        net_kwargs: dict[str, Any] = {}
        if self.coarse_lr is not None:
            net_kwargs["optimizer__param_groups"] = [
                ("coarse.*", {"lr": float(self.coarse_lr)})
            ]
        split = HeldOutSplit(
            select_fraction=self.validation_fraction / 2,
            report_fraction=self.validation_fraction / 2,
            random_state=stream(self._seed_seq, "split"),
        )
        n_train = split.sizes(len(X))[0]
        net = MINENet(
            self.module_,
            loss=self.loss,
            lr=self.lr,
            lr_schedule=self.lr_schedule,
            batch_size=max(2, min(int(self.batch_size), n_train)),
            max_epochs=self.max_epochs,
            train_split=split,
            early_stopping=None,
            callbacks=callbacks,
            device=self.device,
            random_state=stream(self._seed_seq, "net"),
            verbose=self.verbose,
            **net_kwargs,
        )
        net.fit(X.astype(np.float32), self._mapped_y(Y))
        self.module_ = net.module_.eval()

        w, b = self.module_.coarse.effective_filters()
        self.components_, self.intercept_ = normalize_filters(
            w.cpu().double().numpy(), b.cpu().double().numpy()
        )
        if self.output == "continuous":
            # An offset never changes the MI of a real code; transform is X Λᵀ.
            self.intercept_ = np.zeros(int(self.n_components))
        self._n_features_out = int(self.n_components)
        self.history_ = history_rows(net.history, self.units)
        self._report_mi(net, X, Y)
        return self

    def _report_mi(self, net: MINENet, X: np.ndarray, Y: np.ndarray) -> None:
        """Set ``mi_``, ``mi_std_``, ``mi_ci_`` and ``diagnostics_`` (report rows)."""
        report = net.report_["index"][0].cpu().numpy()
        if self.output == "binary" and self.symmetric:
            # count-based: the plug-in MI of the hard codes, its jackknife error
            counted = PluginMIEstimator(n_bins=None).fit(
                self._codes(X[report]), self._codes(Y[report])
            )
            mi, se, shortfall, flags = counted.mi_plugin_, counted.mi_std_, 0.0, []
        else:
            # the critic's held-out bound; its shortfall below the truth is
            # estimated as half its excess on training rows (see MINEEstimator)
            _, rows = net.check_views(X.astype(np.float32), self._mapped_y(Y))
            on_train, _ = net.evaluate(rows, stream="report")
            mi, se = net.heldout_mi_, net.heldout_std_
            shortfall = float(on_train[0]) - mi
            flags = flag(
                estimate=mi,
                limit=bound_limit("dv", len(report)),
                gap=shortfall,
                diverged=bool(net.diverged_),
            )
            shortfall /= 2
        low, high = lower_bound_interval(mi, se, Z95, shortfall)
        self.mi_ = float(to_units(mi, self.units))
        self.mi_std_ = float(to_units(se, self.units))
        self.mi_ci_ = (
            float(to_units(low, self.units)),
            float(to_units(high, self.units)),
        )
        self.diagnostics_ = {"flags": flags}
        warn_flags(type(self).__name__, flags, {}, stacklevel=4)

    def transform(self, X: Any) -> np.ndarray:
        """Coarse-grain ``X``: hard binary codes (0/1) or ``X Λᵀ``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            Binary output: ``1[Λx + b > 0]`` as floats 0/1 (deterministic).
            Continuous output: ``Λx``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self._codes(X)

    def transform_pair(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Coarse-grain two blocks with the same filters.

        Returns ``(transform(X), transform(y))``.

        ``y`` must be a block of ``X``'s shape (its DataFrame column names, if any,
        may differ: it is another block). A ``Pipeline`` transforms ``X`` only; use
        this to feed two coarse-grained blocks onward.
        """
        check_is_fitted(self)
        return self.transform(X), self._codes(second_block(self, y))

    def score(self, X: Any, y: Any) -> float:
        """Held-out MI of the coarse variables on ``(X, y)``, in ``units``.

        Computed as ``mi_`` is (plug-in MI of the hard codes for binary symmetric
        output, the critic's bound otherwise), so ``GridSearchCV`` maximises it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_features_y)

        Returns
        -------
        float
            MI in ``units`` (nats by default).
        """
        check_is_fitted(self)
        X, Y = validate_pair(self, X, y, reset=False)
        mi = self._mi_nats(X, Y, stream(self._seed_seq, "score"))
        return float(to_units(mi, self.units))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        return tags
