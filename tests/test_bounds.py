"""Tests for the variational MI bounds (sk_rgmi.nn.bounds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sk_rgmi.nn.bounds import (
    BOUNDS,
    check_loss,
    compute_bound,
    dv_bound,
    fdiv,
    infonce,
    mine,
    mine_biased,
    smile,
)

RHO = 0.6
TRUE_MI = -0.5 * math.log(1 - RHO**2)  # 0.2231 nats


def _gaussian_log_ratio(x: np.ndarray, y: np.ndarray, rho: float) -> np.ndarray:
    """log p(x, y) / (p(x) p(y)) for standard bivariate normals with correlation rho."""
    r2 = 1 - rho**2
    return -0.5 * math.log(r2) - (rho**2 * (x**2 + y**2) - 2 * rho * x * y) / (2 * r2)


@pytest.fixture(scope="module")
def optimal_scores() -> tuple[torch.Tensor, torch.Tensor, float]:
    """True log density ratio on 200k joint and 200k product-of-marginals pairs."""
    rng = np.random.default_rng(0)
    n = 200_000
    x = rng.normal(size=n)
    y = RHO * x + math.sqrt(1 - RHO**2) * rng.normal(size=n)
    y_marg = rng.permutation(y)
    tj = torch.tensor(_gaussian_log_ratio(x, y, RHO))
    tm = torch.tensor(_gaussian_log_ratio(x, y_marg, RHO))
    # Statistical tolerance: 5 standard errors of the two Monte-Carlo means entering
    # every bound, E_P[T] and E_Q[e^T] (delta method: sd of log mean ≈ sd / mean).
    se = math.sqrt(float(tj.var()) / n + float(torch.exp(tm).var()) / n)
    return tj, tm, 5 * se


@pytest.mark.parametrize("name", ["dv", "mine", "mine_biased", "smile"])
def test_dv_family_at_true_log_ratio_gives_true_mi(optimal_scores, name) -> None:
    tj, tm, tol = optimal_scores
    if name == "dv":
        value = dv_bound(tj, tm)
    elif name == "mine":
        value, _ = mine(tj, tm)
    elif name == "mine_biased":
        value = mine_biased(tj, tm)
    else:  # clip 10 never binds for rho=0.6 at these sample sizes
        value = smile(tj, tm, clip=10.0)
    assert abs(float(value) - TRUE_MI) < tol


def test_nwj_at_log_ratio_plus_one_gives_true_mi(optimal_scores) -> None:
    # NWJ's optimal critic is 1 + log ratio.
    tj, tm, tol = optimal_scores
    assert abs(float(fdiv(tj + 1, tm + 1)) - TRUE_MI) < tol


def test_infonce_with_true_critic_is_below_log_k_and_close_to_mi(
    optimal_scores,
) -> None:
    tj, tm, _ = optimal_scores
    b, k = 700, 255
    scores_marg = tm[: b * k].reshape(b, k)
    value = float(infonce(tj[:b], scores_marg))
    assert value <= math.log(k + 1) + 1e-9
    # InfoNCE is a lower bound; at MI << log K it nearly equals MI. Tolerance: sd of
    # a mean of 700 per-row terms (each with sd ≲ 1 nat) times 5 ≈ 0.19.
    assert TRUE_MI - 0.19 < value < TRUE_MI + 0.19


def test_suboptimal_critic_gives_lower_value(optimal_scores) -> None:
    tj, tm, tol = optimal_scores
    assert float(dv_bound(0.5 * tj, 0.5 * tm)) < TRUE_MI - tol


@pytest.mark.parametrize("loss", sorted(BOUNDS))
def test_large_critic_outputs_give_finite_values_and_gradients(loss) -> None:
    # outputs in the thousands for the log-domain bounds. NWJ's value and gradient
    # contain e^T itself (no log domain can help): its value is finite in float64 up
    # to T≈700 (documented) and its float32 gradient up to T≈88, tested here.
    scale = 80.0 if loss == "fdiv" else 1000.0
    gen = torch.Generator().manual_seed(0)
    base = torch.randn(64, generator=gen) * scale / 3
    base = base.clamp(-scale, scale)
    t = base.clone().requires_grad_(True)
    t_marg = t[32:] if loss != "infonce" else t[32:].reshape(32, 1)
    value, _ = compute_bound(loss, t[:32], t_marg, None)
    value.backward()
    assert math.isfinite(float(value.detach()))
    assert torch.isfinite(t.grad).all()


def test_mine_ema_gradient_matches_formula() -> None:
    # d/dT_i of the correction term must be e^{T_i} / (B m), m the updated moving
    # average (1 - a) m_prev + a mean(e^T) -- MINE's estimator, here in log domain.
    gen = torch.Generator().manual_seed(1)
    tm = torch.randn(16, generator=gen).requires_grad_(True)
    tj = torch.randn(16, generator=gen)
    alpha, m_prev = 0.01, 1.7
    value, state = mine(tj, tm, torch.tensor(math.log(m_prev)), alpha)
    value.backward()
    m_new = (1 - alpha) * m_prev + alpha * float(torch.exp(tm.detach()).mean())
    assert math.isclose(float(torch.exp(state)), m_new, rel_tol=1e-5)
    expected = -torch.exp(tm.detach()) / (16 * m_new)
    torch.testing.assert_close(tm.grad, expected, rtol=1e-5, atol=1e-7)
    # the value itself is the plain minibatch DV bound
    assert math.isclose(
        float(value.detach()), float(dv_bound(tj, tm.detach())), abs_tol=1e-6
    )


def test_mine_without_state_equals_biased_gradient() -> None:
    gen = torch.Generator().manual_seed(2)
    t1 = torch.randn(20, generator=gen).requires_grad_(True)
    t2 = t1.detach().clone().requires_grad_(True)
    mine(t1[:10], t1[10:])[0].backward()
    mine_biased(t2[:10], t2[10:]).backward()
    torch.testing.assert_close(t1.grad, t2.grad)


def test_mine_state_is_detached_and_updated_in_log_domain() -> None:
    tm = torch.full((8,), 800.0, requires_grad=True)
    _, state = mine(torch.zeros(8), tm, torch.tensor(0.0), 0.5)
    assert not state.requires_grad
    # log((1-a) e^0 + a e^800) = 800 + log(a) up to e^-800
    assert math.isclose(float(state), 800 + math.log(0.5), rel_tol=1e-6)


def test_smile_value_is_clipped_dv_and_gradient_is_js() -> None:
    tj = torch.tensor([3.0, 4.0], requires_grad=True)
    tm = torch.tensor([100.0, -100.0], requires_grad=True)
    value = smile(tj, tm, clip=2.0)
    expected = 3.5 - math.log((math.exp(2.0) + math.exp(-2.0)) / 2)
    assert math.isclose(float(value.detach()), expected, rel_tol=1e-6)
    value.backward()
    # JS gradient: d/dtj mean(-softplus(-t)) = sigmoid(-t)/B
    torch.testing.assert_close(tj.grad, torch.sigmoid(-tj.detach()) / 2)
    torch.testing.assert_close(tm.grad, -torch.sigmoid(tm.detach()) / 2)


def test_infonce_never_exceeds_log_k() -> None:
    gen = torch.Generator().manual_seed(3)
    for k in (1, 7, 63):
        tj = 50 * torch.randn(32, generator=gen)
        tm = 50 * torch.randn(32, k, generator=gen)
        assert float(infonce(tj, tm)) <= math.log(k + 1) + 1e-5


def test_unknown_loss_and_bad_shapes_raise() -> None:
    with pytest.raises(ValueError, match="Unknown loss 'nope'"):
        check_loss("nope")
    with pytest.raises(ValueError, match="Unknown loss"):
        compute_bound("nope", torch.zeros(2), torch.zeros(2))
    with pytest.raises(ValueError, match=r"shape \(B,\)"):
        dv_bound(torch.zeros(2, 3, 4), torch.zeros(2))
    with pytest.raises(ValueError, match="same critics"):
        dv_bound(torch.zeros(2, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="ema_alpha"):
        mine(torch.zeros(2), torch.zeros(2), None, 0.0)
    with pytest.raises(ValueError, match="clip"):
        smile(torch.zeros(2), torch.zeros(2), clip=0.0)
    with pytest.raises(ValueError, match=r"\(B, K\)"):
        infonce(torch.zeros(3), torch.zeros(2, 4))


@pytest.mark.parametrize("name", sorted(BOUNDS))
def test_stacked_critics_give_one_bound_per_critic(name) -> None:
    # M critics stacked as (M, B): each row's bound equals the bound of that row
    # alone (the ensemble path trains several critics with one call).
    gen = torch.Generator().manual_seed(3)
    tj, tm = torch.randn(3, 16, generator=gen), torch.randn(3, 16, generator=gen)
    if name == "infonce":
        tm = torch.randn(3, 16, 5, generator=gen)
    stacked, _ = compute_bound(name, tj, tm)
    assert stacked.shape == (3,)
    for m in range(3):
        single, _ = compute_bound(name, tj[m], tm[m])
        torch.testing.assert_close(stacked[m], single)
