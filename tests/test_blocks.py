"""Tests of sk_rgmi.datasets.blocks: block-spin, block pairs, visible/environment."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sk_rgmi.datasets import block_spin, sample_block_pairs, sample_visible_environment


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


def test_visible_environment_bad_input():
    with pytest.raises(ValueError, match="larger than"):
        sample_visible_environment(np.zeros((2, 7, 7)), (2, 2), 1, 2)
    with pytest.raises(ValueError, match="environment_width"):
        sample_visible_environment(np.zeros((2, 9, 9)), (2, 2), 1, 0)
    with pytest.raises(ValueError, match="buffer"):
        sample_visible_environment(np.zeros((2, 9, 9)), (2, 2), -1, 1)
