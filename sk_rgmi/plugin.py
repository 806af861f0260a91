"""Count-based ("plug-in") mutual information of discrete or binned data."""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._counting import (
    CORRECTIONS,
    RowEncoder,
    as_integral,
    count_raw_pairs,
    mi_statistics_from_cells,
)
from ._validation import UNITS, to_units, validate_pair
from .exceptions import BinningWarning, UndersampledWarning

__all__ = ["PluginMIEstimator"]

# "auto" binning aims at about this many samples per cell of the joint grid.
_SAMPLES_PER_CELL = 5
# Fewer samples per possible joint state than this triggers UndersampledWarning.
_WARN_SAMPLES_PER_STATE = 5
# What to use instead of binning for continuous data (named in errors and warnings).
_CONTINUOUS_ESTIMATORS = (
    "sk_rgmi.KSGEstimator (k-nearest neighbours, for a few dimensions) or "
    "sk_rgmi.MINEEstimator (neural, for many dimensions)"
)


def _is_continuous_auto(col: np.ndarray, n_samples: int) -> bool:
    """Whether ``n_bins="auto"`` treats a column as continuous (and bins it).

    Floating-point columns (or object columns of numbers) that are not
    integer-valued and take more than ``sqrt(N)`` distinct values.
    """
    col = _numeric_or_none(col)
    if col is None or col.dtype.kind != "f" or as_integral(col) is not None:
        return False
    return len(np.unique(col)) > math.sqrt(n_samples)


def _numeric_or_none(col: np.ndarray) -> np.ndarray | None:
    """``col`` as a numeric array, or None for strings / booleans."""
    if col.dtype.kind in "iuf":
        return col
    if col.dtype.kind == "O":
        try:
            return col.astype(np.float64)
        except (TypeError, ValueError):
            return None
    return None


