"""The study's plumbing without fits: presets, tables, files, figure, helpers.

The end-to-end run (data, fits, files) is tests/test_cli.py's tiny preset.
"""

from __future__ import annotations

import csv
import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from sk_rgmi.reproduce import (
    PRESETS,
    ROWS,
    _apply_truth_table,
    _child,
    format_table,
    make_figure,
    with_overrides,
    write_results,
)


def _fake_results(with_extras: bool = True) -> dict:
    rows = []
    for k, spec in enumerate(ROWS):
        rows.append(
            {
                "key": spec.key,
                "label": spec.label,
                "mean": 0.4 - 0.01 * k,
                "std": 0.002,
                "n_seeds": 2,
                "values": [0.4 - 0.01 * k] * 2,
                "train_mean": None if spec.method == "plugin" else 0.41 - 0.01 * k,
                "seed_value": spec.seed_value,
                "seed_text": spec.seed_text,
                "seconds": 0.1,
            }
        )
    extras = {
        "filters": {"coarse_2x2_binary": [[[0.5, 0.5, 0.5, 0.5]]]},
        "histories": {
            "mine_2x2_fine": {"train_mi": [0.1, 0.3], "valid_mi": [0.1, 0.2]}
        },
    }
    return {
        "preset": {
            "description": "fake",
            "n_pairs_count": 100,
            "n_pairs_neural": 50,
            "test_fraction": 0.5,
        },
        "units": "nats",
        "rows": rows,
        **(extras if with_extras else {"filters": {}, "histories": {}}),
        "timings": {"total": 1.0, "data": 0.5},
    }


def test_presets_match_the_documented_sizes():
    quick, full = PRESETS["quick"], PRESETS["full"]
    assert (quick.size, quick.source_size) == (27, 729)
    assert (full.size, full.source_size) == (27, 2187)  # the seed's data
    assert quick.n_pairs_count == full.n_pairs_count == 100_000  # the seed's count
    # neural rows train on the seed's 10,000 pairs and score on as many held out
    for p in (quick, full):
        assert round(p.n_pairs_neural * (1 - p.test_fraction)) == 10_000
        assert p.n_seeds >= 3
    assert with_overrides(quick, n_seeds=7).n_seeds == 7 and quick.n_seeds == 3


def test_rows_carry_the_seed_values():
    seed = {r.key: r.seed_value for r in ROWS}
    assert seed["count_2x2_fine"] == 0.4219
    assert seed["count_2x2_mean"] == 0.3708
    assert seed["count_3x3_ring"] == 0.4128
    assert len({r.key for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("fmt", ["text", "rst", "markdown"])
def test_format_table_has_one_line_per_row(fmt):
    res = _fake_results()
    table = format_table(res, fmt)
    for spec in ROWS:
        assert sum(spec.label in line for line in table.splitlines()) == 1
    assert "MI (nats)" in table
    if fmt == "rst":
        widths = {len(line) for line in table.splitlines()}
        assert len(widths) == 1  # a grid table: every line equally wide


def test_format_table_rejects_unknown_format():
    with pytest.raises(ValueError, match="fmt must be"):
        format_table(_fake_results(), "html")


def test_write_results_round_trips(tmp_path):
    res = _fake_results()
    paths = write_results(res, tmp_path / "out")
    assert json.loads(paths["json"].read_text())["rows"] == res["rows"]
    with paths["csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["key"] for r in rows] == [r.key for r in ROWS]
    assert float(rows[0]["mean"]) == pytest.approx(0.4)
    assert paths["figure"].read_bytes()[:4] == b"\x89PNG"


def test_make_figure_without_histories_or_filters():
    fig = make_figure(_fake_results(with_extras=False))
    try:
        table_ax = fig.axes[0]
        # one tick label per row, and the seed's values drawn where they exist
        assert len(table_ax.get_yticklabels()) == len(ROWS)
        seed_line = [
            ln for ln in table_ax.get_lines() if ln.get_label() == "seed notebook"
        ]
        xs = np.asarray(seed_line[0].get_xdata(), dtype=float)
        assert np.isfinite(xs).sum() == sum(r.seed_value is not None for r in ROWS)
    finally:
        plt.close(fig)


def test_apply_truth_table_uses_first_feature_as_most_significant_bit():
    states = np.array([[0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [1, 1, 1, 1]])
    table = np.arange(16)  # identity: the code of the state
    np.testing.assert_array_equal(
        _apply_truth_table(table, states).ravel(), [0, 8, 1, 15]
    )


def test_named_streams_are_stable_and_distinct():
    seq = np.random.SeedSequence(0).spawn(2)[1]
    a = np.random.default_rng(_child(seq, "pairs")).integers(2**31, size=3)
    b = np.random.default_rng(_child(seq, "pairs")).integers(2**31, size=3)
    c = np.random.default_rng(_child(seq, "model")).integers(2**31, size=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
