"""Tests for the critic networks (sk_rgmi.nn.critics)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sk_rgmi.nn.critics import (
    CRITICS,
    ConcatCritic,
    MemberLinear,
    SeparableCritic,
    StackedCritic,
    TwoBranchCritic,
    make_critic,
)
from sk_rgmi.nn.evaluation import critic_scores


@pytest.mark.parametrize("name", sorted(CRITICS))
def test_registered_critics_score_rows_and_backpropagate(name) -> None:
    torch.manual_seed(0)
    critic = make_critic(name, 3, 5, hidden_size=12, n_layers=2)
    x, y = torch.randn(7, 3), torch.randn(7, 5)
    out = critic(x, y)
    assert out.shape == (7,)
    out.sum().backward()
    grads = [p.grad for p in critic.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_original_notebook_architectures() -> None:
    # Net 1: two Linear layers per branch, head H -> H//4 -> 1 (notebook: H = 100)
    net1 = TwoBranchCritic(9, 9)
    n1 = sum(p.numel() for p in net1.parameters())
    h = 100
    expected1 = 2 * ((9 * h + h) + (h * h + h)) + (h * 25 + 25) + (25 + 1)
    assert n1 == expected1
    # Net 2: Linear(18, H) + two residual Linear(H, H) + Linear(H, 1)
    net2 = ConcatCritic(9, 9)
    n2 = sum(p.numel() for p in net2.parameters())
    assert n2 == (18 * h + h) + 2 * (h * h + h) + (h + 1)


def test_residual_layers_follow_n_layers() -> None:
    assert len(ConcatCritic(2, 2, hidden_size=4, n_layers=5).residual) == 4
    linears = [
        m
        for m in TwoBranchCritic(2, 2, 4, n_layers=3).x_branch
        if isinstance(m, MemberLinear)
    ]
    assert len(linears) == 3


@pytest.mark.parametrize("name", ["concat", "two-branch", "separable"])
def test_ensemble_members_are_independent_critics(name) -> None:
    # Member m of a stacked critic computes exactly what a single critic with
    # member m's parameters computes (the ensemble is M critics, not one).
    torch.manual_seed(0)
    ens = make_critic(name, 3, 2, hidden_size=8, n_members=4)
    x, y = torch.randn(4, 6, 3), torch.randn(4, 6, 2)
    out = ens(x, y)
    assert out.shape == (4, 6)
    for m in range(4):
        single = make_critic(name, 3, 2, hidden_size=8)
        single.load_state_dict({k: v[m : m + 1] for k, v in ens.state_dict().items()})
        torch.testing.assert_close(single(x[m], y[m]), out[m])


def test_factory_ensemble_is_stacked_with_vmap() -> None:
    torch.manual_seed(0)
    ens = make_critic(
        lambda dx, dy: ConcatCritic(dx, dy, hidden_size=4), 2, 2, n_members=3
    )
    assert isinstance(ens, StackedCritic) and ens.n_members == 3
    x, y = torch.randn(3, 5, 2), torch.randn(3, 5, 2)
    out = ens(x, y)
    assert out.shape == (3, 5)
    out.sum().backward()  # gradients reach the stacked parameters
    assert all(p.grad is not None for p in ens.parameters())


def test_separable_scores_diagonal_equals_forward() -> None:
    torch.manual_seed(1)
    c = SeparableCritic(2, 3, hidden_size=8, embed_dim=4)
    x, y = torch.randn(6, 2), torch.randn(6, 3)
    torch.testing.assert_close(torch.diagonal(c.scores(x, y)), c(x, y))


def test_factory_critic_with_column_output() -> None:
    class Bilinear(nn.Module):
        def __init__(self, dx: int, dy: int) -> None:
            super().__init__()
            self.w = nn.Bilinear(dx, dy, 1)

        def forward(self, x, y):
            return self.w(x, y)  # (B, 1)

    critic = make_critic(Bilinear, 2, 3)
    assert isinstance(critic, Bilinear)
    assert critic_scores(critic, torch.zeros(4, 2), torch.zeros(4, 3)).shape == (4,)


def test_bad_critic_specs_raise() -> None:
    with pytest.raises(ValueError, match="Unknown critic 'mlp'"):
        make_critic("mlp", 2, 2)
    with pytest.raises(TypeError, match="not an instance"):
        make_critic(ConcatCritic(2, 2), 2, 2)
    with pytest.raises(TypeError, match=r"not a torch\.nn\.Module"):
        make_critic(lambda dx, dy: "nope", 2, 2)
    with pytest.raises(ValueError, match="hidden_size must be an integer"):
        ConcatCritic(2, 2, hidden_size=0)
    with pytest.raises(ValueError, match=r"shape \(B,\) or \(B, 1\)"):
        critic_scores(
            lambda x, y: torch.zeros(len(x), 2), torch.zeros(3, 1), torch.zeros(3, 1)
        )
