"""Counting primitives for discrete (count-based) entropy and mutual information.

Pure numpy/scipy, no scikit-learn: :class:`~sk_rgmi.PluginMIEstimator` and the
exhaustive coarse-graining search both build on these functions.

* :class:`RowEncoder` / :func:`encode_rows` turn each row of a 2-D array (one joint
  state, e.g. a block configuration) into an integer code. Integer-valued data (ints,
  bools, 0./1. floats) take a one-pass mixed-radix fast path (a matrix-vector
  product per block of rows); other data are encoded column by column with
  ``np.unique`` and combined, compacting whenever the radix would overflow int64.
  No Python loop over rows.
* :func:`joint_counts` returns the observed cells of the contingency table as sparse
  triplets ``(cell_x, cell_y, count)`` (a bincount while the code range is at most
  ``max(4 N, 2**20)``, a sort otherwise): memory ``O(N + #observed cells)``.
  :func:`count_raw_pairs` counts raw encoder codes and numbers the states from the
  observed cells afterwards (what :class:`~sk_rgmi.PluginMIEstimator` does).
* :func:`entropy_from_counts`, :func:`mi_from_contingency` (dense tables batched
  over leading axes, or scipy sparse), :func:`mi_from_codes`, :func:`mi_statistics`
  and :func:`mi_statistics_from_cells` compute entropies and MI with a bias
  correction:

  ``"none"``
      plug-in (maximum-likelihood) estimate.
  ``"miller-madow"``
      ``H + (K - 1) / (2 N)`` with ``K`` the number of occupied bins.
  ``"jackknife"``
      exact leave-one-out jackknife ``N H - (N - 1) mean(H_{-k})``; removing a sample
      from a bin of count ``c`` changes only that bin, so the ``N`` leave-one-out values
      are computed per bin, in ``O(#bins)``.
  ``"chao-shen"``
      coverage-adjusted Horvitz-Thompson estimator (Chao & Shen 2003).
  ``"grassberger"``
      ``log N - (1/N) sum n G(n)`` with
      ``G(n) = psi(n) + (-1)^n (psi((n+1)/2) - psi(n/2)) / 2`` (Grassberger 2003).

  MI is always ``H(X) + H(Y) - H(X, Y)`` of the corrected entropies (the jackknife is
  linear, so this equals the jackknife of the plug-in MI).

All values are in nats.
"""

from __future__ import annotations

import contextlib
from typing import Any, NamedTuple

import numpy as np
from scipy import sparse
from scipy.special import digamma, xlogy

__all__ = [
    "CORRECTIONS",
    "MIStatistics",
    "RowEncoder",
    "count_raw_pairs",
    "encode_rows",
    "entropy_from_counts",
    "is_integral",
    "joint_counts",
    "mi_from_codes",
    "mi_from_contingency",
    "mi_statistics",
    "mi_statistics_from_cells",
]

CORRECTIONS = ("none", "miller-madow", "jackknife", "chao-shen", "grassberger")

# A dense bincount over a code range is used while the range stays below
# max(_DENSE_FACTOR * N, _DENSE_MIN): O(N + range) time and memory, else a sort.
_DENSE_FACTOR = 4
_DENSE_MIN = 1 << 20
_INT64_SAFE = 1 << 62


def _check_correction(correction: str) -> str:
    if correction not in CORRECTIONS:
        raise ValueError(
            f"correction must be one of {CORRECTIONS}, got {correction!r}."
        )
    return correction


# ---------------------------------------------------------------------------
# Encoding rows to integer codes
# ---------------------------------------------------------------------------


def _dense_limit(n: int) -> int:
    return max(_DENSE_FACTOR * n, _DENSE_MIN)


def _as_integral(col: np.ndarray) -> np.ndarray | None:
    """Return ``col`` as int64 when it holds integers only (ints, bools, 0./1.)."""
    if col.dtype.kind in "iub":
        return col.astype(np.int64, copy=False)
    if col.dtype.kind == "f":
        if col.size and (np.abs(col).max() >= 2.0**53):
            return None
        as_int = col.astype(np.int64)
        if np.array_equal(as_int, col):
            return as_int
    return None


