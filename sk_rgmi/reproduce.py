"""The seed notebook's study, end to end: ``sk-rgmi reproduce``.

The study (see the docs' *Reproduction* page): on 27×27 critical 2D Ising
configurations (block-spin coarse-grained from a larger lattice), measure the mutual
information between a block and the block directly to its right,

- count-based ("analytic") MI of 2×2 fine-grained blocks, of their 2×2 mean and of the
  3×3 ring mean (the seed's "frozen convolutions");
- MINE on 3×3 fine-grained blocks with the two critics ("Net 1" two-branch, "Net 2"
  residual concat), on the frozen rows, and on 2×2 blocks;
- learned coarse-grainers of 2×2 blocks: one binary unit (RSMI-style, compared with
  the exhaustive optimum) and the seed's real-valued linear map,

each beside the seed's value. Every neural figure here is a **held-out** estimate:
the estimator is fitted on one part of the pairs and scored on pairs it never saw
(the seed evaluated on its training data). Error bars are standard deviations over
independent seeds (fresh pairs, fresh initialisations) spawned from ``--seed``.
All MI values are in nats.

The CLI (:mod:`sk_rgmi.cli`) is a thin front end over :func:`run_study`,
:func:`format_table` and :func:`write_results`.
"""

from __future__ import annotations

import csv
import json
import math
import platform
import textwrap
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "PRESETS",
    "ROWS",
    "Preset",
    "RowSpec",
    "format_table",
    "make_figure",
    "run_study",
    "with_overrides",
    "write_results",
]


@dataclass(frozen=True)
class Preset:
    """Sizes of one run of the study.

    Attributes
    ----------
    name : str
        ``"tiny"`` (tests), ``"quick"`` (default) or ``"full"`` (the seed's sizes).
    n_configs, size, source_size : int
        The data set: ``n_configs`` configurations of ``size``×``size`` spins,
        block-spin coarse-grained from ``source_size``×``source_size`` critical
        lattices (rounds of 3×3 majority), as
        :func:`sk_rgmi.datasets.load_critical_ising`.
    n_pairs_count : int
        Pairs per seed for the count-based rows (the seed: 100,000).
    n_pairs_neural : int
        Pairs per seed for the neural rows, split into training and held-out parts
        (the seed: 10,000, all used for training and evaluation).
    test_fraction : float
        Held-out share of ``n_pairs_neural``.
    n_seeds : int
        Independent repetitions behind each error bar.
    mine_params, coarse_params : dict
        Parameters of :class:`~sk_rgmi.MINEEstimator` and
        :class:`~sk_rgmi.MIMaximizingCoarseGrainer`.
    description : str
        One line for the table header.
    """

    name: str
    n_configs: int
    size: int
    source_size: int
    n_pairs_count: int
    n_pairs_neural: int
    test_fraction: float
    n_seeds: int
    mine_params: dict[str, Any] = field(default_factory=dict)
    coarse_params: dict[str, Any] = field(default_factory=dict)
    description: str = ""


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        name="tiny",
        n_configs=8,
        size=27,
        source_size=81,
        n_pairs_count=4000,
        n_pairs_neural=1500,
        test_fraction=0.4,
        n_seeds=2,
        mine_params={"max_epochs": 3, "hidden_size": 16, "batch_size": 256},
        coarse_params={"max_epochs": 3, "hidden_size": 16, "batch_size": 256},
        description="tiny (tests only): 8 configs 27x27 from 81x81",
    ),
    "quick": Preset(
        name="quick",
        n_configs=60,
        size=27,
        source_size=729,
        n_pairs_count=100_000,
        n_pairs_neural=20_000,
        test_fraction=0.5,
        n_seeds=3,
        mine_params={"max_epochs": 40},
        coarse_params={},  # the coarse-grainer's defaults (30 epochs)
        description="quick: 60 configs 27x27 from 729x729 (3 rounds of 3x3 majority)",
    ),
    "full": Preset(
        name="full",
        n_configs=400,
        size=27,
        source_size=2187,
        n_pairs_count=100_000,
        n_pairs_neural=20_000,
        test_fraction=0.5,
        n_seeds=5,
        mine_params={"max_epochs": 100},
        coarse_params={"max_epochs": 100},
        description="full: 400 configs 27x27 from 2187x2187 (4 rounds of 3x3 majority)",
    ),
}


