"""Coarse-graining of lattice blocks: fixed rules, learned MI-maximising, exact optimum.

One module per job: ``fixed.py`` (:class:`BlockCoarseGrainer`), ``learned.py``
(:class:`MIMaximizingCoarseGrainer`), ``exhaustive.py``
(:func:`exhaustive_binary_coarse_graining`).


* :class:`BlockCoarseGrainer` -- fixed block rules (``"mean"``, ``"ring-mean"``,
  ``"majority"``, ``"decimate"``) as a stateless transformer on flattened blocks.
* :class:`MIMaximizingCoarseGrainer` -- learns linear filters ``Λ`` whose binary
  (RSMI) or real coarse variables keep as much mutual information as possible, trained
  on the MINE estimator's training path.
* :func:`exhaustive_binary_coarse_graining` -- scores every Boolean function of a
  block of at most four binary variables: the exact optimum the learned coarse-grainer
  is judged against.

Coarse-graining ``y`` too
-------------------------
A scikit-learn ``Pipeline`` transforms ``X`` only: in
``make_pipeline(BlockCoarseGrainer("mean"), PluginMIEstimator())`` the estimator sees
``(mean(X), y)``. To measure the MI between two *coarse-grained* blocks (the original
notebook's frozen rows), coarse-grain ``y`` with the same transformer --
``transform_pair(X, y)`` returns both -- and pass it as the target:
``pipe.fit(X, cg.transform(Y))``.
"""

from __future__ import annotations

from .exhaustive import exhaustive_binary_coarse_graining
from .fixed import BlockCoarseGrainer
from .learned import MIMaximizingCoarseGrainer

__all__ = [
    "BlockCoarseGrainer",
    "MIMaximizingCoarseGrainer",
    "exhaustive_binary_coarse_graining",
]
