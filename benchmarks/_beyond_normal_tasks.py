"""Tasks, cached samples, estimator specs and the results file of the Beyond Normal run.

Helper of ``benchmarks/bench_beyond_normal.py`` (its docstring says how to run it).
``bmi`` (PyPI ``benchmark-mi``) and jax are imported only inside the functions that
need them, so the report and the spec parser work without them.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib.metadata
import json
import math
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"

# bmi's estimators, by spec name: (class name in bmi.estimators, kind). "split":
# neural, trained on the fit part and checkpoint-selected on the held-out part;
# "fit": sees the fit part only.
BMI_ESTIMATORS: dict[str, tuple[str, str]] = {
    "bmi-ksg": ("KSGEnsembleFirstEstimator", "fit"),
    "bmi-cca": ("CCAMutualInformationEstimator", "fit"),
    "bmi-mine": ("MINEEstimator", "split"),
    "bmi-infonce": ("InfoNCEEstimator", "split"),
    "bmi-nwj": ("NWJEstimator", "split"),
    "bmi-dv": ("DonskerVaradhanEstimator", "split"),
}
BMI_NEURAL = tuple(k for k, (_, kind) in BMI_ESTIMATORS.items() if kind == "split")

# sk_rgmi's estimators, by short spec name (any public class name works too)
SK_ESTIMATORS: dict[str, str] = {
    "mine": "MINEEstimator",
    "ksg": "KSGEstimator",
    "plugin": "PluginMIEstimator",
}


# ------------------------------------------------------------------ specs
@dataclass(frozen=True)
class Spec:
    """Estimator name and keyword parameters, e.g. ``mine:lr=3e-3,hidden_size=64``."""

    name: str
    params: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def key(self) -> str:
        """Canonical text (parameters sorted): the cache key and the table label."""
        if not self.params:
            return self.name
        body = ",".join(f"{k}={v!r}" for k, v in sorted(self.params))
        return f"{self.name}:{body}"

    @property
    def is_bmi(self) -> bool:
        return self.name in BMI_ESTIMATORS


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets: ``a=(1, 2),b=3`` -> two items."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_spec(text: str) -> Spec:
    """``name`` or ``name:key=value,key=value`` with Python literals as values.

    >>> parse_spec("mine:lr=3e-3,hidden_size=64").key
    'mine:hidden_size=64,lr=0.003'
    >>> parse_spec("bmi-mine:hidden_layers=(16, 8)").params
    (('hidden_layers', (16, 8)),)
    >>> parse_spec("mine:normalize=zscore").params  # bare words are strings
    (('normalize', 'zscore'),)
    """
    name, _, body = text.strip().partition(":")
    if (
        name not in BMI_ESTIMATORS
        and name not in SK_ESTIMATORS
        and not name[:1].isupper()
    ):
        known = sorted([*BMI_ESTIMATORS, *SK_ESTIMATORS])
        raise ValueError(
            f"unknown estimator {name!r}: use one of {known} or an sk_rgmi class name"
        )
    params = []
    for item in _split_top_level(body):
        key, eq, value = item.partition("=")
        if not eq:
            raise ValueError(f"parameter {item!r} of {text!r} is not key=value")
        try:
            parsed = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            parsed = value.strip()
        params.append((key.strip(), parsed))
    return Spec(name, tuple(sorted(params)))


# ------------------------------------------------------------------ threads
def limit_threads(n_threads: int) -> None:
    """Limit BLAS/OpenMP/XLA/numba threads.

    The environment variables act on libraries loaded later (jax, numba, torch);
    threadpoolctl limits the BLAS/OpenMP pools already loaded (this module imports
    numpy, so numpy's BLAS is one of them).
    """
    from threadpoolctl import threadpool_limits

    for var in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMBA_NUM_THREADS",
    ):
        os.environ[var] = str(n_threads)
    if n_threads == 1:
        os.environ["XLA_FLAGS"] = (
            "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    threadpool_limits(limits=n_threads)


# ------------------------------------------------------------------ tasks
@dataclass(frozen=True)
class TaskInfo:
    task_id: str
    name: str
    dim_x: int
    dim_y: int
    mi_true: float  # nats


TASKS_FILE = RESULTS_DIR / "beyond_normal_tasks.json"


def list_tasks(filters: list[str] | None = None) -> list[TaskInfo]:
    """The 40 benchmark tasks in bmi's order, optionally filtered by substrings.

    Read from bmi when it is installed (and saved to ``TASKS_FILE``), else from
    ``TASKS_FILE``, so that runs on cached samples and the report need no bmi.
    """
    try:
        import bmi
    except ImportError:
        if not TASKS_FILE.exists():
            raise ImportError(
                f"bmi (PyPI benchmark-mi) is not installed and {TASKS_FILE} is missing"
            ) from None
        tasks = [TaskInfo(**t) for t in json.loads(TASKS_FILE.read_text())]
    else:
        tasks = []
        for task_id, task in bmi.BENCHMARK_TASKS.items():
            meta = task.metadata
            tasks.append(
                TaskInfo(task_id, meta.task_name, meta.dim_x, meta.dim_y, meta.mi_true)
            )
        text = json.dumps([t.__dict__ for t in tasks], indent=1) + "\n"
        if not TASKS_FILE.exists() or TASKS_FILE.read_text() != text:
            TASKS_FILE.parent.mkdir(parents=True, exist_ok=True)
            TASKS_FILE.write_text(text)
    return [
        t
        for t in tasks
        if not filters or any(f in t.task_id or f in t.name for f in filters)
    ]


def load_sample(task_id: str, seed: int, n_total: int) -> tuple[np.ndarray, np.ndarray]:
    """``task.sample(n_total, seed)`` as float64 arrays, cached as .npz."""
    cache_dir = RESULTS_DIR / "cache"
    path = cache_dir / f"{task_id}-n{n_total}-s{seed}.npz"
    if path.exists():
        with np.load(path) as data:
            return data["x"].astype(np.float64), data["y"].astype(np.float64)
    try:
        import bmi
    except ImportError:
        raise ImportError(
            f"{path} is not cached and bmi (PyPI benchmark-mi) is not installed: "
            "sample in the benchmark environment first (--prepare)"
        ) from None
    x, y = bmi.BENCHMARK_TASKS[task_id].sample(n_total, seed)
    x, y = np.asarray(x), np.asarray(y)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, x=x, y=y)
    tmp.replace(path)
    return x.astype(np.float64), y.astype(np.float64)


# ------------------------------------------------------------------ runners
def _jsonable(value: Any) -> Any:
    """numpy scalars/arrays and tuples -> plain JSON values (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return repr(value)


@contextlib.contextmanager
def _bmi_fixed_split(n_fit: int) -> Iterator[None]:
    """Make bmi's neural estimators train on rows [:n_fit] and test on [n_fit:].

    bmi splits at random (``sklearn.model_selection.train_test_split``) inside
    ``estimate``; its one module-level split function is swapped for the duration,
    so they see exactly the fit / held-out parts the sk_rgmi estimators see.
    """
    from bmi.estimators.neural import _estimators

    def split(xs, ys, train_size, key):
        return xs[:n_fit], xs[n_fit:], ys[:n_fit], ys[n_fit:]

    original = _estimators.train_test_split
    _estimators.train_test_split = split
    try:
        yield
    finally:
        _estimators.train_test_split = original


_SEED_PARAMS = ("seed", "random_state")


def build(spec: Spec, seed: int) -> Any:
    """The estimator of ``spec``: bmi's with ``verbose=False``; ``seed`` is its
    ``seed`` / ``random_state`` unless the spec sets one."""
    params = dict(spec.params)
    if spec.is_bmi:
        import bmi.estimators as bmi_est

        cls_name, kind = BMI_ESTIMATORS[spec.name]
        if kind == "split":
            params.setdefault("verbose", False)
            params.setdefault("seed", seed)
        return getattr(bmi_est, cls_name)(**params)
    import sk_rgmi

    cls = getattr(sk_rgmi, SK_ESTIMATORS.get(spec.name, spec.name))
    if "random_state" in cls().get_params():
        params.setdefault("random_state", seed)
    return cls(**params)


def fingerprint(spec: Spec) -> tuple[dict[str, Any], str]:
    """All parameters ``spec`` resolves to (defaults included, seed left out) and a
    short hash of them: part of the cache key, so a change of an estimator's
    defaults is not served from old results."""
    est = build(spec, seed=0)
    params = est.parameters().dict() if spec.is_bmi else est.get_params(deep=False)
    params = {k: v for k, v in params.items() if k not in _SEED_PARAMS}
    params = _jsonable(params)
    text = json.dumps([spec.name, params], sort_keys=True)
    return params, hashlib.sha1(text.encode()).hexdigest()[:10]


def _run_bmi(est: Any, spec: Spec, x, y, n_fit: int) -> dict[str, Any]:
    kind = BMI_ESTIMATORS[spec.name][1]
    t0, c0 = time.perf_counter(), time.process_time()
    if kind == "split":
        with _bmi_fixed_split(n_fit):
            result = est.estimate_with_info(x, y)
        value, info = result.mi_estimate, result.additional_information
    else:
        value, info = est.estimate(x[:n_fit], y[:n_fit]), {}
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    flags = sorted(k for k, v in info.items() if v is True)
    return {
        "estimate": float(value),
        "fit_seconds": wall,
        "cpu_seconds": cpu,
        "flags": flags,
        "n_steps": info.get("n_training_steps"),
    }


def _diagnostic_flags(diagnostics: Any) -> list[str] | None:
    """The flag list of an sk_rgmi ``diagnostics_`` dict (None when absent)."""
    if not isinstance(diagnostics, dict):
        return None
    flags = diagnostics.get("flags")
    return None if flags is None else [str(f) for f in flags]


def _run_sk(est: Any, spec: Spec, x, y, n_fit: int) -> dict[str, Any]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0, c0 = time.perf_counter(), time.process_time()
        est.fit(x[:n_fit], y[:n_fit])
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        t1 = time.perf_counter()
        score = est.score(x[n_fit:], y[n_fit:]) if len(x) > n_fit else None
        score_seconds = time.perf_counter() - t1
    # sk_rgmi's own warnings are flags a user sees; library deprecations are not
    warned = sorted(
        {
            f"warning:{w.category.__name__}"
            for w in caught
            if w.category.__module__.startswith("sk_rgmi")
        }
    )
    ci = getattr(est, "mi_ci_", None)
    diagnostics = getattr(est, "diagnostics_", None)
    std = getattr(est, "mi_std_", None)
    return {
        "estimate": float(est.mi_),
        "score": None if score is None else float(score),
        "std": None if std is None else float(std),
        "ci_low": None if ci is None else float(ci[0]),
        "ci_high": None if ci is None else float(ci[1]),
        "flags": (_diagnostic_flags(diagnostics) or []) + warned,
        "diagnostics": None if diagnostics is None else _jsonable(diagnostics),
        "fit_seconds": wall,
        "cpu_seconds": cpu,
        "score_seconds": score_seconds,
    }


@functools.cache
def environment() -> str:
    """Versions that can change the numbers: Python, numpy, torch/jax when loaded,
    sk_rgmi and its git commit (``+`` if the tree has uncommitted changes)."""
    import platform
    import subprocess
    import sys

    parts = [f"python {platform.python_version()}", f"numpy {np.__version__}"]
    for mod in ("torch", "jax", "sklearn"):
        if mod in sys.modules:
            parts.append(f"{mod} {sys.modules[mod].__version__}")
    if "bmi" in sys.modules:
        parts.append(f"benchmark-mi {importlib.metadata.version('benchmark-mi')}")
    if "sk_rgmi" in sys.modules:
        repo = Path(sys.modules["sk_rgmi"].__file__).resolve().parents[1]
        try:
            commit = subprocess.run(
                ["git", "-C", str(repo), "describe", "--always", "--dirty=+"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            commit = "?"
        parts.append(f"sk_rgmi {sys.modules['sk_rgmi'].__version__} ({commit})")
    return ", ".join(parts)


def run_one(
    spec: Spec, task: TaskInfo, seed: int, n_fit: int, n_test: int, params_hash: str
) -> dict[str, Any]:
    """Fit one estimator on one (task, seed); a failure is a row with ``error``."""
    x, y = load_sample(task.task_id, seed, n_fit + n_test)
    row: dict[str, Any] = {
        "task": task.task_id,
        "seed": seed,
        "n_fit": n_fit,
        "n_test": n_test,
        "mi_true": task.mi_true,
        "estimator": spec.key,
        "params_hash": params_hash,
    }
    runner = _run_bmi if spec.is_bmi else _run_sk
    try:
        row.update(runner(build(spec, seed), spec, x, y, n_fit))
    except Exception as exc:  # recorded, so one bad fit does not stop the run
        row.update(estimate=None, error=f"{type(exc).__name__}: {exc}"[:500])
    row["time"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    row["env"] = environment()
    return _jsonable(row)


# ------------------------------------------------------------------ results file
def row_key(row: dict[str, Any]) -> tuple:
    return (
        row["task"],
        row["seed"],
        row["estimator"],
        row["n_fit"],
        row["n_test"],
        row.get("params_hash"),
    )


def read_results(path: Path) -> list[dict[str, Any]]:
    """All rows of a JSON-lines results file; a later row replaces an earlier one."""
    if not path.exists():
        return []
    rows: dict[tuple, dict[str, Any]] = {}
    with path.open() as fh:
        for line in fh:
            line = line.strip()
            if line:
                row = json.loads(line)
                rows[row_key(row)] = row
    return list(rows.values())


def append_result(path: Path, row: dict[str, Any]) -> None:
    """Append one row with a single write (safe with concurrent appenders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fh.write(json.dumps(row, sort_keys=True) + "\n")


def params_path(results: Path) -> Path:
    """The side file mapping each ``params_hash`` to its spec and parameters."""
    return results.with_name(results.stem + "_params.json")


def read_params(results: Path) -> dict[str, Any]:
    """``params_hash`` -> ``{"estimator": spec, "params": {...}}`` of a results file."""
    path = params_path(results)
    return json.loads(path.read_text()) if path.exists() else {}


def record_params(results: Path, spec: Spec, params: dict, params_hash: str) -> None:
    """Remember what ``params_hash`` stands for (the report lists it)."""
    path = params_path(results)
    known = read_params(results)
    entry = {"estimator": spec.key, "params": params}
    if known.get(params_hash) != entry:
        known[params_hash] = entry
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
