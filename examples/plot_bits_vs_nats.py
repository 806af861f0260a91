"""
============
Bits vs nats
============

Every sk_rgmi estimator reports MI in **nats** (natural logarithm) unless it is given
``units="bits"``; the two differ by a factor ``ln 2``: ``I_bits = I_nats / ln 2``. A
binary variable carries at most ``ln 2 = 0.693`` nats = 1 bit. Mixing the two is easy --
the original notebook ends with "figure out if the log2 factor is confusing" -- so here
is the same estimate in both units, on a binary symmetric channel whose MI is known:
``I = ln 2 - H(p)`` nats for flip probability ``p``.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import xlogy

from sk_rgmi import PluginMIEstimator
from sk_rgmi.plotting import MICurveDisplay

TINY = os.environ.get("SK_RGMI_EXAMPLE_SCALE") == "tiny"
n = 2_000 if TINY else 50_000
flips = np.linspace(0.0, 0.5, 6 if TINY else 11)
rng = np.random.default_rng(0)


def entropy_nats(p):
    """Binary entropy in nats (0 log 0 = 0)."""
    return -(xlogy(p, p) + xlogy(1 - p, 1 - p))


ests = {"nats": [], "bits": []}
for p in flips:
    x = rng.integers(0, 2, size=n)
    y = x ^ (rng.random(n) < p)
    for units in ests:
        ests[units].append(PluginMIEstimator(units=units).fit(x[:, None], y))

truth = np.log(2) - entropy_nats(flips)
nats = np.array([e.mi_ for e in ests["nats"]])
bits = np.array([e.mi_ for e in ests["bits"]])
print("ratio nats / bits =", np.round(nats[:-1] / bits[:-1], 6))  # ln 2 = 0.693147

# %%
# The two curves are the same estimate on two scales; each axis label names its unit.
fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
MICurveDisplay.from_estimators(
    flips, ests["nats"], xlabel="flip probability", label="estimate", ax=axes[0]
)
axes[0].plot(flips, truth, "k--", lw=1, label="ln 2 - H(p)")
axes[0].axhline(np.log(2), color="0.6", lw=0.8)
axes[0].legend()
MICurveDisplay.from_estimators(
    flips, ests["bits"], xlabel="flip probability", label="estimate", ax=axes[1]
)
axes[1].plot(flips, truth / np.log(2), "k--", lw=1, label="1 - H2(p)")
axes[1].axhline(1.0, color="0.6", lw=0.8)
axes[1].legend()
plt.show()
