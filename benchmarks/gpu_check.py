"""GPU check for sk_rgmi: device errors, data movement, CPU-vs-GPU agreement, speed.

A prepared, self-contained script for a machine with a CUDA GPU (written for a lent
H200, to finish in under five minutes there). It has not been run on a GPU yet. The
CPU dry run does the same work and takes about 20 s on the shared 2-core development
machine. ``--budget-s`` (default 270) skips the steps that remain once that time is
spent. It needs only a copy of this repository and its pip-installed dependencies
(the PyPI torch wheel for Linux x86_64 is CUDA-enabled)::

    pip install -e .                       # or: pip install -e ".[dev]"
    python benchmarks/gpu_check.py         # report on stdout; JSON to $OUT if set
    python benchmarks/gpu_check.py --json gpu_check.json

``$OUT/gpu_check.json`` is written when the environment variable ``OUT`` is set.
``--cpu-dry-run`` runs every step on a machine without CUDA with the CPU standing in
for the GPU: it exercises the script, and its numbers are **not** GPU results.
Exit status: 0 all checks passed, 1 a check failed, 2 no CUDA device (no dry run).

Checks (each a section of the JSON report, with ``passed``):

``device_errors``
    ``device="cuda"`` with CUDA unavailable (simulated by patching
    ``torch.cuda.is_available``) raises a ``ValueError`` naming CUDA, for
    ``MINEEstimator`` and ``MIMaximizingCoarseGrainer``; an out-of-range
    ``"cuda:<n>"`` raises; ``device="auto"`` trains on the GPU (no silent CPU
    fallback: the fitted critic's parameters are on CUDA).
``transfers``
    Data is moved to the device once. Every host<->device copy made while fitting is
    recorded at the ATen level (a ``TorchDispatchMode`` sees each ``_to_copy`` /
    ``copy_`` with its source and destination device and size, and each ``.item()``
    on a CUDA tensor, which is a synchronising device->host read). Two fits that
    differ only in the number of epochs are compared, so one-off copies cancel and
    the per-batch rate is ``delta copies / delta batches``. Passes when no copy of
    at least one batch's worth of elements happens per batch: data-sized H2D copies
    per batch < 0.5 (copying each batch gives >= 2, for x and y; the few per-epoch
    index copies -- the shuffling permutation, the evaluation pairings -- give
    about 2 / 18 with the 18 batches per epoch used here). Per-epoch copies and
    per-batch scalar reads (``loss.item()``) are reported, and ``torch.profiler``'s
    CUDA memcpy counts when CUPTI is available. The recorder is self-tested first
    on the ``meta`` device (a loop that copies every batch must be caught).
``mine_agreement``
    ``MINEEstimator`` on correlated Gaussians (true MI 0.693 nats), K seeds on the
    CPU and K on the GPU. The means must agree within ``4 * sqrt((s_cpu**2 +
    s_gpu**2) / K)`` (s: seed-to-seed standard deviations): the GPU changes only
    float rounding, not the estimator, so the two seed distributions are the same
    up to noise; 4 standard errors of the difference of means. Also: one trained
    critic evaluated by ``estimate_mi`` on both devices with the same pairings
    agrees within 1e-4 nats (float32 rounding ~1e-7 relative per operation on
    scores of order 1-10, summed in float64).
``coarse_agreement``
    ``MIMaximizingCoarseGrainer`` (one binary unit, 2x2 binary blocks) on both
    devices, same tolerance rule; the exhaustive optimum is reported.
``throughput``
    ``MINEEstimator`` training samples/s on the CPU (the package's policy: one
    torch thread) and the GPU at batch 256 and 4096, 9 + 9 binary inputs (3x3
    blocks), concat critic, hidden 100: per-epoch rate from the median epoch
    duration (``history_``; includes the per-epoch held-out evaluation) and the
    end-to-end rate of the whole fit.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from sk_rgmi import MIMaximizingCoarseGrainer, MINEEstimator
from sk_rgmi.coarse_graining import exhaustive_binary_coarse_graining
from sk_rgmi.nn._device import default_num_threads, resolve_device
from sk_rgmi.nn.evaluation import estimate_mi

T_START = time.perf_counter()


# ------------------------------------------------------------------------ data
def gaussian_pair(n: int, dim: int = 2, seed: int = 0) -> tuple[np.ndarray, ...]:
    """x ~ N(0, I), y = x + noise: I = dim/2 * ln 2 nats (0.693 for dim=2)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    return x, x + rng.normal(size=(n, dim))


