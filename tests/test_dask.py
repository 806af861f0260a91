"""Scaling out: grid searches and Ising chains on a real ``dask.distributed`` cluster.

One ``LocalCluster`` (two worker processes, one thread each, loopback only) is
started per module and shared by the tests. Everything here runs through
scikit-learn's/joblib's public mechanism -- ``joblib.parallel_backend("dask")`` --
so a user's cluster needs no sk_rgmi-specific code.

Also here: the GPU-path contract that can be checked without a GPU (asking for CUDA
where there is none raises; nothing falls back to the CPU silently). The GPU
measurements themselves are ``benchmarks/gpu_check.py``.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")
torch = pytest.importorskip("torch")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

from sk_rgmi import MIMaximizingCoarseGrainer, MINEEstimator  # noqa: E402
from sk_rgmi.datasets import sample_ising  # noqa: E402
from sk_rgmi.nn._device import default_num_threads  # noqa: E402

N_WORKERS = 2
THREADS_PER_WORKER = 1

# Same seeds, same code path, one torch thread in both runs (the package's CPU
# policy, ``default_num_threads("cpu") == 1``, applies in the main process and in
# the workers alike), so every float32 operation is performed in the same order on
# the same CPU and the scores agree bit for bit; measured difference here: 0.0.
# The allowance of 1e-6 nats only covers a different BLAS kernel being dispatched
# in another process (last-bit rounding, ~1e-7 relative per operation on values
# of order 1). The seed-to-seed spread of these tiny fits is 4e-2 nats (standard
# deviation over random_state 0..5, measured), four orders of magnitude more, so a
# run that differed in any seed, split or pairing would fail.
SCORE_ATOL = 1e-6


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=N_WORKERS,
        threads_per_worker=THREADS_PER_WORKER,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)

    def warm_up() -> None:
        # import torch/skorch/sk_rgmi and load the numba cache on a worker
        for module in ("sk_rgmi.mine", "sk_rgmi.datasets.ising"):
            importlib.import_module(module)

    # Not awaited: the workers warm up while this process runs the local search.
    warming = [
        client.submit(warm_up, workers=[w], pure=False)
        for w in client.scheduler_info()["workers"]
    ]
    try:
        yield client
    finally:
        del warming
        client.close()
        cluster.close()


def _gaussian_pair(n: int = 800, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    return x, x + rng.normal(size=(n, 2))  # true MI 2 * 0.5 ln 2 = 0.69 nats


def _search_parts():
    """Estimator, grid and scorers for the small search (8 fits).

    Defined in a function so that cloudpickle ships the callback class and the
    scorers to the workers by value (the test module is not importable there).
    """

    class RecordWorker(Callback):
        """Record the torch thread count *during* training, and the process."""

        def on_batch_end(self, net, **kwargs):
            net.history.record_batch("torch_threads", torch.get_num_threads())

        def on_epoch_end(self, net, **kwargs):
            net.history.record("pid", os.getpid())

    def mi(est, X, y):
        return est.score(X, y)

    def max_threads(est, X, y):
        rows = est.net_.history
        return float(max(b["torch_threads"] for row in rows for b in row["batches"]))

    def pid(est, X, y):
        return float(est.net_.history[-1, "pid"])

    est = MINEEstimator(
        hidden_size=16,
        max_epochs=3,
        batch_size=100,
        early_stopping=None,
        n_permutations=4,
        device="cpu",
        random_state=0,
        callbacks=[RecordWorker()],
    )
    grid = {"lr": [3e-3, 3e-2], "critic": ["concat", "two-branch"]}
    scoring = {"mi": mi, "threads": max_threads, "pid": pid}
    return est, grid, scoring


def test_grid_search_on_dask_matches_local_run(client) -> None:
    x, y = _gaussian_pair()
    est, grid, scoring = _search_parts()
    kwargs = {"cv": 2, "scoring": scoring, "refit": "mi"}

    local = GridSearchCV(est, grid, n_jobs=1, **kwargs).fit(x, y)
    with joblib.parallel_backend("dask"):
        remote = GridSearchCV(est, grid, n_jobs=-1, **kwargs).fit(x, y)

    # The fits really ran in the worker processes, not in this one.
    worker_pids = set(client.run(os.getpid).values())
    fit_pids = {
        remote.cv_results_[f"split{k}_test_pid"][i]
        for k in range(2)
        for i in range(len(remote.cv_results_["params"]))
    }
    assert fit_pids <= worker_pids
    assert os.getpid() not in fit_pids

    # Same seeds -> same numbers (tolerance derived at SCORE_ATOL).
    local_mi = local.cv_results_["mean_test_mi"]
    remote_mi = remote.cv_results_["mean_test_mi"]
    assert np.ptp(local_mi) > 100 * SCORE_ATOL  # the grid points differ: not vacuous
    np.testing.assert_allclose(remote_mi, local_mi, rtol=0, atol=SCORE_ATOL)
    for k in range(2):
        np.testing.assert_allclose(
            remote.cv_results_[f"split{k}_test_mi"],
            local.cv_results_[f"split{k}_test_mi"],
            rtol=0,
            atol=SCORE_ATOL,
        )
    assert remote.best_params_ == local.best_params_
    assert remote.best_score_ == pytest.approx(local.best_score_, abs=SCORE_ATOL)

    # No oversubscription: during every fit torch used the package's CPU policy
    # (one thread), which fits the worker's budget of THREADS_PER_WORKER cores.
    policy = default_num_threads("cpu")
    threads = remote.cv_results_["mean_test_threads"]
    assert policy <= THREADS_PER_WORKER
    np.testing.assert_array_equal(threads, policy)
    np.testing.assert_array_equal(local.cv_results_["mean_test_threads"], policy)


def test_estimators_pickle_to_and_from_workers(client) -> None:
    x, y = _gaussian_pair(600, seed=1)
    est = MINEEstimator(
        hidden_size=16,
        max_epochs=2,
        batch_size=100,
        early_stopping=None,
        device="cpu",
        random_state=0,
    )
    # unfitted estimator -> worker, fitted estimator (skorch net, critic) -> back
    remote = client.submit(clone(est).fit, x, y, pure=False).result()
    local = clone(est).fit(x, y)
    assert remote.mi_ == pytest.approx(local.mi_, abs=SCORE_ATOL)
    assert remote.score(x, y) == pytest.approx(local.score(x, y), abs=SCORE_ATOL)
    again = pickle.loads(pickle.dumps(remote))
    assert again.score(x, y) == pytest.approx(remote.score(x, y), abs=SCORE_ATOL)
    # and a fitted estimator can be sent out to be scored on a worker
    remote_score = client.submit(local.score, x, y, pure=False).result()
    assert remote_score == pytest.approx(local.score(x, y), abs=SCORE_ATOL)


def test_sample_ising_chains_on_dask_match_serial(client) -> None:
    kwargs = {"n_samples": 6, "size": 16, "n_chains": 3, "random_state": 0}
    serial = sample_ising(**kwargs, n_jobs=1)
    with (
        distributed.get_task_stream(client) as stream,
        joblib.parallel_backend("dask"),
    ):
        spread = sample_ising(**kwargs, n_jobs=2)
    np.testing.assert_array_equal(spread, serial)
    assert spread.dtype == serial.dtype
    # the chains were executed by the cluster's workers
    assert len(stream.data) >= 1
    assert {task["worker"] for task in stream.data} <= set(client.run(os.getpid))
    # independent chains: not three copies of one chain
    assert not np.array_equal(spread[0:2], spread[2:4])


# --------------------------------------------------------------------------- GPU
# The contract checkable on a machine without CUDA. (On a CUDA machine these are
# skipped; benchmarks/gpu_check.py covers the device path there.)
no_cuda = pytest.mark.skipif(
    torch.cuda.is_available(), reason="CUDA is available on this machine"
)


@no_cuda
def test_coarse_grainer_cuda_requested_without_cuda_raises() -> None:
    # (MINEEstimator's twin of this test is in tests/test_mine.py.)
    x, y = _gaussian_pair(200)
    est = MIMaximizingCoarseGrainer(hidden_size=8, max_epochs=1, device="cuda")
    with pytest.raises(ValueError, match="CUDA is not available"):
        est.fit(x, y)


@no_cuda
@pytest.mark.parametrize(
    "est",
    [
        MINEEstimator(hidden_size=8, max_epochs=1, batch_size=50, random_state=0),
        MIMaximizingCoarseGrainer(hidden_size=8, max_epochs=1, random_state=0),
    ],
    ids=lambda e: type(e).__name__,
)
def test_auto_device_trains_on_cpu_without_cuda(est) -> None:
    x, y = _gaussian_pair(200)
    est = clone(est).set_params(device="auto").fit(x, y)
    module = est.critic_ if hasattr(est, "critic_") else est.module_
    assert {p.device.type for p in module.parameters()} == {"cpu"}
