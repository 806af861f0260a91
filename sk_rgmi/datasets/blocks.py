"""Block-spin coarse-graining and block sampling of lattice configurations.

Everything is vectorised: block-spin uses reshape-and-reduce, the samplers draw all
anchors at once and gather with one fancy-indexing call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import _check_int, _check_lattices, _generator

__all__ = ["block_spin", "sample_block_pairs", "sample_visible_environment"]

_RULES = ("majority", "mean", "decimate")
_TIE_BREAKS = ("random", "up", "down", "first")


def _pair(value: Any, name: str) -> tuple[int, int]:
    if np.ndim(value) == 0:
        value = (value, value)
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r}.")
    return _check_int(value[0], name, minimum=1), _check_int(value[1], name, minimum=1)


def _as_lattices(lattices: Any) -> tuple[np.ndarray, bool]:
    arr = np.asarray(lattices)
    squeeze = arr.ndim == 2
    checked = _check_lattices(arr, allow_2d=True)  # validates values; int8 copy
    del checked
    return (arr[np.newaxis] if squeeze else arr), squeeze


def block_spin(
    lattices: Any,
    factor: int,
    rule: str = "majority",
    tie_break: str = "random",
    random_state: Any = None,
) -> np.ndarray:
    """Coarse-grain spin lattices by ``factor × factor`` blocks.

    Apply repeatedly for hierarchical block-spin RG: the seed's 2187 → 27 data are
    four rounds of 3×3 majority (81 = 3^4), which differs from one 81×81 majority.

    Parameters
    ----------
    lattices : array-like of shape (n, H, W) or (H, W)
        Binary spins, 0/1 or -1/+1; ``H`` and ``W`` divisible by ``factor``.
    factor : int
        Block side (>= 1).
    rule : {"majority", "mean", "decimate"}, default="majority"
        ``"majority"``: the sign of the block's spin sum, returned in the input's
        encoding; ``"mean"``: the block mean as float64 (in [0, 1] for 0/1 input,
        [-1, 1] for ±1); ``"decimate"``: the block's top-left spin.
    tie_break : {"random", "up", "down", "first"}, default="random"
        Majority ties (only possible for even ``factor``, e.g. 2 up and 2 down in a
        2×2 block): ``"random"`` picks up or down with probability 1/2 each
        (unbiased, keeps the up-down symmetry); ``"up"``/``"down"`` a fixed value
        (biases the magnetisation); ``"first"`` the block's top-left spin.
    random_state : int, Generator or None, default=None
        Randomness for ``tie_break="random"``.

    Returns
    -------
    coarse : ndarray of shape (n, H // factor, W // factor)
        (``(H // factor, W // factor)`` for 2-D input); ``int8`` in the input's
        encoding (majority, decimate) or float64 (mean).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.datasets import block_spin
    >>> x = np.array([[1, 1, 0, 0],
    ...               [1, 0, 0, 0],
    ...               [0, 0, 1, 1],
    ...               [0, 1, 1, 1]])
    >>> block_spin(x, 2, tie_break="up")
    array([[1, 0],
           [0, 1]], dtype=int8)
    >>> block_spin(x, 2, rule="mean")
    array([[0.75, 0.  ],
           [0.25, 1.  ]])
    """
    if rule not in _RULES:
        raise ValueError(f"rule must be one of {_RULES}, got {rule!r}.")
    if tie_break not in _TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {_TIE_BREAKS}, got {tie_break!r}.")
    factor = _check_int(factor, "factor", minimum=1)
    arr = np.asarray(lattices)
    squeeze = arr.ndim == 2
    arr = _check_lattices(arr, allow_2d=True)
    n, h, w = arr.shape
    if h % factor or w % factor:
        raise ValueError(
            f"lattice size {h}x{w} is not divisible by the block factor {factor}."
        )
    zero_one = bool(arr.min() >= 0)
    blocks = arr.reshape(n, h // factor, factor, w // factor, factor)
    if rule == "decimate":
        out = blocks[:, :, 0, :, 0].copy()
    else:
        total = blocks.sum(axis=(2, 4), dtype=np.int64)
        m = factor * factor
        if rule == "mean":
            out = total / m
        else:
            # +1 spins count: for 0/1 input it is the sum; for ±1 it is (sum + m)/2
            ups = total if zero_one else (total + m) // 2
            up = 2 * ups > m
            tie = 2 * ups == m
            if tie.any():
                if tie_break == "random":
                    coin = _generator(random_state).random(tie.shape) < 0.5
                    up = np.where(tie, coin, up)
                elif tie_break == "up":
                    up = up | tie
                elif tie_break == "first":
                    first = blocks[:, :, 0, :, 0] > 0
                    up = np.where(tie, first, up)
            down = 0 if zero_one else -1
            out = np.where(up, 1, down).astype(np.int8)
    return out[0] if squeeze else out


def _gather(
    arr: np.ndarray,
    idx: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    dr: np.ndarray,
    dc: np.ndarray,
) -> np.ndarray:
    _, h, w = arr.shape
    return arr[
        idx[:, None],
        (rows[:, None] + dr[None, :]) % h,
        (cols[:, None] + dc[None, :]) % w,
    ]


def sample_block_pairs(
    lattices: Any,
    block_shape: int | tuple[int, int] = (2, 2),
    n_pairs: int = 10000,
    *,
    direction: str = "right",
    gap: int = 0,
    periodic: bool = False,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw pairs of neighbouring blocks ``(X, Y)`` from lattice configurations.

    ``X`` is the ``h × w`` block with top-left corner at a uniformly random position
    of a uniformly random configuration; ``Y`` is the block of the same shape
    ``gap`` sites to its right (``direction="right"``, the seed notebook's geometry)
    or below it (``"down"``). Without ``periodic`` both blocks lie wholly inside the
    lattice; with it, positions wrap around (for periodic configurations).

    Parameters
    ----------
    lattices : array-like of shape (n, H, W) or (H, W)
        Binary spins (0/1 or ±1).
    block_shape : int or (int, int), default=(2, 2)
        Block height and width.
    n_pairs : int, default=10000
        Number of pairs (drawn with replacement).
    direction : {"right", "down"}, default="right"
    gap : int, default=0
        Sites between the two blocks.
    periodic : bool, default=False
        Wrap around the lattice edges.
    random_state : int, Generator or None, default=None

    Returns
    -------
    X, Y : ndarray of shape (n_pairs, h * w)
        The blocks flattened row-major, dtype of the input.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.datasets import sample_block_pairs
    >>> lattice = np.arange(16).reshape(4, 4) % 2
    >>> X, Y = sample_block_pairs(lattice, (2, 2), n_pairs=3, random_state=0)
    >>> X.shape, Y.shape
    ((3, 4), (3, 4))
    """
    if direction not in ("right", "down"):
        raise ValueError(f"direction must be 'right' or 'down', got {direction!r}.")
    bh, bw = _pair(block_shape, "block_shape")
    n_pairs = _check_int(n_pairs, "n_pairs", minimum=1)
    gap = _check_int(gap, "gap", minimum=0)
    arr, _ = _as_lattices(lattices)
    n, h, w = arr.shape
    span_h, span_w = (bh, 2 * bw + gap) if direction == "right" else (2 * bh + gap, bw)
    if span_h > h or span_w > w:
        raise ValueError(
            f"two {bh}x{bw} blocks {direction} of each other with gap {gap} span "
            f"{span_h}x{span_w} sites, larger than the {h}x{w} lattice."
        )
    rng = _generator(random_state)
    idx = rng.integers(n, size=n_pairs)
    rows = rng.integers(h if periodic else h - span_h + 1, size=n_pairs)
    cols = rng.integers(w if periodic else w - span_w + 1, size=n_pairs)
    dr, dc = (g.ravel() for g in np.mgrid[0:bh, 0:bw])
    X = _gather(arr, idx, rows, cols, dr, dc)
    if direction == "right":
        Y = _gather(arr, idx, rows, cols + bw + gap, dr, dc)
    else:
        Y = _gather(arr, idx, rows + bh + gap, cols, dr, dc)
    return X, Y


def sample_visible_environment(
    lattices: Any,
    visible_shape: int | tuple[int, int] = (2, 2),
    buffer: int = 1,
    environment_width: int = 2,
    n_samples: int = 10000,
    *,
    periodic: bool = True,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw visible blocks ``V`` and their environments ``E`` (RSMI geometry).

    ``V`` is an ``h × w`` block; around it lies a buffer of ``buffer`` sites on
    every side, ignored; ``E`` is the shell of width ``environment_width`` around
    the buffer: the ``(h + 2b + 2e) × (w + 2b + 2e)`` window minus its central
    ``(h + 2b) × (w + 2b)`` part, flattened row-major over the window.

    Parameters
    ----------
    lattices : array-like of shape (n, H, W) or (H, W)
        Binary spins (0/1 or ±1).
    visible_shape : int or (int, int), default=(2, 2)
    buffer : int, default=1
        Buffer width ``b`` (>= 0).
    environment_width : int, default=2
        Shell width ``e`` (>= 1).
    n_samples : int, default=10000
    periodic : bool, default=True
        Wrap around the edges (the window may then be centred anywhere); else the
        whole window lies inside the lattice.
    random_state : int, Generator or None, default=None

    Returns
    -------
    V : ndarray of shape (n_samples, h * w)
    E : ndarray of shape (n_samples, (h+2b+2e)(w+2b+2e) - (h+2b)(w+2b))
        Both of the input's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.datasets import sample_visible_environment
    >>> lattices = np.zeros((2, 16, 16), dtype=np.int8)
    >>> V, E = sample_visible_environment(lattices, (2, 2), buffer=1,
    ...                                   environment_width=2, n_samples=5,
    ...                                   random_state=0)
    >>> V.shape, E.shape
    ((5, 4), (5, 48))
    """
    vh, vw = _pair(visible_shape, "visible_shape")
    b = _check_int(buffer, "buffer", minimum=0)
    e = _check_int(environment_width, "environment_width", minimum=1)
    n_samples = _check_int(n_samples, "n_samples", minimum=1)
    arr, _ = _as_lattices(lattices)
    n, h, w = arr.shape
    oh, ow = vh + 2 * (b + e), vw + 2 * (b + e)
    if oh > h or ow > w:
        raise ValueError(
            f"the visible block with buffer and environment spans {oh}x{ow} sites, "
            f"larger than the {h}x{w} lattice."
        )
    rng = _generator(random_state)
    idx = rng.integers(n, size=n_samples)
    rows = rng.integers(h if periodic else h - oh + 1, size=n_samples)
    cols = rng.integers(w if periodic else w - ow + 1, size=n_samples)
    wr, wc = np.mgrid[0:oh, 0:ow]
    inner = (
        (wr >= e) & (wr < oh - e) & (wc >= e) & (wc < ow - e)
    )  # visible block plus buffer
    visible = (wr >= b + e) & (wr < b + e + vh) & (wc >= b + e) & (wc < b + e + vw)
    V = _gather(arr, idx, rows, cols, wr[visible], wc[visible])
    E = _gather(arr, idx, rows, cols, wr[~inner], wc[~inner])
    return V, E
