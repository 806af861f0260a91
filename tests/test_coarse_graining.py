"""Tests for sk_rgmi.coarse_graining: fixed rules, learned coarse-grainer, optimum.

Physics data come from ``sk_rgmi.datasets`` (Wolff sampler): small lattices
(L = 32, a few hundred configurations, well under a second) by default, the original
notebook's size (L = 64, 400 configurations) in the slow tests.
"""

from __future__ import annotations

import itertools
import math
import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sk_rgmi import (
    BlockCoarseGrainer,
    MIMaximizingCoarseGrainer,
    PluginMIEstimator,
    exhaustive_binary_coarse_graining,
)
from sk_rgmi._counting import encode_rows, mi_from_codes
from sk_rgmi.datasets import T_C, sample_block_pairs, sample_ising

LN2 = math.log(2.0)


def plugin_mi(A: np.ndarray, B: np.ndarray) -> float:
    """Reference plug-in MI (nats) of the rows of A and B."""
    a, na = encode_rows(A)
    b, nb = encode_rows(B)
    return mi_from_codes(a, b, n_x=na, n_y=nb)


def symmetrize(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add the spin-flipped copy of every pair.

    The Ising model is exactly Z2-symmetric; a finite sample is not, by about 1% in
    the coarse MI here, which is enough to separate 'majority, ties up' from
    'majority, ties down' (equal in the model). Scoring on the symmetrised sample
    compares coarse-grainings on the model's footing.
    """
    return np.vstack([X, 1 - X]), np.vstack([Y, 1 - Y])


def cosine_to_uniform(w: np.ndarray) -> float:
    w = np.asarray(w, dtype=float).ravel()
    return float(w.sum() / (np.linalg.norm(w) * math.sqrt(w.size)))


@pytest.fixture(scope="module")
def critical_small():
    """Critical 2×2 pairs from 200 L=32 lattices: train and a large test sample."""
    lat = sample_ising(200, 32, T_C, random_state=1)
    X, Y = sample_block_pairs(lat, (2, 2), 10_000, random_state=2)
    Xt, Yt = symmetrize(*sample_block_pairs(lat, (2, 2), 100_000, random_state=3))
    return X, Y, Xt, Yt


# ------------------------------------------------------------ BlockCoarseGrainer
def test_block_mean_ring_mean_decimate() -> None:
    X = np.arange(18, dtype=float).reshape(2, 9)
    np.testing.assert_allclose(
        BlockCoarseGrainer("mean", block_shape=(3, 3)).fit_transform(X),
        X.mean(axis=1, keepdims=True),
    )
    ring = np.delete(X, 4, axis=1).mean(axis=1, keepdims=True)  # 8 non-centre sites
    np.testing.assert_allclose(
        BlockCoarseGrainer("ring-mean", block_shape=(3, 3)).fit_transform(X), ring
    )
    # 2×2 has no interior: the ring mean is the mean.
    X4 = np.array([[1, 0, 1, 1], [0, 0, 0, 1]])
    np.testing.assert_allclose(
        BlockCoarseGrainer("ring-mean").fit_transform(X4),
        BlockCoarseGrainer("mean").fit_transform(X4),
    )
    np.testing.assert_array_equal(
        BlockCoarseGrainer("decimate").fit_transform(X4), [[1], [0]]
    )
    # 4×4 ring: the 12 boundary sites.
    X16 = np.arange(16.0)[None, :]
    inner = [5, 6, 9, 10]
    expect = np.delete(X16, inner, axis=1).mean()
    got = BlockCoarseGrainer("ring-mean", block_shape=(4, 4)).fit_transform(X16)
    np.testing.assert_allclose(got, [[expect]])


def test_block_majority_ties_and_codings() -> None:
    X = np.array(
        [
            [1, 1, 1, 0],  # 3 up -> 1
            [0, 0, 0, 1],  # 1 up -> 0
            [1, 0, 0, 1],  # tie, first spin up -> 1
            [0, 1, 1, 0],  # tie, first spin down -> 0
        ]
    )
    maj = BlockCoarseGrainer("majority").fit(X)
    np.testing.assert_array_equal(maj.transform(X).ravel(), [1, 0, 1, 0])
    # -1/+1 spins come back as -1/+1.
    np.testing.assert_array_equal(maj.transform(2 * X - 1).ravel(), [1, -1, 1, -1])
    # 3×3 never ties.
    X9 = np.random.default_rng(0).integers(0, 2, size=(50, 9))
    out = BlockCoarseGrainer("majority", block_shape=(3, 3)).fit_transform(X9)
    np.testing.assert_array_equal(out.ravel(), (X9.sum(1) >= 5).astype(int))


def test_block_majority_random_ties_are_fair_and_seeded() -> None:
    ties = np.tile([[1, 0, 0, 1]], (4000, 1))
    cg = BlockCoarseGrainer("majority", tie_break="random", random_state=0).fit(ties)
    a = cg.transform(ties).ravel()
    np.testing.assert_array_equal(a, cg.transform(ties).ravel())  # same seed
    # Fair coin: standard error sqrt(0.25 / 4000) = 0.0079; 5 sigma.
    assert abs(a.mean() - 0.5) < 5 * 0.0079


def test_block_coarse_grainer_errors_and_feature_names() -> None:
    X = np.zeros((5, 4))
    with pytest.raises(ValueError, match=r"block_shape \(3, 3\) has 9 sites"):
        BlockCoarseGrainer(block_shape=(3, 3)).fit(X)
    with pytest.raises(ValueError, match="two positive integers"):
        BlockCoarseGrainer(block_shape=(2, 0)).fit(X)
    with pytest.raises(ValueError, match="binary spins"):
        BlockCoarseGrainer("majority").fit(np.full((5, 4), 0.5))
    with pytest.raises(NotFittedError):
        BlockCoarseGrainer().transform(X)
    cg = BlockCoarseGrainer().fit(X)
    with pytest.raises(ValueError, match="features"):
        cg.transform(np.zeros((2, 9)))
    assert list(cg.get_feature_names_out()) == ["blockcoarsegrainer0"]


def test_pipeline_reproduces_notebook_frozen_mean_rows() -> None:
    """make_pipeline(BlockCoarseGrainer("mean"), PluginMIEstimator()) = the original
    notebook's frozen 2×2 rows: the count-based MI of the two block means (y
    coarse-grained with the same transformer, since a Pipeline transforms X only)."""
    lat = sample_ising(100, 32, T_C, random_state=5)
    X, Y = sample_block_pairs(lat, (2, 2), 20_000, random_state=6)
    # The original notebook: X = 1/4 * sum over the block; "analytic" (plug-in) MI
    # of the means.
    notebook_value = plugin_mi(X.sum(axis=1) / 4, Y.sum(axis=1) / 4)
    cg = BlockCoarseGrainer("mean")
    pipe = make_pipeline(cg, PluginMIEstimator(correction="none"))
    pipe.fit(X, cg.fit(Y).transform(Y))
    assert pipe[-1].mi_plugin_ == pytest.approx(notebook_value, abs=1e-12)
    Xc, Yc = cg.transform_pair(X, Y)
    assert plugin_mi(Xc, Yc) == pytest.approx(notebook_value, abs=1e-12)
    # The mean keeps less than the fine-grained blocks (data processing), and at
    # T_c a good part of it (original notebook: 0.371 of 0.422 nats).
    fine = plugin_mi(X, Y)
    assert 0.7 * fine < notebook_value < fine


# ---------------------------------------------------------------- exhaustive search
def _brute_force(X, Y, symmetric):
    d = X.shape[1]
    states = np.array(list(itertools.product([0, 1], repeat=d)))
    idx_x = X @ (1 << np.arange(d - 1, -1, -1))
    idx_y = Y @ (1 << np.arange(d - 1, -1, -1)) if symmetric else None
    out = np.zeros(2 ** (2**d))
    for k in range(2 ** (2**d)):
        table = (k >> np.arange(2**d)) & 1
        fx = table[idx_x]
        fy = table[idx_y] if symmetric else Y
        out[k] = plugin_mi(fx, fy)
    return out, states


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("symmetric", [True, False])
def test_exhaustive_matches_brute_force(d: int, symmetric: bool) -> None:
    rng = np.random.default_rng(d)
    X = rng.integers(0, 2, size=(400, d))
    Y = X ^ (rng.random((400, d)) < 0.2)  # noisy copy: every function scores > 0
    if not symmetric:
        Y = np.c_[Y, rng.integers(0, 3, size=400)]  # any discrete environment
    res = exhaustive_binary_coarse_graining(X, Y, symmetric=symmetric)
    expected, states = _brute_force(X, Y, symmetric)
    np.testing.assert_allclose(res.mi, expected, atol=1e-12)
    np.testing.assert_array_equal(res.states, states)
    best = np.argmax(
        np.where(
            np.isin(np.arange(expected.size), [0, expected.size - 1]), -1, expected
        )
    )
    assert res.best_mi == pytest.approx(expected[best], abs=1e-12)
    assert res.best_truth_table[0] == 0  # canonical member of {f, 1 - f}
    assert res.mi[res.best_index] == pytest.approx(res.best_mi, abs=1e-12)


def test_exhaustive_four_spins_spot_check_and_complements() -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(1000, 4))
    Y = X ^ (rng.random((1000, 4)) < 0.3)
    res = exhaustive_binary_coarse_graining(X, Y)
    assert res.mi.shape == (2**16,)
    w = 1 << np.arange(3, -1, -1)
    for k in rng.integers(1, 2**16 - 1, size=25):
        table = (k >> np.arange(16)) & 1
        assert res.mi[k] == pytest.approx(plugin_mi(table[X @ w], table[Y @ w]))
    # f and 1 - f carry the same MI; constants carry none.
    k = np.arange(2**16)
    np.testing.assert_allclose(res.mi, res.mi[(2**16 - 1) ^ k], atol=1e-12)
    assert res.mi[0] == res.mi[-1] == 0.0
    bits = exhaustive_binary_coarse_graining(X, Y, units="bits")
    assert bits.best_mi == pytest.approx(res.best_mi / LN2)


def test_exhaustive_critical_optimum_is_majority(critical_small) -> None:
    """At T_c the best one-bit coarse-graining of a 2×2 block is the majority rule
    with all ties sent to one side (the uniform 'block spin')."""
    _, _, Xt, Yt = critical_small
    res = exhaustive_binary_coarse_graining(Xt, Yt)
    n_up = res.states.sum(axis=1)
    majority_ties_up = (n_up >= 2).astype(int)
    majority_ties_down = (n_up >= 3).astype(int)
    tables = {tuple(t) for t in res.best_truth_tables}
    assert tables <= {
        tuple(majority_ties_up),
        tuple(1 - majority_ties_up),
        tuple(majority_ties_down),
        tuple(1 - majority_ties_down),
    }


def test_exhaustive_errors() -> None:
    X = np.zeros((10, 4), dtype=int)
    with pytest.raises(ValueError, match="binary spins"):
        exhaustive_binary_coarse_graining(X + 2, X)
    with pytest.raises(ValueError, match="at most 4"):
        exhaustive_binary_coarse_graining(np.zeros((10, 5)), np.zeros((10, 5)))
    with pytest.raises(ValueError, match="same function"):
        exhaustive_binary_coarse_graining(X, np.zeros((10, 3)))
    with pytest.raises(ValueError, match="units"):
        exhaustive_binary_coarse_graining(X, X, units="hartley")
    with pytest.raises(ValueError, match="NaN"):
        exhaustive_binary_coarse_graining(np.full((10, 4), np.nan), X)


# ------------------------------------------------------ MIMaximizingCoarseGrainer
def _shared_spin_pairs(n: int = 3000, seed: int = 0):
    rng = np.random.default_rng(seed)
    shared = rng.integers(0, 2, size=(n, 1))
    X = np.hstack([rng.integers(0, 2, size=(n, 1)), shared, rng.integers(0, 2, (n, 2))])
    Y = np.hstack([rng.integers(0, 2, size=(n, 1)), shared, rng.integers(0, 2, (n, 2))])
    return X, Y


def test_learns_the_shared_spin() -> None:
    """Blocks share one spin, the rest is noise: the one-unit filter is that spin
    and the coarse MI is ln 2 (plug-in on 600 held-out pairs: the shared bit is
    exact, the 2×2 table's plug-in bias is ~1/(2N) < 0.001)."""
    X, Y = _shared_spin_pairs()
    cg = MIMaximizingCoarseGrainer(max_epochs=15, random_state=0).fit(X, Y)
    assert abs(cg.components_[0, 1]) > 0.95
    assert cg.mi_ == pytest.approx(LN2, abs=0.02)
    assert cg.score(X, Y) == pytest.approx(LN2, abs=0.02)
    assert cg.transform(X).shape == (len(X), 1)
    assert set(np.unique(cg.transform(X))) <= {0.0, 1.0}
    assert cg.n_features_in_ == 4
    assert list(cg.get_feature_names_out()) == ["mimaximizingcoarsegrainer0"]
    # history_: per-epoch MI, temperature and normalised filters.
    assert len(cg.history_) == 15
    row = cg.history_[-1]
    assert {"train_mi", "valid_mi", "temperature", "filters", "intercept"} <= set(row)
    assert row["temperature"] == pytest.approx(0.1)
    np.testing.assert_allclose(np.linalg.norm(row["filters"]), 1.0)
    # units
    bits = MIMaximizingCoarseGrainer(max_epochs=15, random_state=0, units="bits")
    assert bits.fit(X, Y).mi_ == pytest.approx(cg.mi_ / LN2)


def test_components_are_normalised_and_fit_is_reproducible() -> None:
    X, Y = _shared_spin_pairs(800)
    a = MIMaximizingCoarseGrainer(2, max_epochs=4, random_state=3).fit(X, Y)
    b = MIMaximizingCoarseGrainer(2, max_epochs=4, random_state=3).fit(X, Y)
    np.testing.assert_array_equal(a.components_, b.components_)
    assert a.mi_ == b.mi_
    np.testing.assert_allclose(np.linalg.norm(a.components_, axis=1), 1.0)
    assert np.all(a.components_.sum(axis=1) >= 0)
    assert a.intercept_.shape == (2,)
    # transform is the documented hard code of the normalised filters
    np.testing.assert_array_equal(
        a.transform(X), (X @ a.components_.T + a.intercept_ > 0).astype(float)
    )
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.transform(X), a.transform(X))
    assert restored.score(X, Y) == pytest.approx(a.score(X, Y))


