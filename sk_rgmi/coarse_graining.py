"""Coarse-graining of lattice blocks: fixed rules, learned MI-maximising, exact optimum.

* :class:`BlockCoarseGrainer` -- fixed block rules (``"mean"``, ``"ring-mean"``,
  ``"majority"``, ``"decimate"``) as a stateless transformer on flattened blocks.
* :class:`MIMaximizingCoarseGrainer` -- learns linear filters ``Λ`` whose binary
  (RSMI) or real coarse variables keep as much mutual information as possible, trained
  on the MINE estimator's training path.
* :func:`exhaustive_binary_coarse_graining` -- scores every Boolean function of a
  block of at most four binary variables: the exact optimum the learned coarse-grainer
  is judged against.

Coarse-graining ``y`` too
-------------------------
A scikit-learn ``Pipeline`` transforms ``X`` only: in
``make_pipeline(BlockCoarseGrainer("mean"), PluginMIEstimator())`` the estimator sees
``(mean(X), y)``. To measure the MI between two *coarse-grained* blocks (the seed's
frozen rows), coarse-grain ``y`` with the same transformer -- ``transform_pair(X, y)``
returns both -- and pass it as the target: ``pipe.fit(X, cg.transform(Y))``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, ClassVar

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._counting import encode_rows, mi_from_codes, mi_from_contingency
from ._validation import check_seed_sequence, check_units, to_units, validate_pair

__all__ = [
    "BlockCoarseGrainer",
    "MIMaximizingCoarseGrainer",
    "exhaustive_binary_coarse_graining",
]


# --------------------------------------------------------------------------- helpers
def _binary_01(X: np.ndarray, what: str) -> np.ndarray:
    """Return ``X`` as 0/1 ``int8`` if it holds 0/1 or -1/+1 spins, else raise."""
    values = np.unique(X)
    if np.all(np.isin(values, (0, 1))):
        return X.astype(np.int8)
    if np.all(np.isin(values, (-1, 1))):
        return ((X + 1) // 2).astype(np.int8)
    shown = ", ".join(f"{v:g}" for v in values[:6]) + (
        ", ..." if values.size > 6 else ""
    )
    raise ValueError(
        f"{what} requires binary data (0/1 or -1/+1 spins), got values {{{shown}}}."
    )


def _plugin_mi(A: np.ndarray, B: np.ndarray) -> float:
    """Plug-in MI (nats) between the rows of two discrete arrays."""
    a, n_a = encode_rows(A)
    b, n_b = encode_rows(B)
    return mi_from_codes(a, b, n_x=n_a, n_y=n_b)


# ------------------------------------------------------------------ fixed rules
class BlockCoarseGrainer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Fixed coarse-graining of flattened lattice blocks to one variable per block.

    Each row of ``X`` is one block of ``block_shape`` spins flattened in row-major
    (C) order; the output is one column.

    Parameters
    ----------
    rule : {"mean", "ring-mean", "majority", "decimate"}, default="mean"
        ``"mean"``: the block average (the seed's frozen 2×2 coarse-graining).
        ``"ring-mean"``: the average of the block's boundary sites (for 3×3: the eight
        non-centre spins, the seed's frozen 3×3 ring mean; for 2×2 it equals the mean).
        ``"majority"``: the majority spin (binary data only, 0/1 or -1/+1; returned in
        the input's coding). ``"decimate"``: the top-left spin of the block.
    block_shape : tuple of two ints or None, default=(2, 2)
        Shape ``(h, w)`` of a block; ``n_features`` must equal ``h * w``. ``None``
        treats each row as a single ``(1, n_features)`` block.
    tie_break : {"first", "random"}, default="first"
        Majority rule on blocks with an even number of sites: ``"first"`` lets the
        top-left spin decide a tie (deterministic and spin-flip symmetric);
        ``"random"`` draws the winner from ``random_state`` (fresh draws on every
        ``transform`` call, so equal rows may differ).
    random_state : int, RandomState instance or None, default=None
        Seed for ``tie_break="random"``.

    Attributes
    ----------
    n_features_in_ : int
        Number of sites per block seen in ``fit``.
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    See Also
    --------
    MIMaximizingCoarseGrainer : learns the coarse-graining that keeps the most MI.

    Notes
    -----
    In a ``Pipeline`` only ``X`` is transformed. For the MI between two coarse-grained
    blocks, coarse-grain ``y`` with the same transformer (``transform_pair``).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi import BlockCoarseGrainer
    >>> X = np.array([[1, 1, 0, 1], [0, 0, 1, 0], [1, 0, 0, 1]])
    >>> BlockCoarseGrainer("mean").fit_transform(X).ravel().tolist()
    [0.75, 0.25, 0.5]
    >>> BlockCoarseGrainer("majority").fit_transform(X).ravel().tolist()
    [1, 0, 1]
    >>> ring = BlockCoarseGrainer("ring-mean", block_shape=(3, 3))
    >>> ring.fit_transform(np.eye(3).reshape(1, 9)).ravel().tolist()
    [0.25]
    """

    _parameter_constraints: ClassVar[dict] = {
        "rule": [StrOptions({"mean", "ring-mean", "majority", "decimate"})],
        "block_shape": [tuple, list, None],
        "tie_break": [StrOptions({"first", "random"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        rule: str = "mean",
        *,
        block_shape: tuple[int, int] | None = (2, 2),
        tie_break: str = "first",
        random_state: Any = None,
    ) -> None:
        self.rule = rule
        self.block_shape = block_shape
        self.tie_break = tie_break
        self.random_state = random_state

    @classmethod
    def _fast_test_params(cls) -> dict[str, Any]:
        # scikit-learn's checks feed any number of features: one block per row.
        return {"block_shape": None}

    def _shape(self, n_features: int) -> tuple[int, int]:
        if self.block_shape is None:
            return (1, n_features)
        shape = tuple(self.block_shape)
        if len(shape) != 2 or not all(
            isinstance(s, numbers.Integral) and s >= 1 for s in shape
        ):
            raise ValueError(
                f"block_shape must be two positive integers (h, w) or None, got "
                f"{self.block_shape!r}."
            )
        h, w = int(shape[0]), int(shape[1])
        if h * w != n_features:
            raise ValueError(
                f"block_shape {(h, w)} has {h * w} sites but X has {n_features} "
                "features: each row must be one flattened block."
            )
        return h, w

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> BlockCoarseGrainer:
        """Check the block shape against ``X`` (stateless otherwise).

        Parameters
        ----------
        X : array-like of shape (n_samples, h * w)
        y : ignored

        Returns
        -------
        self
        """
        X = validate_data(self, X)
        self._shape(X.shape[1])
        if self.rule == "majority":
            _binary_01(X, "rule='majority'")
        self._n_features_out = 1
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Coarse-grain each block (row) of ``X`` to one value.

        Parameters
        ----------
        X : array-like of shape (n_samples, h * w)

        Returns
        -------
        ndarray of shape (n_samples, 1)
            Float means for ``"mean"``/``"ring-mean"``; the input's values for
            ``"majority"`` and ``"decimate"``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        h, w = self._shape(X.shape[1])
        if self.rule == "mean":
            return X.mean(axis=1, keepdims=True)
        if self.rule == "ring-mean":
            mask = np.ones((h, w), dtype=bool)
            mask[1:-1, 1:-1] = False
            return X[:, mask.ravel()].mean(axis=1, keepdims=True)
        if self.rule == "decimate":
            return X[:, :1].copy()
        # majority
        bits = _binary_01(X, "rule='majority'")
        n = X.shape[1]
        ones = bits.sum(axis=1, dtype=np.int64)
        out = (2 * ones > n).astype(np.int8)
        tie = 2 * ones == n
        if tie.any():
            if self.tie_break == "first":
                out[tie] = bits[tie, 0]
            else:
                rng = check_random_state(self.random_state)
                out[tie] = rng.randint(0, 2, size=int(tie.sum()))
        lo = -1 if np.any(X < 0) else 0
        return np.where(out == 1, 1, lo).astype(X.dtype).reshape(-1, 1)

    def transform_pair(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Coarse-grain two blocks of the same shape: ``(transform(X), transform(y))``.

        A ``Pipeline`` transforms ``X`` only; use this (or ``transform(y)`` as the
        target) to measure the MI between two coarse-grained blocks.
        """
        return self.transform(X), self.transform(y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags


# ----------------------------------------------------------------- exact optimum
def exhaustive_binary_coarse_graining(
    X: Any, y: Any, *, symmetric: bool = True, units: str = "nats"
) -> Bunch:
    """Score every Boolean function of a small binary block by count-based MI.

    For a block of ``d ≤ 4`` binary variables there are ``2**(2**d)`` Boolean
    functions ``f`` (65,536 for a 2×2 block). Each is scored by the plug-in MI
    ``I(f(X) : f(y))`` (``symmetric=True``: ``y`` is a block of the same shape
    coarse-grained by the same ``f``) or ``I(f(X) : y)`` (``symmetric=False``: ``y`` is
    any discrete variable, e.g. the raw environment). All functions are scored at once
    from the joint count table ``C`` of (X state, y state): with ``F`` the
    ``(2**(2**d), 2**d)`` 0/1 matrix of truth tables, the coarse joint counts are
    ``n11 = ((F @ C) * F).sum(1)`` and the marginals ``F @ C.sum(1)``, ``F @ C.sum(0)``.

    This is the ground truth for :class:`MIMaximizingCoarseGrainer` with one binary
    unit. Plug-in MI is biased upwards by about ``(K_x - 1)(K_y - 1) / (2 N)`` nats.

    Parameters
    ----------
    X : array-like of shape (n_samples, d), d ≤ 4
        Binary blocks (0/1 or -1/+1), flattened.
    y : array-like of shape (n_samples, d) or (n_samples, n_y)
        ``symmetric=True``: binary blocks like ``X``. ``symmetric=False``: any discrete
        values (each distinct row is one state).
    symmetric : bool, default=True
        Coarse-grain ``y`` with the same function.
    units : {"nats", "bits"}, default="nats"
        Units of the returned MI values.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``mi`` : ndarray of shape (2**(2**d),) -- MI of every function, in ``units``;
        function ``k`` has truth table ``(k >> a) & 1`` for input state ``a``; the two
        constant functions (``k = 0`` and the last) score 0.
        ``states`` : ndarray (2**d, d) -- input state ``a`` as spins (0/1), the first
        feature the most significant bit.
        ``best_index`` : int -- the best non-constant function, the one of a
        complementary pair ``f``, ``1 - f`` (equal MI) with ``f(0...0) = 0``.
        ``best_truth_table`` : ndarray (2**d,) of 0/1.
        ``best_mi`` : float, in ``units``.
        ``best_truth_tables`` : ndarray (k, 2**d) -- every function within 1e-12 nats
        of the best (complements included).

    Raises
    ------
    ValueError
        If ``X`` is not binary or has more than four features, if ``symmetric=True``
        and ``y`` is not a binary block of the same size, or on bad shapes/NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi import exhaustive_binary_coarse_graining
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 2, size=(500, 2))
    >>> Y = X.copy()
    >>> Y[:, 1] = rng.integers(0, 2, size=500)  # only the first spin is shared
    >>> res = exhaustive_binary_coarse_graining(X, Y)
    >>> res.best_truth_table.tolist()  # f(x) = x_0 over states 00, 01, 10, 11
    [0, 0, 1, 1]
    >>> round(res.best_mi, 2)  # ln 2 nats, less the sample's slight imbalance
    0.69
    """
    check_units(units)
    X, Y = validate_pair(_ExhaustiveSearch(), X, y, dtype="numeric", min_samples=2)
    d = X.shape[1]
    if d > 4:
        raise ValueError(
            f"exhaustive search covers blocks of at most 4 binary variables "
            f"(2**16 functions); X has {d} features."
        )
    Xb = _binary_01(X, "exhaustive_binary_coarse_graining")
    n_states = 2**d
    weights = 1 << np.arange(d - 1, -1, -1)
    a = Xb.astype(np.int64) @ weights
    if symmetric:
        if Y.shape[1] != d:
            raise ValueError(
                f"symmetric=True coarse-grains y with the same function, so y must "
                f"have X's {d} features; got {Y.shape[1]}."
            )
        b = (
            _binary_01(Y, "exhaustive_binary_coarse_graining (y)").astype(np.int64)
            @ weights
        )
        n_y = n_states
    else:
        b, n_y = encode_rows(Y)
    C = np.zeros((n_states, n_y))
    np.add.at(C, (a, b), 1.0)
    n = C.sum()

    n_funcs = 2**n_states
    mi = np.empty(n_funcs)
    chunk = max(1, min(n_funcs, 2**22 // max(n_y, n_states)))
    bits = np.arange(n_states)
    row_x = C.sum(axis=1)
    for start in range(0, n_funcs, chunk):
        k = np.arange(start, min(start + chunk, n_funcs))
        F = ((k[:, None] >> bits) & 1).astype(np.float64)
        n1x = F @ row_x  # f(X) = 1
        if symmetric:
            n11 = ((F @ C) * F).sum(axis=1)
            n1y = F @ C.sum(axis=0)  # f(Y) = 1
            table = np.stack(
                [n11, n1x - n11, n1y - n11, n - n1x - n1y + n11], axis=1
            ).reshape(-1, 2, 2)
        else:
            joint1 = F @ C  # (f(X) = 1, y state)
            table = np.stack([joint1, C.sum(axis=0)[None, :] - joint1], axis=1)
        mi[start : start + k.size] = mi_from_contingency(table)
    mi[0] = mi[-1] = 0.0
    candidates = mi.copy()
    candidates[0] = candidates[-1] = -np.inf
    best_val = candidates.max()
    ties = np.flatnonzero(candidates >= best_val - 1e-12)
    canonical = ties[(ties & 1) == 0]  # f(state 0) = 0
    best_index = int(canonical[0] if canonical.size else ties[0])
    states = ((np.arange(n_states)[:, None] >> np.arange(d - 1, -1, -1)) & 1).astype(
        np.int8
    )
    tables = ((ties[:, None] >> bits) & 1).astype(np.int8)
    return Bunch(
        mi=to_units(mi, units),
        states=states,
        best_index=best_index,
        best_truth_table=((best_index >> bits) & 1).astype(np.int8),
        best_mi=float(to_units(best_val, units)),
        best_truth_tables=tables,
    )


class _ExhaustiveSearch(BaseEstimator):
    """Stand-in estimator so the shared validator can name the function in errors."""

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        return "exhaustive_binary_coarse_graining"


# ------------------------------------------------------------ learned coarse-graining
def _seed_ints(random_state: Any, n: int) -> list[int]:
    """``n`` independent seeds from ``random_state`` (never numpy's global state)."""
    seq = check_seed_sequence(random_state)
    return [int(v >> 1) for v in seq.generate_state(n, np.uint64)]


class MIMaximizingCoarseGrainer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Learn linear coarse-graining filters that maximise mutual information.

    For blocks ``X`` (rows: flattened fine variables, e.g. the spins of a 2×2 block)
    and a second variable ``y``, learns filters ``Λ`` (``n_components × n_features``)
    so that the coarse variables ``H = coarse(X)`` keep as much mutual information as
    possible:

    * ``symmetric=True`` (the seed's set-up): ``y`` is a neighbouring block of the same
      shape, coarse-grained with the same ``Λ``; the objective is
      ``I(coarse(X) : coarse(y))``.
    * ``symmetric=False`` (real-space mutual information, RSMI): ``y`` is the raw
      environment; the objective is ``I(coarse(X) : y)``.

    The MI objective, the critic and the training loop are the MINE estimator's
    (:func:`sk_rgmi.nn.training.make_mi_net`): the coarse layer is put in front of the
    critic (:class:`sk_rgmi.nn.layers.CoarseGrainedCritic`) and trained with it.

    Binary vs. continuous output
    ----------------------------
    ``output="binary"`` (default, the RSMI choice): each coarse variable is a
    stochastic binary unit ``h = 1[Λx + b + logistic noise > 0]``, trained through its
    binary Concrete (Gumbel-sigmoid) relaxation with a temperature annealed
    geometrically from ``temperature[0]`` to ``temperature[1]``; ``transform`` returns
    the hard deterministic code ``1[Λx + b > 0]`` (0/1). A unit carries at most
    ``ln 2`` nats, so the objective prefers some filters to others.

    ``output="continuous"``: the seed notebook's real linear map ``h = Λx``. **It is
    degenerate**: for binary (or any discrete) input a generic real ``Λ`` is
    one-to-one on the observed states, so ``I(Λx : y) = I(x : y)`` whatever the
    filter -- MI cannot single out a coarse-graining, and the learned filters (mixed
    signs in the seed) are arbitrary. It is kept to reproduce the seed and for
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
        MI critic, as for :class:`~sk_rgmi.MINEEstimator`. On critical 2×2 pairs
        the residual concat critic (the seed's "Net 2") led all of 18 measured
        seeds to the uniform filter (cosine ≥ 0.97); with the two-branch critic
        ("Net 1") one seed in five collapsed to a mixed-sign filter with no MI.
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
        Measured on critical 2×2 pairs: with 3e-2 every seed reached the uniform
        filter, with ``lr`` for both one seed in four stopped at cosine 0.89.
    lr_schedule : dict or None, default=None
        ``{"step_size": s, "gamma": g}``: multiply every learning rate by ``g``
        every ``s`` epochs (StepLR, as for :class:`~sk_rgmi.MINEEstimator`).
    batch_size : int, default=256
        Minibatch size (clamped to the number of training samples). Larger batches
        with fewer epochs (512, 15 epochs on 60k pairs) trapped 3 seeds in 4 in
        mixed-sign filters: the filters need many small steps while hot.
    max_epochs : int, default=30
        Training epochs; the temperature schedule spans them (no early stopping:
        the schedule must run its course; the best epoch is restored).
    schedule : {"joint", "alternating"}, default="joint"
        ``"joint"``: filters and critic trained together by one optimiser.
        ``"alternating"``: the seed's schedule, ``critic_steps`` critic-only epochs
        then one filter-only epoch (:class:`sk_rgmi.nn.callbacks.AlternatingSchedule`).
    critic_steps : int, default=5
        Critic epochs per filter epoch (``schedule="alternating"``).
    validation_fraction : float, default=0.2
        Fraction of the samples held out to report ``mi_``; the same fraction of the
        rest is the trainer's validation split (best-epoch selection), so the
        reported value is not the one the selection was made on.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks passed to the skorch net.
    device : str, default="cpu"
        Torch device (``"auto"``, ``"cpu"``, ``"cuda"``).
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
        held-out split (exact up to the plug-in bias ``≈ (K - 1)² / (2 N)`` for
        ``K = 2**n_components`` states). Otherwise: the trained critic's bound
        (:func:`sk_rgmi.nn.training.estimate_mi`) on the held-out split, codes hard.
    history_ : list of dict
        Per epoch: ``train_mi``/``valid_mi`` (bounds on relaxed/hard codes), the
        ``temperature``, the normalised ``filters`` and ``intercept`` (and ``phase``
        for the alternating schedule).
    module_ : torch.nn.Module
        The trained :class:`~sk_rgmi.nn.layers.CoarseGrainedCritic`.
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

    Measured on 2D Ising 2×2 neighbouring block pairs (``symmetric=True``, 20,000
    training pairs from 400 L=64 Wolff lattices, scored on 200,000 spin-flip
    symmetrised pairs; see ``tests/test_coarse_graining.py``):

    * at T_c one binary unit learns the uniform "block spin" filter (cosine to
      uniform 0.994–1.000 over 10 seeds), coarse MI 97.4–100% of the exact optimum
      over all 2^16 Boolean functions (:func:`exhaustive_binary_coarse_graining`),
      ≈0.28 of the fine-grained 0.43 nats. The optimum is the majority rule with
      all ties (two up-spins) sent to one side. The learned threshold sits near
      two up-spins -- the spin-flip symmetric point, where the gradient that would
      push the ties to one side vanishes -- so in about half of the runs small
      weight differences split the ties; that costs the missing 0–2.6%;
    * below T_c (T = 1.5) the MI saturates near ln 2 (0.68 nats); in the
      paramagnet (T = 8–10) it vanishes (< 0.002 nats);
    * two binary units keep 0.348–0.354 nats over 3 seeds -- as much as the
      symmetric three-level block magnetisation code (0.349; one unit: 0.284;
      the block sum 0.387; fine-grained: 0.433). The two filters are not a
      symmetric pair: each is a threshold on a different, partly overlapping
      subset of the block (one weight small or negative), e.g.
      ``[[0.08, 0.47, 0.39, 0.79], [0.67, 0.35, 0.60, -0.27]]``; which split is
      found varies with the seed, so the two-unit filters are far less
      interpretable than the one-unit block spin.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi import MIMaximizingCoarseGrainer
    >>> rng = np.random.default_rng(0)
    >>> shared = rng.integers(0, 2, size=(600, 1))  # one spin shared by both blocks
    >>> X = np.hstack([shared, rng.integers(0, 2, size=(600, 1))])
    >>> Y = np.hstack([shared, rng.integers(0, 2, size=(600, 1))])
    >>> cg = MIMaximizingCoarseGrainer(max_epochs=15, random_state=0).fit(X, Y)
    >>> cg.transform(X[:3]).shape
    (3, 1)
    >>> bool(cg.mi_ > 0.6)  # close to ln 2: the shared spin was found
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "symmetric": ["boolean"],
        "output": [StrOptions({"binary", "continuous"})],
        "temperature": [tuple, list, Interval(numbers.Real, 0, None, closed="neither")],
        "critic": [str, callable],
        "hidden_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "loss": [str],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "coarse_lr": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "lr_schedule": [dict, None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "schedule": [StrOptions({"joint", "alternating"})],
        "critic_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "callbacks": [list, None],
        "device": "no_validation",
        "units": [StrOptions({"nats", "bits"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
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
        callbacks: list | None = None,
        device: Any = "cpu",
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

    def _heldout_mi_nats(self, X: np.ndarray, Y: np.ndarray, seed: int) -> float:
        if self.output == "binary" and self.symmetric:
            return _plugin_mi(self._codes(X), self._codes(Y))
        from .nn.training import estimate_mi

        module = self.module_
        module.eval()
        return float(
            estimate_mi(
                module,
                X.astype(np.float32),
                Y.astype(np.float32),
                random_state=seed,
            )
        )

    def _batch_size(self, n: int) -> int:
        return max(2, min(int(self.batch_size), n))

    # --------------------------------------------------------------------- API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> MIMaximizingCoarseGrainer:
        """Learn the filters on ``(X, y)`` and measure ``mi_`` on a held-out split.

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
        import torch

        from .nn.callbacks import (
            AlternatingSchedule,
            FilterHistory,
            TemperatureAnnealing,
            normalize_filters,
        )
        from .nn.critics import make_critic
        from .nn.layers import CoarseGrainedCritic, LinearCoarse, RelaxedBinaryCoarse
        from .nn.training import make_mi_net

        X, Y = validate_pair(self, X, y, min_samples=5)
        self._check_shapes(X, Y)
        self.n_features_y_ = Y.shape[1]
        start, end = self._temperatures()
        seed_split, seed_init, seed_noise, seed_train, seed_eval = _seed_ints(
            self.random_state, 5
        )

        n = X.shape[0]
        n_hold = min(max(2, round(self.validation_fraction * n)), n - 3)
        perm = np.random.default_rng(seed_split).permutation(n)
        hold, train = np.sort(perm[:n_hold]), np.sort(perm[n_hold:])
        Xf, Yf = X[train].astype(np.float32), Y[train].astype(np.float32)
        # The trainer splits its data again: training / best-epoch selection (and a
        # report half it estimates on; mi_ is measured on our own held-out split).
        n_valid = round(self.validation_fraction * len(train))
        net_fraction = self.validation_fraction if n_valid >= 4 else None
        n_train_net = len(train) - (n_valid if net_fraction else 0)

        n_features, k = X.shape[1], int(self.n_components)
        noise_gen = torch.Generator().manual_seed(seed_noise)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed_init)
            init_gen = torch.Generator().manual_seed(seed_init)
            if self.output == "binary":
                coarse = RelaxedBinaryCoarse(
                    n_features, k, temperature=start, generator=init_gen
                )
                coarse.generator = noise_gen
            else:
                coarse = LinearCoarse(n_features, k, generator=init_gen)
            critic = make_critic(
                self.critic,
                k,
                k if self.symmetric else self.n_features_y_,
                hidden_size=self.hidden_size,
            )
        # Standardise the filter's input with the training blocks (both blocks for
        # the symmetric set-up): thresholds start at the data's centre.
        ref = np.vstack([Xf, Yf]) if self.symmetric else Xf
        coarse.set_standardization(ref.mean(axis=0), ref.std(axis=0))
        module = CoarseGrainedCritic(coarse, critic, symmetric=self.symmetric)

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
        net = make_mi_net(
            module,
            loss=self.loss,
            lr=self.lr,
            lr_schedule=self.lr_schedule,
            batch_size=self._batch_size(n_train_net),
            max_epochs=self.max_epochs,
            validation_fraction=net_fraction,
            early_stopping=None,
            callbacks=callbacks,
            device=self.device,
            random_state=seed_train,
            verbose=self.verbose,
            **net_kwargs,
        )
        net.fit(Xf, Yf)
        module = net.module_
        module.eval()
        self.module_ = module

        w, b = module.coarse.effective_filters()
        self.components_, self.intercept_ = normalize_filters(
            w.cpu().double().numpy(), b.cpu().double().numpy()
        )
        if self.output == "continuous":
            # An offset never changes the MI of a real code; transform is X Λᵀ.
            self.intercept_ = np.zeros(k)
        self._n_features_out = k
        self.history_ = _history_rows(net.history, self.units)
        self._seed_eval = seed_eval
        self.mi_ = float(
            to_units(self._heldout_mi_nats(X[hold], Y[hold], seed_eval), self.units)
        )
        return self

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

        Requires ``symmetric=True`` data (``y`` of ``X``'s shape). A ``Pipeline``
        transforms ``X`` only; use this to feed two coarse-grained blocks onward.
        """
        check_is_fitted(self)
        Xc = self.transform(X)
        Y = np.asarray(y)
        if Y.ndim == 1 or Y.shape[1] != self.n_features_in_:
            raise ValueError(
                f"transform_pair needs y with X's {self.n_features_in_} features."
            )
        return Xc, self.transform(Y)

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
        return float(to_units(self._heldout_mi_nats(X, Y, self._seed_eval), self.units))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.non_deterministic = self.random_state is None
        return tags


def _history_rows(history: Any, units: str) -> list[dict]:
    """Per-epoch rows of a skorch history without the per-batch records."""
    rows = []
    for row in history:
        out = {key: value for key, value in row.items() if key != "batches"}
        for key in ("train_mi", "valid_mi"):
            if key in out and out[key] is not None:
                out[key] = float(to_units(out[key], units))
        rows.append(out)
    return rows
