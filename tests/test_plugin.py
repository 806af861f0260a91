"""Tests for PluginMIEstimator: closed forms, corrections, score, model selection."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import chi2
from sklearn.base import clone
from sklearn.metrics import mutual_info_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from sk_rgmi import PluginMIEstimator
from sk_rgmi._counting import CORRECTIONS
from sk_rgmi.exceptions import BinningWarning, UndersampledWarning

LN2 = math.log(2.0)


def _fit(X, y, **params) -> PluginMIEstimator:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndersampledWarning)
        return PluginMIEstimator(**params).fit(X, y)


def _bsc(n: int, p: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Binary symmetric channel: uniform bit x, y = x flipped with probability p."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n)
    y = x ^ (rng.random(n) < p)
    return x.reshape(-1, 1), y


def _bsc_truth(p: float) -> tuple[float, float]:
    """True MI of the BSC and the variance of its log-ratio (per sample).

    The log-ratio log p(x,y)/(p(x)p(y)) is log(2(1-p)) with probability 1-p and
    log(2p) with probability p, so its variance is p(1-p) log((1-p)/p)^2; the
    plug-in MI then has standard deviation sqrt(var / N) to leading order.
    """
    h = -p * math.log(p) - (1 - p) * math.log(1 - p)
    return LN2 - h, p * (1 - p) * math.log((1 - p) / p) ** 2


def _symmetric_channel(n: int, k: int, eps: float, seed: int):
    """k-ary symmetric channel: y = x w.p. 1 - eps, else one of the k-1 others."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, k, n)
    other = (x + rng.integers(1, k, n)) % k
    y = np.where(rng.random(n) < eps, other, x)
    return x.reshape(-1, 1), y


def _symmetric_channel_mi(k: int, eps: float) -> float:
    h = -(1 - eps) * math.log(1 - eps) - eps * math.log(eps / (k - 1))
    return math.log(k) - h


# ------------------------------------------------------------------ closed forms


@pytest.mark.parametrize("p", [0.02, 0.1, 0.3])
@pytest.mark.parametrize("correction", CORRECTIONS)
def test_binary_symmetric_channel(p: float, correction: str) -> None:
    n = 50_000
    truth, var = _bsc_truth(p)
    est = PluginMIEstimator(correction=correction).fit(*_bsc(n, p, seed=11))
    # 5 sigma of the sampling noise, plus the O(1/N) bias (1/(2N) for 2x2).
    tol = 5 * math.sqrt(var / n) + 1 / (2 * n)
    assert abs(est.mi_ - truth) < tol
    assert est.n_states_x_ == est.n_states_y_ == 2
    assert est.n_states_xy_ == 4


def test_independent_variables_near_zero_after_correction() -> None:
    # Under independence 2 N MI_plugin ~ chi2 with dof = (Kx - 1)(Ky - 1). With all
    # cells occupied, Miller-Madow subtracts exactly dof / (2N), so
    # 2 N MI_MM ~ chi2 - dof. Tolerance: the chi2 quantiles at 1e-7 on either side,
    # (chi2.ppf(1 - 1e-7, 12) - 12) / (2N) = 0.0056 nats. The jackknife differs
    # from Miller-Madow by O(K^2 / N^2) here; Grassberger by a parity term of order
    # sqrt(Kx + Ky + Kxy) / (2N) = 0.0007, both well inside it.
    # (Chao-Shen is excluded: with no singletons its correction vanishes and it
    # equals the plug-in value -- see test_counting.)
    kx, ky, n = 4, 5, 4000
    dof = (kx - 1) * (ky - 1)
    tol = max(chi2.ppf(1 - 1e-7, dof) - dof, dof - chi2.ppf(1e-7, dof)) / (2 * n)
    plug = []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        X = rng.integers(0, kx, (n, 1))
        y = rng.integers(0, ky, n)
        for corr in ("miller-madow", "jackknife", "grassberger"):
            assert abs(PluginMIEstimator(correction=corr).fit(X, y).mi_) < tol
        plug.append(2 * n * PluginMIEstimator(correction="none").fit(X, y).mi_)
    # The plug-in itself follows the chi2 law: its mean over 30 seeds is dof within
    # 5 standard errors (chi2 variance 2 dof).
    assert abs(np.mean(plug) - dof) < 5 * math.sqrt(2 * dof / 30)


