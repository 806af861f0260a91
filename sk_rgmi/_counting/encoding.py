"""Row encoding: each row of a 2-D array (one joint state) to an integer code.

Integer-valued data (ints, bools, 0./1. floats) take a one-pass mixed-radix fast path
(a matrix-vector product per block of rows) while the code range stays below int64;
other data -- and integer data whose code range would overflow, e.g. hundreds of
binned columns -- are encoded column by column with ``np.unique`` and combined,
compacting to the observed states whenever the radix would overflow int64. No Python
loop over rows.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np

__all__ = ["RowEncoder", "as_integral", "compact", "encode_rows"]

# A dense bincount over a code range is used while the range stays below
# max(_DENSE_FACTOR * N, _DENSE_MIN): O(N + range) time and memory, else a sort.
_DENSE_FACTOR = 4
_DENSE_MIN = 1 << 20
# Codes and code products stay below this bound (no int64 overflow).
INT64_SAFE = 1 << 62


def dense_limit(n: int) -> int:
    """Largest code range counted with a dense bincount for ``n`` codes."""
    return max(_DENSE_FACTOR * n, _DENSE_MIN)


def _power_below(radix: int, d: int, limit: int) -> bool:
    """Whether ``radix ** d < limit`` (radix >= 1), without forming a huge power."""
    if d * math.log2(radix) > math.log2(limit) + 1:
        return False
    return radix**d < limit


def as_integral(col: np.ndarray) -> np.ndarray | None:
    """Return ``col`` as int64 when it holds integers only (ints, bools, 0./1.).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi._counting import as_integral
    >>> as_integral(np.array([0.0, 1.0])), as_integral(np.array([0.5]))
    (array([0, 1]), None)
    """
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
    ints = as_integral(col) if kind == "num" else None
    if ints is not None and ints.size:
        lo = int(ints.min())
        span = int(ints.max()) - lo + 1
        if span <= dense_limit(ints.size):
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


def compact(codes: np.ndarray, radix: int) -> tuple[np.ndarray, np.ndarray]:
    """Map codes in ``[0, radix)`` to ``0 .. K-1``; return codes, sorted uniques.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi._counting.encoding import compact
    >>> compact(np.array([7, 3, 7]), 10)
    (array([1, 0, 1]), array([3, 7]))
    """
    if radix <= dense_limit(codes.size):
        present = np.bincount(codes, minlength=radix) > 0
        lookup = np.cumsum(present) - 1
        return lookup[codes], np.flatnonzero(present)
    uniq, inv = np.unique(codes, return_inverse=True)
    return inv.reshape(-1).astype(np.int64, copy=False), uniq


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
    the radix would overflow, so any number of columns is encoded without int64
    overflow. No Python loop over rows.

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

    def fit_raw(self, A: Any) -> tuple[np.ndarray, int]:
        """Raw codes of the rows of ``A``: equal rows <=> equal codes in ``[0, radix)``.

        Call :meth:`set_states` with the sorted distinct raw codes (or use
        :meth:`fit_transform`) before :meth:`transform`.
        """
        A = _as_2d(A)
        fast = self.fit_raw_integral(A)
        if fast is not None:
            return fast
        self._span = None
        return self._fit_raw_columns(A)

    def fit_raw_integral(self, A: Any) -> tuple[np.ndarray, int] | None:
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
        if A.dtype.kind in "iub":
            return self._codes_for_range(A, int(A.min()), int(A.max()))
        rows = max(1, (1 << 15) // d)
        codes = np.empty(n, dtype=np.int64)
        first = A[:rows]
        lo, hi = float(first.min()), float(first.max())
        g_lo, g_hi = lo, hi
        radix = hi - lo + 1
        mult = None
        if abs(lo) < 2.0**52 and abs(hi) < 2.0**52 and _power_below(radix, d, 2**53):
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
        if not _power_below(radix, d, INT64_SAFE):
            return None
        total = radix**d
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
            if radix * k >= INT64_SAFE:
                codes, uniq = compact(codes, radix)
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
        codes, states = compact(raw, radix)
        self.set_states(states)
        return codes

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
