"""Tests for the one training path (sk_rgmi.nn.training) and device/thread policy."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn

from sk_rgmi.exceptions import DivergenceWarning
from sk_rgmi.nn._device import default_num_threads, resolve_device, torch_threads
from sk_rgmi.nn.critics import ConcatCritic
from sk_rgmi.nn.training import (
    MINENet,
    PairDataset,
    SliceIterator,
    estimate_mi,
    make_mi_net,
)


def _gaussian_pairs(n: int, rho: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1))
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, 1))
    return x.astype(np.float32), y.astype(np.float32)


class GaussianLogRatio(nn.Module):
    """The optimal DV critic for standard bivariate normals with correlation rho."""

    def __init__(self, rho: float) -> None:
        super().__init__()
        self.rho = rho

    def forward(self, x, y):
        r2 = 1 - self.rho**2
        x, y = x[:, 0], y[:, 0]
        quad = self.rho**2 * (x**2 + y**2) - 2 * self.rho * x * y
        return -0.5 * math.log(r2) - quad / (2 * r2)


def _small_net(**kwargs) -> MINENet:
    torch.manual_seed(0)
    params = {"batch_size": 128, "max_epochs": 4, "random_state": 0, "lr": 3e-3}
    params.update(kwargs)
    return make_mi_net(ConcatCritic(1, 1, hidden_size=16), **params)


# ----------------------------------------------------------------- data / batches
def test_slice_iterator_covers_each_row_once_per_epoch() -> None:
    ds = PairDataset(np.arange(10.0)[:, None], np.arange(10.0))
    it = SliceIterator(ds, 4, shuffle=True, generator=torch.Generator().manual_seed(0))
    seen = torch.cat([x[:, 0] for x, y in it])
    assert sorted(seen.tolist()) == list(range(10))
    for x, y in it:  # rows stay paired after shuffling
        torch.testing.assert_close(x, y)
    dropped = SliceIterator(ds, 4, drop_last=True)
    assert [len(x) for x, _ in dropped] == [4, 4]


def test_pair_dataset_errors() -> None:
    with pytest.raises(ValueError, match="same number of samples"):
        PairDataset(np.zeros((3, 1)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="NaN"):
        PairDataset(np.array([[np.nan], [1.0]]), np.zeros(2))
    with pytest.raises(ValueError, match="numeric"):
        PairDataset(np.array([["a"], ["b"]]), np.zeros(2))


# ---------------------------------------------------------------------- estimate_mi
def test_estimate_mi_with_true_log_ratio_recovers_mi() -> None:
    rho = 0.8
    true = -0.5 * math.log(1 - rho**2)  # 0.511 nats
    x, y = _gaussian_pairs(20_000, rho, 0)
    critic = GaussianLogRatio(rho)
    values = [
        estimate_mi(critic, x, y, n_permutations=8, random_state=s) for s in range(3)
    ]
    # Tolerance: the joint term's standard error sd(T)/sqrt(n) = 0.79/141 ≈ 0.0056 plus
    # the partition term's sd(e^T)/sqrt(8 n) ≈ 1.7/400 ≈ 0.004, times 5: 0.035.
    assert all(abs(v - true) < 0.035 for v in values)
    # the pairings change with random_state, the value only by noise
    assert len(set(values)) == 3


def test_estimate_mi_infonce_form_ignores_functions_of_x() -> None:
    # An InfoNCE-trained critic is the log density ratio only up to c(x). The InfoNCE
    # evaluation is exactly invariant to c(x); the DV evaluation is not.
    rho = 0.8
    true = -0.5 * math.log(1 - rho**2)  # 0.511 nats, well below log(K + 1)
    x, y = _gaussian_pairs(20_000, rho, 2)
    critic = GaussianLogRatio(rho)

    class Shifted(nn.Module):
        def forward(self, x, y):
            return critic(x, y) + 3.0 * x[:, 0]

    k = 63  # InfoNCE is capped at log(64) = 4.16 nats and biased low by O(MI/K)
    plain = estimate_mi(critic, x, y, n_permutations=k, random_state=0, bound="infonce")
    shifted = estimate_mi(
        Shifted(), x, y, n_permutations=k, random_state=0, bound="infonce"
    )
    assert shifted == pytest.approx(plain, abs=1e-9)
    # Same noise budget as the DV test above (5 standard errors ≈ 0.035) plus the
    # finite-K bias of InfoNCE at the true critic (measured -0.013, sd 0.006, 8 seeds).
    assert abs(plain - true) < 0.05
    assert estimate_mi(Shifted(), x, y, n_permutations=8, random_state=0) < true - 0.5
    with pytest.raises(ValueError, match="bound must be"):
        estimate_mi(critic, x, y, bound="nwj")


@pytest.mark.parametrize("bound", ["dv", "infonce"])
def test_estimate_mi_standard_error_matches_spread_over_data_sets(bound) -> None:
    # The reported standard error against the spread of the estimate over 40
    # independent data sets, exact critic. The sample sd of 40 values has a relative
    # standard error of 1/sqrt(2 * 39) ≈ 0.11; measured ratios (predicted / observed)
    # were 1.03-1.17 (DV) and 1.0-1.15 (InfoNCE). Bound: [0.7, 1.45] (± 3 SE, plus
    # the DV approximation's known slight excess).
    rho, n = 0.8, 2000
    critic = GaussianLogRatio(rho)
    k = 4 if bound == "dv" else 32
    values, stds = zip(
        *(
            estimate_mi(
                critic,
                *_gaussian_pairs(n, rho, 100 + s),
                n_permutations=k,
                random_state=s,
                bound=bound,
                return_std=True,
            )
            for s in range(40)
        ),
        strict=True,
    )
    ratio = np.mean(stds) / np.std(values, ddof=1)
    assert 0.7 < ratio < 1.45


def test_estimate_mi_independent_data_is_near_zero() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5000, 1)), rng.normal(size=(5000, 1))
    # DV is a lower bound: for independent data no critic gets above 0 beyond noise
    # (5 standard errors of the partition term, sd(e^T)/sqrt(8n) ≈ 0.006 -> 0.03) ...
    assert estimate_mi(GaussianLogRatio(0.5), x, y, random_state=0) < 0.03

    class Constant(nn.Module):
        def forward(self, x, y):
            return torch.full((x.shape[0],), 3.0)

    # ... and a critic that ignores the pairing gives exactly 0
    assert estimate_mi(Constant(), x, y, random_state=0) == pytest.approx(0, abs=1e-9)


def test_estimate_mi_restores_mode_and_clamps_permutations() -> None:
    critic = ConcatCritic(1, 1, hidden_size=4)
    critic.train()
    x, y = _gaussian_pairs(3, 0.5, 2)
    value = estimate_mi(critic, x, y, n_permutations=50, random_state=0)  # K -> 2
    assert math.isfinite(value) and critic.training
    with pytest.raises(ValueError, match="at least 2 samples"):
        estimate_mi(critic, x[:1], y[:1])
    with pytest.raises(ValueError, match="same number of samples"):
        estimate_mi(critic, x, y[:2])
    with pytest.raises(ValueError, match="n_permutations"):
        estimate_mi(critic, x, y, n_permutations=0)


# ------------------------------------------------------------------------ the net
def test_net_logs_history_and_restores_best_epoch() -> None:
    x, y = _gaussian_pairs(3000, 0.8, 3)
    net = _small_net(max_epochs=6).fit(x, y)
    assert [row["epoch"] for row in net.history] == list(range(1, 7))
    for key in ("train_mi", "valid_mi", "valid_mi_best", "dur"):
        assert all(key in row for row in net.history)
    best = max(net.history, key=lambda r: r["valid_mi"])
    assert net.best_epoch_ == best["epoch"]
    # the restored module reproduces the best epoch's selection-half value exactly
    _, select, _ = net._split(x, y)
    assert net._evaluate(select, select=True) == pytest.approx(
        best["valid_mi"], abs=1e-6
    )
    assert net.heldout_mi_ is not None and math.isfinite(net.heldout_mi_)


def test_net_learns_gaussian_mi() -> None:
    rho = 0.8
    x, y = _gaussian_pairs(6000, rho, 4)
    net = _small_net(max_epochs=12, lr=1e-2, early_stopping=5).fit(x, y)
    true = -0.5 * math.log(1 - rho**2)
    xt, yt = _gaussian_pairs(20_000, rho, 5)
    # a trained 16-unit critic on 4800 samples: within 0.1 nats of 0.511 (lower bound)
    assert true - 0.1 < estimate_mi(net.module_, xt, yt, random_state=0) < true + 0.03


@pytest.mark.parametrize("loss", ["mine_biased", "fdiv", "infonce", "smile"])
def test_other_losses_train_to_positive_finite_mi(loss) -> None:
    x, y = _gaussian_pairs(3000, 0.8, 6)
    net = _small_net(loss=loss, max_epochs=5, n_negatives=8).fit(x, y)
    assert all(math.isfinite(r["train_mi"]) for r in net.history)
    # held-out values use the DV form; an InfoNCE critic is only fixed up to a
    # function of x, which DV does not forgive, so it only has to be positive.
    assert net.heldout_mi_ > (0.0 if loss == "infonce" else 0.1)


def test_module_contract_trains_inner_layers_with_param_groups() -> None:
    class Coarse(nn.Module):
        """forward(x, y) = critic(coarse(x), coarse(y)): the coarse-grainer's shape."""

        def __init__(self) -> None:
            super().__init__()
            self.coarse = nn.Linear(2, 1, bias=False)
            self.critic = ConcatCritic(1, 1, hidden_size=8)

        def forward(self, x, y):
            return self.critic(self.coarse(x), self.coarse(y))

    torch.manual_seed(0)
    module = Coarse()
    w0 = module.coarse.weight.detach().clone()
    rng = np.random.default_rng(7)
    s = rng.normal(size=(2000, 1))
    x = np.hstack([s + 0.3 * rng.normal(size=(2000, 1)), rng.normal(size=(2000, 1))])
    y = np.hstack([s + 0.3 * rng.normal(size=(2000, 1)), rng.normal(size=(2000, 1))])
    net = make_mi_net(
        module,
        batch_size=100,
        max_epochs=3,
        random_state=0,
        optimizer__param_groups=[("coarse.*", {"lr": 0.05})],
    ).fit(x.astype(np.float32), y.astype(np.float32))
    groups = net.optimizer_.param_groups
    assert [g["lr"] for g in groups] == [0.05, net.lr]
    assert not torch.equal(net.module_.coarse.weight, w0)


