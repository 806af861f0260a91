"""Cached data of the RSMI study: lattices and per-configuration flow observables.

Everything is generated once into the data home (:func:`sk_rgmi.datasets.
get_data_home`) through the datasets' atomic cache helpers, under names that
encode every parameter, and loaded on later runs:

- ``rsmi_lattices_*.npy``: 0/1 lattices (the decay measurement, the flow's
  training set);
- ``rsmi_flow_*.npy``: the learned RG rules (filters, thresholds, MI per step);
- ``rsmi_scan_*.npy``: per configuration of a temperature scan, the chain, the
  energy, and the magnetisation and nearest-neighbour correlation of the lattice
  at every step of every flow -- the full lattices of a scan (up to 5 GB) are
  never stored.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._random import stream
from ..datasets._base import _load_cached, _save_npy_atomically, get_data_home
from ..datasets._checks import _as_pm1
from ..datasets.ising import SAMPLES_PER_CHAIN, _chain_counts

__all__ = ["cached_lattices", "cached_scan", "load_array", "save_array"]

# bump when the data for given names change
_VERSION = 1
# lattice sites (bytes of int8) sampled per chunk of a scan
_CHUNK_SITES = 60_000_000


def _t_name(temperature: float) -> str:
    return f"T{temperature:.8g}"


def _path(data_home: Any, name: str) -> Path:
    return Path(get_data_home(data_home)) / f"{name}_v{_VERSION}.npy"


def cached_lattices(
    n_lattices: int,
    size: int,
    temperature: float,
    *,
    per_chain: int,
    seed: int,
    tag: str,
    data_home: Any,
    n_jobs: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """±1 lattices ``(n, L, L)`` (cached as 0/1) and the chain of each.

    ``per_chain`` lattices per Markov chain (short chains give many independent
    groups for grouped errors); ``tag`` names the use (part of the seed and file).
    """
    from ..datasets import sample_ising

    n_chains = math.ceil(n_lattices / per_chain)
    name = (
        f"rsmi_lattices_{tag}_{size}x{size}_{_t_name(temperature)}_n{n_lattices}_"
        f"c{n_chains}_seed{seed}"
    )
    path = _path(data_home, name)
    data = _load_cached(path, (n_lattices, size, size))
    if data is None:
        data = sample_ising(
            n_lattices, size, temperature, n_chains=n_chains, n_jobs=n_jobs,
            random_state=stream(stream(seed, "chains"), name),
        )  # fmt: skip
        _save_npy_atomically(path, data)
    chains = np.repeat(np.arange(n_chains), _chain_counts(n_lattices, n_chains))
    return _as_pm1(data, True), chains


def load_array(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """A cached finite float64 array of ``shape``, or None (warning if damaged)."""
    return _load_cached(path, shape, np.float64)


def save_array(path: Path, data: np.ndarray) -> None:
    """Save a float64 array atomically (see :func:`load_array`)."""
    _save_npy_atomically(path, np.asarray(data, dtype=np.float64))


def flow_path(data_home: Any, name: str) -> Path:
    """Where a learned flow named ``name`` is cached."""
    return _path(data_home, f"rsmi_flow_{name}")


def rules_key(rules: dict[str, Any]) -> str:
    """A short stable name for a set of flows (their names and parameters)."""
    text = ";".join(f"{k}={v}" for k, v in sorted(rules.items()))
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


def cached_scan(
    size: int,
    temperatures: Sequence[float],
    n_configs: int,
    *,
    flows: dict[str, Callable[[np.ndarray], list[np.ndarray]]],
    n_steps: int,
    key: str,
    seed: int,
    data_home: Any,
    n_jobs: int | None,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Observables of ``n_configs`` lattices at every temperature, every flow step.

    ``flows[name](lattices)`` returns the ``n_steps`` coarse-grained lattices of a
    chunk of ±1 lattices. Per temperature: ``chain`` (int), ``energy`` (per
    spin), and ``m[name][k]`` / ``nn[name][k]`` -- magnetisation and
    nearest-neighbour correlation at step ``k = 0 ... n_steps`` (step 0: the raw
    lattice, shared by all flows). ``key`` names the flows' parameters in the file
    name; ``progress(n)`` is called as configurations are done.
    """
    from ..datasets import sample_ising
    from ..rg import lattice_observables

    names = sorted(flows)
    n_cols = 3 + 2 * len(names) * n_steps
    per_chunk = max(1, _CHUNK_SITES // (size * size) // SAMPLES_PER_CHAIN)
    per_chunk *= SAMPLES_PER_CHAIN  # whole chains of the sampler's default length
    out = []
    for temperature in temperatures:
        name = (
            f"rsmi_scan_{size}x{size}_{_t_name(temperature)}_n{n_configs}_"
            f"{key}_steps{n_steps}_seed{seed}"
        )
        path = _path(data_home, name)
        table = load_array(path, (n_configs, n_cols))
        if table is None:
            parts = []
            for c0 in range(0, n_configs, per_chunk):
                n_chunk = min(per_chunk, n_configs - c0)
                x, obs = sample_ising(
                    n_chunk, size, temperature, spins="pm1", n_jobs=n_jobs,
                    return_observables=True,  # chains of SAMPLES_PER_CHAIN records
                    random_state=stream(stream(seed, "chains"), f"{name}-{c0}"),
                )  # fmt: skip
                cols = [obs.chain + c0, obs.energy, obs.magnetization]
                for rule in names:
                    steps = flows[rule](x)
                    if len(steps) != n_steps:
                        raise ValueError(f"flow {rule!r} gave {len(steps)} steps.")
                    for lat in steps:
                        o = lattice_observables(lat)
                        cols += [o.magnetization, o.nn_correlation]
                parts.append(np.stack(cols, axis=1))
                if progress is not None:
                    progress(n_chunk)
            table = np.concatenate(parts, axis=0)
            save_array(path, table)
        elif progress is not None:
            progress(n_configs)
        entry: dict[str, Any] = {
            "chain": table[:, 0].astype(np.int64),
            "energy": table[:, 1],
            "m": {},
            "nn": {},
        }
        for r, rule in enumerate(names):
            base = 3 + 2 * n_steps * r
            entry["m"][rule] = [table[:, 2]] + [
                table[:, base + 2 * k] for k in range(n_steps)
            ]
            entry["nn"][rule] = [-table[:, 1] / 2] + [
                table[:, base + 2 * k + 1] for k in range(n_steps)
            ]
        out.append(entry)
    return out