def _prepare_column(col: np.ndarray) -> tuple[np.ndarray, str]:
    """Return a sortable view of ``col`` and its kind (``"num"`` or ``"str"``).

    Object columns are converted to float when every entry is a number and to
    ``str`` otherwise (so unorderable objects still get a well-defined state).
    """
    if col.dtype.kind in "iubf":
        return col, "num"
    if col.dtype.kind == "O":
        try:
            return col.astype(np.float64), "num"
        except (TypeError, ValueError):
            return col.astype(str), "str"
    return col.astype(str), "str"


def _encode_column(col: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Dense codes ``0 .. K-1`` of one column, its sorted levels and its kind."""
    col, kind = _prepare_column(col)
    ints = _as_integral(col) if kind == "num" else None
    if ints is not None and ints.size:
        lo = int(ints.min())
        span = int(ints.max()) - lo + 1
        if span <= _dense_limit(ints.size):
            shifted = ints - lo
            present = np.bincount(shifted, minlength=span) > 0
            lookup = np.cumsum(present) - 1
            levels = (np.flatnonzero(present) + lo).astype(col.dtype)
            return lookup[shifted], levels, kind
    levels, codes = np.unique(col, return_inverse=True)
    return codes.reshape(-1).astype(np.int64, copy=False), levels, kind


def _lookup_column(col: np.ndarray, levels: np.ndarray, kind: str) -> np.ndarray:
    """Codes of ``col`` in the fitted ``levels``; ``-1`` for unseen values."""
    if kind == "str":
        col = col.astype(str)
    else:
        try:
            col = col.astype(np.float64) if col.dtype.kind in "OUS" else col
        except (TypeError, ValueError):
            return np.full(col.shape[0], -1, dtype=np.int64)
    idx = np.searchsorted(levels, col)
    idx = np.minimum(idx, len(levels) - 1)
    return np.where(levels[idx] == col, idx, -1).astype(np.int64)


def _compact(codes: np.ndarray, radix: int) -> tuple[np.ndarray, np.ndarray]:
    """Map codes in ``[0, radix)`` to ``0 .. K-1``; return codes, sorted uniques."""
    if radix <= _dense_limit(codes.size):
        present = np.bincount(codes, minlength=radix) > 0
        lookup = np.cumsum(present) - 1
        return lookup[codes], np.flatnonzero(present)
    uniq, inv = np.unique(codes, return_inverse=True)
    return inv.reshape(-1).astype(np.int64, copy=False), uniq


def _integral_range(A: np.ndarray) -> tuple[int, int] | None:
    """``(min, max)`` of ``A`` if every entry is an integer below 2**53, else None.

    Ints and bools qualify directly; floats (e.g. 0./1. spins) are tested in
    cache-sized chunks, without an integer copy of the array.
    """
    if A.dtype.kind not in "iubf" or A.size == 0:
        return None
    if A.dtype.kind in "iub":
        return int(A.min()), int(A.max())
    # one pass over memory: range and integrality per cache-sized chunk
    flat = A.reshape(-1)
    step = 1 << 15
    lo, hi = np.inf, -np.inf
    for start in range(0, flat.size, step):  # chunks of the data, not rows
        chunk = flat[start : start + step]
        if not (np.trunc(chunk) == chunk).all():
            return None
        lo, hi = min(lo, chunk.min()), max(hi, chunk.max())
    if not (lo > -(2.0**53) and hi < 2.0**53):
        return None
    return int(lo), int(hi)


def is_integral(A: Any) -> bool:
    """Whether every entry of ``A`` is an integer of magnitude below 2**53.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi._counting import is_integral
    >>> is_integral(np.array([[0.0, 1.0]])), is_integral(np.array([0.5]))
    (True, False)
    """
    return _integral_range(np.asarray(A)) is not None


class RowEncoder:
    """Encode each row of a 2-D array (one joint state) as an integer code.

    ``fit_transform`` returns dense codes ``0 .. n_states_-1`` numbered in
    lexicographic order of the rows; ``transform`` maps new rows onto the fitted
    codes and returns ``-1`` for rows (or values) never seen in ``fit``. Values may
    be ints, bools, floats or strings; object columns holding only numbers are
    compared as floats, any other object column by ``str``.

    Integer-valued data (ints, bools, 0./1. floats) whose global range ``R`` gives
    ``R**n_columns < 2**62`` take a fast path: one mixed-radix code per row
    ``sum_j (a_j - min) R**(d-1-j)`` (a single matrix-vector product). Other data
    are encoded column by column (``np.unique``) and combined, compacting whenever
    the radix would overflow. No Python loop over rows.

    ``fit_raw`` + ``set_states`` split ``fit_transform`` for callers that count
    first (e.g. a joint table) and compact afterwards, over the observed states
    only.

    Attributes
    ----------
    n_states_ : int
        Number of distinct rows seen in ``fit``.
    n_columns_ : int
        Number of columns seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi._counting import RowEncoder
    >>> enc = RowEncoder()
    >>> enc.fit_transform(np.array([[0, 1], [1, 1], [0, 1]]))
    array([0, 1, 0])
    >>> enc.transform(np.array([[1, 1], [1, 0]]))
    array([ 1, -1])
    """

    def fit_raw(
        self, A: Any, *, integral_range: tuple[int, int] | None = None
    ) -> tuple[np.ndarray, int]:
        """Raw codes of the rows of ``A``: equal rows <=> equal codes in ``[0, radix)``.

        Call :meth:`set_states` with the sorted distinct raw codes (or use
        :meth:`fit_transform`) before :meth:`transform`. ``integral_range`` passes
        an already verified ``(min, max)`` of integer-valued ``A`` (skips the test).
        """
        A = _as_2d(A)
        fast = self.fit_raw_integral(A, integral_range=integral_range)
        if fast is not None:
            return fast
        self._span = None
        return self._fit_raw_columns(A)

    def fit_raw_integral(
        self, A: Any, *, integral_range: tuple[int, int] | None = None
    ) -> tuple[np.ndarray, int] | None:
        """:meth:`fit_raw` for integer-valued ``A``; None (nothing learned) otherwise.

        The fast path: ints, bools and integer-valued floats (0./1. spins) whose
        global range ``R`` gives ``R**n_columns < 2**62``. Floats are read once, in
        cache-sized blocks of rows: each block is tested for integrality, its range
        taken and its codes computed with the range of the first block; only if a
        later block widens the range is a second pass made.
        """
        A = _as_2d(A)
        if A.dtype.kind == "O":
            with contextlib.suppress(TypeError, ValueError):
                A = A.astype(np.float64)
        self.n_columns_ = A.shape[1]
        n, d = A.shape
        if A.dtype.kind not in "iubf" or A.size == 0:
            return None
        if A.dtype.kind in "iub" or integral_range is not None:
            lo, hi = integral_range or (int(A.min()), int(A.max()))
            return self._codes_for_range(A, lo, hi)
        rows = max(1, (1 << 15) // d)
        codes = np.empty(n, dtype=np.int64)
        first = A[:rows]
        lo, hi = float(first.min()), float(first.max())
        g_lo, g_hi = lo, hi
        radix = hi - lo + 1
        mult = None
        if abs(lo) < 2.0**52 and abs(hi) < 2.0**52 and radix**d < 2.0**53:
            mult = (radix ** np.arange(d - 1, -1, -1)).astype(np.float64)
            offset = lo * mult.sum()
        redo = mult is None
        for start in range(0, n, rows):
            block = A[start : start + rows]
            if not (np.trunc(block) == block).all():
                return None
            b_lo, b_hi = block.min(), block.max()
            g_lo, g_hi = min(g_lo, b_lo), max(g_hi, b_hi)
            if redo or b_lo < lo or b_hi > hi:
                redo = True
                continue
            codes[start : start + rows] = block @ mult - offset
        if not (g_lo > -(2.0**53) and g_hi < 2.0**53):
            return None
        if redo:
            return self._codes_for_range(A, int(g_lo), int(g_hi))
        total = int(radix) ** d
        self._span = (int(lo), int(radix), mult.astype(np.int64))
        return codes, total

    def _codes_for_range(
        self, A: np.ndarray, lo: int, hi: int
    ) -> tuple[np.ndarray, int] | None:
        """Mixed-radix codes of integer-valued ``A`` with values in ``[lo, hi]``."""
        d = A.shape[1]
        radix = hi - lo + 1
        total = radix**d
        if total >= _INT64_SAFE:
            return None
        mult = radix ** np.arange(d - 1, -1, -1, dtype=np.int64)
        offset = lo * int(mult.sum())
        if A.dtype.kind == "f" and total < 2**53:
            # exact in float64: one BLAS pass, no integer copy of A
            codes = (A @ mult.astype(np.float64)).astype(np.int64)
        else:
            codes = A.astype(np.int64, copy=False) @ mult
        if offset:
            codes -= offset
        self._span = (lo, radix, mult)
        return codes, total

    def _fit_raw_columns(self, A: np.ndarray) -> tuple[np.ndarray, int]:
        self._levels: list[np.ndarray] = []
        self._kinds: list[str] = []
        self._steps: list[tuple[str, Any]] = []
        codes = np.zeros(A.shape[0], dtype=np.int64)
        radix = 1
        for j in range(A.shape[1]):
            cj, levels, kind = _encode_column(A[:, j])
            self._levels.append(levels)
            self._kinds.append(kind)
            k = max(len(levels), 1)
            if radix * k >= _INT64_SAFE:
                codes, uniq = _compact(codes, radix)
                self._steps.append(("compact", uniq))
                radix = len(uniq)
            codes = codes * k + cj
            radix *= k
            self._steps.append(("combine", (j, k)))
        return codes, radix

    def set_states(self, states: np.ndarray) -> RowEncoder:
        """Record the sorted distinct raw codes seen in fit (the state numbering)."""
        self._states = np.asarray(states, dtype=np.int64)
        self.n_states_ = len(self._states)
        return self

    def fit_transform(self, A: Any) -> np.ndarray:
        """Learn the states of the rows of ``A`` and return their dense codes."""
        raw, radix = self.fit_raw(A)
        codes, states = _compact(raw, radix)
        self.set_states(states)
        return codes

    def fit(self, A: Any) -> RowEncoder:
        """Learn the states of the rows of ``A``."""
        self.fit_transform(A)
        return self

    def transform(self, A: Any) -> np.ndarray:
        """Dense codes of the rows of ``A``; ``-1`` marks a row unseen in fit."""
        A = _as_2d(A)
        if A.shape[1] != self.n_columns_:
            raise ValueError(
                f"A has {A.shape[1]} columns, but the encoder was fitted on "
                f"{self.n_columns_}."
            )
        raw, ok = self._transform_raw(A)
        codes, found = _lookup_sorted(self._states, raw)
        return np.where(ok & found, codes, -1)

    def _transform_raw(self, A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw codes of new rows and a mask of rows whose values were all seen."""
        if self._span is not None:
            lo, radix, mult = self._span
            if A.dtype.kind not in "iubf":
                try:
                    A = A.astype(np.float64)
                except (TypeError, ValueError):
                    n = A.shape[0]
                    return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
            inside = (lo <= A) & (lo + radix > A)
            if A.dtype.kind == "f":
                inside &= np.trunc(A) == A
            ok = inside.all(axis=1)
            A = np.where(ok[:, None], A, lo).astype(np.int64)
            return A @ mult - lo * int(mult.sum()), ok
        n = A.shape[0]
        codes = np.zeros(n, dtype=np.int64)
        ok = np.ones(n, dtype=bool)
        for step, payload in self._steps:
            if step == "combine":
                j, k = payload
                cj = _lookup_column(A[:, j], self._levels[j], self._kinds[j])
                ok &= cj >= 0
                codes = codes * k + np.maximum(cj, 0)
            else:
                codes, found = _lookup_sorted(payload, codes)
                ok &= found
        return codes, ok


def _lookup_sorted(
    uniq: np.ndarray, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``codes`` in the sorted array ``uniq`` and whether found."""
    idx = np.minimum(np.searchsorted(uniq, codes), len(uniq) - 1)
    return idx, uniq[idx] == codes


def _as_2d(A: Any) -> np.ndarray:
    A = np.asarray(A)
    if A.ndim == 1:
        A = A.reshape(-1, 1)
    if A.ndim != 2:
        raise ValueError(f"Expected a 1-D or 2-D array, got {A.ndim}-D.")
    return A


def encode_rows(A: Any) -> tuple[np.ndarray, int]:
    """Dense integer codes of the rows of ``A`` and the number of distinct rows.

    Parameters
    ----------
    A : array-like of shape (n_samples,) or (n_samples, n_columns)
        Each row is one joint state; any dtype (ints, bools, floats, strings).

    Returns
    -------
    codes : ndarray of shape (n_samples,), int64
        ``codes[i] == codes[k]`` iff rows ``i`` and ``k`` are equal.
    n_states : int
        Number of distinct rows; codes lie in ``0 .. n_states - 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi._counting import encode_rows
    >>> encode_rows(np.array([["a", "b"], ["a", "c"], ["a", "b"]]))
    (array([0, 1, 0]), 2)
    """
    enc = RowEncoder()
    codes = enc.fit_transform(A)
    return codes, enc.n_states_


# ---------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------


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
        Non-negative integer codes, e.g. from :func:`encode_rows`.
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
    if n_x * n_y <= _dense_limit(joint.size):
        table = np.bincount(joint, minlength=n_x * n_y)
        cells = np.flatnonzero(table)
        counts = table[cells]
    else:
        cells, counts = np.unique(joint, return_counts=True)
    return cells // n_y, cells % n_y, counts.astype(np.int64, copy=False)


def count_raw_pairs(
    raw_x: np.ndarray, radix_x: int, raw_y: np.ndarray, radix_y: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Joint counts of raw codes (:meth:`RowEncoder.fit_raw`), compacted afterwards.

    Counting happens on the raw codes; the state numbering is then derived from the
    observed cells, so the only per-sample passes are the joint code and one
    bincount (or sort).

    Returns
    -------
    states_x, states_y : ndarray
        Sorted distinct raw codes of each side (for :meth:`RowEncoder.set_states`).
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
    if radix_x * radix_y >= _INT64_SAFE:
        raw_x, pre_x = _compact(raw_x, radix_x)
        raw_y, pre_y = _compact(raw_y, radix_y)
        radix_x, radix_y = len(pre_x), len(pre_y)
    rx, ry, counts = joint_counts(raw_x, raw_y, radix_x, radix_y)
    states_x = np.unique(rx)
    states_y = np.unique(ry)
    ix = np.searchsorted(states_x, rx)
    iy = np.searchsorted(states_y, ry)
    if pre_x is not None:
        states_x, states_y = pre_x[states_x], pre_y[states_y]
    return states_x, states_y, ix, iy, counts


# ---------------------------------------------------------------------------
# Entropy and MI with corrections (batched over leading axes, zeros allowed)
# ---------------------------------------------------------------------------


def _grassberger_g(n: np.ndarray) -> np.ndarray:
    """G(n) of Grassberger (2003) for n >= 1 (entries n == 0 give 0)."""
    n = np.where(n > 0, n, 1.0)
    sign = np.where(np.mod(n, 2) == 0, 1.0, -1.0)
    return digamma(n) + 0.5 * sign * (digamma((n + 1) / 2) - digamma(n / 2))


def _plugin_entropy(counts: np.ndarray, n: np.ndarray) -> np.ndarray:
    return np.log(n) - xlogy(counts, counts).sum(-1) / n


def _entropy_delta(counts: np.ndarray, n: np.ndarray, correction: str) -> np.ndarray:
    """Corrected minus plug-in entropy (nats), counts along the last axis."""
    if correction == "none":
        return np.zeros(np.shape(n))
    occupied = counts > 0
    if correction == "miller-madow":
        return (occupied.sum(-1) - 1) / (2 * n)
    if correction == "jackknife":
        # Leave one out of a bin of count c: only that bin changes, c -> c - 1, so
        # H_jk - H = (N - 1)(H - mean_k H_{-k}) sums over bins. Written to avoid the
        # cancellation of N H - (N - 1) mean H_{-k}:
        #   (N - 1) log1p(1/(N - 1)) + S/N - sum_bins c d(c) / N,
        # with S = sum c log c and d(c) = c log c - (c-1) log(c-1)
        #                             = log c + (c - 1) log1p(1/(c - 1)).
        s = xlogy(counts, counts).sum(-1)
        c = np.where(counts > 1, counts, 2.0)
        d = np.where(counts > 1, np.log(c) + (c - 1) * np.log1p(1 / (c - 1)), 0.0)
        return (n - 1) * np.log1p(1 / (n - 1)) + s / n - (counts * d).sum(-1) / n
    if correction == "chao-shen":
        f1 = (counts == 1).sum(-1)
        f1 = np.where(f1 == n, n - 1, f1)
        coverage = 1 - f1 / n
        pa = coverage[..., None] * counts / n[..., None]
        la = 1 - (1 - pa) ** n[..., None]
        terms = np.where(occupied, -xlogy(pa, pa) / np.where(occupied, la, 1.0), 0.0)
        return terms.sum(-1) - _plugin_entropy(counts, n)
    if correction == "grassberger":
        g = np.where(occupied, counts * _grassberger_g(counts), 0.0).sum(-1)
        return (np.log(n) - g / n) - _plugin_entropy(counts, n)
    raise ValueError(f"correction must be one of {CORRECTIONS}, got {correction!r}.")


def entropy_from_counts(
    counts: Any, *, correction: str = "none", axis: int = -1
) -> float | np.ndarray:
    """Entropy (nats) of a histogram, with an optional bias correction.

    Parameters
    ----------
    counts : array-like of non-negative counts
        Histogram along ``axis``; zeros are allowed (empty bins). Leading axes are a
        batch: one entropy per histogram.
    correction : {"none", "miller-madow", "jackknife", "chao-shen", "grassberger"}
        Bias correction (see the module docstring). ``"jackknife"`` needs N >= 2.
    axis : int
        Axis holding the bins.

    Returns
    -------
    float or ndarray
        Entropy in nats.

    Examples
    --------
    >>> from sk_rgmi._counting import entropy_from_counts
    >>> round(entropy_from_counts([5, 5]), 6)  # ln 2
    0.693147
    >>> round(entropy_from_counts([5, 5], correction="miller-madow"), 6)
    0.743147
    """
    _check_correction(correction)
    c = np.moveaxis(np.asarray(counts, dtype=np.float64), axis, -1)
    n = c.sum(-1)
    h = _plugin_entropy(c, n) + _entropy_delta(c, n, correction)
    return float(h) if np.ndim(h) == 0 else h


class MIStatistics(NamedTuple):
    """Everything :func:`mi_statistics` measures (entropies and MI in nats)."""

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
    dx = _entropy_delta(cx, n, correction)
    dy = _entropy_delta(cy, n, correction)
    dxy = _entropy_delta(c, n, correction)
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
    _check_correction(correction)
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


def mi_statistics(
    codes_x: Any,
    codes_y: Any,
    *,
    correction: str = "none",
    n_x: int | None = None,
    n_y: int | None = None,
) -> MIStatistics:
    """MI, entropies, state numbers and jackknife error of two code arrays.

    Parameters
    ----------
    codes_x, codes_y : ndarray of shape (n_samples,)
        Non-negative integer codes (e.g. :func:`encode_rows`); N >= 2.
    correction : {"none", "miller-madow", "jackknife", "chao-shen", "grassberger"}
        Bias correction applied to ``mi`` and the three entropies.
    n_x, n_y : int, optional
        Code ranges (``max + 1`` if omitted).

    Returns
    -------
    MIStatistics
        Named tuple; entropies and MI in nats, ``mi_std`` the jackknife standard
        error of the MI.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi._counting import mi_statistics
    >>> s = mi_statistics(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]))
    >>> round(s.mi, 6), s.n_states_xy
    (0.693147, 2)
    """
    _check_correction(correction)
    return mi_statistics_from_cells(
        *joint_counts(codes_x, codes_y, n_x, n_y), correction=correction
    )


def mi_statistics_from_cells(
    cell_x: np.ndarray,
    cell_y: np.ndarray,
    counts: np.ndarray,
    *,
    correction: str = "none",
) -> MIStatistics:
    """:func:`mi_statistics` from the sparse triplets of :func:`joint_counts`.

    Parameters
    ----------
    cell_x, cell_y : ndarray of shape (n_cells,)
        Non-negative integer codes of the occupied cells (each cell once).
    counts : ndarray of shape (n_cells,)
        Positive counts of the cells.
    correction : {"none", "miller-madow", "jackknife", "chao-shen", "grassberger"}
        Bias correction.

    Returns
    -------
    MIStatistics
        Entropies and MI in nats.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi._counting import mi_statistics_from_cells
    >>> s = mi_statistics_from_cells([0, 1], [0, 1], [5, 5])
    >>> round(s.mi, 6), s.n_samples
    (0.693147, 10)
    """
    _check_correction(correction)
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
    :func:`encode_rows`): one sparse count, ``O(N + #cells)``.

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
    _check_correction(correction)
    ix, iy, c = joint_counts(codes_x, codes_y, n_x, n_y)
    cx = np.bincount(ix, weights=c)
    cy = np.bincount(iy, weights=c)
    out = _mi_core(c.astype(np.float64), cx[ix], cy[iy], cx, cy, correction, False)
    return float(out[0])
