"""Data home, the cached critical data set and the loader of user lattice files."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import DataCacheWarning
from ._checks import (
    _check_algorithm,
    _check_int,
    _check_lattices,
    _check_spins_format,
    _check_temperature,
    _n_rounds_of_three,
)
from .exact import T_C
from .ising import sample_ising

__all__ = [
    "clear_data_home",
    "get_data_home",
    "load_critical_ising",
    "load_lattices",
]

# Part of the cache file names; bump when the data for given arguments change.
# 2: chains seeded from the "chains" stream of random_state (sk_rgmi._random).
_DATA_VERSION = 2


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


# ----------------------------------------------------------------------- .npy files
def _read_npy(path: str | os.PathLike) -> np.ndarray:
    """The array in a ``.npy`` file; a damaged file raises an error naming it.

    Raises ``ValueError`` for an empty, truncated or non-``.npy`` file and
    ``TypeError`` for an object (pickled) array or an ``.npz`` archive.
    """
    name = os.fspath(path)
    n_bytes = os.path.getsize(name)  # a missing file raises FileNotFoundError
    if n_bytes == 0:
        raise ValueError(f"{name!r} is empty (0 bytes), not a .npy array.")
    fmt = np.lib.format
    with open(name, "rb") as fh:
        magic = fh.read(6)
        if magic.startswith(b"PK\x03\x04"):
            raise TypeError(f"{name!r} is an .npz archive, not a single .npy array.")
        if magic != fmt.MAGIC_PREFIX:
            raise ValueError(f"{name!r} is not a .npy file (no NumPy magic bytes).")
        fh.seek(0)
        try:
            version = fmt.read_magic(fh)
            read_header = {
                (1, 0): fmt.read_array_header_1_0,
                (2, 0): fmt.read_array_header_2_0,
            }.get(version)
            header = None if read_header is None else read_header(fh)
        except (ValueError, EOFError, OSError) as exc:
            raise ValueError(
                f"{name!r} is not a valid .npy file (damaged header): {exc}"
            ) from exc
        if header is not None:
            shape, _, dtype = header
            if dtype.hasobject:
                raise TypeError(
                    f"{name!r} holds an object (pickled) array; lattices must be a "
                    "numeric array."
                )
            needed = math.prod(shape) * dtype.itemsize
            present = n_bytes - fh.tell()
            if present < needed:
                raise ValueError(
                    f"{name!r} is truncated: its header announces an array of shape "
                    f"{shape} and dtype {dtype} ({needed} bytes of data), but the "
                    f"file holds only {present} bytes of data."
                )
    try:
        return np.load(name, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise ValueError(f"{name!r} could not be read as a .npy array: {exc}") from exc


def _save_npy_atomically(path: Path, data: np.ndarray) -> None:
    """Write ``data`` to ``path`` through a unique temporary file in the same folder.

    ``os.replace`` is atomic, so readers see either no file or a complete one, and
    several processes writing the same data set never share a temporary file.
    """
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp.npy"
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, data, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes the file private to its owner
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _load_cached(
    path: Path, shape: tuple[int, ...], dtype: Any = np.int8
) -> np.ndarray | None:
    """The cached array of ``shape`` and ``dtype`` at ``path``, or None.

    ``int8`` arrays must hold 0/1 spins, float arrays finite values. None when
    there is no file, or (with a :class:`DataCacheWarning` naming it) when the file
    is damaged or does not hold what its name promises.
    """
    if not path.exists():
        return None
    try:
        data = _read_npy(path)
    except (ValueError, TypeError) as exc:
        problem = str(exc)
    else:
        if data.shape != shape:
            problem = f"it holds shape {data.shape}, the request is {shape}"
        elif data.dtype != np.dtype(dtype):
            problem = f"it holds dtype {data.dtype}, expected {np.dtype(dtype)}"
        elif data.dtype == np.int8 and (data.min() < 0 or data.max() > 1):
            problem = "it holds values other than 0/1"
        elif data.dtype.kind == "f" and not np.isfinite(data).all():
            problem = "it holds NaN or infinity"
        else:
            return data
    warnings.warn(
        f"The cached data set {str(path)!r} is damaged or does not match the "
        f"request ({problem}); generating it again.",
        DataCacheWarning,
        stacklevel=3,
    )
    return None


# -------------------------------------------------------------------------- loaders
def load_critical_ising(
    *,
    n_configs: int = 1000,
    size: int = 27,
    source_size: int = 2187,
    temperature: float = T_C,
    algorithm: str = "wolff",
    spins: str = "01",
    data_home: str | os.PathLike | None = None,
    random_state: int = 0,
    n_jobs: int | None = None,
    verbose: int = 1,
) -> np.ndarray:
    """Critical 2D Ising configurations coarse-grained by 3×3 majority rule (cached).

    Equilibrium configurations are sampled with :func:`sample_ising` on a periodic
    ``source_size × source_size`` lattice at ``temperature`` (default ``T_C``), each
    coarse-grained by repeated 3×3 majority rule (:func:`block_spin`; 3×3 never
    ties) down to ``size × size`` -- the layout of the original notebook's
    ``ising27x27from2187x2187.npy`` (2187 = 27 · 3^4). The set is generated once
    and saved as 0/1 ``.npy`` under :func:`get_data_home`, in a file whose name
    encodes every parameter; later calls load it. Full-size lattices are never
    stored: each chain keeps one lattice and coarse-grains every sample as it is
    recorded (≈6 bytes per site).

    The cache is checked on every load: a damaged file (empty, truncated, not a
    ``.npy`` array) or one whose shape, dtype or values do not match the request is
    generated again, with a :class:`~sk_rgmi.exceptions.DataCacheWarning` naming
    it. Files are written through a unique temporary file and an atomic rename, so
    several processes may generate the same set at once (each gets the same data).

    Cost (measured, one core): ≈0.9 s per independent 27×27-from-2187 configuration
    with Wolff plus ≈16 s of burn-in per 50-sample chain, ≈21 CPU-minutes for the
    default 1000 configurations, spread over all cores by default (≈11 min on two);
    with ``verbose`` the expected time is printed before the work starts. See
    ``docs/datasets_measurements.rst``.

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
    spins : {"01", "pm1"}, default="01"
        Encoding of the returned spins (the cache always holds 0/1).
    data_home : str or path-like, default=None
        Cache folder; see :func:`get_data_home`.
    random_state : int, default=0
        Seed of the generating chains (part of the file name).
    n_jobs : int, default=None
        Parallel chains while generating (joblib threads). None: all cores (-1;
        under a ``joblib.parallel_backend`` context, all of its workers), since the
        data do not depend on ``n_jobs``; 1 for one core.
    verbose : int, default=1
        While generating: the expected time, then a progress bar.

    Returns
    -------
    lattices : ndarray of shape (n_configs, size, size), dtype int8
        Spins 0/1 (or ±1 with ``spins="pm1"``).

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
    n_configs = _check_int(n_configs, "n_configs", minimum=1)
    size = _check_int(size, "size", minimum=1)
    source_size = _check_int(source_size, "source_size", minimum=2)
    n_rounds = _n_rounds_of_three(size, source_size)
    temperature = _check_temperature(temperature)
    algorithm = _check_algorithm(algorithm)
    spins = _check_spins_format(spins)
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
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
    data = _load_cached(path, (n_configs, size, size))
    if data is None:
        if verbose:
            print(
                f"load_critical_ising: generating {str(path)!r} once (later calls "
                "load it)",
                file=sys.stderr,
                flush=True,
            )
        data = sample_ising(
            n_configs,
            source_size,
            temperature,
            algorithm=algorithm,
            spins="01",
            random_state=int(random_state),
            n_jobs=-1 if n_jobs is None else n_jobs,
            verbose=verbose,
            majority_rounds=n_rounds,
        )
        _save_npy_atomically(path, data)
    return 2 * data - 1 if spins == "pm1" else data


