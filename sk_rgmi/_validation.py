"""Input checks and unit handling shared by every sk_rgmi estimator.

One place for validation: estimators call :func:`validate_pair` in ``fit``/``score``
and :func:`to_units` when they report an MI value.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from sklearn.utils.validation import validate_data

__all__ = [
    "UNITS",
    "check_units",
    "to_units",
    "validate_pair",
]

UNITS = ("nats", "bits")
Units = Literal["nats", "bits"]


def check_units(units: str) -> str:
    """Return ``units`` if it is ``"nats"`` or ``"bits"``, else raise ``ValueError``."""
    if units not in UNITS:
        raise ValueError(f"units must be 'nats' or 'bits', got {units!r}.")
    return units


def to_units(value_nats: Any, units: str) -> Any:
    """Convert an MI/entropy value (scalar or array) given in nats to ``units``.

    Examples
    --------
    >>> from sk_rgmi._validation import to_units
    >>> round(to_units(0.6931471805599453, "bits"), 12)
    1.0
    """
    check_units(units)
    if units == "bits":
        return value_nats / math.log(2.0)
    return value_nats


def validate_pair(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    reset: bool = True,
    dtype: Any = "numeric",
    min_samples: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate the two MI variables and return them as 2-D arrays.

    ``X`` is (n_samples, n_features_x); ``y`` is (n_samples,) or
    (n_samples, n_features_y) and is returned 2-D. Raises a ``ValueError`` that names
    the problem for ``y=None``, NaN/inf, mismatched lengths, fewer than
    ``min_samples`` samples, empty or 3-D input. ``reset=True`` records
    ``n_features_in_`` (and ``feature_names_in_``) on ``estimator``; ``reset=False``
    checks ``X`` against them. The number of columns of ``y`` is checked against
    ``estimator.n_features_y_`` when ``reset=False`` and that attribute exists.

    ``dtype="numeric"`` converts to float64 where needed (strings raise a clear
    error); ``dtype=None`` keeps any dtype (used by count-based estimators that
    accept strings).
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y "
            "is None: mutual information needs the second variable y."
        )
    try:
        X, y = validate_data(
            estimator,
            X,
            y,
            reset=reset,
            dtype=dtype,
            multi_output=True,
            y_numeric=dtype == "numeric",
            ensure_min_samples=min_samples,
            ensure_all_finite=True,
        )
    except ValueError as exc:
        msg = str(exc)
        if "could not convert" in msg or "Unable to convert" in msg:
            raise ValueError(
                f"{type(estimator).__name__} needs numeric X and y: {msg}"
            ) from exc
        if "inconsistent numbers of samples" in msg:
            raise ValueError(
                "X and y must have the same number of samples (mismatched "
                f"lengths): {msg}"
            ) from exc
        raise
    y = np.asarray(y)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if y.shape[1] == 0:
        raise ValueError("y has 0 feature(s); at least one column is required.")
    n_features_y = getattr(estimator, "n_features_y_", None)
    if not reset and n_features_y is not None and y.shape[1] != n_features_y:
        raise ValueError(
            f"y has {y.shape[1]} features, but {type(estimator).__name__} was "
            f"fitted with y of {n_features_y} features."
        )
    return X, y
