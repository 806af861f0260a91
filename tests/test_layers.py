"""Tests for sk_rgmi.nn.layers and the coarse-graining callbacks (nn.callbacks)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn

from sk_rgmi.nn.callbacks import (
    AlternatingSchedule,
    FilterHistory,
    TemperatureAnnealing,
    normalize_filters,
)
from sk_rgmi.nn.critics import make_critic
from sk_rgmi.nn.data import HeldOutSplit
from sk_rgmi.nn.layers import CoarseGrainedCritic, LinearCoarse, RelaxedBinaryCoarse
from sk_rgmi.nn.net import MINENet
from sk_rgmi.nn.normalization import ZScore


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------ layers
def test_relaxed_binary_eval_is_hard_threshold() -> None:
    layer = RelaxedBinaryCoarse(4, 2, generator=_gen())
    x = torch.randn(50, 4, generator=_gen(1))
    with torch.no_grad():
        logits = layer.logits(x)
        hard = layer.eval()(x)
    assert torch.equal(hard, (logits > 0).float())
    layer.train()
    layer.hard = True
    assert torch.equal(layer(x), hard)


def test_relaxed_binary_sample_is_soft_and_differentiable() -> None:
    layer = RelaxedBinaryCoarse(4, 1, temperature=0.75, generator=_gen())
    x = torch.randn(64, 4, generator=_gen(1))
    h = layer.train()(x)
    assert bool(((h > 0) & (h < 1)).all())
    h.sum().backward()
    assert layer.linear.weight.grad is not None
    assert float(layer.linear.weight.grad.abs().sum()) > 0


def test_relaxed_binary_low_temperature_is_bernoulli_of_sigmoid_logit() -> None:
    # The binary Concrete sample thresholded at 1/2 is exactly Bernoulli(sigmoid(l)).
    # 20,000 draws per logit: binomial standard error <= 0.0036, tolerance 5 sigma.
    layer = RelaxedBinaryCoarse(1, 1, temperature=0.1, bias=True, generator=_gen(3))
    with torch.no_grad():
        layer.linear.weight.fill_(1.0)
        layer.linear.bias.zero_()
    logits = torch.tensor([-2.0, -0.5, 0.0, 1.0, 3.0])
    x = logits.repeat_interleave(20_000)[:, None]
    with torch.no_grad():
        h = layer.train()(x).reshape(5, 20_000)
    freq = (h > 0.5).float().mean(1)
    expected = torch.sigmoid(logits)
    assert torch.allclose(freq, expected, atol=5 * 0.0036)


def test_relaxed_binary_noise_is_reproducible_from_generator() -> None:
    x = torch.randn(10, 4, generator=_gen(1))
    a = RelaxedBinaryCoarse(4, 1, generator=_gen(5))
    b = RelaxedBinaryCoarse(4, 1, generator=_gen(5))
    assert torch.equal(a(x), b(x))


def test_standardization_and_effective_filters() -> None:
    layer = RelaxedBinaryCoarse(3, 2, generator=_gen())
    with torch.no_grad():
        layer.linear.bias.copy_(torch.tensor([0.3, -0.2]))
    data = np.array([[0.0, -1.8, 7.0], [1.0, 2.2, 7.0]])  # std 0.5, 2.0, 0.0
    layer.set_standardization(ZScore.from_data(data))
    assert float(layer.standardize.scale[2]) == 1.0  # constant feature: scale 1
    x = torch.randn(20, 3, generator=_gen(2))
    w, b = layer.effective_filters()
    with torch.no_grad():
        assert torch.allclose(layer.logits(x), x @ w.T + b, atol=1e-6)
    lin = LinearCoarse(3, 1, generator=_gen())
    w, b = lin.effective_filters()
    assert torch.allclose(lin(x), x @ w.T + b, atol=1e-6)


def test_coarse_grained_critic_symmetric_and_raw_environment() -> None:
    g = _gen()
    coarse = RelaxedBinaryCoarse(4, 1, generator=g)
    sym = CoarseGrainedCritic(coarse, make_critic("concat", 1, 1, hidden_size=8))
    x, y = torch.rand(7, 4), torch.rand(7, 4)
    out = sym(x, y)
    assert out.shape == (7,)
    out.sum().backward()
    assert coarse.linear.weight.grad is not None
    asym = CoarseGrainedCritic(
        LinearCoarse(4, 2, generator=g),
        make_critic("two-branch", 2, 9, hidden_size=8),
        symmetric=False,
    )
    assert asym(x, torch.rand(7, 9)).shape == (7,)


# --------------------------------------------------------------------- callbacks
def test_normalize_filters_sign_scale_and_code_equivalence() -> None:
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 4))
    w[0] = -np.abs(w[0])
    b = rng.normal(size=3)
    wn, bn = normalize_filters(w, b)
    np.testing.assert_allclose(np.linalg.norm(wn, axis=1), 1.0)
    assert np.all(wn.sum(axis=1) >= 0)
    # The normalised code equals the original or its complement, row by row.
    X = rng.normal(size=(200, 4))
    orig = X @ w.T + b > 0
    new = X @ wn.T + bn > 0
    for j in range(3):
        assert np.array_equal(orig[:, j], new[:, j]) or np.array_equal(
            orig[:, j], ~new[:, j]
        )
    # A zero-sum row takes the sign of its largest entry.
    wz, _ = normalize_filters(np.array([[1.0, -3.0, 2.0, 0.0]]))
    assert wz[0, 1] > 0


def test_temperature_annealing_schedule() -> None:
    cb = TemperatureAnnealing(0.75, 0.1, n_epochs=5).initialize()
    temps = [cb.temperature_at(e) for e in range(1, 7)]
    assert temps[0] == pytest.approx(0.75)
    assert temps[4] == pytest.approx(0.1)
    assert temps[5] == pytest.approx(0.1)
    ratios = np.diff(np.log(temps[:5]))
    np.testing.assert_allclose(ratios, math.log(0.1 / 0.75) / 4)  # geometric
    with pytest.raises(ValueError, match="positive"):
        TemperatureAnnealing(0.0, 0.1).initialize()


def test_alternating_schedule_phases_and_validation() -> None:
    cb = AlternatingSchedule(critic_steps=3)
    assert [cb.phase_at(e) for e in range(1, 9)] == [
        "critic",
        "critic",
        "critic",
        "coarse",
        "critic",
        "critic",
        "critic",
        "coarse",
    ]
    with pytest.raises(ValueError, match="critic_steps"):
        AlternatingSchedule(critic_steps=0).initialize()


def _toy_pairs(n: int = 1200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    shared = rng.integers(0, 2, size=(n, 1))
    X = np.hstack([shared, rng.integers(0, 2, size=(n, 2))]).astype(np.float32)
    Y = np.hstack([shared, rng.integers(0, 2, size=(n, 2))]).astype(np.float32)
    return X, Y


def _module(seed: int = 0) -> CoarseGrainedCritic:
    with torch.random.fork_rng(devices=[]):  # seeded critic init, global RNG kept
        torch.manual_seed(seed)
        critic = make_critic("concat", 1, 1, hidden_size=8)
    return CoarseGrainedCritic(RelaxedBinaryCoarse(3, 1, generator=_gen(seed)), critic)


class _CriticSnapshot(Callback):
    """Record a copy of the critic's parameters at every epoch end (test helper)."""

    def initialize(self):
        self.snapshots = []
        return self

    def on_epoch_end(self, net, **kwargs) -> None:
        params = net.module_.critic.parameters()
        self.snapshots.append(torch.cat([p.detach().flatten() for p in params]))


