"""Equilibrium 2D Ising configurations: Wolff, Swendsen–Wang and Metropolis samplers.

The numba kernels live in :mod:`sk_rgmi.datasets._kernels`; this module chooses
burn-in and spacing, splits the samples over independent chains and runs them with
joblib.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from .._validation import check_seed_sequence
from . import _kernels
from ._base import _check_int
from .exact import T_C

__all__ = ["ALGORITHMS", "T_C", "sample_ising"]

ALGORITHMS = ("wolff", "swendsen-wang", "metropolis")

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


def _validate_algorithm(algorithm: Any) -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}.")
    return algorithm


def _philox_state(seed_seq: np.random.SeedSequence) -> np.ndarray:
    key = seed_seq.generate_state(2, np.uint32).astype(np.uint64)
    state = np.zeros(10, dtype=np.uint64)
    state[:2] = key
    state[6] = 4  # empty buffer
    return state


def _record(spins: np.ndarray, fmt: str, coarse_rounds: int) -> np.ndarray:
    """Copy of a ±1 lattice, optionally 3x3-majority coarse-grained, in ``fmt``."""
    x = spins
    for _ in range(coarse_rounds):
        n = x.shape[0] // 3
        s = x.reshape(n, 3, n, 3).sum(axis=(1, 3), dtype=np.int16)
        x = np.where(s > 0, 1, -1).astype(np.int8)
    if fmt == "01":
        return (x > 0).astype(np.int8)
    return x.copy()


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
    verbose: int,
    position: int,
) -> np.ndarray:
    """One Markov chain: ordered start (random sign), burn-in, ``n_samples`` records."""
    st = _philox_state(seed_seq)
    n_sites = size * size
    sign = 1 if _kernels.draw_u32(st, 1)[0] & 1 else -1
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
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    assert out is not None
    return out


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
) -> np.ndarray:
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
        Encoding of the returned spins: 0/1 (as in the seed notebook) or -1/+1.
    n_chains : int, default=None
        Number of independent chains; None: ``ceil(n_samples / 50)``. The samples
        are split as evenly as possible, in chain order. Never derived from
        ``n_jobs``, so the output is the same for every ``n_jobs``.
    random_state : int, SeedSequence, Generator or None, default=None
        Seeds the chains: chain ``c`` uses ``SeedSequence(random_state).spawn(
        n_chains)[c]`` as the key of its own Philox4x32-10 stream.
    n_jobs : int, default=None
        Chains run in parallel with ``joblib.Parallel(n_jobs, prefer="threads")``
        (the kernels release the GIL). Under ``joblib.parallel_backend("dask")`` the
        chains are spread over a Dask cluster.
    verbose : int, default=0
        1: tqdm progress bar over samples (advances as chains finish);
        2: also one bar per chain.
    majority_rounds : int, default=0
        Rounds of 3×3 majority block-spin applied to each configuration as it is
        recorded (``size`` must be divisible by ``3 ** majority_rounds``); equal to
        :func:`~sk_rgmi.datasets.block_spin` with ``factor=3, rule="majority"``
        applied that many times afterwards (3×3 majority never ties), but the full
        lattices are never stacked: 1000 samples of 2187² would take 4.8 GB, their
        27×27 blocks 0.7 MB.

    Returns
    -------
    lattices : ndarray of shape (n_samples, size // 3**majority_rounds, \
size // 3**majority_rounds), dtype int8
        Spins 0/1 or ±1.

    Examples
    --------
    >>> from sk_rgmi.datasets import sample_ising
    >>> x = sample_ising(4, 16, random_state=0)
    >>> x.shape, x.dtype
    ((4, 16, 16), dtype('int8'))
    >>> sorted(set(x.ravel().tolist()))
    [0, 1]
    """
    from joblib import Parallel, delayed

    n_samples = _check_int(n_samples, "n_samples", minimum=1)
    size = _check_int(size, "size", minimum=2)
    if size > 46340:
        raise ValueError(f"size must be <= 46340 (int32 site indices), got {size}.")
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(
            f"temperature must be a number, got {type(temperature).__name__}."
        )
    temperature = float(temperature)
    if not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}.")
    algorithm = _validate_algorithm(algorithm)
    majority_rounds = _check_int(majority_rounds, "majority_rounds", minimum=0)
    if size % 3**majority_rounds:
        raise ValueError(
            f"size={size} is not divisible by 3**majority_rounds = "
            f"{3**majority_rounds}: each round of 3x3 majority needs a multiple of 3."
        )
    if spins not in ("01", "pm1"):
        raise ValueError(f"spins must be '01' or 'pm1', got {spins!r}.")
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
    seeds = check_seed_sequence(random_state).spawn(n_chains)
    counts = [
        n_samples // n_chains + (c < n_samples % n_chains) for c in range(n_chains)
    ]
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
            verbose,
            c,
        )
        for c in range(n_chains)
    )
    results = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(jobs)
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_samples, desc=f"Ising {algorithm} L={size}")
    parts = []
    for part in results:
        parts.append(part)
        if bar is not None:
            bar.update(len(part))
    if bar is not None:
        bar.close()
    return np.concatenate(parts, axis=0)