def binary_blocks(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Correlated 0/1 blocks of d spins: a shared bit copied with 20% flips."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2, (n, 1))
    x = base ^ (rng.random((n, d)) < 0.2)
    y = x ^ (rng.random((n, d)) < 0.2)
    return x.astype(np.float64), y.astype(np.float64)


# ----------------------------------------------------------- transfer recorder
class TransferRecorder(TorchDispatchMode):
    """Record every cross-device copy and every scalar read of a device tensor.

    ``events`` holds ``(kind, numel)`` with kind ``"h2d"`` (host -> device),
    ``"d2h"`` (device -> host), ``"d2d"`` (between devices of another kind, used by
    the self-test with ``meta``) or ``"sync"`` (``.item()``/``float()`` of a
    non-CPU tensor: a blocking device -> host read).
    """

    COPY_OPS = ("_to_copy", "copy_", "to", "_copy_from")

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, int]] = []

    @staticmethod
    def _kind(src: torch.device, dst: torch.device) -> str | None:
        if src == dst:
            return None
        if src.type == "cpu":
            return "h2d"
        if dst.type == "cpu":
            return "d2h"
        return "d2d"

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = func.overloadpacket.__name__
        if name == "_local_scalar_dense":
            t = args[0]
            if t.device.type != "cpu":
                self.events.append(("sync", t.numel()))
        elif name in self.COPY_OPS:
            ins = [
                a
                for a in tree_flatten((args, kwargs))[0]
                if isinstance(a, torch.Tensor)
            ]
            outs = [o for o in tree_flatten(out)[0] if isinstance(o, torch.Tensor)]
            if name == "copy_" and len(ins) >= 2:
                src, dst = ins[1], ins[0]
            elif ins and outs:
                src, dst = ins[0], outs[0]
            else:
                return out
            kind = self._kind(src.device, dst.device)
            if kind is not None:
                self.events.append((kind, src.numel()))
        return out

    def summary(self, min_numel: int) -> dict[str, int]:
        """Counts per kind, and of copies with at least ``min_numel`` elements."""
        out: dict[str, int] = {}
        for kind, numel in self.events:
            out[kind] = out.get(kind, 0) + 1
            out[kind + "_elements"] = out.get(kind + "_elements", 0) + numel
            if numel >= min_numel:
                out[kind + "_large"] = out.get(kind + "_large", 0) + 1
        return out


def recorder_self_test() -> dict[str, Any]:
    """The recorder must see a per-batch copy loop (on the ``meta`` device)."""
    x = torch.randn(1000, 4)
    with TransferRecorder() as rec:
        for i in range(10):
            (x[i * 100 : (i + 1) * 100] * 2).to("meta")
    s = rec.summary(min_numel=100)
    return {"passed": s.get("h2d_large", 0) == 10, "seen": s}


class BatchCounter(Callback):
    """Count the training minibatches of a fit (the estimators' ``history_`` rows
    leave out skorch's per-batch records, and the coarse-grainer keeps no net)."""

    def __init__(self) -> None:
        self.n_batches = 0

    def on_batch_end(self, net, batch=None, training=None, **kwargs) -> None:
        if training:
            self.n_batches += 1


# --------------------------------------------------------------------- helpers
@contextlib.contextmanager
def cuda_hidden() -> Iterator[None]:
    """Pretend CUDA is unavailable (what a CPU-only machine reports)."""
    saved = torch.cuda.is_available
    torch.cuda.is_available = lambda: False  # type: ignore[assignment]
    try:
        yield
    finally:
        torch.cuda.is_available = saved  # type: ignore[assignment]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _param_devices(module: torch.nn.Module) -> list[str]:
    return sorted({p.device.type for p in module.parameters()})


def _mean_sd(values: list[float]) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(
        values
    ) > 1 else 0.0


