"""The figures of the RSMI study (``sk-rgmi rsmi``); MI in nats."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..datasets.exact import T_C
from ._rsmi_decay import is_critical

__all__ = ["decay_figure", "filters_figure", "flow_figure", "make_figures"]

_LN2 = math.log(2.0)


def _steps(n: int) -> str:
    """Legend text for ``n`` RG steps: "no RG step", "1 RG step", "2 RG steps"."""
    return "no RG step" if n == 0 else f"{n} RG step{'s' if n > 1 else ''}"


def _label(entry: dict[str, Any]) -> str:
    h = entry["visible"][0]
    k = entry["n_components"]
    return f"{h}x{h}" + (f", {k} units" if k > 1 else "")


def _errorbar(ax: Any, x: Any, entry: dict[str, Any], key: str, **kw: Any) -> Any:
    y = np.asarray(entry[key], dtype=float)
    lo = np.asarray(entry[f"{key}_low"], dtype=float)
    hi = np.asarray(entry[f"{key}_high"], dtype=float)
    err = np.vstack([np.maximum(y - lo, 0), np.maximum(hi - y, 0)])
    return ax.errorbar(x, y, yerr=err, capsize=2, **kw)


def decay_figure(results: dict[str, Any]) -> Any:
    """I(H : E) against the buffer width: log-log at T_c, semi-log above, and the
    plateau below T_c, with the fits and their expected slopes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_rgmi.studies._rsmi_figures import decay_figure
    >>> fig = decay_figure({"decay": []})
    >>> len(fig.axes)
    3
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 6.4), layout="constrained")
    ax_c, ax_hi, ax_lo = axes
    n_curves = {id(ax): 0 for ax in axes}  # one colour per curve within a panel
    once: set[str] = set()  # legend entries shared by the curves of a panel

    def colour_for(ax: Any) -> str:
        n_curves[id(ax)] += 1
        return f"C{(n_curves[id(ax)] - 1) % 10}"

    def first(label: str) -> str:
        if label in once:
            return "_nolegend_"
        once.add(label)
        return label

    for entry in results["decay"]:
        t = entry["temperature"]
        b = np.asarray(entry["buffer"], dtype=float)
        lab = _label(entry)
        y = np.asarray(entry["mi"], dtype=float)
        fit = entry["fit"]
        if is_critical(t):
            colour = colour_for(ax_c)
            r = b + fit["r0"]
            p = fit["exponent"]["value"] if fit.get("exponent") else None
            label = f"H, {lab}" + (f": fit R^-{p:.3f}" if p else "")
            _errorbar(ax_c, r, entry, "mi", fmt="o", color=colour, label=label)
            if entry.get("mi_fine") is not None:
                _errorbar(ax_c, r, entry, "mi_fine", fmt="s", mfc="none",
                          color=colour, label=f"V, {lab} (fine block)")  # fmt: skip
            if p:
                ok = y > 0
                a = np.exp(np.mean(np.log(y[ok]) + p * np.log(r[ok])))
                ax_c.plot(r, a * r**-p, "-", color=colour, lw=1)
                ax_c.plot(r, y[0] * (r / r[0]) ** -0.25, "--", color=colour, lw=0.8,
                          alpha=0.6, label=first("dashed: slope -1/4"))  # fmt: skip
            if entry.get("mi_sign"):
                level = float(np.mean(entry["mi_sign"]))
                sign = first("dotted: I(H : sign M), finite L")
                ax_c.axhline(level, color=colour, ls=":", lw=0.8, label=sign)
        elif t > T_C:
            colour = colour_for(ax_hi)
            k = fit["rate"]["value"] if fit.get("rate") else None
            label = f"T={t:.3g}, {lab}" + (
                f": κ={k:.3f} (2/ξ={fit['expected']:.3f})" if k else ""
            )
            _errorbar(ax_hi, b, entry, "mi", fmt="o", color=colour, label=label)
            if k:
                used = np.asarray(fit["buffers_used"], dtype=float)
                mask = np.isin(b, used)
                a = np.exp(np.mean(np.log(y[mask]) + k * b[mask]))
                ax_hi.plot(used, a * np.exp(-k * used), "-", color=colour, lw=1)
                ax_hi.plot(used, a * np.exp(-fit["expected"] * used), "--",
                           color=colour, lw=0.8, alpha=0.6,
                           label=first("dashed: rate 2/ξ"))  # fmt: skip
        else:
            colour = colour_for(ax_lo)
            _errorbar(ax_lo, b, entry, "mi", fmt="o", color=colour,
                      label=f"T={t:.3g}, {lab}")  # fmt: skip
            if entry.get("mi_sign") is not None:
                ax_lo.plot(b, entry["mi_sign"], ":", color=colour,
                           label=first("dotted: I(H : sign M)"))  # fmt: skip
    ax_c.set_xscale("log")
    ax_c.set_yscale("log")
    ax_c.set_xlabel("R = L_B + r0 (block centre to shell middle)")
    ax_c.set_ylabel("I(H : ΣE) (nats)")
    ax_c.set_title("T = T_c: power law; expected slope -η = -1/4\n(summed shell)")
    ax_hi.set_yscale("log")
    ax_hi.set_xlabel("buffer width L_B")
    ax_hi.set_title("T > T_c: exponential decay, rate 2/ξ expected\n(exact ξ)")
    ax_lo.axhline(_LN2, color="k", ls="--", lw=1, label="ln 2")
    ax_lo.set_xlabel("buffer width L_B")
    ax_lo.set_title("T < T_c: saturation\n(ln 2 per binary unit)")
    for ax in axes:
        if ax.has_data():
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13),
                      ncol=2, frameon=False)  # fmt: skip
    return fig


