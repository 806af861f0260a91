"""The ``sk-rgmi`` command line (also ``python -m sk_rgmi``).

Subcommands:

``reproduce``
    The original notebook's study end to end (:mod:`sk_rgmi.studies.notebook`): data
    (cached), the table beside the original notebook's values,
    ``results.json``/``results.csv`` and a figure.
``generate``
    Critical (or any-temperature) 2D Ising configurations to a ``.npy`` file (an
    existing file is replaced only with ``--overwrite``).
``estimate``
    The MI of two ``.npy`` arrays (a 1-D array is one variable) with a 95% interval,
    by the estimator ``--estimator auto`` chooses (:func:`sk_rgmi.mutual_info`) or
    the one requested, and its reliability flags.
``rsmi``
    The RSMI study at scale (:mod:`sk_rgmi.studies.rsmi`): I(H : E) against the
    buffer width, a learned RG flow, and T_c and ν from it; ``rsmi.json``,
    ``rsmi.csv`` and figures.

Bad paths or arrays end with one line ``sk-rgmi: error: ...`` on stderr and exit
status 2 (no traceback). MI values are in nats unless ``--units bits``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._random import check_seed_sequence, seed_int
from ._version import __version__

__all__ = ["build_parser", "main"]


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``sk-rgmi`` (all subcommands)."""
    parser = argparse.ArgumentParser(
        prog="sk-rgmi",
        description="Mutual information and MI-maximising coarse-graining. "
        "MI values are in nats unless --units bits.",
    )
    parser.add_argument("--version", action="version", version=f"sk-rgmi {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # -- reproduce ------------------------------------------------------------
    rep = sub.add_parser(
        "reproduce",
        help="run the original notebook's study and print its table",
        description="Reproduce the original notebook's table (count-based MI, MINE, "
        "learned coarse-grainers on critical Ising blocks) with held-out estimates "
        "and error bars over random seeds; writes results.json, results.csv and "
        "reproduction.png into --out.",
    )
    size = rep.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        dest="preset",
        action="store_const",
        const="quick",
        help="27x27 from 729x729, fewer configs/epochs (default); measured 1 min 35 s "
        "on 2 idle cores (101 s of CPU time), data generation included",
    )
    size.add_argument(
        "--full",
        dest="preset",
        action="store_const",
        const="full",
        help="27x27 from 2187x2187, 400 configs, 5 seeds: measured 9 min 25 s on 2 "
        "idle cores (13 min of CPU time), 5 min of it generating the data once",
    )
    size.add_argument("--preset", dest="preset", help=argparse.SUPPRESS)
    rep.set_defaults(preset="quick")
    rep.add_argument(
        "--out", default="sk_rgmi_out", help="output folder (default: sk_rgmi_out)"
    )
    rep.add_argument(
        "--device",
        default="cpu",
        choices=["cpu", "cuda", "auto"],
        help="where neural estimators train (default: cpu)",
    )
    rep.add_argument(
        "--seed", type=int, default=0, help="base random seed (default: 0)"
    )
    rep.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="parallel Markov chains for data generation (default: 1)",
    )
    rep.add_argument(
        "--n-seeds",
        type=_positive_int,
        default=None,
        help="repetitions (random seeds) behind each error bar, at least 2 "
        "(default: the preset's)",
    )
    rep.add_argument(
        "--data-home",
        default=None,
        help="data cache (default: $SK_RGMI_DATA or ~/sk_rgmi_data)",
    )
    rep.add_argument("--no-figure", action="store_true", help="skip the PNG figure")
    rep.add_argument("-q", "--quiet", action="store_true", help="no progress bars")

    _add_rsmi_parser(sub)

    # -- generate -------------------------------------------------------------
    gen = sub.add_parser(
        "generate",
        help="sample 2D Ising configurations to a .npy file",
        description="Sample 2D Ising configurations (periodic, J=1) and save them as "
        "an int8 .npy array of 0/1 spins, shape (n, size, size) -- or (n, S, S) "
        "after --coarse-to S.",
    )
    gen.add_argument(
        "output", help="output .npy path (not replaced unless --overwrite)"
    )
    gen.add_argument(
        "--overwrite",
        "--force",
        action="store_true",
        help="replace the output file if it exists",
    )
    gen.add_argument(
        "--n", type=_positive_int, default=10, help="configurations (default: 10)"
    )
    gen.add_argument(
        "--size", type=_positive_int, default=81, help="lattice side (default: 81)"
    )
    gen.add_argument(
        "--temperature",
        type=_positive_float,
        default=None,
        help="temperature in units of J (default: T_c = 2.269185...)",
    )
    gen.add_argument(
        "--coarse-to",
        type=_positive_int,
        default=None,
        help="block-spin to SxS by rounds of 3x3 majority (size/S a power of 3)",
    )
    gen.add_argument(
        "--algorithm",
        default="wolff",
        choices=["wolff", "swendsen-wang", "metropolis"],  # datasets.ALGORITHMS
        help="sampler (default: wolff)",
    )
    gen.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    gen.add_argument("--n-jobs", type=int, default=None, help="parallel chains")
    gen.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    _add_estimate_parser(sub)
    return parser