@pytest.mark.parametrize(
    "params, X_shape, y_shape, match",
    [
        ({"n_components": 0}, (50, 4), (50, 4), "n_components"),
        ({"n_components": 5}, (50, 4), (50, 4), "n_components=5 must be between"),
        ({}, (50, 4), (50, 3), "same filters, so y must have"),
        ({"temperature": (0.75, -1.0)}, (50, 4), (50, 4), "positive"),
        ({"temperature": (1.0, 0.5, 0.1)}, (50, 4), (50, 4), "start, end"),
        ({"output": "real"}, (50, 4), (50, 4), "output"),
        ({"loss": "nope"}, (50, 4), (50, 4), "loss"),
        ({}, (3, 4), (3, 4), "sample"),
    ],
)
def test_bad_input_errors(params, X_shape, y_shape, match) -> None:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=X_shape)
    Y = rng.integers(0, 2, size=y_shape)
    with pytest.raises(ValueError, match=match):
        MIMaximizingCoarseGrainer(max_epochs=1, batch_size=8, **params).fit(X, Y)


def test_transform_before_fit_and_feature_mismatch() -> None:
    with pytest.raises(NotFittedError):
        MIMaximizingCoarseGrainer().transform(np.zeros((3, 4)))
    X, Y = _shared_spin_pairs(200)
    cg = MIMaximizingCoarseGrainer(max_epochs=1, batch_size=32, random_state=0)
    cg.fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        cg.transform(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="features"):
        cg.transform_pair(X, Y[:, :3])


