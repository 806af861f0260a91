"""Input checks of the data-set functions (private; the one home of these rules).

Every function here raises a ``TypeError`` for the wrong kind of value and a
``ValueError`` for a value out of range, with a message naming the argument.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

#: The Ising samplers of :func:`~sk_rgmi.datasets.sample_ising`.
ALGORITHMS = ("wolff", "swendsen-wang", "metropolis")

#: Encodings of binary spins: 0/1 or -1/+1.
SPINS = ("01", "pm1")


def _check_int(value: Any, name: str, *, minimum: int) -> int:
    """``value`` as a Python int ``>= minimum`` (bools are rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def _check_pair(value: Any, name: str) -> tuple[int, int]:
    """An int or a pair ``(h, w)`` of ints >= 1, as a pair."""
    if np.ndim(value) == 0:
        value = (value, value)
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r}.")
    return _check_int(value[0], name, minimum=1), _check_int(value[1], name, minimum=1)


def _check_temperature(temperature: Any) -> float:
    """A finite temperature > 0 as a float."""
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(
            f"temperature must be a number, got {type(temperature).__name__}."
        )
    t = float(temperature)
    if not math.isfinite(t) or t <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {t}.")
    return t


def _check_algorithm(algorithm: Any) -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}.")
    return algorithm


def _check_spins_format(spins: Any) -> str:
    if spins not in SPINS:
        raise ValueError(f"spins must be '01' or 'pm1', got {spins!r}.")
    return spins


def _n_rounds_of_three(size: int, source_size: int) -> int:
    """The number of 3x3 majority rounds that take ``source_size`` to ``size``."""
    ratio, rest = divmod(source_size, size)
    n = round(math.log(ratio, 3)) if ratio >= 1 and rest == 0 else -1
    if rest or ratio < 1 or 3**n != ratio:
        raise ValueError(
            "source_size / size must be a power of 3 (the data are coarse-grained by "
            f"repeated 3x3 majority rule), got source_size={source_size}, size={size}."
        )
    return n


def _check_binary(arr: Any, name: str) -> tuple[np.ndarray, bool]:
    """Binary spins (0/1 or ±1, not a mix) as ``int8``, and whether they are 0/1.

    Bool becomes 0/1; floats are accepted when they hold exactly those values. An
    all-ones array counts as 0/1.
    """
    arr = np.asarray(arr)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must have a bool, integer or float dtype, got dtype {arr.dtype}."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}).")
    if arr.dtype.kind == "b":
        return arr.astype(np.int8), True
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity.")
    values = np.unique(arr)
    present = set(values.tolist())
    if present <= {0, 1}:
        zero_one = True
    elif present <= {-1, 1}:
        zero_one = False
    else:
        shown = values[:6].tolist()
        raise ValueError(
            f"{name} must hold binary spins, 0/1 or -1/+1 (not a mix), got values "
            f"{shown}{' ...' if values.size > 6 else ''}."
        )
    return arr.astype(np.int8, copy=False), zero_one


def _as_pm1(arr: np.ndarray, zero_one: bool) -> np.ndarray:
    """Validated int8 spins (:func:`_check_lattices`) as ±1 int8."""
    return (2 * arr - 1).astype(np.int8) if zero_one else arr


def _check_lattices(
    arr: Any, *, name: str = "lattices", square: bool = False, allow_2d: bool = False
) -> tuple[np.ndarray, bool]:
    """Validate a stack of binary spin lattices: ``(int8 array (n, H, W), is 0/1)``.

    With ``allow_2d`` a single ``(H, W)`` lattice becomes ``(1, H, W)``.
    """
    arr = np.asarray(arr)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must have a bool, integer or float dtype, got dtype {arr.dtype}."
        )
    if allow_2d and arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3:
        expected = "(n, L, L) or (L, L)" if allow_2d else "(n, L, L)"
        raise ValueError(f"{name} must have shape {expected}, got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}).")
    if square and arr.shape[1] != arr.shape[2]:
        raise ValueError(f"{name} must be square (n, L, L), got shape {arr.shape}.")
    if min(arr.shape[1:]) < 2:
        raise ValueError(f"{name} must be at least 2x2, got shape {arr.shape}.")
    return _check_binary(arr, name)