@dataclass(frozen=True)
class RowSpec:
    """One row of the seed's table.

    Attributes
    ----------
    key : str
        Identifier used in results.json / results.csv.
    label : str
        Human-readable description.
    block : tuple of int
        Block shape of the pairs.
    method : str
        ``"plugin"``, ``"mine"``, ``"coarse-binary"``, ``"coarse-linear"``,
        ``"exhaustive"`` or ``"linear-count"``.
    transform : str or None
        Fixed coarse-graining rule applied to both blocks first (``"mean"``,
        ``"ring-mean"``), or None.
    critic : str
        MINE critic for ``method="mine"``.
    seed_value : float or None
        The seed notebook's value (midpoint of its range), nats.
    seed_text : str
        The seed's value as reported, with its caveat.
    """

    key: str
    label: str
    block: tuple[int, int]
    method: str
    transform: str | None = None
    critic: str = "concat"
    seed_value: float | None = None
    seed_text: str = "-"


ROWS: tuple[RowSpec, ...] = (
    RowSpec("count_2x2_fine", "count-based, 2x2 fine-grained", (2, 2), "plugin",
            seed_value=0.4219, seed_text="0.4219"),
    RowSpec("count_2x2_mean", "count-based, 2x2 mean", (2, 2), "plugin", "mean",
            seed_value=0.3708, seed_text="0.3708"),
    RowSpec("count_3x3_ring", "count-based, 3x3 ring mean", (3, 3), "plugin",
            "ring-mean", seed_value=0.4128, seed_text="0.4128"),
    RowSpec("mine_3x3_fine_twobranch", "MINE, 3x3 fine, two-branch critic", (3, 3),
            "mine", critic="two-branch", seed_value=0.53,
            seed_text="~0.53 (train)"),
    RowSpec("mine_3x3_fine_concat", "MINE, 3x3 fine, concat critic", (3, 3), "mine",
            critic="concat", seed_value=0.56, seed_text="~0.55-0.57 (train)"),
    RowSpec("mine_3x3_ring", "MINE, 3x3 ring mean", (3, 3), "mine", "ring-mean",
            seed_value=0.42, seed_text="~0.41-0.43 (train)"),
    RowSpec("mine_2x2_fine", "MINE, 2x2 fine-grained", (2, 2), "mine",
            seed_value=0.426, seed_text="~0.426 (train)"),
    RowSpec("mine_2x2_mean", "MINE, 2x2 mean", (2, 2), "mine", "mean",
            seed_value=0.375, seed_text="~0.375 (train)"),
    RowSpec("coarse_2x2_binary", "learned binary coarse-grainer, 2x2 (count)",
            (2, 2), "coarse-binary", seed_text="-"),
    RowSpec("exhaustive_2x2_binary", "exhaustive best binary function, 2x2 (count)",
            (2, 2), "exhaustive", seed_text="-"),
    RowSpec("coarse_2x2_linear", "learned linear coarse-grainer, 2x2 (MINE)", (2, 2),
            "coarse-linear", seed_value=0.395, seed_text="~0.39-0.40 (train)"),
    RowSpec("linear_2x2_count", "linear coarse variable, 2x2 (count)", (2, 2),
            "linear-count", seed_text="-"),
)  # fmt: skip


# --------------------------------------------------------------------------------
# building blocks (each a thin call into the public API)


