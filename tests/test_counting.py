"""Tests for the counting primitives in sk_rgmi._counting."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse
from sklearn.metrics import mutual_info_score

from sk_rgmi._counting import (
    CORRECTIONS,
    RowEncoder,
    encode_rows,
    entropy_from_counts,
    joint_counts,
    mi_from_codes,
    mi_from_contingency,
    mi_statistics_from_cells,
)


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Codes ``a`` and ``b`` induce the same partition of the samples."""
    pairs = np.unique(np.stack([a, b]), axis=1)
    return len(np.unique(pairs[0])) == pairs.shape[1] == len(np.unique(pairs[1]))


# --------------------------------------------------------------------- encoding


@pytest.mark.parametrize(
    "make",
    [
        lambda r: r.integers(0, 2, (500, 4)),  # binary blocks, int
        lambda r: r.integers(0, 2, (500, 9)).astype(float),  # spins as floats
        lambda r: r.integers(-3, 4, (500, 3)).astype(np.int8),
        lambda r: r.integers(0, 4, (500, 5)) * 0.25,  # block means
        lambda r: r.standard_normal((500, 2)).round(1),  # non-integral floats
        lambda r: r.integers(0, 10**12, (500, 2)),  # huge range: sort path
        lambda r: r.integers(0, 3, (500, 3)).astype(bool),
        # Wide data: the mixed-radix code range (R ** n_columns) is far beyond
        # int64 -- and, for floats, beyond float64 (8 ** 500 overflowed before).
        lambda r: r.standard_normal((200, 500)),
        lambda r: r.integers(0, 5, (40, 500)).astype(float)[r.integers(0, 40, 200)],
        lambda r: r.integers(0, 2, (40, 300))[r.integers(0, 40, 200)],
    ],
)
def test_encode_rows_matches_unique_rows(make) -> None:
    A = make(np.random.default_rng(0))
    codes, k = encode_rows(A)
    uniq, inv = np.unique(A, axis=0, return_inverse=True)
    assert k == len(uniq)
    assert codes.min() == 0 and codes.max() == k - 1
    # lexicographic order of the rows, like np.unique(axis=0)
    np.testing.assert_array_equal(codes, inv.ravel())


def test_fast_path_block_range_widening_and_layouts() -> None:
    # Integer-valued floats take the one-pass block path; the first block of rows
    # (8192 rows here) sees only {-1, 0}, later blocks widen the range to 2, which
    # forces the second pass. Fortran order and ints must give the same codes.
    rng = np.random.default_rng(6)
    A = rng.integers(-1, 1, (30_000, 4)).astype(float)
    A[20_000:] = rng.integers(-1, 3, (10_000, 4))
    _, inv = np.unique(A, axis=0, return_inverse=True)
    for variant in (A, np.asfortranarray(A), A.astype(np.int16), A.astype(object)):
        enc = RowEncoder()
        codes = enc.fit_transform(variant)
        np.testing.assert_array_equal(codes, inv.ravel())
        np.testing.assert_array_equal(enc.transform(variant), codes)
        np.testing.assert_array_equal(enc.transform(variant[::-1]), codes[::-1])
    enc = RowEncoder()
    enc.fit_transform(A[:100])
    new = np.array([[-1, 0, 0, -1], [0.5, 0, 0, 0], [5, 0, 0, 0], [-1, -1, -1, -1]])
    out = enc.transform(new)
    assert out[1] == out[2] == -1  # non-integral / out of range: unseen
    seen = {tuple(r) for r in A[:100]}
    assert (out[3] >= 0) == ((-1.0, -1.0, -1.0, -1.0) in seen)
    assert RowEncoder().fit_raw_integral(np.array([[0.5]])) is None


def test_wide_rows_encode_without_overflow() -> None:
    # Regression: 500 continuous columns made the float fast path compute
    # radix ** 500 and raise OverflowError. Non-integral data must be declined by
    # the fast path, and wide rows must round-trip through fit / transform.
    rng = np.random.default_rng(7)
    A = rng.standard_normal((200, 500))
    assert RowEncoder().fit_raw_integral(A) is None
    binned = (A > 0).astype(float)[rng.integers(0, 200, 300)]
    enc = RowEncoder()
    codes = enc.fit_transform(binned)
    assert enc.n_states_ == len(np.unique(binned, axis=0))
    np.testing.assert_array_equal(enc.transform(binned), codes)
    unseen = binned[:1].copy()
    unseen[0, 0] = 2.0
    np.testing.assert_array_equal(enc.transform(unseen), [-1])


