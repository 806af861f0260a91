"""Throughput of the RSMI study's pieces: fits (samples/s) and the RG step.

Issue target: report the RSMI fit throughput against the 2×2 MINE path, and show
the lattice-wide RG step is vectorised.

Data: critical 2D Ising lattices (Wolff, L = 128, T_c), windows of a visible block
``V`` (2×2 or 3×3), buffer ``L_B`` and environment shell of width 2
(:func:`sk_rgmi.datasets.sample_visible_environment`). Per round, interleaved in one
process (the machine's speed drifts with other jobs; compare within a round):

* ``RSMI fit`` -- :class:`~sk_rgmi.MIMaximizingCoarseGrainer` (``symmetric=False``,
  binary unit, the study's settings) on ``(V, E)``;
* ``MINE 2x2`` -- :class:`~sk_rgmi.MINEEstimator` on ``(V 2×2, E)``, the fine-grained
  path of the same windows, as the study fits it (one fold, one critic, no
  convergence check: ``sk_rgmi.studies.rsmi._MINE``), with the same number of
  epochs and no early stopping;

throughput = training samples × epochs / wall time (one torch thread, the package's
CPU policy). Then the RG step: :class:`sk_rgmi.rg.RSMIFlow` (a learned 3×3 rule)
and the majority rule (:func:`sk_rgmi.datasets.block_spin`) on stacks of lattices,
in sites per second, against a Python loop over blocks (the unvectorised
reference, timed on a small stack).

Usage: ``python benchmarks/bench_rsmi.py [--quick]``; results are printed (paste
the table into ``docs/rsmi.rst``).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from sk_rgmi import MIMaximizingCoarseGrainer, MINEEstimator
from sk_rgmi.datasets import T_C, block_spin, sample_ising, sample_visible_environment
from sk_rgmi.rg import RSMIFlow
from sk_rgmi.studies.rsmi import _MINE

EPOCHS = 20


def _windows(lattices, side, buffer, n):
    V, E = sample_visible_environment(
        lattices, (side, side), buffer, 2, n, random_state=1
    )
    return V.astype(np.float32), E.astype(np.float32)


def _fit_rate(est, V, E) -> float:
    t0 = time.perf_counter()
    est.fit(V, E)
    seconds = time.perf_counter() - t0
    n_train = 0.8 * len(V)  # both hold out 20% (selection + report halves)
    return n_train * EPOCHS / seconds


def _loop_step(spins: np.ndarray, w: np.ndarray) -> np.ndarray:
    n, L, _ = spins.shape
    out = np.empty((n, L // 3, L // 3), dtype=np.int8)
    for k in range(n):
        for i in range(L // 3):
            for j in range(L // 3):
                block = spins[k, 3 * i : 3 * i + 3, 3 * j : 3 * j + 3].ravel()
                out[k, i, j] = 1 if block @ w > 0 else -1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer windows and rounds")
    args = parser.parse_args()
    n_windows = 5000 if args.quick else 20000
    rounds = 1 if args.quick else 3
    print(f"load average {os.getloadavg()}")
    lattices = sample_ising(100, 128, T_C, spins="pm1", random_state=0, n_jobs=-1)

    print(f"\nfit throughput, training samples x epochs / s ({n_windows} windows, "
          f"{EPOCHS} epochs, one torch thread)")  # fmt: skip
    head = ("round", "V", "L_B", "RSMI fit", "MINE 2x2", "ratio")
    print("{:>5} {:>4} {:>4} {:>10} {:>10} {:>6}".format(*head))
    for r in range(rounds):
        for side, buffer in ((2, 0), (2, 8), (3, 2)):
            V, E = _windows(lattices, side, buffer, n_windows)
            V2, _ = _windows(lattices, 2, buffer, n_windows) if side != 2 else (V, E)
            rsmi = _fit_rate(
                MIMaximizingCoarseGrainer(symmetric=False, max_epochs=EPOCHS,
                                          random_state=r), V, E)  # fmt: skip
            params = {**_MINE, "early_stopping": None, "batch_size": 256}
            mine = _fit_rate(
                MINEEstimator(max_epochs=EPOCHS, device="cpu", random_state=r,
                              **params), V2, E)  # fmt: skip
            print(f"{r:>5} {side}x{side} {buffer:>4} {rsmi:>10.0f} {mine:>10.0f} "
                  f"{rsmi / mine:>6.2f}")  # fmt: skip

    print("\nRG step (3x3 blocks), sites per second")
    flow = RSMIFlow.from_filters(np.random.default_rng(0).normal(size=(1, 9)))
    big = np.tile(lattices[:, :81, :81], (10 if args.quick else 40, 1, 1))
    small = big[:4]
    for name, fn, x in (
        ("RSMIFlow.transform", flow.transform, big),
        ("block_spin (majority)", lambda z: block_spin(z, 3), big),
        ("Python loop over blocks", lambda z: _loop_step(z, flow.filters_[0]), small),
    ):
        t0 = time.perf_counter()
        fn(x)
        seconds = time.perf_counter() - t0
        print(f"{name:>24}: {x.size / seconds:14,.0f} sites/s ({x.shape[0]} lattices "
              f"{x.shape[1]}x{x.shape[2]})")  # fmt: skip


if __name__ == "__main__":
    main()