@pytest.mark.parametrize("correction", CORRECTIONS)
def test_deterministic_relation_mi_equals_entropy(correction: str) -> None:
    rng = np.random.default_rng(3)
    X = rng.integers(0, 2, (5000, 4))  # 2x2 binary blocks
    y = X.sum(axis=1)  # block magnetisation: a function of X
    est = PluginMIEstimator(correction=correction).fit(X, y)
    # Same counts for (X, y) as for X, so H(X, y) = H(X) and I = H(y) exactly.
    assert est.n_states_xy_ == est.n_states_x_
    assert est.mi_ == pytest.approx(est.entropy_y_, abs=1e-12)
    assert est.entropy_xy_ == pytest.approx(est.entropy_x_, abs=1e-12)
    # bijection: MI = H(X)
    code = X @ (2 ** np.arange(4))
    bij = PluginMIEstimator(correction=correction).fit(X, code)
    assert bij.mi_ == pytest.approx(bij.entropy_x_, abs=1e-12)


@pytest.mark.parametrize("correction", CORRECTIONS)
def test_symmetry(correction: str) -> None:
    rng = np.random.default_rng(4)
    X = rng.integers(0, 2, (3000, 3))
    Y = X[:, :2] ^ (rng.random((3000, 2)) < 0.2)
    a = PluginMIEstimator(correction=correction).fit(X, Y)
    b = PluginMIEstimator(correction=correction).fit(Y, X)
    assert a.mi_ == pytest.approx(b.mi_, abs=1e-12)
    assert a.mi_std_ == pytest.approx(b.mi_std_, abs=1e-12)
    assert a.entropy_x_ == pytest.approx(b.entropy_y_, abs=1e-12)


def test_relabelling_invariance() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, 4000)
    y = (x + rng.integers(0, 2, 4000)) % 6
    ref = PluginMIEstimator().fit(x.reshape(-1, 1), y)
    perm = rng.permutation(6)
    letters = np.array(list("abcdef"))
    variants = [
        (perm[x], perm[::-1][y]),  # permuted symbols
        (letters[x], letters[y]),  # strings
        (x * 0.5 - 7.25, y.astype(float)),  # floats, shifted and scaled
        (x.astype(np.int8), y.astype(np.uint16)),
        (letters[x].astype(object), 10 * y),
    ]
    for xv, yv in variants:
        est = PluginMIEstimator().fit(np.asarray(xv).reshape(-1, 1), yv)
        assert est.mi_ == pytest.approx(ref.mi_, abs=1e-12)
        assert est.mi_std_ == pytest.approx(ref.mi_std_, abs=1e-12)
        assert est.score(np.asarray(xv).reshape(-1, 1), yv) == pytest.approx(
            ref.score(x.reshape(-1, 1), y), abs=1e-12
        )


def test_bits_are_nats_over_ln2() -> None:
    X, y = _bsc(2000, 0.1, seed=6)
    nats = PluginMIEstimator().fit(X, y)
    bits = PluginMIEstimator(units="bits").fit(X, y)
    for attr in ("mi_", "mi_plugin_", "mi_std_", "entropy_x_", "entropy_y_"):
        assert getattr(bits, attr) == pytest.approx(getattr(nats, attr) / LN2, 1e-12)
    assert bits.score(X, y) == pytest.approx(nats.score(X, y) / LN2, rel=1e-12)


def test_agrees_with_sklearn_mutual_info_score() -> None:
    rng = np.random.default_rng(7)
    for k, n in [(2, 100), (7, 1000), (30, 20_000)]:
        x = rng.integers(0, k, n)
        y = np.where(rng.random(n) < 0.5, x, rng.integers(0, k, n))
        est = PluginMIEstimator(correction="none").fit(x.reshape(-1, 1), y)
        ref = mutual_info_score(x, y)
        assert est.mi_ == pytest.approx(ref, abs=1e-12)
        assert est.mi_plugin_ == pytest.approx(ref, abs=1e-12)