def _add_estimate_parser(sub: Any) -> None:
    est = sub.add_parser(
        "estimate",
        help="MI of two .npy arrays, with a 95%% interval",
        description="Estimate the MI between paired arrays X and Y (rows are "
        "samples; a 1-D array is one variable, more than two dimensions are "
        "flattened per sample) and print it with its standard error, a 95% "
        "interval, the estimator used and why, and one line per reliability flag. "
        "auto (default) counts discrete data with enough samples per state "
        "(plugin), uses k-nearest neighbours for continuous data in a few "
        "dimensions (ksg) and a neural estimator in more (mine): the rule of "
        "sk_rgmi.mutual_info (docs: Which estimator when).",
    )
    est.add_argument(
        "X", help=".npy file with X, shape (n_samples,) or (n_samples, ...)"
    )
    est.add_argument(
        "Y", help=".npy file with Y, shape (n_samples,) or (n_samples, ...)"
    )
    est.add_argument(
        "--estimator",
        default="auto",
        choices=["auto", "plugin", "ksg", "mine"],  # sk_rgmi.auto.METHODS
        help="auto (default): chosen from the data; plugin: count-based; ksg: "
        "k-nearest neighbours; mine: neural, cross-fitted",
    )
    est.add_argument(
        "--units", default="nats", choices=["nats", "bits"], help="default: nats"
    )
    est.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    est.add_argument(
        "--n-seeds",
        type=_positive_int,
        default=1,
        help="mine: average this many fits with different random seeds (default: "
        "1; the cross-fitted interval already holds the training noise)",
    )
    est.add_argument(
        "--n-folds",
        type=_positive_int,
        default=None,
        help="mine: cross-fitting folds, each held out once (default: the "
        "estimator's, 5)",
    )
    est.add_argument(
        "--test-fraction",
        type=_positive_float,
        default=None,
        help="mine, deprecated: held-out share per fold; F means --n-folds round(1/F)",
    )
    est.add_argument(
        "--max-epochs",
        type=_positive_int,
        default=None,
        help="mine: training epochs (default: the estimator's)",
    )
    est.add_argument(
        "--device",
        default="cpu",
        choices=["cpu", "cuda", "auto"],
        help="mine: where to train (default: cpu)",
    )
    est.add_argument(
        "-q", "--quiet", action="store_true", help="no progress or notes on stderr"
    )