def test_continuous_mode_is_degenerate(critical_small) -> None:
    """The original notebook's real linear map keeps (almost) all the information
    whatever Λ: a generic real filter is one-to-one on the 16 states of a 2×2 block,
    so the plug-in MI of the codes Λx equals the fine-grained MI exactly."""
    X, Y, Xt, Yt = critical_small
    fine = plugin_mi(Xt, Yt)
    rng = np.random.default_rng(0)
    for _ in range(5):
        w = rng.normal(size=4)  # any random filter, mixed signs included
        assert plugin_mi(Xt @ w, Yt @ w) == pytest.approx(fine, abs=1e-12)
    # ... so MI cannot select a filter: the fitted continuous coarse-grainer keeps
    # everything too, whatever filter it ends with.
    cg = MIMaximizingCoarseGrainer(output="continuous", max_epochs=3, random_state=0)
    cg.fit(X, Y)
    assert plugin_mi(*cg.transform_pair(Xt, Yt)) == pytest.approx(fine, abs=1e-12)
    # One binary unit keeps at most ln 2 and, at T_c, clearly less than the fine MI.
    binary = MIMaximizingCoarseGrainer(max_epochs=3, random_state=0).fit(X, Y)
    assert plugin_mi(*binary.transform_pair(Xt, Yt)) < 0.8 * fine
    assert np.isfinite(cg.mi_)