def test_encode_rows_radix_overflow_compacts() -> None:
    # 30 columns of 10 levels: 10**30 possible rows overflow int64, so the encoder
    # must compact on the way; the partition must still be the rows'.
    rng = np.random.default_rng(1)
    base = rng.integers(0, 10, (50, 30))
    A = base[rng.integers(0, 50, 2000)]
    codes, k = encode_rows(A)
    _, inv = np.unique(A, axis=0, return_inverse=True)
    assert k == len(np.unique(inv))
    assert _same_partition(codes, inv.ravel())
    enc = RowEncoder()
    np.testing.assert_array_equal(enc.fit_transform(A), enc.transform(A))


def test_encode_rows_strings_objects_and_1d() -> None:
    A = np.array([["a", "x"], ["b", "x"], ["a", "x"], ["a", "y"]])
    codes, k = encode_rows(A)
    assert k == 3
    np.testing.assert_array_equal(codes, [0, 2, 0, 1])
    codes_1d, k_1d = encode_rows(np.array(["u", "d", "u"]))
    np.testing.assert_array_equal(codes_1d, [1, 0, 1])
    assert k_1d == 2
    # object column of numbers compares as floats: 1 == 1.0
    obj = np.array([[1, "a"], [1.0, "a"], [2, "b"]], dtype=object)
    np.testing.assert_array_equal(encode_rows(obj)[0], [0, 0, 1])
    # unorderable objects fall back to str()
    odd = np.array([[{"k": 1}], [{"k": 1}], [0.5]], dtype=object)
    codes_odd, _ = encode_rows(odd)
    assert codes_odd[0] == codes_odd[1] != codes_odd[2]


def test_row_encoder_transform_unseen() -> None:
    enc = RowEncoder()
    train = np.array([[0, 1], [1, 1], [1, 0]])
    fitted = enc.fit_transform(train)
    np.testing.assert_array_equal(enc.transform(train), fitted)
    out = enc.transform(np.array([[0, 0], [2, 1], [1, 0], [0, 7]]))
    # (0, 0): both values seen, row not; 2 and 7 never seen.
    np.testing.assert_array_equal(out, [-1, -1, fitted[2], -1])
    senc = RowEncoder()
    senc.fit_transform(np.array([["a"], ["b"]]))
    np.testing.assert_array_equal(senc.transform(np.array([["b"], ["c"]])), [1, -1])
    with pytest.raises(ValueError, match="fitted on 2"):
        enc.transform(np.zeros((2, 3)))


# --------------------------------------------------------------------- counting


def test_joint_counts_dense_and_sparse_paths_agree() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 30, 1000)
    y = rng.integers(0, 40, 1000)
    dense = joint_counts(x, y)
    # huge declared ranges force the sort path
    ix, iy, c = joint_counts(x, y, n_x=10**7, n_y=10**7)
    np.testing.assert_array_equal(dense[0], ix)
    np.testing.assert_array_equal(dense[1], iy)
    np.testing.assert_array_equal(dense[2], c)
    assert c.sum() == 1000
    table = np.zeros((30, 40), dtype=int)
    np.add.at(table, (x, y), 1)
    np.testing.assert_array_equal(table[ix, iy], c)
    assert np.count_nonzero(table) == len(c)


# ---------------------------------------------------------------- entropies / MI


def test_entropy_plugin_and_miller_madow() -> None:
    counts = np.array([3, 1, 0, 6])
    p = counts[counts > 0] / 10
    h = -(p * np.log(p)).sum()
    assert entropy_from_counts(counts) == pytest.approx(h, abs=1e-14)
    assert entropy_from_counts(counts, correction="miller-madow") == pytest.approx(
        h + (3 - 1) / 20, abs=1e-14
    )
    batch = np.stack([counts, counts[::-1], np.array([1, 1, 1, 1])])
    for corr in CORRECTIONS:
        got = entropy_from_counts(batch, correction=corr)
        want = [entropy_from_counts(b, correction=corr) for b in batch]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-13)
        np.testing.assert_allclose(
            entropy_from_counts(batch.T, correction=corr, axis=0), want, atol=1e-13
        )


def test_entropy_jackknife_brute_force() -> None:
    counts = np.array([1, 2, 5, 9])
    n = counts.sum()
    labels = np.repeat(np.arange(4), counts)

    def plug(lab: np.ndarray) -> float:
        return entropy_from_counts(np.bincount(lab, minlength=4))

    loo = [plug(np.delete(labels, k)) for k in range(n)]
    want = n * plug(labels) - (n - 1) * np.mean(loo)
    got = entropy_from_counts(counts, correction="jackknife")
    assert got == pytest.approx(want, abs=1e-12)


