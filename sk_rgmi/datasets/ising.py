"""Equilibrium 2D Ising configurations: Wolff, Swendsen–Wang and Metropolis samplers.

The numba kernels live in :mod:`sk_rgmi.datasets._kernels`; this module chooses
burn-in and spacing, splits the samples over independent chains and runs them with
joblib.
"""

from __future__ import annotations

import math
import sys
import threading
import warnings
from typing import Any

import numpy as np

from .._random import check_seed_sequence, stream
from . import _kernels
from ._checks import (
    ALGORITHMS,
    _check_algorithm,
    _check_int,
    _check_spins_format,
    _check_temperature,
)
from .blocks import _coarse_step
from .exact import T_C

__all__ = ["ALGORITHMS", "T_C", "sample_ising"]

#: Samples per independent chain: ``n_chains = ceil(n_samples / 50)`` unless given.
#: Fixed (not derived from ``n_jobs``) so the output never depends on ``n_jobs``.
#: 50 keeps the burn-in of a chain below ~30 % of its sampling cost at L = 2187.
SAMPLES_PER_CHAIN = 50

# Measured integrated autocorrelation times at T_c (single chains of 4000 records,
# Sokal window; benchmarks/bench_ising.py and docs/datasets_measurements.rst), in
# sweeps (Wolff: sweep-equivalents of N flipped spins):
#   Wolff   tau_E = 1.3, 2.0, 3.0, 2.3, 2.8 at L = 16, 32, 64, 128, 256 -> spacing 6
#   SW      tau_E = 3.1, 3.9, 4.7, 5.4, 5.3 at L = 16 ... 256 ≈ 0.8 + 0.83 ln L
#   Metro.  tau_|m| = 9.3, 47 at L = 16, 32 ≈ 0.5 (L/4)^2.17 (z = 2.17)
# Away from T_c, L is replaced by min(xi, L) (Metropolis: L/4 by min(xi, L/4)), xi
# the exact correlation length; at L = 64 this gives Wolff/SW/Metropolis
# tau_E <= 1/2.3/2.2 at T = 1.8, 2.0, 2.6, 4.0 (measured: Wolff <= 0.94; SW <= 2.3;
# Metropolis tau_|m| 3.7 at T = 2.0 and 5.2 at 2.6, against 5.0 and 13 predicted).
# Spacing = ceil(2 tau) (successive records correlated by <= e^-2 ≈ 0.14). Burn-in
# from the ordered start: relaxation of E and |m| at T_c, L = 729 (6 chains) took
# ~40 sweep-equivalents (Wolff) / ~35 sweeps (SW); default max(100, 16 spacings).

# Measured CPU cost on one core (benchmarks/bench_ising.py; docs/
# datasets_measurements.rst), for the time estimate printed before long runs:
# ns per flipped spin (Wolff) or per site and sweep (Swendsen–Wang, Metropolis) at
# T_c, L = 256 / 2187: Wolff 30 / 33, SW 35 / 39, Metropolis 7.8 / 7.5; recording
# one configuration (3x3 majority rounds 1.9, observables 0.5) ≈ 2.5 ns per site.
_NS_PER_SITE_SWEEP = {"wolff": 32.0, "swendsen-wang": 37.0, "metropolis": 7.7}
_NS_PER_SITE_RECORD = 2.5
_ESTIMATE_ABOVE_S = 10.0  # print the estimate only for runs longer than this


def _correlation_length(temperature: float) -> float:
    """Exact correlation length of the infinite lattice (inf at T_c)."""
    k = 1.0 / temperature
    g = abs(2.0 * k + math.log(math.tanh(k)))
    if g == 0.0:
        return math.inf
    return 1.0 / g if temperature > T_C else 1.0 / (2.0 * g)


def default_sweeps_between(algorithm: str, size: int, temperature: float) -> int:
    """Default spacing between recorded samples, in sweeps (see module comment)."""
    xi = _correlation_length(temperature)
    if algorithm == "wolff":
        return 6
    if algorithm == "swendsen-wang":
        tau = 0.8 + 0.83 * math.log(max(min(xi, size), 2.0))
    else:
        tau = 1.0 + 0.5 * min(xi, size / 4) ** 2.17
    return max(2, math.ceil(2 * tau))


