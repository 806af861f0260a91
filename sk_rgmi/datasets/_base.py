"""Data home, cached critical data set, user lattice files, random-state helpers."""

from __future__ import annotations

import math
import numbers
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_seed_sequence
from .exact import T_C

__all__ = [
    "clear_data_home",
    "get_data_home",
    "load_critical_ising",
    "load_lattices",
]

_DATA_VERSION = 1  # bump when the generating defaults change (part of file names)


# --------------------------------------------------------------------------- helpers
def _check_int(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def _generator(random_state: Any) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(check_seed_sequence(random_state))


# ------------------------------------------------------------------------- data home
def get_data_home(data_home: str | os.PathLike | None = None) -> str:
    """Return (and create) the folder where sk_rgmi caches data sets.

    The folder is ``data_home`` if given, else the ``SK_RGMI_DATA`` environment
    variable, else ``~/sk_rgmi_data``. ``~`` is expanded.

    Examples
    --------
    >>> import tempfile
    >>> from sk_rgmi.datasets import get_data_home
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     get_data_home(tmp) == tmp
    True
    """
    if data_home is None:
        data_home = os.environ.get("SK_RGMI_DATA", os.path.join("~", "sk_rgmi_data"))
    path = os.path.expanduser(os.fspath(data_home))
    os.makedirs(path, exist_ok=True)
    return path


def clear_data_home(data_home: str | os.PathLike | None = None) -> None:
    """Delete the data home and everything cached in it.

    Examples
    --------
    >>> import os, tempfile
    >>> from sk_rgmi.datasets import clear_data_home, get_data_home
    >>> tmp = os.path.join(tempfile.mkdtemp(), "cache")
    >>> _ = get_data_home(tmp)
    >>> clear_data_home(tmp)
    >>> os.path.exists(tmp)
    False
    """
    shutil.rmtree(get_data_home(data_home))


# -------------------------------------------------------------------------- loaders
def _n_rounds_of_three(size: int, source_size: int) -> int:
    ratio, rest = divmod(source_size, size)
    n = round(math.log(ratio, 3)) if ratio >= 1 and rest == 0 else -1
    if rest or ratio < 1 or 3**n != ratio:
        raise ValueError(
            "source_size / size must be a power of 3 (the data are coarse-grained by "
            f"repeated 3x3 majority rule), got source_size={source_size}, size={size}."
        )
    return n


def load_critical_ising(
    *,
    n_configs: int = 1000,
    size: int = 27,
    source_size: int = 2187,
    temperature: float = T_C,
    algorithm: str = "wolff",
    data_home: str | os.PathLike | None = None,
    random_state: int = 0,
    n_jobs: int | None = None,
    verbose: int = 1,
) -> np.ndarray:
    """Critical 2D Ising configurations coarse-grained by 3×3 majority rule (cached).

    Equilibrium configurations are sampled with :func:`sample_ising` on a periodic
    ``source_size × source_size`` lattice at ``temperature`` (default ``T_C``), each
    coarse-grained by repeated 3×3 majority rule (:func:`block_spin`; 3×3 never
    ties) down to ``size × size``, and returned as 0/1 ``int8`` -- the layout of the
    seed notebook's ``ising27x27from2187x2187.npy`` (2187 = 27 · 3^4). The set is
    generated once (with a progress bar if ``verbose``) and saved as ``.npy`` under
    :func:`get_data_home`, in a file whose name encodes every parameter; later calls
    load it. Full-size lattices are never stored: each chain keeps one lattice and
    coarse-grains every sample as it is recorded (≈6 bytes per site).

    Cost (measured, one core): ≈0.9 s per independent 27×27-from-2187 configuration
    with Wolff plus ≈16 s of burn-in per 50-sample chain, so the default 1000
    configurations take ≈21 min on one core, or about half that with ``n_jobs=2``;
    see ``docs/datasets_measurements.rst``.

    Parameters
    ----------
    n_configs : int, default=1000
        Number of configurations.
    size : int, default=27
        Side of the returned lattices.
    source_size : int, default=2187
        Side of the sampled lattices; ``source_size / size`` must be a power of 3.
    temperature : float, default=T_C
        Temperature (the critical point ``2 / ln(1 + sqrt 2)`` by default).
    algorithm : {"wolff", "swendsen-wang", "metropolis"}, default="wolff"
        Sampler (see :func:`sample_ising`).
    data_home : str or path-like, default=None
        Cache folder; see :func:`get_data_home`.
    random_state : int, default=0
        Seed of the generating chains (part of the file name).
    n_jobs : int, default=None
        Parallel chains while generating (joblib); the data do not depend on it.
    verbose : int, default=1
        Progress bar while generating.

    Returns
    -------
    lattices : ndarray of shape (n_configs, size, size), dtype int8
        Spins 0/1.

    Examples
    --------
    >>> import tempfile
    >>> from sk_rgmi.datasets import load_critical_ising
    >>> with tempfile.TemporaryDirectory() as home:
    ...     data = load_critical_ising(n_configs=4, size=9, source_size=27,
    ...                                data_home=home, verbose=0)
    >>> data.shape, data.dtype
    ((4, 9, 9), dtype('int8'))
    """
    from .ising import _validate_algorithm, sample_ising

    n_configs = _check_int(n_configs, "n_configs", minimum=1)
    size = _check_int(size, "size", minimum=1)
    source_size = _check_int(source_size, "source_size", minimum=2)
    n_rounds = _n_rounds_of_three(size, source_size)
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"temperature must be a number, got {temperature!r}.")
    temperature = float(temperature)
    if not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature}.")
    algorithm = _validate_algorithm(algorithm)
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            "random_state must be an int for a cached data set (it names the file), "
            f"got {type(random_state).__name__}."
        )
    t_name = "Tc" if temperature == T_C else f"T{temperature:.8g}"
    fname = (
        f"ising_{size}x{size}_from_{source_size}x{source_size}_{t_name}_"
        f"{algorithm}_n{n_configs}_seed{int(random_state)}_v{_DATA_VERSION}.npy"
    )
    path = Path(get_data_home(data_home)) / fname
    if path.exists():
        return load_lattices(path)
    data = sample_ising(
        n_configs,
        source_size,
        temperature,
        algorithm=algorithm,
        spins="01",
        random_state=int(random_state),
        n_jobs=n_jobs,
        verbose=verbose,
        majority_rounds=n_rounds,
    )
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, data, allow_pickle=False)
    os.replace(tmp, path)  # atomic: a crashed run leaves no half-written cache
    return data