def _add_rsmi_parser(sub: Any) -> None:
    rs = sub.add_parser(
        "rsmi",
        help="RSMI at scale: I(H:E) against the buffer width, a learned RG flow, "
        "T_c and nu",
        description="Learn binary RSMI coarse variables of Ising blocks and measure "
        "I(H:E) against the buffer width (power law at T_c, exponential above, "
        "saturation below); learn an RG flow on whole lattices and read T_c and nu "
        "from it by Monte Carlo RG matching, beside the majority rule. Writes "
        "rsmi.json, rsmi.csv and rsmi_*.png into --out; data are cached in the "
        "data home. MI in nats.",
    )
    size = rs.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", dest="preset", action="store_const", const="quick",
        help="decay on 128x128 lattices, flow 81 vs 27 (default); from an empty "
        "data home 2 min 14 s on 2 idle cores (4 min of CPU time), 12 min on 2 "
        "cores heavily shared with other jobs",
    )  # fmt: skip
    size.add_argument(
        "--full", dest="preset", action="store_const", const="full",
        help="decay on 256x256 lattices up to 4x4 blocks, flow 243 vs 81; from an "
        "empty data home 15 min on 2 idle cores (28 min of CPU time)",
    )  # fmt: skip
    size.add_argument("--preset", dest="preset", help=argparse.SUPPRESS)
    rs.set_defaults(preset="quick")
    rs.add_argument(
        "--out", default="sk_rgmi_out", help="output folder (default: sk_rgmi_out)"
    )
    rs.add_argument(
        "--n-jobs", type=int, default=None,
        help="parallel Markov chains and fits (default: all cores)",
    )  # fmt: skip
    rs.add_argument(
        "--data-home", default=None,
        help="data cache (default: $SK_RGMI_DATA or ~/sk_rgmi_data)",
    )  # fmt: skip
    rs.add_argument("--seed", type=int, default=0, help="base random seed (default: 0)")
    rs.add_argument("--no-figure", action="store_true", help="skip the PNG figures")
    rs.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def _say(msg: str) -> None:
    """A study's progress line, on stderr."""
    print(f"[sk-rgmi] {msg}", file=sys.stderr, flush=True)


def _silent(msg: str) -> None:
    """``--quiet``: no progress lines."""


def _cmd_rsmi(args: argparse.Namespace) -> int:
    from .studies import rsmi

    if args.preset not in rsmi.PRESETS:
        raise CLIError(
            f"unknown preset {args.preset!r}; choose from {sorted(rsmi.PRESETS)}"
        )
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {str(out)!r} exists and is not a folder")
    verbose = 0 if args.quiet else 1

    results = rsmi.run_study(
        args.preset, seed=args.seed, n_jobs=args.n_jobs, data_home=args.data_home,
        verbose=verbose, progress=_say if verbose else _silent,
    )  # fmt: skip
    paths = rsmi.write_outputs(results, out, figures=not args.no_figure)
    print(rsmi.format_summary(results))
    print(
        f"\ntotal {results['timings']['total']:.1f} s; "
        + ", ".join(f"{k}: {p}" for k, p in paths.items())
    )
    return 0


def _check_device(device: str) -> None:
    """Fail early (one line) when CUDA is asked for and absent, before any work."""
    from .nn._device import resolve_device

    try:
        resolve_device(device)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


# --------------------------------------------------------------------------------
# reproduce


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from .studies import format_table, notebook, write_results

    if args.preset not in notebook.PRESETS:
        raise CLIError(
            f"unknown preset {args.preset!r}; choose from {sorted(notebook.PRESETS)}"
        )
    preset = notebook.PRESETS[args.preset]
    if args.n_seeds is not None:
        if args.n_seeds < 2:
            raise CLIError("--n-seeds must be at least 2 for an error bar")
        preset = dataclasses.replace(preset, n_seeds=args.n_seeds)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {str(out)!r} exists and is not a folder")
    _check_device(args.device)
    verbose = 0 if args.quiet else 1

    results = notebook.run_study(
        preset,
        seed=args.seed,
        device=args.device,
        n_jobs=args.n_jobs,
        data_home=args.data_home,
        verbose=verbose,
        progress=_say if verbose else _silent,
    )
    paths = write_results(
        results,
        out,
        figure=None if args.no_figure else notebook.make_figure,
        figure_name="reproduction.png",
    )
    print(format_table(results))
    print(
        f"\ntotal {results['timings']['total']:.1f} s "
        f"(data {results['timings']['data']:.1f} s); "
        + ", ".join(f"{k}: {p}" for k, p in paths.items())
    )
    return 0


# --------------------------------------------------------------------------------
# generate


