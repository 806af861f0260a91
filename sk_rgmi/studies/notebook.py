"""The original notebook's study, end to end: ``sk-rgmi reproduce``.

The study (see the docs' *Reproduction* page): on 27×27 critical 2D Ising
configurations (block-spin coarse-grained from a larger lattice), measure the mutual
information between a block and the block directly to its right,

- count-based ("analytic") MI of 2×2 fine-grained blocks, of their 2×2 mean and of the
  3×3 ring mean (the original notebook's "frozen convolutions");
- MINE on 3×3 fine-grained blocks with the two critics ("Net 1" two-branch, "Net 2"
  residual concat), on the frozen rows, and on 2×2 blocks;
- learned coarse-grainers of 2×2 blocks: one binary unit (RSMI-style, compared with
  the exhaustive optimum) and the original notebook's real-valued linear map,

each beside the original notebook's value. Every neural figure here is a **held-out**
estimate: the estimator is fitted on one part of the pairs and scored on pairs it
never saw (the original notebook evaluated on its training data). Error bars are
standard deviations over independent repetitions (fresh pairs, fresh
initialisations) spawned from the base random seed. All MI values are in nats.

The CLI (:mod:`sk_rgmi.cli`) is a thin front end over :func:`run_study`,
:func:`sk_rgmi.studies.format_table`, :func:`sk_rgmi.studies.write_results` and
:func:`make_figure`.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._random import generator, seed_int, stream
from ._figure import make_figure
from ._runner import (
    Outcome,
    environment,
    extras,
    history_columns,
    load_critical,
    run_rows,
    summarise,
)

__all__ = ["PRESETS", "ROWS", "Preset", "RowSpec", "make_figure", "run_study"]


@dataclass(frozen=True)
class Preset:
    """Sizes of one run of the study.

    Change a field with :func:`dataclasses.replace`, e.g.
    ``replace(PRESETS["quick"], n_seeds=5)``.

    Attributes
    ----------
    name : str
        ``"tiny"`` (tests), ``"quick"`` (default) or ``"full"`` (the original
        notebook's data size).
    n_configs, size, source_size : int
        The data set: ``n_configs`` configurations of ``size``×``size`` spins,
        block-spin coarse-grained from ``source_size``×``source_size`` critical
        lattices (rounds of 3×3 majority), as
        :func:`sk_rgmi.datasets.load_critical_ising`.
    n_pairs_count : int
        Pairs per repetition for the count-based rows (the original notebook:
        100,000).
    n_pairs_neural : int
        Pairs per repetition for the neural rows, split into training and held-out
        parts (the original notebook: 10,000, all used for training and evaluation).
    test_fraction : float
        Held-out share of ``n_pairs_neural``.
    n_seeds : int
        Independent repetitions (random seeds) behind each error bar.
    mine_params, coarse_params : dict
        Parameters of :class:`~sk_rgmi.MINEEstimator` and
        :class:`~sk_rgmi.MIMaximizingCoarseGrainer`.
    description : str
        One line for the table header.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from sk_rgmi.studies.notebook import PRESETS
    >>> replace(PRESETS["tiny"], n_seeds=3).n_seeds, PRESETS["quick"].source_size
    (3, 729)
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
    """One row of the original notebook's table.

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
    notebook_value : float or None
        The original notebook's value (midpoint of its range), nats.
    notebook_text : str
        The original notebook's value as reported, with its caveat.

    Examples
    --------
    >>> from sk_rgmi.studies.notebook import ROWS
    >>> ROWS[0].key, ROWS[0].notebook_value
    ('count_2x2_fine', 0.4219)
    """

    key: str
    label: str
    block: tuple[int, int]
    method: str
    transform: str | None = None
    critic: str = "concat"
    notebook_value: float | None = None
    notebook_text: str = "-"


ROWS: tuple[RowSpec, ...] = (
    RowSpec("count_2x2_fine", "count-based, 2x2 fine-grained", (2, 2), "plugin",
            notebook_value=0.4219, notebook_text="0.4219"),
    RowSpec("count_2x2_mean", "count-based, 2x2 mean", (2, 2), "plugin", "mean",
            notebook_value=0.3708, notebook_text="0.3708"),
    RowSpec("count_3x3_ring", "count-based, 3x3 ring mean", (3, 3), "plugin",
            "ring-mean", notebook_value=0.4128, notebook_text="0.4128"),
    RowSpec("mine_3x3_fine_twobranch", "MINE, 3x3 fine, two-branch critic", (3, 3),
            "mine", critic="two-branch", notebook_value=0.53,
            notebook_text="~0.53 (train)"),
    RowSpec("mine_3x3_fine_concat", "MINE, 3x3 fine, concat critic", (3, 3), "mine",
            critic="concat", notebook_value=0.56,
            notebook_text="~0.55-0.57 (train)"),
    RowSpec("mine_3x3_ring", "MINE, 3x3 ring mean", (3, 3), "mine", "ring-mean",
            notebook_value=0.42, notebook_text="~0.41-0.43 (train)"),
    RowSpec("mine_2x2_fine", "MINE, 2x2 fine-grained", (2, 2), "mine",
            notebook_value=0.426, notebook_text="~0.426 (train)"),
    RowSpec("mine_2x2_mean", "MINE, 2x2 mean", (2, 2), "mine", "mean",
            notebook_value=0.375, notebook_text="~0.375 (train)"),
    RowSpec("coarse_2x2_binary", "learned binary coarse-grainer, 2x2 (count)",
            (2, 2), "coarse-binary"),
    RowSpec("exhaustive_2x2_binary", "exhaustive best binary function, 2x2 (count)",
            (2, 2), "exhaustive"),
    RowSpec("coarse_2x2_linear", "learned linear coarse-grainer, 2x2 (MINE)", (2, 2),
            "coarse-linear", notebook_value=0.395,
            notebook_text="~0.39-0.40 (train)"),
    RowSpec("linear_2x2_count", "linear coarse variable, 2x2 (count)", (2, 2),
            "linear-count"),
)  # fmt: skip


# --------------------------------------------------------------------------------
# building blocks (each a thin call into the public API)


def _interval_of_first_fit(outcomes: list[Outcome]) -> dict[str, Any]:
    """MINE rows: the estimator's own 95% interval (``mi_ci_``) of the first
    repetition and the reliability flags raised in any repetition."""
    intervals = extras(outcomes, "interval")
    if not intervals:
        return {}
    flags = sorted({f for fl in extras(outcomes, "flags") for f in fl})
    return {"interval": intervals[0], "flags": flags}


def _estimator_seed(repetition: np.random.SeedSequence, key: str) -> int:
    """The ``random_state`` of the estimator fitted for ``key`` in a repetition."""
    # scikit-learn's random_state takes ints below 2**32
    return seed_int(stream(repetition, "fit"), key, bits=32)


def _pairs(
    lattices: np.ndarray,
    block: tuple[int, int],
    n_pairs: int,
    repetition: np.random.SeedSequence,
    kind: str,
) -> tuple[np.ndarray, np.ndarray]:
    from ..datasets import sample_block_pairs

    # one stream per (count/neural, block shape): rows sharing a block shape see
    # the same pairs within a repetition
    X, Y = sample_block_pairs(
        lattices,
        block_shape=block,
        n_pairs=n_pairs,
        direction="right",
        random_state=generator(stream(repetition, "pairs"), f"{kind}-{block}"),
    )
    return np.asarray(X, dtype=float), np.asarray(Y, dtype=float)


def _fixed(rule: str | None, block: tuple[int, int], Z: np.ndarray) -> np.ndarray:
    if rule is None:
        return Z
    from ..coarse_graining import BlockCoarseGrainer

    return np.asarray(
        BlockCoarseGrainer(rule=rule, block_shape=block).fit_transform(Z), dtype=float
    )


def _count_mi(X: np.ndarray, Y: np.ndarray) -> float:
    from ..plugin import PluginMIEstimator

    # the original notebook's estimator: plain plug-in counts (bias ~(K-1)^2/2N nats)
    return float(PluginMIEstimator(n_bins=None, correction="none").fit(X, Y).mi_)


def _split(
    X: np.ndarray, Y: np.ndarray, test_fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_test = max(1, round(test_fraction * len(X)))
    n_train = len(X) - n_test
    # the pairs are already in random order: the split is a cut
    return X[:n_train], Y[:n_train], X[n_train:], Y[n_train:]


def _apply_truth_table(table: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Apply a truth table indexed by block state, first feature most significant."""
    bits = (np.asarray(Z) > 0.5).astype(np.int64)
    codes = bits @ (1 << np.arange(bits.shape[1] - 1, -1, -1))
    return table[codes].reshape(-1, 1)


def _run_row(
    row: RowSpec,
    repetition: np.random.SeedSequence,
    preset: Preset,
    lattices: np.ndarray,
    device: str,
    cache: dict[Any, Any],
) -> Outcome:
    # Pairs depend on (repetition, block shape, count/neural) only, so the fine and
    # coarse count-based rows obey the data-processing inequality exactly, and
    # MINE / coarse-grainers on 2x2 blocks are compared on identical data.
    if row.method == "plugin":
        X, Y = _pairs(lattices, row.block, preset.n_pairs_count, repetition, "count")
        X, Y = _fixed(row.transform, row.block, X), _fixed(row.transform, row.block, Y)
        return Outcome(_count_mi(X, Y))

    X, Y = _pairs(lattices, row.block, preset.n_pairs_neural, repetition, "neural")
    X, Y = _fixed(row.transform, row.block, X), _fixed(row.transform, row.block, Y)
    Xtr, Ytr, Xte, Yte = _split(X, Y, preset.test_fraction)

    if row.method == "mine":
        from ..mine import MINEEstimator

        est = MINEEstimator(
            critic=row.critic, device=device,
            random_state=_estimator_seed(repetition, row.key), **preset.mine_params,
        ).fit(Xtr, Ytr)  # fmt: skip
        return Outcome(
            float(est.score(Xte, Yte)),
            float(est.score(Xtr, Ytr)),
            {
                "history": history_columns(est.history_),
                "interval": [float(v) for v in est.mi_ci_],
                "flags": list(est.diagnostics_["flags"]),
            },
        )

    if row.method == "exhaustive":
        from ..coarse_graining import exhaustive_binary_coarse_graining

        # the best Boolean function of the training pairs, scored on held-out pairs
        result = exhaustive_binary_coarse_graining(Xtr, Ytr)
        table = np.asarray(result.best_truth_table, dtype=int)
        hx, hy = _apply_truth_table(table, Xte), _apply_truth_table(table, Yte)
        return Outcome(_count_mi(hx, hy), float(result.best_mi))

    # learned coarse-grainers (binary: RSMI-style; linear: the notebook's set-up)
    from ..coarse_graining import MIMaximizingCoarseGrainer
    from ..exceptions import UndersampledWarning

    output = "binary" if row.method == "coarse-binary" else "continuous"
    # the two linear rows report one fitted map (its MINE bound and its count)
    cache_key = (output, tuple(repetition.spawn_key))
    if cache_key not in cache:
        model_key = "coarse_2x2_binary" if output == "binary" else "coarse_2x2_linear"
        cache[cache_key] = MIMaximizingCoarseGrainer(
            n_components=1, symmetric=True, output=output, device=device,
            random_state=_estimator_seed(repetition, model_key),
            **preset.coarse_params,
        ).fit(Xtr, Ytr)  # fmt: skip
    cg = cache[cache_key]
    extra = {
        "filters": np.asarray(cg.components_, dtype=float).tolist(),
        "history": history_columns(cg.history_),
    }
    hx, hy = np.asarray(cg.transform(Xte)), np.asarray(cg.transform(Yte))
    if row.method == "coarse-binary":
        # binary codes: the count-based MI of the held-out codes is exact
        htr, hytr = np.asarray(cg.transform(Xtr)), np.asarray(cg.transform(Ytr))
        return Outcome(_count_mi(hx, hy), _count_mi(htr, hytr), extra)
    if row.method == "linear-count":
        # the linear map is (almost surely) injective on {0,1}^4: counting its
        # distinct outputs recovers the fine-grained MI -- the notebook's degeneracy.
        # (small presets undersample the 16x16 table; the warning is expected there)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndersampledWarning)
            return Outcome(_count_mi(np.round(hx, 9), np.round(hy, 9)), math.nan, extra)
    return Outcome(float(cg.score(Xte, Yte)), float(cg.score(Xtr, Ytr)), extra)


def _note(preset: Preset) -> str:
    return (
        f"MI in nats; ± = std over {preset.n_seeds} repetitions (fresh pairs and "
        f"initialisations). Count rows: plug-in on {preset.n_pairs_count} pairs. "
        f"Neural and learned rows: fitted on {preset.n_pairs_neural} pairs less a "
        f"{preset.test_fraction} share held out, scored on that share; 'train' = "
        "the same on its training pairs; 95% interval (one fit) = MINEEstimator's "
        "own cross-fitted interval (mi_ci_) of the first repetition, * = flagged as "
        "possibly wrong; notebook = the original notebook's value (its neural "
        "values are training-set values)."
    )


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
    progress: Any = None,
) -> dict[str, Any]:
    """Run the original notebook's study and return its results as a JSON-ready dict.

    Parameters
    ----------
    preset : {"tiny", "quick", "full"} or Preset, default="quick"
        Sizes of the run (:data:`PRESETS`).
    seed : int, default=0
        Base random seed: the data set and, through ``SeedSequence.spawn``, every
        repetition (its pairs and estimators use named streams of it).
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
        ``study``, ``title``, ``note``, ``preset``, ``seed``, ``device``, ``units``,
        ``reference`` (``"notebook"``), ``data`` (data-set facts and generation
        time), ``rows`` (per row: ``mean``, ``std`` over repetitions, ``values``,
        ``train_mean``, ``notebook_value``, ``notebook_text``), ``filters`` and
        ``histories`` (per row key, one entry per repetition), ``timings``,
        ``environment``. MI values in nats. Print with
        :func:`sk_rgmi.studies.format_table`, save with
        :func:`sk_rgmi.studies.write_results`.

    Examples
    --------
    One count-based row on the tiny data set, cached in a temporary folder:

    >>> import tempfile
    >>> from sk_rgmi.studies.notebook import ROWS, run_study
    >>> with tempfile.TemporaryDirectory() as home:
    ...     res = run_study("tiny", rows=ROWS[:1], data_home=home, verbose=0)
    >>> row = res["rows"][0]
    >>> row["key"], row["n_seeds"], row["notebook_value"], 0 < row["mean"] < 0.7
    ('count_2x2_fine', 2, 0.4219, True)
    """
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
    lattices, data_info = load_critical(
        preset.n_configs, preset.size, preset.source_size,
        seed=seed, data_home=data_home, n_jobs=n_jobs, verbose=verbose,
    )  # fmt: skip
    say(f"data ready in {data_info['load_or_generate_seconds']:.1f} s")

    cache: dict[Any, Any] = {}  # fitted coarse-grainers shared by two rows
    outcomes, seconds = run_rows(
        rows,
        preset.n_seeds,
        lambda row, rep: _run_row(row, rep, preset, lattices, device, cache),
        seed=seed,
        verbose=verbose,
    )
    results_rows = [
        {
            "key": row.key,
            "label": row.label,
            "method": row.method,
            "block": list(row.block),
            "transform": row.transform,
            "critic": row.critic if row.method == "mine" else None,
            **summarise(outcomes[row.key]),
            **_interval_of_first_fit(outcomes[row.key]),
            "notebook_value": row.notebook_value,
            "notebook_text": row.notebook_text,
            "seconds": round(seconds[row.key], 2),
        }
        for row in rows
    ]
    per_row = {
        kind: {
            row.key: extras(outcomes[row.key], kind)
            for row in rows
            if extras(outcomes[row.key], kind)
        }
        for kind in ("filters", "history")
    }
    timings = {"data": data_info["load_or_generate_seconds"], **seconds}
    timings["total"] = time.perf_counter() - t_start
    return {
        "study": "notebook",
        "title": f"sk-rgmi reproduce -- {preset.description}",
        "note": _note(preset),
        "preset": asdict(preset),
        "seed": seed,
        "device": device,
        "units": "nats",
        "reference": "notebook",
        "data": data_info,
        "rows": results_rows,
        "filters": per_row["filters"],
        "histories": per_row["history"],
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "environment": environment(),
    }