def _check_critical_filter(cg, Xt, Yt, optimum):
    w = cg.components_[0]
    coarse = plugin_mi(*cg.transform_pair(Xt, Yt))
    return cosine_to_uniform(w), coarse / optimum


def _block_spin_floor(Xt, Yt) -> tuple[float, float]:
    """(optimum, worst block spin): the best Boolean function of a 2×2 block, and
    the least MI of the 64 majority rules that differ only in how they send the six
    ties (two up-spins) -- what a uniform filter gives once small weight
    differences split the ties (the spin-flip symmetric threshold has no gradient
    to push them to one side)."""
    res = exhaustive_binary_coarse_graining(Xt, Yt)
    ones = res.states.sum(axis=1)
    tables = (np.arange(2**16)[:, None] >> np.arange(16)) & 1
    majority = np.all(tables[:, ones >= 3] == 1, axis=1) & np.all(
        tables[:, ones <= 1] == 0, axis=1
    )
    return res.best_mi, res.mi[majority].min()


def test_critical_filter_is_uniform_block_spin(critical_small) -> None:
    """Issue criterion, fast version: one binary unit on critical 2×2 pairs learns
    the uniform filter (cosine >= 0.95) and keeps at least what the worst tie split
    of the majority rule keeps (0.968 of the exhaustive optimum here), for three
    seeds. The test sample (200,000 symmetrised pairs) fixes MI to ~1e-3; measured
    on 10 seeds: cosine 0.985-0.999, 0.968-0.997 of the optimum."""
    X, Y, Xt, Yt = critical_small
    optimum, floor = _block_spin_floor(Xt, Yt)
    for seed in range(3):
        cg = MIMaximizingCoarseGrainer(max_epochs=20, random_state=seed).fit(X, Y)
        cosine, ratio = _check_critical_filter(cg, Xt, Yt, optimum)
        assert cosine >= 0.95, (seed, cg.components_)
        assert ratio >= floor / optimum - 1e-3, (seed, ratio)


