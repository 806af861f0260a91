"""Ising configurations and the blocks that mutual information is measured on.

- :func:`sample_ising`: equilibrium 2D Ising configurations (numba Wolff,
  Swendsen–Wang and Metropolis samplers, validated against exact results);
- :func:`block_spin`: block-spin coarse-graining (majority, mean, decimation);
- :func:`sample_block_pairs`, :func:`sample_visible_environment`: neighbouring
  block pairs (the seed notebook's geometry) and visible block / environment pairs
  (the RSMI geometry);
- :func:`load_critical_ising`: the cached critical 27×27-from-2187×2187 data set,
  :func:`load_lattices` for a user's own ``.npy`` file;
- :mod:`~sk_rgmi.datasets.exact`: exact energies and magnetisation for tests.
"""

from __future__ import annotations

from ._base import clear_data_home, get_data_home, load_critical_ising, load_lattices
from .blocks import block_spin, sample_block_pairs, sample_visible_environment
from .exact import (
    BINDER_CUMULANT_TC,
    T_C,
    exact_energy_per_spin,
    exact_nn_correlation,
    onsager_magnetization,
)
from .ising import ALGORITHMS, sample_ising

__all__ = [
    "ALGORITHMS",
    "BINDER_CUMULANT_TC",
    "T_C",
    "block_spin",
    "clear_data_home",
    "exact_energy_per_spin",
    "exact_nn_correlation",
    "get_data_home",
    "load_critical_ising",
    "load_lattices",
    "onsager_magnetization",
    "sample_block_pairs",
    "sample_ising",
    "sample_visible_environment",
]
