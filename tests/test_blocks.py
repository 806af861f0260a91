"""Tests of sk_rgmi.datasets.blocks: block-spin, block pairs, visible/environment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sk_rgmi.datasets import (
    block_majority,
    block_spin,
    block_spin_flow,
    sample_block_pairs,
    sample_visible_environment,
)


def naive_majority(lattice: np.ndarray, f: int, tie: int) -> np.ndarray:
    """Loop reference for 0/1 input with a fixed tie value."""
    h, w = lattice.shape
    out = np.empty((h // f, w // f), dtype=np.int8)
    for i in range(h // f):
        for j in range(w // f):
            s = lattice[i * f : (i + 1) * f, j * f : (j + 1) * f].sum()
            out[i, j] = 1 if 2 * s > f * f else 0 if 2 * s < f * f else tie
    return out


# -------------------------------------------------------------------- block_spin
@pytest.mark.parametrize("factor", [1, 2, 3, 4])
def test_block_spin_majority_matches_loops(factor):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(3, 12, 12)).astype(np.int8)
    got = block_spin(x, factor, tie_break="up")
    assert got.dtype == np.int8 and got.shape == (3, 12 // factor, 12 // factor)
    for k in range(3):
        np.testing.assert_array_equal(got[k], naive_majority(x[k], factor, 1))
    np.testing.assert_array_equal(
        block_spin(x, factor, tie_break="down")[0], naive_majority(x[0], factor, 0)
    )


def test_block_spin_pm1_matches_01_and_keeps_encoding():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, size=(2, 9, 9)).astype(np.int8)
    a = block_spin(x, 3)
    b = block_spin(2 * x - 1, 3)
    np.testing.assert_array_equal(b, 2 * a - 1)
    assert set(np.unique(b)) <= {-1, 1}


def test_block_spin_repeated_81_and_2d_input():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 2, size=(81, 81))
    y = x
    for _ in range(4):
        y = block_spin(y, 3)
    assert y.shape == (1, 1)
    # one 81x81 majority differs in general from four 3x3 rounds; here both defined
    assert block_spin(x, 81, tie_break="up").shape == (1, 1)


def test_block_spin_tie_rules():
    x = np.array([[1, 0], [0, 1]])  # 2 up, 2 down: a tie
    assert block_spin(x, 2, tie_break="up")[0, 0] == 1
    assert block_spin(x, 2, tie_break="down")[0, 0] == 0
    assert block_spin(x, 2, tie_break="first")[0, 0] == 1
    assert block_spin(1 - x, 2, tie_break="first")[0, 0] == 0
    ties = np.tile(x, (1, 2000))  # 2000 tied blocks
    coins = block_spin(ties, 2, tie_break="random", random_state=0)
    # fair coin: mean 1/2, sd 1/sqrt(4 * 2000); 4 sigma
    assert abs(coins.mean() - 0.5) < 4 / math.sqrt(4 * 2000)
    np.testing.assert_array_equal(
        coins, block_spin(ties, 2, tie_break="random", random_state=0)
    )


def test_block_spin_mean_and_decimate():
    x = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 1], [0, 1, 1, 1]])
    np.testing.assert_allclose(block_spin(x, 2, rule="mean"), [[0.75, 0], [0.25, 1]])
    np.testing.assert_allclose(
        block_spin(2 * x - 1, 2, rule="mean"), [[0.5, -1], [-0.5, 1]]
    )
    np.testing.assert_array_equal(block_spin(x, 2, rule="decimate"), [[1, 0], [0, 1]])


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((np.zeros((10, 10)), 3), {}, ValueError, "not divisible"),
        ((np.zeros((9, 9)), 0), {}, ValueError, "factor"),
        ((np.zeros((9, 9)), 3), {"rule": "median"}, ValueError, "rule"),
        ((np.zeros((9, 9)), 3), {"tie_break": "coin"}, ValueError, "tie_break"),
        ((np.full((9, 9), 2), 3), {}, ValueError, "binary spins"),
        ((np.zeros(9), 3), {}, ValueError, "shape"),
        ((np.array([["a"] * 3] * 3), 3), {}, TypeError, "dtype"),
    ],
)
def test_block_spin_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        block_spin(*args, **kwargs)


# ---------------------------------------------------------------- block_majority
def test_block_majority_on_flattened_blocks():
    rng = np.random.default_rng(10)
    X = rng.integers(0, 2, size=(500, 4)).astype(np.int8)
    ones = X.sum(1)
    for tie_break, tie_value in [("up", 1), ("down", 0), ("first", X[:, 0])]:
        expected = np.where(2 * ones > 4, 1, np.where(2 * ones < 4, 0, tie_value))
        got = block_majority(X, tie_break=tie_break)
        assert got.dtype == np.int8 and got.shape == (500,)
        np.testing.assert_array_equal(got, expected)
        # ±1 input keeps its encoding; floats and bools holding spins are accepted
        np.testing.assert_array_equal(
            block_majority(2.0 * X - 1, tie_break=tie_break), 2 * expected - 1
        )
        np.testing.assert_array_equal(
            block_majority(X.astype(bool), tie_break=tie_break), expected
        )
    # odd blocks never tie: every rule agrees
    Y = rng.integers(0, 2, size=(200, 9))
    np.testing.assert_array_equal(
        block_majority(Y, tie_break="up"), block_majority(Y, tie_break="down")
    )


def test_block_majority_random_ties_fair_and_seeded():
    ties = np.tile([1, 0, 0, 1], (4000, 1))
    coins = block_majority(ties, random_state=[3, 4])
    # fair coin: mean 1/2, sd 1/sqrt(4 * 4000); 4 sigma
    assert abs(coins.mean() - 0.5) < 4 / math.sqrt(4 * 4000)
    np.testing.assert_array_equal(coins, block_majority(ties, random_state=[3, 4]))
    assert not np.array_equal(coins, block_majority(ties, random_state=5))


def test_block_majority_is_block_spins_rule():
    # block_spin of a lattice equals block_majority of its flattened blocks
    rng = np.random.default_rng(11)
    x = rng.integers(0, 2, size=(3, 8, 8)).astype(np.int8)
    blocks = x.reshape(3, 4, 2, 4, 2).transpose(0, 1, 3, 2, 4).reshape(-1, 4)
    for tie_break in ("up", "down", "first"):
        np.testing.assert_array_equal(
            block_spin(x, 2, tie_break=tie_break).ravel(),
            block_majority(blocks, tie_break=tie_break),
        )


def test_block_majority_same_as_block_coarse_grainer():
    from sk_rgmi import BlockCoarseGrainer

    X = np.random.default_rng(12).integers(0, 2, size=(300, 4))
    got = BlockCoarseGrainer("majority", tie_break="first").fit_transform(X)
    np.testing.assert_array_equal(got.ravel(), block_majority(X, tie_break="first"))


@pytest.mark.parametrize(
    ("blocks", "kwargs", "error", "match"),
    [
        (np.zeros(4), {}, ValueError, "n_blocks, n_sites"),
        (np.full((2, 4), 2), {}, ValueError, "binary spins"),
        (np.zeros((2, 4)), {"tie_break": "coin"}, ValueError, "tie_break"),
        (np.zeros((0, 4)), {}, ValueError, "empty"),
        (np.zeros((2, 4)), {"random_state": "x"}, TypeError, "random_state"),
    ],
)
def test_block_majority_bad_input(blocks, kwargs, error, match):
    with pytest.raises(error, match=match):
        block_majority(blocks, **kwargs)


@pytest.mark.parametrize("factor", [127, 128])
def test_block_spin_large_blocks_do_not_overflow(factor):
    # 127^2 sites are summed in int16 (2 * 16129 < 2^15), 128^2 in int64
    ones = np.ones((1, factor, factor), dtype=np.int8)
    assert block_spin(ones, factor)[0, 0, 0] == 1
    assert block_spin(-ones, factor)[0, 0, 0] == -1
    assert block_spin(0 * ones, factor)[0, 0, 0] == 0
    half = np.zeros((1, factor, factor), dtype=np.int8)
    half[0, : factor // 2 + 1] = 1  # a majority of rows up
    assert block_spin(half, factor)[0, 0, 0] == 1
    assert block_spin(half, factor, rule="mean")[0, 0, 0] == pytest.approx(
        (factor // 2 + 1) / factor
    )


# --------------------------------------------------------------- block_spin_flow
def test_block_spin_flow_equals_repeated_block_spin():
    rng = np.random.default_rng(13)
    x = rng.integers(0, 2, size=(4, 16, 16)).astype(np.int8)
    for rule in ("majority", "decimate"):
        steps = block_spin_flow(x, 2, 3, rule, tie_break="first")
        y = x
        for step in steps:
            y = block_spin(y, 2, rule, tie_break="first")
            np.testing.assert_array_equal(step, y)
        assert [s.shape for s in steps] == [(4, 8, 8), (4, 4, 4), (4, 2, 2)]
    # mean: step k is the mean over 2^k x 2^k blocks of the input
    for k, step in enumerate(block_spin_flow(2 * x - 1, 2, 3, "mean"), start=1):
        f = 2**k
        direct = (2 * x - 1).reshape(4, 16 // f, f, 16 // f, f).mean(axis=(2, 4))
        np.testing.assert_allclose(step, direct, atol=1e-12)
    # random ties: step 1 is block_spin with the same random_state
    flow = block_spin_flow(x, 2, 2, random_state=0)
    np.testing.assert_array_equal(flow[0], block_spin(x, 2, random_state=0))
    np.testing.assert_array_equal(flow[1], block_spin_flow(x, 2, 2, random_state=0)[1])


def test_block_spin_flow_input_step_2d_and_errors():
    x = np.random.default_rng(14).integers(0, 2, size=(27, 27))
    steps = block_spin_flow(x, 3, 3, include_input=True)
    assert [s.shape for s in steps] == [(27, 27), (9, 9), (3, 3), (1, 1)]
    np.testing.assert_array_equal(steps[0], x)
    assert steps[0].dtype == np.int8
    with pytest.raises(ValueError, match=r"factor\*\*n_steps = 3\*\*2 = 9"):
        block_spin_flow(np.zeros((2, 12, 12)), 3, 2)
    with pytest.raises(ValueError, match="n_steps"):
        block_spin_flow(x, 3, 0)
    with pytest.raises(ValueError, match="rule"):
        block_spin_flow(x, 3, 1, "median")


# ----------------------------------------------------------------- block pairs
def test_block_pairs_single_position_is_exact():
    # lattice exactly as wide as the two blocks: only one anchor exists
    rng = np.random.default_rng(3)
    lat = rng.integers(0, 2, size=(1, 2, 5)).astype(np.int8)
    X, Y = sample_block_pairs(lat, (2, 2), n_pairs=4, gap=1, random_state=0)
    np.testing.assert_array_equal(X, np.tile(lat[0, :, 0:2].ravel(), (4, 1)))
    np.testing.assert_array_equal(Y, np.tile(lat[0, :, 3:5].ravel(), (4, 1)))
    lat_t = lat.transpose(0, 2, 1)
    Xd, Yd = sample_block_pairs(lat_t, (2, 2), 2, direction="down", gap=1)
    np.testing.assert_array_equal(Xd[0], lat_t[0, 0:2, :].ravel())
    np.testing.assert_array_equal(Yd[0], lat_t[0, 3:5, :].ravel())


def test_block_pairs_are_neighbouring_windows():
    rng = np.random.default_rng(4)
    lats = rng.integers(0, 2, size=(2, 10, 10)).astype(np.int8)
    X, Y = sample_block_pairs(lats, (2, 3), n_pairs=200, random_state=1)
    assert X.shape == Y.shape == (200, 6) and X.dtype == np.int8
    windows = {
        (k, i, j): np.concatenate(
            [
                lats[k, i : i + 2, j : j + 3].ravel(),
                lats[k, i : i + 2, j + 3 : j + 6].ravel(),
            ]
        ).tobytes()
        for k in range(2)
        for i in range(9)
        for j in range(5)
    }
    valid = set(windows.values())
    pairs = np.concatenate([X, Y], axis=1)
    assert all(row.tobytes() in valid for row in pairs)


def test_block_pairs_positions_uniform_and_periodic():
    lat = np.zeros((1, 8, 8), dtype=np.int8)
    lat[0, :, 7] = 1  # ones in the last column only
    n = 20000
    X, Y = sample_block_pairs(lat, (2, 2), n_pairs=n, random_state=0)
    assert X.sum() == 0  # non-periodic: X never reaches the last column
    # Y touches column 7 iff the anchor column is 4 (of 0..4): p = 1/5; 4 sigma
    p = (Y.sum(1) > 0).mean()
    assert abs(p - 0.2) < 4 * math.sqrt(0.2 * 0.8 / n)
    Xp, _ = sample_block_pairs(lat, (2, 2), n_pairs=n, periodic=True, random_state=0)
    # periodic: X covers column 7 for anchor columns 6 and 7 of 0..7: p = 1/4
    p = (Xp.sum(1) > 0).mean()
    assert abs(p - 0.25) < 4 * math.sqrt(0.25 * 0.75 / n)


def test_block_pairs_keep_float_dtype_and_are_seeded():
    lats = np.random.default_rng(5).integers(0, 2, size=(3, 6, 6)).astype(float)
    X, _Y = sample_block_pairs(lats, 2, n_pairs=10, random_state=7)
    assert X.dtype == np.float64
    X2, _ = sample_block_pairs(lats, 2, n_pairs=10, random_state=7)
    np.testing.assert_array_equal(X, X2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"block_shape": (2, 4)}, "larger than"),
        ({"block_shape": (7, 1), "direction": "right"}, "larger than"),
        ({"block_shape": (2, 2), "gap": 3}, "larger than"),
        ({"direction": "left"}, "direction"),
        ({"block_shape": (0, 2)}, "block_shape"),
        ({"n_pairs": 0}, "n_pairs"),
    ],
)
def test_block_pairs_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sample_block_pairs(np.zeros((2, 6, 6)), **kwargs)


# -------------------------------------------------------- visible / environment
def test_visible_environment_single_position_is_exact():
    rng = np.random.default_rng(6)
    lat = rng.integers(0, 2, size=(1, 8, 9)).astype(np.int8)
    V, E = sample_visible_environment(
        lat, (2, 3), buffer=1, environment_width=2, n_samples=3, periodic=False
    )
    np.testing.assert_array_equal(V[0], lat[0, 3:5, 3:6].ravel())
    window = lat[0]
    inner = np.zeros((8, 9), dtype=bool)
    inner[2:6, 2:7] = True  # visible block plus its buffer of width 1
    np.testing.assert_array_equal(E[0], window[~inner])
    assert E.shape == (3, 8 * 9 - 4 * 5)


def test_visible_environment_frequencies_periodic():
    # a single up spin on a 12x12 torus: it falls in V with p = 4/144, in E with
    # p = n_env/144 and in the buffer otherwise; 4-sigma binomial tolerances
    lat = np.zeros((1, 12, 12), dtype=np.int8)
    lat[0, 0, 0] = 1
    n = 30000
    V, E = sample_visible_environment(lat, (2, 2), 1, 2, n_samples=n, random_state=0)
    n_env = E.shape[1]
    assert n_env == 8 * 8 - 4 * 4
    assert np.all(V.sum(1) + E.sum(1) <= 1)
    for got, p in [(V.sum(1).mean(), 4 / 144), (E.sum(1).mean(), n_env / 144)]:
        assert abs(got - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_visible_environment_positions_locate_every_window():
    rng = np.random.default_rng(7)
    lats = rng.integers(0, 2, size=(3, 10, 11)).astype(np.int8)
    V, E, pos = sample_visible_environment(
        lats, (2, 3), 1, 1, n_samples=300, random_state=[1, 2], return_positions=True
    )
    assert pos.shape == (300, 3) and pos.dtype == np.int64
    # default return unchanged and drawn from the same stream
    V2, E2 = sample_visible_environment(lats, (2, 3), 1, 1, 300, random_state=[1, 2])
    np.testing.assert_array_equal(V, V2)
    np.testing.assert_array_equal(E, E2)
    # the window of every sample, read back (with wrap-around) at its position
    for (k, r, c), v, e in zip(pos, V, E, strict=True):
        rows = np.arange(r - 2, r + 4) % 10
        cols = np.arange(c - 2, c + 5) % 11
        window = lats[k][np.ix_(rows, cols)]
        np.testing.assert_array_equal(v, window[2:4, 2:5].ravel())
        inner = np.zeros((6, 7), dtype=bool)
        inner[1:5, 1:6] = True
        np.testing.assert_array_equal(e, window[~inner])
    assert set(pos[:, 0].tolist()) == {0, 1, 2}


def test_block_pairs_positions():
    rng = np.random.default_rng(8)
    lats = rng.integers(0, 2, size=(2, 6, 7)).astype(np.int8)
    X, Y, pos = sample_block_pairs(
        lats, (2, 2), 50, gap=1, random_state=0, return_positions=True
    )
    for (k, r, c), x, y in zip(pos, X, Y, strict=True):
        np.testing.assert_array_equal(x, lats[k, r : r + 2, c : c + 2].ravel())
        np.testing.assert_array_equal(y, lats[k, r : r + 2, c + 3 : c + 5].ravel())


def test_visible_environment_bad_input():
    with pytest.raises(ValueError, match="larger than"):
        sample_visible_environment(np.zeros((2, 7, 7)), (2, 2), 1, 2)
    with pytest.raises(ValueError, match="environment_width"):
        sample_visible_environment(np.zeros((2, 9, 9)), (2, 2), 1, 0)
    with pytest.raises(ValueError, match="buffer"):
        sample_visible_environment(np.zeros((2, 9, 9)), (2, 2), -1, 1)
