"""Tests for the training path: the skorch net, its callbacks, device and threads."""

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
from sk_rgmi.nn.critics import ConcatCritic, make_critic
from sk_rgmi.nn.data import HeldOutSplit
from sk_rgmi.nn.evaluation import estimate_mi
from sk_rgmi.nn.net import MINENet


def _gaussian_pairs(n: int, rho: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 1))
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=(n, 1))
    return x.astype(np.float32), y.astype(np.float32)


def _net(module, validation_fraction=0.2, n_members=1, n_folds=None, **kwargs):
    split = None
    if validation_fraction:
        half = validation_fraction / 2
        folds = n_members if n_folds is None else n_folds
        split = HeldOutSplit(half, half, n_members, folds, random_state=0)
    return MINENet(module, train_split=split, **kwargs)


def _small_net(**kwargs) -> MINENet:
    torch.manual_seed(0)
    params = {"batch_size": 128, "max_epochs": 4, "random_state": 0, "lr": 3e-3}
    params.update(kwargs)
    return _net(ConcatCritic(1, 1, hidden_size=16), **params)


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
    _, held_out = net.get_split_datasets(x, y)
    values, _ = net.evaluate(held_out.select, stream="select")
    assert values[0] == pytest.approx(best["valid_mi"], abs=1e-6)
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
    net = _net(
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
    net = _net(
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
    net = _net(_Poisonable(), batch_size=100, max_epochs=3, callbacks=[_PoisonAt(0)])
    with pytest.raises(FloatingPointError, match="before any usable epoch"):
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
    with pytest.raises(ValueError, match="5 samples are too few"):
        _small_net(batch_size=2).fit(x[:5], y[:5])
    with pytest.raises(ValueError, match=r"holds 1 critic.*n_members=1"):
        _small_net(n_members=3).fit(x, y)
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


def test_ensemble_of_critics_trains_each_on_its_own_folds() -> None:
    # Five critics trained together, cross-fitted: one report value per critic,
    # each a held-out estimate of 0.511 nats on its 600-row fold. Tolerance: a
    # 16-unit critic on 2100 training rows sits within 0.15 nats below the truth
    # (lower bound + training noise) and the fold's evaluation noise is ~0.03.
    rho = 0.8
    x, y = _gaussian_pairs(3000, rho, 21)
    torch.manual_seed(0)
    module = make_critic("concat", 1, 1, hidden_size=16, n_members=5)
    net = _net(module, n_members=5, batch_size=128, max_epochs=8, random_state=0)
    net.fit(x, y)
    values = net.report_["values"]
    true = -0.5 * math.log(1 - rho**2)
    assert values.shape == (5,) and np.all(values > true - 0.15)
    assert np.all(values < true + 0.1)
    assert net.heldout_mi_ == pytest.approx(values.mean())
    assert sorted(net.report_["index"].reshape(-1).tolist()) == list(range(3000))


def test_critics_of_a_fold_are_reported_as_one_averaged_critic() -> None:
    # Two folds of three critics each: two report values, each the DV estimate of
    # the mean of its three critics on the fold's rows (exactly, same pairings).
    x, y = _gaussian_pairs(1200, 0.8, 24)
    torch.manual_seed(0)
    module = make_critic("concat", 1, 1, hidden_size=8, n_members=6)
    net = _net(module, n_members=6, n_folds=2, batch_size=64, max_epochs=2)
    net.random_state = 0
    net.fit(x, y)
    values = net.report_["values"]
    assert values.shape == (2,)
    _, held = net.get_split_datasets(x, y)
    again, _ = net.evaluate(held.report, stream="report", groups=held.groups)
    np.testing.assert_allclose(again, values)
    # Independent check of the grouping: give the critics of each fold (members
    # m, m + 2, m + 4) the weights of its first one. Their mean is then that
    # critic, so each fold's value must equal the first critic scored alone.
    with torch.no_grad():
        for param in net.module_.parameters():  # (M, ...) stacked parameters
            param.copy_(param[torch.arange(6) % 2])
    grouped, _ = net.evaluate(held.report, stream="report", groups=held.groups)
    alone, _ = net.evaluate(held.report, stream="report")
    np.testing.assert_allclose(grouped, alone[:2], rtol=1e-9)


@pytest.mark.parametrize("lr", [1e3, 1e6])
@pytest.mark.parametrize("loss", ["mine", "infonce", "smile", "fdiv"])
def test_huge_learning_rate_is_caught_not_reported(lr, loss) -> None:
    # Regression: lr=1e6 used to return held-out MI of about -5e29 with no warning.
    # Now the blow-up stops training: the best finite epoch is restored with a
    # DivergenceWarning, or FloatingPointError if no epoch was usable.
    x, y = _gaussian_pairs(1000, 0.8, 22)
    net = _small_net(loss=loss, lr=lr, max_epochs=20, n_negatives=8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            net.fit(x, y)
        except FloatingPointError:
            return
    assert any(issubclass(w.category, DivergenceWarning) for w in caught) or (
        abs(net.heldout_mi_) < 10
    )
    assert math.isfinite(net.heldout_mi_) and abs(net.heldout_mi_) < 100


def test_progress_bar_falls_back_to_text_without_ipywidgets(monkeypatch) -> None:
    # Regression: verbose=2 in a notebook without ipywidgets raised ImportError
    # from tqdm's notebook bar.
    import builtins

    from sk_rgmi.nn.callbacks import TextProgressBar

    real_import = builtins.__import__

    def no_ipywidgets(name, *args, **kwargs):
        if name.startswith("ipywidgets"):
            raise ImportError("No module named 'ipywidgets'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ipywidgets)
    monkeypatch.setattr(TextProgressBar, "in_ipynb", lambda self: True)
    assert not TextProgressBar()._use_notebook()
    x, y = _gaussian_pairs(400, 0.5, 23)
    _small_net(max_epochs=1, batch_size=64, verbose=2).fit(x, y)