def test_grassberger_and_chao_shen_known_values() -> None:
    # Grassberger (2003): G(1) = -gamma - ln 2, so one sample per bin of K bins
    # gives H = ln N + gamma + ln 2.
    euler_gamma = 0.5772156649015329
    got = entropy_from_counts(np.ones(7), correction="grassberger")
    assert got == pytest.approx(math.log(7) + euler_gamma + math.log(2), abs=1e-12)
    # Large counts: G(n) -> ln n, so the estimate approaches the plug-in one.
    big = np.array([10**6, 2 * 10**6, 3 * 10**6])
    assert entropy_from_counts(big, correction="grassberger") == pytest.approx(
        entropy_from_counts(big), abs=1e-6
    )
    # Chao-Shen without singletons: coverage 1 and (1 - p)^N ~ 0: plug-in.
    assert entropy_from_counts(big, correction="chao-shen") == pytest.approx(
        entropy_from_counts(big), abs=1e-12
    )
    # Chao-Shen with singletons: larger than the plug-in (unseen mass).
    few = np.array([1, 1, 1, 2, 5])
    assert entropy_from_counts(few, correction="chao-shen") > entropy_from_counts(few)


def test_mi_agrees_with_sklearn_and_all_representations() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, 3000)
    y = (x + rng.integers(0, 3, 3000)) % 8
    ref = mutual_info_score(x, y)
    assert mi_from_codes(x, y) == pytest.approx(ref, abs=1e-12)
    table = np.zeros((6, 8))
    np.add.at(table, (x, y), 1)
    for corr in CORRECTIONS:
        a = mi_from_codes(x, y, correction=corr)
        b = mi_from_contingency(table, correction=corr)
        c = mi_from_contingency(sparse.csr_array(table), correction=corr)
        s = mi_statistics_from_cells(*joint_counts(x, y), correction=corr)
        assert a == pytest.approx(b, abs=1e-12)
        assert a == pytest.approx(c, abs=1e-12)
        assert a == pytest.approx(s.mi, abs=1e-12)
        assert s.mi == pytest.approx(
            s.entropy_x + s.entropy_y - s.entropy_xy, abs=1e-12
        )
    # Miller-Madow MI: plug-in + (K_x + K_y - K_xy - 1) / (2N)
    s = mi_statistics_from_cells(*joint_counts(x, y))
    mm = ref + (s.n_states_x + s.n_states_y - s.n_states_xy - 1) / (2 * 3000)
    assert mi_from_codes(x, y, correction="miller-madow") == pytest.approx(mm, 1e-12)


def test_mi_from_contingency_batched() -> None:
    rng = np.random.default_rng(4)
    tables = rng.integers(0, 5, (64, 2, 7)).astype(float)
    tables[:, 0, 0] += 1  # no empty table
    for corr in CORRECTIONS:
        mi, std = mi_from_contingency(tables, correction=corr, return_std=True)
        assert mi.shape == std.shape == (64,)
        for t in (0, 17, 63):
            m1, s1 = mi_from_contingency(tables[t], correction=corr, return_std=True)
            assert mi[t] == pytest.approx(m1, abs=1e-12)
            assert std[t] == pytest.approx(s1, abs=1e-12)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        mi_from_contingency([1, 2, 3])


def test_mi_jackknife_and_std_brute_force() -> None:
    rng = np.random.default_rng(5)
    n = 60
    x = rng.integers(0, 4, n)
    y = np.where(rng.random(n) < 0.7, x, rng.integers(0, 5, n))
    loo = np.array([mi_from_codes(np.delete(x, k), np.delete(y, k)) for k in range(n)])
    jk = n * mi_from_codes(x, y) - (n - 1) * loo.mean()
    se = math.sqrt((n - 1) / n * ((loo - loo.mean()) ** 2).sum())
    s = mi_statistics_from_cells(*joint_counts(x, y), correction="jackknife")
    assert s.mi == pytest.approx(jk, abs=1e-12)
    assert s.mi_std == pytest.approx(se, abs=1e-12)


def test_unknown_correction() -> None:
    with pytest.raises(ValueError, match="correction must be one of"):
        mi_from_codes(np.zeros(3, int), np.zeros(3, int), correction="magic")
    with pytest.raises(ValueError, match="correction must be one of"):
        entropy_from_counts([1, 2], correction="magic")