def test_multicolumn_rows_are_joint_states() -> None:
    # 2x2 blocks: the MI of the rows equals the MI of their integer codes.
    rng = np.random.default_rng(8)
    X = rng.integers(0, 2, (5000, 4))
    Y = X ^ (rng.random((5000, 4)) < 0.15)
    w = 2 ** np.arange(4)
    est = PluginMIEstimator(correction="none").fit(X.astype(float), Y)
    assert est.mi_ == pytest.approx(mutual_info_score(X @ w, Y @ w), abs=1e-12)
    assert est.n_features_in_ == 4 and est.n_features_y_ == 4


# ------------------------------------------------------------------ corrections


def test_bias_of_corrections_on_20_symbol_channel() -> None:
    # A 20-symbol channel with true MI 1.213 nats, N = 500 (a classic setting for
    # entropy-bias studies, e.g. Paninski, Neural Comput. 2003). We build a
    # 20-ary symmetric channel whose exact MI is 1.213 and measure the bias of each
    # correction over 40 seeds. Each correction must beat the plug-in with margin:
    # |bias_c| + 3 se_c < bias_plugin - 3 se_plugin (se = std over seeds / sqrt(40)).
    k, n, seeds = 20, 500, 40
    eps = brentq(lambda e: _symmetric_channel_mi(k, e) - 1.213, 1e-6, 0.9)
    truth = _symmetric_channel_mi(k, eps)
    values: dict[str, list[float]] = {c: [] for c in CORRECTIONS}
    for seed in range(seeds):
        X, y = _symmetric_channel(n, k, eps, seed)
        for corr in CORRECTIONS:
            values[corr].append(_fit(X, y, correction=corr).mi_)
    bias = {c: np.mean(v) - truth for c, v in values.items()}
    se = {c: np.std(v, ddof=1) / math.sqrt(seeds) for c, v in values.items()}
    # plug-in bias ~ (K-1)^2 / (2N) = 0.361 nats (Miller 1955)
    assert abs(bias["none"] - 0.361) < 4 * se["none"] + 0.03
    for corr in CORRECTIONS[1:]:
        assert abs(bias[corr]) + 3 * se[corr] < bias["none"] - 3 * se["none"], corr
    # the jackknife (default) removes at least half of the plug-in bias here
    assert abs(bias["jackknife"]) < 0.5 * bias["none"]


def test_jackknife_equals_brute_force_leave_one_out() -> None:
    rng = np.random.default_rng(9)
    n = 50
    X = rng.integers(0, 2, (n, 2))
    y = np.where(rng.random(n) < 0.8, X[:, 0], rng.integers(0, 3, n))
    full = _fit(X, y, correction="none").mi_
    loo = np.array(
        [
            _fit(np.delete(X, k, 0), np.delete(y, k), correction="none").mi_
            for k in range(n)
        ]
    )
    est = _fit(X, y, correction="jackknife")
    assert est.mi_ == pytest.approx(n * full - (n - 1) * loo.mean(), abs=1e-12)
    se = math.sqrt((n - 1) / n * ((loo - loo.mean()) ** 2).sum())
    assert est.mi_std_ == pytest.approx(se, abs=1e-12)


def test_mi_std_matches_spread_over_seeds() -> None:
    # Over 200 seeds the std of mi_ must match the mean reported mi_std_. The sample
    # std of 200 values has relative standard error 1/sqrt(2 * 199) = 5%, so 20%
    # is a 4-sigma tolerance; the delta-method value sqrt(var / N) must agree too.
    p, n = 0.1, 1000
    _, var = _bsc_truth(p)
    mis, stds = [], []
    for seed in range(200):
        est = PluginMIEstimator().fit(*_bsc(n, p, seed=1000 + seed))
        mis.append(est.mi_)
        stds.append(est.mi_std_)
    spread = np.std(mis, ddof=1)
    assert np.mean(stds) == pytest.approx(spread, rel=0.2)
    assert np.mean(stds) == pytest.approx(math.sqrt(var / n), rel=0.1)


# ------------------------------------------------------------------ score