@pytest.mark.slow
def test_critical_filter_is_uniform_block_spin_notebook_scale() -> None:
    """Issue criterion at the original notebook's scale: 20,000 pairs from 400 L=64
    critical lattices, default settings, five seeds (floor as in the fast test)."""
    lat = sample_ising(400, 64, T_C, random_state=11)
    X, Y = sample_block_pairs(lat, (2, 2), 20_000, random_state=12)
    Xt, Yt = symmetrize(*sample_block_pairs(lat, (2, 2), 200_000, random_state=13))
    optimum, floor = _block_spin_floor(Xt, Yt)
    for seed in range(5):
        cg = MIMaximizingCoarseGrainer(random_state=seed).fit(X, Y)
        cosine, ratio = _check_critical_filter(cg, Xt, Yt, optimum)
        assert cosine >= 0.95, (seed, cg.components_)
        assert ratio >= floor / optimum - 1e-3, (seed, ratio)


@pytest.mark.parametrize(
    "temperature, low, high",
    [
        # Ordered phase: the block magnetisations agree, one bit -> ln 2. At T=1.5
        # the minority-spin blocks cost ~2% (exhaustive optimum 0.676 measured).
        (1.5, 0.93 * LN2, LN2 + 0.01),
        # Paramagnet: neighbouring blocks nearly independent. At T=10 the optimum
        # is < 0.002 nats; plug-in bias on 2,000 held-out pairs ~1/(2N) = 0.00025.
        (10.0, 0.0, 0.01),
    ],
)
def test_phases_low_and_high_temperature(temperature, low, high) -> None:
    lat = sample_ising(200, 32, temperature, random_state=7)
    X, Y = sample_block_pairs(lat, (2, 2), 10_000, random_state=8)
    cg = MIMaximizingCoarseGrainer(max_epochs=20, random_state=0).fit(X, Y)
    assert low <= cg.mi_ <= high