def test_lr_schedule_steps_per_epoch() -> None:
    x, y = _gaussian_pairs(1000, 0.5, 8)
    net = _small_net(
        lr=0.01, max_epochs=4, lr_schedule={"step_size": 2, "gamma": 0.5}
    ).fit(x, y)
    assert [r["event_lr"] for r in net.history] == pytest.approx(
        [0.01, 0.01, 0.005, 0.005]
    )
    with pytest.raises(ValueError, match="step_size"):
        _small_net(lr_schedule={"gamma": 0.5}).fit(x, y)


def test_early_stopping_stops_after_patience() -> None:
    x, y = _gaussian_pairs(1000, 0.5, 9)
    # lr so small that nothing improves after epoch 1: stop after 1 + patience epochs
    net = _small_net(lr=1e-12, max_epochs=50, early_stopping=3).fit(x, y)
    assert len(net.history) == 4 and net.best_epoch_ == 1


class _PoisonAt(Callback):
    """Make the module's output NaN from a given epoch on (via a buffer)."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) >= self.epoch:
            net.module_.poison.fill_(float("nan"))


class _Poisonable(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.critic = ConcatCritic(1, 1, hidden_size=8)
        self.register_buffer("poison", torch.zeros(()))

    def forward(self, x, y):
        return self.critic(x, y) + self.poison


def test_divergence_restores_best_epoch_and_warns() -> None:
    x, y = _gaussian_pairs(1000, 0.8, 10)
    torch.manual_seed(0)
    net = make_mi_net(
        _Poisonable(),
        batch_size=100,
        max_epochs=10,
        random_state=0,
        callbacks=[_PoisonAt(3)],
    )
    with pytest.warns(DivergenceWarning, match="diverged.*restored the best epoch"):
        net.fit(x, y)
    assert len(net.history) == 3 and net.best_epoch_ in (1, 2)
    assert float(net.module_.poison) == 0.0  # restored with the parameters
    assert math.isfinite(net.heldout_mi_)


def test_divergence_before_any_finite_epoch_raises() -> None:
    x, y = _gaussian_pairs(500, 0.8, 11)
    net = make_mi_net(
        _Poisonable(), batch_size=100, max_epochs=3, callbacks=[_PoisonAt(0)]
    )
    with pytest.raises(FloatingPointError, match="before any finite epoch"):
        net.fit(x, y)


def test_determinism_and_global_state_untouched() -> None:
    x, y = _gaussian_pairs(1000, 0.6, 12)
    threads = torch.get_num_threads()
    a = _small_net(max_epochs=3, random_state=5)
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    a.fit(x, y)
    after = torch.rand(3)
    torch.testing.assert_close(after, expected_next)  # global RNG left as it was
    assert torch.get_num_threads() == threads
    b = _small_net(max_epochs=3, random_state=5).fit(x, y)
    assert [r["train_mi"] for r in a.history] == [r["train_mi"] for r in b.history]
    assert a.heldout_mi_ == b.heldout_mi_


def test_warm_start_continues_history() -> None:
    x, y = _gaussian_pairs(1000, 0.6, 13)
    net = _small_net(max_epochs=2).fit(x, y)
    net.partial_fit(x, y, epochs=1)
    assert len(net.history) == 3


def test_bad_configuration_errors() -> None:
    x, y = _gaussian_pairs(100, 0.5, 14)
    with pytest.raises(ValueError, match=r"batch_size=128 is larger than the 80"):
        _small_net().fit(x, y)
    with pytest.raises(ValueError, match="holds out 2"):
        _small_net(batch_size=4).fit(x[:10], y[:10])
    with pytest.raises(ValueError, match="Unknown loss"):
        _small_net(loss="kl").fit(x, y)
    with pytest.raises(ValueError, match="early_stopping needs"):
        _small_net(batch_size=8, validation_fraction=None, early_stopping=5).fit(x, y)


# --------------------------------------------------------------- device / threads
def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == (
        "cuda" if torch.cuda.is_available() else "cpu"
    )
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


def test_torch_threads_restores_setting() -> None:
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), torch_threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError
    assert torch.get_num_threads() == before
    assert default_num_threads("cpu") == 1


def test_no_warnings_in_plain_fit() -> None:
    x, y = _gaussian_pairs(600, 0.5, 15)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _small_net(max_epochs=2).fit(x, y)


def test_interrupt_inside_first_epoch_keeps_parameters_and_reports() -> None:
    class StopNow(Callback):
        def on_batch_end(self, net, **kwargs):
            raise KeyboardInterrupt

    x, y = _gaussian_pairs(1000, 0.6, 16)
    net = _small_net(callbacks=[StopNow()]).fit(x, y)
    assert net.best_epoch_ is None and math.isfinite(net.heldout_mi_)


def test_auto_batch_size_rule() -> None:
    from sk_rgmi.nn.training import resolve_batch_size

    assert resolve_batch_size("auto", 8000) == 1000  # >= 8 steps per epoch
    assert resolve_batch_size("auto", 80_000) == 1024  # capped
    assert resolve_batch_size("auto", 100) == 32 and resolve_batch_size("auto", 5) == 5
    with pytest.raises(ValueError, match="batch_size=64 is larger than the 50"):
        resolve_batch_size(64, 50)
