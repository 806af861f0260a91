"""Tests of sk_rgmi.datasets._base: data home, cached data set, user files.

The cache's checks, regeneration and concurrent writers: tests/test_cache.py.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from sk_rgmi.datasets import (
    _base,
    block_spin_flow,
    clear_data_home,
    get_data_home,
    load_critical_ising,
    load_lattices,
    sample_ising,
)


def test_data_home_argument_env_and_default(tmp_path, monkeypatch):
    assert get_data_home(tmp_path / "a") == str(tmp_path / "a")
    assert os.path.isdir(tmp_path / "a")
    monkeypatch.setenv("SK_RGMI_DATA", str(tmp_path / "env"))
    assert get_data_home() == str(tmp_path / "env")
    monkeypatch.delenv("SK_RGMI_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == str(tmp_path / "sk_rgmi_data")
    clear_data_home(tmp_path / "a")
    assert not os.path.exists(tmp_path / "a")


def test_load_critical_ising_generates_caches_and_loads(tmp_path, monkeypatch):
    kw = dict(n_configs=5, size=3, source_size=27, data_home=tmp_path, verbose=0)
    data = load_critical_ising(**kw)
    assert data.shape == (5, 3, 3) and data.dtype == np.int8
    assert set(np.unique(data)) <= {0, 1}
    files = os.listdir(tmp_path)
    assert len(files) == 1 and files[0].endswith(".npy")
    assert "3x3_from_27x27_Tc_wolff_n5_seed0" in files[0]
    # same as sampling and coarse-graining by hand (2 rounds of 3x3 majority)
    full = sample_ising(5, 27, spins="pm1", random_state=0)
    coarse = full.reshape(5, 9, 3, 9, 3).sum(axis=(2, 4))
    coarse = np.where(coarse > 0, 1, -1).reshape(5, 3, 3, 3, 3).sum(axis=(2, 4))
    np.testing.assert_array_equal(data, (coarse > 0).astype(np.int8))
    np.testing.assert_array_equal(data, block_spin_flow(full > 0, 3, 2)[-1])

    def fail(*args, **kwargs):
        raise AssertionError("should load from the cache")

    monkeypatch.setattr(_base, "sample_ising", fail)
    np.testing.assert_array_equal(load_critical_ising(**kw), data)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"size": 27, "source_size": 100}, ValueError, "power of 3"),
        ({"size": 10, "source_size": 20}, ValueError, "power of 3"),
        ({"random_state": None}, TypeError, "random_state"),
        ({"n_configs": 0}, ValueError, "n_configs"),
        ({"algorithm": "glauber"}, ValueError, "algorithm"),
        ({"temperature": 0.0}, ValueError, "temperature"),
    ],
)
def test_load_critical_ising_bad_input(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_critical_ising(data_home=tmp_path, **{"verbose": 0, **kwargs})


@pytest.mark.parametrize(
    "array",
    [
        np.zeros((2, 4, 4)),
        np.ones((2, 4, 4), dtype=np.int64),
        -np.ones((1, 3, 3), dtype=np.int16),
        np.ones((1, 3, 3), dtype=bool),
    ],
)
def test_load_lattices_valid(tmp_path, array):
    path = tmp_path / "x.npy"
    np.save(path, array)
    got = load_lattices(path)
    assert got.dtype == np.int8 and got.shape == array.shape
    np.testing.assert_array_equal(got, array.astype(np.int8))


@pytest.mark.parametrize(
    ("array", "error", "match"),
    [
        (np.zeros((4, 4)), ValueError, "shape"),
        (np.zeros((2, 4, 5)), ValueError, "square"),
        (np.zeros((0, 4, 4)), ValueError, "empty"),
        (np.full((1, 3, 3), 2), ValueError, "binary spins"),
        (np.array([[[-1, 0], [1, 1]]]), ValueError, "binary spins"),
        (np.full((1, 3, 3), 0.5), ValueError, "binary spins"),
        (np.full((1, 3, 3), np.nan), ValueError, "NaN"),
        (np.full((1, 3, 3), "a"), TypeError, "dtype"),
        (np.zeros((1, 3, 3), dtype=complex), TypeError, "dtype"),
        (np.array([None, 1], dtype=object), TypeError, "object"),
    ],
)
def test_load_lattices_bad_files(tmp_path, array, error, match):
    path = tmp_path / "bad.npy"
    np.save(path, array, allow_pickle=True)
    with pytest.raises(error, match=match):
        load_lattices(path)


def _write_bytes(path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)


def test_load_lattices_damaged_files_name_the_file_and_the_problem(tmp_path):
    # Regression: a truncated file raised a misleading TypeError ("holds an object
    # (pickled) array") and an empty one a bare EOFError that did not name the file.
    path = tmp_path / "lattices.npy"
    np.save(path, np.ones((3, 4, 4), dtype=np.int8))
    full = path.read_bytes()
    cases = [
        (full[:-5], "truncated.*shape \\(3, 4, 4\\)"),
        (b"", "empty"),
        (b"hello, world", "not a .npy file"),
        (full[:20], "damaged header"),
    ]
    for content, problem in cases:
        _write_bytes(path, content)
        with pytest.raises(ValueError, match=problem) as info:
            load_lattices(path)
        assert str(path) in str(info.value)


def test_load_lattices_npz_archive(tmp_path):
    path = tmp_path / "two.npz"
    np.savez(path, a=np.zeros((1, 2, 2)))
    with pytest.raises(TypeError, match="npz"):
        load_lattices(path)