def default_burn_in(algorithm: str, size: int, temperature: float) -> int:
    """Default burn-in from the ordered start, in sweeps (see module comment)."""
    return max(100, 16 * default_sweeps_between(algorithm, size, temperature))


def _philox_state(seed_seq: np.random.SeedSequence) -> np.ndarray:
    key = seed_seq.generate_state(2, np.uint32).astype(np.uint64)
    state = np.zeros(10, dtype=np.uint64)
    state[:2] = key
    state[6] = 4  # empty buffer
    return state


def _record(spins: np.ndarray, fmt: str, coarse_rounds: int) -> np.ndarray:
    """Copy of a ±1 lattice, coarse-grained by ``coarse_rounds`` 3x3 majority rounds.

    The rounds are :func:`~sk_rgmi.datasets.block_spin`'s own step (the package's
    one majority rule), without re-validating the sampler's spins; 3x3 blocks never
    tie, so no tie rule enters.
    """
    x = spins[np.newaxis]
    for _ in range(coarse_rounds):
        x = _coarse_step(x, 3, "majority", False, "first", None)
    x = x[0]
    if fmt == "01":
        return (x > 0).astype(np.int8)
    return x.copy()


class _Progress:
    """Records done, shared by the chains: a bar advanced from any thread.

    Chains running in this process (threads, or one at a time) advance the bar
    record by record. Pickled to another process (a process or Dask backend), it
    arrives empty and its calls do nothing; :meth:`chain_done` then advances the bar
    as whole chains come back.
    """

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._lock = threading.Lock()
        self._done = 0

    def __call__(self, n: int) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.update(n)

    def chain_done(self, n: int) -> None:
        self._done += n
        if self._bar is not None:
            with self._lock:
                if self._bar.n < self._done:
                    self._bar.update(self._done - self._bar.n)

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._bar, self._lock, self._done = None, threading.Lock(), 0


