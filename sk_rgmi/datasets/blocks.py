"""Block-spin coarse-graining and block sampling of lattice configurations.

Everything is vectorised: block-spin adds the blocks' slices over all lattices at
once, the samplers draw all anchors at once and gather with one fancy-indexing call.
The majority rule of the whole package lives here (:func:`block_majority` on
flattened blocks, used by :func:`block_spin`, :func:`block_spin_flow` and the Ising
sampler's ``majority_rounds``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._random import generator
from ._checks import _check_binary, _check_int, _check_lattices, _check_pair

__all__ = [
    "block_majority",
    "block_spin",
    "block_spin_flow",
    "sample_block_pairs",
    "sample_visible_environment",
]

_RULES = ("majority", "mean", "decimate")
_TIE_BREAKS = ("random", "up", "down", "first")


def _majority_up(
    excess: np.ndarray,
    first: np.ndarray,
    tie_break: str,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """The majority rule: True where a block's majority is up.

    ``excess`` is each block's number of up spins minus its number of down spins
    (its ±1 spin sum); ``first`` holds each block's first (top-left) spin. Ties
    (``excess == 0``, only for an even number of sites) follow ``tie_break``;
    ``"random"`` draws one fair coin per tied block, in C order, from ``rng``.
    """
    up = excess > 0
    tie = excess == 0
    if tie.any():
        if tie_break == "random":
            up[tie] = rng.integers(0, 2, size=int(tie.sum()), dtype=bool)
        elif tie_break == "up":
            up |= tie
        elif tie_break == "first":
            up[tie] = first[tie] > 0
    return up


def block_majority(
    blocks: Any, *, tie_break: str = "random", random_state: Any = None
) -> np.ndarray:
    """Majority spin of each flattened block (the package's one majority rule).

    Each row of ``blocks`` is one block of spins, flattened row-major, so column 0
    is the block's top-left spin. :func:`block_spin` applies the same rule to the
    blocks of whole lattices, and :class:`~sk_rgmi.BlockCoarseGrainer` to the rows
    of ``X``.

    Parameters
    ----------
    blocks : array-like of shape (n_blocks, n_sites)
        Binary spins, 0/1 or -1/+1 (bool, integer or float holding those values).
    tie_break : {"random", "up", "down", "first"}, default="random"
        Blocks with as many up as down spins (only for even ``n_sites``):
        ``"random"`` picks up or down with probability 1/2 each (unbiased, keeps the
        up-down symmetry; one coin per tied block, in row order, from the
        ``"ties"`` stream of ``random_state``); ``"up"`` / ``"down"`` a fixed value
        (biases the magnetisation); ``"first"`` the block's first (top-left) spin
        (deterministic and spin-flip symmetric).
    random_state : None, int, sequence of int, SeedSequence or Generator, \
default=None
        Randomness for ``tie_break="random"`` (its ``"ties"`` stream).

    Returns
    -------
    majority : ndarray of shape (n_blocks,), dtype int8
        In the input's encoding (0/1 or ±1; bool input gives 0/1).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.datasets import block_majority
    >>> X = np.array([[1, 1, 0, 1], [0, 0, 1, 0], [1, 0, 0, 1]])
    >>> block_majority(X, tie_break="first")
    array([1, 0, 1], dtype=int8)
    >>> block_majority(2 * X - 1, tie_break="down")
    array([ 1, -1, -1], dtype=int8)
    """
    if tie_break not in _TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {_TIE_BREAKS}, got {tie_break!r}.")
    arr = np.asarray(blocks)
    if arr.ndim != 2:
        raise ValueError(
            f"blocks must have shape (n_blocks, n_sites), got shape {arr.shape}."
        )
    arr, zero_one = _check_binary(arr, "blocks")
    total = arr.sum(axis=1, dtype=np.int64)
    excess = 2 * total - arr.shape[1] if zero_one else total
    up = _majority_up(excess, arr[:, 0], tie_break, generator(random_state, "ties"))
    return _spins_from_up(up, zero_one)


def _spins_from_up(up: np.ndarray, zero_one: bool) -> np.ndarray:
    """Boolean "spin up" as int8 spins in the requested encoding (0/1 or ±1)."""
    return np.where(up, 1, 0 if zero_one else -1).astype(np.int8)


def _block_sums(arr: np.ndarray, factor: int, dtype: Any) -> np.ndarray:
    """Sums over the ``factor × factor`` blocks of ``arr`` (n, H, W), in ``dtype``.

    Added slice by slice (a loop over the ``2 factor`` offsets, each step
    vectorised over all lattices and blocks), which is much faster than
    ``reshape(...).sum(axis=(2, 4))`` for small blocks of int8 spins (see
    docs/datasets_measurements.rst).
    """
    n, h, w = arr.shape
    rows = arr.reshape(n, h // factor, factor, w)
    t = rows[:, :, 0, :].astype(dtype)
    for i in range(1, factor):
        t += rows[:, :, i, :]
    t = t.reshape(n, h // factor, w // factor, factor)
    out = t[..., 0].copy()
    for j in range(1, factor):
        out += t[..., j]
    return out


def _coarse_step(
    arr: np.ndarray,
    factor: int,
    rule: str,
    zero_one: bool,
    tie_break: str,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """One block-spin step of validated lattices ``(n, H, W)`` (no input checks).

    ``arr`` holds int8 spins (0/1 if ``zero_one`` else ±1), or, for ``"mean"`` after
    a first step, float block means. ``rng`` (the ``"ties"`` stream) may be None
    when no random tie can occur (odd ``factor`` or another ``tie_break``).
    """
    if rule == "decimate":
        return arr[:, ::factor, ::factor].copy()
    m = factor * factor
    if rule == "mean":
        return _block_sums(arr, factor, np.float64) / m
    total = _block_sums(arr, factor, np.int16 if 2 * m < 2**15 else np.int64)
    excess = 2 * total - m if zero_one else total
    up = _majority_up(excess, arr[:, ::factor, ::factor], tie_break, rng)
    return _spins_from_up(up, zero_one)


def _check_block_args(rule: str, tie_break: str, factor: Any) -> int:
    if rule not in _RULES:
        raise ValueError(f"rule must be one of {_RULES}, got {rule!r}.")
    if tie_break not in _TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {_TIE_BREAKS}, got {tie_break!r}.")
    return _check_int(factor, "factor", minimum=1)


def block_spin(
    lattices: Any,
    factor: int,
    rule: str = "majority",
    tie_break: str = "random",
    random_state: Any = None,
) -> np.ndarray:
    """Coarse-grain spin lattices by ``factor × factor`` blocks.

    Apply repeatedly (or use :func:`block_spin_flow`) for hierarchical block-spin
    RG: the original notebook's 2187 → 27 data are four rounds of 3×3 majority
    (81 = 3^4), which differs from one 81×81 majority.

    Parameters
    ----------
    lattices : array-like of shape (n, H, W) or (H, W)
        Binary spins, 0/1 or -1/+1; ``H`` and ``W`` divisible by ``factor``.
    factor : int
        Block side (>= 1).
    rule : {"majority", "mean", "decimate"}, default="majority"
        ``"majority"``: :func:`block_majority` of each block (the sign of its spin
        sum), returned in the input's encoding; ``"mean"``: the block mean as
        float64 (in [0, 1] for 0/1 input, [-1, 1] for ±1); ``"decimate"``: the
        block's top-left spin.
    tie_break : {"random", "up", "down", "first"}, default="random"
        Majority ties (only possible for even ``factor``, e.g. 2 up and 2 down in a
        2×2 block); see :func:`block_majority`. ``"first"`` is the block's top-left
        spin.
    random_state : None, int, sequence of int, SeedSequence or Generator, \
default=None
        Randomness for ``tie_break="random"`` (its ``"ties"`` stream).

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
    return block_spin_flow(
        lattices, factor, 1, rule, tie_break=tie_break, random_state=random_state
    )[0]


def block_spin_flow(
    lattices: Any,
    factor: int,
    n_steps: int,
    rule: str = "majority",
    *,
    tie_break: str = "random",
    random_state: Any = None,
    include_input: bool = False,
) -> list[np.ndarray]:
    """Every step of repeated block-spin coarse-graining (an RG flow of lattices).

    Step ``k`` applies :func:`block_spin` with ``factor`` to step ``k - 1`` (step 0
    is the input), vectorised over all lattices; the last step equals the Ising
    sampler's ``majority_rounds`` for ``factor=3``. For ``"mean"`` step ``k`` is the
    mean over ``factor**k × factor**k`` blocks, for ``"decimate"`` their top-left
    spin.

    Parameters
    ----------
    lattices : array-like of shape (n, H, W) or (H, W)
        Binary spins, 0/1 or -1/+1; ``H`` and ``W`` divisible by
        ``factor ** n_steps``.
    factor : int
        Block side of one step (>= 1).
    n_steps : int
        Number of steps (>= 1).
    rule : {"majority", "mean", "decimate"}, default="majority"
        As in :func:`block_spin`.
    tie_break : {"random", "up", "down", "first"}, default="random"
        Majority ties, as in :func:`block_majority`. With ``"random"`` one
        generator (the ``"ties"`` stream of ``random_state``) serves all steps in
        order, so step 1 equals ``block_spin(lattices, factor, rule, tie_break,
        random_state)``.
    random_state : None, int, sequence of int, SeedSequence or Generator, \
default=None
        Randomness for ``tie_break="random"``.
    include_input : bool, default=False
        Also return step 0: the input as ``int8`` in its encoding.

    Returns
    -------
    steps : list of ndarray
        ``[step 1, ..., step n_steps]`` (``[step 0, ...]`` with ``include_input``);
        step ``k`` has shape ``(n, H // factor**k, W // factor**k)`` (2-D for 2-D
        input), ``int8`` in the input's encoding (majority, decimate) or float64
        (mean).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.datasets import block_spin_flow
    >>> x = np.random.default_rng(0).integers(0, 2, size=(5, 27, 27))
    >>> [step.shape for step in block_spin_flow(x, 3, 3)]
    [(5, 9, 9), (5, 3, 3), (5, 1, 1)]
    >>> len(block_spin_flow(x, 3, 2, include_input=True))
    3
    """
    factor = _check_block_args(rule, tie_break, factor)
    n_steps = _check_int(n_steps, "n_steps", minimum=1)
    squeeze = np.ndim(lattices) == 2
    arr, zero_one = _check_lattices(lattices, allow_2d=True)
    _, h, w = arr.shape
    span = factor**n_steps
    if h % span or w % span:
        what = f"the block factor {factor}"
        if n_steps > 1:
            what = f"factor**n_steps = {factor}**{n_steps} = {span}"
        raise ValueError(f"lattice size {h}x{w} is not divisible by {what}.")
    rng = generator(random_state, "ties")
    steps = [arr.copy()] if include_input else []
    x = arr
    for _ in range(n_steps):
        x = _coarse_step(x, factor, rule, zero_one, tie_break, rng)
        steps.append(x)
    return [s[0] for s in steps] if squeeze else steps


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


def _as_lattices(lattices: Any) -> np.ndarray:
    """Validated lattices ``(n, H, W)`` in their own dtype (values checked)."""
    _check_lattices(lattices, allow_2d=True)
    arr = np.asarray(lattices)
    return arr[np.newaxis] if arr.ndim == 2 else arr


def sample_block_pairs(
    lattices: Any,
    block_shape: int | tuple[int, int] = (2, 2),
    n_pairs: int = 10000,
    *,
    direction: str = "right",
    gap: int = 0,
    periodic: bool = False,
    random_state: Any = None,
    return_positions: bool = False,
) -> tuple[np.ndarray, ...]:
    """Draw pairs of neighbouring blocks ``(X, Y)`` from lattice configurations.

    ``X`` is the ``h × w`` block with top-left corner at a uniformly random position
    of a uniformly random configuration; ``Y`` is the block of the same shape
    ``gap`` sites to its right (``direction="right"``, the original notebook's
    geometry) or below it (``"down"``). Without ``periodic`` both blocks lie wholly
    inside the lattice; with it, positions wrap around (for periodic
    configurations).

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
    random_state : None, int, sequence of int, SeedSequence or Generator, \
default=None
        Seeds the positions (the ``"pairs"`` stream).
    return_positions : bool, default=False
        Also return where each pair was cut (for errors grouped by lattice).

    Returns
    -------
    X, Y : ndarray of shape (n_pairs, h * w)
        The blocks flattened row-major, dtype of the input.
    positions : ndarray of shape (n_pairs, 3), dtype int64
        Only with ``return_positions``: ``(lattice index, row, col)`` of ``X``'s
        top-left site (2-D input counts as lattice 0).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.datasets import sample_block_pairs
    >>> lattice = np.arange(16).reshape(4, 4) % 2
    >>> X, Y = sample_block_pairs(lattice, (2, 2), n_pairs=3, random_state=0)
    >>> X.shape, Y.shape
    ((3, 4), (3, 4))
    >>> X, Y, pos = sample_block_pairs(lattice, 2, n_pairs=3, random_state=0,
    ...                                return_positions=True)
    >>> pos.shape
    (3, 3)
    """
    if direction not in ("right", "down"):
        raise ValueError(f"direction must be 'right' or 'down', got {direction!r}.")
    bh, bw = _check_pair(block_shape, "block_shape")
    n_pairs = _check_int(n_pairs, "n_pairs", minimum=1)
    gap = _check_int(gap, "gap", minimum=0)
    arr = _as_lattices(lattices)
    n, h, w = arr.shape
    span_h, span_w = (bh, 2 * bw + gap) if direction == "right" else (2 * bh + gap, bw)
    if span_h > h or span_w > w:
        raise ValueError(
            f"two {bh}x{bw} blocks {direction} of each other with gap {gap} span "
            f"{span_h}x{span_w} sites, larger than the {h}x{w} lattice."
        )
    rng = generator(random_state, "pairs")
    idx = rng.integers(n, size=n_pairs)
    rows = rng.integers(h if periodic else h - span_h + 1, size=n_pairs)
    cols = rng.integers(w if periodic else w - span_w + 1, size=n_pairs)
    dr, dc = (g.ravel() for g in np.mgrid[0:bh, 0:bw])
    X = _gather(arr, idx, rows, cols, dr, dc)
    if direction == "right":
        Y = _gather(arr, idx, rows, cols + bw + gap, dr, dc)
    else:
        Y = _gather(arr, idx, rows + bh + gap, cols, dr, dc)
    if return_positions:
        return X, Y, np.stack([idx, rows, cols], axis=1).astype(np.int64)
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
    return_positions: bool = False,
) -> tuple[np.ndarray, ...]:
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
    random_state : None, int, sequence of int, SeedSequence or Generator, \