def _agreement(cpu: list[float], gpu: list[float]) -> dict[str, Any]:
    k = min(len(cpu), len(gpu))
    m_c, s_c = _mean_sd(cpu)
    m_g, s_g = _mean_sd(gpu)
    # 4 standard errors of the difference of two means of k seeds each; the floor
    # only avoids a zero tolerance when both devices are exactly reproducible.
    tol = max(4.0 * math.sqrt((s_c**2 + s_g**2) / k), 1e-4)
    diff = m_g - m_c
    return {
        "cpu": cpu,
        "gpu": gpu,
        "cpu_mean": m_c,
        "cpu_sd": s_c,
        "gpu_mean": m_g,
        "gpu_sd": s_g,
        "mean_difference": diff,
        "tolerance": tol,
        "paired_max_abs_difference": float(np.max(np.abs(np.subtract(gpu, cpu)))),
        "passed": abs(diff) <= tol,
    }


# ---------------------------------------------------------------------- checks
def check_device_errors(gpu: str, dry_run: bool) -> dict[str, Any]:
    x, y = gaussian_pair(400, seed=3)
    res: dict[str, Any] = {}
    ok = True
    makers: dict[str, Callable[[str], Any]] = {
        "MINEEstimator": lambda d: MINEEstimator(
            hidden_size=8, max_epochs=1, batch_size=64, device=d, random_state=0
        ),
        "MIMaximizingCoarseGrainer": lambda d: MIMaximizingCoarseGrainer(
            hidden_size=8, max_epochs=1, batch_size=64, device=d, random_state=0
        ),
    }
    for name, make in makers.items():
        with cuda_hidden():
            try:
                make("cuda").fit(x, y)
                msg, good = "no error", False
            except ValueError as exc:
                msg, good = str(exc), "CUDA" in str(exc)
            except Exception as exc:  # a torch traceback is a failure too
                msg, good = f"{type(exc).__name__}: {exc}", False
        res[f"{name}_cuda_unavailable"] = {"passed": good, "message": msg[:300]}
        ok &= good
    if not dry_run:
        n = torch.cuda.device_count()
        try:
            resolve_device(f"cuda:{n}")
            good, msg = False, "no error"
        except ValueError as exc:
            good, msg = True, str(exc)
        res["out_of_range_index"] = {"passed": good, "message": msg[:300]}
        ok &= good
    expected = "cpu" if dry_run else "cuda"
    for name, make in makers.items():
        est = make("auto").fit(x, y)
        module = est.critic_ if hasattr(est, "critic_") else est.module_
        devs = _param_devices(module)
        good = devs == [expected]
        res[f"{name}_auto_trains_on"] = {"passed": good, "devices": devs}
        ok &= good
    res["passed"] = bool(ok)
    return res


def _transfer_fit(
    make: Callable[..., Any], x: np.ndarray, y: np.ndarray, epochs: int, bs: int
) -> dict[str, Any]:
    counter = BatchCounter()
    est = make(epochs, callbacks=[counter])
    with TransferRecorder() as rec:
        est.fit(x, y)
    out = rec.summary(min_numel=bs)
    out["batches"] = counter.n_batches
    out["epochs"] = len(est.history_)
    return out


def _profile_memcpy(fit: Callable[[], Any]) -> dict[str, Any]:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        fit()
    counts: dict[str, int] = {}
    for ev in prof.key_averages():
        if "Memcpy" in ev.key:
            counts[ev.key] = counts.get(ev.key, 0) + int(ev.count)
    return counts


