"""The figure of the original notebook's study (``reproduction.png``)."""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np

# history shown: the 3x3 concat critic (the notebook's best), else 2x2, else any
_HISTORY_KEYS = ("mine_3x3_fine_concat", "mine_2x2_fine")
_FILTER_PANELS = (
    ("coarse_2x2_binary", "learned binary filter, 2x2"),
    ("coarse_2x2_linear", "learned linear filter, 2x2"),
)
_CAPTION = (
    "Error bars: ± one standard deviation over {n} repetitions (fresh pairs and "
    "initialisations). Held-out: fitted on one part of the pairs, scored on pairs it "
    "never saw; the original notebook's neural values were scored on their training "
    "pairs. The dotted line ln 2 is the most MI one binary variable can carry.\n"
    "Filters (first repetition): weights of the learned coarse variable of a 2x2 "
    "block, the same for both blocks; the neighbour block lies to the right. A "
    "binary filter need not be symmetric: mirror images of the best Boolean function "
    "(up-down or left-right) carry the same MI, and many weight vectors threshold to "
    "each, so the fit settles on one of several equally good ties."
)


def make_figure(results: dict[str, Any]) -> Any:
    """The study's figure: the table against the original notebook, one MINE
    history, the learned filters, and a caption saying what the error bars are.

    Parameters
    ----------
    results : dict
        The output of :func:`sk_rgmi.studies.notebook.run_study` (MI in nats).

    Returns
    -------
    figure : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sk_rgmi.studies.notebook import make_figure
    >>> res = {"units": "nats", "preset": {"description": "demo"}, "rows": [
    ...     {"key": "count_2x2_fine", "label": "count-based, 2x2", "mean": 0.45,
    ...      "std": 0.002, "n_seeds": 3, "train_mean": None, "notebook_value": 0.42}],
    ...     "histories": {}, "filters": {}}
    >>> fig = make_figure(res)
    >>> fig.axes[0].get_xlabel()
    'mutual information (nats)'
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(13, 5.6), layout="constrained")
    grid = fig.add_gridspec(2, 3, width_ratios=[1.6, 1.0, 0.9])
    rows = results["rows"]
    n = max((r["n_seeds"] for r in rows), default=0)
    _table_panel(fig.add_subplot(grid[:, 0]), results, n)
    _history_panel(fig.add_subplot(grid[:, 1]), results)
    for i, (key, title) in enumerate(_FILTER_PANELS):
        _filter_panel(fig.add_subplot(grid[i, 2]), results["filters"].get(key), title)
    # the caption sits below the panels (savefig(bbox_inches="tight") keeps it)
    caption = "\n".join(
        textwrap.fill(part, width=190) for part in _CAPTION.format(n=n).split("\n")
    )
    fig.text(0.0, -0.01, caption, ha="left", va="top", fontsize=8)
    return fig


def _table_panel(ax: Any, results: dict[str, Any], n: int) -> None:
    rows = results["rows"]
    ypos = np.arange(len(rows))[::-1]

    def column(name: str) -> np.ndarray:
        return np.array(
            [np.nan if r.get(name) is None else r[name] for r in rows], dtype=float
        )

    ax.errorbar(
        column("mean"), ypos, xerr=np.nan_to_num(column("std")), fmt="o", capsize=3,
        label=f"sk_rgmi held-out (mean ± std, {n} repetitions)",
    )  # fmt: skip
    trains = column("train_mean")
    if np.isfinite(trains).any():
        ax.plot(
            trains, ypos, "^", mfc="none", color="C0",
            label="sk_rgmi on its training pairs",
        )  # fmt: skip
    ax.plot(
        column("notebook_value"), ypos, "x", color="C3", ms=8,
        label="original notebook",
    )  # fmt: skip
    ln2 = math.log(2)
    ax.axvline(ln2, color="0.4", lw=1, ls=":", label="ln 2: most MI of one binary unit")
    ax.annotate(
        "ln 2", (ln2, 1), xycoords=("data", "axes fraction"), xytext=(-3, -3),
        textcoords="offset points", ha="right", va="top", fontsize=8, color="0.3",
    )  # fmt: skip
    ax.set_yticks(ypos, [r["label"] for r in rows], fontsize=8)
    ax.set_xlabel(f"mutual information ({results['units']})")
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: "held-out" not in labels[i])
    ax.legend(
        [handles[i] for i in order], [labels[i] for i in order],
        loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8,
    )  # fmt: skip
    ax.set_title(
        "MI between a block and its right neighbour\n"
        + results["preset"]["description"],
        fontsize=9,
    )


def _history_panel(ax: Any, results: dict[str, Any]) -> None:
    from ..plotting import MIHistoryDisplay

    histories = results["histories"]
    key = next(
        (k for k in _HISTORY_KEYS if k in histories), next(iter(histories), None)
    )
    if key is None:
        ax.set_axis_off()
        return
    labels = {r["key"]: r["label"] for r in results["rows"]}
    reference = {r["key"]: r["mean"] for r in results["rows"]}.get("count_2x2_fine")
    MIHistoryDisplay.from_history(
        histories[key][0],
        # the count-based value is the exact target only for 2x2 fine-grained blocks
        true_mi=reference if key == "mine_2x2_fine" else None,
        units=results["units"],
        ax=ax,
    )
    ax.set_title(
        f"training history (first repetition)\n{labels.get(key, key)}", fontsize=9
    )


def _filter_panel(ax: Any, filters: list | None, title: str) -> None:
    from ..plotting import FilterDisplay

    if not filters:
        ax.set_axis_off()
        return
    FilterDisplay(
        np.asarray(filters[0], dtype=float), block_shape=(2, 2), titles=[title]
    ).plot(ax=ax)
    ax.title.set_fontsize(9)
    ax.set_xlabel("neighbour block: to the right →", fontsize=8)