def filters_figure(results: dict[str, Any]) -> Any:
    """Learned filters across temperature (columns) and block size (rows), at the
    preset's reference buffer width, titled with their asymmetry under the square's
    symmetries.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_rgmi.studies._rsmi_figures import filters_figure
    >>> fig = filters_figure({"decay": [], "preset": {"filter_buffer": 2}})
    >>> len(fig.axes)
    1
    """
    import matplotlib.pyplot as plt

    from ..plotting import FilterDisplay

    ref = results["preset"]["filter_buffer"]
    cells = {}
    for entry in results["decay"]:
        if ref in entry["buffer"]:
            j = entry["buffer"].index(ref)
            k = entry["n_components"]
            for u in range(k):
                row = _label(entry) + (f", unit {u + 1}" if k > 1 else "")
                cells[(row, entry["temperature"])] = (entry, j, u)
    rows = sorted({k[0] for k in cells}, key=lambda s: (len(s), s))
    cols = sorted({k[1] for k in cells})
    fig, axes = plt.subplots(
        max(1, len(rows)), max(1, len(cols)), squeeze=False,
        figsize=(2.6 * max(1, len(cols)) + 0.5, 2.6 * max(1, len(rows)) + 0.4),
        layout="constrained",
    )  # fmt: skip
    for ax in axes.ravel():
        ax.set_axis_off()
    for i, row in enumerate(rows):
        for j, t in enumerate(cols):
            if (row, t) not in cells:
                continue
            entry, k, u = cells[(row, t)]
            w = np.asarray(entry["filters"][k], dtype=float)[u : u + 1]
            h = entry["visible"][0]
            ax = axes[i, j]
            ax.set_axis_on()
            title = (
                f"{row}, T={t:.3g}\nasym {entry['d4_asymmetry'][k][u]:.2f}, "
                f"I={entry['mi'][k]:.3f}"
            )
            FilterDisplay(w, block_shape=(h, h), titles=[title]).plot(
                ax=ax, colorbar=False, annotate=h <= 3
            )
            ax.title.set_fontsize(8)
    fig.suptitle(
        f"learned RSMI filters at L_B = {ref} (unit norm; red > 0 > blue, each panel "
        "scaled to its largest |weight|)\nasym: distance from the square's "
        "symmetric average; I: I(H : ΣE) of all units, nats",
        fontsize=10,
    )
    return fig


