"""KSGEstimator: speed against baselines in the same run, accuracy, error bars.

Sections (``--section``, default ``speed``; timings on a shared machine are noisy,
so read the ratios of methods interleaved in the same run):

* ``speed`` -- one thread (``threadpool_limits(1)``, ``n_jobs=1``):
  1-D data, N = 50,000: ``KSGEstimator.fit`` (estimate + standard error) and
  ``score`` (the estimate alone) against
  :func:`sklearn.feature_selection.mutual_info_regression` (KSG-1, k = 3, the same
  statistic). 5 + 5 dimensions, N = 100,000: fit and score against an O(N^2)
  brute-force KSG (numpy, timed on a subset of query rows and scaled: its cost is
  linear in them), and fit with ``n_jobs=2``. Peak memory of a fit
  (``tracemalloc``).
* ``methods`` -- which neighbour search is fastest: the joint k-NN query with
  KDTree (in random and in tree order), BallTree and ``NearestNeighbors``; the
  1-D marginal count with ``KDTree.query_radius(count_only=True)`` against the
  sorted-array count.
* ``accuracy`` -- error on Gaussians of known MI (d independent correlated pairs,
  I = -(d/2) ln(1 - rho^2)), mean and spread over seeds, both variants.
* ``calibration`` -- ``mi_std_`` against the spread of ``mi_`` over independent
  data sets, and the coverage of ``mi_ci_`` (of the mean estimate).
* ``failures`` -- discrete data (against the exact MI and ``PluginMIEstimator``)
  and a monotone map of one column (MI unchanged, KSG not).
* ``scaling`` -- fit time against N up to 10^6 (5 + 5 dims: 3 x 10^5 unless
  ``--max-n-5d``), log-log plot to ``docs/_static/ksg_scaling.png``.

Run: ``python benchmarks/bench_ksg.py --section speed`` (or ``all``).
"""

from __future__ import annotations

import argparse
import math
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.special import digamma
from sklearn.feature_selection import mutual_info_regression
from sklearn.neighbors import BallTree, KDTree, NearestNeighbors
from threadpoolctl import threadpool_limits

from sk_rgmi import KSGEstimator, PluginMIEstimator
from sk_rgmi.datasets import make_gaussian_pairs
from sk_rgmi.knn import count_within_1d

STATIC = Path(__file__).resolve().parents[1] / "docs" / "_static"


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def interleaved(
    methods: dict[str, Callable[[], object]], repeats: int
) -> dict[str, float]:
    """Median wall time of each method, the methods run in turn every round."""
    times: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(repeats):
        for name, fn in methods.items():
            times[name].append(timed(fn)[0])
    return {name: float(np.median(t)) for name, t in times.items()}


def brute_force_ksg1(x: np.ndarray, y: np.ndarray, rows: int, k: int = 3) -> float:
    """KSG-1 by O(N^2) distance scans over the first ``rows`` query samples.

    The baseline of the 5 + 5-D timing: numpy, 64 query rows at a time, max-norm
    per marginal, k-th distance by ``np.partition``. Returns the (partial) mean of
    the per-sample terms so the work cannot be skipped.
    """
    n = len(x)
    total = 0.0
    for start in range(0, rows, 64):
        sl = slice(start, min(start + 64, rows))
        dx = np.zeros((sl.stop - sl.start, n))
        dy = np.zeros_like(dx)
        for j in range(x.shape[1]):
            np.maximum(dx, np.abs(x[sl, j, None] - x[None, :, j]), out=dx)
        for j in range(y.shape[1]):
            np.maximum(dy, np.abs(y[sl, j, None] - y[None, :, j]), out=dy)
        eps = np.partition(np.maximum(dx, dy), k, axis=1)[:, k]
        nx = (dx < eps[:, None]).sum(axis=1) - 1
        ny = (dy < eps[:, None]).sum(axis=1) - 1
        total += float(np.sum(digamma(nx + 1.0) + digamma(ny + 1.0)))
    return digamma(k) + digamma(n) - total / rows


