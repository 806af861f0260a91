"""The RSMI study at scale, end to end: ``sk-rgmi rsmi``.

Three measurements on equilibrium 2D Ising lattices (documentation page *RSMI at
scale*):

1. **I(H : E) against the buffer width.** For visible blocks ``V`` (2×2, 3×3, ...)
   a binary RSMI coarse variable ``H`` is learned
   (:class:`~sk_rgmi.MIMaximizingCoarseGrainer`, ``symmetric=False``) for every
   temperature and buffer width ``L_B``, and its MI with the environment shell
   ``E`` is measured on held-out lattices with chain-grouped intervals (see
   :mod:`sk_rgmi.studies._rsmi_decay`), beside the fine-grained ``I(V : E)``; fits:
   a power law at T_c, an exponential above (rate against ``2/ξ``), the plateau
   below.
2. **A learned RG flow.** :class:`sk_rgmi.rg.RSMIFlow` re-learns the rule at every
   step and coarse-grains whole lattices.
3. **T_c and ν from the flow** by Monte Carlo RG matching of two lattice sizes
   (:func:`sk_rgmi.rg.mcrg_matching`), for the learned flow and the majority rule
   on the same lattices.

All data are cached in the data home. MI values are in nats.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._random import check_seed_sequence, stream
from ..datasets.exact import T_C
from ._rsmi_decay import BlockSpec, decay_fits, measure_point
from ._rsmi_flow import Stage, run_flow
from ._rsmi_report import format_summary, write_outputs
from ._runner import environment

__all__ = [
    "PRESETS",
    "BlockSpec",
    "Preset",
    "Stage",
    "format_summary",
    "run_study",
    "write_outputs",
]


@dataclass(frozen=True)
class Preset:
    """Sizes of one run of the RSMI study (change fields with
    :func:`dataclasses.replace`).

    Attributes
    ----------
    name, description : str
    decay_size : int
        Side of the lattices of the decay measurement.
    decay_temperatures : tuple of float
    decay_lattices : int
        Lattices per temperature; half the Markov chains train the coarse-grainers,
        the other half are held out for every MI.
    decay_per_chain : int
        Lattices per Markov chain (the groups of the jackknife).
    blocks : tuple of BlockSpec
        Visible blocks, their numbers of units and buffer widths.
    environment_width : int
        Width of the environment shell.
    n_windows : int
        Windows cut from the training (and again from the held-out) lattices per
        point.
    coarse_params, mine_params : dict
        Parameters of the coarse-grainers and of the MINE estimates (None: no
        neural estimates).
    n_neural_groups : int
        Groups of held-out chains behind the neural batch-means intervals.
    filter_buffer : int
        Buffer width of the filters drawn across temperature and block size.
    factor : int
        Block side of the RG flow.
    stages : tuple of Stage
        The matching ladder; the last stage measures the learned and majority
        flows.
    flow_start : float
        Centre of the first stage's window.
    n_temperatures : int
        Temperatures per window.
    window_c : float
        Window half-width ``window_c / L`` of stages without their own.
    flow_steps : int
        RG steps of the final stage's flows.
    flow_train_lattices, flow_windows, flow_buffer, flow_environment : int
        Training set and window geometry of the learned flow.
    flow_coarse_params : dict
        Parameters of its coarse-grainers.
    n_bootstrap : int
        Bootstrap replicates of the matching.
    primary_step : int
        Step pair ``n`` (L after n+1 steps vs L/b after n) reported as T_c and ν.
    targets : dict
        Relative accuracy targets ``{"tc": ..., "nu": ...}`` against the exact
        values.
    """

    name: str
    description: str
    decay_size: int
    decay_temperatures: tuple[float, ...]
    decay_lattices: int
    decay_per_chain: int
    blocks: tuple[BlockSpec, ...]
    environment_width: int
    n_windows: int
    coarse_params: dict[str, Any]
    mine_params: dict[str, Any] | None
    n_neural_groups: int
    filter_buffer: int
    factor: int
    stages: tuple[Stage, ...]
    flow_start: float
    n_temperatures: int
    window_c: float
    flow_steps: int
    flow_train_lattices: int
    flow_windows: int
    flow_buffer: int
    flow_environment: int
    flow_coarse_params: dict[str, Any] = field(default_factory=dict)
    n_bootstrap: int = 1000
    primary_step: int = 1
    targets: dict[str, float] = field(default_factory=dict)


_WIDE = Stage(27, 1000, 1000, half_width=0.2, small_wider=False, degree=3)

#: MINE as a cross-check of the counted MI: one fold, one critic, no convergence
#: check (the study's neural intervals are batch means over held-out chains)
_MINE = {
    "n_folds": 1,
    "n_critics": 1,
    "check_convergence": False,
    "hidden_size": 32,
    "early_stopping": 10,
}

PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        name="tiny",
        description="tiny: test scale (32x32 decay, 27 vs 9 flow)",
        decay_size=32,
        decay_temperatures=(2.0, T_C, 3.0),
        decay_lattices=40,
        decay_per_chain=2,
        blocks=(BlockSpec(2, 1, (0, 1, 2)),),
        environment_width=2,
        n_windows=1500,
        coarse_params={"max_epochs": 2},
        mine_params={**_MINE, "max_epochs": 3, "hidden_size": 8},
        n_neural_groups=4,
        filter_buffer=1,
        factor=3,
        stages=(
            Stage(9, 100, 100, half_width=0.3, small_wider=False),
            Stage(27, 100, 100),
        ),
        flow_start=2.3,
        n_temperatures=5,
        window_c=1.5,
        flow_steps=1,
        flow_train_lattices=20,
        flow_windows=2000,
        flow_buffer=1,
        flow_environment=1,
        flow_coarse_params={"max_epochs": 8},
        n_bootstrap=50,
        primary_step=0,
        targets={"tc": 0.05, "nu": 1.0},
    ),
    "quick": Preset(
        name="quick",
        description="quick: decay on 128x128, flow 81 vs 27 (2 learned steps)",
        decay_size=128,
        decay_temperatures=(2.0, T_C, 2.5, 3.0),
        decay_lattices=300,
        decay_per_chain=5,
        blocks=(
            BlockSpec(2, 1, (0, 1, 2, 3, 4, 6, 8)),
            BlockSpec(3, 1, (0, 2, 4, 8)),
        ),
        environment_width=2,
        n_windows=12000,
        coarse_params={"max_epochs": 15},
        mine_params={**_MINE, "max_epochs": 60},
        n_neural_groups=10,
        filter_buffer=2,
        factor=3,
        stages=(_WIDE, Stage(27, 2000, 2000), Stage(81, 4000, 4000)),
        flow_start=2.3,
        n_temperatures=7,
        window_c=1.5,
        flow_steps=2,
        flow_train_lattices=200,
        flow_windows=20000,
        flow_buffer=2,
        flow_environment=2,
        n_bootstrap=1000,
        primary_step=1,
        targets={"tc": 0.01, "nu": 0.15},
    ),
    "full": Preset(
        name="full",
        description="full: decay on 256x256, flow 243 vs 81 (3 learned steps)",
        decay_size=256,
        decay_temperatures=(2.0, 2.2, T_C, 2.5, 3.0),
        decay_lattices=400,
        decay_per_chain=5,
        blocks=(
            BlockSpec(2, 1, (0, 1, 2, 3, 4, 5, 6, 7, 8)),
            BlockSpec(3, 1, (0, 1, 2, 3, 4, 6, 8)),
            BlockSpec(4, 1, (0, 1, 2, 4, 6, 8)),
            BlockSpec(4, 2, (0, 2, 4, 8), temperatures=(T_C,)),
        ),
        environment_width=2,
        n_windows=30000,
        coarse_params={"max_epochs": 30},
        mine_params={**_MINE, "max_epochs": 100},
        n_neural_groups=10,
        filter_buffer=2,
        factor=3,
        stages=(
            _WIDE,
            Stage(27, 2000, 2000),
            Stage(81, 4000, 4000),
            Stage(243, 5000, 5000),
        ),
        flow_start=2.3,
        n_temperatures=7,
        window_c=1.5,
        flow_steps=3,
        flow_train_lattices=200,
        flow_windows=30000,
        flow_buffer=2,
        flow_environment=2,
        n_bootstrap=1000,
        primary_step=1,
        targets={"tc": 0.005, "nu": 0.10},
    ),
}


def _check_preset(preset: str | Preset) -> Preset:
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(
                f"unknown preset {preset!r}; choose from {sorted(PRESETS)}"
            )
        preset = PRESETS[preset]
    if not 0 <= preset.primary_step < preset.flow_steps:
        raise ValueError(
            f"primary_step={preset.primary_step} must be below flow_steps="
            f"{preset.flow_steps}."
        )
    last = preset.stages[-1].size
    if last % preset.factor ** (preset.flow_steps + 1):
        raise ValueError(
            f"the final stage's lattice side {last} must be divisible by "
            f"factor**(flow_steps + 1) = {preset.factor ** (preset.flow_steps + 1)}."
        )
    return preset


# ------------------------------------------------------------------- decay part
def _decay_jobs(preset: Preset) -> list[tuple[float, BlockSpec, int]]:
    jobs = []
    for spec in preset.blocks:
        temps = spec.temperatures or preset.decay_temperatures
        for t in preset.decay_temperatures:
            if any(abs(t - u) < 1e-9 for u in temps):
                jobs += [(t, spec, lb) for lb in spec.buffers]
    return jobs


def _decay_entry(
    preset: Preset, t: float, spec: BlockSpec, points: list[dict[str, Any]]
) -> dict[str, Any]:
    """One (temperature, block) curve of the decay, JSON-ready (MI in nats)."""
    points = sorted(points, key=lambda p: p["buffer"])
    e = preset.environment_width
    r0 = spec.side / 2 + e / 2

    def column(key: str, sub: str) -> list[float] | None:
        if any(key not in p for p in points):
            return None
        return [round(float(p[key][sub]), 6) for p in points]

    entry: dict[str, Any] = {
        "temperature": t,
        "visible": [spec.side, spec.side],
        "n_components": spec.n_components,
        "environment_width": e,
        "buffer": [p["buffer"] for p in points],
        "estimator": "I(H : sum of E) counted on held-out lattices; 95% interval "
        "from a delete-one-chain jackknife",
    }
    for name, key in (("mi", "count"), ("mi_fine", "fine_count")):
        for sub, suffix in (
            ("mi", ""),
            ("low", "_low"),
            ("high", "_high"),
            ("std", "_std"),
        ):
            entry[f"{name}{suffix}"] = column(key, sub)
    entry["mi_sign"] = column("sign", "mi")
    for name, key in (("mi_neural", "neural"), ("mi_fine_neural", "fine_neural")):
        for sub, suffix in (("value", ""), ("low", "_low"), ("high", "_high"),
                            ("fit_mi", "_fit"), ("fit_low", "_fit_low"),
                            ("fit_high", "_fit_high")):  # fmt: skip
            entry[f"{name}{suffix}"] = column(key, sub)
    for key in ("filters", "intercepts", "d4_asymmetry", "flip_asymmetry",
                "coarse_grainer_mi"):  # fmt: skip
        entry[key] = [p[key] for p in points]
    sign = entry["mi_sign"][-1] if entry["mi_sign"] else None
    entry["fit"] = decay_fits(
        t, entry["buffer"], entry["mi"], entry["mi_std"],
        np.stack([p["count"]["loo"] for p in points], axis=1), r0=r0, sign_mi=sign,
    )  # fmt: skip
    if entry["mi_fine"] is not None:
        entry["fit_fine"] = decay_fits(
            t, entry["buffer"], entry["mi_fine"], entry["mi_fine_std"],
            np.stack([p["fine_count"]["loo"] for p in points], axis=1), r0=r0,
        )  # fmt: skip
    entry["seconds"] = round(sum(p["seconds"] for p in points), 2)
    return entry


def _run_decay(
    preset: Preset, *, seed: int, data_home: Any, n_jobs: int | None, verbose: int,
    say: Any,
) -> list[dict[str, Any]]:  # fmt: skip
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    from ._rsmi_data import cached_lattices

    base = stream(check_seed_sequence(seed), "decay")
    data = {}
    for t in preset.decay_temperatures:
        say(
            f"decay: {preset.decay_lattices} lattices {preset.decay_size}x"
            f"{preset.decay_size} at T = {t:.5g} (cached after the first run)"
        )
        x, chains = cached_lattices(
            preset.decay_lattices, preset.decay_size, t,
            per_chain=preset.decay_per_chain, seed=seed, tag="decay",
            data_home=data_home, n_jobs=n_jobs,
        )  # fmt: skip
        train = chains < (chains.max() + 1) // 2
        data[t] = (x[train], x[~train], chains[~train])
    jobs = _decay_jobs(preset)
    say(f"decay: {len(jobs)} points (temperature, block, buffer width)")
    calls = (
        delayed(measure_point)(
            t,
            spec,
            lb,
            preset.environment_width,
            *data[t],
            preset.n_windows,
            preset.coarse_params,
            preset.mine_params,
            preset.n_neural_groups,
            stream(base, f"{t:.8g}-{spec.side}-{spec.n_components}-{lb}"),
        )
        for t, spec, lb in jobs
    )
    results = Parallel(n_jobs=n_jobs, return_as="generator")(calls)
    points = list(
        tqdm(results, total=len(jobs), desc="decay: RSMI fits", disable=not verbose)
    )
    grouped: dict[tuple[float, BlockSpec], list[dict[str, Any]]] = {}
    for (t, spec, _), p in zip(jobs, points, strict=True):
        grouped.setdefault((t, spec), []).append(p)
    return [_decay_entry(preset, t, spec, pts) for (t, spec), pts in grouped.items()]


# ------------------------------------------------------------------ the study
def _flow_view(
    stage: dict[str, Any], rule: str, primary: int, factor: int
) -> dict[str, Any]:
    rules = stage["rules"][rule]
    m = rules["matching"][primary]
    view = {
        "size": stage["size"],
        "small_size": stage["small_size"],
        "factor": factor,
        "primary_step": primary,
        "temperatures": stage["temperatures"],
        "temperatures_small": stage["temperatures_small"],
        "n_configs": stage["n_configs"],
        "n_configs_small": stage["n_configs_small"],
        "tc": m["tc"],
        "nu": m["nu"],
        "u4_large": rules["u4_large"],
        "u4_small": rules["u4_small"],
        "nn_large": rules["nn_large"],
        "nn_small": rules["nn_small"],
        "matching": rules["matching"],
    }
    if rule == "rsmi":
        view["filters"] = stage["train"]["filters"]
        view["intercepts"] = stage["train"]["intercepts"]
        view["train"] = stage["train"]
    return view


def _checks(preset: Preset, tc: dict[str, float], nu: dict[str, float]) -> dict:
    tc_err = abs(tc["value"] / T_C - 1)
    nu_err = abs(nu["value"] - 1.0)
    return {
        "tc_relative_error": tc_err,
        "nu_relative_error": nu_err,
        "tc_ok": bool(tc_err <= preset.targets["tc"]),
        "nu_ok": bool(nu_err <= preset.targets["nu"]),
    }


def run_study(
    preset: str | Preset = "quick",
    *,
    seed: int = 0,
    n_jobs: int | None = None,
    data_home: str | Path | None = None,
    parts: tuple[str, ...] = ("decay", "flow"),
    verbose: int = 1,
    progress: Any = None,
) -> dict[str, Any]:
    """Run the RSMI study; return its results as a JSON-ready dict (MI in nats).

    Parameters
    ----------
    preset : {"tiny", "quick", "full"} or Preset, default="quick"
        Sizes of the run (:data:`PRESETS`).
    seed : int, default=0
        Base random seed of the data (named streams of it) and the fits.
    n_jobs : int, default=None
        Parallel Markov chains and parallel fits; None: all cores (the numbers do
        not depend on it).
    data_home : str or Path, default=None
        Cache folder (``SK_RGMI_DATA`` or ``~/sk_rgmi_data``).
    parts : tuple of {"decay", "flow"}, default=("decay", "flow")
        Parts to run.
    verbose : int, default=1
        0: silent; 1: progress bars.
    progress : callable, default=None
        Called with a one-line message at each stage (the CLI prints them).

    Returns
    -------
    results : dict
        ``decay``: one entry per (temperature, block) with ``buffer``, ``mi``,
        ``mi_low``, ``mi_high`` (the learned H), ``mi_fine*`` (fine-grained V),
        ``mi_neural*``, filters and ``fit``; ``tc``, ``nu``: ``{"value", "low",
        "high"}`` of the learned flow; ``flow``: its U4 per step and temperature
        and the matching of every step pair; ``majority``: the same for the
        majority rule; ``stages``, ``checks``, ``timings``, ``environment``.
        Save with :func:`write_outputs`.

    Examples
    --------
    >>> import tempfile
    >>> from sk_rgmi.studies.rsmi import run_study
    >>> with tempfile.TemporaryDirectory() as home:
    ...     res = run_study("tiny", parts=("flow",), data_home=home, verbose=0)
    >>> sorted(res["majority"]), 2.0 < res["tc"]["value"] < 2.6
    (['checks', 'flow', 'nu', 'tc'], True)
    """
    preset = _check_preset(preset)
    unknown = set(parts) - {"decay", "flow"}
    if unknown:
        raise ValueError(f"unknown parts {sorted(unknown)}; use 'decay' and 'flow'.")
    n_jobs = -1 if n_jobs is None else n_jobs
    say = progress or (lambda msg: None)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    results: dict[str, Any] = {
        "study": "rsmi",
        "title": f"sk-rgmi rsmi -- {preset.description}",
        "preset": asdict(preset),
        "seed": seed,
        "units": "nats",
        "exact": {"tc": T_C, "nu": 1.0, "eta": 0.25},
        "decay": [],
    }
    if "decay" in parts:
        t0 = time.perf_counter()
        results["decay"] = _run_decay(
            preset, seed=seed, data_home=data_home, n_jobs=n_jobs, verbose=verbose,
            say=say,
        )  # fmt: skip
        timings["decay"] = time.perf_counter() - t0
    if "flow" in parts:
        t0 = time.perf_counter()
        flow = run_flow(
            preset, seed=seed, data_home=data_home, n_jobs=n_jobs, verbose=verbose,
            say=say,
        )  # fmt: skip
        final = flow["stages"][-1]
        learned = _flow_view(final, "rsmi", preset.primary_step, preset.factor)
        majority = _flow_view(final, "majority", preset.primary_step, preset.factor)
        results.update(
            tc=learned["tc"],
            nu=learned["nu"],
            flow=learned,
            checks=_checks(preset, learned["tc"], learned["nu"]),
            majority={
                "tc": majority["tc"],
                "nu": majority["nu"],
                "flow": majority,
                "checks": _checks(preset, majority["tc"], majority["nu"]),
            },
            stages=flow["stages"][:-1],
        )
        timings["flow"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    results["timings"] = {k: round(v, 2) for k, v in timings.items()}
    results["environment"] = environment()
    return results
