"""Cost of learning a coarse-graining vs. a plain MINE fit on the same data.

Issue target: one epoch of joint coarse-grainer + critic training costs at most 1.5×
one MINE epoch on the same data.

Data: 20,000 critical 2×2 block pairs (400 L=64 Wolff lattices at T_c; the original
notebook's 10k-100k pairs scale). Per round, interleaved in one process (this
machine's speed drifts with other jobs; only ratios within a round mean much):

* ``coarse epoch`` -- :class:`sk_rgmi.nn.MINENet` training
  ``CoarseGrainedCritic(RelaxedBinaryCoarse(4, 1), ConcatCritic(1, 1))`` with the
  coarse-grainer's callbacks (temperature annealing, filter history);
* ``MINE epoch`` -- the same net training ``ConcatCritic(4, 4)`` on the fine blocks,
  the MINE estimator's set-up;

both at batch 256, hidden 32, 'mine' loss, no held-out evaluation (pure training
epochs: ``train_split=None``), plus the whole estimators
(``MIMaximizingCoarseGrainer`` vs ``MINEEstimator`` with the same epochs, batch and
critic; both use the same split, :class:`sk_rgmi.nn.data.HeldOutSplit` with 10% of
the rows to select the best epoch, scored after every epoch, and 10% to report
``mi_``, so both train on 80%). Time per epoch = wall time / epochs. Torch threads: 1
(the package's CPU policy, ``sk_rgmi.nn._device.default_num_threads``).

Usage: ``python benchmarks/bench_coarse_graining.py [--quick]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from sk_rgmi import MIMaximizingCoarseGrainer, MINEEstimator
from sk_rgmi._random import seed_int
from sk_rgmi.datasets import T_C, sample_block_pairs, sample_ising
from sk_rgmi.nn.callbacks import FilterHistory, TemperatureAnnealing
from sk_rgmi.nn.critics import ConcatCritic
from sk_rgmi.nn.layers import CoarseGrainedCritic, RelaxedBinaryCoarse
from sk_rgmi.nn.net import MINENet

BATCH = 256
HIDDEN = 32


def _net_epoch_seconds(
    X: np.ndarray, Y: np.ndarray, coarse: bool, epochs: int
) -> np.ndarray:
    """Per-epoch wall times (skorch's EpochTimer ``dur``) of one training run."""
    # initial weights from the named "init" stream, as the estimators draw them
    init = seed_int(0, "init")
    g = torch.Generator().manual_seed(init)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init)
        if coarse:
            module = CoarseGrainedCritic(
                RelaxedBinaryCoarse(4, 1, generator=g), ConcatCritic(1, 1, HIDDEN)
            )
            callbacks = [FilterHistory(), TemperatureAnnealing(0.75, 0.1)]
        else:
            module = ConcatCritic(4, 4, HIDDEN)
            callbacks = None
    net = MINENet(
        module,
        loss="mine",
        lr=5e-3,
        batch_size=BATCH,
        max_epochs=epochs,
        train_split=None,
        early_stopping=None,
        callbacks=callbacks,
        random_state=0,
    )
    net.fit(X, Y)
    return np.asarray(net.history[:, "dur"], dtype=float)


def _estimator_epoch_seconds(X, Y, coarse: bool, epochs: int) -> float:
    if coarse:
        est = MIMaximizingCoarseGrainer(
            max_epochs=epochs, batch_size=BATCH, hidden_size=HIDDEN, random_state=0
        )
    else:
        est = MINEEstimator(
            "concat",
            hidden_size=HIDDEN,
            loss="mine",
            batch_size=BATCH,
            max_epochs=epochs,
            early_stopping=None,
            device="cpu",
            random_state=0,
        )
    t0 = time.perf_counter()
    est.fit(X, Y)
    return (time.perf_counter() - t0) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs/rounds")
    args = parser.parse_args()
    epochs, rounds = (3, 2) if args.quick else (8, 6)

    lattices = sample_ising(400, 64, T_C, random_state=0)
    X, Y = sample_block_pairs(lattices, (2, 2), 20_000, random_state=1)
    X, Y = X.astype(np.float32), Y.astype(np.float32)
    print(
        f"{len(X)} critical 2x2 pairs, batch {BATCH}, hidden {HIDDEN}, "
        f"{epochs} epochs per run, torch threads 1 (package policy)"
    )
    _net_epoch_seconds(X[:2000], Y[:2000], True, 1)  # warm-up (imports, allocator)
    _net_epoch_seconds(X[:2000], Y[:2000], False, 1)

    net_ratios, est_ratios = [], []
    coarse_all, mine_all = [], []
    for r in range(rounds):
        mine_d = _net_epoch_seconds(X, Y, False, epochs)
        coarse_d = _net_epoch_seconds(X, Y, True, epochs)
        mine_e = _estimator_epoch_seconds(X, Y, False, epochs)
        coarse_e = _estimator_epoch_seconds(X, Y, True, epochs)
        mine_all.append(mine_d)
        coarse_all.append(coarse_d)
        mine_s, coarse_s = np.median(mine_d), np.median(coarse_d)
        net_ratios.append(coarse_s / mine_s)
        est_ratios.append(coarse_e / mine_e)
        print(
            f"round {r}: training epoch (median) coarse {1e3 * coarse_s:6.1f} ms  "
            f"MINE {1e3 * mine_s:6.1f} ms  ratio {coarse_s / mine_s:.2f} | "
            f"estimator epoch coarse {1e3 * coarse_e:6.1f} ms  "
            f"MINE {1e3 * mine_e:6.1f} ms  ratio {coarse_e / mine_e:.2f}"
        )
    fastest = np.min(np.concatenate(coarse_all)) / np.min(np.concatenate(mine_all))
    print(
        f"coarse/MINE training epoch: median of round ratios "
        f"{np.median(net_ratios):.2f}, ratio of fastest epochs {fastest:.2f} "
        f"(target <= 1.5); estimator epoch: median {np.median(est_ratios):.2f}"
    )


if __name__ == "__main__":
    main()
