"""Measurements behind ``method="auto"`` (sk_rgmi.auto) and the "Which estimator
when" page: the KSG/MINE crossover dimension on Beyond Normal, and plug-in vs KSG vs
MINE on critical Ising block pairs. MI in nats.

``--crossover`` reads the Beyond Normal results file written by
``bench_beyond_normal.py`` (run it first with ``--estimators ksg mine plugin --seeds
0 1 2``) and prints, per total dimension d_x + d_y, the median absolute relative
error and median fit time of each estimator over all (task, seed) fits, and where
MINE's median error falls below KSG's.

``--between`` fills the gaps of the suite at 5 and 8 dimensions in all (it has 4, 6
and 10): the 2 x 3 and 4 x 4 versions of its 3 x 3 / 5 x 5 task families (bmi's own task
constructors: dense and 2-pair Gaussians, Student-t with 2 and 3 degrees of
freedom, the normal-CDF, half-cube, spiral and spiral-of-normal-CDF images of the
2-pair Gaussian, asinh of Student-t), same protocol (``task.sample(10000, seed)``,
fit on the first 5,000), KSG and MINE at their defaults; rows go to
``results/choosing_between.jsonl`` and ``--crossover`` includes them. Needs bmi
(the benchmark environment of ``bench_beyond_normal.py``).

``--ising`` draws pairs of horizontally adjacent 2x2 blocks from critical 2D Ising
configurations (27x27, 3x3-majority coarse-grained from 81x81, periodic, Wolff;
cached in the sk_rgmi data home), fits plug-in, KSG and MINE at their defaults on
N pairs for several seeds, and compares with a reference: the plug-in estimate
(jackknife) on ``--n-reference`` pairs of the same configurations (16 x 16 joint
states, so its bias and noise are far below the errors compared). Times are wall
and process-CPU seconds of ``fit`` on one thread.

Usage::

    python benchmarks/bench_choosing.py --crossover
    nice -n 10 python benchmarks/bench_choosing.py --between --seeds 0 1 2
    nice -n 10 python benchmarks/bench_choosing.py --ising --n 1000 2000 5000 20000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
BETWEEN = RESULTS / "choosing_between.jsonl"


def _between_tasks(dim_x: int, dim_y: int) -> list:
    """``dim_x`` x ``dim_y`` versions of the suite's 3 x 3 and 5 x 5 task families
    (bmi's constructors)."""
    import bmi.benchmark.tasks.multinormal as multinormal
    import bmi.benchmark.tasks.student as student
    from bmi.benchmark.tasks.asinh import transform_asinh_task as asinh
    from bmi.benchmark.tasks.half_cube import transform_half_cube_task as half_cube
    from bmi.benchmark.tasks.normal_cdf import transform_normal_cdf_task as cdf
    from bmi.benchmark.tasks.spiral import transform_spiral_task as spiral

    pair = multinormal.task_multinormal_2pair(dim_x, dim_y)
    return [
        multinormal.task_multinormal_dense(dim_x, dim_y),
        pair,
        student.task_student_identity(dim_x=dim_x, dim_y=dim_y, df=2),
        student.task_student_identity(dim_x=dim_x, dim_y=dim_y, df=3),
        cdf(pair),
        half_cube(pair),
        spiral(pair),
        spiral(cdf(pair)),
        asinh(student.task_student_identity(dim_x=dim_x, dim_y=dim_y, df=2)),
    ]


def between(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _beyond_normal_tasks as bn

    bn.limit_threads(1)
    import numpy as np
    import torch

    torch.set_num_threads(1)
    done = set()
    if BETWEEN.exists():
        done = {
            (r["task"], r["seed"], r["estimator"], r["params_hash"])
            for r in map(json.loads, BETWEEN.read_text().splitlines())
        }
    specs = [bn.parse_spec(e) for e in args.estimators if e in ("ksg", "mine")]
    hashes = {s.key: bn.fingerprint(s)[1] for s in specs}
    for seed in args.seeds:
        for task in [t for shape in args.shapes for t in _between_tasks(*shape)]:
            x, y = (np.asarray(a, dtype=np.float64) for a in task.sample(10000, seed))
            info = bn.TaskInfo(
                task.id, task.name, task.dim_x, task.dim_y, task.mutual_information
            )
            for spec in specs:
                key = (task.id, seed, spec.key, hashes[spec.key])
                if key in done:
                    continue
                row = {"task": task.id, "seed": seed, "estimator": spec.key}
                row.update(params_hash=hashes[spec.key], mi_true=info.mi_true)
                row.update(dim_x=info.dim_x, dim_y=info.dim_y, n_fit=5000)
                row.update(bn._run_sk(bn.build(spec, seed), spec, x, y, 5000))
                bn.append_result(BETWEEN, bn._jsonable(row))
                print(
                    f"seed {seed} {task.id:40s} {spec.key:6s} {row['estimate']:.3f} "
                    f"(true {info.mi_true:.3f}) {row['fit_seconds']:.1f} s",
                    flush=True,
                )


def crossover(results: Path, estimators: list[str]) -> None:
    """Per total dimension: median |relative error| and fit/CPU seconds of each
    estimator, and KSG against MINE on the same (task, seed) fits: how often MINE
    is closer to the truth, the two-sided sign-test p-value of that, and the
    median of |KSG error| - |MINE error| (positive: MINE better)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _beyond_normal_tasks as bn
    from scipy.stats import binomtest

    tasks = {t.task_id: t for t in bn.list_tasks()}
    hashes = {e: bn.fingerprint(bn.parse_spec(e))[1] for e in estimators}
    rows = bn.read_results(results)
    if BETWEEN.exists():
        for r in map(json.loads, BETWEEN.read_text().splitlines()):
            tasks.setdefault(
                r["task"],
                bn.TaskInfo(r["task"], r["task"], r["dim_x"], r["dim_y"], r["mi_true"]),
            )
            rows.append(r)
    err = defaultdict(dict)  # (estimator, d) -> {(task, seed): |rel. error|}
    secs = defaultdict(list)
    cpu = defaultdict(list)
    n_tasks = defaultdict(set)
    failed = defaultdict(int)
    for r in rows:
        e = r["estimator"]
        if e not in hashes or r.get("params_hash") != hashes[e]:
            continue  # other estimators, or results of other defaults
        if r.get("n_fit", 5000) != 5000:
            continue  # the crossover is measured at 5,000 samples
        t = tasks[r["task"]]
        d = t.dim_x + t.dim_y
        n_tasks[d].add(t.task_id)
        if r.get("error") or r.get("estimate") is None:
            failed[e, d] += 1
            continue
        err[e, d][t.task_id, r["seed"]] = abs(r["estimate"] - t.mi_true) / t.mi_true
        secs[e, d].append(r["fit_seconds"])
        cpu[e, d].append(r["cpu_seconds"])
    head = ["d_x + d_y", "tasks"] + [f"{e} error" for e in estimators]
    head += [f"{e} s (CPU s)" for e in estimators]
    head += ["MINE closer", "sign test p", "median |KSG err| - |MINE err|"]
    print(" | ".join(head))
    for d in sorted(n_tasks):
        cells = [str(d), str(len(n_tasks[d]))]
        for e in estimators:
            v = list(err[e, d].values())
            fails = f", {failed[e, d]} failed" if failed[e, d] else ""
            med = f"{100 * statistics.median(v):.1f}%" if v else "-"
            cells.append(f"{med} ({len(v)} fits{fails})")
        for e in estimators:
            cells.append(
                f"{statistics.median(secs[e, d]):.2f} "
                f"({statistics.median(cpu[e, d]):.2f})"
                if secs[e, d]
                else "-"
            )
        both = sorted(set(err["ksg", d]) & set(err["mine", d]))
        if both:
            diff = [err["ksg", d][k] - err["mine", d][k] for k in both]
            wins = sum(x > 0 for x in diff)
            p = binomtest(wins, len(diff)).pvalue
            cells += [
                f"{wins}/{len(diff)}",
                f"{p:.2g}",
                f"{100 * statistics.median(diff):+.1f}%",
            ]
        print(" | ".join(cells))


def ising(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import _beyond_normal_tasks as bn

    bn.limit_threads(1)
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from sk_rgmi import KSGEstimator, MINEEstimator, PluginMIEstimator
    from sk_rgmi.auto import choose_estimator
    from sk_rgmi.datasets import load_critical_ising, sample_block_pairs
    from sk_rgmi.reliability import Z95

    lattices = load_critical_ising(
        n_configs=args.n_configs,
        size=27,
        source_size=81,
        random_state=0,
        data_home=args.data_home,
        n_jobs=1,
        verbose=0,
    )
    Xr, Yr = sample_block_pairs(lattices, (2, 2), args.n_reference, random_state=99)
    ref = PluginMIEstimator().fit(Xr, Yr)
    print(
        f"# reference: plug-in on {args.n_reference} pairs of {args.n_configs} "
        f"configurations: {ref.mi_:.4f} ± {ref.mi_std_:.4f} nats "
        f"({ref.n_states_x_} x {ref.n_states_y_} states)",
        flush=True,
    )
    makers = {
        "plugin": lambda s: PluginMIEstimator(),
        "ksg": lambda s: KSGEstimator(random_state=s),
        "mine": lambda s: MINEEstimator(device="cpu", random_state=s),
    }
    rows = []
    for n in args.n:
        for seed in args.seeds:
            X, Y = sample_block_pairs(lattices, (2, 2), n, random_state=seed)
            chosen = choose_estimator(X, Y)[0]
            for name in args.estimators:
                est = makers[name](seed)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    t0, c0 = time.perf_counter(), time.process_time()
                    est.fit(X, Y)
                    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                ci = getattr(est, "mi_ci_", None)
                if ci is None:  # plug-in: normal interval from the jackknife
                    ci = (est.mi_ - Z95 * est.mi_std_, est.mi_ + Z95 * est.mi_std_)
                row = {
                    "n": n,
                    "seed": seed,
                    "estimator": name,
                    "auto": chosen,
                    "estimate": float(est.mi_),
                    "std": float(est.mi_std_),
                    "ci": [float(c) for c in ci],
                    "reference": float(ref.mi_),
                    "fit_seconds": wall,
                    "cpu_seconds": cpu,
                    "flags": sorted(
                        {w.category.__name__ for w in caught}
                        | set(getattr(est, "diagnostics_", {}).get("flags", []))
                    ),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    print("# n | estimator | mean estimate | mean rel. error | covered | fit s | CPU s")
    groups = defaultdict(list)
    for r in rows:
        groups[r["n"], r["estimator"]].append(r)
    for (n, name), rs in sorted(groups.items()):
        est = np.mean([r["estimate"] for r in rs])
        rel = (est - ref.mi_) / ref.mi_
        cov = sum(r["ci"][0] <= ref.mi_ <= r["ci"][1] for r in rs)
        print(
            f"{n} | {name} | {est:.4f} | {100 * rel:+.1f}% | {cov}/{len(rs)} | "
            f"{statistics.median(r['fit_seconds'] for r in rs):.2f} | "
            f"{statistics.median(r['cpu_seconds'] for r in rs):.2f}"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--crossover", action="store_true")
    p.add_argument("--between", action="store_true")
    p.add_argument(
        "--shapes",
        nargs="+",
        type=lambda t: tuple(int(v) for v in t.split("x")),
        default=[(4, 4), (2, 3)],
        help="--between: task shapes dim_x x dim_y (default: 4x4 2x3)",
    )
    p.add_argument("--ising", action="store_true")
    p.add_argument("--results", type=Path, default=RESULTS / "beyond_normal.jsonl")
    p.add_argument("--estimators", nargs="+", default=["plugin", "ksg", "mine"])
    p.add_argument("--n", nargs="+", type=int, default=[1000, 5000])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--n-configs", type=int, default=400)
    p.add_argument("--n-reference", type=int, default=1_000_000)
    p.add_argument("--data-home", default=None)
    args = p.parse_args()
    if args.between:
        between(args)
    if args.crossover:
        crossover(args.results, args.estimators)
    if args.ising:
        ising(args)
    if not (args.crossover or args.ising or args.between):
        p.error("choose --between, --crossover and/or --ising")


if __name__ == "__main__":
    main()