def _chain_counts(n_samples: int, n_chains: int) -> list[int]:
    """Records per chain: ``n_samples`` split as evenly as possible, in chain order."""
    return [n_samples // n_chains + (c < n_samples % n_chains) for c in range(n_chains)]


def _run_chain(
    seed_seq: np.random.SeedSequence,
    n_samples: int,
    size: int,
    temperature: float,
    algorithm: str,
    n_between: int,
    burn_in: int,
    fmt: str,
    coarse_rounds: int,
    observables: bool,
    verbose: int,
    position: int,
    progress: _Progress | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """One Markov chain: ordered start (random sign), burn-in, ``n_samples`` records.

    Returns the records and, with ``observables``, their ``(n_samples, 2)`` bond and
    spin sums on the full lattice.
    """
    st = _philox_state(seed_seq)
    n_sites = size * size
    sign = 1 if int(_kernels.draw_u32(st, 1)[0]) % 2 else -1
    spins = np.full((size, size), sign, dtype=np.int8)
    beta = 1.0 / temperature
    bond = np.uint64(min(math.floor(-math.expm1(-2.0 * beta) * 2.0**32), 2**32))
    if algorithm == "metropolis":
        thresholds = np.array(
            [
                0,
                math.floor(math.exp(-4.0 * beta) * 2**32),
                math.floor(math.exp(-8.0 * beta) * 2**32),
            ],
            dtype=np.uint64,
        )

        def step(n: int) -> None:
            _kernels.metropolis_sweeps(spins, n, thresholds, st)

        step(burn_in)
    else:
        stack = np.empty(n_sites, dtype=np.int32)
        if algorithm == "swendsen-wang":
            visited = np.zeros(n_sites, dtype=np.uint8)

            def step(n: int) -> None:
                _kernels.swendsen_wang_sweeps(spins, n, bond, st, stack, visited)

            step(burn_in)
        else:
            # Burn-in in sweep-equivalents, in growing batches of clusters; the mean
            # cluster size over its second half fixes the number of clusters between
            # records (a fixed count: stopping "once N spins flipped" biases samples
            # towards states just after big clusters).
            target = max(burn_in, 2) * n_sites
            flipped = n_done = late_flips = late_clusters = 0
            batch = 1
            while flipped < target:
                f = _kernels.wolff_clusters(spins, batch, bond, st, stack)
                flipped += f
                n_done += batch
                if flipped > target / 2:
                    late_flips += f
                    late_clusters += batch
                remaining = (target - flipped) * n_done / flipped
                batch = max(1, min(2 * batch, math.ceil(remaining)))
            mean_cluster = late_flips / max(late_clusters, 1)
            n_clusters = max(1, round(n_between * n_sites / mean_cluster))

            def step(n: int) -> None:
                _kernels.wolff_clusters(spins, n_clusters, bond, st, stack)

            n_between = 1  # step() already spans n_sweeps_between sweep-equivalents

    out: np.ndarray | None = None
    sums = np.empty((n_samples, 2), dtype=np.int64) if observables else None
    bar = None
    if verbose >= 2:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=n_samples,
            desc=f"chain {position}",
            position=position + 1,
            leave=False,
        )
    for k in range(n_samples):
        step(n_between)
        rec = _record(spins, fmt, coarse_rounds)
        if out is None:
            out = np.empty((n_samples, *rec.shape), dtype=np.int8)
        out[k] = rec
        if sums is not None:
            sums[k] = _kernels.bond_and_spin_sums(spins)
        if bar is not None:
            bar.update(1)
        if progress is not None:
            progress(1)
    if bar is not None:
        bar.close()
    assert out is not None
    return out, sums


def _estimated_seconds(
    algorithm: str,
    size: int,
    counts: list[int],
    n_between: int,
    burn_in: int,
    n_workers: int,
) -> tuple[float, float]:
    """Expected (CPU seconds, wall seconds) of the chains, from measured costs.

    Each chain costs ``(max(burn_in, 2) + count * n_between) * L^2`` site updates at
    the measured ns per site and sweep, plus the recording of ``count`` lattices;
    chains run ``n_workers`` at a time, longest first.
    """
    n_sites = size * size
    per_sweep = _NS_PER_SITE_SWEEP[algorithm] * 1e-9 * n_sites
    per_record = _NS_PER_SITE_RECORD * 1e-9 * n_sites
    chains = sorted(
        (max(burn_in, 2) * per_sweep + c * (n_between * per_sweep + per_record))
        for c in counts
    )[::-1]
    busy = [0.0] * max(1, min(n_workers, len(chains)))
    for cost in chains:  # greedy list scheduling, as joblib dispatches in order
        busy[busy.index(min(busy))] += cost
    return float(sum(chains)), max(busy)


def _format_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def sample_ising(
    n_samples: int,
    size: int,
    temperature: float = T_C,
    *,
    algorithm: str = "wolff",
    n_sweeps_between: int | None = None,
    burn_in: int | None = None,
    spins: str = "01",
    n_chains: int | None = None,
    random_state: Any = None,
    n_jobs: int | None = None,
    verbose: int = 0,
    majority_rounds: int = 0,
    return_observables: bool = False,
) -> np.ndarray | tuple[np.ndarray, Any]:
    """Sample equilibrium configurations of the 2D Ising model.

    Periodic ``size × size`` square lattice, J = 1, no field, at ``temperature``
    (k_B = 1; critical point ``T_C = 2 / ln(1 + sqrt 2)`` ≈ 2.2692). Samples come from
    ``n_chains`` independent Markov chains, each started ordered (random sign),
    burnt in, then recorded every ``n_sweeps_between`` sweeps. The samplers are
    validated against the exact finite-size energy, Onsager–Yang's magnetisation and
    the critical Binder cumulant (``tests/test_ising.py``).

    Parameters
    ----------
    n_samples : int
        Number of configurations (>= 1).
    size : int
        Side ``L`` of the lattice (2 <= L <= 46340).
    temperature : float, default=T_C
        Temperature (> 0).
    algorithm : {"wolff", "swendsen-wang", "metropolis"}, default="wolff"
        ``"wolff"`` (single-cluster; fastest decorrelation at and near T_c and the
        default: ≈30 ns per flipped spin, tau_E ≈ 2-3 sweep-equivalents even at
        L = 2187), ``"swendsen-wang"`` (all clusters; ≈35 ns per site and sweep,
        tau_E grows like ln L) or ``"metropolis"`` (single-site, checkerboard order;
        ≈8 ns per site and sweep, cheapest far from T_c but critical slowing down
        (z ≈ 2.17) makes it useless near T_c for large L).
    n_sweeps_between : int, default=None
        Sweeps between recorded samples (Wolff: sweep-equivalents of N flipped
        spins, turned into a fixed number of clusters with the mean cluster size
        measured during burn-in). None: about twice the measured integrated
        autocorrelation time of the energy -- Wolff 6; Swendsen–Wang
        ``2 (0.8 + 0.83 ln min(xi, L))``; Metropolis ``2 (1 + 0.5 min(xi, L/4)^2.17)``,
        ``xi`` the exact correlation length at ``temperature``.
    burn_in : int, default=None
        Sweeps discarded at the start of each chain. None:
        ``max(100, 16 * default n_sweeps_between)``.
    spins : {"01", "pm1"}, default="01"
        Encoding of the returned spins: 0/1 (as in the original notebook) or -1/+1.
    n_chains : int, default=None
        Number of independent chains; None: ``ceil(n_samples / 50)``. The samples
        are split as evenly as possible, in chain order. Never derived from
        ``n_jobs``, so the output is the same for every ``n_jobs``. Chains run
        ``workers`` at a time: a multiple of the number of workers keeps all of
        them busy to the end of the call.
    random_state : None, int, sequence of int, SeedSequence, Generator or \
RandomState, default=None
        Seeds the chains: anything :class:`numpy.random.SeedSequence` accepts (e.g.
        ``[seed, k]`` for the ``k``-th temperature of a scan). Chain ``c`` keys its
        own Philox4x32-10 stream with ``stream(random_state, "chains").spawn(
        n_chains)[c]`` (:mod:`sk_rgmi._random`); a given ``SeedSequence`` is not
        modified, so passing it twice gives the same samples.
    n_jobs : int, default=None
        Chains run in parallel with ``joblib.Parallel(n_jobs, prefer="threads")``
        (the kernels release the GIL); None means 1 unless inside a
        ``joblib.parallel_config`` context, -1 all cores. Under
        ``joblib.parallel_backend("dask")`` the chains are spread over a Dask
        cluster.
    verbose : int, default=0
        1: tqdm progress bar over samples (record by record when the chains run
        in this process, chain by chain under a process or Dask backend), preceded by
        the expected run time (from the measured cost per site and sweep scaled by
        ``L^2``, the number of chains and of parallel workers) for runs expected to
        take over 10 s; 2: also one bar per chain.
    majority_rounds : int, default=0
        Rounds of 3×3 majority block-spin applied to each configuration as it is
        recorded (``size`` must be divisible by ``3 ** majority_rounds``); equal to
        ``block_spin_flow(x, 3, majority_rounds)[-1]`` afterwards (3×3 majority
        never ties), but the full lattices are never stacked: 1000 samples of
        2187² would take 4.8 GB, their 27×27 blocks 0.7 MB.
    return_observables : bool, default=False
        Also return the energy and magnetisation of every record, measured on the
        full ``size × size`` lattice before any ``majority_rounds``.

    Returns
    -------
    lattices : ndarray of shape (n_samples, size // 3**majority_rounds, \
size // 3**majority_rounds), dtype int8
        Spins 0/1 or ±1.
    observables : Bunch
        Only with ``return_observables``; arrays of shape (n_samples,):

        - ``energy``: energy per spin ``-(1/N) sum_<ij> s_i s_j`` over the 2N
          nearest-neighbour bonds (J = 1, spins ±1), float64; its mean estimates
          :func:`~sk_rgmi.datasets.exact_energy_per_spin`;
        - ``magnetization``: signed magnetisation per spin ``(1/N) sum_i s_i``,
          float64;
        - ``chain``: the chain of each record (records of a chain are consecutive
          and in time order, so errors of means need the chain's autocorrelation
          time or a grouping by chain), int64.

    Examples
    --------
    >>> from sk_rgmi.datasets import sample_ising
    >>> x = sample_ising(4, 16, random_state=0)
    >>> x.shape, x.dtype
    ((4, 16, 16), dtype('int8'))
    >>> sorted(set(x.ravel().tolist()))
    [0, 1]
    >>> x, obs = sample_ising(4, 27, random_state=[0, 1], majority_rounds=1,
    ...                       return_observables=True)
    >>> x.shape, obs.energy.shape, bool((obs.energy < 0).all())
    ((4, 9, 9), (4,), True)
    """
    from joblib import Parallel, cpu_count, delayed, effective_n_jobs

    n_samples = _check_int(n_samples, "n_samples", minimum=1)
    size = _check_int(size, "size", minimum=2)
    if size > 46340:
        raise ValueError(f"size must be <= 46340 (int32 site indices), got {size}.")
    temperature = _check_temperature(temperature)
    algorithm = _check_algorithm(algorithm)
    majority_rounds = _check_int(majority_rounds, "majority_rounds", minimum=0)
    if size % 3**majority_rounds:
        raise ValueError(
            f"size={size} is not divisible by 3**majority_rounds = "
            f"{3**majority_rounds}: each round of 3x3 majority needs a multiple of 3."
        )
    spins = _check_spins_format(spins)
    if algorithm == "metropolis":
        needed = default_sweeps_between(algorithm, size, temperature)
        if needed > 1000:
            warnings.warn(
                f"Metropolis at T={temperature:.4g} and L={size} decorrelates in "
                f"~{needed // 2} sweeps (critical slowing down, z ≈ 2.17); "
                "algorithm='wolff' is orders of magnitude faster here.",
                UserWarning,
                stacklevel=2,
            )
    if n_sweeps_between is None:
        n_sweeps_between = default_sweeps_between(algorithm, size, temperature)
    n_sweeps_between = _check_int(n_sweeps_between, "n_sweeps_between", minimum=1)
    if burn_in is None:
        burn_in = default_burn_in(algorithm, size, temperature)
    burn_in = _check_int(burn_in, "burn_in", minimum=0)
    if n_chains is None:
        n_chains = math.ceil(n_samples / SAMPLES_PER_CHAIN)
    n_chains = _check_int(n_chains, "n_chains", minimum=1)
    if n_chains > n_samples:
        raise ValueError(f"n_chains={n_chains} exceeds n_samples={n_samples}.")
    seeds = stream(check_seed_sequence(random_state), "chains").spawn(n_chains)
    counts = _chain_counts(n_samples, n_chains)
    if verbose:
        n_workers = effective_n_jobs(n_jobs)
        cpu, wall = _estimated_seconds(
            algorithm, size, counts, n_sweeps_between, burn_in, n_workers
        )
        if wall > _ESTIMATE_ABOVE_S:
            n_cores = cpu_count()
            hint = (
                f"; n_jobs=-1 uses all {n_cores} cores" if n_workers < n_cores else ""
            )
            print(
                f"sample_ising: {n_samples} configurations, {algorithm}, "
                f"L={size}, T={temperature:.6g}, {n_chains} chains on {n_workers} "
                f"worker(s): expected ≈{_format_seconds(wall)} "
                f"(≈{_format_seconds(cpu)} of CPU time at the measured speed of one "
                f"core; machines differ{hint})",
                file=sys.stderr,
                flush=True,
            )
    bar = progress = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_samples, desc=f"Ising {algorithm} L={size}")
        progress = _Progress(bar)
    jobs = (
        delayed(_run_chain)(
            seeds[c],
            counts[c],
            size,
            temperature,
            algorithm,
            n_sweeps_between,
            burn_in,
            spins,
            majority_rounds,
            return_observables,
            verbose,
            c,
            progress,
        )
        for c in range(n_chains)
    )
    results = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(jobs)
    parts, sums = [], []
    for part, part_sums in results:
        parts.append(part)
        sums.append(part_sums)
        if progress is not None:
            progress.chain_done(len(part))
    if bar is not None:
        bar.close()
    lattices = np.concatenate(parts, axis=0)
    if not return_observables:
        return lattices
    from sklearn.utils import Bunch

    bonds, totals = np.concatenate(sums, axis=0).T
    n_sites = size * size
    observables = Bunch(
        energy=-bonds / n_sites,
        magnetization=totals / n_sites,
        chain=np.repeat(np.arange(n_chains, dtype=np.int64), counts),
    )
    return lattices, observables
