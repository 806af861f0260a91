"""Torch core of sk_rgmi: MI bounds, critics and the one training path.

No scikit-learn here. :mod:`~sk_rgmi.nn.bounds` holds the variational bounds as pure
functions, :mod:`~sk_rgmi.nn.critics` the critic networks (single or stacked into an
ensemble), :mod:`~sk_rgmi.nn.normalization` per-feature input maps built into a
critic, :mod:`~sk_rgmi.nn.layers` the coarse-graining layers,
:mod:`~sk_rgmi.nn.data` the paired data, held-out split and minibatches,
:mod:`~sk_rgmi.nn.evaluation` the held-out estimates (:func:`estimate_mi`),
:mod:`~sk_rgmi.nn.net` the skorch net (:class:`MINENet`) and
:mod:`~sk_rgmi.nn.callbacks` the callbacks that make up its training path. MI
values are in nats.
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
    MeanCritic,
    MemberLinear,
    SeparableCritic,
    StackedCritic,
    TwoBranchCritic,
    make_critic,
)
from .data import HeldOutSplit, PairDataset, PairView, SliceIterator
from .evaluation import estimate_mi
from .net import MINENet
from .normalization import NormalizedCritic, QuantileNormal, ZScore

__all__ = [
    "BOUNDS",
    "CRITICS",
    "ConcatCritic",
    "HeldOutSplit",
    "MINENet",
    "MeanCritic",
    "MemberLinear",
    "NormalizedCritic",
    "PairDataset",
    "PairView",
    "QuantileNormal",
    "SeparableCritic",
    "SliceIterator",
    "StackedCritic",
    "TwoBranchCritic",
    "ZScore",
    "compute_bound",
    "dv_bound",
    "estimate_mi",
    "fdiv",
    "infonce",
    "make_critic",
    "mine",
    "mine_biased",
    "smile",
]