def test_score_converges_to_truth() -> None:
    # Held-out score on 200k fresh samples: noise sd = sqrt(var / 2e5) ~ 0.0015.
    # Its bias (smoothing, estimation error of p) shrinks like 1/N_train.
    p = 0.1
    truth, var = _bsc_truth(p)
    X_test, y_test = _bsc(200_000, p, seed=99)
    errors = []
    for n in (20, 200, 2000, 20_000):
        est = PluginMIEstimator().fit(*_bsc(n, p, seed=n))
        errors.append(abs(est.score(X_test, y_test) - truth))
    assert errors[-1] < 5 * math.sqrt(var / 200_000) + 1e-3
    assert errors[0] > errors[-1]
    assert errors[1] > errors[-1]


def test_score_on_training_data_is_plugin_when_pseudocount_vanishes() -> None:
    rng = np.random.default_rng(10)
    X = rng.integers(0, 3, (2000, 2))
    y = (X[:, 0] + rng.integers(0, 2, 2000)) % 4
    est = PluginMIEstimator(pseudocount=1e-12).fit(X, y)
    assert est.score(X, y) == pytest.approx(est.mi_plugin_, abs=1e-8)


def test_score_finite_on_unseen_states() -> None:
    X = np.array([["a"], ["b"]] * 20)
    y = np.array([0, 1] * 20)
    est = PluginMIEstimator().fit(X, y)
    X_new = np.array([["a"], ["c"], ["b"], ["zz"]])
    y_new = np.array([0, 1, 7, 9])
    s = est.score(X_new, y_new)
    assert np.isfinite(s)
    assert s < est.mi_plugin_
    # a held-out pair of seen states scores higher than an unseen one
    assert est.score(X_new[:1], y_new[:1]) > est.score(X_new[1:2], y_new[1:2])