default=None
        Seeds the positions (the ``"pairs"`` stream).
    return_positions : bool, default=False
        Also return where each window was cut: windows from the same lattice are
        correlated, so errors of estimates from ``(V, E)`` should be grouped (e.g.
        resampled) by lattice index.

    Returns
    -------
    V : ndarray of shape (n_samples, h * w)
    E : ndarray of shape (n_samples, (h+2b+2e)(w+2b+2e) - (h+2b)(w+2b))
        Both of the input's dtype.
    positions : ndarray of shape (n_samples, 3), dtype int64
        Only with ``return_positions``: ``(lattice index, row, col)`` of the top-left
        site of ``V`` (taken modulo the lattice size when ``periodic``; 2-D input
        counts as lattice 0), so ``V[i]`` is
        ``lattices[k, r:r + h, c:c + w].ravel()`` for ``k, r, c = positions[i]``
        when the block does not wrap.

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
    >>> V, E, pos = sample_visible_environment(lattices, n_samples=5, random_state=0,
    ...                                        return_positions=True)
    >>> pos[:, 0].tolist()  # the lattice each window came from
    [0, 1, 1, 0, 1]
    """
    vh, vw = _check_pair(visible_shape, "visible_shape")
    b = _check_int(buffer, "buffer", minimum=0)
    e = _check_int(environment_width, "environment_width", minimum=1)
    n_samples = _check_int(n_samples, "n_samples", minimum=1)
    arr = _as_lattices(lattices)
    n, h, w = arr.shape
    oh, ow = vh + 2 * (b + e), vw + 2 * (b + e)
    if oh > h or ow > w:
        raise ValueError(
            f"the visible block with buffer and environment spans {oh}x{ow} sites, "
            f"larger than the {h}x{w} lattice."
        )
    rng = generator(random_state, "pairs")
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
    if return_positions:
        offset = b + e
        positions = np.stack(
            [idx, (rows + offset) % h, (cols + offset) % w], axis=1
        ).astype(np.int64)
        return V, E, positions
    return V, E
