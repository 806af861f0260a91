"""
=======================================================
A learned RG flow: T_c and ν by Monte Carlo RG matching
=======================================================

Real-space mutual-information (RSMI) coarse-graining learns, for a block ``V`` of
spins, the binary variable ``H`` that keeps most information about the block's
distant environment ``E`` (Koch-Janusz & Ringel, Nature Physics 2018).
:class:`~sk_rgmi.rg.RSMIFlow` applies the learned rule to every 3×3 block of whole
lattices -- an RG step -- and re-learns it at every step.

Monte Carlo RG matching then reads the critical point and the exponent ``ν`` off the
flow: a lattice of side ``L`` coarse-grained ``n + 1`` times and one of side
``L/3`` coarse-grained ``n`` times end at the same size, their Binder cumulants
``U4(T)`` cross at ``T_c``, and the ratio of their slopes there is ``3^(1/ν)``
(:func:`~sk_rgmi.rg.mcrg_matching`). The exact values are ``T_c = 2.26919`` and
``ν = 1``. The temperature window shrinks like ``1/L``; the smaller lattice is
sampled over a window three times wider (the same range of ``t L^(1/ν)``).

``sk-rgmi rsmi`` runs the full study (docs page *RSMI at scale*).
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from sk_rgmi import MIMaximizingCoarseGrainer
from sk_rgmi.datasets import T_C, block_spin_flow, sample_ising
from sk_rgmi.plotting import FilterDisplay
from sk_rgmi.rg import RSMIFlow, lattice_observables, mcrg_matching

TINY = os.environ.get("SK_RGMI_EXAMPLE_SCALE") == "tiny"
L = 27 if TINY else 81  # the larger lattice; the smaller one has side L / 3
n_configs = 200 if TINY else 3000  # per temperature and size
n_steps = 1 if TINY else 2

# %%
# Learn the flow on critical lattices: one 3×3 rule per step, each fitted on
# windows (block, buffer of 2 sites, shell of width 2) cut from the previous
# step's lattices.
train = sample_ising(40 if TINY else 200, L, T_C, random_state=0)
flow = RSMIFlow(
    factor=3,
    n_steps=n_steps,
    buffer=1 if TINY else 2,
    environment_width=1 if TINY else 2,
    n_windows=3000 if TINY else 20000,
    coarse_grainer=MIMaximizingCoarseGrainer(
        symmetric=False, max_epochs=8 if TINY else 30
    ),
    random_state=0,
).fit(train)
agree = np.mean(flow.transform(train) == block_spin_flow(train, 3, n_steps)[-1])
print(f"learned rules agree with the majority rule on {agree:.1%} of coarse spins")

# %%
# Sample both sizes around T_c, coarse-grain them with both flows, and match
# L after n + 1 steps with L/3 after n steps.
t_large = T_C + np.linspace(-1.5, 1.5, 5 if TINY else 7) / L
t_small = T_C + np.linspace(-4.5, 4.5, 5 if TINY else 7) / L
data = {}
for name, size, temps, steps in (("large", L, t_large, n_steps),
                                 ("small", L // 3, t_small, n_steps - 1)):  # fmt: skip
    for k, t in enumerate(temps):
        x, obs = sample_ising(n_configs, size, t, random_state=[1, size, k],
                              n_jobs=-1, return_observables=True)  # fmt: skip
        learned = flow.flow(x, include_input=True)[: steps + 1]
        majority = block_spin_flow(x, 3, steps, include_input=True) if steps else [x]
        for rule, lattices in (("learned", learned), ("majority", majority)):
            m = [lattice_observables(lat).magnetization for lat in lattices]
            data[name, rule, k] = (m, obs.chain)

fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
n = n_steps - 1  # the most coarse-grained pair
for ax, rule in zip(axes[:2], ("learned", "majority"), strict=True):
    large = [data["large", rule, k][0][n + 1] for k in range(len(t_large))]
    small = [data["small", rule, k][0][n] for k in range(len(t_small))]
    res = mcrg_matching(
        t_large, large, small, temperatures_small=t_small, factor=3,
        groups_large=[data["large", rule, k][1] for k in range(len(t_large))],
        groups_small=[data["small", rule, k][1] for k in range(len(t_small))],
        n_bootstrap=200 if TINY else 1000, random_state=0,
    )  # fmt: skip
    c = res.curves
    ax.errorbar(c.temperature, c.large, c.large_err, fmt="o",
                label=f"L={L}, {n + 1} step(s)")  # fmt: skip
    ax.errorbar(c.temperature_small, c.small, c.small_err, fmt="s", mfc="none",
                label=f"L={L // 3}, {n} step(s)")  # fmt: skip
    ax.plot(c.large_grid, c.large_fit, "C0-", c.small_grid, c.small_fit, "C1--")
    ax.plot(res.tc, res.value, "k*", ms=10)
    ax.axvline(T_C, color="0.5", ls=":", label="exact T_c")
    ax.set_xlabel("temperature")
    ax.set_ylabel("U4 of the coarse lattice")
    ax.set_title(
        f"{rule}: T_c = {res.tc:.4f} [{res.tc_low:.4f}, {res.tc_high:.4f}]\n"
        f"ν = {res.nu:.2f} [{res.nu_low:.2f}, {res.nu_high:.2f}]",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    print(f"{rule}: T_c = {res.tc:.5f}, nu = {res.nu:.3f}")

# %%
# The learned rules weight the block's boundary more than its centre.
inner = [axes[2].inset_axes([k / n_steps, 0.15, 0.9 / n_steps, 0.7])
         for k in range(n_steps)]  # fmt: skip
axes[2].set_axis_off()
FilterDisplay(
    flow.filters_, block_shape=(3, 3),
    titles=[f"step {k + 1}" for k in range(n_steps)],
).plot(ax=inner, colorbar=False)  # fmt: skip
plt.show()