def load_lattices(path: str | os.PathLike) -> np.ndarray:
    """Load and validate a user's ``.npy`` file of square spin lattices.

    The file must hold an array of shape ``(n, L, L)`` (``L >= 2``) of binary spins:
    values 0/1 or -1/+1, stored as bool, integer or float (floats only with exactly
    those values). Loaded with ``allow_pickle=False``. The array is returned as
    ``int8`` with its values (0/1 or ±1) unchanged; bool becomes 0/1.

    Parameters
    ----------
    path : str or path-like
        ``.npy`` file, e.g. the seed notebook's ``ising27x27from2187x2187.npy``.

    Returns
    -------
    lattices : ndarray of shape (n, L, L), dtype int8

    Raises
    ------
    ValueError
        Wrong number of dimensions, non-square lattices, empty array, values other
        than {0, 1} or {-1, 1} (or a mix of both), NaN.
    TypeError
        A non-numeric dtype (object, string, complex).

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from sk_rgmi.datasets import load_lattices
    >>> path = os.path.join(tempfile.mkdtemp(), "mine.npy")
    >>> np.save(path, np.zeros((3, 4, 4)))
    >>> load_lattices(path).shape
    (3, 4, 4)
    """
    try:
        arr = np.load(os.fspath(path), allow_pickle=False)
    except ValueError as exc:
        raise TypeError(
            f"{os.fspath(path)!r} holds an object (pickled) array; lattices must be "
            f"a numeric array: {exc}"
        ) from exc
    if not isinstance(arr, np.ndarray):
        raise TypeError(
            f"{os.fspath(path)!r} is an .npz archive, not a single .npy array."
        )
    return _check_lattices(arr, name=f"lattices in {os.fspath(path)!r}", square=True)


def _check_lattices(
    arr: Any, *, name: str = "lattices", square: bool = False, allow_2d: bool = False
) -> np.ndarray:
    """Validate an array of binary spin lattices; return it as int8."""
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
    if arr.dtype.kind == "b":
        return arr.astype(np.int8)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity.")
    values = np.unique(arr)
    if not (set(values.tolist()) <= {0, 1} or set(values.tolist()) <= {-1, 1}):
        shown = values[:6].tolist()
        raise ValueError(
            f"{name} must hold binary spins, 0/1 or -1/+1 (not a mix), got values "
            f"{shown}{' ...' if values.size > 6 else ''}."
        )
    return arr.astype(np.int8, copy=False)
