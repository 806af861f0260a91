"""Shared helpers of the coarse-grainers: binary spin data and plug-in MI of codes."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils import check_array

from .._counting import encode_rows, mi_from_codes
from ..datasets._checks import _check_binary


def _binary_01(X: np.ndarray, what: str) -> np.ndarray:
    """``X`` as 0/1 ``int8`` if it holds 0/1 or -1/+1 spins, else a ValueError
    naming ``what`` (the package's one binary-spin check)."""
    bits, zero_one = _check_binary(X, what)
    return bits if zero_one else ((bits + 1) // 2).astype(np.int8)


def _plugin_mi(A: np.ndarray, B: np.ndarray) -> float:
    """Plug-in MI (nats) between the rows of two discrete arrays."""
    a, n_a = encode_rows(A)
    b, n_b = encode_rows(B)
    return mi_from_codes(a, b, n_x=n_a, n_y=n_b)


def second_block(estimator: Any, y: Any) -> np.ndarray:
    """``y`` of ``transform_pair`` as an array of blocks like the fitted ``X``.

    ``y`` is another block (the neighbour), so its column names -- if it is a
    DataFrame -- are its own: only its number of features is checked.
    """
    Y = check_array(y, ensure_all_finite=True)
    if Y.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"transform_pair needs y with X's {estimator.n_features_in_} features "
            f"(a block of the same shape); got {Y.shape[1]}."
        )
    return Y
