"""Count-based MI of neighbouring blocks of generated critical Ising data.

Reproduces the three count-based rows of the original notebook on data made by
``sk_rgmi.datasets`` (27×27 lattices, 3×3-majority coarse-grained from 2187×2187,
periodic, at T_c), with the spread over independent data sets, and scans the
temperature on cheaper 27×27-from-729 data. MI in nats, plug-in (maximum-likelihood)
estimate from a self-contained numpy count (``np.unique`` rows -> ``bincount``).

Errors: the spread over independent data sets (different seeds) and, within a set,
a bootstrap over whole configurations (pairs from one configuration are correlated,
so resampling pairs would understate the error).

Pairs follow the original notebook: X a block at a uniformly random position, Y the
block directly to its right, both inside the lattice (non-periodic), 100,000 random
pairs.

    python benchmarks/ising_block_mi.py                  # 3 data sets x 150 configs
    python benchmarks/ising_block_mi.py --n-configs 40 --n-sets 2 --quick

Data sets are cached in the sk_rgmi data home (``SK_RGMI_DATA``), so reruns are fast.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sk_rgmi.datasets import T_C, load_critical_ising, sample_block_pairs

NOTEBOOK_VALUES = {"2x2 fine": 0.4219, "2x2 mean": 0.3708, "3x3 ring mean": 0.4128}


def plugin_mi(x: np.ndarray, y: np.ndarray) -> float:
    """Plug-in MI (nats) of two discrete variables given as rows of x and y."""
    x = x.reshape(len(x), -1)
    y = y.reshape(len(y), -1)
    _, xi = np.unique(x, axis=0, return_inverse=True)
    _, yi = np.unique(y, axis=0, return_inverse=True)
    xi, yi = xi.ravel(), yi.ravel()
    ny = yi.max() + 1
    pxy = np.bincount(xi * ny + yi) / len(xi)
    px = np.bincount(xi) / len(xi)
    py = np.bincount(yi) / len(yi)
    nz = np.flatnonzero(pxy)
    return float(np.sum(pxy[nz] * np.log(pxy[nz] / (px[nz // ny] * py[nz % ny]))))


def notebook_rows(lattices: np.ndarray, n_pairs: int, seed: int) -> dict[str, float]:
    """The original notebook's three count-based MI values on ``lattices``."""
    x2, y2 = sample_block_pairs(lattices, (2, 2), n_pairs, random_state=seed)
    x3, y3 = sample_block_pairs(lattices, (3, 3), n_pairs, random_state=seed + 1)
    ring = np.ones(9, dtype=bool)
    ring[4] = False
    return {
        "2x2 fine": plugin_mi(x2, y2),
        "2x2 mean": plugin_mi(x2.mean(1), y2.mean(1)),
        "3x3 ring mean": plugin_mi(x3[:, ring].mean(1), y3[:, ring].mean(1)),
    }


def bootstrap_se(
    lattices: np.ndarray, n_pairs: int, n_boot: int, seed: int
) -> dict[str, float]:
    """Standard error of the three rows from resampling whole configurations."""
    rng = np.random.default_rng(seed)
    reps = [
        notebook_rows(
            lattices[rng.integers(len(lattices), size=len(lattices))], n_pairs, seed + b
        )
        for b in range(n_boot)
    ]
    return {k: float(np.std([r[k] for r in reps], ddof=1)) for k in NOTEBOOK_VALUES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-configs", type=int, default=150)
    parser.add_argument("--n-sets", type=int, default=3)
    parser.add_argument("--n-pairs", type=int, default=100_000)
    parser.add_argument("--source-size", type=int, default=2187)
    parser.add_argument("--scan-source-size", type=int, default=729)
    parser.add_argument("--scan-configs", type=int, default=150)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--n-boot", type=int, default=20)
    parser.add_argument(
        "--source-temperatures",
        default="2.27",
        help="also one set at --source-size for each of these temperatures",
    )
    parser.add_argument(
        "--temperatures",
        default="2.0,2.2,2.26,2.265,Tc,2.27,2.275,2.28,2.4,2.6",
        help="comma-separated scan temperatures ('Tc' for the critical point)",
    )
    parser.add_argument("--quick", action="store_true", help="skip the T scan")
    args = parser.parse_args()

    print(
        f"# 27x27 from {args.source_size}, T_c, {args.n_configs} configs per set, "
        f"{args.n_pairs} pairs, MI in nats"
    )
    rows = []
    for s in range(args.n_sets):
        t0 = time.perf_counter()
        data = load_critical_ising(
            n_configs=args.n_configs,
            source_size=args.source_size,
            random_state=s,
            n_jobs=args.n_jobs,
            verbose=0,
        )
        vals = notebook_rows(data, args.n_pairs, 100 + s)
        se = bootstrap_se(data, args.n_pairs, args.n_boot, 1000 * (s + 1))
        rows.append(vals)
        m = np.abs(2 * data.mean(axis=(1, 2)) - 1).mean()
        print(
            f"set {s}: "
            + "  ".join(f"{k} {v:.4f}±{se[k]:.4f}" for k, v in vals.items())
            + f"  <|m|>={m:.3f}  ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    print("\n| quantity | original notebook | this data (mean ± sd over sets) |")
    for k, notebook_v in NOTEBOOK_VALUES.items():
        v = np.array([r[k] for r in rows])
        sd = v.std(ddof=1) if len(v) > 1 else float("nan")
        print(f"| {k} | {notebook_v:.4f} | {v.mean():.4f} ± {sd:.4f} |")

    for t in filter(None, args.source_temperatures.split(",")):
        data = load_critical_ising(
            n_configs=args.n_configs,
            source_size=args.source_size,
            temperature=float(t),
            random_state=0,
            n_jobs=args.n_jobs,
            verbose=0,
        )
        vals = notebook_rows(data, args.n_pairs, 7)
        se = bootstrap_se(data, args.n_pairs, args.n_boot, 5)
        m = np.abs(2 * data.mean(axis=(1, 2)) - 1).mean()
        print(
            f"T={float(t):.4f}, from {args.source_size}: "
            + "  ".join(f"{k} {v:.4f}±{se[k]:.4f}" for k, v in vals.items())
            + f"  <|m|>={m:.3f}",
            flush=True,
        )

    if args.quick:
        return
    print(
        f"\n# temperature scan: 27x27 from {args.scan_source_size}, "
        f"{args.scan_configs} configs"
    )
    temps = [T_C if t == "Tc" else float(t) for t in args.temperatures.split(",")]
    for T in temps:
        data = load_critical_ising(
            n_configs=args.scan_configs,
            source_size=args.scan_source_size,
            temperature=T,
            random_state=0,
            n_jobs=args.n_jobs,
            verbose=0,
        )
        vals = notebook_rows(data, args.n_pairs, 7)
        m = np.abs(2 * data.mean(axis=(1, 2)) - 1).mean()
        print(
            f"T={T:.4f}: "
            + "  ".join(f"{k} {v:.4f}" for k, v in vals.items())
            + f"  <|m|>={m:.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