def test_score_validates_shapes() -> None:
    X, y = _bsc(100, 0.1, seed=0)
    est = PluginMIEstimator().fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features"):
        est.score(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="y has 2 features"):
        est.score(np.zeros((5, 1)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="requires y"):
        est.score(X, None)


# ------------------------------------------------------------------ binning


def _gaussians(n: int, d: int, rho: float, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    y = rho * x + math.sqrt(1 - rho**2) * rng.standard_normal((n, d))
    return x, y, -d / 2 * math.log(1 - rho**2)


@pytest.mark.parametrize("d", [1, 2])
def test_grid_search_over_bins_on_gaussians(d: int) -> None:
    # Jointly Gaussian pairs, y 2-D when d = 2. The held-out score must pick an
    # interior bin count (coarse bins lose MI, fine bins lose to sparse counts) and
    # stay below the true MI (binning loses information; the held-out
    # cross-entropy is biased low); the noise of a 4000-sample mean is ~0.02.
    x, y, truth = _gaussians(4000, d, 0.8, seed=d)
    grid = [2, 3, 4, 6, 8, 12, 16, 24, 32]
    cv = KFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndersampledWarning)
        warnings.simplefilter("ignore", BinningWarning)  # d = 2: tested below
        gs = GridSearchCV(PluginMIEstimator(), {"n_bins": grid}, cv=cv).fit(x, y)
        scores = cross_val_score(PluginMIEstimator(n_bins=6), x, y, cv=cv)
    assert grid[0] < gs.best_params_["n_bins"] < grid[-1]
    assert 0.5 * truth < gs.best_score_ < truth
    assert np.all(np.isfinite(scores)) and np.all(scores < truth)
    assert gs.best_estimator_.n_features_y_ == d


def test_bins_learned_in_fit_reused_in_score() -> None:
    x, y, _ = _gaussians(2000, 1, 0.5, seed=12)
    for strategy in ("quantile", "uniform"):
        est = PluginMIEstimator(n_bins=5, strategy=strategy).fit(x, y)
        assert est.n_states_x_ == est.n_states_y_ == 5
        assert len(est.bin_edges_x_[0]) == 4
        # out-of-range values fall in the end bins: still finite, same states
        far = np.array([[-1e9], [1e9]])
        assert np.isfinite(est.score(far, np.array([0.0, 0.0])))
    q = PluginMIEstimator(n_bins=4).fit(x, y)
    counts = np.bincount(np.searchsorted(q.bin_edges_x_[0], x[:, 0], side="right"))
    assert counts.min() == counts.max() == 500  # quantile bins: equal frequency


def test_auto_bins_continuous_only() -> None:
    rng = np.random.default_rng(13)
    n = 4000
    spins = rng.integers(0, 2, (n, 1)).astype(float)
    means = rng.integers(0, 5, (n, 1)) * 0.25  # block means as in the original notebook
    cont = rng.standard_normal((n, 1))
    est = PluginMIEstimator().fit(np.hstack([spins, means, cont]), cont[:, 0] + 1)
    assert est.bin_edges_x_[0] is None and est.bin_edges_x_[1] is None
    # two continuous columns, other columns 2 x 5 levels: ~5 samples per cell
    b = math.floor((n / (5 * 10)) ** 0.5)
    assert len(est.bin_edges_x_[2]) == b - 1
    assert len(est.bin_edges_y_[0]) == b - 1
    # n_bins=None counts values as they are
    exact = PluginMIEstimator(n_bins=None).fit(np.hstack([spins, means]), spins[:, 0])
    assert exact.n_states_x_ == 10
    # an int bins only columns with more distinct values than bins
    est3 = _fit(np.hstack([spins, means]), spins[:, 0], n_bins=3)
    assert est3.bin_edges_x_[0] is None and est3.bin_edges_x_[1] is not None


def test_binning_several_continuous_dimensions_warns() -> None:
    # 3 + 3 correlated Gaussian coordinates (rho = 0.6 each): true MI
    # -(3/2) ln(1 - 0.36) = 0.669 nats. "auto" gives 3 quantile bins per column;
    # the MI of the binned variables, from exact bivariate-normal cell
    # probabilities (3 independent pairs, additive), is 3 x 0.1354 = 0.406 nats.
    # mi_ must estimate that (within 5 sigma, sigma = mi_std_ = 0.006), far below
    # the truth -- and the user must be told what to use instead.
    x, y, truth = _gaussians(20_000, 3, 0.6, seed=16)
    assert truth == pytest.approx(0.669, abs=1e-3)
    with pytest.warns(BinningWarning, match="KSGEstimator.*MINEEstimator") as rec:
        est = PluginMIEstimator().fit(x, y)
    assert "3 column(s) of X and 3 of y cut into 3 bins" in str(rec[0].message)
    assert abs(est.mi_ - 0.406) < 5 * est.mi_std_
    assert est.mi_ + 20 * est.mi_std_ < truth
    # an explicit bin count on several continuous columns is binning too
    with pytest.warns(BinningWarning, match="8 bins"):
        _fit(x, y, n_bins=8)


def test_binning_does_not_warn_for_discrete_or_1d_continuous() -> None:
    rng = np.random.default_rng(17)
    n = 4000
    spins = rng.integers(0, 2, (n, 4)).astype(float)
    means = rng.integers(0, 5, (n, 2)) * 0.25  # discrete levels, not binned
    x, y, truth = _gaussians(n, 1, 0.8, seed=17)
    cases = [
        (spins, spins[:, ::-1]),  # 0/1 floats
        (spins.astype(int), means),  # ints and block means
        (x, y),  # one continuous column per side: fine bins
        (np.hstack([x, spins[:, :1]]), y),  # plus a discrete column
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", BinningWarning)
        for X, Y in cases:
            assert np.isfinite(_fit(X, Y).mi_)
    # One column per side: "auto" gives sqrt(N / 5) = 28 quantile bins. The MI of
    # the binned pair, from exact bivariate-normal cell probabilities, is 0.496
    # nats against 0.511: a loss of 0.015, so mi_ is within 0.02 + 5 sigma.
    single = _fit(x, y)
    assert len(single.bin_edges_x_[0]) == 27
    assert abs(single.mi_ - truth) < 0.02 + 5 * single.mi_std_


def test_many_continuous_columns_clear_error_not_overflow() -> None:
    # Regression: 200 rows x 500 continuous columns raised OverflowError in the
    # row encoder. With 2 bins per column every row is a distinct state of each
    # side, so the counts are hopeless: a ValueError that names the estimators.
    rng = np.random.default_rng(18)
    X = rng.standard_normal((200, 500))
    Y = X + rng.standard_normal((200, 500))
    with pytest.raises(ValueError, match="Too many discrete states") as err:
        PluginMIEstimator().fit(X, Y)
    assert "500 + 500 continuous columns" in str(err.value)
    assert "MINEEstimator" in str(err.value)
    # One wide side against a binary label: a number, with both warnings.
    label = (X[:, 0] > 0).astype(int)
    with (
        pytest.warns(BinningWarning),
        pytest.warns(UndersampledWarning, match="distinct state of X"),
    ):
        est = PluginMIEstimator().fit(X, label)
    assert est.n_states_x_ == 200 and np.isfinite(est.mi_)


# ------------------------------------------------------------------ large state spaces


def test_large_state_space_sparse_and_warning() -> None:
    # 3x3 binary blocks: 512 x 512 possible joint states, N = 20000.
    rng = np.random.default_rng(14)
    X = rng.integers(0, 2, (20_000, 9))
    Y = X ^ (rng.random((20_000, 9)) < 0.05)
    with pytest.warns(UndersampledWarning, match=r"512 x 512 = 262144 possible"):
        est = PluginMIEstimator().fit(X, Y)
    assert est.n_states_xy_ <= 20_000
    assert np.isfinite(est.mi_) and est.mi_ < est.mi_plugin_


def test_undersampled_warning_states_bias() -> None:
    X, y = _symmetric_channel(500, 20, 0.38, seed=0)
    # (20 - 1)(20 - 1) / (2 * 500) = 0.361 nats
    with pytest.warns(UndersampledWarning, match=r"\(2N\) = 0\.361 nats"):
        PluginMIEstimator().fit(X, y)


def test_too_many_states_is_an_error() -> None:
    x, y, _ = _gaussians(500, 1, 0.5, seed=15)
    with pytest.raises(ValueError, match="Too many discrete states for the sample"):
        PluginMIEstimator(n_bins=None).fit(x, y)
    with pytest.raises(ValueError, match="Too many discrete states"):
        PluginMIEstimator().fit(
            np.arange(100).reshape(-1, 1).astype(str), np.arange(100)
        )
    # ... but the same data binned are fine
    assert PluginMIEstimator(n_bins=8).fit(x, y).mi_ > 0


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.array([[0.0], [np.nan], [1.0]]), np.array([0, 1, 0]), "NaN"),
        (np.array([[0.0], [np.inf], [1.0]]), np.array([0, 1, 0]), "infinity"),
        (np.zeros((3, 1)), np.array([0.0, np.nan, 1.0]), "NaN"),
        (np.zeros((4, 1)), np.zeros(3), "mismatched lengths"),
        (np.zeros((0, 1)), np.zeros(0), "0 sample"),
        (np.zeros((1, 1)), np.zeros(1), "1 sample"),
        (np.zeros((4, 2, 2)), np.zeros(4), "dim 3"),
        (np.zeros(4), np.zeros(4), "Expected 2D array"),
        (np.zeros((4, 1)), None, "requires y to be passed"),
    ],
)
def test_bad_input_messages(X, y, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        PluginMIEstimator().fit(X, y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"correction": "magic"}, "'correction' parameter"),
        ({"units": "furlongs"}, "'units' parameter"),
        ({"n_bins": 1}, "'n_bins' parameter"),
        ({"n_bins": "many"}, "'n_bins' parameter"),
        ({"strategy": "kmeans"}, "'strategy' parameter"),
        ({"pseudocount": 0.0}, "'pseudocount' parameter"),
    ],
)
def test_bad_parameters(params: dict, match: str) -> None:
    X, y = _bsc(50, 0.1, seed=0)
    with pytest.raises(ValueError, match=match):
        PluginMIEstimator(**params).fit(X, y)


def test_clone_and_unfitted() -> None:
    from sklearn.exceptions import NotFittedError

    est = PluginMIEstimator(n_bins=4, correction="grassberger", units="bits")
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        est.score(np.zeros((3, 1)), np.zeros(3))
