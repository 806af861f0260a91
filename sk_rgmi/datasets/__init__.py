"""Ising configurations and the blocks that mutual information is measured on.

- :func:`sample_ising`: equilibrium 2D Ising configurations (numba Wolff,
  Swendsen–Wang and Metropolis samplers, validated against exact results);
- :func:`block_spin`: block-spin coarse-graining (majority, mean, decimation),
  :func:`block_spin_flow` for every step of repeated block-spin, and
  :func:`block_majority`, the package's one majority rule, on flattened blocks;
- :func:`sample_block_pairs`, :func:`sample_visible_environment`: neighbouring
  block pairs (the original notebook's geometry) and visible block / environment
  pairs (the RSMI geometry);
- :func:`load_critical_ising`: the cached critical 27×27-from-2187×2187 data set,
  :func:`load_lattices` for a user's own ``.npy`` file;
- :mod:`~sk_rgmi.datasets.exact`: exact energies and magnetisation for tests;
- :func:`make_gaussian_pairs`, :func:`gaussian_pairs_mi`: Gaussian pairs of known
  MI for checking estimators.

Names are imported lazily (PEP 562): ``from sk_rgmi.datasets import block_majority``
loads the numpy block functions without the numba samplers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> submodule that defines it
_LAZY: dict[str, str] = {
    "ALGORITHMS": "ising",
    "sample_ising": "ising",
    "block_majority": "blocks",
    "block_spin": "blocks",
    "block_spin_flow": "blocks",
    "sample_block_pairs": "blocks",
    "sample_visible_environment": "blocks",
    "BINDER_CUMULANT_TC": "exact",
    "T_C": "exact",
    "exact_energy_per_spin": "exact",
    "exact_nn_correlation": "exact",
    "onsager_magnetization": "exact",
    "clear_data_home": "_base",
    "get_data_home": "_base",
    "load_critical_ising": "_base",
    "load_lattices": "_base",
    "gaussian_pairs_mi": "synthetic",
    "make_gaussian_pairs": "synthetic",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for static analysers only
    from ._base import clear_data_home as clear_data_home
    from ._base import get_data_home as get_data_home
    from ._base import load_critical_ising as load_critical_ising
    from ._base import load_lattices as load_lattices
    from .blocks import block_majority as block_majority
    from .blocks import block_spin as block_spin
    from .blocks import block_spin_flow as block_spin_flow
    from .blocks import sample_block_pairs as sample_block_pairs
    from .blocks import sample_visible_environment as sample_visible_environment
    from .exact import BINDER_CUMULANT_TC as BINDER_CUMULANT_TC
    from .exact import T_C as T_C
    from .exact import exact_energy_per_spin as exact_energy_per_spin
    from .exact import exact_nn_correlation as exact_nn_correlation
    from .exact import onsager_magnetization as onsager_magnetization
    from .ising import ALGORITHMS as ALGORITHMS
    from .ising import sample_ising as sample_ising
    from .synthetic import gaussian_pairs_mi as gaussian_pairs_mi
    from .synthetic import make_gaussian_pairs as make_gaussian_pairs
