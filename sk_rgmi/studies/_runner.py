"""The runner every study shares: repetitions, timings, per-row summaries.

A study is a tuple of rows (anything with a ``key``) and a function
``run_one(row, repetition) -> Outcome``. :func:`run_rows` calls it for every row and
every repetition, each repetition being an independent ``SeedSequence`` spawned from
the study's base seed, and :func:`summarise` turns a row's outcomes into the JSON-ready
numbers the report layer (:mod:`sk_rgmi.studies._report`) prints and writes.
"""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .._random import check_seed_sequence


class Row(Protocol):
    """What the runner needs of a row: a unique key."""

    key: str


@dataclass
class Outcome:
    """One fit of one row: the held-out value, the training-pair value, extras.

    ``extra`` holds JSON-ready per-fit data the report keeps, keyed by kind
    (``"filters"``, ``"history"``).
    """

    value: float
    train_value: float = math.nan
    extra: dict[str, Any] = field(default_factory=dict)


def load_critical(
    n_configs: int,
    size: int,
    source_size: int,
    *,
    seed: int,
    data_home: Any = None,
    n_jobs: int | None = None,
    verbose: int = 1,
) -> tuple[np.ndarray, dict[str, Any]]:
    """The study's critical Ising data set (cached) and the facts stored about it."""
    from ..datasets import load_critical_ising

    t0 = time.perf_counter()
    lattices = np.asarray(
        load_critical_ising(
            n_configs=n_configs,
            size=size,
            source_size=source_size,
            data_home=data_home,
            random_state=seed,
            n_jobs=n_jobs,
            verbose=verbose,
        )
    )
    info = {
        "n_configs": int(lattices.shape[0]),
        "size": int(lattices.shape[1]),
        "source_size": source_size,
        "load_or_generate_seconds": round(time.perf_counter() - t0, 2),
        "magnetisation_mean": float(np.mean(lattices)),
    }
    return lattices, info


def run_rows(
    rows: Sequence[Row],
    n_repeats: int,
    run_one: Callable[[Any, np.random.SeedSequence], Outcome],
    *,
    seed: int,
    verbose: int = 1,
) -> tuple[dict[str, list[Outcome]], dict[str, float]]:
    """Run every row ``n_repeats`` times, one spawned seed sequence per repetition.

    Returns the outcomes per row key and the seconds spent per row key. A row's
    numbers depend only on its repetition's seed sequence (and the streams the
    study names from it), never on which other rows run or in what order.
    """
    from tqdm.auto import tqdm

    repetitions = check_seed_sequence(seed).spawn(n_repeats)
    outcomes: dict[str, list[Outcome]] = {row.key: [] for row in rows}
    seconds: dict[str, float] = dict.fromkeys(outcomes, 0.0)
    tasks = [(row, k) for row in rows for k in range(n_repeats)]
    bar = tqdm(tasks, desc="estimating", unit="fit", disable=verbose < 1, leave=False)
    for row, k in bar:
        bar.set_postfix_str(f"{row.key} repetition {k + 1}/{n_repeats}")
        t0 = time.perf_counter()
        outcomes[row.key].append(run_one(row, repetitions[k]))
        seconds[row.key] += time.perf_counter() - t0
    bar.close()
    return outcomes, seconds


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Mean, standard deviation over repetitions, values and mean training value.

    ``std`` is the sample standard deviation (NaN for one repetition); ``train_mean``
    is None unless every outcome has a finite training value.
    """
    values = np.array([o.value for o in outcomes], dtype=float)
    trains = np.array([o.train_value for o in outcomes], dtype=float)
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values, ddof=1)) if values.size > 1 else math.nan,
        "n_seeds": int(values.size),
        "values": [float(v) for v in values],
        "train_mean": float(np.mean(trains)) if np.all(np.isfinite(trains)) else None,
    }


def extras(outcomes: Sequence[Outcome], kind: str) -> list[Any]:
    """The ``extra[kind]`` of every outcome that has one, in repetition order."""
    return [o.extra[kind] for o in outcomes if o.extra.get(kind) is not None]


def history_columns(history: Any) -> dict[str, list[float]] | None:
    """``{"epoch", "train_mi", "valid_mi"}`` columns of an estimator's ``history_``.

    ``history_`` is a list of per-epoch dicts (MI already in the estimator's units);
    epochs lacking a value get NaN.
    """
    if not history:
        return None
    return {
        key: [float(row.get(key, math.nan)) for row in history]
        for key in ("epoch", "train_mi", "valid_mi")
    }


def environment() -> dict[str, Any]:
    """Versions and machine facts stored with the results."""
    from .._version import __version__

    env: dict[str, Any] = {
        "sk_rgmi": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    try:
        import torch

        env["torch"] = torch.__version__
        env["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return env