def check_transfers(gpu: str, dry_run: bool) -> dict[str, Any]:
    res: dict[str, Any] = {"recorder_self_test": recorder_self_test()}
    n, bs = 6000, 256
    x, y = gaussian_pair(n, seed=5)
    xb, yb = binary_blocks(n, 4, seed=5)

    def mine(epochs: int, callbacks: list | None = None) -> MINEEstimator:
        return MINEEstimator(
            hidden_size=32,
            batch_size=bs,
            max_epochs=epochs,
            early_stopping=None,
            callbacks=callbacks,
            device=gpu,
            random_state=0,
        )

    def coarse(epochs: int, callbacks: list | None = None) -> MIMaximizingCoarseGrainer:
        return MIMaximizingCoarseGrainer(
            hidden_size=16,
            batch_size=bs,
            max_epochs=epochs,
            callbacks=callbacks,
            device=gpu,
            random_state=0,
        )

    ok = res["recorder_self_test"]["passed"]
    for name, make, data in (("mine", mine, (x, y)), ("coarse", coarse, (xb, yb))):
        a = _transfer_fit(make, *data, epochs=2, bs=bs)
        b = _transfer_fit(make, *data, epochs=5, bs=bs)
        d_batches = max(b["batches"] - a["batches"], 1)
        d_epochs = max(b["epochs"] - a["epochs"], 1)

        def rate(key: str, per: int, a=a, b=b) -> float:
            return (b.get(key, 0) - a.get(key, 0)) / per

        entry = {
            "fit_2_epochs": a,
            "fit_5_epochs": b,
            "h2d_data_sized_per_batch": rate("h2d_large", d_batches),
            "h2d_copies_per_batch": rate("h2d", d_batches),
            "h2d_copies_per_epoch": rate("h2d", d_epochs),
            "h2d_elements_per_epoch": rate("h2d_elements", d_epochs),
            "d2h_copies_per_batch": rate("d2h", d_batches),
            "scalar_syncs_per_batch": rate("sync", d_batches),
            "one_off_h2d_elements": a.get("h2d_elements", 0)
            - 2 * rate("h2d_elements", d_epochs),
            "data_elements": int(n * (data[0].shape[1] + data[1].shape[1])),
        }
        if dry_run:
            entry["note"] = "CPU dry run: no device copies exist; counts are zero"
            entry["passed"] = True
        else:
            entry["passed"] = (
                entry["h2d_data_sized_per_batch"] < 0.5 and a.get("h2d", 0) > 0
            )
            try:
                entry["profiler_memcpy_counts_5_epochs"] = _profile_memcpy(
                    lambda make=make, data=data: make(5).fit(*data)
                )
            except Exception as exc:  # CUPTI missing: report, do not fail
                entry["profiler_memcpy_counts_5_epochs"] = f"unavailable: {exc}"
        res[name] = entry
        ok &= entry["passed"]
    res["passed"] = bool(ok)
    return res


def check_mine_agreement(gpu: str, seeds: int) -> dict[str, Any]:
    x, y = gaussian_pair(8000, seed=11)
    values: dict[str, list[float]] = {"cpu": [], "gpu": []}
    fitted: dict[str, MINEEstimator] = {}
    for seed in range(seeds):
        for label, dev in (("cpu", "cpu"), ("gpu", gpu)):  # interleaved
            est = MINEEstimator(
                hidden_size=64,
                batch_size=512,
                max_epochs=40,
                early_stopping=10,
                device=dev,
                random_state=seed,
            ).fit(x, y)
            values[label].append(est.mi_)
            fitted[label] = est
    res = _agreement(values["cpu"], values["gpu"])
    res["true_mi"] = math.log(2.0)
    # one trained critic, evaluated on both devices with the same pairings
    critic = fitted["gpu"].critic_
    xe, ye = gaussian_pair(4000, seed=12)
    on_gpu = estimate_mi(critic, xe, ye, random_state=0)
    on_cpu = estimate_mi(copy.deepcopy(critic).to("cpu"), xe, ye, random_state=0)
    res["same_critic_eval"] = {
        "gpu": on_gpu,
        "cpu": on_cpu,
        "abs_difference": abs(on_gpu - on_cpu),
        "tolerance": 1e-4,
        "passed": abs(on_gpu - on_cpu) <= 1e-4,
    }
    res["passed"] = bool(res["passed"] and res["same_critic_eval"]["passed"])
    return res


def check_coarse_agreement(gpu: str, seeds: int) -> dict[str, Any]:
    x, y = binary_blocks(6000, 4, seed=21)
    values: dict[str, list[float]] = {"cpu": [], "gpu": []}
    for seed in range(seeds):
        for label, dev in (("cpu", "cpu"), ("gpu", gpu)):
            cg = MIMaximizingCoarseGrainer(
                max_epochs=15, device=dev, random_state=seed
            ).fit(x, y)
            values[label].append(cg.mi_)
    res = _agreement(values["cpu"], values["gpu"])
    res["exhaustive_optimum_all_data"] = float(
        exhaustive_binary_coarse_graining(x, y).best_mi
    )
    return res


def check_throughput(gpu: str, batch_sizes: tuple[int, ...]) -> dict[str, Any]:
    n = 60000
    x, y = binary_blocks(n, 9, seed=31)
    res: dict[str, Any] = {
        "data": f"{n} pairs of 3x3 binary blocks (9 + 9 inputs), concat critic, "
        "hidden 100, validation_fraction 0.1",
        "cpu_torch_threads": default_num_threads("cpu"),
    }
    for bs in batch_sizes:
        for key, dev in (("gpu", gpu), ("cpu", "cpu")):
            epochs = 3
            kwargs = {
                "batch_size": bs,
                "max_epochs": epochs,
                "early_stopping": None,
                "validation_fraction": 0.1,
                "device": dev,
                "random_state": 0,
            }
            MINEEstimator(**{**kwargs, "max_epochs": 1}).fit(x[:8192], y[:8192])
            _sync(dev)
            t0 = time.perf_counter()
            est = MINEEstimator(**kwargs).fit(x, y)
            _sync(dev)
            wall = time.perf_counter() - t0
            n_train = n - round(0.1 * n)
            n_train -= n_train % bs  # drop_last
            dur = statistics.median(r["dur"] for r in est.history_)
            res[f"{key}_batch{bs}"] = {
                "epoch_samples_per_s": n_train / dur,
                "fit_samples_per_s": n_train * epochs / wall,
                "median_epoch_s": dur,
                "fit_wall_s": wall,
            }
        g, c = res[f"gpu_batch{bs}"], res[f"cpu_batch{bs}"]
        res[f"speedup_batch{bs}"] = g["epoch_samples_per_s"] / c["epoch_samples_per_s"]
    res["passed"] = True  # informational
    return res


# ------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=None, help="write the report here too")
    parser.add_argument(
        "--cpu-dry-run",
        action="store_true",
        help="no GPU: the CPU stands in for it (exercises the script only)",
    )
    parser.add_argument("--seeds", type=int, default=4, help="seeds per device")
    parser.add_argument("--budget-s", type=float, default=270.0)
    args = parser.parse_args(argv)

    cuda = torch.cuda.is_available()
    report: dict[str, Any] = {
        "dry_run": bool(args.cpu_dry_run),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cuda_available": cuda,
        "device_name": torch.cuda.get_device_name(0) if cuda else None,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "checks": {},
    }
    if not cuda and not args.cpu_dry_run:
        report["error"] = "CUDA is not available (pass --cpu-dry-run to exercise)"
        _emit(report, args.json)
        return 2
    gpu = "cpu" if args.cpu_dry_run else "cuda"
    if args.cpu_dry_run:
        print("CPU DRY RUN: 'gpu' results below are CPU results, not GPU numbers.")

    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("device_errors", lambda: check_device_errors(gpu, args.cpu_dry_run)),
        ("transfers", lambda: check_transfers(gpu, args.cpu_dry_run)),
        ("mine_agreement", lambda: check_mine_agreement(gpu, args.seeds)),
        (
            "coarse_agreement",
            lambda: check_coarse_agreement(gpu, max(3, args.seeds - 1)),
        ),
        ("throughput", lambda: check_throughput(gpu, (256, 4096))),
    ]
    for name, step in steps:
        elapsed = time.perf_counter() - T_START
        if elapsed > args.budget_s:
            report["checks"][name] = {"passed": None, "skipped": "time budget spent"}
            continue
        t0 = time.perf_counter()
        try:
            out = step()
        except Exception as exc:
            out = {
                "passed": False,
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc()[-3000:],
            }
        out["seconds"] = time.perf_counter() - t0
        report["checks"][name] = out
        print(
            f"[{time.perf_counter() - T_START:6.1f} s] {name}: passed={out['passed']}"
        )
    report["elapsed_s"] = time.perf_counter() - T_START
    passed = [c.get("passed") for c in report["checks"].values()]
    report["passed"] = all(p is True for p in passed)
    _emit(report, args.json)
    return 0 if report["passed"] else 1


def _emit(report: dict[str, Any], path: str | None) -> None:
    text = json.dumps(report, indent=2, default=float)
    print(text)
    targets = [path] if path else []
    if os.environ.get("OUT"):
        targets.append(os.path.join(os.environ["OUT"], "gpu_check.json"))
    for target in targets:
        with open(target, "w") as fh:
            fh.write(text)
        print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