def _cmd_generate(args: argparse.Namespace) -> int:
    from .datasets import T_C, sample_ising
    from .datasets._checks import _n_rounds_of_three

    output = Path(args.output)
    if output.suffix != ".npy":
        raise CLIError(f"output must be a .npy path, got {str(output)!r}")
    if not output.parent.exists():
        raise CLIError(f"folder {str(output.parent)!r} does not exist")
    if output.exists() and not args.overwrite:
        raise CLIError(
            f"{str(output)!r} exists; pass --overwrite to replace it, or choose "
            "another output path"
        )
    if output.is_dir():
        raise CLIError(f"{str(output)!r} is a folder, not a .npy path")
    n_rounds = 0
    if args.coarse_to is not None:
        try:
            n_rounds = _n_rounds_of_three(args.coarse_to, args.size)
        except ValueError:
            raise CLIError(
                f"--size {args.size} / --coarse-to {args.coarse_to} must be a power "
                "of 3 (rounds of 3x3 majority)"
            ) from None
    temperature = T_C if args.temperature is None else args.temperature
    t0 = time.perf_counter()
    # Each sample is coarse-grained as it is recorded (3x3 majority never ties, so
    # this equals ``block_spin(..., 3, "majority")`` applied n_rounds times), and
    # full-size lattices are never stacked: 1000 samples of 2187x2187 would be 4.8 GB.
    lattices = sample_ising(
        args.n,
        args.size,
        temperature,
        algorithm=args.algorithm,
        spins="01",
        random_state=args.seed,
        n_jobs=args.n_jobs,
        verbose=0 if args.quiet else 1,
        majority_rounds=n_rounds,
    )
    lattices = np.asarray(lattices, dtype=np.int8)
    np.save(output, lattices, allow_pickle=False)
    print(
        f"wrote {output}: {lattices.shape} int8 0/1 spins at T={temperature:.6g} "
        f"({args.algorithm}, seed {args.seed}) in {time.perf_counter() - t0:.1f} s"
    )
    return 0


# --------------------------------------------------------------------------------
# estimate


