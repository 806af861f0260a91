"""Benchmark MINEEstimator: the cost of its ensemble, time to accuracy, throughput.

Every section runs its contenders interleaved in one process, over several rounds,
in a rotating order, and prints ratios against the baseline measured in the same
round (this machine's speed drifts with other jobs: only ratios within a round mean
much). Times are CPU seconds of this process (steadier than wall time on a shared
machine; the fits run on one torch thread) and wall seconds; the load average is
printed at the start and end of every section. MI in nats.

1. ``ensemble`` -- time per training epoch of :class:`sk_rgmi.nn.MINENet` with a
   stacked concat critic (hidden 32) of M = 1, 5 and 10 members
   (:class:`~sk_rgmi.nn.MemberLinear` layers: one batched matrix product per layer
   for all critics) and with M = 5 copies of a user factory's critic stacked by
   ``torch.func`` (:class:`~sk_rgmi.nn.StackedCritic`, vmap), all through the same
   training path. Same rows per critic (4,000 training rows: 5,000 samples, 10%
   selection, 10% report), the default batch rule (``"auto"``: 500), the same
   epochs. Data: 2 + 2-D and 5 + 5-D Gaussians, 2×2 binary block pairs. The ratio
   (M critics) / (1 critic) per epoch is printed for the training steps alone and
   for the whole epoch (with the per-epoch selection estimate). A second table
   sweeps the batch size for M = 5 against M = 1 (same rows, same epochs).
2. ``accuracy`` -- time until the critic's held-out error first reaches 2% on
   critical 2×2 Ising block pairs: ``MINEEstimator()`` defaults against the
   original notebook's settings (one concat critic, hidden 100, batch 256, lr
   1e-3, 100 epochs, no early stopping) run through ``MINEEstimator`` and through
   a notebook loop (the original notebook's per-item ``DataLoader`` and
   ``Mine.optimize``). Each contender trains on the same 100,000 pairs per round
   (the original notebook's count-based sample size). See :class:`CriticalBlocks`
   for the ground truth and the error, which is evaluated after every optimizer
   step (its time excluded). A last round runs the two estimator contenders to the
   end of ``fit`` (the time a user waits, and the ``mi_`` they get).
3. ``throughput`` -- training samples per second on 3×3 block pairs, same critic
   (concat, hidden 100), same loss: ``MINEEstimator`` with one critic (the whole
   ``fit``: normalisation, skorch net, slicing iterator, per-epoch selection
   estimate, final report estimate), the notebook loop, and a minimal hand loop
   slicing shuffled tensors.

Usage::

    nice -n 5 python benchmarks/bench_mine.py [--quick] [--section NAME ...]

Results of a full run are summarised in the documentation's page on defaults
("Cost of the ensemble and time to accuracy").
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.utils.data import DataLoader, Dataset

from sk_rgmi import MINEEstimator, PluginMIEstimator
from sk_rgmi._counting import mi_from_contingency
from sk_rgmi.datasets import T_C, make_gaussian_pairs, sample_block_pairs, sample_ising
from sk_rgmi.nn import ConcatCritic, HeldOutSplit, MINENet, make_critic
from sk_rgmi.nn import mine as mine_bound
from sk_rgmi.nn.evaluation import member_scores

TARGET = 0.02  # relative held-out error to reach
NOTEBOOK = {  # the original notebook's settings, through the estimator's path
    "hidden_size": 100,
    "batch_size": 256,
    "lr": 1e-3,
    "max_epochs": 100,
    "early_stopping": None,
    "lr_schedule": None,
    "n_folds": 1,
    "n_critics": 1,
    "check_convergence": False,
}


def machine_state(label: str) -> None:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"[{label}] load average (1/5/15 min) {load} on {os.cpu_count()} cores, "
        f"nice {os.nice(0)}, torch threads {torch.get_num_threads()}",
        flush=True,
    )


def clocks() -> np.ndarray:
    """(CPU seconds of this process, wall seconds) now."""
    return np.array([time.process_time(), time.perf_counter()])


def rotated(names: list[str], r: int) -> list[str]:
    k = r % len(names)
    return names[k:] + names[:k]


def spread(values: list[float]) -> str:
    """Median of per-round values and their range."""
    v = np.asarray(values, dtype=float)
    return f"{np.median(v):5.2f} [{v.min():.2f}-{v.max():.2f}]"


# ------------------------------------------------------------------ data


def float32(pair: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """The arrays as float32, as the training path feeds them to torch."""
    return tuple(a.astype(np.float32) for a in pair)


class CriticalBlocks:
    """Neighbouring 2×2 block pairs of critical Ising lattices, with exact MI.

    The distribution sampled is uniform over every (lattice, position) of a fixed
    set of periodic L × L configurations at T_c (:func:`sample_ising`), X the 2×2
    block at a position and Y the block to its right -- what
    :func:`sample_block_pairs` with ``periodic=True`` draws. Its joint table of
    16 × 16 block states is *counted exactly* over all n·L² positions, so its MI is
    exact (no estimation error), and the held-out value of a critic T can be
    computed exactly, with no evaluation sample: the Donsker–Varadhan bound
    ``sum p(x,y) T - log sum p(x)p(y) e^T`` over the 256 state pairs, its
    expectation on unlimited fresh data, at most the MI. The error of a critic is
    ``(MI - bound) / MI`` >= 0, free of evaluation noise; it costs one forward
    pass over 256 rows.

    Why not the count-based MI of a large sample: it is exact only up to its
    sampling error and bias, and the fresh-sample DV estimate of a critic adds its
    own noise (both ~1e-3 nats, against a 2% target of ~0.009 nats); the table of
    the sampled distribution is exact. (That distribution stands for the L = 64
    critical ensemble up to lattice-to-lattice fluctuations: the MI of the first
    half of the lattices minus the second half is printed, -0.005 nats for 1,000
    lattices. The critics only ever see this distribution, so its MI is the truth
    here.) Why not an enumerated strip: these are the critical 2×2 block pairs the
    original notebook studied (count-based 0.4219 nats on its 27×27 data).
    """

    weights = 1 << np.arange(4)

    def __init__(self, n_lattices: int, size: int, seed: int) -> None:
        self.lattices = sample_ising(n_lattices, size, T_C, random_state=seed)
        x_all, y_all = self._all_pairs(self.lattices)
        self.mi = float(PluginMIEstimator(correction="none").fit(x_all, y_all).mi_)
        joint = self._table(self.lattices)
        self.mi_table = float(mi_from_contingency(joint))  # a check of the table
        self.joint = torch.from_numpy(joint.ravel())
        product = np.outer(joint.sum(1), joint.sum(0))
        self.log_product = torch.from_numpy(np.log(product).ravel())
        codes = np.arange(16)
        bits = ((codes[:, None] >> np.arange(4)) & 1).astype(np.float32)
        self.x_states = np.repeat(bits, 16, axis=0)  # row i * 16 + j: (x_i, y_j)
        self.y_states = np.tile(bits, (16, 1))
        half = n_lattices // 2
        self.half_difference = mi_from_contingency(
            self._table(self.lattices[:half])
        ) - mi_from_contingency(self._table(self.lattices[half:]))

    @staticmethod
    def _all_pairs(lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every periodic position: X = lat[i:i+2, j:j+2], Y the block at j + 2,
        flattened row-major like :func:`sample_block_pairs`."""
        offsets = [(0, 0), (0, 1), (1, 0), (1, 1)]

        def block(shift: int) -> np.ndarray:
            parts = [np.roll(lat, (-r, -c - shift), axis=(1, 2)) for r, c in offsets]
            return np.stack(parts, -1).reshape(-1, 4)

        return block(0), block(2)

    def _table(self, lat: np.ndarray) -> np.ndarray:
        x_all, y_all = self._all_pairs(lat)
        cells = (x_all @ self.weights) * 16 + y_all @ self.weights
        return np.bincount(cells, minlength=256).reshape(16, 16) / len(cells)

    def sample(self, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        x, y = sample_block_pairs(
            self.lattices, (2, 2), n, periodic=True, random_state=seed
        )
        return x.astype(np.float32), y.astype(np.float32)

    def states(self, n_members: int, transform=None) -> tuple[torch.Tensor, ...]:
        """The 256 state pairs as (M, 256, 4) inputs (through ``transform``)."""
        x, y = (self.x_states, self.y_states)
        if transform is not None:
            x, y = transform(x, y)
        x, y = torch.as_tensor(x), torch.as_tensor(y)
        return x.expand(n_members, -1, -1), y.expand(n_members, -1, -1)

    @torch.no_grad()
    def error(self, module, states, n_folds: int) -> float:
        """Relative held-out error of the current critics: the exact bound of each
        fold's averaged critic (member m is in fold m % n_folds), mean over folds."""
        t = member_scores(module, *states).double()
        t = t.reshape(-1, n_folds, t.shape[-1]).mean(0)
        bound = (t * self.joint).sum(1) - torch.logsumexp(t + self.log_product, 1)
        return (self.mi - float(bound.mean())) / self.mi


# ------------------------------------------------------------------ loops
class NotebookDataset(Dataset):
    """The original notebook's ``DatasetVar``: one item per ``__getitem__``."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, idx: int):
        return self.x[idx], self.y[idx]


class _NotebookEMALoss(torch.autograd.Function):
    """The EMA loss of the ``mine`` package the original notebook imports."""

    @staticmethod
    def forward(ctx, t_marg, running_mean):
        ctx.save_for_backward(t_marg, running_mean)
        return t_marg.exp().mean().log()

    @staticmethod
    def backward(ctx, grad_output):
        t_marg, running_mean = ctx.saved_tensors
        grad = grad_output * t_marg.exp().detach() / (running_mean + 1e-6)
        return grad / t_marg.shape[0], None


def _notebook_ema_loss(t_marg, running_mean, alpha=0.01):
    t_exp = torch.exp(torch.logsumexp(t_marg, 0) - math.log(t_marg.shape[0])).detach()
    if isinstance(running_mean, float) and running_mean == 0:
        running_mean = t_exp
    else:
        running_mean = alpha * t_exp + (1.0 - alpha) * running_mean.item()
    return _NotebookEMALoss.apply(t_marg, running_mean), running_mean


def notebook_loop(x, y, *, batch_size, lr, epochs, hidden=100, seed=0, on_step=None):
    """The original notebook's ``Mine.optimize``: per-item DataLoader (no
    shuffling), ``randperm`` marginals, the ``mine`` package's EMA loss.
    ``on_step(critic)`` after every optimizer step; True stops training."""
    torch.manual_seed(seed)
    critic = ConcatCritic(x.shape[1], y.shape[1], hidden_size=hidden)
    opt = torch.optim.Adam(critic.parameters(), lr=lr)
    loader = DataLoader(NotebookDataset(x, y), batch_size=batch_size)
    running = 0.0
    for _ in range(epochs):
        for xb, yb in loader:
            xb, yb = xb.float(), yb.float()
            t = critic(xb, yb).mean()
            t_marg = critic(xb, yb[torch.randperm(xb.shape[0])])
            second, running = _notebook_ema_loss(t_marg, running)
            loss = -t + second
            opt.zero_grad()
            loss.backward()
            opt.step()
            if on_step is not None and on_step(critic):
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


# ------------------------------------------------------- 1. ensemble cost
def user_factory(x_dim: int, y_dim: int) -> torch.nn.Module:
    """A user's critic factory (stacked by ``torch.func`` for an ensemble)."""
    return ConcatCritic(x_dim, y_dim, hidden_size=32)


