"""A 12-fit MINE grid search: serially, with ``n_jobs=2`` locally, and on Dask.

The search is ``GridSearchCV(MINEEstimator(...), {lr: 3 values, critic: 2}, cv=2)``
-- 12 fits (plus one refit) -- on correlated Gaussians (2 + 2 dimensions, true MI
0.69 nats). It is run three ways in one process, interleaved round by round in a
rotating order (this machine is shared and drifts, so read the ratios):

* ``serial``: ``n_jobs=1`` in this process (the baseline);
* ``loky``: ``n_jobs=2`` with joblib's default process backend;
* ``dask``: ``n_jobs=-1`` under ``joblib.parallel_backend("dask")`` on a
  ``distributed.LocalCluster`` (2 worker processes x 1 thread, loopback only).

Torch threads: every fit runs under the package's CPU policy of one intra-op thread
(``sk_rgmi.nn._device.default_num_threads``), in this process and in the workers
alike (joblib's loky workers and dask's nannies also set ``OMP_NUM_THREADS=1``), so
two parallel fits use two cores and never oversubscribe.

The first call of each parallel mode ("cold") includes starting worker processes
(loky) and importing torch/skorch/sk_rgmi in them (loky and dask); the cluster's
own start-up is timed separately. The table reports the cold call and the median of
the warm rounds, the speed-up ``serial / mode``, and the CPU time that this process
and its worker processes used: ``cores = CPU s / wall s`` shows how much of the
machine a mode actually got (on a machine shared with other jobs a parallel mode
cannot be faster than the cores it is given).

Run: ``python benchmarks/bench_parallel.py [--rounds 3] [--n-samples 4000]
[--max-epochs 8]``. Needs ``dask[distributed]`` (``pip install -e ".[dask]"``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import statistics
import time
from typing import Any

import joblib
import numpy as np
import psutil  # a dependency of distributed
import torch
from sklearn.model_selection import GridSearchCV

from sk_rgmi import MINEEstimator
from sk_rgmi.nn._device import default_num_threads

GRID = {"lr": [1e-3, 3e-3, 1e-2], "critic": ["concat", "two-branch"]}
CV = 2


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    return x, x + rng.normal(size=(n, 2))  # I = 2 * 0.5 ln 2 = 0.693 nats


def search(
    est: MINEEstimator, X: np.ndarray, Y: np.ndarray, n_jobs: int
) -> GridSearchCV:
    return GridSearchCV(est, GRID, cv=CV, n_jobs=n_jobs).fit(X, Y)


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and all its live descendants:
    loky's workers and the LocalCluster's nannies and workers are our children."""
    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            t = proc.cpu_times()
            total += t.user + t.system
    return total


def run_mode(mode: str, est: MINEEstimator, X: np.ndarray, Y: np.ndarray) -> tuple:
    c0 = cpu_seconds()
    t0 = time.perf_counter()
    if mode == "serial":
        gs = search(est, X, Y, n_jobs=1)
    elif mode == "loky":
        gs = search(est, X, Y, n_jobs=2)
    else:
        with joblib.parallel_backend("dask"):
            gs = search(est, X, Y, n_jobs=-1)
    wall = time.perf_counter() - t0
    return wall, cpu_seconds() - c0, gs.cv_results_["mean_test_score"]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="warm rounds")
    parser.add_argument("--n-samples", type=int, default=4000)
    parser.add_argument("--max-epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)

    from distributed import Client, LocalCluster

    X, Y = make_data(args.n_samples)
    est = MINEEstimator(
        hidden_size=64,
        batch_size=args.batch_size,
        max_epochs=args.max_epochs,
        early_stopping=None,
        device="cpu",
        random_state=0,
    )
    n_fits = CV * int(np.prod([len(v) for v in GRID.values()]))
    print(
        f"{n_fits}-fit grid search (+1 refit): MINEEstimator, {GRID}, cv={CV}, "
        f"N={args.n_samples}, batch {args.batch_size}, {args.max_epochs} epochs, "
        f"hidden 64"
    )
    print(
        f"torch {torch.__version__}, threads per fit: "
        f"{default_num_threads('cpu')} (policy); main process torch threads "
        f"{torch.get_num_threads()}; cpu_count {os.cpu_count()}; "
        f"{platform.processor() or platform.machine()}"
    )
    load_start = os.getloadavg()
    print(f"load average at start: {load_start[0]:.1f} (1 min)")

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    cluster_start = time.perf_counter() - t0
    print(f"LocalCluster(2 processes x 1 thread) start-up: {cluster_start:.2f} s")

    modes = ["serial", "loky", "dask"]
    times: dict[str, list[float]] = {m: [] for m in modes}
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    scores: dict[str, np.ndarray] = {}
    try:
        cold = {}
        for mode in modes:  # cold: worker start-up and imports included
            cold[mode], _, scores[mode] = run_mode(mode, est, X, Y)
            print(f"  cold {mode:6s} {cold[mode]:7.2f} s")
        for r in range(args.rounds):
            order = modes[r % 3 :] + modes[: r % 3]  # rotate: no mode always first
            for mode in order:
                dt, dc, s = run_mode(mode, est, X, Y)
                times[mode].append(dt)
                cpu[mode].append(dc)
                np.testing.assert_allclose(s, scores["serial"], rtol=0, atol=1e-6)
            print(
                f"  round {r + 1}: "
                + ", ".join(f"{m} {times[m][-1]:.2f} s" for m in modes)
            )
    finally:
        client.close()
        cluster.close()
    load_end = os.getloadavg()

    med = {m: statistics.median(times[m]) for m in modes}
    per_round = {
        m: [s / t for s, t in zip(times["serial"], times[m], strict=True)]
        for m in modes
    }
    print()
    cpu_med = {m: statistics.median(cpu[m]) for m in modes}
    print(
        f"{'mode':8s} {'cold s':>8s} {'warm s':>8s} {'speed-up':>9s} {'range':>13s} "
        f"{'CPU s':>7s} {'cores':>6s}"
    )
    for m in modes:
        lo, hi = min(per_round[m]), max(per_round[m])
        print(
            f"{m:8s} {cold[m]:8.2f} {med[m]:8.2f} {med['serial'] / med[m]:8.2f}x "
            f"{lo:6.2f}-{hi:.2f}x {cpu_med[m]:7.2f} {cpu_med[m] / med[m]:6.2f}"
        )
    print(
        f"(warm: median of {args.rounds} rounds; speed-up = serial / mode; "
        f"range over rounds; CPU s: CPU time of this process and its workers, "
        f"cores = CPU s / warm s; scores identical across modes (atol 1e-6); "
        f"load average {load_start[0]:.1f} -> {load_end[0]:.1f})"
    )
    result = {
        "n_fits": n_fits,
        "n_samples": args.n_samples,
        "max_epochs": args.max_epochs,
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "cluster_start_s": cluster_start,
        "cold_s": cold,
        "warm_times_s": times,
        "warm_median_s": med,
        "warm_cpu_s": cpu,
        "cores_used_median": {m: cpu_med[m] / med[m] for m in modes},
        "speedup_median": {m: med["serial"] / med[m] for m in modes},
        "load_average": [load_start[0], load_end[0]],
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
    }
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":  # required: dask's worker processes are spawned
    main()
