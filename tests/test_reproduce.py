"""The studies' plumbing: presets, runner, tables, files, figure, helpers.

The end-to-end run of every row (data, fits, files) is tests/test_cli.py's tiny
preset; here only count-based rows are run, on the tiny data set.
"""

from __future__ import annotations

import csv
import json
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from sk_rgmi.studies import format_table, write_results
from sk_rgmi.studies._runner import Outcome, history_columns, summarise
from sk_rgmi.studies.notebook import (
    PRESETS,
    ROWS,
    _apply_truth_table,
    make_figure,
    run_study,
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
                "notebook_value": spec.notebook_value,
                "notebook_text": spec.notebook_text,
                "seconds": 0.1,
            }
        )
    extras = {
        "filters": {
            "coarse_2x2_binary": [[[0.6, 0.6, 0.3, 0.4]]],
            "coarse_2x2_linear": [[[0.5, 0.5, 0.4, 0.5]]],
        },
        "histories": {
            "mine_3x3_fine_concat": [
                {"epoch": [1, 2], "train_mi": [0.1, 0.3], "valid_mi": [0.1, 0.2]}
            ]
        },
    }
    return {
        "title": "sk-rgmi reproduce -- fake",
        "note": "MI in nats; a note.",
        "preset": {"description": "fake"},
        "units": "nats",
        "reference": "notebook",
        "rows": rows,
        **(extras if with_extras else {"filters": {}, "histories": {}}),
        "timings": {"total": 1.0, "data": 0.5},
    }


@pytest.fixture
def close_figures():
    yield
    plt.close("all")


def test_presets_match_the_documented_sizes():
    quick, full = PRESETS["quick"], PRESETS["full"]
    assert (quick.size, quick.source_size) == (27, 729)
    assert (full.size, full.source_size) == (27, 2187)  # the notebook's data
    assert quick.n_pairs_count == full.n_pairs_count == 100_000  # notebook's count
    # neural rows train on the notebook's 10,000 pairs and score on as many held out
    for p in (quick, full):
        assert round(p.n_pairs_neural * (1 - p.test_fraction)) == 10_000
        assert p.n_seeds >= 3


