"""Tests for the training path's data: datasets, the held-out split, minibatches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sk_rgmi.nn.data import (
    HeldOutSplit,
    PairDataset,
    PairView,
    SliceIterator,
    resolve_batch_size,
)


def test_slice_iterator_covers_each_row_once_per_epoch() -> None:
    ds = PairDataset(np.arange(10.0)[:, None], np.arange(10.0))
    it = SliceIterator(ds, 4, shuffle=True, generator=torch.Generator().manual_seed(0))
    seen = torch.cat([x[:, 0] for x, y in it])
    assert sorted(seen.tolist()) == list(range(10))
    for x, y in it:  # rows stay paired after shuffling
        torch.testing.assert_close(x, y)
    dropped = SliceIterator(ds, 4, drop_last=True)
    assert [len(x) for x, _ in dropped] == [4, 4]


def test_pair_dataset_errors() -> None:
    with pytest.raises(ValueError, match="same number of samples"):
        PairDataset(np.zeros((3, 1)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="NaN"):
        PairDataset(np.array([[np.nan], [1.0]]), np.zeros(2))
    with pytest.raises(ValueError, match="numeric"):
        PairDataset(np.array([["a"], ["b"]]), np.zeros(2))


def test_slice_iterator_shuffles_each_critic_independently() -> None:
    ds = PairDataset(np.arange(12.0), np.arange(12.0))
    view = PairView(ds, torch.arange(12).reshape(3, 4))
    it = SliceIterator(
        view, 2, shuffle=True, generator=torch.Generator().manual_seed(1)
    )
    batches = list(it)
    assert [tuple(x.shape) for x, _ in batches] == [(3, 2, 1), (3, 2, 1)]
    rows = torch.cat([x[..., 0] for x, _ in batches], dim=1)
    for m in range(3):  # critic m only ever sees its own rows, each once
        assert sorted(rows[m].tolist()) == list(range(4 * m, 4 * m + 4))


def test_held_out_split_one_critic_is_a_three_way_partition() -> None:
    ds = PairDataset(np.arange(101.0), np.arange(101.0))
    train, held = HeldOutSplit(random_state=0)(ds)
    parts = [train.index[0], held.select.index[0], held.report.index[0]]
    assert [len(p) for p in parts] == [81, 10, 10]
    assert sorted(torch.cat(parts).tolist()) == list(range(101))
    again, _ = HeldOutSplit(random_state=0)(ds)
    assert torch.equal(again.index, train.index)  # a fixed seed fixes the split


def test_held_out_split_cross_fits_every_row_once() -> None:
    ds = PairDataset(np.arange(100.0), np.arange(100.0))
    train, held = HeldOutSplit(n_members=4, n_folds=4, random_state=0)(ds)
    report = held.report.index
    # every row is reported on exactly once, by a critic that neither trained nor
    # selected on it
    assert sorted(report.reshape(-1).tolist()) == list(range(100))
    for m in range(4):
        own = set(report[m].tolist())
        assert not own & set(train.index[m].tolist())
        assert not own & set(held.select.index[m].tolist())
        assert not set(train.index[m].tolist()) & set(held.select.index[m].tolist())


def test_held_out_split_errors_name_the_problem() -> None:
    ds = PairDataset(np.zeros((10, 1)), np.zeros(10))
    with pytest.raises(ValueError, match="5 samples are too few"):
        HeldOutSplit()(PairDataset(np.zeros((5, 1)), np.zeros(5)))
    with pytest.raises(ValueError, match="or fewer folds"):
        HeldOutSplit(n_members=5, n_folds=5)(PairDataset(np.zeros((8, 1)), np.zeros(8)))
    with pytest.raises(ValueError, match="select_fraction must be"):
        HeldOutSplit(1.5)(ds)
    with pytest.raises(ValueError, match="multiple of n_folds"):
        HeldOutSplit(n_members=3, n_folds=2)(ds)


def test_held_out_split_members_of_a_fold_share_its_rows() -> None:
    ds = PairDataset(np.arange(60.0), np.arange(60.0))
    train, held = HeldOutSplit(n_members=6, n_folds=2, random_state=1)(ds)
    assert held.groups.tolist() == [0, 1, 0, 1, 0, 1]
    report = held.report.index
    for m in range(6):
        assert torch.equal(report[m], report[m % 2])  # the fold's rows
        assert not set(train.index[m].tolist()) & set(report[m].tolist())
    # critics of one fold select on different rows (diversity of the ensemble)
    assert not torch.equal(held.select.index[0], held.select.index[2])


def test_auto_batch_size_rule() -> None:
    assert resolve_batch_size("auto", 8000) == 1000  # >= 8 steps per epoch
    assert resolve_batch_size("auto", 80_000) == 1024  # capped
    assert resolve_batch_size("auto", 100) == 32 and resolve_batch_size("auto", 5) == 5
    with pytest.raises(ValueError, match="batch_size=64 is larger than the 50"):
        resolve_batch_size(64, 50)