def test_alternating_schedule_runs_and_learns(critical_small) -> None:
    X, Y, Xt, Yt = critical_small
    cg = MIMaximizingCoarseGrainer(
        schedule="alternating", critic_steps=2, max_epochs=21, random_state=0
    ).fit(X, Y)
    phases = [row["phase"] for row in cg.history_]
    assert phases[:3] == ["critic", "critic", "coarse"]
    filters = np.array([row["filters"] for row in cg.history_])
    assert np.array_equal(filters[1], filters[0])  # critic epochs: filter frozen
    optimum = exhaustive_binary_coarse_graining(Xt, Yt).best_mi
    assert plugin_mi(*cg.transform_pair(Xt, Yt)) >= 0.9 * optimum


def test_raw_environment_rsmi_form() -> None:
    """symmetric=False: y is the raw environment; mi_ is the critic's held-out
    bound (a lower bound, so below the plug-in MI of the same codes + bias)."""
    X, Y = _shared_spin_pairs(3000)
    env = np.c_[Y, np.random.default_rng(1).normal(size=len(Y))]  # any real y
    cg = MIMaximizingCoarseGrainer(symmetric=False, max_epochs=15, random_state=0)
    cg.fit(X, env)
    assert abs(cg.components_[0, 1]) > 0.9
    assert 0.5 < cg.mi_ < LN2 + 0.05
    assert cg.n_features_y_ == 5


def test_pipeline_and_grid_search(critical_small) -> None:
    X, Y, _, _ = critical_small
    X, Y = X[:4000], Y[:4000]
    pipe = make_pipeline(
        MIMaximizingCoarseGrainer(max_epochs=5, random_state=0),
        PluginMIEstimator(correction="none"),
    )
    pipe.fit(X, Y)
    # The pipeline measures I(coarse(X) : y) with the raw y (Pipelines transform X
    # only) -- the same number as the estimator on the transformed X.
    H = pipe[0].transform(X)
    direct = PluginMIEstimator(correction="none").fit(H, Y)
    assert pipe[-1].mi_ == pytest.approx(direct.mi_)
    assert np.isfinite(pipe.score(X, Y))
    grid = GridSearchCV(
        MIMaximizingCoarseGrainer(max_epochs=4, random_state=0),
        {"lr": [1e-3, 5e-3], "temperature": [(0.75, 0.1), (1.0, 0.2)]},
        cv=2,
    ).fit(X, Y)
    scores = grid.cv_results_["mean_test_score"]
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
    assert np.all(scores >= 0) and np.all(scores <= LN2 + 0.01)
    assert grid.best_params_["lr"] in (1e-3, 5e-3)