def _load_data(
    preset: Preset,
    *,
    seed: int,
    data_home: str | Path | None,
    n_jobs: int | None,
    verbose: int,
) -> tuple[np.ndarray, dict[str, Any]]:
    from .datasets import load_critical_ising

    t0 = time.perf_counter()
    lattices = load_critical_ising(
        n_configs=preset.n_configs,
        size=preset.size,
        source_size=preset.source_size,
        data_home=data_home,
        random_state=seed,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    seconds = time.perf_counter() - t0
    lattices = np.asarray(lattices)
    info = {
        "n_configs": int(lattices.shape[0]),
        "size": int(lattices.shape[1]),
        "source_size": preset.source_size,
        "load_or_generate_seconds": round(seconds, 2),
        "magnetisation_mean": float(np.mean(lattices)),
    }
    return lattices, info


def _pairs(
    lattices: np.ndarray, block: tuple[int, int], n_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    from .datasets import sample_block_pairs

    X, Y = sample_block_pairs(
        lattices,
        block_shape=block,
        n_pairs=n_pairs,
        direction="right",
        random_state=int(rng.integers(2**31 - 1)),
    )
    return np.asarray(X, dtype=float), np.asarray(Y, dtype=float)


def _fixed(rule: str | None, block: tuple[int, int], Z: np.ndarray) -> np.ndarray:
    if rule is None:
        return Z
    from .coarse_graining import BlockCoarseGrainer

    return np.asarray(
        BlockCoarseGrainer(rule=rule, block_shape=block).fit_transform(Z), dtype=float
    )


def _count_mi(X: np.ndarray, Y: np.ndarray) -> float:
    from .plugin import PluginMIEstimator

    # the seed's estimator: plain plug-in counts (its bias here is ~(K-1)^2/2N nats)
    return float(PluginMIEstimator(n_bins=None, correction="none").fit(X, Y).mi_)


def _split(
    X: np.ndarray, Y: np.ndarray, test_fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_test = max(1, round(test_fraction * len(X)))
    n_train = len(X) - n_test
    # the pairs are already in random order: the split is a cut
    return X[:n_train], Y[:n_train], X[n_train:], Y[n_train:]


def _child(seq: np.random.SeedSequence, name: str) -> np.random.SeedSequence:
    """A stream of ``seq`` keyed by a name (stable across runs and row subsets)."""
    return np.random.SeedSequence(
        seq.entropy, spawn_key=(*seq.spawn_key, zlib.crc32(name.encode()))
    )


@dataclass
class _Outcome:
    value: float
    train_value: float = math.nan
    extra: dict[str, Any] = field(default_factory=dict)


def _run_row(
    row: RowSpec,
    preset: Preset,
    lattices: np.ndarray,
    seed_seq: np.random.SeedSequence,
    device: str,
    cache: dict[Any, Any],
) -> _Outcome:
    # Pairs depend on (repetition, block shape, count/neural) only, so rows that
    # share a block shape see the same pairs within a repetition: the fine and
    # coarse count-based rows then obey the data-processing inequality exactly,
    # and MINE / coarse-grainers on 2x2 blocks are compared on identical data.
    kind = "count" if row.method == "plugin" else "neural"
    pair_rng = np.random.default_rng(_child(seed_seq, f"pairs-{kind}-{row.block}"))
    random_state = int(
        np.random.default_rng(_child(seed_seq, row.key)).integers(2**31 - 1)
    )
    if row.method == "plugin":
        X, Y = _pairs(lattices, row.block, preset.n_pairs_count, pair_rng)
        return _Outcome(
            _count_mi(
                _fixed(row.transform, row.block, X), _fixed(row.transform, row.block, Y)
            )
        )

    X, Y = _pairs(lattices, row.block, preset.n_pairs_neural, pair_rng)
    X, Y = _fixed(row.transform, row.block, X), _fixed(row.transform, row.block, Y)
    Xtr, Ytr, Xte, Yte = _split(X, Y, preset.test_fraction)

    if row.method == "mine":
        from .mine import MINEEstimator

        est = MINEEstimator(
            critic=row.critic, device=device, random_state=random_state,
            **preset.mine_params,
        )  # fmt: skip
        est.fit(Xtr, Ytr)
        return _Outcome(
            float(est.score(Xte, Yte)),
            float(est.score(Xtr, Ytr)),
            {"history": _history_dict(getattr(est, "history_", None))},
        )

    if row.method == "exhaustive":
        from .coarse_graining import exhaustive_binary_coarse_graining

        # the best Boolean function of the training pairs, scored on held-out pairs
        result = exhaustive_binary_coarse_graining(Xtr, Ytr)
        table = np.asarray(result.best_truth_table, dtype=int)
        hx, hy = _apply_truth_table(table, Xte), _apply_truth_table(table, Yte)
        return _Outcome(_count_mi(hx, hy), float(result.best_mi))

    # learned coarse-grainers (binary: RSMI-style; linear: the seed's set-up)
    from .coarse_graining import MIMaximizingCoarseGrainer
    from .exceptions import UndersampledWarning

    output = "binary" if row.method == "coarse-binary" else "continuous"
    # the two linear rows report one fitted map (its MINE bound and its count)
    cache_key = (output, tuple(seed_seq.spawn_key))
    if cache_key not in cache:
        model_key = "coarse_2x2_binary" if output == "binary" else "coarse_2x2_linear"
        cg = MIMaximizingCoarseGrainer(
            n_components=1, symmetric=True, output=output, device=device,
            random_state=int(
                np.random.default_rng(_child(seed_seq, model_key)).integers(2**31 - 1)
            ),
            **preset.coarse_params,
        )  # fmt: skip
        cache[cache_key] = cg.fit(Xtr, Ytr)
    cg = cache[cache_key]
    extra = {
        "filters": np.asarray(cg.components_, dtype=float).tolist(),
        "history": _history_dict(getattr(cg, "history_", None)),
    }
    hx, hy = np.asarray(cg.transform(Xte)), np.asarray(cg.transform(Yte))
    if row.method == "coarse-binary":
        # binary codes: the count-based MI of the held-out codes is exact
        htr, hytr = np.asarray(cg.transform(Xtr)), np.asarray(cg.transform(Ytr))
        return _Outcome(_count_mi(hx, hy), _count_mi(htr, hytr), extra)
    if row.method == "linear-count":
        # the linear map is (almost surely) injective on {0,1}^4: counting its
        # distinct outputs recovers the fine-grained MI -- the seed's degeneracy.
        # (small presets undersample the 16x16 table; the warning is expected there)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndersampledWarning)
            return _Outcome(
                _count_mi(np.round(hx, 9), np.round(hy, 9)), math.nan, extra
            )
    return _Outcome(float(cg.score(Xte, Yte)), float(cg.score(Xtr, Ytr)), extra)


def _apply_truth_table(table: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Apply a truth table indexed by block state, first feature most significant."""
    bits = (np.asarray(Z) > 0.5).astype(np.int64)
    codes = bits @ (1 << np.arange(bits.shape[1] - 1, -1, -1))
    return table[codes].reshape(-1, 1)


def _history_dict(history: Any) -> dict[str, list[float]] | None:
    if history is None:
        return None
    from .plotting import _TRAIN_KEYS, _VALID_KEYS, _column

    out = {}
    for name, keys in (("train_mi", _TRAIN_KEYS), ("valid_mi", _VALID_KEYS)):
        col = _column(history, keys)
        if col is not None:
            out[name] = [float(v) for v in col]
    return out or None


# --------------------------------------------------------------------------------
# the study


def run_study(
    preset: str | Preset = "quick",
    *,
    seed: int = 0,
    device: str = "cpu",
    n_jobs: int | None = None,
    data_home: str | Path | None = None,
    rows: tuple[RowSpec, ...] | None = None,
    verbose: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the seed's study and return its results as a JSON-ready dict.

    Parameters
    ----------
    preset : {"tiny", "quick", "full"} or Preset, default="quick"
        Sizes of the run (:data:`PRESETS`).
    seed : int, default=0
        Base seed: the data set and, through ``SeedSequence.spawn``, every repetition.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where the neural estimators train.
    n_jobs : int, default=None
        Parallel Markov chains for generating the data set.
    data_home : str or Path, default=None
        Cache folder for the data set (``SK_RGMI_DATA`` or ``~/sk_rgmi_data``).
    rows : tuple of RowSpec, default=None
        Subset of :data:`ROWS` to compute; all when omitted.
    verbose : int, default=1
        0: silent; 1: progress bars.
    progress : callable, default=None
        Called with a one-line message at each stage (the CLI prints them).

    Returns
    -------
    results : dict
        ``preset``, ``seed``, ``data`` (data-set facts and generation time),
        ``rows`` (per row: ``mean``, ``std`` over seeds, ``values``, ``train_mean``,
        the seed's value), ``filters``, ``histories``, ``timings``, ``environment``.
        MI values in nats.

    Examples
    --------
    >>> from sk_rgmi.reproduce import PRESETS, ROWS
    >>> PRESETS["quick"].source_size, [r.key for r in ROWS][:2]
    (729, ['count_2x2_fine', 'count_2x2_mean'])
    """
    from tqdm.auto import tqdm

    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(
                f"unknown preset {preset!r}; choose from {sorted(PRESETS)}"
            )
        preset = PRESETS[preset]
    rows = ROWS if rows is None else rows
    say = progress or (lambda msg: None)
    t_start = time.perf_counter()

    say(
        f"data: {preset.n_configs} configurations {preset.size}x{preset.size} from "
        f"{preset.source_size}x{preset.source_size} at T_c (cached after the first run)"
    )
    lattices, data_info = _load_data(
        preset, seed=seed, data_home=data_home, n_jobs=n_jobs, verbose=verbose
    )
    say(f"data ready in {data_info['load_or_generate_seconds']:.1f} s")

    children = np.random.SeedSequence(seed).spawn(preset.n_seeds)
    timings: dict[str, float] = {"data": data_info["load_or_generate_seconds"]}
    results_rows = []
    filters: dict[str, list[Any]] = {}
    histories: dict[str, Any] = {}
    tasks = [(row, k) for row in rows for k in range(preset.n_seeds)]
    cache: dict[Any, Any] = {}  # fitted coarse-grainers shared by two rows
    outcomes: dict[str, list[_Outcome]] = {row.key: [] for row in rows}
    bar = tqdm(tasks, desc="estimating", unit="fit", disable=verbose < 1, leave=False)
    for row, k in bar:
        bar.set_postfix_str(f"{row.key} seed {k + 1}/{preset.n_seeds}")
        t0 = time.perf_counter()
        # streams are keyed by names, so a row's numbers do not depend on which
        # other rows run or in what order
        outcomes[row.key].append(
            _run_row(row, preset, lattices, children[k], device, cache)
        )
        timings[row.key] = timings.get(row.key, 0.0) + time.perf_counter() - t0
    bar.close()

    for row in rows:
        outs = outcomes[row.key]
        values = np.array([o.value for o in outs], dtype=float)
        trains = np.array([o.train_value for o in outs], dtype=float)
        results_rows.append(
            {
                "key": row.key,
                "label": row.label,
                "method": row.method,
                "block": list(row.block),
                "transform": row.transform,
                "critic": row.critic if row.method == "mine" else None,
                "mean": float(np.mean(values)),
                "std": float(np.std(values, ddof=1)) if values.size > 1 else math.nan,
                "n_seeds": int(values.size),
                "values": [float(v) for v in values],
                "train_mean": (
                    float(np.mean(trains)) if np.all(np.isfinite(trains)) else None
                ),
                "seed_value": row.seed_value,
                "seed_text": row.seed_text,
                "seconds": round(timings[row.key], 2),
            }
        )
        if any("filters" in o.extra for o in outs):
            filters[row.key] = [
                o.extra["filters"] for o in outs if "filters" in o.extra
            ]
        hist = [o.extra.get("history") for o in outs if o.extra.get("history")]
        if hist:
            histories[row.key] = hist[0]

    timings["total"] = round(time.perf_counter() - t_start, 2)
    return {
        "preset": asdict(preset),
        "seed": seed,
        "device": device,
        "units": "nats",
        "data": data_info,
        "rows": results_rows,
        "filters": filters,
        "histories": histories,
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "environment": _environment(),
    }


def _environment() -> dict[str, Any]:
    import os

    from ._version import __version__

    env = {
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


# --------------------------------------------------------------------------------
# output


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def format_table(results: dict[str, Any], fmt: str = "text") -> str:
    """Render the results table.

    Parameters
    ----------
    results : dict
        The output of :func:`run_study`.
    fmt : {"text", "rst", "markdown"}, default="text"
        Plain fixed-width text, a reStructuredText grid table or a Markdown table.

    Returns
    -------
    table : str

    Examples
    --------
    >>> from sk_rgmi.reproduce import format_table
    >>> res = {"preset": {"description": "demo"}, "units": "nats", "rows": [
    ...     {"label": "a", "mean": 0.42, "std": 0.01, "n_seeds": 3,
    ...      "train_mean": None, "seed_text": "0.4219"}]}
    >>> print(format_table(res, "markdown"))  # doctest: +NORMALIZE_WHITESPACE
    | quantity | MI (nats) | ± std | train | seed |
    |---|---|---|---|---|
    | a | 0.4200 | 0.0100 | - | 0.4219 |
    """
    header = ["quantity", f"MI ({results['units']})", "± std", "train", "seed"]
    body = [
        [
            r["label"],
            _fmt(r["mean"]),
            _fmt(r["std"]),
            _fmt(r.get("train_mean")),
            r["seed_text"],
        ]
        for r in results["rows"]
    ]
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=True)]
    if fmt == "rst":
        sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        hsep = sep.replace("-", "=")

        def line(cells: list[str]) -> str:
            return (
                "| "
                + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
                + " |"
            )

        out = [sep, line(header), hsep]
        for row in body:
            out += [line(row), sep]
        return "\n".join(out)
    if fmt != "text":
        raise ValueError(f"fmt must be 'text', 'rst' or 'markdown', got {fmt!r}")
    n = results["rows"][0]["n_seeds"] if results["rows"] else 0
    p = results["preset"]
    n_count, n_neural = p.get("n_pairs_count"), p.get("n_pairs_neural")
    test = p.get("test_fraction")
    title = f"sk-rgmi reproduce -- {p['description']}\n" + textwrap.fill(
        f"MI in {results['units']}; ± = std over {n} seeds (fresh pairs and inits). "
        f"Count rows: plug-in on {n_count} pairs. Neural and learned rows: "
        f"held-out: fitted on {n_neural} pairs less a {test} share held out, scored "
        "on that share; 'train' = the same on its training pairs; seed = the "
        "notebook (its neural values are training-set values).",
        width=100,
    )
    fmt_line = "  ".join(
        f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths)
    )
    out = [title, fmt_line.format(*header), "-" * (sum(widths) + 2 * len(widths) - 2)]
    out += [fmt_line.format(*row) for row in body]
    return "\n".join(out)


def write_results(
    results: dict[str, Any], out_dir: str | Path, *, figure: bool = True
) -> dict[str, Path]:
    """Write ``results.json``, ``results.csv`` and ``reproduction.png`` into out_dir.

    Parameters
    ----------
    results : dict
        The output of :func:`run_study`.
    out_dir : str or Path
        Created if missing.
    figure : bool, default=True
        Also draw and save the figure (:func:`make_figure`).

    Returns
    -------
    paths : dict of str to Path
        ``{"json": ..., "csv": ..., "figure": ...}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "csv": out / "results.csv"}
    paths["json"].write_text(json.dumps(results, indent=2, allow_nan=True) + "\n")
    columns = [
        "key", "label", "mean", "std", "n_seeds", "train_mean", "seed_value",
        "seed_text", "seconds",
    ]  # fmt: skip
    with paths["csv"].open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in results["rows"]:
            writer.writerow(row)
    if figure:
        fig = make_figure(results)
        paths["figure"] = out / "reproduction.png"
        fig.savefig(paths["figure"], dpi=120, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
    return paths


def make_figure(results: dict[str, Any]) -> Any:
    """The study's figure: the table against the seed, one MINE history, the filters.

    Parameters
    ----------
    results : dict
        The output of :func:`run_study`.

    Returns
    -------
    figure : matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from .plotting import FilterDisplay, MIHistoryDisplay

    fig = plt.figure(figsize=(13, 5.2), layout="constrained")
    grid = fig.add_gridspec(2, 3, width_ratios=[1.6, 1.0, 0.9])
    ax_table = fig.add_subplot(grid[:, 0])
    rows = results["rows"]
    ypos = np.arange(len(rows))[::-1]
    means = np.array([r["mean"] for r in rows])
    stds = np.array([r["std"] if r["std"] is not None else np.nan for r in rows])
    ax_table.errorbar(
        means, ypos, xerr=np.nan_to_num(stds), fmt="o", capsize=3,
        label="sk_rgmi (held-out)",
    )  # fmt: skip
    trains = [r.get("train_mean") for r in rows]
    if any(t is not None for t in trains):
        ax_table.plot(
            [np.nan if t is None else t for t in trains], ypos, "^", mfc="none",
            color="C0", label="sk_rgmi (training pairs)",
        )  # fmt: skip
    seeds = [r["seed_value"] for r in rows]
    ax_table.plot(
        [np.nan if s is None else s for s in seeds], ypos, "x", color="C3", ms=8,
        label="seed notebook",
    )  # fmt: skip
    ax_table.set_yticks(ypos, [r["label"] for r in rows], fontsize=8)
    ax_table.set_xlabel(f"mutual information ({results['units']})")
    ax_table.axvline(math.log(2), color="0.6", lw=0.8, ls=":")
    ax_table.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=3, fontsize=8)
    ax_table.set_title(results["preset"]["description"], fontsize=9)

    hist_key = next(
        (
            k
            for k in ("mine_3x3_fine_concat", "mine_2x2_fine")
            if k in results["histories"]
        ),
        next(iter(results["histories"]), None),
    )
    ax_hist = fig.add_subplot(grid[:, 1])
    if hist_key is not None:
        ref = {r["key"]: r["mean"] for r in rows}.get("count_2x2_fine")
        MIHistoryDisplay.from_history(
            results["histories"][hist_key],
            true_mi=ref if hist_key.endswith("2x2_fine") else None,
            estimator_name=None,
            ax=ax_hist,
        )
        ax_hist.set_title(f"training history: {hist_key}", fontsize=9)
    else:
        ax_hist.set_axis_off()

    for i, key in enumerate(("coarse_2x2_binary", "coarse_2x2_linear")):
        ax = fig.add_subplot(grid[i, 2])
        if key in results["filters"]:
            filt = np.asarray(results["filters"][key][0], dtype=float)
            FilterDisplay(filt, block_shape=(2, 2), titles=[key.split("_")[-1]]).plot(
                ax=ax
            )
        else:
            ax.set_axis_off()
    return fig


def with_overrides(preset: Preset, **changes: Any) -> Preset:
    """A copy of ``preset`` with some fields changed (e.g. ``n_seeds``).

    Examples
    --------
    >>> from sk_rgmi.reproduce import PRESETS, with_overrides
    >>> with_overrides(PRESETS["tiny"], n_seeds=3).n_seeds
    3
    """
    return replace(preset, **changes)
