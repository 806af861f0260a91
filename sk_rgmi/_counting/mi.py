"""Mutual information of contingency tables, code arrays and sparse cells.

MI is always ``H(X) + H(Y) - H(X, Y)`` of the corrected entropies (see
:mod:`sk_rgmi._counting.entropy`; the jackknife is linear, so this equals the
jackknife of the plug-in MI), with the exact leave-one-out jackknife standard error.
All values are in nats.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy import sparse
from scipy.special import xlogy

from .counts import joint_counts
from .entropy import check_correction, entropy_delta

__all__ = [
    "MIStatistics",
    "mi_from_codes",
    "mi_from_contingency",
    "mi_statistics_from_cells",
]


class MIStatistics(NamedTuple):
    """Everything :func:`mi_statistics_from_cells` measures (entropies, MI in nats).

    Examples
    --------
    >>> from sk_rgmi._counting import mi_statistics_from_cells
    >>> mi_statistics_from_cells([0, 1], [0, 1], [5, 5]).n_states_xy
    2
    """

    mi: float
    mi_plugin: float
    entropy_x: float
    entropy_y: float
    entropy_xy: float
    mi_std: float
    n_samples: int
    n_states_x: int
    n_states_y: int
    n_states_xy: int


def _mi_core(
    c: np.ndarray,
    nx_c: np.ndarray,
    ny_c: np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    correction: str,
    with_std: bool,
) -> tuple[Any, ...]:
    """MI from cells (last axis): cell counts and their marginal counts.

    ``c``, ``nx_c``, ``ny_c`` have the cells on the last axis (zeros allowed);
    ``cx``, ``cy`` are the marginal histograms. Returns
    ``(mi, mi_plugin, hx, hy, hxy, mi_std)`` (``mi_std`` is None unless requested).
    """
    n = c.sum(-1)
    occupied = c > 0
    safe = np.where(occupied, 1.0, 0.0)
    ratio = np.where(
        occupied, c * n[..., None] / np.where(occupied, nx_c * ny_c, 1.0), 1.0
    )
    mi_plugin = np.maximum((c * np.log(ratio) * safe).sum(-1) / n, 0.0)
    sx = xlogy(cx, cx).sum(-1)
    sy = xlogy(cy, cy).sum(-1)
    sxy = xlogy(c, c).sum(-1)
    hx = np.log(n) - sx / n
    hy = np.log(n) - sy / n
    hxy = np.log(n) - sxy / n
    dx = entropy_delta(cx, n, correction)
    dy = entropy_delta(cy, n, correction)
    dxy = entropy_delta(c, n, correction)
    mi = mi_plugin + dx + dy - dxy
    std = None
    if with_std:
        # Leave-one-out MI for a sample in cell (i, j) of count c: the cell and its
        # two marginal bins each lose one count; N -> N - 1.
        def f(v: np.ndarray) -> np.ndarray:
            return xlogy(v, v)

        cc = np.where(occupied, c, 1.0)
        ax = np.where(occupied, nx_c, 1.0)
        ay = np.where(occupied, ny_c, 1.0)
        m = (n - 1)[..., None]
        i_loo = (
            np.log(m)
            - (sx[..., None] - f(ax) + f(ax - 1)) / m
            - (sy[..., None] - f(ay) + f(ay - 1)) / m
            + (sxy[..., None] - f(cc) + f(cc - 1)) / m
        )
        mean = np.where(occupied, c * i_loo, 0.0).sum(-1) / n
        dev = np.where(occupied, i_loo - mean[..., None], 0.0)
        var = (n - 1) / n * (c * dev**2).sum(-1)
        std = np.sqrt(np.maximum(var, 0.0))
    return mi, mi_plugin, hx + dx, hy + dy, hxy + dxy, std


def mi_from_contingency(
    counts: Any, *, correction: str = "none", return_std: bool = False
) -> Any:
    """Mutual information (nats) of a contingency table.

    Parameters
    ----------
    counts : array-like of shape (..., K_x, K_y) or scipy sparse matrix
        Counts ``n_ij``; zeros allowed. Leading axes of a dense array are a batch
        (e.g. 2**16 coarse-grainings scored at once): one MI per table.
    correction : {"none", "miller-madow", "jackknife", "chao-shen", "grassberger"}
        Bias correction of the three entropies, ``I = H(X) + H(Y) - H(X, Y)``.
    return_std : bool
        Also return the jackknife standard error of the MI.

    Returns
    -------
    mi : float or ndarray
        MI in nats (the plug-in value is clipped at 0; corrected values may be
        negative).
    std : float or ndarray
        Jackknife standard error in nats (only if ``return_std``).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi._counting import mi_from_contingency
    >>> round(mi_from_contingency([[50, 0], [0, 50]]), 6)  # ln 2
    0.693147
    >>> mi_from_contingency(np.ones((3, 2, 2))).round(6)  # a batch of three tables
    array([0., 0., 0.])
    """
    check_correction(correction)
    if sparse.issparse(counts):
        coo = sparse.coo_array(counts)
        coo.sum_duplicates()
        cx = np.asarray(coo.sum(axis=1)).ravel().astype(np.float64)
        cy = np.asarray(coo.sum(axis=0)).ravel().astype(np.float64)
        c = coo.data.astype(np.float64)
        out = _mi_core(c, cx[coo.row], cy[coo.col], cx, cy, correction, return_std)
    else:
        t = np.asarray(counts, dtype=np.float64)
        if t.ndim < 2:
            raise ValueError("counts must have at least 2 dimensions (K_x, K_y).")
        cx = t.sum(-1)
        cy = t.sum(-2)
        shape = (*t.shape[:-2], t.shape[-2] * t.shape[-1])
        nx_c = np.broadcast_to(cx[..., :, None], t.shape).reshape(shape)
        ny_c = np.broadcast_to(cy[..., None, :], t.shape).reshape(shape)
        out = _mi_core(t.reshape(shape), nx_c, ny_c, cx, cy, correction, return_std)
    mi = out[0] if np.ndim(out[0]) else float(out[0])
    if not return_std:
        return mi
    std = out[5] if np.ndim(out[5]) else float(out[5])
    return mi, std


def mi_statistics_from_cells(
    cell_x: np.ndarray,
    cell_y: np.ndarray,
    counts: np.ndarray,
    *,
    correction: str = "none",
) -> MIStatistics:
    """MI, entropies, state numbers and jackknife error from occupied cells.

    Takes the sparse triplets of :func:`~sk_rgmi._counting.joint_counts`; for two
    code arrays ``x``, ``y`` call it as
    ``mi_statistics_from_cells(*joint_counts(x, y))``.

    Parameters
    ----------
    cell_x, cell_y : ndarray of shape (n_cells,)
        Non-negative integer codes of the occupied cells (each cell once).
    counts : ndarray of shape (n_cells,)
        Positive counts of the cells; N >= 2 in total.
    correction : {"none", "miller-madow", "jackknife", "chao-shen", "grassberger"}
        Bias correction applied to ``mi`` and the three entropies.

    Returns
    -------
    MIStatistics
        Named tuple; entropies and MI in nats, ``mi_std`` the jackknife standard
        error of the MI.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi._counting import joint_counts, mi_statistics_from_cells
    >>> s = mi_statistics_from_cells([0, 1], [0, 1], [5, 5])
    >>> round(s.mi, 6), s.n_samples
    (0.693147, 10)
    >>> s = mi_statistics_from_cells(*joint_counts(np.array([0, 0, 1]), np.ones(3)))
    >>> s.n_states_x, s.n_states_y, s.mi
    (2, 1, 0.0)
    """
    check_correction(correction)
    ix = np.asarray(cell_x, dtype=np.int64)
    iy = np.asarray(cell_y, dtype=np.int64)
    c = np.asarray(counts)
    cx = np.bincount(ix, weights=c)
    cy = np.bincount(iy, weights=c)
    cf = c.astype(np.float64)
    mi, plug, hx, hy, hxy, std = _mi_core(
        cf, cx[ix], cy[iy], cx[cx > 0], cy[cy > 0], correction, True
    )
    return MIStatistics(
        mi=float(mi),
        mi_plugin=float(plug),
        entropy_x=float(hx),
        entropy_y=float(hy),
        entropy_xy=float(hxy),
        mi_std=float(std),
        n_samples=int(c.sum()),
        n_states_x=int(np.count_nonzero(cx)),
        n_states_y=int(np.count_nonzero(cy)),
        n_states_xy=len(c),
    )


def mi_from_codes(
    codes_x: Any,
    codes_y: Any,
    *,
    correction: str = "none",
    n_x: int | None = None,
    n_y: int | None = None,
) -> float:
    """Mutual information (nats) of two integer code arrays.

    The fast path for callers that already hold codes (e.g. from
    :func:`~sk_rgmi._counting.encode_rows`): one sparse count, ``O(N + #cells)``.

    Parameters
    ----------
    codes_x, codes_y : ndarray of shape (n_samples,)
        Non-negative integer codes.
    correction : {"none", "miller-madow", "jackknife", "chao-shen", "grassberger"}
        Bias correction.
    n_x, n_y : int, optional
        Code ranges (``max + 1`` if omitted).

    Returns
    -------
    float
        MI in nats.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi._counting import mi_from_codes
    >>> round(mi_from_codes(np.array([0, 1, 0, 1]), np.array([1, 0, 1, 0])), 6)
    0.693147
    """
    check_correction(correction)
    ix, iy, c = joint_counts(codes_x, codes_y, n_x, n_y)
    cx = np.bincount(ix, weights=c)
    cy = np.bincount(iy, weights=c)
    out = _mi_core(c.astype(np.float64), cx[ix], cy[iy], cx, cy, correction, False)
    return float(out[0])
