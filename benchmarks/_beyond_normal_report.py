"""Tables of the Beyond Normal run: ``docs/benchmarks_beyond_normal.rst`` and a CSV.

Helper of ``benchmarks/bench_beyond_normal.py --report``. Definitions used below:

* relative error of a task = (mean estimate over its seeds - true MI) / true MI;
  a task any of whose fits failed counts as not within any tolerance and as an
  infinite error in the median;
* an estimator's rows are those of its latest parameter fingerprint (an older
  fingerprint -- e.g. results from before a change of defaults -- is ignored);
* "flagged" = the row has any flag: bmi's training warnings, the flag list of
  sk_rgmi's ``diagnostics_`` or an sk_rgmi warning raised during the fit;
* coverage = fraction of unflagged (task, seed) fits whose ``mi_ci_`` contains the
  true MI; half-width is relative to the true MI.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from _beyond_normal_tasks import BMI_ESTIMATORS, BMI_NEURAL, TaskInfo, list_tasks

BMI_ALL = set(BMI_ESTIMATORS)
SCORE_SUFFIX = " [score]"


def _latest_rows(
    rows: list[dict[str, Any]], all_versions: bool = False
) -> list[dict[str, Any]]:
    """Keep, per estimator spec, the rows of its most recent ``params_hash``; with
    ``all_versions`` keep the older ones too, labelled ``spec@hash``."""
    latest: dict[str, tuple[str, Any]] = {}
    for row in rows:
        spec, stamp = row["estimator"], row.get("time", "")
        if spec not in latest or stamp >= latest[spec][0]:
            latest[spec] = (stamp, row.get("params_hash"))
    out = []
    for r in rows:
        if r.get("params_hash") == latest[r["estimator"]][1]:
            out.append(r)
        elif all_versions:
            out.append({**r, "estimator": f"{r['estimator']}@{r.get('params_hash')}"})
    return out


def _with_score_variants(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``spec [score]`` rows: the held-out ``score`` as the estimate."""
    extra = []
    for row in rows:
        if "score" in row or (row.get("error") and row["estimator"] not in BMI_ALL):
            extra.append(
                {
                    **row,
                    "estimator": row["estimator"] + SCORE_SUFFIX,
                    "estimate": row.get("score"),
                    "ci_low": None,
                    "ci_high": None,
                }
            )
    return rows + extra


