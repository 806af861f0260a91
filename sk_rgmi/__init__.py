"""sk_rgmi: mutual information and MI-maximising coarse-graining, scikit-learn style.

Estimate the mutual information (MI) between paired data -- for instance neighbouring
blocks of a lattice configuration -- and learn coarse-grainings that keep as much of it
as possible (the real-space mutual-information view of the renormalization group).

MI values are reported in nats unless an estimator is given ``units="bits"``.

Public names are imported lazily (PEP 562), so ``import sk_rgmi`` is cheap and the
count-based estimator and the data sets never import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# public name -> module that defines it
_LAZY: dict[str, str] = {
    "PluginMIEstimator": "sk_rgmi.plugin",
    "MINEEstimator": "sk_rgmi.mine",
    "KSGEstimator": "sk_rgmi.knn",
    "BlockCoarseGrainer": "sk_rgmi.coarse_graining",
    "MIMaximizingCoarseGrainer": "sk_rgmi.coarse_graining",
    "exhaustive_binary_coarse_graining": "sk_rgmi.coarse_graining",
    "FilterDisplay": "sk_rgmi.plotting",
    "MICurveDisplay": "sk_rgmi.plotting",
    "MIHistoryDisplay": "sk_rgmi.plotting",
    "mutual_info": "sk_rgmi.auto",
}
_SUBMODULES = ("datasets", "exceptions", "nn", "plotting", "rg")

__all__ = [*sorted(_LAZY), *_SUBMODULES, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"sk_rgmi.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'sk_rgmi' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for static analysers only
    from .auto import mutual_info as mutual_info
    from .coarse_graining import BlockCoarseGrainer as BlockCoarseGrainer
    from .coarse_graining import MIMaximizingCoarseGrainer as MIMaximizingCoarseGrainer
    from .coarse_graining import (
        exhaustive_binary_coarse_graining as exhaustive_binary_coarse_graining,
    )
    from .knn import KSGEstimator as KSGEstimator
    from .mine import MINEEstimator as MINEEstimator
    from .plotting import FilterDisplay as FilterDisplay
    from .plotting import MICurveDisplay as MICurveDisplay
    from .plotting import MIHistoryDisplay as MIHistoryDisplay
    from .plugin import PluginMIEstimator as PluginMIEstimator
