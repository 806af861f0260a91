"""KSGEstimator: k-nearest-neighbour mutual information of continuous data.

The estimators of Kraskov, Stögbauer & Grassberger (Phys. Rev. E 69, 066138, 2004)
on scikit-learn's :class:`~sklearn.neighbors.KDTree` (max-norm): one k-nearest
neighbour query in the joint space, one radius count per marginal (a sorted-array
count for one-dimensional marginals), all vectorised over samples.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from joblib import effective_n_jobs
from scipy.special import digamma
from scipy.stats import t as student_t
from sklearn.base import BaseEstimator, _fit_context
from sklearn.neighbors import KDTree
from sklearn.utils import gen_even_slices
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ._random import check_seed_sequence, generator
from ._validation import UNITS, to_units, validate_pair
from .exceptions import ReliabilityWarning, TiedValuesWarning

__all__ = ["KSGEstimator"]

VARIANTS = ("ksg1", "ksg2")
# Standard error: the estimate on this many disjoint random subsets...
_N_SUBSETS = 10
# ...each of at least this many samples per neighbour (k + 1).
_SUBSET_SAMPLES_PER_NEIGHBOUR = 5
# A column whose values repeat for more than this fraction of the samples is
# "tied": distances to it come in few values and the jitter orders them.
_TIED_FRACTION = 0.05
# "Not converged" warning: the estimate on all N samples exceeds the mean over
# the subsets (N / 10 samples each) by this fraction and this many standard errors.
# On Gaussians this flagged every case with a bias over 10% and few with less.
_DRIFT_FRACTION, _DRIFT_SIGMAS = 0.1, 4.0
# KD-tree leaf size of the joint k-NN query: small leaves are 15-25% faster in
# up to 4 joint dimensions, the default 40 is 5-10% faster in more.
_SMALL_LEAF, _SMALL_LEAF_MAX_DIMS = 10, 4
# Rows per thread task when n_jobs > 1 (several tasks per worker balance the load).
_TASKS_PER_WORKER = 4


# ---------------------------------------------------------------- neighbour counts


def _map_rows(fn: Callable[[slice], Any], n: int, n_jobs: int | None) -> list[Any]:
    """``fn`` over row slices of ``range(n)``: one slice, or several on threads.

    The KD-tree queries release the GIL, so the threads can use several cores.
    """
    workers = effective_n_jobs(n_jobs)
    if workers == 1 or n < 2 * _TASKS_PER_WORKER:
        return [fn(slice(0, n))]
    slices = gen_even_slices(n, min(n, workers * _TASKS_PER_WORKER))
    return Parallel(n_jobs=workers, prefer="threads")(delayed(fn)(s) for s in slices)


def _settle(
    s: np.ndarray, v: np.ndarray, r: np.ndarray, pos: np.ndarray, upper: bool
) -> np.ndarray:
    """Move approximate boundaries ``pos`` in sorted ``s`` onto the exact ones.

    For ``upper``, the exact boundary of sample ``i`` is the number of ``j`` with
    ``s[j] - v[i] <= r[i]``; otherwise the first ``j`` with ``v[i] - s[j] <= r[i]``
    -- both differences rounded as a distance computation rounds them. Rounding is
    monotone, so each predicate is monotone in ``j`` and the search only has to
    step over the few values within rounding of the boundary.
    """
    n = len(s)

    def inside(idx: np.ndarray, j: np.ndarray) -> np.ndarray:
        diff = s[j] - v[idx] if upper else v[idx] - s[j]
        return diff <= r[idx]

    # step towards larger j while the element at pos satisfies the upper
    # predicate (upper) / violates the lower one (lower)
    idx = np.flatnonzero(pos < n)
    while idx.size:
        hit = inside(idx, pos[idx])
        idx = idx[hit if upper else ~hit]
        pos[idx] += 1
        idx = idx[pos[idx] < n]
    # step towards smaller j while pos - 1 violates (upper) / satisfies (lower)
    idx = np.flatnonzero(pos > 0)
    while idx.size:
        hit = inside(idx, pos[idx] - 1)
        idx = idx[~hit if upper else hit]
        pos[idx] -= 1
        idx = idx[pos[idx] > 0]
    return pos


def count_within_1d(v: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Number of other samples with ``|v[j] - v[i]| <= radius[i]``, by sorting.

    Exactly the count of a brute-force comparison in floating point (and of
    ``KDTree.query_radius``), in O(N log N): binary search on the sorted values
    (queried in sorted order, which keeps the searches in cache), then
    :func:`_settle` corrects the boundaries that ``v + r`` rounded past.
    ``radius`` must be >= 0.
    """
    perm = np.argsort(v, kind="stable")
    s = v[perm]
    r = radius[perm]
    hi = _settle(s, s, r, np.searchsorted(s, s + r, side="right"), upper=True)
    lo = _settle(s, s, r, np.searchsorted(s, s - r, side="left"), upper=False)
    counts = np.empty(len(v), dtype=np.intp)
    counts[perm] = hi - lo - 1
    return counts