def flow_figure(results: dict[str, Any]) -> Any:
    """U4 of the coarse lattices against T (learned and majority flows), the
    matched pairs' fits and crossings, and the learned rule of every step.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_rgmi.studies._rsmi_figures import flow_figure
    >>> fig = flow_figure({"flow": None, "majority": {"flow": None}})
    >>> len(fig.axes)
    3
    """
    import matplotlib.pyplot as plt

    from ..plotting import FilterDisplay

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), layout="constrained")
    for ax, (name, flow) in zip(
        axes[:2],
        (("learned RSMI flow", results.get("flow")),
         ("majority rule", results.get("majority", {}).get("flow"))),
        strict=True,
    ):  # fmt: skip
        if not flow:
            ax.set_axis_off()
            continue
        L, Ls = flow["size"], flow["small_size"]
        for m in flow["matching"]:
            n = m["n"]
            colour = f"C{n}"
            f = m["fit"]
            ax.errorbar(flow["temperatures"], f["large"], f["large_err"], fmt="o",
                        color=colour, label=f"L={L}, {_steps(n + 1)}")  # fmt: skip
            ax.errorbar(flow["temperatures_small"], f["small"], f["small_err"],
                        fmt="s", mfc="none", color=colour,
                        label=f"L={Ls}, {_steps(n)}")  # fmt: skip
            ax.plot(f["large_grid"], f["large_fit"], "-", color=colour, lw=1)
            ax.plot(f["small_grid"], f["small_fit"], "--", color=colour, lw=1)
            ax.plot(m["tc"]["value"], m["value"]["value"], "k*", ms=9)
        ax.axvline(T_C, color="0.5", lw=1, ls=":", label="exact T_c")
        temps = [*flow["temperatures"], *flow["temperatures_small"]]
        pad = 0.05 * (max(temps) - min(temps))
        ax.set_xlim(min(temps) - pad, max(temps) + pad)
        ax.set_xlabel("temperature T")
        ax.set_ylabel("Binder cumulant U4 of the coarse lattice")
        tc, nu = flow["tc"], flow["nu"]
        ax.set_title(
            f"{name}: T_c = {tc['value']:.4f} [{tc['low']:.4f}, {tc['high']:.4f}]\n"
            f"ν = {nu['value']:.3f} [{nu['low']:.3f}, {nu['high']:.3f}] "
            f"(step pair n={flow['primary_step']})",
            fontsize=9,
        )
        ax.legend(fontsize=7)
    flow = results.get("flow")
    if flow and flow.get("filters"):
        w = np.asarray(flow["filters"], dtype=float)
        b = flow["factor"]
        axes[2].set_axis_off()
        inner = [
            axes[2].inset_axes([k / len(w), 0.2, 0.9 / len(w), 0.6])
            for k in range(len(w))
        ]
        FilterDisplay(
            w, block_shape=(b, b), titles=[f"step {k + 1}" for k in range(len(w))]
        ).plot(ax=inner, colorbar=False)
        axes[2].set_title("learned rule of each RG step (±1 spins)")
    else:
        axes[2].set_axis_off()
    return fig


def make_figures(results: dict[str, Any]) -> dict[str, Any]:
    """All figures of the study, keyed by file name.

    Examples
    --------
    >>> from sk_rgmi.studies._rsmi_figures import make_figures
    >>> callable(make_figures)
    True
    """
    return {
        "rsmi_decay.png": decay_figure(results),
        "rsmi_filters.png": filters_figure(results),
        "rsmi_flow.png": flow_figure(results),
    }
