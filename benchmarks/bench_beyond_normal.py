"""Accuracy of MI estimators on the "Beyond Normal" benchmark (40 tasks of known MI).

The benchmark of Czyż, Grabowski, Vogt, Beerenwinkel & Marx, "Beyond Normal: On the
Evaluation of Mutual Information Estimators", NeurIPS 2023 (PyPI ``benchmark-mi``,
imported as ``bmi``): 40 distributions -- Gaussians, Student-t, and their images
under MI-preserving maps (normal CDF, half-cube, spiral, asinh, wiggly, Swiss roll)
-- with 1 to 50 dimensions per variable and MI from 0.18 to 1.71 nats, known exactly.

Protocol, per task and seed: ``task.sample(n_fit + n_test, seed)`` (10,000 points by
default, cached as .npz under ``benchmarks/results/cache/``); the first ``n_fit``
points are the fit part, the last ``n_test`` the held-out part.

* sk_rgmi estimators (``mine``, ``ksg``, ``plugin`` or any public class name) are
  fitted on the fit part with ``random_state=seed``; the row keeps ``mi_`` as the
  estimate, ``score`` on the held-out part, and ``mi_std_``, ``mi_ci_`` and the
  flags of ``diagnostics_`` where the estimator has them.
* bmi's neural estimators (``bmi-mine``, ``bmi-infonce``, ``bmi-nwj``, ``bmi-dv``;
  their defaults: MLP (16, 8), Adam lr 0.1, batch 256, up to 10,000 steps, test
  every 250 steps, early stop after two evaluations without a new maximum,
  ``seed=seed``) get all the points: bmi standardises them together, then -- with
  its random split replaced by ours -- trains on the fit part and evaluates on the
  held-out part every 250 steps. bmi reports the *largest* of those held-out
  evaluations, so the held-out part both picks the checkpoint and reports it: the
  maximum of noisy evaluations is an optimistic (upward-biased) estimate. sk_rgmi's
  ``MINEEstimator`` instead picks its epoch on one half of its own validation split
  and reports on the other. bmi's flags (``early_stopping_not_triggered``,
  ``max_training_mi_decreased``, ``training_mi_still_increasing``) are kept.
* bmi's ``bmi-ksg`` (KSG, first estimator, mean over k = 5 and 10, standardised)
  and ``bmi-cca`` (Gaussian MI of the canonical correlations, a reference that is
  exact only for Gaussians) see the fit part only.

Every fit runs on one CPU thread (``--threads``; OMP/BLAS/numba variables,
``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``,
``torch.set_num_threads``). Times are wall seconds of the fit (bmi's include its
per-call jit compilation) and process CPU seconds, which are steadier on a busy
machine. Each finished fit is appended to a JSON-lines results file keyed by
(task, seed, estimator spec, n_fit, n_test, parameter hash), so a rerun computes
only what is missing (``--retry-errors`` redoes failed fits). ``--report`` turns
the results into ``docs/benchmarks_beyond_normal.rst`` and a per-task CSV.

Environment: bmi 0.1.3 needs numpy < 2 and an older jax. The ``bench`` extra of
sk_rgmi pins a set that works (Python 3.10-3.12)::

    python3.11 -m venv benchenv
    benchenv/bin/pip install "torch==2.13.0"   # any torch sk_rgmi supports
    benchenv/bin/pip install -e ".[dev,bench]"

Usage::

    python benchmarks/bench_beyond_normal.py --estimators bmi-ksg bmi-mine \\
        bmi-infonce bmi-cca --seeds 0 1 2   # slow: 5-40 s per neural fit, ~2 h
    python benchmarks/bench_beyond_normal.py --estimators mine plugin \\
        "mine:hidden_size=64,lr=3e-3" --tasks student spiral --seeds 0
    python benchmarks/bench_beyond_normal.py --list       # the 40 tasks
    python benchmarks/bench_beyond_normal.py --report     # docs table + CSV
    python benchmarks/bench_beyond_normal.py --report --all-versions \\
        --report-estimators bmi-mine mine mine@a6c6ddcb80  # before/after a change

Estimator specs are ``name`` or ``name:key=value,...`` (Python literals; bare words
are strings), e.g. ``"mine:hidden_size=64,lr=3e-3"`` or
``"bmi-mine:hidden_layers=(32, 16)"``. The spec text, parameters sorted, is the
estimator's label in the results and the table. Each row also stores a hash of
all the parameters the spec resolves to (defaults included; listed in
``beyond_normal_params.json``): when an estimator's defaults change, its spec is
refitted and the report shows the newest version (``--all-versions`` shows the
older ones as ``spec@hash`` too). A code change that keeps the parameters needs
``--force``. sk_rgmi's estimators run in any environment once the samples are
cached (``--prepare`` in the benchmark environment), e.g. the package's own.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _beyond_normal_tasks as bn

DEFAULT_RESULTS = bn.RESULTS_DIR / "beyond_normal.jsonl"
DEFAULT_DOC = (
    Path(__file__).resolve().parents[1] / "docs" / "benchmarks_beyond_normal.rst"
)
DEFAULT_CSV = bn.RESULTS_DIR / "beyond_normal.csv"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--tasks", nargs="*", help="substrings of task ids or names")
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--n-train", type=int, default=5000, help="fit part (default 5000)")
    p.add_argument("--n-test", type=int, default=5000, help="held-out part")
    p.add_argument(
        "--estimators",
        nargs="+",
        default=["mine", "plugin"],
        help="estimator specs, e.g. mine ksg plugin bmi-ksg bmi-mine "
        "bmi-infonce bmi-cca 'mine:hidden_size=64,lr=3e-3'",
    )
    p.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="JSON lines")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--retry-errors", action="store_true", help="redo failed fits")
    p.add_argument(
        "--force", action="store_true", help="refit even what is cached (new rows win)"
    )
    p.add_argument("--list", action="store_true", help="print the tasks and exit")
    p.add_argument(
        "--prepare", action="store_true", help="only sample and cache the data"
    )
    p.add_argument("--report", action="store_true", help="write the docs table")
    p.add_argument(
        "--all-versions",
        action="store_true",
        help="also report rows of older parameter fingerprints, as 'spec@hash' "
        "(e.g. an estimator before and after a change of its defaults)",
    )
    p.add_argument("--doc", type=Path, default=DEFAULT_DOC, help="report .rst")
    p.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="report CSV")
    p.add_argument(
        "--report-estimators",
        nargs="*",
        help="specs in the report (default: all in the results, bmi's first)",
    )
    return p


def run(args: argparse.Namespace, specs: list[bn.Spec]) -> None:
    import torch

    torch.set_num_threads(args.threads)
    hashes = {}
    for spec in specs:
        params, hashes[spec.key] = bn.fingerprint(spec)
        bn.record_params(args.results, spec, params, hashes[spec.key])
    tasks = bn.list_tasks(args.tasks)
    done = {
        bn.row_key(r)
        for r in bn.read_results(args.results)
        if not (args.retry_errors and r.get("error"))
    }
    if args.force:
        done = set()
    todo = [
        (seed, task, spec)
        for seed in args.seeds
        for task in tasks
        for spec in specs
        if (task.task_id, seed, spec.key, args.n_train, args.n_test, hashes[spec.key])
        not in done
    ]
    n_all = len(tasks) * len(args.seeds) * len(specs)
    print(
        f"{len(todo)} fits to run ({len(tasks)} tasks x {len(args.seeds)} seeds x "
        f"{len(specs)} estimators, {n_all - len(todo)} cached) -> {args.results}",
        flush=True,
    )
    t_start = time.perf_counter()
    for i, (seed, task, spec) in enumerate(todo, 1):
        row = bn.run_one(spec, task, seed, args.n_train, args.n_test, hashes[spec.key])
        bn.append_result(args.results, row)
        if row.get("error"):
            shown = f"ERROR {row['error'][:120]}"
        else:
            rel = (row["estimate"] - task.mi_true) / task.mi_true
            shown = (
                f"{row['estimate']:7.3f} (true {task.mi_true:.3f}, {rel:+6.1%}) "
                f"{row['fit_seconds']:6.2f} s"
            )
        elapsed = time.perf_counter() - t_start
        print(
            f"[{i}/{len(todo)} {elapsed:6.0f}s] seed {seed} {task.task_id:48s} "
            f"{spec.key:24s} {shown}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    bn.limit_threads(args.threads)
    if args.list:
        for t in bn.list_tasks(args.tasks):
            print(
                f"{t.task_id:50s} {t.name:50s} {t.dim_x:3d} {t.dim_y:3d} "
                f"{t.mi_true:.4f}"
            )
        return
    if args.prepare:
        for seed in args.seeds:
            for t in bn.list_tasks(args.tasks):
                bn.load_sample(t.task_id, seed, args.n_train + args.n_test)
        return
    if args.report:
        import _beyond_normal_report as report

        report.write_report(
            bn.read_results(args.results),
            doc=args.doc,
            csv_path=args.csv,
            estimators=args.report_estimators,
            n_fit=args.n_train,
            n_test=args.n_test,
            all_versions=args.all_versions,
            params=bn.read_params(args.results),
        )
        return
    try:
        specs = [bn.parse_spec(s) for s in args.estimators]
        for spec in specs:
            bn.fingerprint(spec)  # unknown classes or parameters fail here
    except (ValueError, TypeError, AttributeError, ImportError) as exc:
        parser.error(f"--estimators: {exc}")
    run(args, specs)


if __name__ == "__main__":
    main()