def _tree_order(tree: KDTree) -> np.ndarray:
    """The tree's own order of its samples (neighbours are close in it)."""
    return np.asarray(tree.get_arrays()[1])


def count_within(A: np.ndarray, radius: np.ndarray, n_jobs: int | None) -> np.ndarray:
    """Number of other rows of ``A`` within max-norm distance ``radius[i]`` (<=).

    One column: :func:`count_within_1d`; more: ``KDTree.query_radius`` with
    ``count_only=True``, queried in the tree's order (faster than random order
    through cache locality: 1.6x on 2 x 10^5 1-D samples, 1.1-1.2x in 5-D), over
    row chunks (threads when ``n_jobs`` > 1).
    """
    if A.shape[1] == 1:
        return count_within_1d(A[:, 0], radius)
    tree = KDTree(A, metric="chebyshev")
    order = _tree_order(tree)
    A_o, r_o = A[order], radius[order]
    parts = _map_rows(
        lambda s: tree.query_radius(A_o[s], r_o[s], count_only=True),
        len(A),
        n_jobs,
    )
    counts = np.empty(len(A), dtype=np.intp)
    counts[order] = np.concatenate(parts) - 1
    return counts


def neighbour_counts(
    Z: np.ndarray, n_x: int, k: int, variant: str, n_jobs: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The KSG neighbour counts of every sample of ``Z = [X, Y]`` (X: first n_x).

    Returns ``(eps, count_x, count_y)``: ``eps`` the max-norm distance to the k-th
    nearest other sample in the joint space. ``"ksg1"``: the counts of other
    samples strictly closer than ``eps`` in X and in Y. ``"ksg2"``: the counts of
    other samples within (<=) the largest X-distance, and the largest Y-distance,
    of the k neighbours. Memory O(N k) per chunk of rows.
    """
    leaf_size = _SMALL_LEAF if Z.shape[1] <= _SMALL_LEAF_MAX_DIMS else 40
    tree = KDTree(Z, leaf_size=leaf_size, metric="chebyshev")
    order = _tree_order(tree)
    Z_o = Z[order]
    k1 = k + 1  # the query returns the sample itself (distance 0) first

    def joint(s: slice) -> tuple[np.ndarray, ...]:
        zi = Z_o[s]
        dist, ind = tree.query(zi, k=k1)
        if variant == "ksg1":
            return (dist[:, k],)
        # The k points after the first: the sample itself is at distance 0, and
        # if another (duplicate) point is returned before it, it is also at
        # distance 0 in every marginal, so the largest distances do not change.
        rx = np.zeros(len(zi))
        ry = np.zeros(len(zi))
        for c in range(1, k1):
            diff = np.abs(Z[ind[:, c]] - zi)
            np.maximum(rx, diff[:, :n_x].max(axis=1), out=rx)
            np.maximum(ry, diff[:, n_x:].max(axis=1), out=ry)
        return dist[:, k], rx, ry

    parts = _map_rows(joint, len(Z), n_jobs)
    radii = []
    for j in range(len(parts[0])):
        out = np.empty(len(Z))
        out[order] = np.concatenate([p[j] for p in parts])
        radii.append(out)
    eps = radii[0]
    if variant == "ksg1":
        # "strictly closer than eps" == "within the next float below eps"
        rx = ry = np.nextafter(eps, 0.0)
    else:
        rx, ry = radii[1], radii[2]
    count_x = count_within(Z[:, :n_x], rx, n_jobs)
    count_y = count_within(Z[:, n_x:], ry, n_jobs)
    return eps, count_x, count_y


def ksg_terms(count_x: np.ndarray, count_y: np.ndarray, variant: str) -> np.ndarray:
    """Per-sample marginal terms: psi(n_x + 1) + psi(n_y + 1) (ksg1) or
    psi(n_x) + psi(n_y) (ksg2)."""
    shift = 1.0 if variant == "ksg1" else 0.0
    return digamma(count_x + shift) + digamma(count_y + shift)


def ksg_from_counts(
    count_x: np.ndarray, count_y: np.ndarray, k: int, variant: str
) -> float:
    """The KSG estimate (nats) from the neighbour counts of :func:`neighbour_counts`.

    ``"ksg1"``: psi(k) + psi(N) - <psi(n_x + 1) + psi(n_y + 1)>;
    ``"ksg2"``: psi(k) - 1/k + psi(N) - <psi(n_x) + psi(n_y)>.
    """
    offset = digamma(k) + digamma(len(count_x))
    if variant == "ksg2":
        offset -= 1.0 / k
    return float(offset - ksg_terms(count_x, count_y, variant).mean())


def _ksg(
    Z: np.ndarray, n_x: int, k: int, variant: str, n_jobs: int | None
) -> tuple[float, float]:
    """KSG estimate (nats) of the prepared joint data, and the variance of its
    per-sample terms."""
    eps, count_x, count_y = neighbour_counts(Z, n_x, k, variant, n_jobs)
    if not np.all(eps > 0):
        n_zero = int(np.sum(eps <= 0))
        raise ValueError(
            f"{n_zero} of {len(Z)} samples have at least n_neighbors={k} exact "
            "duplicates in the joint (X, y) space, so the KSG neighbour distances "
            "are zero and its counts undefined. Keep jitter > 0 (the default) to "
            "break ties, or use PluginMIEstimator for discrete data."
        )
    terms = ksg_terms(count_x, count_y, variant)
    offset = digamma(k) + digamma(len(Z)) - (1.0 / k if variant == "ksg2" else 0.0)
    return float(offset - terms.mean()), float(terms.var())


def _tied_fractions(A: np.ndarray) -> np.ndarray:
    """Per column, the fraction of samples whose value repeats an earlier one."""
    srt = np.sort(A, axis=0)
    return (np.diff(srt, axis=0) == 0).sum(axis=0) / len(A)


def _warn_unreliable(
    tied: np.ndarray,
    n_x: int,
    n: int,
    k: int,
    mi: float,
    std: float,
    subset_mi: float,
    subset_size: int,
) -> None:
    """The warnings of :meth:`KSGEstimator.fit` (values in nats)."""
    stack = 4  # past this helper, fit and sklearn's _fit_context wrapper
    if tied.max() > _TIED_FRACTION:
        names = [f"X[:, {j}]" for j in range(n_x)]
        names += [f"y[:, {j}]" for j in range(len(tied) - n_x)]
        worst = [names[j] for j in np.flatnonzero(tied > _TIED_FRACTION)]
        more = " ..." if len(worst) > 4 else ""
        warnings.warn(
            f"Tied values: in {', '.join(worst[:4])}{more} up to {tied.max():.0%} "
            "of the samples repeat another sample's value (discrete or rounded "
            "data), so the tie-breaking jitter orders KSG's neighbours. The "
            "estimate is then the MI of the discrete variables, noisier than "
            "counting: for discrete X and y use PluginMIEstimator. (A discrete "
            "label with a continuous partner is fine if its levels are well "
            "separated.)",
            TiedValuesWarning,
            stacklevel=stack,
        )
    if math.isnan(std):
        warnings.warn(
            f"Too few samples for a standard error: N = {n} gives fewer than two "
            f"subsets of {_SUBSET_SAMPLES_PER_NEIGHBOUR * (k + 1)} samples "
            f"(n_neighbors={k}); mi_std_ and mi_ci_ are NaN. KSG needs far more "
            "samples than this for a trustworthy estimate.",
            ReliabilityWarning,
            stacklevel=stack,
        )
        return
    drift = mi - subset_mi
    if drift > _DRIFT_FRACTION * abs(mi) and drift > _DRIFT_SIGMAS * std:
        warnings.warn(
            f"KSG may not have converged: the estimate rose from {subset_mi:.4g} "
            f"nats on subsets of {subset_size} samples to {mi:.4g} nats on all "
            f"{n}, so it may still under-estimate the MI (KSG is biased low in "
            "many dimensions and at high MI, by an amount that can exceed this "
            "rise). Use more samples or fewer dimensions, or compare with "
            "MINEEstimator.",
            ReliabilityWarning,
            stacklevel=stack,
        )


class KSGEstimator(BaseEstimator):
    """Mutual information of continuous data from k-nearest-neighbour distances.

    The Kraskov–Stögbauer–Grassberger (KSG) estimator of I(X; y) between two
    multivariate continuous variables: for every sample, the distance ``eps`` to
    its k-th nearest neighbour in the joint space (max-norm) sets a scale at which
    the numbers of neighbours ``n_x``, ``n_y`` in each marginal are counted, and
    the digamma function turns the counts into densities. No binning, no training;
    cost O(N log N) through scikit-learn's :class:`~sklearn.neighbors.KDTree`
    (a sorted-array count for one-dimensional marginals), memory O(N k).

    MI values (``mi_``, ``mi_std_``, ``mi_ci_``, :meth:`score`) are in nats unless
    ``units="bits"``.

    Parameters
    ----------
    n_neighbors : int, default=3
        k, the neighbour whose distance sets each sample's scale. Small k: less
        bias, more variance; KSG recommend 2-4 and so do we (see the docs page).
    variant : {"ksg1", "ksg2"}, default="ksg1"
        KSG's first estimator, ``psi(k) + psi(N) - <psi(n_x + 1) + psi(n_y + 1)>``
        with ``n_x``, ``n_y`` counting samples strictly closer than ``eps`` in each
        marginal (what :func:`sklearn.feature_selection.mutual_info_regression`
        uses), or the second, ``psi(k) - 1/k + psi(N) - <psi(n_x) + psi(n_y)>``
        with per-marginal radii (the largest marginal distance among the k
        neighbours, counted with <=). They agree within noise on our Gaussian
        tests; ksg2 is slightly less biased in many dimensions.
    standardize : bool, default=True
        Scale every column of X and y to zero mean and unit variance first. MI is
        invariant to that, but KSG is not: the max-norm neighbourhoods depend on
        the relative scales of the columns. Set False only for columns already on
        comparable scales.
    jitter : float >= 0, default=1e-10
        Standard deviation of Gaussian noise added to every column, relative to
        its root mean square (after standardising: to 1), drawn from
        ``random_state``. It breaks ties so that neighbour distances are distinct,
        as scikit-learn's ``mutual_info_regression`` does; 0 keeps the data exact
        and raises if a sample has k exact duplicates (see Notes).
    n_jobs : int or None, default=None
        Threads for the neighbour queries and the standard-error subsets (joblib
        semantics: None is 1 unless in a ``joblib.parallel_backend`` context, -1
        all cores). The result does not depend on it.
    units : {"nats", "bits"}, default="nats"
    random_state : int, RandomState instance or None, default=None
        Seeds the jitter and the random subsets of the standard error.

    Attributes
    ----------
    mi_ : float
        KSG estimate of I(X; y) on the training data, in ``units``. Not clipped:
        small negative values mean "zero within noise".
    mi_std_ : float
        Standard error of ``mi_`` (sampling noise only, not bias), in ``units``,
        from the spread of the estimate over ``n_subsets_`` disjoint random
        subsets of the data (see Notes). NaN, with a
        :class:`~sk_rgmi.exceptions.ReliabilityWarning`, when N is below
        ``10 (n_neighbors + 1)``.
    mi_ci_ : tuple of float
        95% interval ``mi_ +- t * mi_std_`` with Student's t on ``n_subsets_ - 1``
        degrees of freedom (which accounts for the noise of ``mi_std_`` itself),
        in ``units``. It covers the sampling noise, not KSG's bias (see Notes).
    n_subsets_ : int
        Number of subsets behind ``mi_std_`` (10, fewer for small N).
    mi_subsets_ : float
        Mean estimate on those subsets (N / ``n_subsets_`` samples each), in
        ``units``; far below ``mi_`` means KSG has not converged (see Notes).
    tied_fraction_ : float
        Largest fraction, over the columns of X and y, of samples whose value
        repeats another's (0 for continuous data).
    n_samples_fit_ : int
    n_features_in_ : int
        Number of columns of X.
    n_features_y_ : int
        Number of columns of y (1 for 1-D y).
    feature_names_in_ : ndarray of str
        Column names of X, when X has string column names.

    See Also
    --------
    sk_rgmi.PluginMIEstimator : count-based MI, for discrete data.
    sk_rgmi.MINEEstimator : neural MI, for many dimensions.
    sklearn.feature_selection.mutual_info_regression : KSG (ksg1, k=3) between
        each single feature and a 1-D target.

    Notes
    -----
    *No trained state.* KSG is a statistic of the data: ``fit`` computes it on the
    training data, and :meth:`score` computes it afresh on the data it is given,
    standardised by *that* data's own column statistics (so
    ``est.score(X, y) == est.fit(X, y).mi_`` for the same ``random_state``, and
    ``score`` is invariant to per-feature affine maps of its input, like MI).
    ``GridSearchCV`` and ``cross_val_score`` therefore report the estimate on each
    held-out fold; maximising it over ``n_neighbors`` picks the least negatively
    biased k on the folds, an optimistic choice rather than a fitted model's fit.

    *Standard error.* The per-sample terms share neighbours and are correlated,
    so their variance over N understates the variance of the estimate (by
    about half on Gaussians). The data are split into ``n_subsets_`` disjoint
    random subsets of m samples; the spread of the subset estimates gives the
    inflation ``kappa = m Var(subset estimates) / mean(subset term variance)``,
    and ``mi_std_ = sqrt(kappa * term variance / N)``. (Scaling the subsets'
    spread by sqrt(m / N) alone is too small in many dimensions, where
    N Var(estimate) grows with N.) The cost is about one more estimate. On
    Gaussians, ``mi_std_`` was 0.8-1.25 times the spread over 100 independent
    data sets and scatters by about 25% itself, which the t interval accounts
    for.

    *Bias.* KSG under-estimates large MI, increasingly with dimension: the
    k-NN balls are not small compared with the scale on which the joint density
    varies unless N grows roughly like exp(MI) (Gao, Ver Steeg & Galstyan,
    AISTATS 2015). The measured bias on Gaussians is tabulated in the docs. When
    ``mi_`` exceeds ``mi_subsets_`` by more than 10% and 4 standard errors the
    estimate was still rising with N, and ``fit`` warns with
    :class:`~sk_rgmi.exceptions.ReliabilityWarning`. KSG is also not invariant
    under non-linear monotone maps of a column, although MI is.

    *Ties and discrete data.* With ties (discrete columns, rounded values) the
    distances come in few values and the jitter decides the neighbour order. KSG
    then estimates the MI of the discrete (or mixed) variables -- consistently
    for well separated levels, but with more noise than counting. When a column
    of X or y repeats values for more than 5% of the samples, ``fit`` warns with
    :class:`~sk_rgmi.exceptions.TiedValuesWarning`, naming
    :class:`~sk_rgmi.PluginMIEstimator`.

    References
    ----------
    A. Kraskov, H. Stögbauer, P. Grassberger, "Estimating mutual information",
    Phys. Rev. E 69, 066138 (2004).

    Examples
    --------
    Two 2-D Gaussians with two correlated pairs (rho = 0.8): I = -ln(1 - 0.64) =
    1.022 nats.

    >>> import numpy as np
    >>> from sk_rgmi import KSGEstimator
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((5000, 2))
    >>> Y = 0.8 * X + 0.6 * rng.standard_normal((5000, 2))
    >>> est = KSGEstimator(random_state=0).fit(X, Y)
    >>> print(f"{est.mi_:.2f} +- {est.mi_std_:.2f} nats")
    1.03 +- 0.03 nats
    >>> low, high = est.mi_ci_           # 95% interval (sampling noise only)
    >>> print(f"{KSGEstimator(units='bits', random_state=0).fit(X, Y).mi_:.2f} bits")
    1.48 bits

    ``score`` is the same statistic on other data:

    >>> X2 = rng.standard_normal((5000, 2))
    >>> print(f"{est.score(X2, 0.8 * X2 + 0.6 * rng.standard_normal((5000, 2))):.2f}")
    0.99
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "variant": [StrOptions(set(VARIANTS))],
        "standardize": ["boolean"],
        "jitter": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "units": [StrOptions(set(UNITS))],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_neighbors: int = 3,
        *,
        variant: str = "ksg1",
        standardize: bool = True,
        jitter: float = 1e-10,
        n_jobs: int | None = None,
        units: str = "nats",
        random_state: Any = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.variant = variant
        self.standardize = standardize
        self.jitter = jitter
        self.n_jobs = n_jobs
        self.units = units
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------------ helpers

    def _prepare(
        self, X: np.ndarray, Y: np.ndarray, seq: np.random.SeedSequence
    ) -> np.ndarray:
        """``[X, Y]`` as float64, standardised and jittered per ``self``."""
        k = self.n_neighbors
        if len(X) <= k:
            raise ValueError(
                f"n_neighbors={k} needs more than {k} samples, got {len(X)}."
            )
        Z = np.hstack([X, Y], dtype=np.float64)
        if self.standardize:
            Z -= Z.mean(axis=0)
            std = Z.std(axis=0)
            Z /= np.where(std > 0, std, 1.0)
        if self.jitter > 0:
            rms = np.sqrt(np.mean(Z * Z, axis=0))
            scale = self.jitter * np.where(rms > 0, rms, 1.0)
            Z += scale * generator(seq, "jitter").standard_normal(Z.shape)
        return Z

    def _subset_std(
        self, Z: np.ndarray, n_x: int, term_var: float, seq: np.random.SeedSequence
    ) -> tuple[float, int, float]:
        """Standard error (nats) from disjoint random subsets, their number, and
        the mean estimate on them (nats).

        The per-sample terms are correlated (neighbouring samples share
        neighbours), so their variance ``term_var`` over N understates the
        variance of the mean. The subsets measure the inflation: kappa = m
        Var_b(estimate_b) / mean_b(term variance_b) over subsets of size m; the
        standard error is sqrt(kappa term_var / N). kappa depends little on N,
        whereas N Var(estimate) grows with N as the marginal neighbourhoods grow
        (so the subsets' spread scaled by sqrt(m / N) alone would be too small).
        """
        n, k = len(Z), self.n_neighbors
        n_subsets = min(_N_SUBSETS, n // (_SUBSET_SAMPLES_PER_NEIGHBOUR * (k + 1)))
        if n_subsets < 2:
            return math.nan, n_subsets, math.nan
        m = n // n_subsets
        rows = generator(seq, "subsets").permutation(n)[: m * n_subsets]
        rows = rows.reshape(n_subsets, m)
        results = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(_ksg)(Z[r], n_x, k, self.variant, 1) for r in rows
        )
        values, term_vars = np.array(results).T
        spread = np.var(values, ddof=1)
        if np.mean(term_vars) > 0:
            kappa = m * spread / np.mean(term_vars)
            std = math.sqrt(kappa * term_var / n)
        else:  # degenerate (e.g. constant) data
            std = math.sqrt(spread * m / n)
        return float(std), n_subsets, float(np.mean(values))

    # -------------------------------------------------------------- estimator API

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> KSGEstimator:
        """Estimate I(X; y) on the data, with its standard error.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_x)
            First variable, continuous (one sample per row).
        y : array-like of shape (n_samples,) or (n_samples, n_features_y)
            Second variable.

        Returns
        -------
        self : KSGEstimator
            Fitted estimator; ``mi_`` holds the MI (nats unless ``units="bits"``).
        """
        X, Y = validate_pair(self, X, y)
        self.n_features_y_ = Y.shape[1]
        n, n_x = len(X), X.shape[1]
        tied = _tied_fractions(np.hstack([X, Y]))
        seq = check_seed_sequence(self.random_state)
        Z = self._prepare(X, Y, seq)
        mi, term_var = _ksg(Z, n_x, self.n_neighbors, self.variant, self.n_jobs)
        std, n_subsets, subset_mi = self._subset_std(Z, n_x, term_var, seq)
        _warn_unreliable(
            tied, n_x, n, self.n_neighbors, mi, std, subset_mi, n // max(n_subsets, 1)
        )
        half = math.nan
        if n_subsets >= 2:
            half = float(student_t.ppf(0.975, n_subsets - 1)) * std
        self.n_samples_fit_ = n
        self.n_subsets_ = n_subsets
        self.tied_fraction_ = float(tied.max())
        self.mi_ = float(to_units(mi, self.units))
        self.mi_std_ = float(to_units(std, self.units))
        self.mi_ci_ = (
            float(to_units(mi - half, self.units)),
            float(to_units(mi + half, self.units)),
        )
        self.mi_subsets_ = float(to_units(subset_mi, self.units))
        return self

    def score(self, X: Any, y: Any) -> float:
        """The KSG estimate of I(X; y) on the given data, in ``units``.

        Computed exactly as ``mi_`` is in :meth:`fit`, on ``(X, y)`` standardised
        by their own column statistics (KSG keeps no model; see the class Notes).
        Higher means more MI found.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features_x)
        y : array-like of shape (n_samples,) or (n_samples, n_features_y)

        Returns
        -------
        float
            MI estimate in nats (bits if ``units="bits"``).
        """
        check_is_fitted(self)
        X, Y = validate_pair(self, X, y, reset=False)
        Z = self._prepare(X, Y, check_seed_sequence(self.random_state))
        mi, _ = _ksg(Z, X.shape[1], self.n_neighbors, self.variant, self.n_jobs)
        return float(to_units(mi, self.units))