class EpochClock(Callback):
    """Per epoch: (CPU, wall) seconds of the training steps and of the whole
    epoch (training steps, selection estimate, checkpoint)."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []

    def on_epoch_begin(self, net, **kwargs) -> None:
        self.start_ = self.train_end_ = clocks()

    def on_batch_end(self, net, training=False, **kwargs) -> None:
        if training:
            self.train_end_ = clocks()

    def on_epoch_end(self, net, **kwargs) -> None:
        end = clocks()
        self.rows.append(
            np.concatenate([self.train_end_ - self.start_, end - self.start_])
        )


def epoch_costs(critic, n_members: int, data, batch_size, epochs: int, seed: int):
    """Median per-epoch (train CPU, train wall, epoch CPU, epoch wall) seconds,
    the first epoch (allocations) left out."""
    x, y = data
    module = make_critic(
        critic,
        x.shape[1],
        y.shape[1],
        hidden_size=32 if isinstance(critic, str) else None,
        n_members=n_members,
    )
    clock = EpochClock()
    net = MINENet(
        module,
        batch_size=batch_size,
        max_epochs=epochs,
        early_stopping=None,
        lr_schedule="plateau",
        train_split=HeldOutSplit(n_members=n_members, random_state=seed),
        callbacks=[("clock", clock)],
        random_state=seed,
    ).fit(x, y)
    return np.median(np.array(clock.rows[1:]), axis=0), net.batch_size_


def ensemble_cost(rounds: int, epochs: int, blocks: CriticalBlocks) -> None:
    n = 5000
    n_train, n_sel, n_rep = HeldOutSplit().sizes(n)
    machine_state("ensemble: start")
    print(
        f"\n== 1. cost of stacked critics per epoch: concat hidden 32, {n_train} "
        f"training rows per critic ({n_sel} selection, {n_rep} report), "
        f"{epochs} epochs (first left out), {rounds} rounds, MINENet's path =="
    )
    datasets = {
        "2+2-D Gaussian": float32(make_gaussian_pairs(n, 2, mi=0.5, random_state=0)),
        "5+5-D Gaussian": float32(make_gaussian_pairs(n, 5, mi=1.0, random_state=1)),
        "2x2 block pairs": blocks.sample(n, 2),
    }
    contenders = {
        "M=1": ("concat", 1),
        "M=5": ("concat", 5),
        "M=10": ("concat", 10),
        "M=5 vmap": (user_factory, 5),
    }
    for data in datasets.values():  # warm-up, not timed
        for critic, m in contenders.values():
            epoch_costs(critic, m, data, "auto", 2, 0)
    for name, data in datasets.items():
        costs = {k: [] for k in contenders}
        for r in range(rounds):
            for k in rotated(list(contenders), r):
                critic, m = contenders[k]
                cost, batch = epoch_costs(critic, m, data, "auto", epochs, r)
                costs[k].append(cost)
        base = np.array(costs["M=1"])
        print(
            f"{name} (batch {batch}, {n_train // batch} steps per epoch): "
            "ms per epoch (CPU, median over rounds), ratio to M=1 (median of "
            "per-round ratios [range])"
        )
        print(
            f"   {'':9s} {'train ms':>9s} {'train CPU':>17s} {'train wall':>17s} "
            f"{'epoch ms':>9s} {'whole epoch CPU':>17s}"
        )
        for k, values in costs.items():
            v = np.array(values)
            ratio = v / base
            print(
                f"   {k:9s} {1e3 * np.median(v[:, 0]):9.1f} "
                f"{spread(ratio[:, 0]):>17s} {spread(ratio[:, 1]):>17s} "
                f"{1e3 * np.median(v[:, 2]):9.1f} {spread(ratio[:, 2]):>17s}"
            )
    batch_sweep(rounds, epochs, datasets["2+2-D Gaussian"], n_train)
    machine_state("ensemble: end")


def batch_sweep(rounds: int, epochs: int, data, n_train: int) -> None:
    print(
        "2+2-D Gaussian, M=5 against M=1 by batch size (same rows, same epochs; "
        "training-step CPU ms per epoch, ratio median [range] over rounds):"
    )
    for batch in (32, 64, 128, 256, 500, 1000):
        costs = {1: [], 5: []}
        for r in range(rounds):
            for m in (1, 5) if r % 2 == 0 else (5, 1):
                costs[m].append(epoch_costs("concat", m, data, batch, epochs, r)[0][0])
        one, five = np.array(costs[1]), np.array(costs[5])
        print(
            f"   batch {batch:5d} ({n_train // batch:4d} steps): M=1 "
            f"{1e3 * np.median(one):7.1f} ms, M=5 {1e3 * np.median(five):7.1f} ms, "
            f"ratio {spread(five / one)}"
        )


# ------------------------------------------------------ 2. time to accuracy
class _Stop(Exception):
    """Raised out of a fit once the tracker has what it needs."""


class Tracker:
    """Held-out error after every optimizer step, against a clock that leaves
    the error evaluations out. ``hit_``: (CPU s, wall s, steps) at the first
    error <= TARGET; :meth:`record` returns whether training may stop."""

    def __init__(self, budget_cpu: float, stop_at_hit: bool) -> None:
        self.budget_cpu, self.stop_at_hit = budget_cpu, stop_at_hit
        self.excluded = np.zeros(2)
        self.curve: list[tuple[float, float, float]] = []  # (cpu, wall, error)
        self.hit_ = None
        self.steps = 0
        self.start = clocks()

    def elapsed(self) -> np.ndarray:
        return clocks() - self.start - self.excluded

    def record(self, error: Callable[[], float]) -> bool:
        """Count a step and evaluate; True when training may stop."""
        self.steps += 1
        now = clocks()
        cpu, wall = now - self.start - self.excluded
        err = error()
        self.excluded += clocks() - now
        self.curve.append((cpu, wall, err))
        if self.hit_ is None and err <= TARGET:
            self.hit_ = (cpu, wall, self.steps)
        return (self.hit_ is not None and self.stop_at_hit) or cpu > self.budget_cpu

    def after_hit_within(self) -> float:
        """Fraction of the evaluations after the first hit still within TARGET."""
        if self.hit_ is None:
            return float("nan")
        later = [e for _, _, e in self.curve[self.hit_[2] :]]
        return float(np.mean([e <= TARGET for e in later])) if later else 1.0

    def settled(self) -> tuple[float, float]:
        """(CPU, wall) seconds from which every later error is within TARGET."""
        errors = np.array([e for _, _, e in self.curve])
        above = np.flatnonzero(errors > TARGET)
        last = -1 if len(above) == 0 else int(above[-1])
        if last + 1 >= len(errors):
            return math.inf, math.inf
        return self.curve[last + 1][0], self.curve[last + 1][1]


class TrackerCallback(Callback):
    """Feeds a :class:`Tracker` from an estimator's main net (not from the
    half-data convergence check, which runs after it)."""

    def __init__(self, tracker: Tracker, estimator, blocks: CriticalBlocks) -> None:
        self.tracker, self.estimator, self.blocks = tracker, estimator, blocks

    def initialize(self):
        self.done_ = getattr(self, "done_", False)
        return self

    def on_train_begin(self, net, **kwargs) -> None:
        est = self.estimator
        self.states_ = self.blocks.states(net.n_members, est._normalized)
        self.n_folds_ = est.n_folds

    def on_batch_end(self, net, training=False, **kwargs) -> None:
        if training and not self.done_:
            module = net.module_
            if self.tracker.record(
                lambda: self.blocks.error(module, self.states_, self.n_folds_)
            ):
                raise _Stop

    def on_train_end(self, net, **kwargs) -> None:
        self.done_ = True


def _fit_estimator(params, x, y, blocks, tracker, seed):
    est = MINEEstimator(device="cpu", random_state=seed, **params)
    est.set_params(callbacks=[("tracker", TrackerCallback(tracker, est, blocks))])
    tracker.start = clocks()
    try:
        est.fit(x, y)
    except _Stop:
        return None
    return est


def _run_notebook_loop(x, y, blocks, tracker, seed):
    states = blocks.states(1)
    tracker.start = clocks()
    notebook_loop(
        x,
        y,
        batch_size=256,
        lr=1e-3,
        epochs=100,
        seed=seed,
        on_step=lambda c: tracker.record(lambda: blocks.error(c, states, 1)),
    )


def time_to_accuracy(
    rounds: int, n: int, blocks: CriticalBlocks, budget: float, complete: bool
) -> None:
    machine_state("accuracy: start")
    n_train = HeldOutSplit().sizes(n)[0]
    print(
        f"\n== 2. time to <= {TARGET:.0%} held-out error: critical 2x2 block pairs, "
        f"exact MI {blocks.mi:.4f} nats, {n} training pairs per round, {rounds} "
        f"rounds; error after every optimizer step, not timed; budget {budget:.0f} "
        "CPU s per contender =="
    )
    names = ["defaults", "notebook settings, MINEEstimator", "notebook loop"]
    hits: dict[str, list] = {k: [] for k in names}
    for r in range(rounds):
        x, y = blocks.sample(n, 100 + r)
        for name in rotated(names, r):
            tracker = Tracker(budget, stop_at_hit=True)
            if name == "notebook loop":  # the estimator's number of training rows
                _run_notebook_loop(x[:n_train], y[:n_train], blocks, tracker, r)
                per_sample = tracker.elapsed() / (tracker.steps * 256)
            else:
                params = {} if name == "defaults" else NOTEBOOK
                _fit_estimator(params, x, y, blocks, tracker, r)
            hit = tracker.hit_ or (math.inf, math.inf, tracker.steps)
            hits[name].append(hit)
            print(
                f"   round {r} {name:33s} CPU {hit[0]:7.2f} s, wall {hit[1]:7.2f} s,"
                f" {hit[2]} steps (CPU at the first step: {tracker.curve[0][0]:.2f} s"
                f", setup included)",
                flush=True,
            )
    print("time to the first error <= 2% (median over rounds, CPU / wall seconds):")
    base = np.array(hits["defaults"], dtype=float)
    for name, values in hits.items():
        v = np.array(values, dtype=float)
        cpu, wall = np.median(v[:, 0]), np.median(v[:, 1])
        line = f"   {name:33s} CPU {cpu:7.2f} s  wall {wall:7.2f} s"
        if name != "defaults":
            line += (
                f"   / defaults (>1: defaults sooner): CPU "
                f"{spread(v[:, 0] / base[:, 0])}, wall {spread(v[:, 1] / base[:, 1])}"
            )
        print(line)
    if complete:
        _complete_round(n, blocks, per_sample, n_train)
    machine_state("accuracy: end")


def _complete_round(n, blocks, per_sample, n_train) -> None:
    print(
        "one round to the end of fit (the time a user waits; error evaluations "
        "not timed):"
    )
    x, y = blocks.sample(n, 99)
    for name, params in (("defaults", {}), ("notebook settings", NOTEBOOK)):
        tracker = Tracker(math.inf, stop_at_hit=False)
        est = _fit_estimator(params, x, y, blocks, tracker, 0)
        total = tracker.elapsed()
        final = blocks.error(
            est.net_.module_,
            blocks.states(est.net_.n_members, est._normalized),
            est.n_folds,
        )
        low, high = est.mi_ci_
        diag = est.diagnostics_
        hit = tracker.hit_ or (math.inf, math.inf, 0)
        settled = tracker.settled()[0]
        settled = f"at CPU {settled:.2f} s" if settled < math.inf else "never"
        print(
            f"   {name:18s} fit CPU {total[0]:6.1f} s, wall {total[1]:6.1f} s, "
            f"{est.n_epochs_} epochs (best {est.best_epoch_}); first <= 2% at CPU "
            f"{hit[0]:.2f} s, within 2% from then on {settled} (later evaluations "
            f"within 2%: {tracker.after_hit_within():.0%}); "
            f"lowest error {min(e for *_, e in tracker.curve):.2%}; returned critic's "
            f"error {final:.2%}; held-out {diag['heldout_mi']:.4f} + shortfall "
            f"{diag['shortfall']:.4f} = mi_ {est.mi_:.4f} (error "
            f"{est.mi_ / blocks.mi - 1:+.2%}), mi_ci_ [{low:.4f}, {high:.4f}], flags "
            f"{diag['flags']}",
            flush=True,
        )
    full = per_sample * 100 * (n_train // 256) * 256
    print(
        f"   notebook loop      100 epochs: CPU ~{full[0]:.0f} s, "
        f"wall ~{full[1]:.0f} s "
        "(extrapolated from its measured cost per sample; it reports no held-out "
        "estimate)"
    )


# ------------------------------------------------------------ 3. throughput
def throughput(rounds: int, n: int, epochs_for: dict[int, int], lattices) -> None:
    machine_state("throughput: start")
    x, y = sample_block_pairs(lattices, (3, 3), n, periodic=True, random_state=7)
    x, y = x.astype(np.float32), y.astype(np.float32)
    n_train = HeldOutSplit().sizes(n)[0]  # the estimator trains on 80%, so do loops
    xs, ys = x[:n_train], y[:n_train]
    print(
        f"\n== 3. throughput: critical 3x3 block pairs, {n_train} training samples, "
        f"concat critic hidden 100, lr 1e-3, {rounds} rounds =="
    )

    def estimator(bs: int, epochs: int, seed: int) -> None:
        params = {**NOTEBOOK, "batch_size": bs, "max_epochs": epochs}
        MINEEstimator(device="cpu", random_state=seed, **params).fit(x, y)

    runs = {
        "MINEEstimator": estimator,
        "notebook loop": lambda bs, e, s: notebook_loop(
            xs, ys, batch_size=bs, lr=1e-3, epochs=e, seed=s
        ),
        "hand loop": lambda bs, e, s: hand_loop(
            xs, ys, batch_size=bs, lr=1e-3, epochs=e, seed=s
        ),
    }
    for run in runs.values():  # warm-up, not timed
        run(256, 1, 0)
    for bs, epochs in epochs_for.items():
        rates: dict[str, list[np.ndarray]] = {k: [] for k in runs}
        for r in range(rounds):
            for name in rotated(list(runs), r):
                start = clocks()
                runs[name](bs, epochs, r)
                # rows trained on: whole batches for the loops that drop the last
                # partial one, every row for the notebook's DataLoader (keeps it)
                per_epoch = n_train if name == "notebook loop" else n_train // bs * bs
                rates[name].append(per_epoch * epochs / (clocks() - start))
        print(
            f"batch {bs} ({epochs} epochs): samples/s (CPU, median over rounds), "
            "per-round ratios median [range] (CPU / wall)"
        )
        arr = {k: np.array(v) for k, v in rates.items()}
        for k, v in arr.items():
            print(f"   {k:14s} {np.median(v[:, 0]):10.0f}")
        for a, b in (
            ("MINEEstimator", "hand loop"),
            ("hand loop", "notebook loop"),
            ("MINEEstimator", "notebook loop"),
        ):
            ratio = arr[a] / arr[b]
            print(f"   {a} / {b}: {spread(ratio[:, 0])} / {spread(ratio[:, 1])}")
    machine_state("throughput: end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke test")
    parser.add_argument(
        "--section",
        nargs="+",
        choices=["ensemble", "accuracy", "throughput"],
        default=["ensemble", "accuracy", "throughput"],
    )
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the package's CPU policy, for the loops too
    quick = args.quick
    machine_state("start")
    t0 = clocks()
    blocks = CriticalBlocks(200 if quick else 1000, 64, seed=0)
    print(
        f"critical 2x2 block pairs: {len(blocks.lattices)} lattices 64x64 at T_c, "
        f"exact MI by counting all positions {blocks.mi:.5f} nats (joint table "
        f"{blocks.mi_table:.5f}); first half of the lattices minus second half "
        f"{blocks.half_difference:+.5f}"
    )
    if "ensemble" in args.section:
        ensemble_cost(args.rounds or (1 if quick else 5), 4 if quick else 10, blocks)
    if "accuracy" in args.section:
        time_to_accuracy(
            args.rounds or (1 if quick else 5),
            100_000,
            blocks,
            budget=60.0 if quick else 150.0,
            complete=not quick,
        )
    if "throughput" in args.section:
        throughput(
            args.rounds or (1 if quick else 5),
            25_000,
            {256: 1, 4096: 2} if quick else {256: 4, 4096: 8},
            blocks.lattices,
        )
    total = clocks() - t0
    print(f"\ntotal: CPU {total[0]:.0f} s, wall {total[1]:.0f} s")
    machine_state("end")


if __name__ == "__main__":
    main()
