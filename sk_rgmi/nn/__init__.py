"""Torch core of sk_rgmi: MI bounds, critics and the one training path.

No scikit-learn here. :mod:`~sk_rgmi.nn.bounds` holds the variational bounds as pure
functions, :mod:`~sk_rgmi.nn.critics` the critic networks,
:mod:`~sk_rgmi.nn.normalization` per-feature input maps built into a critic, and
:mod:`~sk_rgmi.nn.training` the skorch-based training path (:func:`make_mi_net`,
:class:`MINENet`) and the held-out evaluation :func:`estimate_mi` shared by every
neural estimator. MI values are in nats.
"""

from __future__ import annotations

from .bounds import (
    BOUNDS,
    compute_bound,
    dv_bound,
    fdiv,
    infonce,
    mine,
    mine_biased,
    smile,
)
from .critics import (
    CRITICS,
    ConcatCritic,
    SeparableCritic,
    TwoBranchCritic,
    make_critic,
)
from .normalization import NormalizedCritic, QuantileNormal, ZScore
from .training import MINENet, PairDataset, SliceIterator, estimate_mi, make_mi_net

__all__ = [
    "BOUNDS",
    "CRITICS",
    "ConcatCritic",
    "MINENet",
    "NormalizedCritic",
    "PairDataset",
    "QuantileNormal",
    "SeparableCritic",
    "SliceIterator",
    "TwoBranchCritic",
    "ZScore",
    "compute_bound",
    "dv_bound",
    "estimate_mi",
    "fdiv",
    "infonce",
    "make_critic",
    "make_mi_net",
    "mine",
    "mine_biased",
    "smile",
]
