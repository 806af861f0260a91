"""Benchmark MINEEstimator's training path against a seed-style loop and a hand loop.

Two measurements, each with every contender run interleaved in one process (this
machine's speed drifts with other jobs, so only ratios within a round mean much):

1. Throughput (training samples per second of wall time) on 3×3 binary block pairs,
   at batch 256 and 4096, same critic (the seed's residual concat "Net 2", hidden
   100), same 'mine' loss, Adam:

   * ``MINEEstimator`` — the whole ``fit``: skorch net, slicing iterator, per-epoch
     held-out evaluation on the selection half, final report estimate;
   * ``seed loop`` — the seed notebook's loop: a per-item ``Dataset`` and
     ``DataLoader`` (default collation), ``Mine.forward`` with a ``randperm``;
   * ``hand loop`` — a minimal hand-written loop slicing shuffled tensors.

2. Time to reach within 2% of the exact MI on 2×2 pairs: the critic's DV estimate on
   100k fresh pairs, checked every 8192 training samples (checks not timed), on
   100,000 pairs (the seed's count-based sample size): ``MINEEstimator`` defaults vs
   the seed's settings (batch 256, lr 1e-3, 100 epochs, no early stopping, hidden
   100) run through the seed-style loop and through ``MINEEstimator``.

Ground truth: the exact Boltzmann distribution of an open 2×4 (3×6) Ising strip at
β = 0.70 (0.60), enumerated; X the left block, y the right block.

Usage: ``python benchmarks/bench_mine.py [--quick]``. Torch threads: 1 for every
contender (the package's CPU policy, measured in ``sk_rgmi/nn/_device.py``).
"""

from __future__ import annotations

import argparse
import functools
import math
import time

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.utils.data import DataLoader, Dataset

from sk_rgmi import MINEEstimator
from sk_rgmi.nn.bounds import mine as mine_bound
from sk_rgmi.nn.critics import ConcatCritic
from sk_rgmi.nn.training import estimate_mi


# ----------------------------------------------------------------- ground truth
class StripSource:
    """Exact Boltzmann distribution of an open rows × 2·rows Ising strip."""

    def __init__(self, rows: int, beta: float) -> None:
        n = 2 * rows * rows
        states = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.int8)
        s = (2 * states.astype(np.int16) - 1).reshape(-1, rows, 2 * rows)
        energy = (s[:, :, 1:] * s[:, :, :-1]).sum((1, 2)) + (
            s[:, 1:, :] * s[:, :-1, :]
        ).sum((1, 2))
        p = np.exp(beta * (energy - energy.max()))
        self.p = p / p.sum()
        grid = states.reshape(-1, rows, 2 * rows)
        self.x = grid[:, :, :rows].reshape(len(states), -1)
        self.y = grid[:, :, rows:].reshape(len(states), -1)
        w = 1 << np.arange(rows * rows)
        joint = np.zeros((2 ** (rows * rows),) * 2)
        np.add.at(joint, (self.x @ w, self.y @ w), self.p)
        px, py = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
        nz = joint > 0
        self.mi = float((joint[nz] * np.log(joint[nz] / (px @ py)[nz])).sum())

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        idx = np.random.default_rng(seed).choice(len(self.p), size=n, p=self.p)
        return self.x[idx].astype(np.float32), self.y[idx].astype(np.float32)