def load_lattices(path: str | os.PathLike) -> np.ndarray:
    """Load and validate a user's ``.npy`` file of square spin lattices.

    The file must hold an array of shape ``(n, L, L)`` (``L >= 2``) of binary spins:
    values 0/1 or -1/+1, stored as bool, integer or float (floats only with exactly
    those values). Loaded with ``allow_pickle=False``. The array is returned as
    ``int8`` with its values (0/1 or ±1) unchanged; bool becomes 0/1.

    Parameters
    ----------
    path : str or path-like
        ``.npy`` file, e.g. the original notebook's ``ising27x27from2187x2187.npy``.

    Returns
    -------
    lattices : ndarray of shape (n, L, L), dtype int8

    Raises
    ------
    ValueError
        A damaged file (empty, truncated, not a ``.npy`` file), wrong number of
        dimensions, non-square lattices, empty array, values other than {0, 1} or
        {-1, 1} (or a mix of both), NaN; the message names the file.
    TypeError
        A non-numeric dtype (object/pickled, string, complex) or an ``.npz``
        archive.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from sk_rgmi.datasets import load_lattices
    >>> path = os.path.join(tempfile.mkdtemp(), "mine.npy")
    >>> np.save(path, np.zeros((3, 4, 4)))
    >>> load_lattices(path).shape
    (3, 4, 4)
    """
    arr = _read_npy(path)
    return _check_lattices(arr, name=f"lattices in {os.fspath(path)!r}", square=True)[0]
