"""The report every study shares: the printed table and the results files.

A study's results are a JSON-ready dict (see :func:`sk_rgmi.studies.notebook.run_study`)
with at least

- ``title`` and ``note``: the table's first line and its explanation;
- ``units``: ``"nats"`` or ``"bits"``;
- ``reference``: the name of the column of published values (``"notebook"``), or
  None; each row then carries ``<reference>_value`` and ``<reference>_text``;
- ``rows``: one dict per row with ``key``, ``label``, ``mean``, ``std``,
  ``n_seeds``, ``train_mean`` and ``seconds``.
"""

from __future__ import annotations

import csv
import json
import math
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["format_table", "write_results"]


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def _fmt_interval(row: dict[str, Any]) -> str:
    """``[low, high]`` of a row's interval (``*``: flagged as possibly wrong)."""
    interval = row.get("interval")
    if not interval:
        return "-"
    mark = " *" if row.get("flags") else ""
    return f"[{interval[0]:.4f}, {interval[1]:.4f}]{mark}"


def format_table(results: dict[str, Any], fmt: str = "text") -> str:
    """Render a study's results table.

    Parameters
    ----------
    results : dict
        A study's results, e.g. the output of
        :func:`sk_rgmi.studies.notebook.run_study`. MI values are in
        ``results["units"]`` (nats unless stated).
    fmt : {"text", "rst", "markdown"}, default="text"
        Plain fixed-width text with the study's title and note, a reStructuredText
        grid table or a Markdown table.

    Returns
    -------
    table : str
        The table, one line per row.

    Examples
    --------
    >>> from sk_rgmi.studies import format_table
    >>> res = {"units": "nats", "reference": "notebook", "rows": [
    ...     {"label": "a", "mean": 0.42, "std": 0.01, "n_seeds": 3,
    ...      "train_mean": None, "notebook_text": "0.4219"}]}
    >>> print(format_table(res, "markdown"))  # doctest: +NORMALIZE_WHITESPACE
    | quantity | MI (nats) | ± std | train | notebook |
    |---|---|---|---|---|
    | a | 0.4200 | 0.0100 | - | 0.4219 |
    """
    if fmt not in ("text", "rst", "markdown"):
        raise ValueError(f"fmt must be 'text', 'rst' or 'markdown', got {fmt!r}")
    ref = results.get("reference")
    with_ci = any(r.get("interval") for r in results["rows"])
    header = ["quantity", f"MI ({results['units']})", "± std", "train"]
    header += ["95% interval (one fit)"] if with_ci else []
    header += [ref] if ref else []
    body = [
        [r["label"], _fmt(r["mean"]), _fmt(r["std"]), _fmt(r.get("train_mean"))]
        + ([_fmt_interval(r)] if with_ci else [])
        + ([str(r.get(f"{ref}_text", "-"))] if ref else [])
        for r in results["rows"]
    ]
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=True)]
    if fmt == "rst":
        sep = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

        def line(cells: list[str]) -> str:
            padded = (c.ljust(w) for c, w in zip(cells, widths, strict=True))
            return "| " + " | ".join(padded) + " |"

        out = [sep, line(header), sep.replace("-", "=")]
        for row in body:
            out += [line(row), sep]
        return "\n".join(out)
    fmt_line = "  ".join(
        f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths)
    )
    out = [results.get("title", "")]
    if results.get("note"):
        out.append(textwrap.fill(results["note"], width=100))
    out += [fmt_line.format(*header), "-" * (sum(widths) + 2 * len(widths) - 2)]
    out += [fmt_line.format(*row) for row in body]
    return "\n".join(line for line in out if line)


def write_results(
    results: dict[str, Any],
    out_dir: str | Path,
    *,
    figure: Callable[[dict[str, Any]], Any] | None = None,
    figure_name: str = "figure.png",
) -> dict[str, Path]:
    """Write ``results.json``, ``results.csv`` and, optionally, a figure.

    Parameters
    ----------
    results : dict
        A study's results (MI values in ``results["units"]``).
    out_dir : str or Path
        Created if missing; files in it are replaced.
    figure : callable, default=None
        ``figure(results) -> matplotlib Figure``, for instance
        :func:`sk_rgmi.studies.notebook.make_figure`; no figure when None.
    figure_name : str, default="figure.png"
        File name of the figure inside ``out_dir``.

    Returns
    -------
    paths : dict of str to Path
        ``{"json": ..., "csv": ...}``, plus ``"figure"`` when one was drawn.

    Examples
    --------
    >>> import tempfile
    >>> from sk_rgmi.studies import write_results
    >>> res = {"units": "nats", "reference": None, "rows": [
    ...     {"key": "a", "label": "a", "mean": 0.42, "std": 0.01, "n_seeds": 3,
    ...      "train_mean": None, "seconds": 1.0}]}
    >>> with tempfile.TemporaryDirectory() as out:
    ...     sorted(write_results(res, out))
    ['csv', 'json']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "csv": out / "results.csv"}
    paths["json"].write_text(json.dumps(results, indent=2, allow_nan=True) + "\n")
    ref = results.get("reference")
    columns = ["key", "label", "mean", "std", "n_seeds", "train_mean"]
    columns += ["interval_low", "interval_high", "flags"]
    columns += [f"{ref}_value", f"{ref}_text"] if ref else []
    columns += ["seconds"]
    rows = []
    for row in results["rows"]:
        low, high = row.get("interval") or (None, None)
        flags = " ".join(row.get("flags") or [])
        rows.append({**row, "interval_low": low, "interval_high": high, "flags": flags})
    with paths["csv"].open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    if figure is not None:
        paths["figure"] = out / figure_name
        save_figure(figure(results), paths["figure"], dpi=120)
    return paths


def save_figure(fig: Any, path: Path, dpi: int) -> None:
    """Save a study's figure (tight bounding box: captions below the axes) and
    close it."""
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
