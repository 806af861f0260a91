"""Tests of sk_rgmi.datasets.ising, .exact and ._kernels against exact results.

Statistical tolerances: every comparison is ``|estimate - exact| <= 4 sigma`` with
``sigma`` the standard error of the estimate from the *measured* integrated
autocorrelation time (Sokal window) of a single long chain recorded every sweep
(``sigma = sqrt(2 tau var / N)``), or from a jackknife over 40 blocks much longer
than tau (Binder cumulant). All runs are seeded, so the tests are deterministic; a
correct sampler fails one of them with probability ~6e-5 per comparison.
"""

from __future__ import annotations

import functools
import itertools
import math
import pickle

import numpy as np
import pytest

from sk_rgmi.datasets import (
    ALGORITHMS,
    BINDER_CUMULANT_TC,
    T_C,
    _kernels,
    block_spin_flow,
    exact_energy_per_spin,
    exact_nn_correlation,
    onsager_magnetization,
    sample_ising,
)
from sk_rgmi.datasets import ising as ising_module
from sk_rgmi.datasets._stats import integrated_autocorrelation_time, mean_and_error
from sk_rgmi.datasets.ising import (
    _estimated_seconds,
    _philox_state,
    _Progress,
    default_sweeps_between,
)

# records per chain, chosen so that sigma(E) <~ 3e-3 and each run takes < 1 s
N_RECORDS = {"wolff": 4000, "swendsen-wang": 4000, "metropolis": 30000}


@functools.cache
def chain(algorithm: str, size: int, temperature: float, n: int, seed: int = 0):
    """One chain recorded every sweep, as ±1 int8 (cached across tests)."""
    return sample_ising(
        n,
        size,
        temperature,
        algorithm=algorithm,
        n_sweeps_between=1,
        spins="pm1",
        n_chains=1,
        random_state=seed,
    )