def _learn_edges(col: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    """Inner bin edges of a numeric column (``n_bins - 1`` at most, unique)."""
    col = col.astype(np.float64)
    if strategy == "quantile":
        inner = np.quantile(col, np.linspace(0, 1, n_bins + 1)[1:-1])
    else:
        lo, hi = col.min(), col.max()
        inner = np.linspace(lo, hi, n_bins + 1)[1:-1] if hi > lo else np.empty(0)
    return np.unique(inner)


class PluginMIEstimator(BaseEstimator):
    """Count-based mutual information between two discrete (or binned) variables.

    Each row of ``X`` (and of ``y``) is one joint state -- e.g. the configuration of a
    block of spins -- so the estimator measures I(X; Y) between the two blocks by
    counting how often each pair of states occurs (the "analytic" MI of the original
    notebook), with an optional bias correction. Rows are encoded to integer codes
    and counted with vectorised numpy (no loop over samples); the joint table is kept
    sparse (observed cells only), so memory is O(N + states).

    MI and entropies are in nats unless ``units="bits"``.

    Parameters
    ----------
    n_bins : "auto", int >= 2 or None, default="auto"
        Binning of numeric columns before counting, with bin edges learned in ``fit``
        and reused in ``score`` (values outside the training range fall in the end
        bins). An int bins every numeric (non-boolean) column that takes more than
        ``n_bins`` distinct values, which makes the estimator a histogram MI
        estimator whose resolution :class:`~sklearn.model_selection.GridSearchCV`
        can tune. ``"auto"`` bins only columns that look continuous (floats that are
        not integer-valued and take more than ``sqrt(N)`` distinct values) into
        ``max(2, floor((N / (5 P)) ** (1 / d)))`` bins each -- about five samples per
        cell of the joint grid -- where ``d`` is the number of such columns and ``P``
        the product of the numbers of levels of the other columns; discrete data
        (ints, bools, strings, floats such as 0/1 spins or block means with
        repeated levels) are counted exactly as they are. ``None`` never bins.
    strategy : {"quantile", "uniform"}, default="quantile"
        Bin edges at training quantiles (equal-frequency bins; invariant under
        monotone transformations of a column, which leave MI unchanged, and robust
        to outliers) or equally spaced between the training minimum and maximum.
    correction : {"jackknife", "none", "miller-madow", "chao-shen", "grassberger"}, \
default="jackknife"
        Bias correction of the three entropies, ``mi_ = entropy_x_ + entropy_y_ -
        entropy_xy_``. The plug-in value (``"none"``, what the original notebook and
        :func:`sklearn.metrics.mutual_info_score` compute) is biased upwards by about
        ``(K_x - 1)(K_y - 1) / (2 N)`` nats. The default, the exact leave-one-out
        jackknife, removes the leading 1/N term without assumptions on the
        distribution and is computed from the counts in O(#cells), alongside its
        standard error ``mi_std_``. ``"miller-madow"`` adds ``(K - 1) / (2 N)`` to
        each entropy (``K`` the occupied states); ``"chao-shen"`` is the
        coverage-adjusted estimator (least biased when many states are seen once);
        ``"grassberger"`` the digamma-based estimator of Grassberger (2003).
    pseudocount : float > 0, default=0.5
        Additive (Krichevsky-Trofimov) smoothing used by :meth:`score`: each cell of
        the joint table over the observed states plus one "unseen" state per variable
        gets ``pseudocount`` extra counts, so held-out samples in unseen states get a
        finite log-ratio.
    units : {"nats", "bits"}, default="nats"
        Units of ``mi_``, the entropies, ``mi_std_`` and :meth:`score`.

    Attributes
    ----------
    mi_ : float
        Estimated MI (corrected per ``correction``) in ``units``.
    mi_plugin_ : float
        Uncorrected plug-in MI in ``units`` (the original notebook's "analytic" MI).
    mi_std_ : float
        Jackknife standard error of the MI in ``units``.
    entropy_x_, entropy_y_, entropy_xy_ : float
        Marginal and joint entropies (corrected per ``correction``) in ``units``.
    n_states_x_, n_states_y_, n_states_xy_ : int
        Numbers of distinct states of X, of y and of (X, y) observed in ``fit``.
    n_samples_fit_ : int
        Number of training samples.
    n_features_in_ : int
        Number of columns of ``X``.
    n_features_y_ : int
        Number of columns of ``y`` (1 for 1-D ``y``).
    feature_names_in_ : ndarray of str
        Column names of ``X``, when ``X`` has string column names.
    bin_edges_x_, bin_edges_y_ : list of (ndarray or None)
        Inner bin edges per column (None: column counted as it is).

    See Also
    --------
    sk_rgmi.KSGEstimator : k-nearest-neighbour MI of continuous data, for a few
        dimensions.
    sk_rgmi.MINEEstimator : neural (variational) MI, for many dimensions.
    sklearn.metrics.mutual_info_score : plug-in MI of two 1-D label arrays.

    Notes
    -----
    *Too many states.* ``fit`` raises ``ValueError`` when no value ever repeats:
    each training sample is a distinct state of X *and* a distinct state of y. The
    counts then carry no information about the dependence (the plug-in MI is
    ``ln N`` whatever it is); this is what continuous data give with
    ``n_bins=None``, identifiers given as states, or far too many bins. When there
    are fewer than five samples per possible joint state
    (``N < 5 n_states_x_ n_states_y_``) ``fit`` warns with
    :class:`~sk_rgmi.exceptions.UndersampledWarning`, quoting the expected plug-in
    bias ``(K_x - 1)(K_y - 1) / (2 N)`` in nats and saying when every sample is a
    distinct state of one variable (the plug-in MI is then the entropy of the
    other, an artefact). The error is kept to the hopeless case so that small or
    exploratory fits -- and scikit-learn's own conformance checks, which fit
    10-dimensional continuous data with 40 samples -- still return a number,
    flagged by the warning.

    *Continuous data.* Binning keeps only the information coarser than the bins, so
    the MI of binned data is at most that of the continuous data. With one
    continuous column per variable ``n_bins="auto"`` cuts each into about
    ``sqrt(N / 5)`` quantile bins, fine enough for a good estimate. With several
    continuous columns per variable the bins per column shrink like
    ``(N / 5) ** (1 / d)`` (``d`` continuous columns in all) and the estimate falls
    well below the MI; ``fit`` then warns with
    :class:`~sk_rgmi.exceptions.BinningWarning`, and the error above names the
    estimators made for continuous data: :class:`~sk_rgmi.KSGEstimator` for a few
    dimensions, :class:`~sk_rgmi.MINEEstimator` for many.

    *score vs mi_.* :meth:`score` is a cross-entropy (held-out) estimate,
    ``mean log p(x, y) / (p(x) p(y))`` under the smoothed fitted distribution. On
    new data it is biased low -- an unseen or rarely seen pair pays for the model's
    errors -- whereas ``mi_plugin_`` is biased high; both converge to the MI of the
    (binned) variables as N grows, and on the training data with ``pseudocount -> 0``
    ``score`` equals ``mi_plugin_``. Use ``score`` (via ``cross_val_score`` or
    ``GridSearchCV``, which maximise it) for model selection such as choosing
    ``n_bins``, and ``mi_`` with ``mi_std_`` as the estimate.

    Examples
    --------
    A binary symmetric channel with flip probability 0.1 has MI ln 2 - H(0.1) = 0.368
    nats:

    >>> import numpy as np
    >>> from sk_rgmi import PluginMIEstimator
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 2, size=20_000)
    >>> y = x ^ (rng.random(20_000) < 0.1)
    >>> est = PluginMIEstimator().fit(x.reshape(-1, 1), y)
    >>> print(f"{est.mi_:.3f} +- {est.mi_std_:.3f} nats")
    0.367 +- 0.005 nats
    >>> est.n_states_xy_
    4
    >>> print(f"{PluginMIEstimator(units='bits').fit(x[:, None], y).mi_:.3f} bits")
    0.530 bits

    Rows are joint states, and any labels work:

    >>> X = np.array([["up", "up"], ["up", "down"], ["down", "down"]] * 20)
    >>> Y = np.array(["a", "b", "c"] * 20)
    >>> round(PluginMIEstimator(correction="none").fit(X, Y).mi_, 6)  # ln 3
    1.098612
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_bins": [
            None,
            StrOptions({"auto"}),
            Interval(Integral, 2, None, closed="left"),
        ],
        "strategy": [StrOptions({"quantile", "uniform"})],
        "correction": [StrOptions(set(CORRECTIONS))],
        "pseudocount": [Interval(Real, 0, None, closed="neither")],
        "units": [StrOptions(set(UNITS))],
    }

    def __init__(
        self,
        *,
        n_bins: int | str | None = "auto",
        strategy: str = "quantile",
        correction: str = "jackknife",
        pseudocount: float = 0.5,
        units: str = "nats",
    ) -> None:
        self.n_bins = n_bins
        self.strategy = strategy
        self.correction = correction
        self.pseudocount = pseudocount
        self.units = units

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = False
        return tags

    # -- binning ------------------------------------------------------------

    def _fit_bins(
        self, X: np.ndarray, y: np.ndarray, integral: tuple[bool, bool]
    ) -> tuple[list[np.ndarray | None], list[np.ndarray | None], tuple[int, int], int]:
        """Learn inner bin edges for every column of X and y (None: not binned).

        ``integral`` says whether X and y are integer-valued as a whole (their
        columns are then never continuous). Returns the edges of X and of y, the
        numbers of continuous columns of X and of y that were binned, and the
        number of bins per binned column.
        """
        n, d = X.shape[0], X.shape[1]
        cols = [X[:, j] for j in range(d)] + [y[:, j] for j in range(y.shape[1])]
        edges: list[np.ndarray | None] = [None] * len(cols)
        if self.n_bins is None:
            return edges[:d], edges[d:], (0, 0), 0
        is_int = [integral[0]] * d + [integral[1]] * y.shape[1]

        def is_continuous(j: int) -> bool:
            return not is_int[j] and _is_continuous_auto(cols[j], n)

        if self.n_bins == "auto":
            binned = continuous = [j for j in range(len(cols)) if is_continuous(j)]
            n_bins = 0
            if binned:
                # about _SAMPLES_PER_CELL samples per cell of the joint grid
                other = 1.0
                for j in set(range(len(cols))) - set(binned):
                    other *= max(len(np.unique(_as_sortable(cols[j]))), 1)
                budget = n / (_SAMPLES_PER_CELL * other)
                n_bins = max(2, math.floor(budget ** (1 / len(binned)) + 1e-9))
        else:
            n_bins = int(self.n_bins)
            binned = [
                j
                for j, c in enumerate(cols)
                if (num := _numeric_or_none(c)) is not None
                and len(np.unique(num)) > n_bins
            ]
            # Continuity matters only where a side has several binned columns.
            sides = ([j for j in binned if j < d], [j for j in binned if j >= d])
            continuous = [
                j for side in sides if len(side) > 1 for j in side if is_continuous(j)
            ]
        for j in binned:
            edges[j] = _learn_edges(_numeric_or_none(cols[j]), n_bins, self.strategy)
        n_cont_x = sum(j < d for j in continuous)
        return edges[:d], edges[d:], (n_cont_x, len(continuous) - n_cont_x), n_bins

    @staticmethod
    def _apply_bins(A: np.ndarray, edges: list[np.ndarray | None]) -> np.ndarray:
        if _unbinned(edges):
            return A
        out = np.empty(A.shape, dtype=object) if A.dtype.kind not in "iuf" else None
        if out is None:
            out = A.astype(np.float64, copy=True)
        for j, e in enumerate(edges):
            if e is not None:
                col = _numeric_or_none(A[:, j])
                if col is None:
                    raise ValueError(
                        f"column {j} was binned in fit but holds non-numeric values."
                    )
                out[:, j] = np.searchsorted(e, col.astype(np.float64), side="right")
            elif out.dtype == object:
                out[:, j] = A[:, j]
        return out

    # -- estimator API ------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> PluginMIEstimator:
        """Count the joint states of (X, y) and estimate their mutual information.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_x)
            One joint state of the first variable per row; any discrete values
            (ints, bools, floats, strings), or numeric data to bin (``n_bins``).
        y : array-like of shape (n_samples,) or (n_samples, n_features_y)
            The second variable, one joint state per row.

        Returns
        -------
        self : PluginMIEstimator
            Fitted estimator; ``mi_`` holds the MI (nats unless ``units="bits"``).
        """
        X, y = validate_pair(self, X, y, dtype=None)
        self.n_features_y_ = y.shape[1]
        n = X.shape[0]
        # Integer-valued data (ints, bools, 0./1. spins) take the encoder's fast
        # path, one pass over the data; they are never "continuous" for "auto".
        self._encoder_x = RowEncoder()
        self._encoder_y = RowEncoder()
        fast_x = self._encoder_x.fit_raw_integral(X)
        fast_y = self._encoder_y.fit_raw_integral(y)
        self.bin_edges_x_, self.bin_edges_y_, n_continuous, n_bins = self._fit_bins(
            X, y, (fast_x is not None, fast_y is not None)
        )
        if fast_x is None or not _unbinned(self.bin_edges_x_):
            fast_x = self._encoder_x.fit_raw(self._apply_bins(X, self.bin_edges_x_))
        if fast_y is None or not _unbinned(self.bin_edges_y_):
            fast_y = self._encoder_y.fit_raw(self._apply_bins(y, self.bin_edges_y_))
        raw_x, radix_x = fast_x
        raw_y, radix_y = fast_y
        # Count on raw row codes; number the states from the observed cells.
        states_x, states_y, ix, iy, counts = count_raw_pairs(
            raw_x, radix_x, raw_y, radix_y
        )
        del raw_x, raw_y
        self._encoder_x.set_states(states_x)
        self._encoder_y.set_states(states_y)
        kx, ky = len(states_x), len(states_y)
        # Joint cells as sorted codes ix * ky + iy with their counts, for score.
        self._cells = ix * ky + iy
        self._cell_counts = counts
        self._counts_x = np.bincount(ix, weights=counts, minlength=kx)
        self._counts_y = np.bincount(iy, weights=counts, minlength=ky)
        kxy = len(counts)
        if kx == n and ky == n:
            if any(n_continuous):
                advice = (
                    f"Binning did not help: {n_continuous[0]} + {n_continuous[1]} "
                    f"continuous columns of X + y were cut into {n_bins} bins each, "
                    "too many dimensions for counting. For continuous data use "
                    f"{_CONTINUOUS_ESTIMATORS}, or reduce the dimension first."
                )
            else:
                advice = (
                    "For continuous data set n_bins ('auto' or a small int); "
                    "otherwise use fewer bins, coarser blocks or more samples."
                )
            raise ValueError(
                "Too many discrete states for the sample size: each of the "
                f"{n} samples is a distinct state of X and a distinct state of y "
                "(no value ever repeats), so the counts say nothing about the "
                "dependence (the plug-in MI would be ln N whatever it is). " + advice
            )
        stats = mi_statistics_from_cells(ix, iy, counts, correction=self.correction)
        if n < _WARN_SAMPLES_PER_STATE * kx * ky:
            bias = (kx - 1) * (ky - 1) / (2 * n)
            distinct = ""
            if n in (kx, ky):
                side, other = ("X", "y") if kx == n else ("y", "X")
                distinct = (
                    f"Every sample is a distinct state of {side}, so the plug-in MI "
                    f"equals H({other}) whatever the dependence. "
                )
            warnings.warn(
                f"Undersampled joint state space: {kx} x {ky} = {kx * ky} possible "
                f"(X, y) states ({kxy} observed) for N = {n} samples, fewer than "
                f"{_WARN_SAMPLES_PER_STATE} per state. The plug-in MI is biased "
                f"upwards by about (K_x - 1)(K_y - 1)/(2N) = {bias:.3g} nats "
                f"(plug-in {stats.mi_plugin:.3g} nats; correction="
                f"{self.correction!r} gives {stats.mi:.3g} +- {stats.mi_std:.2g} "
                f"nats). {distinct}Consider fewer bins, coarser blocks or more "
                "samples.",
                UndersampledWarning,
                stacklevel=3,  # past sklearn's _fit_context wrapper
            )
        if max(n_continuous) > 1:
            warnings.warn(
                f"Binned continuous data in several dimensions: {n_continuous[0]} "
                f"column(s) of X and {n_continuous[1]} of y cut into {n_bins} bins "
                "each. Binning loses the information finer than the bins, so mi_ "
                "estimates the MI of the binned variables, which is at most -- and "
                "in several dimensions typically well below -- the MI of the "
                f"continuous ones. For continuous data use {_CONTINUOUS_ESTIMATORS}.",
                BinningWarning,
                stacklevel=3,  # past sklearn's _fit_context wrapper
            )
        self.n_samples_fit_ = n
        self.n_states_x_ = kx
        self.n_states_y_ = ky
        self.n_states_xy_ = kxy
        self.mi_ = to_units(stats.mi, self.units)
        self.mi_plugin_ = to_units(stats.mi_plugin, self.units)
        self.mi_std_ = to_units(stats.mi_std, self.units)
        self.entropy_x_ = to_units(stats.entropy_x, self.units)
        self.entropy_y_ = to_units(stats.entropy_y, self.units)
        self.entropy_xy_ = to_units(stats.entropy_xy, self.units)
        return self

    def score(self, X: Any, y: Any) -> float:
        """Held-out MI estimate: mean log-ratio under the fitted, smoothed model.

        ``mean_i log p(x_i, y_i) / (p(x_i) p(y_i))`` where ``p`` is the training
        joint distribution smoothed with ``pseudocount`` over the observed states
        plus one "unseen" state per variable, and ``p(x)``, ``p(y)`` are its
        marginals. States never seen in ``fit`` map to the "unseen" state, so the
        value is always finite. Higher is better (``GridSearchCV`` maximises it).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_x)
            First variable, one joint state per row.
        y : array-like of shape (n_samples,) or (n_samples, n_features_y)
            Second variable.

        Returns
        -------
        float
            Held-out MI estimate in nats (bits if ``units="bits"``).
        """
        check_is_fitted(self)
        X, y = validate_pair(self, X, y, reset=False, dtype=None, min_samples=1)
        kx, ky = self.n_states_x_, self.n_states_y_
        cx = self._encoder_x.transform(self._apply_bins(X, self.bin_edges_x_))
        cy = self._encoder_y.transform(self._apply_bins(y, self.bin_edges_y_))
        seen = (cx >= 0) & (cy >= 0)
        joint = np.where(seen, cx * ky + cy, -1)
        idx = np.minimum(np.searchsorted(self._cells, joint), len(self._cells) - 1)
        n_xy = np.where(seen & (self._cells[idx] == joint), self._cell_counts[idx], 0)
        n_x = np.where(cx >= 0, self._counts_x[np.maximum(cx, 0)], 0)
        n_y = np.where(cy >= 0, self._counts_y[np.maximum(cy, 0)], 0)
        a = float(self.pseudocount)
        kx1, ky1 = kx + 1, ky + 1
        total = self.n_samples_fit_ + a * kx1 * ky1
        log_ratio = (
            np.log(n_xy + a)
            + math.log(total)
            - np.log(n_x + a * ky1)
            - np.log(n_y + a * kx1)
        )
        return float(to_units(log_ratio.mean(), self.units))


def _unbinned(edges: list[np.ndarray | None]) -> bool:
    return all(e is None for e in edges)


def _as_sortable(col: np.ndarray) -> np.ndarray:
    num = _numeric_or_none(col)
    if num is not None:
        return num
    return col.astype(str)
