"""sk_rgmi.rg: the lattice-wide RG step, the learned flow and the MCRG estimators."""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sk_rgmi import BlockCoarseGrainer, MIMaximizingCoarseGrainer
from sk_rgmi.datasets import T_C, block_spin, block_spin_flow, sample_ising
from sk_rgmi.exceptions import ReliabilityWarning
from sk_rgmi.rg import (
    RSMIFlow,
    apply_coarse_grainer,
    binder_cumulant,
    find_crossing,
    lattice_observables,
    mcrg_matching,
)


# ------------------------------------------------------------------ RG step
def _naive_step(spins: np.ndarray, w: np.ndarray, b: float, factor: int) -> np.ndarray:
    """Reference: a Python loop over lattices and blocks."""
    n, h, wd = spins.shape
    out = np.empty((n, h // factor, wd // factor), dtype=np.int8)
    for k in range(n):
        for i in range(h // factor):
            for j in range(wd // factor):
                block = spins[
                    k, i * factor : (i + 1) * factor, j * factor : (j + 1) * factor
                ]
                score = float(block.ravel() @ w + b)
                out[k, i, j] = 1 if score > 0 else -1
    return out


@pytest.mark.parametrize("encoding", ["01", "pm1"])
def test_apply_coarse_grainer_matches_block_spin(encoding):
    x = np.random.default_rng(0).integers(0, 2, size=(5, 12, 9))
    if encoding == "pm1":
        x = 2 * x - 1
    rule = BlockCoarseGrainer("majority", block_shape=(3, 3)).fit(np.zeros((1, 9)))
    coarse = apply_coarse_grainer(x, rule, 3)
    assert coarse.dtype == np.int8 and coarse.shape == (5, 4, 3)
    np.testing.assert_array_equal(coarse, block_spin(x, 3))
    # one 2-D lattice stays 2-D
    np.testing.assert_array_equal(apply_coarse_grainer(x[0], rule, 3), coarse[0])


def test_apply_coarse_grainer_uses_the_row_major_block_layout():
    # a "transformer" that returns the block's top-right spin: its position in the
    # flattened row-major block is index factor - 1
    class TopRight:
        def transform(self, X):
            return X[:, [2]]

    x = np.random.default_rng(1).integers(0, 2, size=(3, 6, 6))
    np.testing.assert_array_equal(
        apply_coarse_grainer(x, TopRight(), 3), x[:, ::3, 2::3]
    )


def test_apply_coarse_grainer_rejects_bad_rules_and_sizes():
    x = np.zeros((2, 6, 6), dtype=np.int8)

    class TwoColumns:
        def transform(self, X):
            return np.zeros((len(X), 2))

    class Continuous:
        def transform(self, X):
            return X.mean(axis=1, keepdims=True) + 0.5

    with pytest.raises(ValueError, match="one column per block"):
        apply_coarse_grainer(x, TwoColumns(), 3)
    with pytest.raises(ValueError, match="binary codes"):
        apply_coarse_grainer(x, Continuous(), 3)
    with pytest.raises(ValueError, match="not divisible"):
        apply_coarse_grainer(np.zeros((1, 7, 6)), Continuous(), 3)


def test_threshold_flow_equals_a_loop_over_blocks():
    rng = np.random.default_rng(2)
    spins = 2 * rng.integers(0, 2, size=(4, 9, 9)) - 1
    w = rng.normal(size=9)
    flow = RSMIFlow.from_filters(w[None], [0.3], spin_flip_symmetric=False)
    w_norm, b_norm = flow.filters_[0], flow.intercepts_[0]
    np.testing.assert_array_equal(
        flow.transform(spins), _naive_step(spins, w_norm, b_norm, 3)
    )
    # the normalised rule is the same code as the raw one (or its complement,
    # reoriented so that the filter sums to >= 0)
    raw = _naive_step(spins, w, 0.3, 3)
    same = np.array_equal(raw, flow.transform(spins))
    assert same or np.array_equal(raw, -flow.transform(spins))


def test_uniform_filters_are_the_majority_flow():
    x = sample_ising(6, 27, random_state=0)
    flow = RSMIFlow.from_filters(np.ones((2, 9)))
    for a, b in zip(flow.flow(x), block_spin_flow(x, 3, 2), strict=True):
        np.testing.assert_array_equal(a, b)
    steps = flow.flow(x, include_input=True)
    assert [s.shape for s in steps] == [(6, 27, 27), (6, 9, 9), (6, 3, 3)]


def test_spin_flip_symmetric_drops_the_intercept():
    x = np.random.default_rng(3).integers(0, 2, size=(5, 9, 9))
    # a huge threshold: every block "up" unless the rule is made symmetric
    biased = RSMIFlow.from_filters(np.ones((1, 9)), [100.0], spin_flip_symmetric=False)
    assert (biased.transform(x) == 1).all()
    symmetric = RSMIFlow.from_filters(np.ones((1, 9)), [100.0])
    np.testing.assert_array_equal(symmetric.transform(x), block_spin(x, 3))
    # symmetric rules commute with flipping every spin
    np.testing.assert_array_equal(
        symmetric.transform(2 * x - 1), -symmetric.transform(1 - 2 * x)
    )


def test_even_blocks_break_exact_ties_with_the_tie_rule():
    x = np.zeros((1, 2, 2), dtype=np.int8)
    x[0, 0] = 1  # top row up, bottom row down: score 0 under uniform weights
    first = RSMIFlow.from_filters(np.ones((1, 4)), factor=2, tie_break="first")
    down = RSMIFlow.from_filters(np.ones((1, 4)), factor=2, tie_break="down")
    assert first.transform(x)[0, 0, 0] == 1 and down.transform(x)[0, 0, 0] == 0


def test_from_filters_validates():
    with pytest.raises(ValueError, match="3x3 block has 9"):
        RSMIFlow.from_filters(np.ones((1, 4)))
    with pytest.raises(ValueError, match="finite"):
        RSMIFlow.from_filters(np.full((1, 9), np.nan))
    with pytest.raises(ValueError, match="not divisible"):
        RSMIFlow.from_filters(np.ones((2, 9))).transform(np.zeros((1, 6, 6)))


def _fast_learner(**kw):
    return MIMaximizingCoarseGrainer(
        symmetric=False, max_epochs=kw.pop("max_epochs", 4), batch_size=128, **kw
    )


def test_rsmi_flow_fit_learns_one_rule_per_step():
    x = sample_ising(20, 27, random_state=1)
    flow = RSMIFlow(
        n_steps=2, buffer=1, environment_width=1, n_windows=1000,
        coarse_grainer=_fast_learner(), random_state=0,
    ).fit(x)  # fmt: skip
    assert flow.filters_.shape == (2, 9) and flow.intercepts_.shape == (2,)
    assert len(flow.coarse_grainers_) == 2 and flow.sizes_ == [(27, 27), (9, 9)]
    # normalised: unit norm, non-negative sum (the majority's orientation)
    np.testing.assert_allclose(np.linalg.norm(flow.filters_, axis=1), 1.0)
    assert (flow.filters_.sum(axis=1) >= 0).all()
    assert np.isfinite(flow.mi_).all()
    assert flow.transform(x).shape == (20, 3, 3)
    # the same random_state gives the same flow
    again = RSMIFlow(
        n_steps=2, buffer=1, environment_width=1, n_windows=1000,
        coarse_grainer=_fast_learner(), random_state=0,
    ).fit(x)  # fmt: skip
    np.testing.assert_array_equal(again.filters_, flow.filters_)


def test_rsmi_flow_clones_pickles_and_refuses_unfitted_use():
    flow = RSMIFlow(
        n_steps=1, buffer=1, environment_width=1, n_windows=500,
        coarse_grainer=_fast_learner(), random_state=3,
    )  # fmt: skip
    assert clone(flow).get_params()["n_windows"] == 500
    with pytest.raises(NotFittedError):
        flow.transform(np.zeros((1, 9, 9), dtype=np.int8))
    x = sample_ising(6, 27, random_state=2)
    flow.fit(x)
    again = pickle.loads(pickle.dumps(flow))
    np.testing.assert_array_equal(again.transform(x), flow.transform(x))
    assert not hasattr(clone(flow), "filters_")


def test_rsmi_flow_fit_errors_name_the_problem():
    x = np.zeros((2, 9, 9), dtype=np.int8)
    with pytest.raises(ValueError, match=r"step 1 of 1 .* window 11"):
        RSMIFlow(buffer=2, environment_width=2).fit(x)
    with pytest.raises(ValueError, match="step 2 of 2"):
        RSMIFlow(n_steps=2, buffer=0, environment_width=1).fit(x)
    x = sample_ising(4, 9, random_state=0)
    flow = RSMIFlow(
        buffer=0, environment_width=1, n_windows=200,
        coarse_grainer=_fast_learner(n_components=2, max_epochs=1),
    )  # fmt: skip
    with pytest.raises(ValueError, match="n_components=1"):
        flow.fit(x)


@pytest.mark.slow
def test_learned_rule_at_tc_is_close_to_majority():
    # RSMI on critical 3x3 blocks learns a rule that weights the block boundary;
    # measured with the defaults on 200 lattices of 81x81: it agrees with the
    # majority rule on ~97.5% of blocks. 90% leaves room for seed-to-seed scatter.
    x = sample_ising(100, 81, T_C, random_state=5)
    flow = RSMIFlow(n_windows=10000, random_state=0).fit(x)
    agree = np.mean(flow.transform(x) == block_spin(x, 3))
    assert agree > 0.9
    assert flow.filters_[0].min() > -0.3  # no anti-aligned site


# ------------------------------------------------------------------ observables
def test_lattice_observables_match_the_sampler():
    x, obs = sample_ising(
        5, 16, 2.5, spins="pm1", random_state=0, return_observables=True
    )
    mine = lattice_observables(x)
    np.testing.assert_allclose(mine.magnetization, obs.magnetization, atol=1e-12)
    # energy per spin = -(2N bonds)/N * mean bond = -2 nn_correlation
    np.testing.assert_allclose(-2 * mine.nn_correlation, obs.energy, atol=1e-12)
    np.testing.assert_allclose(
        lattice_observables((x + 1) // 2).nn_correlation, mine.nn_correlation
    )


def test_binder_cumulant_limits():
    rng = np.random.default_rng(0)
    assert binder_cumulant([0.3, -0.3, 0.3, -0.3]) == pytest.approx(2 / 3)
    # Gaussian: U4 = 0; the estimator's sd for N = 200_000 is ~0.004 (delta
    # method on the fourth moment), so 0.02 is 5 sd
    assert abs(binder_cumulant(rng.normal(size=200_000))) < 0.02
    u = binder_cumulant(rng.normal(size=(3, 50_000)), axis=1)
    assert u.shape == (3,)


# ------------------------------------------------------------------ crossings
def test_find_crossing_is_exact_on_quadratics():
    t = np.linspace(2.20, 2.34, 7)
    tc, u0 = 2.2691853, 0.61
    ya = u0 - 9.0 * (t - tc) + 40.0 * (t - tc) ** 2
    yb = u0 - 3.0 * (t - tc) - 15.0 * (t - tc) ** 2
    c = find_crossing(t, ya, yb, degree=2)
    assert c.x == pytest.approx(tc, abs=1e-10)
    assert c.y == pytest.approx(u0, abs=1e-10)
    assert c.slope_a == pytest.approx(-9.0, abs=1e-8)
    assert c.slope_a / c.slope_b == pytest.approx(3.0, abs=1e-8)


def test_find_crossing_with_separate_windows_and_many_columns():
    tc = 2.27
    ta = tc + np.linspace(-0.02, 0.02, 7)
    tb = tc + np.linspace(-0.06, 0.06, 7)
    slopes = np.array([-30.0, -20.0, -10.0])
    ya = 0.6 + np.outer(ta - tc, slopes)
    yb = 0.6 + np.outer(tb - tc, slopes / 3) + 0.5 * np.outer((tb - tc) ** 2, [1, 1, 1])
    c = find_crossing(ta, ya, yb, x_b=tb, degree=2)
    np.testing.assert_allclose(c.x, tc, atol=1e-9)
    np.testing.assert_allclose(c.slope_a / c.slope_b, 3.0, rtol=1e-7)


def test_find_crossing_without_a_crossing_is_nan():
    t = np.linspace(0, 1, 5)
    c = find_crossing(t, t, t + 1.0, degree=1)
    assert math.isnan(c.x) and math.isnan(c.slope_a)


def test_find_crossing_validates():
    t = np.linspace(0, 1, 3)
    with pytest.raises(ValueError, match="at least 4 distinct"):
        find_crossing(t, t, -t, degree=3)
    with pytest.raises(ValueError, match="one row per abscissa"):
        find_crossing(t, t[:2], -t)
    with pytest.raises(ValueError, match="finite"):
        find_crossing(t, [0, np.nan, 1], -t)


def _mixture(mu: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Magnetisations ±mu + N(0, 1): U4 = 2 mu^4 / (3 (mu^2 + 1)^2) exactly."""
    return rng.choice([-mu, mu], size=n) + rng.normal(size=n)


def test_mcrg_matching_recovers_a_known_crossing_and_nu():
    # Two synthetic "lattice sizes": mu_a(T) = mu* - s_a (T - Tc) and
    # mu_b = mu* - s_b (T - Tc), so U4 curves cross at Tc and the slope ratio is
    # s_a / s_b = 3^(1/nu) with nu = 1 (b = 3). Windows as in the study.
    rng = np.random.default_rng(0)
    tc, mu_star, s_b = 2.2692, 2.0, 10.0
    s_a = 3.0 * s_b
    ta = tc + np.linspace(-0.018, 0.018, 7)
    tb = tc + np.linspace(-0.054, 0.054, 7)
    large = [_mixture(mu_star - s_a * (t - tc), 20_000, rng) for t in ta]
    small = [_mixture(mu_star - s_b * (t - tc), 20_000, rng) for t in tb]
    chains = [np.repeat(np.arange(400), 50)] * 7
    res = mcrg_matching(
        ta, large, small, temperatures_small=tb, factor=3, groups_large=chains,
        groups_small=chains, n_bootstrap=300, random_state=0,
    )  # fmt: skip
    u_star = 2 * mu_star**4 / (3 * (mu_star**2 + 1) ** 2)
    assert res.tc_low < tc < res.tc_high
    assert res.nu_low < 1.0 < res.nu_high
    assert res.value_low < u_star < res.value_high
    # the interval is informative: its width was 0.101 ± 0.010 (mean ± sd) over
    # 12 seeds of these data; the bound is the mean plus 5 sd
    assert res.nu_high - res.nu_low < 0.15
    assert res.n_failed == 0


def test_mcrg_bootstrap_resamples_whole_chains():
    # Configurations of one chain share an offset: grouping by chain must widen
    # the interval (here ~sqrt(50) times the per-configuration noise).
    rng = np.random.default_rng(1)
    t = np.linspace(2.25, 2.29, 5)
    chains = np.repeat(np.arange(20), 50)

    def sample(slope: float, tk: float) -> np.ndarray:
        return (
            0.6
            + slope * (tk - 2.27)
            + rng.normal(0, 0.05, 20)[chains]
            + rng.normal(0, 0.05, 1000)
        )

    large = [sample(-30, tk) for tk in t]
    small = [sample(-10, tk) for tk in t]
    kw = {"factor": 3, "statistic": "mean", "n_bootstrap": 300, "random_state": 0}
    grouped = mcrg_matching(t, large, small, groups_large=[chains] * 5,
                            groups_small=[chains] * 5, **kw)  # fmt: skip
    naive = mcrg_matching(t, large, small, **kw)
    assert grouped.tc_high - grouped.tc_low > 3 * (naive.tc_high - naive.tc_low)


def test_mcrg_matching_warns_when_the_window_misses_the_crossing():
    rng = np.random.default_rng(2)
    t = np.linspace(2.0, 2.1, 5)  # the curves cross at 2.27, far outside
    large = [0.6 - 3 * (tk - 2.27) + rng.normal(0, 0.01, 200) for tk in t]
    small = [0.6 - 1 * (tk - 2.27) + rng.normal(0, 0.01, 200) for tk in t]
    with pytest.warns(ReliabilityWarning, match="Centre the window"):
        res = mcrg_matching(t, large, small, factor=3, statistic="mean",
                            n_bootstrap=50, random_state=0)  # fmt: skip
    assert math.isnan(res.tc)


def test_mcrg_matching_nu_is_nan_for_a_slope_ratio_below_one():
    # the smaller lattice steeper: no valid exponent (nu would be negative)
    rng = np.random.default_rng(3)
    t = np.linspace(2.25, 2.29, 5)
    large = [0.6 - 10 * (tk - 2.27) + rng.normal(0, 0.001, 400) for tk in t]
    small = [0.6 - 30 * (tk - 2.27) + rng.normal(0, 0.001, 400) for tk in t]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReliabilityWarning)
        res = mcrg_matching(t, large, small, factor=3, statistic="mean",
                            n_bootstrap=50, random_state=0)  # fmt: skip
    assert res.tc == pytest.approx(2.27, abs=1e-3)
    assert math.isnan(res.nu) and res.slope_ratio < 1


def test_mcrg_matching_validates():
    t = np.linspace(2.2, 2.3, 3)
    data = [np.zeros(10)] * 3
    with pytest.raises(ValueError, match="statistic"):
        mcrg_matching(t, data, data, factor=3, statistic="median")
    with pytest.raises(ValueError, match="one array per temperature"):
        mcrg_matching(t, data[:2], data, factor=3)
    with pytest.raises(ValueError, match="two independent groups"):
        mcrg_matching(t, data, data, factor=3, groups_large=[np.zeros(10)] * 3)
    with pytest.raises(ValueError, match="factor must be >= 2"):
        mcrg_matching(t, data, data, factor=1)
