"""Lattice-wide coarse-graining: learned block rules applied to whole lattices.

:func:`apply_coarse_grainer` applies any fitted block transformer (one binary output
per block) to every non-overlapping ``b × b`` block of every lattice;
:class:`RSMIFlow` learns one linear-threshold rule per RG step, RSMI-style, and
iterates it. Both are vectorised over lattices and blocks: the only Python loops run
over RG steps and over the ``b²`` offsets inside a block.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._random import check_seed_sequence, generator, seed_int, stream
from ..datasets._checks import _as_pm1, _check_int, _check_lattices
from ..datasets.blocks import _TIE_BREAKS, _majority_up, _spins_from_up

__all__ = ["RSMIFlow", "apply_coarse_grainer"]

# blocks handed to a transformer at once (bounds memory for big lattice stacks)
_CHUNK_BLOCKS = 1 << 20


def _check_divisible(shape: tuple[int, ...], factor: int, what: str) -> None:
    _, h, w = shape
    if h % factor or w % factor:
        raise ValueError(
            f"{what}: lattice size {h}x{w} is not divisible by the block factor "
            f"{factor}."
        )


def _threshold_step(
    spins: np.ndarray,
    weights: np.ndarray,
    intercept: float,
    factor: int,
    tie_break: str,
    rng: np.random.Generator | None,
) -> np.ndarray:
    """One linear-threshold block step of ±1 lattices ``(n, H, W)`` -> bool "up".

    The score of a block is ``sum_k weights[k] s_k + intercept`` (block flattened
    row-major); it is accumulated over the ``factor²`` offsets, each step vectorised
    over all lattices and blocks. Exact zeros (ties) follow the package's majority
    tie rule with ``first`` the block's top-left spin.
    """
    n, h, w = spins.shape
    shape = (n, h // factor, w // factor)
    score = np.full(shape, intercept, dtype=np.float64)
    term = np.empty(shape, dtype=np.float64)
    for k, wk in enumerate(weights):
        i, j = divmod(k, factor)
        if wk != 0.0:
            np.multiply(spins[:, i::factor, j::factor], wk, out=term)
            score += term
    return _majority_up(score, spins[:, ::factor, ::factor], tie_break, rng)


def apply_coarse_grainer(lattices: Any, coarse_grainer: Any, factor: int) -> np.ndarray:
    """Coarse-grain whole lattices with a fitted block transformer.

    Every non-overlapping ``factor × factor`` block of every lattice is flattened
    row-major (the layout of :func:`~sk_rgmi.datasets.sample_visible_environment`'s
    ``V`` and :func:`~sk_rgmi.datasets.sample_block_pairs`), all blocks are passed
    to ``coarse_grainer.transform`` at once (in chunks of about a million blocks),
    and its one binary output per block becomes the coarse spin: a reshape, not a
    loop over sites.

    Parameters
    ----------
    lattices : array-like of shape (n, H, W) or (H, W)
        Binary spins, 0/1 or -1/+1; ``H`` and ``W`` divisible by ``factor``.
    coarse_grainer : fitted transformer
        ``transform`` takes ``(n_blocks, factor**2)`` rows in the lattices' encoding
        and returns one column of 0/1 (or ±1, or bool) values, e.g. a fitted
        :class:`~sk_rgmi.MIMaximizingCoarseGrainer` with ``n_components=1`` or
        ``BlockCoarseGrainer(rule="majority", block_shape=(b, b))``.
    factor : int
        Block side ``b`` (>= 1).

    Returns
    -------
    coarse : ndarray of shape (n, H // factor, W // factor), dtype int8
        In the input's encoding (``(H // factor, W // factor)`` for 2-D input);
        output 1 (or +1, True) of the transformer becomes the up spin.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi import BlockCoarseGrainer
    >>> from sk_rgmi.datasets import block_spin
    >>> from sk_rgmi.rg import apply_coarse_grainer
    >>> x = np.random.default_rng(0).integers(0, 2, size=(4, 9, 9))
    >>> rule = BlockCoarseGrainer("majority", block_shape=(3, 3)).fit(np.zeros((1, 9)))
    >>> coarse = apply_coarse_grainer(x, rule, 3)
    >>> coarse.shape, bool((coarse == block_spin(x, 3)).all())
    ((4, 3, 3), True)
    """
    factor = _check_int(factor, "factor", minimum=1)
    squeeze = np.ndim(lattices) == 2
    arr, zero_one = _check_lattices(lattices, allow_2d=True)
    _check_divisible(arr.shape, factor, "apply_coarse_grainer")
    n, h, w = arr.shape
    hb, wb = h // factor, w // factor
    blocks = (
        arr.reshape(n, hb, factor, wb, factor)
        .transpose(0, 1, 3, 2, 4)
        .reshape(n * hb * wb, factor * factor)
    )
    out = np.empty(blocks.shape[0], dtype=np.int8)
    for start in range(0, blocks.shape[0], _CHUNK_BLOCKS):
        part = np.asarray(
            coarse_grainer.transform(blocks[start : start + _CHUNK_BLOCKS])
        )
        if part.ndim == 2 and part.shape[1] == 1:
            part = part[:, 0]
        if part.ndim != 1 or part.shape[0] != min(_CHUNK_BLOCKS, len(blocks) - start):
            raise ValueError(
                "coarse_grainer.transform must return one column per block (a coarse "
                f"spin), got shape {np.shape(part)}; use n_components=1."
            )
        values = set(np.unique(part).tolist())
        if not values <= {0, 1} and not values <= {-1, 1}:
            raise ValueError(
                "coarse_grainer.transform must return binary codes (0/1 or -1/+1) "
                f"to be used as coarse spins, got values {sorted(values)[:6]}; a "
                "continuous coarse variable is not a spin."
            )
        out[start : start + part.shape[0]] = _spins_from_up(part > 0, zero_one)
    coarse = out.reshape(n, hb, wb)
    return coarse[0] if squeeze else coarse


class RSMIFlow(TransformerMixin, BaseEstimator):
    """A learned RG flow: RSMI block rules, re-learned at every step, on whole lattices.

    Real-space mutual-information (RSMI) coarse-graining (Koch-Janusz & Ringel,
    Nature Physics 14, 578 (2018); Gökmen et al., PRL 127, 240603 (2021)) iterated
    over lattices. At step ``k`` the flow

    1. cuts ``n_windows`` windows from the current lattices: a ``factor × factor``
       visible block ``V`` and the shell ``E`` of width ``environment_width``
       beyond a buffer of ``buffer`` sites
       (:func:`~sk_rgmi.datasets.sample_visible_environment`, periodic);
    2. fits a clone of ``coarse_grainer`` (default: a binary
       :class:`~sk_rgmi.MIMaximizingCoarseGrainer` with ``symmetric=False``,
       ``n_components=1``) to maximise ``I(H : E)``, ``H = 1[Λ·V + b > 0]``;
    3. applies the learned rule to every non-overlapping block of every lattice
       (vectorised), giving the lattices of step ``k + 1``.

    Spins enter the rule as ±1 whatever the input encoding. Filters are normalised
    to unit norm and a non-negative sum, so a coarse spin is up when its block
    leans up: the majority's orientation.

    Parameters
    ----------
    factor : int, default=3
        Block side ``b``: every step shrinks the lattice side by ``b``. 3 matches
        the power-of-3 lattices of :mod:`sk_rgmi.datasets` and an odd block never
        ties; 2×2 blocks tie in 6 of 16 states.
    n_steps : int, default=1
        RG steps (each re-learned on the output of the previous one).
    buffer : int, default=2
        Buffer width ``L_B`` between ``V`` and ``E`` (sites of the current lattice).
    environment_width : int, default=2
        Width of the environment shell.
    n_windows : int, default=20000
        Windows per step for the fit.
    coarse_grainer : estimator or None, default=None
        Unfitted block learner with ``fit(V, E)`` and ``components_`` /
        ``intercept_`` of shape ``(1, b²)`` / ``(1,)`` after fitting; None:
        ``MIMaximizingCoarseGrainer(n_components=1, symmetric=False)``. Its
        ``random_state`` is replaced by one derived from this flow's.
    spin_flip_symmetric : bool, default=True
        Apply ``1[Λ·s > 0]`` (s = ±1), dropping the learned intercept, so the rule
        commutes with flipping every spin, as the Ising Hamiltonian does. A learned
        intercept generates a magnetic field in the coarse Hamiltonian -- a relevant
        perturbation that drives the flow away from the critical point. False
        applies the learned ``1[Λ·s + b > 0]``.
    tie_break : {"first", "random", "up", "down"}, default="first"
        Blocks whose score is exactly zero (as for symmetric filters on even
        blocks); see :func:`~sk_rgmi.datasets.block_majority`.
    random_state : None, int, sequence of int or SeedSequence, default=None
        Windows (stream ``"pairs"``), the coarse-grainers' seeds (stream ``"fit"``)
        and random ties (stream ``"ties"``).
    verbose : int, default=0
        Print each step's filter and MI.

    Attributes
    ----------
    filters_ : ndarray of shape (n_steps, factor**2)
        The learned filter of each step (unit norm, non-negative sum), acting on ±1
        spins of the block flattened row-major.
    intercepts_ : ndarray of shape (n_steps,)
        The learned thresholds (used only with ``spin_flip_symmetric=False``).
    mi_ : ndarray of shape (n_steps,)
        Each step's held-out ``I(H : E)`` from its coarse-grainer (``mi_``), in
        nats (NaN for flows made with :meth:`from_filters`).
    coarse_grainers_ : list of estimators
        The fitted coarse-grainer of each step (empty for :meth:`from_filters`).
    sizes_ : list of (int, int)
        Lattice shape at the input of each step during ``fit``.

    See Also
    --------
    sk_rgmi.datasets.block_spin_flow : the fixed majority (or mean, decimation)
        flow.
    apply_coarse_grainer : one step with any fitted block transformer.
    sk_rgmi.rg.mcrg_matching : critical point and exponent from two flows.

    Examples
    --------
    >>> from sk_rgmi.datasets import sample_ising
    >>> from sk_rgmi.rg import RSMIFlow
    >>> from sk_rgmi import MIMaximizingCoarseGrainer
    >>> x = sample_ising(40, 27, random_state=0)
    >>> flow = RSMIFlow(n_steps=2, buffer=1, environment_width=1, n_windows=2000,
    ...                 coarse_grainer=MIMaximizingCoarseGrainer(
    ...                     symmetric=False, max_epochs=3), random_state=0).fit(x)
    >>> [step.shape for step in flow.flow(x)]
    [(40, 9, 9), (40, 3, 3)]
    >>> flow.filters_.shape, bool((flow.filters_.sum(axis=1) >= 0).all())
    ((2, 9), True)
    """

    _parameter_constraints: ClassVar[dict] = {
        "factor": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_steps": [Interval(numbers.Integral, 1, None, closed="left")],
        "buffer": [Interval(numbers.Integral, 0, None, closed="left")],
        "environment_width": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_windows": [Interval(numbers.Integral, 10, None, closed="left")],
        "coarse_grainer": [None, HasMethods(["fit", "get_params"])],
        "spin_flip_symmetric": ["boolean"],
        "tie_break": [StrOptions(set(_TIE_BREAKS))],
        "random_state": ["random_state", list, tuple, np.random.SeedSequence],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        factor: int = 3,
        n_steps: int = 1,
        *,
        buffer: int = 2,
        environment_width: int = 2,
        n_windows: int = 20000,
        coarse_grainer: Any = None,
        spin_flip_symmetric: bool = True,
        tie_break: str = "first",
        random_state: Any = None,
        verbose: int = 0,
    ) -> None:
        self.factor = factor
        self.n_steps = n_steps
        self.buffer = buffer
        self.environment_width = environment_width
        self.n_windows = n_windows
        self.coarse_grainer = coarse_grainer
        self.spin_flip_symmetric = spin_flip_symmetric
        self.tie_break = tie_break
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def from_filters(
        cls, filters: Any, intercepts: Any = None, **params: Any
    ) -> RSMIFlow:
        """A flow with given filters, ready to transform (no fitting).

        For applying published or cached rules. ``factor`` (in ``params``, default
        3) must satisfy ``filters.shape[1] == factor**2``; ``n_steps`` is taken
        from ``filters``.

        Parameters
        ----------
        filters : array-like of shape (n_steps, factor**2)
            One filter per step, on ±1 spins (normalised as in ``fit``).
        intercepts : array-like of shape (n_steps,), default=None
            Thresholds (zeros when None).
        **params
            Other constructor parameters (``factor``, ``spin_flip_symmetric``, ...).

        Returns
        -------
        flow : RSMIFlow

        Examples
        --------
        >>> import numpy as np
        >>> from sk_rgmi.datasets import block_spin
        >>> from sk_rgmi.rg import RSMIFlow
        >>> flow = RSMIFlow.from_filters(np.ones((1, 9)) / 3)  # uniform = majority
        >>> x = np.random.default_rng(0).integers(0, 2, size=(2, 9, 9))
        >>> bool((flow.transform(x) == block_spin(x, 3)).all())
        True
        """
        from ..nn.callbacks import normalize_filters

        w = np.atleast_2d(np.asarray(filters, dtype=np.float64))
        b = np.zeros(len(w)) if intercepts is None else np.asarray(intercepts, float)
        if b.shape != (len(w),) or not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise ValueError(
                "filters must be finite, shape (n_steps, factor**2), with one finite "
                f"intercept per step; got shapes {w.shape} and {b.shape}."
            )
        flow = cls(**{**params, "n_steps": len(w)})
        flow._validate_params()
        if w.shape[1] != flow.factor**2:
            raise ValueError(
                f"filters have {w.shape[1]} weights, a {flow.factor}x{flow.factor} "
                f"block has {flow.factor**2}."
            )
        flow.filters_, flow.intercepts_ = normalize_filters(w, b)
        flow.mi_ = np.full(len(w), np.nan)
        flow.coarse_grainers_ = []
        flow.sizes_ = []
        return flow

    def _default_coarse_grainer(self) -> Any:
        if self.coarse_grainer is not None:
            return clone(self.coarse_grainer)
        from ..coarse_graining import MIMaximizingCoarseGrainer

        return MIMaximizingCoarseGrainer(n_components=1, symmetric=False)

    def _step(
        self, spins: np.ndarray, k: int, rng: np.random.Generator | None
    ) -> np.ndarray:
        """Step ``k`` on ±1 lattices -> ±1 lattices."""
        b = 0.0 if self.spin_flip_symmetric else float(self.intercepts_[k])
        up = _threshold_step(
            spins, self.filters_[k], b, self.factor, self.tie_break, rng
        )
        return _spins_from_up(up, False)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any = None) -> RSMIFlow:
        """Learn one block rule per step on lattices ``X`` (the flow's own output).

        Parameters
        ----------
        X : array-like of shape (n, L, L)
            Binary spins (0/1 or ±1), e.g. equilibrium configurations at the
            critical point; ``L`` divisible by ``factor ** (n_steps - 1)`` and the
            window (``factor + 2 (buffer + environment_width)``) no larger than
            the lattice at the last step.
        y : None
            Ignored.

        Returns
        -------
        self
        """
        from ..datasets import sample_visible_environment

        arr, zero_one = _check_lattices(X, name="X (lattices)", square=True)
        b, n_steps = int(self.factor), int(self.n_steps)
        window = b + 2 * (self.buffer + self.environment_width)
        size = arr.shape[1]
        for k in range(n_steps):
            side = size // b**k
            if size % b**k or window > side:
                raise ValueError(
                    f"step {k + 1} of {n_steps} needs the input side divisible by "
                    f"{b}**{k} and a lattice there at least as large as the window "
                    f"{window} (factor + 2 (buffer + environment_width)); the input "
                    f"is {size}x{size}. Use larger lattices or fewer steps."
                )
        seq = check_seed_sequence(self.random_state)
        rng = generator(seq, "ties")
        spins = _as_pm1(arr, zero_one)
        filters, intercepts, mis, fitted, sizes = [], [], [], [], []
        from ..nn.callbacks import normalize_filters

        for k in range(n_steps):
            V, E = sample_visible_environment(
                spins, (b, b), self.buffer, self.environment_width, self.n_windows,
                periodic=True, random_state=stream(stream(seq, "pairs"), f"step{k}"),
            )  # fmt: skip
            cg = self._default_coarse_grainer()
            if "random_state" in cg.get_params():
                cg.set_params(
                    random_state=seed_int(stream(seq, "fit"), f"step{k}", bits=32)
                )
            cg.fit(V.astype(np.float32), E.astype(np.float32))
            w = np.asarray(cg.components_, dtype=np.float64)
            icpt = np.asarray(getattr(cg, "intercept_", np.zeros(len(w))), float)
            if w.shape != (1, b * b):
                raise ValueError(
                    f"the coarse-grainer learned components_ of shape {w.shape}; a "
                    f"lattice step needs one filter of {b * b} weights "
                    "(n_components=1)."
                )
            w, icpt = normalize_filters(w, icpt.reshape(1))
            filters.append(w[0])
            intercepts.append(float(icpt[0]))
            mis.append(float(getattr(cg, "mi_", np.nan)))
            fitted.append(cg)
            sizes.append(tuple(spins.shape[1:]))
            self.filters_ = np.array(filters)
            self.intercepts_ = np.array(intercepts)
            if self.verbose:
                print(
                    f"RSMIFlow step {k + 1}/{n_steps} on {sizes[-1]}: filter "
                    f"{np.round(w[0], 3).tolist()}, intercept {icpt[0]:.3f}, "
                    f"I(H:E) = {mis[-1]:.4f} nats"
                )
            if k + 1 < n_steps:
                spins = self._step(spins, k, rng)
        self.mi_ = np.array(mis)
        self.coarse_grainers_ = fitted
        self.sizes_ = sizes
        return self

    def flow(self, lattices: Any, *, include_input: bool = False) -> list[np.ndarray]:
        """Every step of the learned flow applied to ``lattices``.

        Parameters
        ----------
        lattices : array-like of shape (n, H, W) or (H, W)
            Binary spins; ``H`` and ``W`` divisible by ``factor ** n_steps``.
        include_input : bool, default=False
            Also return step 0 (the input as int8).

        Returns
        -------
        steps : list of ndarray
            ``[step 1, ..., step n_steps]``, step ``k`` of shape
            ``(n, H // factor**k, W // factor**k)``, int8 in the input's encoding
            (2-D for 2-D input), like :func:`~sk_rgmi.datasets.block_spin_flow`.
        """
        check_is_fitted(self, "filters_")
        squeeze = np.ndim(lattices) == 2
        arr, zero_one = _check_lattices(lattices, allow_2d=True)
        span = self.factor ** len(self.filters_)
        _check_divisible(arr.shape, span, "RSMIFlow")
        rng = (
            generator(self.random_state, "ties") if self.tie_break == "random" else None
        )
        spins = _as_pm1(arr, zero_one)
        steps = [arr.copy()] if include_input else []
        for k in range(len(self.filters_)):
            spins = self._step(spins, k, rng)
            steps.append(((spins + 1) // 2).astype(np.int8) if zero_one else spins)
        return [s[0] for s in steps] if squeeze else steps

    def transform(self, X: Any) -> np.ndarray:
        """The lattices ``X`` after all ``n_steps`` steps (the last of ``flow``).

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (H, W)
            Binary spin lattices.

        Returns
        -------
        coarse : ndarray of shape (n, H // factor**n_steps, W // factor**n_steps)
            int8 in the input's encoding.
        """
        return self.flow(X)[-1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags
