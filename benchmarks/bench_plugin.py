"""Throughput of count-based MI on 10^6 pairs of 2x2 binary blocks.

Compares, interleaved in the same run (timings on a shared machine are noisy, so
read the ratios):

* ``PluginMIEstimator().fit`` -- full fit: validation, row encoding, sparse counting,
  default jackknife correction and its standard error;
* the original notebook's per-row dictionary loop (``defaultdict`` over row tuples, then
  normalise and sum) -- timed on a 10^5 subset and scaled to samples/s (it is
  linear in N);
* ``sklearn.metrics.mutual_info_score`` on integer row codes, once with the codes
  precomputed (counting only) and once including the encoding ``X @ 2**arange(4)``;
* ``sk_rgmi._counting.mi_from_codes`` on the same codes (the coarse-graining path),
  and ``mi_from_contingency`` on a batch of 2^16 tables (one per Boolean function
  of four spins).

Memory: ``tracemalloc`` peak of one fit (numpy reports its buffers to it).
Torch is not involved; numpy runs single-threaded code here.

Run: ``python benchmarks/bench_plugin.py [--n 1000000] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import math
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable

import numpy as np
from sklearn.metrics import mutual_info_score

from sk_rgmi import PluginMIEstimator
from sk_rgmi._counting import mi_from_codes, mi_from_contingency


def make_blocks(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Correlated 2x2 binary blocks (flattened, float 0/1 as in the original notebook).

    X: a shared bit per block copied to each spin with 20% noise (ferromagnet-like
    clusters); Y: X with each spin flipped with probability 0.2.
    """
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2, (n, 1))
    X = base ^ (rng.random((n, 4)) < 0.2)
    Y = X ^ (rng.random((n, 4)) < 0.2)
    return X.astype(float), Y.astype(float)


def notebook_dictionary_mi(X: np.ndarray, Y: np.ndarray) -> float:
    """The original notebook's analytic MI: a loop over rows with dictionaries."""
    xy_pair = np.hstack([X, Y])
    d = X.shape[1]
    joint_dict: defaultdict = defaultdict(int)
    marginal_x: defaultdict = defaultdict(int)
    marginal_y: defaultdict = defaultdict(int)
    for pair in xy_pair:
        joint_dict[tuple(pair)] += 1
        marginal_x[tuple(pair)[:d]] += 1
        marginal_y[tuple(pair)[d:]] += 1

    def normalize_dict(dictionary: dict) -> dict:
        total = sum(dictionary.values())
        return {k: v / total for k, v in dictionary.items()}

    joint = normalize_dict(joint_dict)
    px = normalize_dict(marginal_x)
    py = normalize_dict(marginal_y)
    mi = 0.0
    for xy, p_xy in joint.items():
        mi += p_xy * math.log(p_xy / (px[xy[:d]] * py[xy[d:]]))
    return mi


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--n-dict", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, n_dict = args.n, args.n_dict

    X, Y = make_blocks(n)
    w = 2 ** np.arange(4)
    cx, cy = (X @ w).astype(np.int64), (Y @ w).astype(np.int64)
    Xd, Yd = X[:n_dict], Y[:n_dict]

    methods: dict[str, tuple[Callable[[], object], int]] = {
        "PluginMIEstimator.fit (jackknife)": (
            lambda: PluginMIEstimator().fit(X, Y).mi_plugin_,
            n,
        ),
        "PluginMIEstimator.fit (none)": (
            lambda: PluginMIEstimator(correction="none").fit(X, Y).mi_,
            n,
        ),
        "sklearn mutual_info_score, codes given": (
            lambda: mutual_info_score(cx, cy),
            n,
        ),
        "sklearn mutual_info_score + encoding": (
            lambda: mutual_info_score(
                (X @ w).astype(np.int64), (Y @ w).astype(np.int64)
            ),
            n,
        ),
        "_counting.mi_from_codes": (lambda: mi_from_codes(cx, cy), n),
        f"notebook dictionary loop (on {n_dict:,}, scaled)": (
            lambda: notebook_dictionary_mi(Xd, Yd),
            n_dict,
        ),
    }
    times: dict[str, list[float]] = {k: [] for k in methods}
    values: dict[str, float] = {}
    for _ in range(args.repeats):  # interleaved: each round runs every method once
        for name, (fn, _size) in methods.items():
            dt, val = timed(fn)
            times[name].append(dt)
            values[name] = float(val)

    rate = {k: methods[k][1] / float(np.median(v)) for k, v in times.items()}
    ours = "PluginMIEstimator.fit (jackknife)"
    dict_name = next(k for k in methods if k.startswith("notebook"))
    print(f"N = {n:,} pairs of 2x2 binary blocks, median of {args.repeats} rounds")
    print(f"{'method':45s} {'samples/s':>12s} {'median s':>9s} {'MI (nats)':>10s}")
    for k in methods:
        med = float(np.median(times[k]))
        print(f"{k:45s} {rate[k]:12.3e} {med:9.4f} {values[k]:10.6f}")
    sk_codes = "sklearn mutual_info_score, codes given"
    sk_enc = "sklearn mutual_info_score + encoding"
    print()
    print(
        f"fit / notebook dictionary loop:        {rate[ours] / rate[dict_name]:8.1f}x"
    )
    print(f"fit / sklearn (codes given):           {rate[ours] / rate[sk_codes]:8.2f}x")
    print(f"fit / sklearn (+ encoding):            {rate[ours] / rate[sk_enc]:8.2f}x")
    print(
        "mi_from_codes / sklearn (codes given): "
        f"{rate['_counting.mi_from_codes'] / rate[sk_codes]:8.2f}x"
    )

    # Memory of one fit: O(N + states).
    tracemalloc.start()
    PluginMIEstimator().fit(X, Y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak extra memory of one fit: {peak / 2**20:.1f} MiB "
        f"({peak / n:.1f} bytes/sample; input X+Y = {(X.nbytes + Y.nbytes) / n:.0f})"
    )

    # Batched scoring of all 2^16 Boolean functions of four spins (coarse-graining).
    table = np.zeros((16, 16))
    np.add.at(table, (cx, cy), 1)
    funcs = (np.arange(2**16)[:, None] >> np.arange(16)) & 1  # f(v) for v = 0..15
    dt, mi = timed(
        lambda: mi_from_contingency(
            np.stack([(1 - funcs) @ table, funcs @ table], axis=1)
        )
    )
    print(
        f"mi_from_contingency on 2^16 coarse-grained 2x16 tables: {dt:.3f} s "
        f"(best single-spin-output function: {np.max(mi):.4f} nats)"
    )


if __name__ == "__main__":
    main()