def peak_memory(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


# ---------------------------------------------------------------------- sections


def section_speed(repeats: int) -> None:
    print("== speed: one thread (threadpool_limits(1), n_jobs=1) ==")
    x, y = make_gaussian_pairs(50_000, 1, mi=0.5, random_state=0)
    y1 = y[:, 0]
    est = KSGEstimator(random_state=0).fit(x, y1)
    t = interleaved(
        {
            "KSGEstimator.fit (estimate + std)": lambda: KSGEstimator(
                random_state=0, n_jobs=1
            ).fit(x, y1),
            "KSGEstimator.score (estimate)": lambda: est.score(x, y1),
            "sklearn mutual_info_regression": lambda: mutual_info_regression(
                x, y1, n_neighbors=3, random_state=0
            ),
        },
        repeats,
    )
    sk = mutual_info_regression(x, y1, n_neighbors=3, random_state=0)[0]
    print(f"1-D, N = 50,000, true MI 0.5 nats, median of {repeats} rounds")
    for name, sec in t.items():
        print(f"  {name:38s} {sec:8.3f} s")
    print(f"  values: KSG {est.mi_:.5f} +- {est.mi_std_:.5f}, sklearn {sk:.5f} nats")
    base = t["sklearn mutual_info_regression"]
    print(f"  sklearn / fit   = {base / t['KSGEstimator.fit (estimate + std)']:.2f}x")
    print(f"  sklearn / score = {base / t['KSGEstimator.score (estimate)']:.2f}x")

    n = 100_000
    x, y = make_gaussian_pairs(n, 5, mi=1.0, random_state=1)
    est = KSGEstimator(random_state=0, n_jobs=1).fit(x, y)
    rows = 512
    t = interleaved(
        {
            "fit, n_jobs=1": lambda: KSGEstimator(random_state=0, n_jobs=1).fit(x, y),
            "fit, n_jobs=2": lambda: KSGEstimator(random_state=0, n_jobs=2).fit(x, y),
            "score, n_jobs=1": lambda: est.score(x, y),
            f"brute force, {rows} rows": lambda: brute_force_ksg1(x, y, rows),
        },
        max(1, repeats // 2),
    )
    brute = t[f"brute force, {rows} rows"] * n / rows
    print(f"5 + 5 dims, N = {n:,}, true MI 1.0 nats (KSG: {est.mi_:.4f} nats)")
    for name, sec in t.items():
        print(f"  {name:38s} {sec:8.3f} s")
    print(f"  brute force, all {n:,} rows (scaled)    {brute:8.1f} s")
    print(
        f"  brute / fit (n_jobs=1) = {brute / t['fit, n_jobs=1']:.0f}x, "
        f"brute / score = {brute / t['score, n_jobs=1']:.0f}x"
    )
    print(f"  fit n_jobs=1 / n_jobs=2 = {t['fit, n_jobs=1'] / t['fit, n_jobs=2']:.2f}x")
    if not Path("/work/benchenv/bin/python").exists():
        print("  (bmi's KSG not measured: no bmi environment on this machine)")

    for d, n in [(1, 100_000), (5, 100_000)]:
        x, y = make_gaussian_pairs(n, d, mi=1.0, random_state=2)
        peak = peak_memory(lambda x=x, y=y: KSGEstimator(random_state=0).fit(x, y))
        print(
            f"peak memory of a fit, {d} + {d} dims, N = {n:,}: {peak / 2**20:.1f} MiB "
            f"= {peak / n:.0f} bytes/sample (input {(x.nbytes + y.nbytes) / n:.0f})"
        )


def _joint_query_methods(n: int, d: int, repeats: int) -> None:
    """Time the joint k-NN query of d + d-dimensional data by every method."""
    x, y = make_gaussian_pairs(n, d, mi=1.0, random_state=3)
    Z = np.hstack([x, y])
    kd = KDTree(Z, metric="chebyshev")
    Z_o = Z[np.asarray(kd.get_arrays()[1])]
    sub = Z[:2000]
    methods = {
        "KDTree build + query": lambda: KDTree(Z, metric="chebyshev").query(Z, 4),
        "KDTree(leaf 10) build + query": lambda: KDTree(
            Z, leaf_size=10, metric="chebyshev"
        ).query(Z, 4),
        "KDTree query, tree order": lambda: kd.query(Z_o, 4),
        "KDTree query, random order": lambda: kd.query(Z, 4),
        "NearestNeighbors(kd_tree)": lambda: (
            NearestNeighbors(n_neighbors=3, algorithm="kd_tree", metric="chebyshev")
            .fit(Z)
            .kneighbors()
        ),
    }
    slow = {
        "BallTree build + query (2,000 rows)": lambda: BallTree(
            Z, metric="chebyshev"
        ).query(sub, 4),
        "NearestNeighbors(brute) (2,000 rows)": lambda: (
            NearestNeighbors(n_neighbors=4, algorithm="brute", metric="chebyshev")
            .fit(Z)
            .kneighbors(sub)
        ),
    }
    t = interleaved(methods, repeats)
    t.update(interleaved(slow, 1))
    print(f"{d} + {d} dims, N = {n:,}")
    for name, sec in t.items():
        scaled = sec * n / 2000 if "2,000" in name else sec
        print(f"  {name:40s} {sec:8.3f} s  (all rows: {scaled:8.2f} s)")


def section_methods(repeats: int) -> None:
    print("== methods: joint k-NN (k + 1 = 4) and 1-D marginal counts, one thread ==")
    for n, d in [(50_000, 1), (20_000, 5)]:
        _joint_query_methods(n, d, repeats)
    x, y = make_gaussian_pairs(50_000, 1, mi=1.0, random_state=4)
    Z = np.hstack([x, y])
    eps = np.nextafter(KDTree(Z, metric="chebyshev").query(Z, 4)[0][:, 3], 0)
    tree = KDTree(x, metric="chebyshev")
    v = x[:, 0]
    s = np.sort(v)
    t = interleaved(
        {
            "KDTree build + query_radius(count_only)": lambda: KDTree(
                x, metric="chebyshev"
            ).query_radius(x, eps, count_only=True),
            "sorted-array count (exact)": lambda: count_within_1d(v, eps),
            "plain searchsorted (inexact)": lambda: (
                np.searchsorted(s, v + eps, "right")
                - np.searchsorted(s, v - eps, "left")
            ),
        },
        repeats,
    )
    exact = tree.query_radius(x, eps, count_only=True) - 1
    naive = np.searchsorted(s, v + eps, "right") - np.searchsorted(s, v - eps) - 1
    print("1-D marginal count, N = 50,000")
    for name, sec in t.items():
        print(f"  {name:40s} {sec:8.4f} s")
    print(
        f"  sorted count == KDTree: {np.array_equal(count_within_1d(v, eps), exact)}; "
        f"plain searchsorted differs on {int(np.sum(naive != exact)):,} samples"
    )


def section_accuracy(seeds: int) -> None:
    print(f"== accuracy on Gaussians: mean error (sd over {seeds} seeds) [mean std] ==")
    mis = (0.1, 0.5, 1.0, 2.0, 3.0)
    for n in (1000, 10_000):
        for variant in ("ksg1", "ksg2"):
            print(f"N = {n:,}, {variant}, k = 3: estimate - truth, nats")
            print("  d\\MI " + "".join(f"{m:>24.1f}" for m in mis))
            for d in (1, 2, 5, 10):
                cells = []
                for mi in mis:
                    errs, stds = [], []
                    for seed in range(seeds):
                        x, y = make_gaussian_pairs(n, d, mi=mi, random_state=100 + seed)
                        est = KSGEstimator(variant=variant, random_state=seed)
                        est.fit(x, y)
                        errs.append(est.mi_ - mi)
                        stds.append(est.mi_std_)
                    cells.append(
                        f"{np.mean(errs):+.3f} ({np.std(errs, ddof=1):.3f}) "
                        f"[{np.mean(stds):.3f}]"
                    )
                print(f"  {d:4d} " + "".join(f"{c:>24s}" for c in cells), flush=True)


def section_calibration(n_sets: int) -> None:
    print(f"== calibration of mi_std_ over {n_sets} independent data sets ==")
    for n, d, mi, variant in [
        (2000, 1, 0.0, "ksg1"),
        (2000, 1, 0.5, "ksg1"),
        (2000, 1, 2.0, "ksg1"),
        (2000, 1, 0.5, "ksg2"),
        (2000, 5, 1.0, "ksg1"),
        (1000, 10, 0.5, "ksg1"),
        (5000, 10, 0.5, "ksg1"),
        (20_000, 1, 0.5, "ksg1"),
    ]:
        vals, stds, lows, highs = [], [], [], []
        for seed in range(n_sets):
            x, y = make_gaussian_pairs(n, d, mi=mi, random_state=1000 + seed)
            est = KSGEstimator(variant=variant, random_state=seed).fit(x, y)
            vals.append(est.mi_)
            stds.append(est.mi_std_)
            lows.append(est.mi_ci_[0])
            highs.append(est.mi_ci_[1])
        vals_a = np.array(vals)
        sd = vals_a.std(ddof=1)
        centre = vals_a.mean()
        cover = np.mean((np.array(lows) <= centre) & (centre <= np.array(highs)))
        print(
            f"  N={n:6d} {d}+{d} MI={mi:.1f} {variant}: sd over sets {sd:.4f}, "
            f"mean mi_std_ {np.mean(stds):.4f} (ratio {np.mean(stds) / sd:.2f}, "
            f"spread of mi_std_ {np.std(stds) / np.mean(stds):.0%}), "
            f"95% interval covers the mean in {cover:.0%}",
            flush=True,
        )


def _bsc_mi(p: float) -> float:
    return math.log(2) + p * math.log(p) + (1 - p) * math.log(1 - p)


def section_failures(seeds: int) -> None:
    print("== failure modes ==")
    plugin = PluginMIEstimator()
    for n in (1000, 10_000, 100_000):
        ks, ps = [], []
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            x = rng.integers(0, 2, (n, 1))
            y = x ^ (rng.random((n, 1)) < 0.1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ks.append(KSGEstimator(random_state=seed).fit(x, y).mi_)
            ps.append(plugin.fit(x, y).mi_)
        print(
            f"  spins (binary symmetric channel, p=0.1, MI {_bsc_mi(0.1):.4f}), "
            f"N={n:,}: KSG error {np.mean(ks) - _bsc_mi(0.1):+.4f} "
            f"(sd {np.std(ks, ddof=1):.4f}), plug-in {np.mean(ps) - _bsc_mi(0.1):+.4f}"
            f" (sd {np.std(ps, ddof=1):.4f})",
            flush=True,
        )
    # 16 + 16 spins, nearly all rows distinct: every two distinct rows are at
    # max-norm distance 1, so the jitter alone orders the neighbours.
    for n in (2000, 20_000):
        rng = np.random.default_rng(0)
        X = rng.integers(0, 2, (n, 16))
        Y = X ^ (rng.random((n, 16)) < 0.05)
        exact = 16 * _bsc_mi(0.05)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            k = KSGEstimator(random_state=0).fit(X, Y).mi_
            p = plugin.fit(X, Y).mi_
        print(
            f"  16 + 16 spins (each flipped w.p. 0.05), N={n:,}: exact "
            f"{exact:.2f}, KSG {k:.2f}, plug-in {p:.2f} nats"
        )
    n = 5000
    vals: dict[str, list[float]] = {"raw": [], "exp(x)": [], "x**3": [], "rank": []}
    for seed in range(seeds):
        x, y = make_gaussian_pairs(n, 1, mi=0.5, random_state=200 + seed)
        maps = {
            "raw": x,
            "exp(x)": np.exp(2 * x),
            "x**3": x**3,
            "rank": np.argsort(np.argsort(x[:, 0]))[:, None] + 0.0,
        }
        for name, xm in maps.items():
            vals[name].append(KSGEstimator(random_state=seed).fit(xm, y).mi_)
    print(f"  monotone map of x (1 + 1 Gaussian, MI 0.5, N={n:,}, {seeds} seeds):")
    for name, v in vals.items():
        err, sd = np.mean(v) - 0.5, np.std(v, ddof=1)
        print(f"    {name:8s} error {err:+.4f} (sd {sd:.4f})")


def section_scaling(max_n: int, max_n_5d: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    print("== scaling: fit time (one thread) against N ==")
    sizes = [10**3, 3 * 10**3, 10**4, 3 * 10**4, 10**5, 3 * 10**5, 10**6]
    sizes = [s for s in sizes if s <= max_n]
    curves: dict[str, tuple[list[int], list[float]]] = {}
    for label, d in [("1 + 1 dims", 1), ("2 + 2 dims", 2), ("5 + 5 dims", 5)]:
        ns, ts = [], []
        for n in sizes if d < 5 else [s for s in sizes if s <= max_n_5d]:
            x, y = make_gaussian_pairs(n, d, mi=1.0, random_state=5)
            sec = timed(lambda x=x, y=y: KSGEstimator(random_state=0).fit(x, y))[0]
            ns.append(n)
            ts.append(sec)
            print(f"  {label}, N = {n:>9,}: {sec:8.3f} s", flush=True)
        curves[label] = (ns, ts)
    ns, ts = [], []
    for n in sizes:
        x, y = make_gaussian_pairs(n, 1, mi=1.0, random_state=5)
        sec = timed(lambda x=x, y=y: mutual_info_regression(x, y[:, 0]))[0]
        ns.append(n)
        ts.append(sec)
        print(f"  sklearn mutual_info_regression 1 + 1, N = {n:>9,}: {sec:8.3f} s")
    curves["sklearn mutual_info_regression, 1 + 1"] = (ns, ts)
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for label, (ns, ts) in curves.items():
        style = "--" if label.startswith("sklearn") else "-o"
        ax.loglog(ns, ts, style, label=label, ms=4)
    ref = np.array([sizes[0], sizes[-1]], dtype=float)
    t0 = curves["1 + 1 dims"][1][0]
    ax.loglog(ref, t0 * ref / ref[0], ":", color="grey", label="∝ N")
    ax.set_xlabel("samples N")
    ax.set_ylabel("fit time (s), one thread")
    ax.set_title("KSGEstimator.fit (estimate + standard error), k = 3")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    STATIC.mkdir(parents=True, exist_ok=True)
    fig.savefig(STATIC / "ksg_scaling.png", dpi=110, bbox_inches="tight")
    print(f"  saved {STATIC / 'ksg_scaling.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--section",
        default="speed",
        choices=[
            "speed",
            "methods",
            "accuracy",
            "calibration",
            "failures",
            "scaling",
            "all",
        ],
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sets", type=int, default=100)
    parser.add_argument("--max-n", type=int, default=1_000_000)
    parser.add_argument(
        "--max-n-5d", type=int, default=300_000, help="5 + 5 dims: ~20 min at 10^6"
    )
    args = parser.parse_args()
    run = {
        "speed": lambda: section_speed(args.repeats),
        "methods": lambda: section_methods(args.repeats),
        "accuracy": lambda: section_accuracy(args.seeds),
        "calibration": lambda: section_calibration(args.sets),
        "failures": lambda: section_failures(args.seeds),
        "scaling": lambda: section_scaling(args.max_n, args.max_n_5d),
    }
    names = list(run) if args.section == "all" else [args.section]
    with threadpool_limits(1):
        for name in names:
            run[name]()


if __name__ == "__main__":
    main()
