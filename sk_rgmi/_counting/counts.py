"""Joint counts: the observed cells of a contingency table as sparse triplets.

Memory ``O(N + #observed cells)``: a bincount while the code range is at most
``max(4 N, 2**20)``, a sort otherwise.
"""

from __future__ import annotations

import numpy as np

from .encoding import INT64_SAFE, compact, dense_limit

__all__ = ["count_raw_pairs", "joint_counts"]


def joint_counts(
    codes_x: np.ndarray,
    codes_y: np.ndarray,
    n_x: int | None = None,
    n_y: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed cells of the contingency table of two code arrays (sparse triplets).

    Parameters
    ----------
    codes_x, codes_y : ndarray of shape (n_samples,)
        Non-negative integer codes, e.g. from :func:`~sk_rgmi._counting.encode_rows`.
    n_x, n_y : int, optional
        Code ranges (``max + 1`` if omitted).

    Returns
    -------
    cell_x, cell_y, counts : ndarray of shape (n_cells,)
        The occupied cells in increasing order of ``cell_x * n_y + cell_y`` and their
        counts (int64). Time ``O(N + n_x n_y)`` while ``n_x n_y <= max(4 N, 2**20)``,
        else ``O(N log N)``; memory ``O(N + n_cells)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi._counting import joint_counts
    >>> joint_counts(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 0]))
    (array([0, 1, 1]), array([0, 0, 1]), array([2, 1, 1]))
    """
    codes_x = np.asarray(codes_x, dtype=np.int64)
    codes_y = np.asarray(codes_y, dtype=np.int64)
    if codes_x.shape != codes_y.shape or codes_x.ndim != 1:
        raise ValueError("codes_x and codes_y must be 1-D arrays of the same length.")
    n_x = int(codes_x.max()) + 1 if n_x is None else int(n_x)
    n_y = int(codes_y.max()) + 1 if n_y is None else int(n_y)
    joint = codes_x * n_y + codes_y
    if n_x * n_y <= dense_limit(joint.size):
        table = np.bincount(joint, minlength=n_x * n_y)
        cells = np.flatnonzero(table)
        counts = table[cells]
    else:
        cells, counts = np.unique(joint, return_counts=True)
    return cells // n_y, cells % n_y, counts.astype(np.int64, copy=False)


def count_raw_pairs(
    raw_x: np.ndarray, radix_x: int, raw_y: np.ndarray, radix_y: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Joint counts of raw codes (``RowEncoder.fit_raw``), compacted afterwards.

    Counting happens on the raw codes; the state numbering is then derived from the
    observed cells, so the only per-sample passes are the joint code and one
    bincount (or sort).

    Returns
    -------
    states_x, states_y : ndarray
        Sorted distinct raw codes of each side (for ``RowEncoder.set_states``).
    cell_x, cell_y, counts : ndarray of shape (n_cells,)
        Occupied cells in dense state numbers, sorted by ``(cell_x, cell_y)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi._counting import RowEncoder, count_raw_pairs
    >>> ex, ey = RowEncoder(), RowEncoder()
    >>> raw_x, rx = ex.fit_raw(np.array([[0, 1], [1, 1], [0, 1]]))
    >>> raw_y, ry = ey.fit_raw(np.array([7, 8, 7]))
    >>> sx, sy, ix, iy, c = count_raw_pairs(raw_x, rx, raw_y, ry)
    >>> ex.set_states(sx).n_states_, ix, iy, c
    (2, array([0, 1]), array([0, 1]), array([2, 1]))
    """
    pre_x = pre_y = None
    if radix_x * radix_y >= INT64_SAFE:
        raw_x, pre_x = compact(raw_x, radix_x)
        raw_y, pre_y = compact(raw_y, radix_y)
        radix_x, radix_y = len(pre_x), len(pre_y)
    rx, ry, counts = joint_counts(raw_x, raw_y, radix_x, radix_y)
    states_x = np.unique(rx)
    states_y = np.unique(ry)
    ix = np.searchsorted(states_x, rx)
    iy = np.searchsorted(states_y, ry)
    if pre_x is not None:
        states_x, states_y = pre_x[states_x], pre_y[states_y]
    return states_x, states_y, ix, iy, counts
