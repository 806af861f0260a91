"""Parts 2-3 of the RSMI study: the learned RG flow and T_c, ν read from it.

A ladder of Monte Carlo RG matching stages (:func:`sk_rgmi.rg.mcrg_matching`):
each compares lattices of side ``L`` and ``L/b`` in a temperature window of
half-width ``c / L`` around the previous stage's crossing (the first stage scans a
wide window), so the window shrinks with ``L``. The last stage learns an RSMI flow
(:class:`sk_rgmi.rg.RSMIFlow`) at its centre temperature and measures both the
learned and the fixed majority-rule flows on the same lattices.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .._random import check_seed_sequence, stream
from ..datasets import block_spin_flow
from ..rg import RSMIFlow, mcrg_matching
from ._rsmi_data import (
    cached_lattices,
    cached_scan,
    flow_path,
    load_array,
    rules_key,
    save_array,
)

__all__ = ["Stage", "run_flow"]

RULES = ("rsmi", "majority")


@dataclass(frozen=True)
class Stage:
    """One matching stage: sizes ``L`` and ``L / factor`` over a temperature window.

    Attributes
    ----------
    size : int
        Side ``L`` of the larger lattice.
    n_configs, n_configs_small : int
        Configurations per temperature of the two sizes.
    half_width : float or None
        Half-width of the larger lattice's window; None: ``window_c / L``.
    small_wider : bool
        Sample the smaller lattice over a window ``factor`` times wider (the same
        range of ``t L^(1/ν)``), for a slope as precise as the larger one's.
    degree : int
        Degree of the polynomial fits.
    """

    size: int
    n_configs: int
    n_configs_small: int
    half_width: float | None = None
    small_wider: bool = True
    degree: int = 2


def _interval(res: Any, name: str) -> dict[str, float]:
    return {
        "value": float(res[name]),
        "low": float(res[f"{name}_low"]),
        "high": float(res[f"{name}_high"]),
    }


def _matching_summary(res: Any, n: int, coarse_size: int) -> dict[str, Any]:
    c = res.curves
    return {
        "n": n,
        "coarse_size": coarse_size,
        "tc": _interval(res, "tc"),
        "nu": _interval(res, "nu"),
        "value": _interval(res, "value"),
        "slope_ratio": _interval(res, "slope_ratio"),
        "n_failed": int(res.n_failed),
        "fit": {
            "large": c.large.round(6).tolist(),
            "large_err": c.large_err.round(6).tolist(),
            "small": c.small.round(6).tolist(),
            "small_err": c.small_err.round(6).tolist(),
            "large_grid": c.large_grid.round(6).tolist(),
            "large_fit": c.large_fit.round(6).tolist(),
            "small_grid": c.small_grid.round(6).tolist(),
            "small_fit": c.small_fit.round(6).tolist(),
        },
    }


def _match(
    stage: Stage,
    factor: int,
    t_large: np.ndarray,
    t_small: np.ndarray,
    rule: str,
    n: int,
    statistic: str,
    large: list[dict[str, Any]],
    small: list[dict[str, Any]],
    *,
    n_bootstrap: int,
    seq: np.random.SeedSequence,
) -> Any:
    """Matching of L after n+1 steps against L/b after n steps."""
    what = "m" if statistic == "binder" else "nn"
    return mcrg_matching(
        t_large,
        [d[what][rule][n + 1] for d in large],
        [d[what][rule][n] for d in small],
        temperatures_small=t_small,
        factor=factor,
        groups_large=[d["chain"] for d in large],
        groups_small=[d["chain"] for d in small],
        statistic=statistic,
        degree=stage.degree,
        n_bootstrap=n_bootstrap,
        random_state=stream(seq, f"{rule}-{n}-{statistic}"),
    )


def _windows(
    stage: Stage, center: float, factor: int, n_temperatures: int, window_c: float
) -> tuple[np.ndarray, np.ndarray]:
    half = stage.half_width if stage.half_width is not None else window_c / stage.size
    grid = np.linspace(-1.0, 1.0, n_temperatures)
    t_large = center + half * grid
    t_small = center + (factor if stage.small_wider else 1) * half * grid
    return t_large.round(8), t_small.round(8)


def _curves(scan: list[dict[str, Any]], rule: str, statistic: str) -> list[list[float]]:
    """Per step (rows), the statistic at every temperature (columns)."""
    from ..rg import binder_cumulant

    n_steps = len(scan[0]["m"][rule])
    if statistic == "binder":
        return [
            [round(float(binder_cumulant(d["m"][rule][k])), 6) for d in scan]
            for k in range(n_steps)
        ]
    return [
        [round(float(np.mean(d["nn"][rule][k])), 6) for d in scan]
        for k in range(n_steps)
    ]


def _learn_flow(
    size: int,
    center: float,
    *,
    preset: Any,
    seed: int,
    data_home: Any,
    n_jobs: int | None,
) -> tuple[RSMIFlow, dict[str, Any]]:
    """The RSMI flow learned on ``size`` lattices at ``center`` (cached rules)."""
    b, n_steps = preset.factor, preset.flow_steps
    name = (
        f"{size}x{size}_T{center:.8g}_n{preset.flow_train_lattices}_"
        f"w{preset.flow_windows}_B{preset.flow_buffer}_e{preset.flow_environment}_"
        f"s{n_steps}_{rules_key(preset.flow_coarse_params)}_seed{seed}"
    )
    path = flow_path(data_home, name)
    table = load_array(path, (n_steps, b * b + 2))
    t0 = time.perf_counter()
    if table is None:
        from ..coarse_graining import MIMaximizingCoarseGrainer

        lattices, _ = cached_lattices(
            preset.flow_train_lattices, size, center, per_chain=10, seed=seed,
            tag="flowtrain", data_home=data_home, n_jobs=n_jobs,
        )  # fmt: skip
        flow = RSMIFlow(
            b, n_steps, buffer=preset.flow_buffer,
            environment_width=preset.flow_environment,
            n_windows=preset.flow_windows,
            coarse_grainer=MIMaximizingCoarseGrainer(
                symmetric=False, **preset.flow_coarse_params
            ),
            random_state=stream(seed, "fit"),
        ).fit(lattices)  # fmt: skip
        table = np.column_stack([flow.filters_, flow.intercepts_, flow.mi_])
        save_array(path, table)
    flow = RSMIFlow.from_filters(table[:, : b * b], table[:, b * b], factor=b)
    info = {
        "temperature": center,
        "size": size,
        "n_lattices": preset.flow_train_lattices,
        "n_windows": preset.flow_windows,
        "buffer": preset.flow_buffer,
        "environment_width": preset.flow_environment,
        "filters": table[:, : b * b].round(5).tolist(),
        "intercepts": table[:, b * b].round(5).tolist(),
        "mi": table[:, b * b + 1].round(5).tolist(),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    return flow, info


def run_flow(
    preset: Any,
    *,
    seed: int,
    data_home: Any,
    n_jobs: int | None,
    verbose: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Run the matching ladder and the final two-rule stage; JSON-ready dict."""
    b = preset.factor
    seq = stream(check_seed_sequence(seed), "bootstrap")
    center = preset.flow_start
    stages_out = []
    total = sum(
        preset.n_temperatures * (s.n_configs + s.n_configs_small) for s in preset.stages
    )
    bar = tqdm(total=total, desc="RG flow: sampling", disable=not verbose, unit="cfg")

    def scan(size: int, temps: np.ndarray, n: int, flows: dict, steps: int, key: str):
        return cached_scan(
            size, temps, n, flows=flows, n_steps=steps, key=key, seed=seed,
            data_home=data_home, n_jobs=n_jobs, progress=bar.update,
        )  # fmt: skip

    def majority(steps: int) -> Callable[[np.ndarray], list[np.ndarray]]:
        return _flows(None, steps, b)["majority"]

    for i, stage in enumerate(preset.stages):
        t0 = time.perf_counter()
        t_large, t_small = _windows(
            stage, center, b, preset.n_temperatures, preset.window_c
        )
        small_size = stage.size // b
        record = {
            "size": stage.size,
            "small_size": small_size,
            "temperatures": t_large.tolist(),
            "temperatures_small": t_small.tolist(),
            "n_configs": stage.n_configs,
            "n_configs_small": stage.n_configs_small,
            "center": center,
        }

        match = functools.partial(
            _match, stage, b, t_large, t_small,
            n_bootstrap=preset.n_bootstrap, seq=stream(seq, f"stage{i}"),
        )  # fmt: skip

        if i < len(preset.stages) - 1:
            say(
                f"RG stage {i + 1}: L={stage.size} vs {small_size}, majority rule, "
                f"T = {t_large[0]:.4f}-{t_large[-1]:.4f}"
            )
            large = scan(
                stage.size,
                t_large,
                stage.n_configs,
                {"majority": majority(1)},
                1,
                "maj",
            )
            small = scan(
                small_size,
                t_small,
                stage.n_configs_small,
                {"majority": majority(0)},
                0,
                "maj",
            )
            res = match("majority", 0, "binder", large, small)
            record.update(rule="majority", **_matching_summary(res, 0, small_size))
            record["seconds"] = round(time.perf_counter() - t0, 2)
            stages_out.append(record)
            center = float(res.tc) if math.isfinite(res.tc) else center
            continue
        say(
            f"RG final stage: learning the RSMI flow on {stage.size}x{stage.size} "
            f"lattices at T = {center:.5f}"
        )
        flow, train = _learn_flow(
            stage.size, center, preset=preset, seed=seed, data_home=data_home,
            n_jobs=n_jobs,
        )  # fmt: skip
        n_steps = preset.flow_steps
        key = rules_key({"rsmi": table_key(train), "majority": b})
        say(
            f"RG final stage: L={stage.size} vs {small_size}, RSMI and majority "
            f"flows, T = {t_large[0]:.4f}-{t_large[-1]:.4f}"
        )
        large = scan(
            stage.size, t_large, stage.n_configs, _flows(flow, n_steps, b), n_steps, key
        )
        small = scan(
            small_size,
            t_small,
            stage.n_configs_small,
            _flows(flow, n_steps - 1, b),
            n_steps - 1,
            key,
        )
        rules: dict[str, Any] = {}
        for rule in RULES:
            matches = []
            for n in range(n_steps):
                entry = _matching_summary(
                    match(rule, n, "binder", large, small), n, small_size // b**n
                )
                entry["nn"] = _matching_summary(
                    match(rule, n, "mean", large, small), n, small_size // b**n
                )
                matches.append(entry)
            rules[rule] = {
                "matching": matches,
                "u4_large": _curves(large, rule, "binder"),
                "u4_small": _curves(small, rule, "binder"),
                "nn_large": _curves(large, rule, "mean"),
                "nn_small": _curves(small, rule, "mean"),
            }
        record.update(n_steps=n_steps, train=train, rules=rules)
        record["seconds"] = round(time.perf_counter() - t0, 2)
        stages_out.append(record)
    bar.close()
    return {"stages": stages_out}


def _flows(flow: RSMIFlow | None, steps: int, factor: int) -> dict[str, Callable]:
    """The first ``steps`` steps of the learned (if given) and majority flows."""

    def majority(x: np.ndarray) -> list[np.ndarray]:
        return block_spin_flow(x, factor, steps) if steps else []

    def learned(x: np.ndarray) -> list[np.ndarray]:
        return flow.flow(x)[:steps] if steps else []

    return (
        {"majority": majority}
        if flow is None
        else {"rsmi": learned, "majority": majority}
    )


def table_key(train: dict[str, Any]) -> str:
    """Names a learned flow by its rules (filters and thresholds)."""
    return rules_key({"f": train["filters"], "b": train["intercepts"]})