def test_callbacks_on_the_shared_training_path() -> None:
    """Annealing, alternation and filter history through the shared training path."""
    X, Y = _toy_pairs()
    snap = _CriticSnapshot()
    net = MINENet(
        _module(),
        lr=1e-2,
        batch_size=100,
        max_epochs=6,
        train_split=HeldOutSplit(random_state=0),
        early_stopping=None,
        callbacks=[
            ("filters", FilterHistory()),
            ("temperature", TemperatureAnnealing(0.75, 0.1)),
            ("alternating", AlternatingSchedule(critic_steps=2)),
            ("snapshot", snap),
        ],
        random_state=0,
    )
    net.fit(X, Y)
    hist = net.history
    assert hist[:, "phase"] == ["critic", "critic", "coarse"] * 2
    np.testing.assert_allclose(hist[0, "temperature"], 0.75)
    np.testing.assert_allclose(hist[-1, "temperature"], 0.1)
    filters = np.array(hist[:, "filters"])  # (epochs, 1, 3)
    assert filters.shape == (6, 1, 3)
    np.testing.assert_allclose(np.linalg.norm(filters, axis=2), 1.0, rtol=1e-6)
    # Critic epochs leave the filter exactly as the previous epoch left it.
    assert np.array_equal(filters[1], filters[0])
    assert np.array_equal(filters[4], filters[3])
    # The coarse epoch changes it, and leaves the critic as it was.
    assert not np.array_equal(filters[2], filters[1])
    assert torch.equal(snap.snapshots[2], snap.snapshots[1])
    assert not torch.equal(snap.snapshots[1], snap.snapshots[0])
    # Everything is trainable again after fit.
    assert all(p.requires_grad for p in net.module_.parameters())


def test_temperature_reaches_the_layer() -> None:
    X, Y = _toy_pairs(400)
    net = MINENet(
        _module(1),
        batch_size=100,
        max_epochs=3,
        train_split=None,
        early_stopping=None,
        callbacks=[TemperatureAnnealing(0.5, 0.2)],
        random_state=0,
    ).fit(X, Y)
    assert net.module_.coarse.temperature == pytest.approx(0.2)


def test_callbacks_need_a_coarse_layer() -> None:
    class Plain(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(2, 1)

        def forward(self, x, y):
            return self.lin(x * y)

    X = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32)
    net = MINENet(
        Plain(),
        batch_size=50,
        max_epochs=1,
        train_split=None,
        early_stopping=None,
        callbacks=[FilterHistory()],
        random_state=0,
    )
    with pytest.raises(AttributeError, match="coarse layer"):
        net.fit(X, X)