# ------------------------------------------------------------------ contenders
class SeedDataset(Dataset):
    """The seed notebook's ``DatasetVar``: one item per ``__getitem__``."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, idx: int):
        return self.x[idx], self.y[idx]


class _SeedEMALoss(torch.autograd.Function):
    """The EMA loss of the ``mine`` package the seed imports (linear domain)."""

    @staticmethod
    def forward(ctx, t_marg, running_mean):
        ctx.save_for_backward(t_marg, running_mean)
        return t_marg.exp().mean().log()

    @staticmethod
    def backward(ctx, grad_output):
        t_marg, running_mean = ctx.saved_tensors
        grad = grad_output * t_marg.exp().detach() / (running_mean + 1e-6)
        return grad / t_marg.shape[0], None


def _seed_ema_loss(t_marg, running_mean, alpha=0.01):
    t_exp = torch.exp(torch.logsumexp(t_marg, 0) - math.log(t_marg.shape[0])).detach()
    if isinstance(running_mean, float) and running_mean == 0:
        running_mean = t_exp
    else:
        running_mean = alpha * t_exp + (1.0 - alpha) * running_mean.item()
    return _SeedEMALoss.apply(t_marg, running_mean), running_mean


def seed_loop(x, y, *, batch_size, lr, epochs, hidden=100, seed=0, on_batch=None):
    """The seed's ``Mine.optimize`` with its per-item DataLoader (no shuffling)."""
    torch.manual_seed(seed)
    critic = ConcatCritic(x.shape[1], y.shape[1], hidden_size=hidden)
    opt = torch.optim.Adam(critic.parameters(), lr=lr)
    loader = DataLoader(SeedDataset(x, y), batch_size=batch_size)
    running = 0.0
    for _ in range(epochs):
        for xb, yb in loader:
            xb, yb = xb.float(), yb.float()
            t = critic(xb, yb).mean()
            t_marg = critic(xb, yb[torch.randperm(xb.shape[0])])
            second, running = _seed_ema_loss(t_marg, running)
            loss = -t + second
            opt.zero_grad()
            loss.backward()
            opt.step()
            if on_batch is not None and on_batch(critic, len(xb)):
                return critic
    return critic


