"""Speed and decorrelation of the Ising samplers (sk_rgmi.datasets), one core.

Prints, for L = 256 and 2187 at T_c:

- ns per site per sweep of each numba kernel (Wolff: per flipped spin, i.e. per
  sweep-equivalent of N flipped spins), against two baselines measured in the same
  run, interleaved (median of repeats): a Swendsen–Wang sweep built on
  ``scipy.sparse.csgraph.connected_components`` and a vectorised numpy checkerboard
  Metropolis sweep (even L only: a simultaneous two-colour update is invalid for
  odd L);
- the integrated autocorrelation time of the 27×27 block |m| and of the energy
  (Wolff, L = 2187, records every sweep-equivalent);
- seconds per independent 27×27-from-2187 configuration with the defaults, and the
  peak memory per site of a chain (tracemalloc);
- with ``--scan``: what a temperature scan near T_c (the RSMI study: L = 81 to
  256, many temperatures) costs -- the one-off cost of the first call in a process
  (loading the cached numba kernels), the fixed cost of a warm call (validation,
  seeding, joblib), and the CPU seconds per independent configuration and per
  chain's burn-in at each temperature, against the time estimate that
  ``sample_ising(verbose=1)`` prints.

    python benchmarks/bench_ising.py            # L = 256 and 2187 (~6 min idle)
    python benchmarks/bench_ising.py --quick    # L = 256 only
    python benchmarks/bench_ising.py --scan     # temperature scan, L = 81 ... 256

No torch is involved (threads: numba kernels are single-threaded; n_jobs=1).
Times are CPU time of the running thread (``time.thread_time``): the machine is
shared, and wall-clock time there measures the other jobs as much as this code.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
import tracemalloc

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from sk_rgmi.datasets import T_C, sample_ising
from sk_rgmi.datasets import _kernels as K
from sk_rgmi.datasets._stats import integrated_autocorrelation_time
from sk_rgmi.datasets.ising import _estimated_seconds, _philox_state

P_ADD = -math.expm1(-2.0 / T_C)
BOND = np.uint64(math.floor(P_ADD * 2**32))
THRESHOLDS = np.array(
    [0, math.floor(math.exp(-4 / T_C) * 2**32), math.floor(math.exp(-8 / T_C) * 2**32)],
    dtype=np.uint64,
)


def scipy_sw_sweep(s: np.ndarray, rng: np.random.Generator) -> None:
    """Baseline Swendsen–Wang sweep with scipy connected components."""
    L = s.shape[0]
    idx = np.arange(L * L).reshape(L, L)
    rows, cols = [], []
    for axis in (0, 1):
        nb = np.roll(s, -1, axis=axis)
        active = (s == nb) & (rng.random(s.shape) < P_ADD)
        rows.append(idx[active])
        cols.append(np.roll(idx, -1, axis=axis)[active])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(r.size, np.int8), (r, c)), shape=(L * L, L * L))
    n, labels = connected_components(graph, directed=False)
    flip = rng.random(n) < 0.5
    s *= np.where(flip[labels], -1, 1).astype(np.int8).reshape(L, L)


def numpy_metropolis_sweep(s: np.ndarray, rng: np.random.Generator) -> None:
    """Baseline vectorised checkerboard Metropolis sweep (valid for even L)."""
    L = s.shape[0]
    parity = np.add.outer(np.arange(L), np.arange(L)) % 2
    for colour in (0, 1):
        h = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
        de = 2 * s * h
        accept = (de <= 0) | (rng.random(s.shape) < np.exp(-de / T_C))
        s[accept & (parity == colour)] *= -1


def equilibrated(L: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    st = _philox_state(np.random.SeedSequence(0))
    s = np.ones((L, L), dtype=np.int8)
    stack = np.empty(L * L, dtype=np.int32)
    flipped = 0
    while flipped < 30 * L * L:
        flipped += K.wolff_clusters(s, 20, BOND, st, stack)
    return s, st, stack


def timed(fn, repeats: int) -> float:
    out = []
    for _ in range(repeats):
        t0 = time.thread_time()
        fn()
        out.append(time.thread_time() - t0)
    return float(np.median(out))


def kernel_speeds(L: int, repeats: int) -> None:
    s, st, stack = equilibrated(L)
    visited = np.zeros(L * L, dtype=np.uint8)
    rng = np.random.default_rng(0)
    N = L * L
    n_clusters = max(1, round(N / (0.15 * N)))  # ≈ one sweep-equivalent at T_c
    flips = []

    def wolff() -> None:
        flips.append(K.wolff_clusters(s, n_clusters, BOND, st, stack))

    res = {"wolff": [], "swendsen-wang": [], "metropolis": [], "scipy SW": []}
    if L % 2 == 0:
        res["numpy Metropolis"] = []
    for _ in range(repeats):  # interleaved so that machine load hits all alike
        t0 = time.thread_time()
        wolff()
        res["wolff"].append((time.thread_time() - t0) / flips[-1])
        res["swendsen-wang"].append(
            timed(lambda: K.swendsen_wang_sweeps(s, 1, BOND, st, stack, visited), 1) / N
        )
        res["metropolis"].append(
            timed(lambda: K.metropolis_sweeps(s, 1, THRESHOLDS, st), 1) / N
        )
        res["scipy SW"].append(timed(lambda: scipy_sw_sweep(s, rng), 1) / N)
        if L % 2 == 0:
            res["numpy Metropolis"].append(
                timed(lambda: numpy_metropolis_sweep(s, rng), 1) / N
            )
    med = {k: 1e9 * float(np.median(v)) for k, v in res.items()}
    print(
        f"\nL = {L}: ns per site per sweep (Wolff: per flipped spin), "
        f"median of {repeats}"
    )
    for k, v in med.items():
        extra = ""
        if k in ("wolff", "swendsen-wang"):
            extra = f"   {med['scipy SW'] / v:5.1f}x faster than scipy SW"
        if k == "metropolis" and "numpy Metropolis" in med:
            extra = (
                f"   {med['numpy Metropolis'] / v:5.1f}x faster than numpy Metropolis"
            )
        print(f"  {k:18s} {v:8.1f}{extra}")


def chain_numbers(n_records: int) -> None:
    L = 2187
    print(f"\nWolff, L = {L} at T_c, 27x27 block (4 rounds of 3x3 majority)")
    t0 = time.thread_time()
    x = sample_ising(
        n_records,
        L,
        burn_in=300,
        n_sweeps_between=1,
        spins="pm1",
        n_chains=1,
        random_state=0,
        majority_rounds=4,
    )
    total = time.thread_time() - t0
    m = np.abs(x.mean(axis=(1, 2), dtype=np.float64))
    e = -(x * np.roll(x, 1, 1)).mean((1, 2), dtype=np.float64) - (
        x * np.roll(x, 1, 2)
    ).mean((1, 2), dtype=np.float64)
    tau_m = integrated_autocorrelation_time(m)
    tau_e = integrated_autocorrelation_time(e)
    print(
        f"  tau_int(block |m|) = {tau_m:.2f}, tau_int(block energy) = {tau_e:.2f} "
        f"sweep-equivalents ({n_records} records, incl. 300 burn-in: {total:.0f} s)"
    )
    t0 = time.thread_time()
    sample_ising(1, L, burn_in=100, n_chains=1, random_state=1, majority_rounds=4)
    t_burn = time.thread_time() - t0
    n = 6
    t0 = time.thread_time()
    sample_ising(1 + n, L, burn_in=100, n_chains=1, random_state=1, majority_rounds=4)
    per = (time.thread_time() - t0 - t_burn) / n
    print(
        f"  default spacing 6 sweep-eq (= {6 / (2 * max(tau_m, tau_e)):.1f} x 2 tau): "
        f"{per:.2f} s per independent configuration; burn-in (100) {t_burn:.1f} s, "
        f"amortised over 50 per chain: {per + t_burn / 50:.2f} s"
    )
    tracemalloc.start()
    sample_ising(
        2,
        L,
        burn_in=2,
        n_sweeps_between=1,
        n_chains=1,
        random_state=2,
        algorithm="swendsen-wang",
        majority_rounds=4,
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  peak memory of a Swendsen-Wang chain: {peak / L**2:.1f} bytes/site")


_COLD = """
import time
t0 = time.perf_counter(); c0 = time.process_time()
from sk_rgmi.datasets import sample_ising
t1 = time.perf_counter(); c1 = time.process_time()
sample_ising(1, 16, burn_in=0, n_sweeps_between=1, random_state=0, n_jobs=1)
t2 = time.perf_counter(); c2 = time.process_time()
print(c1 - c0, c2 - c1)
"""


def call_overheads(repeats: int = 5) -> None:
    """First call in a fresh process, and the fixed cost of a warm call."""
    cold = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", _COLD], capture_output=True, text=True, check=True
        )
        cold.append([float(v) for v in out.stdout.split()])
    imp, first = np.median(np.array(cold), axis=0)
    print(
        f"\nper-process cost (CPU s, median of {repeats} fresh processes): import "
        f"sk_rgmi.datasets {imp:.2f} s, first sample_ising call {first:.2f} s "
        "(loading the cached numba kernels; once per process)"
    )
    kw = dict(burn_in=0, n_sweeps_between=1, random_state=0)
    for n_jobs, n_chains in [(1, 1), (1, 2), (2, 2), (-1, 4)]:

        def call(n_jobs=n_jobs, n_chains=n_chains) -> None:
            sample_ising(n_chains, 8, n_chains=n_chains, n_jobs=n_jobs, **kw)

        call()
        t0 = time.perf_counter()
        for _ in range(50):
            call()
        per = (time.perf_counter() - t0) / 50
        print(
            f"  warm call, L = 8, {n_chains} chain(s), n_jobs={n_jobs}: "
            f"{1e3 * per:.2f} ms wall"
        )


def scan_costs(sizes: tuple[int, ...], temperatures: tuple[float, ...]) -> None:
    """CPU seconds per independent configuration and per burn-in (Wolff, one
    thread), and the estimate printed by ``sample_ising(verbose=1)``."""
    print(
        "\nWolff temperature scan, one thread (CPU s): per configuration at the "
        "default spacing (6 sweep-eq), burn-in per chain (100 sweep-eq), and a "
        "1000-configuration run (20 chains) against the printed estimate"
    )
    print(
        f"  {'L':>4s} {'T':>7s} {'per config':>11s} {'burn-in':>8s} "
        f"{'1000 configs':>13s} {'estimate':>9s}"
    )
    for L in sizes:
        n = max(6, round(4e6 / (6 * L * L)))  # ~4e6 flipped spins timed
        for T in temperatures:
            kw = dict(n_chains=1, random_state=1, n_jobs=1)
            t0 = time.thread_time()
            sample_ising(1, L, T, **kw)
            t_one = time.thread_time() - t0
            t0 = time.thread_time()
            sample_ising(1 + n, L, T, **kw)
            per = (time.thread_time() - t0 - t_one) / n
            burn = max(t_one - per, 0.0)
            total = 1000 * per + 20 * burn
            estimate, _ = _estimated_seconds("wolff", L, [50] * 20, 6, 100, 1)
            print(
                f"  {L:4d} {T:7.4f} {1e3 * per:9.2f} ms {burn:7.3f} s "
                f"{total:11.1f} s {estimate:8.1f} s"
            )


def scan_parallel(size: int, n_configs: int, temperatures: tuple[float, ...]) -> None:
    """A whole scan, one call per temperature, serial and on all cores (threads)."""
    from joblib import cpu_count

    print(
        f"\nscan of {len(temperatures)} temperatures x {n_configs} configurations, "
        f"L = {size} ({math.ceil(n_configs / 50)} chains per call), "
        f"{cpu_count()} cores; cores used = CPU s / wall s"
    )
    results = {}
    for n_jobs in (1, -1, 1, -1):  # twice, interleaved: the machine may be shared
        w0, c0 = time.perf_counter(), time.process_time()
        out = [
            sample_ising(n_configs, size, t, random_state=[0, k], n_jobs=n_jobs)
            for k, t in enumerate(temperatures)
        ]
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        if n_jobs in results:
            for a, b in zip(results[n_jobs][2], out, strict=True):
                np.testing.assert_array_equal(a, b)  # same data for every n_jobs
        results[n_jobs] = (min(wall, results.get(n_jobs, (wall,))[0]), cpu, out)
    for n_jobs, (wall, cpu, _) in results.items():
        print(
            f"  n_jobs={n_jobs:2d}: {wall:6.1f} s wall, {cpu:6.1f} s CPU, "
            f"cores used {cpu / wall:4.2f}, speed-up {results[1][0] / wall:4.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="L = 256 only")
    parser.add_argument(
        "--scan", action="store_true", help="temperature scan at L = 81 ... 256 only"
    )
    parser.add_argument("--records", type=int, default=1000)
    args = parser.parse_args()
    K.wolff_clusters(
        np.ones((8, 8), np.int8),
        1,
        BOND,
        _philox_state(np.random.SeedSequence(0)),
        np.empty(64, np.int32),
    )  # load compiled kernels
    if args.scan:
        call_overheads()
        temps = (2.20, 2.25, T_C, 2.29, 2.35)
        scan_costs((81, 128, 243, 256), temps)
        scan_parallel(128, 400, (2.20, 2.23, 2.25, T_C, 2.28, 2.30, 2.35))
        return
    kernel_speeds(256, repeats=9)
    if args.quick:
        return
    kernel_speeds(2187, repeats=3)
    chain_numbers(args.records)


if __name__ == "__main__":
    main()