def bond_series(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-configuration mean horizontal and vertical nearest-neighbour products."""
    s = s.astype(np.int32)
    horizontal = (s * np.roll(s, 1, axis=2)).mean(axis=(1, 2))
    vertical = (s * np.roll(s, 1, axis=1)).mean(axis=(1, 2))
    return horizontal, vertical


def assert_within(series: np.ndarray, exact: float, n_sigma: float = 4.0) -> None:
    mean, err, tau = mean_and_error(series)
    assert abs(mean - exact) <= n_sigma * err, (
        f"{mean:.6f} ± {err:.6f} (tau={tau:.2f}) vs exact {exact:.6f}: "
        f"{(mean - exact) / err:+.1f} sigma"
    )


# ---------------------------------------------------------------- exact references
def brute_force_energy(m: int, n: int, temperature: float) -> float:
    states = np.array(list(itertools.product([-1, 1], repeat=m * n))).reshape(-1, m, n)
    energy = -(states * np.roll(states, 1, 1)).sum((1, 2)) - (
        states * np.roll(states, 1, 2)
    ).sum((1, 2))
    w = np.exp(-(energy - energy.min()) / temperature)
    return float((w * energy).sum() / w.sum() / (m * n))


@pytest.mark.parametrize("shape", [(3, 3), (4, 4), (3, 4), (2, 5)])
@pytest.mark.parametrize("temperature", [1.0, T_C, 3.0, 10.0])
def test_exact_energy_matches_enumeration(shape, temperature):
    assert exact_energy_per_spin(shape, temperature) == pytest.approx(
        brute_force_energy(*shape, temperature), abs=1e-12
    )


def test_exact_energy_reference_values():
    # Kaufman (Phys. Rev. 76, 1232, 1949): exact finite-L torus values
    assert exact_energy_per_spin(64, T_C) == pytest.approx(-1.4239384, abs=1e-7)
    assert exact_energy_per_spin(256, T_C) == pytest.approx(-1.4166450, abs=1e-7)
    assert exact_nn_correlation(256, T_C) == pytest.approx(0.7083225, abs=1e-7)
    assert exact_energy_per_spin(2187, T_C) == pytest.approx(-1.4144982, abs=1e-7)
    assert exact_energy_per_spin(20000, T_C) == pytest.approx(
        -math.sqrt(2) - 0.62244 / 20000, abs=1e-7
    )


def test_onsager_magnetization():
    assert onsager_magnetization(2.0) == pytest.approx(0.911319377877496, rel=1e-12)
    # critical amplitude: M ≈ 1.2224 (1 - T/T_c)^(1/8)
    assert onsager_magnetization(T_C * (1 - 1e-6)) == pytest.approx(
        1.2224 * 1e-6**0.125, rel=1e-3
    )
    assert onsager_magnetization(T_C) == 0.0
    with pytest.raises(ValueError, match="temperature"):
        onsager_magnetization(0.0)


def test_philox_known_answer_vectors():
    # Random123 kat_vectors, philox4x32 10 (counter words, key words -> output)
    from numba import njit

    @njit
    def block(a):
        return _kernels.philox4x32_10(a[0], a[1], a[2], a[3], a[4], a[5])

    cases = [
        ("0 0 0 0 0 0", "6627e8d5 e169c58d bc57ac4c 9b00dbd8"),
        ("ffffffff " * 6, "408f276d 41c83b0e a20bc7c6 6d5451fd"),
        (
            "243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0",
            "d16cfe09 94fdcceb 5001e420 24126ea1",
        ),
    ]
    for inp, out in cases:
        words = np.array([int(w, 16) for w in inp.split()], dtype=np.uint64)
        assert [int(v) for v in block(words)] == [int(w, 16) for w in out.split()]


def test_philox_stream_counter_and_uniformity():
    st = _philox_state(np.random.SeedSequence(0))
    words = _kernels.draw_u32(st, 400_000)
    # the stream is the blocks for counters 0, 1, 2, ... under the chain's key
    st2 = _philox_state(np.random.SeedSequence(0))
    assert np.array_equal(words[:8], _kernels.draw_u32(st2, 8))
    assert int(st[2]) == 100_000  # counter advanced once per 4 words
    u = words / 2.0**32
    # mean of U(0,1): sd 1/sqrt(12 n); 4 sigma
    assert abs(u.mean() - 0.5) < 4 / math.sqrt(12 * u.size)
    # lag-1 correlation of independent uniforms: sd 1/sqrt(n)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 4 / math.sqrt(u.size)
    other = _kernels.draw_u32(_philox_state(np.random.SeedSequence(1)), 8)
    assert not np.array_equal(words[:8], other)


def test_integrated_autocorrelation_time_ar1():
    # AR(1) with coefficient phi: tau_int = (1 + phi) / (2 (1 - phi)) = 4.5 at 0.8
    rng = np.random.default_rng(0)
    phi, n = 0.8, 200_000
    noise = rng.normal(size=n)
    x = np.empty(n)
    x[0] = noise[0]
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    assert integrated_autocorrelation_time(x) == pytest.approx(4.5, rel=0.1)


# ------------------------------------------------------------ statistical physics
@pytest.mark.parametrize(
    ("algorithm", "size", "temperature"),
    [
        *[
            (a, size, t)
            for a in ALGORITHMS
            for size, t in [(16, T_C), (27, T_C), (64, T_C), (16, 5.0), (17, 1.8)]
            if (a, size) != ("metropolis", 64)
        ],
        # tau ≈ 60 sweeps here: 3e4 sweeps, ~25 s on a busy machine
        pytest.param("metropolis", 64, T_C, marks=pytest.mark.slow),
    ],
)
def test_energy_and_nn_correlation_exact(algorithm, size, temperature):
    """Energy per spin and horizontal / vertical <s s> against Kaufman's formula.

    L = 27 and 17 are odd: a simultaneous two-colour checkerboard would be invalid
    there, so these sizes check that the Metropolis update order is valid.
    """
    s = chain(algorithm, size, temperature, N_RECORDS[algorithm])
    horizontal, vertical = bond_series(s)
    exact_nn = exact_nn_correlation(size, temperature)
    assert_within(horizontal, exact_nn)
    assert_within(vertical, exact_nn)
    assert_within(-(horizontal + vertical), exact_energy_per_spin(size, temperature))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_magnetization_below_tc_onsager(algorithm):
    # T = 2.0: xi ≈ 2 sites, so finite-size corrections at L = 48 are ~exp(-24)
    s = chain(algorithm, 48, 2.0, 3000)
    m = np.abs(s.mean(axis=(1, 2), dtype=np.float64))
    assert_within(m, onsager_magnetization(2.0))


def binder(s: np.ndarray, n_blocks: int = 40) -> tuple[float, float]:
    """Binder cumulant and its jackknife error over ``n_blocks`` blocks."""
    m = s.mean(axis=(1, 2), dtype=np.float64)
    m = m[: m.size // n_blocks * n_blocks].reshape(n_blocks, -1)
    m2, m4 = (m**2).mean(1), (m**4).mean(1)
    u4 = 1 - m4.mean() / (3 * m2.mean() ** 2)
    jack = np.array(
        [
            1 - np.delete(m4, i).mean() / (3 * np.delete(m2, i).mean() ** 2)
            for i in range(n_blocks)
        ]
    )
    err = math.sqrt((n_blocks - 1) / n_blocks * ((jack - jack.mean()) ** 2).sum())
    return float(u4), err


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_binder_cumulant_at_tc(algorithm):
    # L = 16: measured finite-size shift U4(16) - U4(inf) = +0.0010(5) (Wolff, 1e5
    # sweeps), inside the 4 sigma ≈ 0.004-0.007 allowed with 20k (Metropolis 1e5)
    # records.
    n = 100_000 if algorithm == "metropolis" else 20_000
    u4, err = binder(chain(algorithm, 16, T_C, n, seed=1))
    assert abs(u4 - BINDER_CUMULANT_TC) <= 4 * err, (u4, err)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_high_temperature_uncorrelated(algorithm):
    # T = 50: <s_i s_j> = tanh(1/50) + O(K^3) ≈ 0.02 for neighbours; spins beyond
    # the nearest neighbour are uncorrelated to ~K^2 and sites are +-1 with prob 1/2.
    s = chain(algorithm, 16, 50.0, 2000)
    horizontal, _ = bond_series(s)
    assert_within(horizontal, exact_nn_correlation(16, 50.0))
    assert_within(s.mean(axis=(1, 2), dtype=np.float64), 0.0)
    far = (s[:, :, :] * np.roll(s, 5, axis=2)).mean(axis=(1, 2), dtype=np.float64)
    assert_within(far, math.tanh(1 / 50.0) ** 5)


def test_default_spacing_decorrelates_energy():
    # with the default spacing, consecutive Wolff records at T_c have tau_int of the
    # energy close to 1/2 (independent); measured tau_E ≈ 2-3 sweep-equivalents.
    s = sample_ising(600, 32, T_C, spins="pm1", n_chains=1, random_state=5)
    horizontal, vertical = bond_series(s)
    assert integrated_autocorrelation_time(horizontal + vertical) < 1.0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("algorithm", "size"),
    # Metropolis at T_c and L = 128 would need ~1e7 sweeps: not included
    [
        ("wolff", 32),
        ("wolff", 128),
        ("swendsen-wang", 32),
        ("swendsen-wang", 128),
        ("metropolis", 32),
    ],
)
def test_energy_exact_long(algorithm, size):
    n = {"wolff": 40_000, "swendsen-wang": 40_000, "metropolis": 400_000}[algorithm]
    s = chain(algorithm, size, T_C, n, seed=7)
    horizontal, vertical = bond_series(s)
    assert_within(-(horizontal + vertical), exact_energy_per_spin(size, T_C))


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["wolff", "swendsen-wang"])
def test_binder_cumulant_long(algorithm):
    u4, err = binder(chain(algorithm, 32, T_C, 100_000, seed=2))
    assert abs(u4 - BINDER_CUMULANT_TC) <= 4 * err, (u4, err)


# ------------------------------------------------------------------ API behaviour
def test_output_dtype_shape_and_spins():
    x = sample_ising(3, 12, random_state=0)
    assert x.shape == (3, 12, 12) and x.dtype == np.int8
    assert set(np.unique(x)) <= {0, 1}
    y = sample_ising(3, 12, spins="pm1", random_state=0)
    assert set(np.unique(y)) <= {-1, 1}
    np.testing.assert_array_equal(y, 2 * x - 1)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_determinism_independent_of_n_jobs(algorithm):
    kw = dict(algorithm=algorithm, n_chains=3, random_state=42)
    a = sample_ising(7, 16, 2.5, n_jobs=1, **kw)
    b = sample_ising(7, 16, 2.5, n_jobs=2, **kw)
    c = sample_ising(7, 16, 2.5, n_jobs=1, **{**kw, "random_state": 43})
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # chains are independent streams: the first record of each chain differs
    assert not np.array_equal(a[0], a[3])


def test_default_chain_split_and_seed_sequence():
    a = sample_ising(60, 8, random_state=np.random.SeedSequence(3))
    b = sample_ising(60, 8, random_state=3)
    np.testing.assert_array_equal(a, b)


def test_random_state_accepts_what_seed_sequence_accepts():
    # Regression: a list of ints raised TypeError; and a SeedSequence was spawned
    # from directly, so passing the same object twice gave different samples.
    a = sample_ising(4, 8, n_chains=2, random_state=[7, 1])
    np.testing.assert_array_equal(
        a, sample_ising(4, 8, n_chains=2, random_state=np.array([7, 1]))
    )
    assert not np.array_equal(a, sample_ising(4, 8, n_chains=2, random_state=[7, 2]))
    seq = np.random.SeedSequence([7, 1])
    first = sample_ising(4, 8, n_chains=2, random_state=seq)
    np.testing.assert_array_equal(first, a)
    np.testing.assert_array_equal(sample_ising(4, 8, n_chains=2, random_state=seq), a)
    assert seq.n_children_spawned == 0


def test_dask_backend_gives_same_output():
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_backend

    expected = sample_ising(4, 16, n_chains=2, random_state=0)
    with (
        distributed.Client(
            processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
        ),
        parallel_backend("dask"),
    ):
        got = sample_ising(4, 16, n_chains=2, random_state=0, n_jobs=2)
    np.testing.assert_array_equal(got, expected)


def test_verbose_progress_bar(capsys):
    sample_ising(2, 8, random_state=0, verbose=2)
    assert "Ising wolff L=8" in capsys.readouterr().err


class _CountingBar:
    """Stands in for a tqdm bar: counts updates."""

    def __init__(self, *args, **kwargs) -> None:
        self.n = 0
        self.calls = 0

    def update(self, k: int) -> None:
        self.n += k
        self.calls += 1

    def close(self) -> None:
        pass


def test_progress_advances_record_by_record_in_threads(monkeypatch):
    import tqdm.auto

    bars: list[_CountingBar] = []

    def make_bar(*args, **kwargs):
        bars.append(_CountingBar())
        return bars[-1]

    x = sample_ising(8, 16, n_chains=2, random_state=0, n_jobs=2)
    monkeypatch.setattr(tqdm.auto, "tqdm", make_bar)
    got = sample_ising(8, 16, n_chains=2, random_state=0, n_jobs=2, verbose=1)
    np.testing.assert_array_equal(got, x)  # the bar never changes the data
    # two chains in two threads: one update per record, none left for chain_done
    assert len(bars) == 1 and bars[0].n == 8 and bars[0].calls == 8


def test_progress_pickled_to_another_process_counts_whole_chains():
    bar = _CountingBar()
    progress = _Progress(bar)
    remote = pickle.loads(pickle.dumps(progress))
    remote(1)  # a chain in another process: nothing reaches this bar
    assert bar.n == 0
    progress.chain_done(50)  # the chain's records arrive with its result
    progress.chain_done(30)
    assert bar.n == 80


def test_verbose_bar_reaches_the_total_with_parallel_chains(capsys):
    sample_ising(6, 8, n_chains=3, random_state=0, n_jobs=2, verbose=1)
    assert "6/6" in capsys.readouterr().err


def test_metropolis_default_spacing_grows_near_tc():
    far = default_sweeps_between("metropolis", 64, 4.0)
    near = default_sweeps_between("metropolis", 64, T_C)
    assert far < 10 < 100 < near
    with pytest.warns(UserWarning, match="critical slowing down"):
        sample_ising(1, 256, algorithm="metropolis", n_sweeps_between=1, burn_in=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"n_samples": 2.5}, TypeError, "n_samples"),
        ({"size": 1}, ValueError, "size"),
        ({"temperature": 0.0}, ValueError, "temperature"),
        ({"temperature": -1.0}, ValueError, "temperature"),
        ({"temperature": float("nan")}, ValueError, "temperature"),
        ({"temperature": "hot"}, TypeError, "temperature"),
        ({"algorithm": "heatbath"}, ValueError, "algorithm"),
        ({"spins": "+-"}, ValueError, "spins"),
        ({"n_sweeps_between": 0}, ValueError, "n_sweeps_between"),
        ({"burn_in": -1}, ValueError, "burn_in"),
        ({"n_chains": 5}, ValueError, "n_chains"),
        ({"random_state": "seed"}, TypeError, "random_state"),
    ],
)
def test_bad_input(kwargs, error, match):
    args = {"n_samples": 2, "size": 8, **kwargs}
    with pytest.raises(error, match=match):
        sample_ising(**args)


def test_majority_rounds_equal_block_spin_afterwards() -> None:
    from sk_rgmi.datasets import block_spin

    fine = sample_ising(3, 27, random_state=5)
    coarse = sample_ising(3, 27, random_state=5, majority_rounds=2)
    assert coarse.shape == (3, 3, 3)
    expected = block_spin(block_spin(fine, 3, rule="majority"), 3, rule="majority")
    np.testing.assert_array_equal(coarse, expected)
    with pytest.raises(ValueError, match="not divisible by 3"):
        sample_ising(2, 28, majority_rounds=1)


# ------------------------------------------------------------------- observables
def test_observables_are_those_of_the_full_lattice():
    kw = dict(n_chains=3, random_state=4, temperature=2.4)
    fine, obs = sample_ising(9, 27, spins="pm1", return_observables=True, **kw)
    assert set(obs) == {"energy", "magnetization", "chain"}
    assert obs.energy.dtype == obs.magnetization.dtype == np.float64
    horizontal, vertical = bond_series(fine)
    np.testing.assert_allclose(obs.energy, -(horizontal + vertical), atol=1e-12)
    np.testing.assert_allclose(
        obs.magnetization, fine.mean(axis=(1, 2), dtype=np.float64), atol=1e-12
    )
    np.testing.assert_array_equal(obs.chain, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    # with majority rounds: measured on the fine lattice, before coarse-graining
    coarse, obs2 = sample_ising(9, 27, majority_rounds=2, return_observables=True, **kw)
    assert coarse.shape == (9, 3, 3)
    np.testing.assert_array_equal(obs2.energy, obs.energy)
    np.testing.assert_array_equal(obs2.magnetization, obs.magnetization)
    np.testing.assert_array_equal(
        coarse, (block_spin_flow(fine, 3, 2)[-1] > 0).astype(np.int8)
    )


@pytest.mark.parametrize(("size", "temperature"), [(16, T_C), (24, 2.0), (20, 3.0)])
def test_observed_energy_matches_exact(size, temperature):
    # 3000 records at the default spacing from 6 chains; the chains follow each
    # other in the series, and the error is from its measured autocorrelation
    # time (records are ~independent, tau ~ 0.5-1); 4 sigma.
    _, obs = sample_ising(
        3000, size, temperature, n_chains=6, random_state=21, return_observables=True
    )
    assert_within(obs.energy, exact_energy_per_spin(size, temperature))
    if temperature < T_C:
        # xi ≈ 2 sites at T = 2.0: <|m|> is Onsager-Yang's up to ~exp(-L / xi)
        assert_within(np.abs(obs.magnetization), onsager_magnetization(temperature))
    else:
        assert_within(obs.magnetization, 0.0)


# -------------------------------------------------------------- time estimate
def test_time_estimate_scales_with_sites_and_workers():
    cpu, wall = _estimated_seconds("wolff", 2187, [50] * 20, 6, 100, 1)
    # the measured cost of the original notebook's data: ≈0.9 s per configuration
    # plus ≈16 s of burn-in per chain, ≈21 CPU-minutes for 1000 configurations
    assert 15 * 60 < cpu < 30 * 60 and wall == pytest.approx(cpu)
    cpu2, wall2 = _estimated_seconds("wolff", 2187, [50] * 20, 6, 100, 2)
    assert cpu2 == cpu and wall2 == pytest.approx(cpu / 2)
    # 20 equal chains on 16 workers take two rounds
    _, wall16 = _estimated_seconds("wolff", 2187, [50] * 20, 6, 100, 16)
    assert wall16 == pytest.approx(2 * cpu / 20)
    small, _ = _estimated_seconds("wolff", 729, [50] * 20, 6, 100, 1)
    assert small == pytest.approx(cpu / 9, rel=1e-12)


def test_verbose_prints_expected_time_before_sampling(capsys, monkeypatch):
    monkeypatch.setattr(ising_module, "_ESTIMATE_ABOVE_S", 0.0)
    sample_ising(4, 16, random_state=0, verbose=1, n_chains=2, n_jobs=1)
    err = capsys.readouterr().err
    assert "expected ≈" in err and "2 chains on 1 worker" in err
    assert err.index("expected") < err.index("Ising wolff L=16")
    monkeypatch.setattr(ising_module, "_ESTIMATE_ABOVE_S", 10.0)
    sample_ising(4, 16, random_state=0, verbose=1)  # far below 10 s: no estimate
    assert "expected" not in capsys.readouterr().err