def _load_array(path: str, name: str) -> np.ndarray:
    p = Path(path)
    if not p.exists():
        raise CLIError(f"{name}: no such file: {path}")
    if p.is_dir():
        raise CLIError(f"{name}: {path} is a folder, not a .npy file")
    try:
        arr = np.load(p, allow_pickle=False)
    except ValueError as exc:
        raise CLIError(
            f"{name}: {path} is not a numeric .npy array ({exc})".replace("\n", " ")
        ) from None
    except OSError as exc:
        raise CLIError(f"{name}: cannot read {path}: {exc}") from None
    if not isinstance(arr, np.ndarray):
        raise CLIError(
            f"{name}: {path} is an .npz archive; save one array with np.save"
        )
    if arr.ndim == 0 or arr.size == 0:
        raise CLIError(f"{name}: {path} holds an empty or 0-d array {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise CLIError(f"{name}: {path} has non-numeric dtype {arr.dtype}")
    # rows are samples: a 1-D array is one variable, higher ones are flattened
    return arr.reshape(arr.shape[0], -1)


# options that only MINE uses: (attribute, default)
_MINE_OPTIONS = {
    "n_seeds": 1,
    "n_folds": None,
    "test_fraction": None,
    "max_epochs": None,
    "device": "cpu",
}


def _mine_params(args: argparse.Namespace) -> dict[str, Any]:
    """MINEEstimator parameters from the command line."""
    params: dict[str, Any] = {"device": args.device}
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    n_folds = args.n_folds
    if args.test_fraction is not None:
        if n_folds is not None:
            raise CLIError("give --n-folds or --test-fraction (deprecated), not both")
        if not 0 < args.test_fraction <= 0.5:
            raise CLIError(
                f"--test-fraction must be in (0, 0.5], got {args.test_fraction}"
            )
        n_folds = round(1 / args.test_fraction)
        print(
            "sk-rgmi: note: --test-fraction is deprecated: MINE now cross-fits, "
            f"holding out each of --n-folds folds once; using --n-folds {n_folds}",
            file=sys.stderr,
        )
    if n_folds is not None:
        params["n_folds"] = n_folds
    return params


def _estimate_mine(
    X: np.ndarray, Y: np.ndarray, reason: str, args: argparse.Namespace
) -> Any:
    """MINE's result; with ``--n-seeds`` k > 1 the average of k fits."""
    from .auto import _fit

    params = _mine_params(args)
    _check_device(args.device)
    if args.n_seeds == 1:
        seeds = [args.seed]
    else:  # scikit-learn's random_state takes ints below 2**32
        fits = check_seed_sequence(args.seed).spawn(args.n_seeds)
        seeds = [seed_int(fit, "fit", bits=32) for fit in fits]
    results = []
    for i, seed in enumerate(seeds, 1):
        if not args.quiet:
            of = f" {i}/{len(seeds)}" if len(seeds) > 1 else ""
            print(
                f"[sk-rgmi] training MINEEstimator{of} on {args.device} "
                f"({len(X)} samples)...",
                file=sys.stderr,
                flush=True,
            )
        results.append(
            _fit(
                X, Y, "mine", reason, units=args.units, random_state=seed, params=params
            )
        )
    if len(results) == 1:
        return results[0]
    # Averaging fits on the same data shrinks the training noise but not the
    # sampling noise, so the fits' intervals (and standard errors) are averaged.
    flags = dict(kv for r in results for kv in zip(r.flags, r.messages, strict=True))
    values = ", ".join(f"{r.value:.4f}" for r in results)
    return dataclasses.replace(
        results[-1],
        value=float(np.mean([r.value for r in results])),
        std=float(np.mean([r.std for r in results])),
        interval=tuple(np.mean([r.interval for r in results], axis=0).tolist()),
        reason=f"{reason}; mean of {len(results)} fits ({values}), interval and "
        "standard error averaged",
        flags=tuple(flags),
        messages=tuple(flags.values()),
    )


def _cmd_estimate(args: argparse.Namespace) -> int:
    from .auto import _fit, choose_estimator
    from .exceptions import ReliabilityWarning

    X = _load_array(args.X, "X")
    Y = _load_array(args.Y, "Y")
    if X.shape[0] != Y.shape[0]:
        raise CLIError(
            f"X and Y must have the same number of samples (rows): "
            f"{X.shape[0]} != {Y.shape[0]}"
        )
    if args.estimator == "auto":
        name, reason = choose_estimator(X, Y)
        reason = f"auto: {reason}"
    else:
        name, reason = args.estimator, "requested with --estimator"
    if name != "mine" and not args.quiet:
        unused = [
            "--" + opt.replace("_", "-")
            for opt, default in _MINE_OPTIONS.items()
            if getattr(args, opt) != default
        ]
        if unused:
            print(
                f"sk-rgmi: note: {', '.join(unused)}: for mine only, "
                f"ignored for {name}",
                file=sys.stderr,
            )
    # The reliability warnings are printed as flag lines of the result.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReliabilityWarning)
        if name == "mine":
            result = _estimate_mine(X, Y, reason, args)
        else:
            result = _fit(
                X, Y, name, reason, units=args.units, random_state=args.seed, params={}
            )
    print(result)
    return 0


# --------------------------------------------------------------------------------


_COMMANDS = {
    "reproduce": _cmd_reproduce,
    "generate": _cmd_generate,
    "estimate": _cmd_estimate,
    "rsmi": _cmd_rsmi,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sk-rgmi`` on ``argv`` (default ``sys.argv[1:]``); return the exit status.

    User errors (bad paths, bad arrays, invalid parameter values) print one line
    ``sk-rgmi: error: ...`` to stderr and return 2; ``SK_RGMI_TRACEBACK=1`` re-raises
    them for debugging.

    Examples
    --------
    >>> from sk_rgmi.cli import main
    >>> main(["estimate", "missing_x.npy", "missing_y.npy"])
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    # Bad user data surface as ValueError/TypeError from the estimators and the
    # samplers; in ``reproduce`` (no user data) they would be bugs: keep tracebacks.
    user_errors: tuple[type[BaseException], ...] = (CLIError,)
    if args.command in ("estimate", "generate"):
        user_errors = (CLIError, ValueError, TypeError)
    try:
        return _COMMANDS[args.command](args)
    except user_errors as exc:
        if os.environ.get("SK_RGMI_TRACEBACK"):
            raise
        message = " ".join(str(exc).split())
        print(f"sk-rgmi: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sk-rgmi: interrupted", file=sys.stderr)
        return 130
