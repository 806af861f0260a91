"""Renormalization-group flows of lattices: learned (RSMI) and fixed coarse-graining,
and the critical point and exponent ν read from them.

- :class:`RSMIFlow`: the real-space mutual-information coarse-graining applied to
  whole lattices, re-learned at every RG step; :func:`apply_coarse_grainer` applies
  any fitted block transformer to every block of every lattice;
- :func:`lattice_observables`, :func:`binder_cumulant`: what the matching compares;
- :func:`find_crossing`, :func:`mcrg_matching`: Monte Carlo RG matching of two
  lattice sizes -- the crossing temperature and ``ν`` from the slope ratio, with
  bootstrap intervals over Markov chains.

The fixed majority-rule flow is :func:`sk_rgmi.datasets.block_spin_flow`. The
study that uses all of it is ``sk-rgmi rsmi`` (:mod:`sk_rgmi.studies.rsmi`).
"""

from ._flow import RSMIFlow, apply_coarse_grainer
from ._mcrg import binder_cumulant, find_crossing, lattice_observables, mcrg_matching

__all__ = [
    "RSMIFlow",
    "apply_coarse_grainer",
    "binder_cumulant",
    "find_crossing",
    "lattice_observables",
    "mcrg_matching",
]