@pytest.mark.slow
def test_two_units_at_criticality() -> None:
    """Two binary units keep clearly more than one and about as much as the
    3-level block magnetisation code, less than the fine-grained blocks. Measured
    (3 seeds, 400k symmetrised test pairs, MI known to ~1e-3): 0.348-0.354 nats vs
    one-unit optimum 0.284, 3-level magnetisation 0.349, fine-grained 0.433."""
    lat = sample_ising(400, 64, T_C, random_state=11)
    X, Y = sample_block_pairs(lat, (2, 2), 20_000, random_state=12)
    Xt, Yt = symmetrize(*sample_block_pairs(lat, (2, 2), 200_000, random_state=13))
    fine = plugin_mi(Xt, Yt)
    one = exhaustive_binary_coarse_graining(Xt, Yt).best_mi
    n_up_x, n_up_y = Xt.sum(1), Yt.sum(1)
    three_level = plugin_mi(
        np.c_[n_up_x >= 2, n_up_x >= 3], np.c_[n_up_y >= 2, n_up_y >= 3]
    )
    for seed in range(3):
        cg = MIMaximizingCoarseGrainer(2, random_state=seed).fit(X, Y)
        two = plugin_mi(*cg.transform_pair(Xt, Yt))
        assert one * 1.15 < two < fine
        assert two > 0.98 * three_level


# ------------------------------------------------------- no silent wrong answer
@pytest.mark.parametrize("scale", [1.0, 1e6, 1e30])
def test_learned_rsmi_unit_does_not_depend_on_input_scale(scale) -> None:
    # Regression: symmetric=False fed the raw environment to the critic, so 2-D
    # Gaussians gave 0.078 nats at scale 1, -338,101 at 1e6 and -6e29 at 1e30. MI
    # does not depend on scale: the same data at any scale give the same fit up to
    # float32 rounding of the inputs (|difference| well under the estimate's noise).
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 2))
    y = x @ np.array([[0.8], [0.3]]) + 0.5 * rng.normal(size=(3000, 1))
    ref = MIMaximizingCoarseGrainer(symmetric=False, max_epochs=5, random_state=0)
    ref.fit(x, y)
    cg = MIMaximizingCoarseGrainer(symmetric=False, max_epochs=5, random_state=0)
    cg.fit(x * scale, y * scale)
    assert 0.0 < ref.mi_ < math.log(2)  # one binary unit
    assert cg.mi_ == pytest.approx(ref.mi_, abs=0.02)
    assert cg.score(x * scale, y * scale) == pytest.approx(ref.score(x, y), abs=0.02)


def test_transform_pair_accepts_dataframes_with_their_own_column_names() -> None:
    # Regression: the neighbour block's DataFrame has other column names by design.
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.integers(0, 2, (50, 4)), columns=["a0", "a1", "a2", "a3"])
    Y = pd.DataFrame(rng.integers(0, 2, (50, 4)), columns=["b0", "b1", "b2", "b3"])
    for cg in (
        BlockCoarseGrainer("majority"),
        MIMaximizingCoarseGrainer(max_epochs=1, batch_size=8, random_state=0),
    ):
        cg.fit(X, Y)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no feature-name warning either
            Xc, Yc = cg.transform_pair(X, Y)
        np.testing.assert_array_equal(Xc, cg.transform(X))
        Y.columns = X.columns  # the same block under X's names: the same codes
        np.testing.assert_array_equal(Yc, cg.transform(Y))
        with pytest.raises(ValueError, match="X's 4 features"):
            cg.transform_pair(X, Y.iloc[:, :3])


def test_messages_are_true_for_the_class_that_raises_them() -> None:
    # Regression: validation_fraction=0.99 suggested batch_size='auto', which the
    # coarse-grainer does not accept.
    X = np.random.default_rng(0).integers(0, 2, (40, 4))
    with pytest.raises(ValueError) as info:
        MIMaximizingCoarseGrainer(validation_fraction=0.99, random_state=0).fit(X, X)
    assert "auto" not in str(info.value) and "too few" in str(info.value)
