"""Fixed coarse-graining rules on flattened blocks: :class:`BlockCoarseGrainer`."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..datasets.blocks import _TIE_BREAKS as TIE_BREAKS
from ..datasets.blocks import block_majority
from ._common import _binary_01, second_block

__all__ = ["BlockCoarseGrainer"]


class BlockCoarseGrainer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Fixed coarse-graining of flattened lattice blocks to one variable per block.

    Each row of ``X`` is one block of ``block_shape`` spins flattened in row-major
    (C) order; the output is one column.

    Parameters
    ----------
    rule : {"mean", "ring-mean", "majority", "decimate"}, default="mean"
        ``"mean"``: the block average (the original notebook's frozen 2×2
        coarse-graining).
        ``"ring-mean"``: the average of the block's boundary sites (for 3×3: the eight
        non-centre spins, the original notebook's frozen 3×3 ring mean; for 2×2 it
        equals the mean).
        ``"majority"``: the majority spin (binary data only, 0/1 or -1/+1; returned in
        the input's coding). ``"decimate"``: the top-left spin of the block.
    block_shape : tuple of two ints or None, default=(2, 2)
        Shape ``(h, w)`` of a block; ``n_features`` must equal ``h * w``. ``None``
        treats each row as a single ``(1, n_features)`` block.
    tie_break : {"first", "random", "up", "down"}, default="first"
        Majority rule on blocks with an even number of sites
        (:func:`sk_rgmi.datasets.block_majority`): ``"first"`` lets the top-left
        spin decide a tie (deterministic and spin-flip symmetric); ``"random"``
        draws the winner from ``random_state`` (a RandomState gives fresh draws on
        every ``transform`` call, so equal rows may differ); ``"up"``/``"down"`` a
        fixed value.
    random_state : int, RandomState instance or None, default=None
        Seed for ``tie_break="random"``.

    Attributes
    ----------
    n_features_in_ : int
        Number of sites per block seen in ``fit``.
    feature_names_in_ : ndarray of str
        Defined when ``X`` has string column names.

    See Also
    --------
    MIMaximizingCoarseGrainer : learns the coarse-graining that keeps the most MI.

    Notes
    -----
    In a ``Pipeline`` only ``X`` is transformed. For the MI between two coarse-grained
    blocks, coarse-grain ``y`` with the same transformer (``transform_pair``).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi import BlockCoarseGrainer
    >>> X = np.array([[1, 1, 0, 1], [0, 0, 1, 0], [1, 0, 0, 1]])
    >>> BlockCoarseGrainer("mean").fit_transform(X).ravel().tolist()
    [0.75, 0.25, 0.5]
    >>> BlockCoarseGrainer("majority").fit_transform(X).ravel().tolist()
    [1, 0, 1]
    >>> ring = BlockCoarseGrainer("ring-mean", block_shape=(3, 3))
    >>> ring.fit_transform(np.eye(3).reshape(1, 9)).ravel().tolist()
    [0.25]
    """

    _parameter_constraints: ClassVar[dict] = {
        "rule": [StrOptions({"mean", "ring-mean", "majority", "decimate"})],
        "block_shape": [tuple, list, None],
        "tie_break": [StrOptions(set(TIE_BREAKS))],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        rule: str = "mean",
        *,
        block_shape: tuple[int, int] | None = (2, 2),
        tie_break: str = "first",
        random_state: Any = None,
    ) -> None:
        self.rule = rule
        self.block_shape = block_shape
        self.tie_break = tie_break
        self.random_state = random_state

    @classmethod
    def _fast_test_params(cls) -> dict[str, Any]:
        # scikit-learn's checks feed any number of features: one block per row.
        return {"block_shape": None}

    def _shape(self, n_features: int) -> tuple[int, int]:
        if self.block_shape is None:
            return (1, n_features)
        shape = tuple(self.block_shape)
        if len(shape) != 2 or not all(
            isinstance(s, numbers.Integral) and s >= 1 for s in shape
        ):
            raise ValueError(
                f"block_shape must be two positive integers (h, w) or None, got "
                f"{self.block_shape!r}."
            )
        h, w = int(shape[0]), int(shape[1])
        if h * w != n_features:
            raise ValueError(
                f"block_shape {(h, w)} has {h * w} sites but X has {n_features} "
                "features: each row must be one flattened block."
            )
        return h, w

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> BlockCoarseGrainer:
        """Check the block shape against ``X`` (stateless otherwise).

        Parameters
        ----------
        X : array-like of shape (n_samples, h * w)
        y : ignored

        Returns
        -------
        self
        """
        X = validate_data(self, X)
        self._shape(X.shape[1])
        if self.rule == "majority":
            _binary_01(X, "rule='majority'")
        self._n_features_out = 1
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Coarse-grain each block (row) of ``X`` to one value.

        Parameters
        ----------
        X : array-like of shape (n_samples, h * w)

        Returns
        -------
        ndarray of shape (n_samples, 1)
            Float means for ``"mean"``/``"ring-mean"``; the input's values for
            ``"majority"`` and ``"decimate"``.
        """
        check_is_fitted(self)
        return self._coarse(validate_data(self, X, reset=False))

    def _coarse(self, X: np.ndarray) -> np.ndarray:
        h, w = self._shape(X.shape[1])
        if self.rule == "mean":
            return X.mean(axis=1, keepdims=True)
        if self.rule == "ring-mean":
            mask = np.ones((h, w), dtype=bool)
            mask[1:-1, 1:-1] = False
            return X[:, mask.ravel()].mean(axis=1, keepdims=True)
        if self.rule == "decimate":
            return X[:, :1].copy()
        # majority: the package's one rule (sk_rgmi.datasets.block_majority)
        majority = block_majority(
            X, tie_break=self.tie_break, random_state=self.random_state
        )
        return majority.astype(X.dtype).reshape(-1, 1)

    def transform_pair(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Coarse-grain two blocks of the same shape: ``(transform(X), transform(y))``.

        A ``Pipeline`` transforms ``X`` only; use this (or ``transform(y)`` as the
        target) to measure the MI between two coarse-grained blocks. ``y`` is
        another block: as a DataFrame its column names may differ from ``X``'s.
        """
        check_is_fitted(self)
        return self.transform(X), self._coarse(second_block(self, y))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags
