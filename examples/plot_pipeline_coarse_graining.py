"""
=========================================
A Pipeline: coarse-grainer + MI estimator
=========================================

Coarse-graining is a scikit-learn transformer, MI estimation an estimator whose
``score`` is a held-out MI, so the two compose with
:class:`~sklearn.pipeline.Pipeline` and can be tuned with
:class:`~sklearn.model_selection.GridSearchCV`. A pipeline transforms ``X`` only: it
measures how much a coarse variable of ``X`` tells about the raw neighbouring block
``Y`` -- the RSMI question "which coarse-graining keeps most information about the
surroundings?".

We search over the fixed rules and compare with a learned binary coarse variable
(:class:`~sk_rgmi.MIMaximizingCoarseGrainer`) and with the exact optimum over all
Boolean functions of a 2×2 block (:func:`~sk_rgmi.exhaustive_binary_coarse_graining`).
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from sk_rgmi import (
    BlockCoarseGrainer,
    MIMaximizingCoarseGrainer,
    PluginMIEstimator,
    exhaustive_binary_coarse_graining,
)
from sk_rgmi.datasets import load_critical_ising, sample_block_pairs

TINY = os.environ.get("SK_RGMI_EXAMPLE_SCALE") == "tiny"
lattices = load_critical_ising(
    n_configs=8 if TINY else 60, size=27, source_size=81 if TINY else 243, verbose=0
)
X, Y = sample_block_pairs(
    lattices, (2, 2), n_pairs=3_000 if TINY else 20_000, random_state=0
)

# %%
# Fixed rules, scored by held-out count-based MI I(coarse(X); Y) with 3-fold CV.
pipe = make_pipeline(BlockCoarseGrainer(block_shape=(2, 2)), PluginMIEstimator())
search = GridSearchCV(
    pipe, {"blockcoarsegrainer__rule": ["mean", "majority", "decimate"]}, cv=3
)
search.fit(X, Y)
for rule, score in zip(
    search.cv_results_["param_blockcoarsegrainer__rule"],
    search.cv_results_["mean_test_score"],
    strict=True,
):
    print(f"{rule:9s} held-out I(coarse X; Y) = {score:.4f} nats")
print("best rule:", search.best_params_)

# %%
# A learned binary unit in the same pipeline, and the exhaustive optimum of
# I(f(X); Y) over all 2**16 Boolean functions f of the block.
learned = make_pipeline(
    MIMaximizingCoarseGrainer(
        n_components=1, max_epochs=3 if TINY else 20, random_state=0
    ),
    PluginMIEstimator(),
)
learned_scores = cross_val_score(learned, X, Y, cv=3)
best = exhaustive_binary_coarse_graining(X, Y, symmetric=False)
print(f"learned binary unit: {learned_scores.mean():.4f} ± {learned_scores.std():.4f}")
print(f"exhaustive optimum:  {best.best_mi:.4f} (training data, plug-in)")

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
labels = [*search.cv_results_["param_blockcoarsegrainer__rule"], "learned", "optimum"]
values = [*search.cv_results_["mean_test_score"], learned_scores.mean(), best.best_mi]
ax.barh(labels, values, color=["C0"] * 3 + ["C1", "C2"])
ax.axvline(np.log(2), color="0.5", ls=":", label="ln 2")
ax.set_xlabel("I(coarse X; Y) (nats)")
ax.legend()
plt.show()
