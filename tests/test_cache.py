"""Tests of the data cache of sk_rgmi.datasets: checks, regeneration, concurrency."""

from __future__ import annotations

import multiprocessing
import os
import warnings
import zipfile

import numpy as np
import pytest

from sk_rgmi.datasets import _base, load_critical_ising
from sk_rgmi.exceptions import DataCacheWarning

# a tiny data set: 4 configurations of 3x3 from 9x9 (one round of 3x3 majority)
KW = dict(n_configs=4, size=3, source_size=9, verbose=0)


def _cache_file(home) -> str:
    (name,) = os.listdir(home)
    return os.path.join(home, name)


def _truncate(path: str) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(os.path.getsize(path) - 7)


def _empty(path: str) -> None:
    open(path, "wb").close()


def _garbage(path: str) -> None:
    with open(path, "wb") as fh:
        fh.write(b"not an array at all")


def _wrong_shape(path: str) -> None:
    np.save(path, np.zeros((2, 3, 3), dtype=np.int8))


def _wrong_dtype(path: str) -> None:
    np.save(path, np.zeros((4, 3, 3), dtype=np.float64))


def _wrong_values(path: str) -> None:
    np.save(path, -np.ones((4, 3, 3), dtype=np.int8))  # ±1, the cache holds 0/1


def _npz(path: str) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x.npy", b"")


def _damaged_header(path: str) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(20)  # inside the header


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (_truncate, "truncated"),
        (_empty, "empty"),
        (_garbage, "not a .npy file"),
        (_damaged_header, "damaged header"),
        (_npz, "npz"),
        (_wrong_shape, r"shape \(2, 3, 3\)"),
        (_wrong_dtype, "dtype float64"),
        (_wrong_values, "values other than 0/1"),
    ],
)
def test_damaged_or_mismatched_cache_is_regenerated(tmp_path, damage, problem):
    # Regression: a truncated file raised a misleading "object (pickled) array"
    # TypeError, an empty one a bare EOFError without the path, and a file of the
    # wrong shape was returned silently.
    good = load_critical_ising(data_home=tmp_path, **KW)
    path = _cache_file(tmp_path)
    damage(path)
    with pytest.warns(DataCacheWarning, match=problem) as record:
        again = load_critical_ising(data_home=tmp_path, **KW)
    assert os.path.basename(path) in str(record[0].message)
    np.testing.assert_array_equal(again, good)
    # the file was rewritten: the next load is silent and equal
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(
            load_critical_ising(data_home=tmp_path, **KW), good
        )
    assert os.listdir(tmp_path) == [os.path.basename(path)]  # no temporary files


def test_pm1_spins_from_the_same_cache(tmp_path):
    zero_one = load_critical_ising(data_home=tmp_path, **KW)
    pm1 = load_critical_ising(data_home=tmp_path, spins="pm1", **KW)
    np.testing.assert_array_equal(pm1, 2 * zero_one - 1)
    assert pm1.dtype == np.int8 and len(os.listdir(tmp_path)) == 1
    with pytest.raises(ValueError, match="spins"):
        load_critical_ising(data_home=tmp_path, spins="+-", **KW)


def test_generation_uses_all_cores_by_default(tmp_path, monkeypatch):
    # Regression: n_jobs=None ran the chains on one core (~20 min for the default
    # set); the data do not depend on n_jobs, so None now means all cores (-1).
    seen = []
    original = _base.sample_ising

    def spy(*args, **kwargs):
        seen.append(kwargs["n_jobs"])
        return original(*args, **kwargs)

    monkeypatch.setattr(_base, "sample_ising", spy)
    a = load_critical_ising(data_home=tmp_path / "a", **KW)
    b = load_critical_ising(data_home=tmp_path / "b", n_jobs=1, **KW)
    assert seen == [-1, 1]
    np.testing.assert_array_equal(a, b)


def test_concurrent_writers_use_distinct_temporary_files(tmp_path, monkeypatch):
    # Regression for the crash of one of 18 processes (FileNotFoundError in
    # os.replace): writers shared the temporary name "<name>.tmp.npy", so when a
    # second writer saved and renamed it between the first one's save and rename,
    # the first rename found no file. Replay exactly that interleaving: while the
    # first call is about to rename, a second call generates and renames the set.
    real_replace = os.replace
    calls = []

    def interleaved_replace(src, dst):
        calls.append(os.path.basename(os.fspath(src)))
        if len(calls) == 1:
            inner.append(load_critical_ising(data_home=tmp_path, **KW))
        real_replace(src, dst)

    inner: list[np.ndarray] = []
    monkeypatch.setattr(os, "replace", interleaved_replace)
    outer = load_critical_ising(data_home=tmp_path, **KW)
    monkeypatch.setattr(os, "replace", real_replace)
    assert len(calls) == 2 and calls[0] != calls[1]
    np.testing.assert_array_equal(outer, inner[0])
    np.testing.assert_array_equal(load_critical_ising(data_home=tmp_path, **KW), outer)
    assert len(os.listdir(tmp_path)) == 1


def _generate(home: str, out: str, barrier, n_sets: int) -> None:
    """Worker: wait for the others, then generate ``n_sets`` tiny data sets."""
    barrier.wait()
    for k in range(n_sets):
        data = load_critical_ising(data_home=home, random_state=k, **KW)
        np.save(os.path.join(out, f"{os.getpid()}_{k}.npy"), data)


def test_several_processes_generate_the_same_set(tmp_path):
    # 4 processes released together by a barrier each generate the same 3 data
    # sets into one data home: all must succeed, with identical data, one file
    # per set and no temporary file left behind.
    n_proc, n_sets = 4, 3
    home, out = tmp_path / "home", tmp_path / "out"
    home.mkdir()
    out.mkdir()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(n_proc)
    procs = [
        ctx.Process(target=_generate, args=(str(home), str(out), barrier, n_sets))
        for _ in range(n_proc)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * n_proc
    assert len(os.listdir(home)) == n_sets
    assert not [n for n in os.listdir(home) if n.endswith(".tmp.npy")]
    for k in range(n_sets):
        expected = load_critical_ising(data_home=home, random_state=k, **KW)
        outputs = [f for f in os.listdir(out) if f.endswith(f"_{k}.npy")]
        assert len(outputs) == n_proc
        for f in outputs:
            np.testing.assert_array_equal(np.load(out / f), expected)


def test_verbose_names_the_file_being_generated(tmp_path, capsys):
    load_critical_ising(data_home=tmp_path, **{**KW, "verbose": 1})
    err = capsys.readouterr().err
    assert "generating" in err and os.listdir(tmp_path)[0] in err
    load_critical_ising(data_home=tmp_path, **{**KW, "verbose": 1})
    assert "generating" not in capsys.readouterr().err  # loaded from the cache
