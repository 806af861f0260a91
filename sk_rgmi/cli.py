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
    The MI of two ``.npy`` arrays, with an error bar (a 1-D array is one variable).

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._random import check_seed_sequence, generator, seed_int
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
        help="27x27 from 729x729, fewer configs/epochs (default); measured 54 s on 2 "
        "cores shared with other jobs (34 s of CPU time), data generation included",
    )
    size.add_argument(
        "--full",
        dest="preset",
        action="store_const",
        const="full",
        help="27x27 from 2187x2187, 400 configs, 5 seeds: about 10 min of CPU time, "
        "mostly generating the data once (5.5 min on 2 idle cores with --n-jobs 2, "
        "22 min at low priority on 2 busy ones)",
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

    # -- estimate -------------------------------------------------------------
    est = sub.add_parser(
        "estimate",
        help="MI of two .npy arrays, with an error bar",
        description="Estimate the MI between paired arrays X and Y (rows are "
        "samples; a 1-D array is one variable, more than two dimensions are "
        "flattened per sample). plugin: count-based MI and its jackknife standard "
        "error. mine: held-out MINE estimate, mean and standard deviation over "
        "--n-seeds random splits and initialisations (with --n-seeds 1: the fit's "
        "own standard error, which leaves out the optimisation noise).",
    )
    est.add_argument(
        "X", help=".npy file with X, shape (n_samples,) or (n_samples, ...)"
    )
    est.add_argument(
        "Y", help=".npy file with Y, shape (n_samples,) or (n_samples, ...)"
    )
    est.add_argument(
        "--estimator",
        default="plugin",
        choices=["plugin", "mine"],
        help="count-based (plugin, default) or neural (mine)",
    )
    est.add_argument(
        "--units", default="nats", choices=["nats", "bits"], help="default: nats"
    )
    est.add_argument(
        "--n-seeds",
        type=_positive_int,
        default=3,
        help="mine: fits (random seeds) for the error bar; 1 reports the fit's own "
        "standard error (default: 3)",
    )
    est.add_argument(
        "--test-fraction",
        type=_positive_float,
        default=0.2,
        help="mine: held-out share of the pairs (default: 0.2)",
    )
    est.add_argument(
        "--max-epochs",
        type=_positive_int,
        default=None,
        help="mine: training epochs (default: the estimator's)",
    )
    est.add_argument(
        "--device", default="cpu", choices=["cpu", "cuda", "auto"], help="mine"
    )
    est.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    est.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


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

    def say(msg: str) -> None:
        if verbose:
            print(f"[sk-rgmi] {msg}", file=sys.stderr, flush=True)

    results = notebook.run_study(
        preset,
        seed=args.seed,
        device=args.device,
        n_jobs=args.n_jobs,
        data_home=args.data_home,
        verbose=verbose,
        progress=say,
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


def _estimate_plugin(X: np.ndarray, Y: np.ndarray, units: str) -> tuple[float, float]:
    from .plugin import PluginMIEstimator

    # explicit settings: the printed description below names them
    est = PluginMIEstimator(n_bins="auto", correction="jackknife", units=units)
    est.fit(X, Y)
    return float(est.mi_), float(est.mi_std_)


def _estimate_mine(
    X: np.ndarray, Y: np.ndarray, args: argparse.Namespace
) -> tuple[float, float, list[float]]:
    from tqdm.auto import tqdm

    from .mine import MINEEstimator

    if not 0 < args.test_fraction < 1:
        raise CLIError(f"--test-fraction must be in (0, 1), got {args.test_fraction}")
    n = X.shape[0]
    n_test = round(args.test_fraction * n)
    if n_test < 2 or n - n_test < 2:
        raise CLIError(f"too few samples ({n}) for a train/held-out split")
    _check_device(args.device)
    params: dict[str, Any] = {"units": args.units, "device": args.device}
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    values = []
    fits = check_seed_sequence(args.seed).spawn(args.n_seeds)
    for fit in tqdm(fits, desc="MINE fits", disable=args.quiet, leave=False):
        perm = generator(fit, "split").permutation(n)
        test, train = perm[:n_test], perm[n_test:]
        # scikit-learn's random_state takes ints below 2**32
        est = MINEEstimator(random_state=seed_int(fit, "fit", bits=32), **params)
        est.fit(X[train], Y[train])
        values.append(float(est.score(X[test], Y[test])))
    if len(values) == 1:
        # one fit: the standard error of its own held-out estimate (no spread)
        return values[0], float(est.mi_std_), values
    return float(np.mean(values)), float(np.std(values, ddof=1)), values


def _cmd_estimate(args: argparse.Namespace) -> int:
    X = _load_array(args.X, "X")
    Y = _load_array(args.Y, "Y")
    if X.shape[0] != Y.shape[0]:
        raise CLIError(
            f"X and Y must have the same number of samples (rows): "
            f"{X.shape[0]} != {Y.shape[0]}"
        )
    if args.estimator == "plugin":
        mi, std = _estimate_plugin(X, Y, args.units)
        how = (
            "count-based, jackknife-corrected, continuous columns binned "
            "(n_bins='auto'); ± = jackknife standard error"
        )
    else:
        mi, std, values = _estimate_mine(X, Y, args)
        if len(values) == 1:
            how = (
                "MINE held-out score; ± = standard error of the fit's held-out "
                "estimate (mi_std_; excludes optimisation noise: use --n-seeds 3)"
            )
        else:
            how = (
                f"MINE held-out score; ± = std over {args.n_seeds} seeds "
                f"({', '.join(f'{v:.4f}' for v in values)})"
            )
    print(f"MI = {mi:.4f} ± {std:.4f} {args.units}  ({how}; n = {X.shape[0]})")
    return 0


# --------------------------------------------------------------------------------


_COMMANDS = {
    "reproduce": _cmd_reproduce,
    "generate": _cmd_generate,
    "estimate": _cmd_estimate,
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
