"""Counting primitives for discrete (count-based) entropy and mutual information.

Pure numpy/scipy, no scikit-learn: :class:`~sk_rgmi.PluginMIEstimator` and the
exhaustive coarse-graining search both build on these functions. One module per job:

``encoding``
    :class:`RowEncoder` / :func:`encode_rows` turn each row of a 2-D array (one joint
    state, e.g. a block configuration) into an integer code, for any number of
    columns.
``counts``
    :func:`joint_counts` returns the observed cells of the contingency table as
    sparse triplets ``(cell_x, cell_y, count)``; :func:`count_raw_pairs` counts raw
    encoder codes and numbers the states from the observed cells afterwards (what
    :class:`~sk_rgmi.PluginMIEstimator` does).
``entropy``
    :func:`entropy_from_counts` and the bias corrections :data:`CORRECTIONS`
    (plug-in, Miller-Madow, exact jackknife, Chao-Shen, Grassberger).
``mi``
    :func:`mi_from_contingency` (dense tables batched over leading axes, or scipy
    sparse), :func:`mi_from_codes` and :func:`mi_statistics_from_cells` (MI,
    entropies and the jackknife standard error, as :class:`MIStatistics`).

All values are in nats.
"""

from __future__ import annotations

from .counts import count_raw_pairs, joint_counts
from .encoding import RowEncoder, as_integral, encode_rows
from .entropy import CORRECTIONS, entropy_from_counts
from .mi import (
    MIStatistics,
    mi_from_codes,
    mi_from_contingency,
    mi_statistics_from_cells,
)

__all__ = [
    "CORRECTIONS",
    "MIStatistics",
    "RowEncoder",
    "as_integral",
    "count_raw_pairs",
    "encode_rows",
    "entropy_from_counts",
    "joint_counts",
    "mi_from_codes",
    "mi_from_contingency",
    "mi_statistics_from_cells",
]
