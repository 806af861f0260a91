"""Tests for the held-out evaluation of fixed critics (sk_rgmi.nn.evaluation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from sk_rgmi.nn.critics import ConcatCritic, make_critic
from sk_rgmi.nn.data import PairDataset, PairView
from sk_rgmi.nn.evaluation import estimate_mi, member_estimates


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


def test_member_estimates_score_each_critic_on_its_own_rows() -> None:
    # Critic m of a stack, scored on its rows, gives what the same critic alone
    # gives on those rows with the same pairings.
    torch.manual_seed(0)
    stack = make_critic("concat", 1, 1, hidden_size=8, n_members=3)
    x, y = _gaussian_pairs(300, 0.7, 5)
    ds = PairDataset(x, y)
    index = torch.arange(300).reshape(3, 100)
    values, stds = member_estimates(stack, PairView(ds, index), random_state=0)
    for m in range(3):
        single = make_critic("concat", 1, 1, hidden_size=8)
        single.load_state_dict({k: v[m : m + 1] for k, v in stack.state_dict().items()})
        v1, s1 = member_estimates(
            single, PairView(ds, index[m : m + 1]), random_state=0
        )
        assert values[m] == pytest.approx(v1[0], abs=1e-5)
        assert stds[m] == pytest.approx(s1[0], abs=1e-5)
