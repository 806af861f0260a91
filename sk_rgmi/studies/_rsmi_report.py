"""Outputs of the RSMI study: ``rsmi.json``, ``rsmi.csv``, figures, a summary.

MI values are in nats.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ._report import save_figure
from ._rsmi_figures import make_figures

__all__ = ["format_summary", "write_outputs"]

_CSV_COLUMNS = (
    "section", "rule", "temperature", "visible", "n_components", "buffer", "size",
    "step", "quantity", "value", "low", "high",
)  # fmt: skip


def _csv_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for e in results["decay"]:
        for i, lb in enumerate(e["buffer"]):
            for q in ("mi", "mi_fine", "mi_neural", "mi_fine_neural"):
                if e.get(q) is None:
                    continue
                rows.append({
                    "section": "decay", "rule": "rsmi", "temperature": e["temperature"],
                    "visible": e["visible"][0], "n_components": e["n_components"],
                    "buffer": lb, "quantity": q, "value": e[q][i],
                    "low": e[f"{q}_low"][i], "high": e[f"{q}_high"][i],
                })  # fmt: skip
    flows = (
        ("rsmi", results.get("flow")),
        ("majority", results.get("majority", {}).get("flow")),
    )
    for rule, flow in flows:
        if not flow:
            continue
        for which, temps in (("large", flow["temperatures"]),
                             ("small", flow["temperatures_small"])):  # fmt: skip
            size = flow["size"] if which == "large" else flow["small_size"]
            for step, values in enumerate(flow[f"u4_{which}"]):
                for t, v in zip(temps, values, strict=True):
                    rows.append({
                        "section": "flow", "rule": rule, "temperature": t,
                        "size": size, "step": step, "quantity": "u4", "value": v,
                    })  # fmt: skip
        for m in flow["matching"]:
            for q in ("tc", "nu"):
                rows.append({
                    "section": "matching", "rule": rule, "size": flow["size"],
                    "step": m["n"], "quantity": q, **m[q],
                })  # fmt: skip
    return rows


def _json_ready(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _json_ready(obj.tolist())
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating | float):
        return float(obj) if math.isfinite(obj) else None
    return obj


def write_outputs(
    results: dict[str, Any], out_dir: str | Path, *, figures: bool = True
) -> dict[str, Path]:
    """Write ``rsmi.json``, ``rsmi.csv`` (long format) and the PNG figures.

    Parameters
    ----------
    results : dict
        The output of :func:`run_study` (MI in nats).
    out_dir : str or Path
        Created if missing; files in it are replaced.
    figures : bool, default=True
        Draw ``rsmi_decay.png``, ``rsmi_filters.png`` and ``rsmi_flow.png``.

    Returns
    -------
    paths : dict of str to Path

    Examples
    --------
    >>> import tempfile
    >>> from sk_rgmi.studies.rsmi import write_outputs
    >>> with tempfile.TemporaryDirectory() as out:
    ...     sorted(write_outputs({"decay": []}, out, figures=False))
    ['csv', 'json']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "rsmi.json", "csv": out / "rsmi.csv"}
    paths["json"].write_text(json.dumps(_json_ready(results), indent=1) + "\n")
    with paths["csv"].open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=_CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(_csv_rows(results))
    if figures:
        for name, fig in make_figures(results).items():
            paths[name.removesuffix(".png")] = out / name
            save_figure(fig, out / name, dpi=110)
    return paths


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def format_summary(results: dict[str, Any]) -> str:
    """A few lines: T_c, ν per rule against the targets, and the decay fits.

    Examples
    --------
    >>> from sk_rgmi.studies.rsmi import format_summary
    >>> format_summary({"title": "t", "decay": []})
    't'
    """
    lines = [results.get("title", "")]
    for name, block in (("learned (RSMI)", results),
                        ("majority rule", results.get("majority"))):  # fmt: skip
        if not block or "tc" not in block:
            continue
        tc, nu, ok = block["tc"], block["nu"], block["checks"]
        lines.append(
            f"{name:>15}: T_c = {tc['value']:.5f} [{tc['low']:.5f}, {tc['high']:.5f}]"
            f" ({100 * ok['tc_relative_error']:.3f}% off, "
            f"{'ok' if ok['tc_ok'] else 'MISSED'}); nu = {nu['value']:.3f} "
            f"[{nu['low']:.3f}, {nu['high']:.3f}] "
            f"({'ok' if ok['nu_ok'] else 'MISSED'})"
        )
    for e in results["decay"]:
        f = e["fit"]
        head = f"T={e['temperature']:.4g} V={e['visible'][0]}x{e['visible'][1]}"
        if f["kind"] == "power" and f.get("exponent"):
            p, q = f["exponent"], f["exponent_free"]
            lines.append(
                f"{head}: I ∝ R^-p, p = {p['value']:.3f} [{p['low']:.3f}, "
                f"{p['high']:.3f}] (offset fitted: p = {q['value']:.3f}); expected 0.25"
            )
        elif f["kind"] == "exponential" and f.get("rate"):
            k = f["rate"]
            lines.append(
                f"{head}: rate {k['value']:.3f} [{k['low']:.3f}, {k['high']:.3f}]"
                f" per site; 2/xi = {f['expected']:.3f}"
            )
        elif f["kind"] == "plateau":
            p = f["plateau"]
            lines.append(
                f"{head}: plateau {p['value']:.4f} [{p['low']:.4f}, {p['high']:.4f}]"
                f", I(H : sign M) = {_or_nan(f['sign_mi']):.4f}, ln 2 = 0.6931"
            )
    return "\n".join(lines)
