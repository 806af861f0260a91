"""The exact optimum of one binary coarse variable of a small block."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import Bunch

from .._counting import encode_rows, mi_from_contingency
from .._validation import check_units, to_units, validate_pair
from ._common import _binary_01

__all__ = ["exhaustive_binary_coarse_graining"]


def exhaustive_binary_coarse_graining(
    X: Any, y: Any, *, symmetric: bool = True, units: str = "nats"
) -> Bunch:
    """Score every Boolean function of a small binary block by count-based MI.

    For a block of ``d ≤ 4`` binary variables there are ``2**(2**d)`` Boolean
    functions ``f`` (65,536 for a 2×2 block). Each is scored by the plug-in MI
    ``I(f(X) : f(y))`` (``symmetric=True``: ``y`` is a block of the same shape
    coarse-grained by the same ``f``) or ``I(f(X) : y)`` (``symmetric=False``: ``y`` is
    any discrete variable, e.g. the raw environment). All functions are scored at once
    from the joint count table ``C`` of (X state, y state): with ``F`` the
    ``(2**(2**d), 2**d)`` 0/1 matrix of truth tables, the coarse joint counts are
    ``n11 = ((F @ C) * F).sum(1)`` and the marginals ``F @ C.sum(1)``, ``F @ C.sum(0)``.

    This is the ground truth for :class:`MIMaximizingCoarseGrainer` with one binary
    unit. Plug-in MI is biased upwards by about ``(K_x - 1)(K_y - 1) / (2 N)`` nats.

    Parameters
    ----------
    X : array-like of shape (n_samples, d), d ≤ 4
        Binary blocks (0/1 or -1/+1), flattened.
    y : array-like of shape (n_samples, d) or (n_samples, n_y)
        ``symmetric=True``: binary blocks like ``X``. ``symmetric=False``: any discrete
        values (each distinct row is one state).
    symmetric : bool, default=True
        Coarse-grain ``y`` with the same function.
    units : {"nats", "bits"}, default="nats"
        Units of the returned MI values.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``mi`` : ndarray of shape (2**(2**d),) -- MI of every function, in ``units``;
        function ``k`` has truth table ``(k >> a) & 1`` for input state ``a``; the two
        constant functions (``k = 0`` and the last) score 0.
        ``states`` : ndarray (2**d, d) -- input state ``a`` as spins (0/1), the first
        feature the most significant bit.
        ``best_index`` : int -- the best non-constant function, the one of a
        complementary pair ``f``, ``1 - f`` (equal MI) with ``f(0...0) = 0``.
        ``best_truth_table`` : ndarray (2**d,) of 0/1.
        ``best_mi`` : float, in ``units``.
        ``best_truth_tables`` : ndarray (k, 2**d) -- every function within 1e-12 nats
        of the best (complements included).

    Raises
    ------
    ValueError
        If ``X`` is not binary or has more than four features, if ``symmetric=True``
        and ``y`` is not a binary block of the same size, or on bad shapes/NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi import exhaustive_binary_coarse_graining
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 2, size=(500, 2))
    >>> Y = X.copy()
    >>> Y[:, 1] = rng.integers(0, 2, size=500)  # only the first spin is shared
    >>> res = exhaustive_binary_coarse_graining(X, Y)
    >>> res.best_truth_table.tolist()  # f(x) = x_0 over states 00, 01, 10, 11
    [0, 0, 1, 1]
    >>> round(res.best_mi, 2)  # ln 2 nats, less the sample's slight imbalance
    0.69
    """
    check_units(units)
    X, Y = validate_pair(_ExhaustiveSearch(), X, y, dtype="numeric", min_samples=2)
    d = X.shape[1]
    if d > 4:
        raise ValueError(
            f"exhaustive search covers blocks of at most 4 binary variables "
            f"(2**16 functions); X has {d} features."
        )
    Xb = _binary_01(X, "exhaustive_binary_coarse_graining")
    n_states = 2**d
    weights = 1 << np.arange(d - 1, -1, -1)
    a = Xb.astype(np.int64) @ weights
    if symmetric:
        if Y.shape[1] != d:
            raise ValueError(
                f"symmetric=True coarse-grains y with the same function, so y must "
                f"have X's {d} features; got {Y.shape[1]}."
            )
        b = (
            _binary_01(Y, "exhaustive_binary_coarse_graining (y)").astype(np.int64)
            @ weights
        )
        n_y = n_states
    else:
        b, n_y = encode_rows(Y)
    C = np.zeros((n_states, n_y))
    np.add.at(C, (a, b), 1.0)
    n = C.sum()

    n_funcs = 2**n_states
    mi = np.empty(n_funcs)
    chunk = max(1, min(n_funcs, 2**22 // max(n_y, n_states)))
    bits = np.arange(n_states)
    row_x = C.sum(axis=1)
    for start in range(0, n_funcs, chunk):
        k = np.arange(start, min(start + chunk, n_funcs))
        F = ((k[:, None] >> bits) & 1).astype(np.float64)
        n1x = F @ row_x  # f(X) = 1
        if symmetric:
            n11 = ((F @ C) * F).sum(axis=1)
            n1y = F @ C.sum(axis=0)  # f(Y) = 1
            table = np.stack(
                [n11, n1x - n11, n1y - n11, n - n1x - n1y + n11], axis=1
            ).reshape(-1, 2, 2)
        else:
            joint1 = F @ C  # (f(X) = 1, y state)
            table = np.stack([joint1, C.sum(axis=0)[None, :] - joint1], axis=1)
        mi[start : start + k.size] = mi_from_contingency(table)
    mi[0] = mi[-1] = 0.0
    candidates = mi.copy()
    candidates[0] = candidates[-1] = -np.inf
    best_val = candidates.max()
    ties = np.flatnonzero(candidates >= best_val - 1e-12)
    canonical = ties[(ties & 1) == 0]  # f(state 0) = 0
    best_index = int(canonical[0] if canonical.size else ties[0])
    states = ((np.arange(n_states)[:, None] >> np.arange(d - 1, -1, -1)) & 1).astype(
        np.int8
    )
    tables = ((ties[:, None] >> bits) & 1).astype(np.int8)
    return Bunch(
        mi=to_units(mi, units),
        states=states,
        best_index=best_index,
        best_truth_table=((best_index >> bits) & 1).astype(np.int8),
        best_mi=float(to_units(best_val, units)),
        best_truth_tables=tables,
    )


class _ExhaustiveSearch(BaseEstimator):
    """Stand-in estimator so the shared validator can name the function in errors."""

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        return "exhaustive_binary_coarse_graining"