def hand_loop(x, y, *, batch_size, lr, epochs, hidden=100, seed=0):
    """Minimal hand-written loop: shuffled tensor slicing, the same 'mine' bound."""
    torch.manual_seed(seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    critic = ConcatCritic(x.shape[1], y.shape[1], hidden_size=hidden)
    opt = torch.optim.Adam(critic.parameters(), lr=lr)
    state, n = None, len(xt)
    for _ in range(epochs):
        perm = torch.randperm(n)
        xs, ys = xt[perm], yt[perm]
        for i in range(0, n - batch_size + 1, batch_size):
            xb, yb = xs[i : i + batch_size], ys[i : i + batch_size]
            t = critic(torch.cat([xb, xb]), torch.cat([yb, torch.roll(yb, 1, 0)]))
            bound, state = mine_bound(t[:batch_size], t[batch_size:], state)
            opt.zero_grad()
            (-bound).backward()
            opt.step()
    return critic


# ------------------------------------------------------------------ throughput
def throughput(rounds: int, n: int, epochs_for: dict[int, int]) -> None:
    src = StripSource(3, 0.60)
    x, y = src.sample(n, 0)
    n_train = round(0.8 * n)  # MINEEstimator trains on 80%; the loops on as many
    xs, ys = x[:n_train], y[:n_train]
    print(
        f"\n== throughput: 3x3 pairs, {n_train} training samples, concat critic "
        f"hidden 100, torch threads {torch.get_num_threads()} =="
    )
    # warm-up (first-call costs: lazy imports, allocator, thread pools), not timed
    MINEEstimator(hidden_size=100, batch_size=256, max_epochs=1, device="cpu").fit(x, y)
    seed_loop(xs, ys, batch_size=256, lr=1e-3, epochs=1)
    hand_loop(xs, ys, batch_size=256, lr=1e-3, epochs=1)
    for bs, epochs in epochs_for.items():
        rates: dict[str, list[float]] = {
            "MINEEstimator": [],
            "seed loop": [],
            "hand loop": [],
        }
        for r in range(rounds):
            order = list(rates)[r % 3 :] + list(rates)[: r % 3]
            for name in order:
                t0 = time.perf_counter()
                if name == "MINEEstimator":
                    MINEEstimator(
                        hidden_size=100,
                        batch_size=bs,
                        lr=1e-3,
                        max_epochs=epochs,
                        early_stopping=None,
                        device="cpu",
                        random_state=r,
                    ).fit(x, y)
                elif name == "seed loop":
                    seed_loop(xs, ys, batch_size=bs, lr=1e-3, epochs=epochs, seed=r)
                else:
                    hand_loop(xs, ys, batch_size=bs, lr=1e-3, epochs=epochs, seed=r)
                dt = time.perf_counter() - t0
                # samples actually used per epoch: whole batches (drop_last)
                used = (n_train // bs) * bs * epochs
                rates[name].append(used / dt)
        med = {k: float(np.median(v)) for k, v in rates.items()}
        print(f"batch {bs} ({epochs} epochs, {rounds} rounds), median samples/s:")
        for k, v in med.items():
            print(f"   {k:14s} {v:10.0f}   per round: {[round(s) for s in rates[k]]}")
        # ratios within a round (same machine state), then the median over rounds
        est, hand, seed = (
            np.array(rates[k]) for k in ("MINEEstimator", "hand loop", "seed loop")
        )
        print(
            f"   median per-round ratios: MINEEstimator/hand "
            f"{np.median(est / hand):.2f}, hand/seed {np.median(hand / seed):.2f}, "
            f"MINEEstimator/seed {np.median(est / seed):.2f}"
        )


# -------------------------------------------------------------- time to 2 %
class _Stopwatch:
    """Training wall time that excludes the accuracy checks, checked every
    ``every`` training samples; records the time of the first check within 2%."""

    def __init__(self, check, every: int) -> None:
        self.check, self.every = check, every
        self.t0 = time.perf_counter()
        self.excluded, self.seen, self.next, self.hit = 0.0, 0, every, None

    def add(self, n_samples: int) -> bool:
        """Count a batch; return True once within 2% (the caller stops)."""
        self.seen += n_samples
        if self.seen < self.next:
            return False
        self.next += self.every
        now = time.perf_counter()
        elapsed = now - self.t0 - self.excluded
        ok = self.check()
        self.excluded += time.perf_counter() - now
        if ok and self.hit is None:
            self.hit = elapsed
        return ok


class _StopwatchCallback(Callback):
    def __init__(self, watch: _Stopwatch) -> None:
        self.watch = watch

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        self.watch.check_module = net.module_
        if training and self.watch.add(len(batch[0])):
            raise KeyboardInterrupt  # stop: the time is what we came for


def time_to_two_percent(rounds: int, n: int, every: int) -> None:
    src = StripSource(2, 0.70)
    xt, yt = src.sample(100_000, 999)

    def make_check(watch_ref):
        def check() -> bool:
            # the module sees the data as it was trained on: raw for the seed loop,
            # through the estimator's fitted normalisers for MINEEstimator
            value = estimate_mi(
                watch_ref["w"].check_module,
                *watch_ref["data"](),
                n_permutations=2,
                random_state=0,
            )
            return abs(value - src.mi) <= 0.02 * src.mi

        return check

    print(
        f"\n== time to within 2% of the exact MI ({src.mi:.4f} nats), 2x2 pairs, "
        f"{n} samples (80% trained on), checked every {every} training samples "
        f"(checks not timed), torch threads {torch.get_num_threads()} =="
    )
    names = ["defaults", "seed settings, MINEEstimator", "seed settings, seed loop"]
    times: dict[str, list[float]] = {k: [] for k in names}
    n_train = round(0.8 * n)
    for r in range(rounds):
        x, y = src.sample(n, r)
        for name in names[r % 3 :] + names[: r % 3]:
            ref: dict = {"data": lambda: (xt, yt)}
            watch = _Stopwatch(make_check(ref), every)
            ref["w"] = watch
            if name.endswith("seed loop"):

                def on_batch(critic, size, watch=watch):
                    watch.check_module = critic
                    return watch.add(size)

                watch.t0 = time.perf_counter()
                seed_loop(
                    x[:n_train],
                    y[:n_train],
                    batch_size=256,
                    lr=1e-3,
                    epochs=100,
                    seed=r,
                    on_batch=on_batch,
                )
            else:
                params = {
                    "device": "cpu",
                    "random_state": r,
                    "callbacks": [("stopwatch", _StopwatchCallback(watch))],
                }
                if name.startswith("seed settings"):
                    params.update(
                        batch_size=256,
                        lr=1e-3,
                        max_epochs=100,
                        early_stopping=None,
                        hidden_size=100,
                    )
                est = MINEEstimator(**params)
                ref["data"] = functools.cache(lambda est=est: est._normalized(xt, yt))
                watch.t0 = time.perf_counter()
                est.fit(x, y)
            times[name].append(math.inf if watch.hit is None else watch.hit)
    med = {k: float(np.median(v)) for k, v in times.items()}
    for k, v in times.items():
        print(
            f"   {k:30s} median {med[k]:7.2f} s   per round: {[round(t, 2) for t in v]}"
        )
    base = np.array(times["defaults"])
    for k in names[1:]:
        ratio = np.median(np.array(times[k]) / base)
        print(f"   speed-up of the defaults over {k}: median per round {ratio:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rounds = 2 if args.quick else 5
    throughput(rounds, 25_000, {256: 4, 4096: 8})
    time_to_two_percent(rounds, 100_000, 8192)


if __name__ == "__main__":
    main()