def test_rows_carry_the_notebook_values():
    notebook = {r.key: r.notebook_value for r in ROWS}
    assert notebook["count_2x2_fine"] == 0.4219
    assert notebook["count_2x2_mean"] == 0.3708
    assert notebook["count_3x3_ring"] == 0.4128
    assert len({r.key for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("fmt", ["text", "rst", "markdown"])
def test_format_table_has_one_line_per_row(fmt):
    res = _fake_results()
    table = format_table(res, fmt)
    for spec in ROWS:
        assert sum(spec.label in line for line in table.splitlines()) == 1
    assert "MI (nats)" in table
    header = next(line for line in table.splitlines() if "quantity" in line)
    assert header.replace("|", " ").split()[-1] == "notebook"
    assert "seed" not in table.lower()
    if fmt == "rst":
        widths = {len(line) for line in table.splitlines()}
        assert len(widths) == 1  # a grid table: every line equally wide


def test_format_table_without_a_reference_column():
    res = {**_fake_results(), "reference": None}
    header = format_table(res, "markdown").splitlines()[0]
    assert header == "| quantity | MI (nats) | ± std | train |"


def test_format_table_rejects_unknown_format():
    with pytest.raises(ValueError, match="fmt must be"):
        format_table(_fake_results(), "html")


def test_write_results_round_trips(tmp_path):
    res = _fake_results()
    paths = write_results(
        res, tmp_path / "out", figure=make_figure, figure_name="reproduction.png"
    )
    assert json.loads(paths["json"].read_text())["rows"] == res["rows"]
    with paths["csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["key"] for r in rows] == [r.key for r in ROWS]
    assert float(rows[0]["mean"]) == pytest.approx(0.4)
    assert float(rows[0]["notebook_value"]) == 0.4219
    assert rows[0]["notebook_text"] == "0.4219"
    assert paths["figure"].name == "reproduction.png"
    assert paths["figure"].read_bytes()[:4] == b"\x89PNG"
    assert "figure" not in write_results(res, tmp_path / "nofig")
    assert not plt.get_fignums()  # the figure was closed after saving


def test_make_figure_without_histories_or_filters(close_figures):
    fig = make_figure(_fake_results(with_extras=False))
    table_ax = fig.axes[0]
    # one tick label per row, and the notebook's values drawn where they exist
    assert len(table_ax.get_yticklabels()) == len(ROWS)
    (notebook,) = [
        ln for ln in table_ax.get_lines() if ln.get_label() == "original notebook"
    ]
    xs = np.asarray(notebook.get_xdata(), dtype=float)
    assert np.isfinite(xs).sum() == sum(r.notebook_value is not None for r in ROWS)


def test_make_figure_explains_itself(close_figures):
    fig = make_figure(_fake_results())
    table_ax, hist_ax = fig.axes[:2]
    legend = [t.get_text() for t in table_ax.get_legend().get_texts()]
    # the ln 2 line and the error bars are named in the legend
    (ln2,) = [ln for ln in table_ax.get_lines() if "ln 2" in ln.get_label()]
    assert np.allclose(ln2.get_xdata(), math.log(2))
    assert any("mean ± std, 2 repetitions" in text for text in legend)
    # human panel titles: row labels, never internal keys
    titles = [ax.get_title() for ax in fig.axes]
    assert "MINE, 3x3 fine, concat critic" in hist_ax.get_title()
    assert not any(row.key in t for row in ROWS for t in titles)
    # filter panels: colour bars labelled, the neighbour's side named
    filter_axes = [ax for ax in fig.axes if ax.images]
    assert len(filter_axes) == 2
    assert all("right" in ax.get_xlabel() for ax in filter_axes)
    colorbars = [ax for ax in fig.axes if ax.get_ylabel() == "filter weight"]
    assert len(colorbars) == 2
    caption = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
    assert "standard deviation over 2 repetitions" in caption
    assert "need not be symmetric" in caption


def test_apply_truth_table_uses_first_feature_as_most_significant_bit():
    states = np.array([[0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [1, 1, 1, 1]])
    table = np.arange(16)  # identity: the code of the state
    np.testing.assert_array_equal(
        _apply_truth_table(table, states).ravel(), [0, 8, 1, 15]
    )


def test_summarise_mean_std_and_train_mean():
    outs = [Outcome(0.4, 0.5), Outcome(0.6, 0.7)]
    s = summarise(outs)
    assert s["mean"] == pytest.approx(0.5)
    assert s["std"] == pytest.approx(math.sqrt(0.02))  # ddof=1 of (0.4, 0.6)
    assert s["train_mean"] == pytest.approx(0.6) and s["n_seeds"] == 2
    one = summarise([Outcome(0.4)])
    assert math.isnan(one["std"]) and one["train_mean"] is None


def test_history_columns_of_per_epoch_rows():
    history = [{"epoch": 1, "train_mi": 0.1}, {"epoch": 2, "train_mi": 0.2, "x": 1}]
    cols = history_columns(history)
    assert cols["epoch"] == [1.0, 2.0] and cols["train_mi"] == [0.1, 0.2]
    assert all(math.isnan(v) for v in cols["valid_mi"])
    assert history_columns([]) is None


def test_a_rows_numbers_do_not_depend_on_the_other_rows(tmp_path):
    # named streams: the 2x2-mean row sees the same pairs whether or not the
    # fine-grained row runs first, so its values are identical
    kwargs = {"data_home": tmp_path, "seed": 1, "verbose": 0}
    both = run_study("tiny", rows=ROWS[:2], **kwargs)
    alone = run_study("tiny", rows=ROWS[1:2], **kwargs)
    assert both["rows"][1]["values"] == alone["rows"][0]["values"]
    # ... and within a repetition both rows count the same pairs: plug-in MI obeys
    # the data-processing inequality exactly
    fine, mean = (np.array(r["values"]) for r in both["rows"])
    assert np.all(fine >= mean - 1e-12) and not np.array_equal(fine, mean)
    # repetitions draw different pairs
    assert len(set(fine)) == PRESETS["tiny"].n_seeds
    assert both["reference"] == "notebook" and both["study"] == "notebook"