def _common_rows(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Only the (task, seed) pairs that every estimator has (failed fits count as
    present), so that all summaries are over the same fits; also the number of
    pairs dropped."""
    pairs: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for r in rows:
        pairs[r["estimator"]].add((r["task"], r["seed"]))
    if not pairs:
        return rows, 0
    common = set.intersection(*pairs.values())
    union = set.union(*pairs.values())
    return [r for r in rows if (r["task"], r["seed"]) in common], len(union - common)


def _order(specs: set[str]) -> list[str]:
    """bmi's estimators first (in BMI_ESTIMATORS order), then the others as sorted."""
    bmi = [s for s in BMI_ESTIMATORS if s in specs]
    return bmi + sorted(s for s in specs if s not in BMI_ESTIMATORS)


class _Cell:
    """One (task, estimator): its rows and derived numbers."""

    def __init__(self, task: TaskInfo, rows: list[dict[str, Any]]) -> None:
        self.task, self.rows = task, rows
        ok = [r for r in rows if r.get("estimate") is not None and not r.get("error")]
        self.n, self.n_ok = len(rows), len(ok)
        self.failed = self.n_ok < self.n or self.n == 0
        est = np.array([r["estimate"] for r in ok], dtype=float)
        self.mean = float(est.mean()) if len(est) else math.nan
        self.sd = float(est.std(ddof=1)) if len(est) > 1 else math.nan
        self.rel = (
            math.inf if self.failed else (self.mean - task.mi_true) / task.mi_true
        )
        self.fit_s = float(np.mean([r["fit_seconds"] for r in ok])) if ok else math.nan
        self.cpu_s = float(np.mean([r["cpu_seconds"] for r in ok])) if ok else math.nan


def _cells(
    rows: list[dict[str, Any]], tasks: list[TaskInfo]
) -> tuple[list[str], dict[tuple[str, str], _Cell]]:
    by = defaultdict(list)
    for r in rows:
        by[r["task"], r["estimator"]].append(r)
    specs = _order({r["estimator"] for r in rows})
    cells = {
        (t.task_id, s): _Cell(t, by[t.task_id, s])
        for t in tasks
        for s in specs
        if by[t.task_id, s]
    }
    return specs, cells


def _pct(x: float, digits: int = 0) -> str:
    return "--" if not math.isfinite(x) else f"{100 * x:.{digits}f}%"


def _summary(
    spec: str,
    tasks: list[TaskInfo],
    cells: dict[tuple[str, str], _Cell],
    bmi_neural: list[str],
) -> dict[str, Any]:
    mine = [cells[t.task_id, spec] for t in tasks if (t.task_id, spec) in cells]
    err = np.array([abs(c.rel) for c in mine])
    rows = [r for c in mine for r in c.rows if not r.get("error")]
    out: dict[str, Any] = {
        "spec": spec,
        "tasks": len(mine),
        "fits": f"{sum(c.n_ok for c in mine)}/{sum(c.n for c in mine)}",
        "median_err": float(np.median(err)) if len(err) else math.nan,
        "within5": float(np.mean(err <= 0.05)) if len(err) else math.nan,
        "within10": float(np.mean(err <= 0.10)) if len(err) else math.nan,
        "fit_s": float(np.median([r["fit_seconds"] for r in rows])) if rows else 0,
        "cpu_s": float(np.median([r["cpu_seconds"] for r in rows])) if rows else 0,
        "beats": math.nan,
    }
    if spec not in BMI_ESTIMATORS and bmi_neural:
        wins = []
        for c in mine:
            rivals = [
                abs(cells[c.task.task_id, b].rel)
                for b in bmi_neural
                if (c.task.task_id, b) in cells
            ]
            if rivals:
                wins.append(abs(c.rel) < min(rivals))
        out["beats"] = float(np.mean(wins)) if wins else math.nan
    return out


def _interval_summary(
    spec: str, tasks: list[TaskInfo], cells: dict[tuple[str, str], _Cell]
) -> dict[str, Any] | None:
    rows = [
        r
        for t in tasks
        if (t.task_id, spec) in cells
        for r in cells[t.task_id, spec].rows
        if not r.get("error") and r.get("estimate") is not None
    ]
    with_ci = [r for r in rows if r.get("ci_low") is not None]
    if not with_ci and not any(r.get("flags") for r in rows):
        return None
    unflagged = [r for r in with_ci if not r.get("flags")]
    cover = [r["ci_low"] <= r["mi_true"] <= r["ci_high"] for r in unflagged]
    half = [(r["ci_high"] - r["ci_low"]) / 2 / r["mi_true"] for r in with_ci]
    close = [abs(r["estimate"] - r["mi_true"]) <= 0.1 * r["mi_true"] for r in rows]
    flagged = [bool(r.get("flags")) for r in rows]
    good = [f for f, c in zip(flagged, close, strict=True) if c]
    bad = [f for f, c in zip(flagged, close, strict=True) if not c]
    return {
        "spec": spec,
        "coverage": float(np.mean(cover)) if cover else math.nan,
        "n_unflagged": f"{sum(not r.get('flags') for r in rows)}/{len(rows)}",
        "half_width": float(np.median(half)) if half else math.nan,
        "flagged_good": float(np.mean(good)) if good else math.nan,
        "flagged_bad": float(np.mean(bad)) if bad else math.nan,
        "n_good_bad": f"{len(good)}/{len(bad)}",
    }


# ------------------------------------------------------------------ rst output
def _list_table(
    title: str, header: list[str], body: list[list[str]], widths: str | None = None
) -> list[str]:
    lines = [f".. list-table:: {title}", "   :header-rows: 1"]
    if widths:
        lines.append(f"   :widths: {widths}")
    lines.append("")
    for row in [header, *body]:
        for j, cell in enumerate(row):
            lines.append(f"   {'*' if j == 0 else ' '} - {cell or ' '}")
    return [*lines, ""]


def _lit(text: str) -> str:
    return f"``{text}``"


def _rst(
    specs: list[str],
    tasks: list[TaskInfo],
    cells: dict[tuple[str, str], _Cell],
    summaries: list[dict[str, Any]],
    intervals: list[dict[str, Any]],
    seeds: list[int],
    envs: dict[str, set[str]],
    n_fit: int,
    n_test: int,
    n_pairs: int,
    params: dict[str, list[dict[str, Any]]],
) -> str:
    title = "Beyond Normal benchmark"
    out = [
        ".. This page is generated by benchmarks/bench_beyond_normal.py --report;",
        "   edit that script, not this file.",
        "",
        title,
        "=" * len(title),
        "",
        "Accuracy of mutual-information estimators on the 40 tasks of known MI of",
        "Czyż, Grabowski, Vogt, Beerenwinkel & Marx, *Beyond Normal: On the Evaluation",
        "of Mutual Information Estimators* (NeurIPS 2023), through their package",
        "``benchmark-mi`` 0.1.3 (``bmi``). MI in nats.",
        "",
        f"Protocol: per task and seed ({', '.join(map(str, seeds))}),",
        f"{n_fit + n_test:,} points from ``task.sample``; sk_rgmi's estimators are",
        f"fitted on the first {n_fit:,} (``random_state`` = seed) and report",
        f"``mi_``; ``[score]`` rows are their ``score`` on the last {n_test:,}.",
        "bmi's neural estimators (defaults: MLP 16-8, Adam lr 0.1, batch 256, at",
        f"most 10,000 steps) train on the same first {n_fit:,} and are evaluated",
        f"on the last {n_test:,} every 250 steps; bmi reports the **largest** of",
        "these held-out evaluations, so the held-out data both choose and report",
        "the estimate, which is therefore optimistic. ``bmi-ksg`` (KSG, mean over",
        "k = 5, 10) and ``bmi-cca`` (Gaussian MI of the canonical correlations,",
        f"exact only for Gaussian tasks) see the first {n_fit:,}. One CPU thread",
        "per fit; times are medians of wall seconds per fit on a 2-core machine",
        "shared with other jobs (bmi's include jit compilation) and of process",
        "CPU seconds.",
        "",
        f"All numbers are over the same {n_pairs} (task, seed) pairs of",
        f"{len(tasks)} tasks for every estimator (pairs that some estimator",
        "lacks are left out).",
        "",
        "Relative error of a task: (mean estimate over the seeds - true MI) / true",
        "MI; a task with a failed fit counts as outside every tolerance.",
        '"Beats bmi": fraction of tasks where the estimator\'s absolute error is',
        "smaller than that of the best of bmi's neural estimators on that task",
        f"({', '.join(_lit(b) for b in BMI_NEURAL if b in specs) or 'none run'}).",
        "",
        "Regenerate with::",
        "",
        "    python benchmarks/bench_beyond_normal.py --estimators ... --seeds 0 1 2",
        "    python benchmarks/bench_beyond_normal.py --report",
        "",
        "Summary",
        "-------",
        "",
    ]
    body = [
        [
            _lit(s["spec"]),
            s["fits"],
            _pct(s["median_err"], 1),
            _pct(s["within5"]),
            _pct(s["within10"]),
            _pct(s["beats"]) if math.isfinite(s["beats"]) else "--",
            f"{s['fit_s']:.2f}",
            f"{s['cpu_s']:.2f}",
        ]
        for s in summaries
    ]
    out += _list_table(
        "Per estimator (over the tasks)",
        [
            "estimator",
            "fits ok",
            "median abs. rel. error",
            "within 5%",
            "within 10%",
            "beats bmi",
            "fit s",
            "CPU s",
        ],
        body,
    )
    if intervals:
        out += [
            "Intervals (``mi_ci_``) and flags, for the estimators that have either:",
            "coverage of the true MI over the fits that raised no flag, median",
            "half-width relative to the true MI, and how often a fit was flagged",
            "when its estimate was within 10% of the truth (a false alarm) and when",
            "it was not (a caught failure). Flags are bmi's training warnings, the",
            "flag list of sk_rgmi's ``diagnostics_`` and sk_rgmi warnings.",
            "",
        ]
        body = [
            [
                _lit(s["spec"]),
                _pct(s["coverage"]),
                s["n_unflagged"],
                _pct(s["half_width"], 1),
                _pct(s["flagged_good"]),
                _pct(s["flagged_bad"]),
                s["n_good_bad"],
            ]
            for s in intervals
        ]
        out += _list_table(
            "Intervals and flags (per fit)",
            [
                "estimator",
                "coverage (unflagged)",
                "unflagged fits",
                "median half-width",
                "flagged, within 10%",
                "flagged, off by > 10%",
                "fits within / off",
            ],
            body,
        )
    out += [
        "Per task",
        "--------",
        "",
        "Mean estimate over the seeds (relative error); ``fail`` marks a task with a",
        "failed fit. Task ids are bmi's.",
        "",
    ]
    body = []
    for t in tasks:
        line = [_lit(t.task_id), f"{t.dim_x} × {t.dim_y}", f"{t.mi_true:.3f}"]
        for s in specs:
            c = cells.get((t.task_id, s))
            if c is None:
                line.append("")
            elif c.failed:
                line.append("fail")
            else:
                line.append(f"{c.mean:.3f} ({100 * c.rel:+.0f}%)")
        body.append(line)
    out += _list_table(
        "Estimates", ["task", "dims", "true MI", *map(_lit, specs)], body
    )
    out += ["Mean wall seconds per fit:", ""]
    timed = [s for s in specs if not s.endswith(SCORE_SUFFIX)]
    body = [
        [_lit(t.task_id)]
        + [
            f"{cells[t.task_id, s].fit_s:.2f}" if (t.task_id, s) in cells else ""
            for s in timed
        ]
        for t in tasks
    ]
    out += _list_table("Fit times (s)", ["task", *map(_lit, timed)], body)
    out += ["Runs", "----", ""]
    out += [
        "Every parameter of each estimator as run (defaults included; the seed",
        "is the data seed) and the software it ran with.",
        "",
    ]
    for spec in timed:
        out.append(f"- {_lit(spec)}")
        for entry in params.get(spec, ()):
            text = ", ".join(f"{k}={v!r}" for k, v in sorted(entry.items()))
            out += ["", f"  - parameters: {_lit(text) if text else 'none'}"]
        for env in sorted(envs.get(spec, ())):
            out += ["", f"  - {env}"]
        out.append("")
    return "\n".join(out)


def write_report(
    rows: list[dict[str, Any]],
    *,
    doc: Path,
    csv_path: Path,
    estimators: list[str] | None,
    n_fit: int = 5000,
    n_test: int = 5000,
    all_versions: bool = False,
    params: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Print the summary and write the docs page and the per-task CSV.

    ``params`` maps a ``params_hash`` to ``{"estimator": spec, "params": {...}}``
    (the side file the runs keep); the page lists them.
    """
    rows = [r for r in rows if (r["n_fit"], r["n_test"]) == (n_fit, n_test)]
    rows = _with_score_variants(_latest_rows(rows, all_versions))
    if estimators:
        keep = set(estimators) | {e + SCORE_SUFFIX for e in estimators}
        rows = [r for r in rows if r["estimator"] in keep]
    if not rows:
        raise SystemExit("no results to report (check --report-estimators)")
    rows, n_dropped = _common_rows(rows)
    if n_dropped:
        print(f"left out {n_dropped} (task, seed) pairs that not every estimator has")
    tasks = [t for t in list_tasks() if any(r["task"] == t.task_id for r in rows)]
    specs, cells = _cells(rows, tasks)
    bmi_neural = [b for b in BMI_NEURAL if b in specs]
    summaries = [_summary(s, tasks, cells, bmi_neural) for s in specs]
    intervals = [
        i
        for s in specs
        if not s.endswith(SCORE_SUFFIX) and (i := _interval_summary(s, tasks, cells))
    ]
    seeds = sorted({r["seed"] for r in rows})
    envs: dict[str, set[str]] = defaultdict(set)
    hashes: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r.get("env"):
            envs[r["estimator"]].add(r["env"])
        hashes[r["estimator"]].add(r.get("params_hash"))
    spec_params = {
        spec: [(params or {})[h]["params"] for h in sorted(hs) if h in (params or {})]
        for spec, hs in hashes.items()
    }
    for s in summaries:
        print(
            f"{s['spec']:36s} fits {s['fits']:>8s}  median |rel err| "
            f"{_pct(s['median_err'], 1):>6s}  within 5% {_pct(s['within5']):>4s}  "
            f"10% {_pct(s['within10']):>4s}  beats bmi {_pct(s['beats']):>4s}  "
            f"fit {s['fit_s']:.2f} s  cpu {s['cpu_s']:.2f} s"
        )
    for i in intervals:
        print(
            f"{i['spec']:36s} coverage {_pct(i['coverage'])} ({i['n_unflagged']} "
            f"unflagged)  half-width {_pct(i['half_width'], 1)}  flagged within/off "
            f"10%: {_pct(i['flagged_good'])}/{_pct(i['flagged_bad'])}"
        )
    doc.write_text(
        _rst(
            specs,
            tasks,
            cells,
            summaries,
            intervals,
            seeds,
            envs,
            n_fit,
            n_test,
            n_pairs=len({(r["task"], r["seed"]) for r in rows}),
            params=spec_params,
        )
    )
    _write_csv(csv_path, tasks, specs, cells)
    print(f"wrote {doc} and {csv_path}")


def _write_csv(
    path: Path,
    tasks: list[TaskInfo],
    specs: list[str],
    cells: dict[tuple[str, str], _Cell],
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "task",
                "name",
                "dim_x",
                "dim_y",
                "mi_true",
                "estimator",
                "n_fits",
                "n_ok",
                "mean",
                "sd",
                "rel_error",
                "fit_seconds",
                "cpu_seconds",
            ]
        )
        for t in tasks:
            for s in specs:
                c = cells.get((t.task_id, s))
                if c is None:
                    continue
                w.writerow(
                    [
                        t.task_id,
                        t.name,
                        t.dim_x,
                        t.dim_y,
                        f"{t.mi_true:.6f}",
                        s,
                        c.n,
                        c.n_ok,
                        f"{c.mean:.6f}",
                        f"{c.sd:.6f}",
                        f"{c.rel:.6f}",
                        f"{c.fit_s:.4f}",
                        f"{c.cpu_s:.4f}",
                    ]
                )
