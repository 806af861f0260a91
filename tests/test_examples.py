"""Every gallery example runs, shrunk by ``SK_RGMI_EXAMPLE_SCALE=tiny`` (Agg backend).

The tiny settings keep the whole file well under a minute; the full-size examples run
when the documentation is built with the gallery (``make -C docs html``).
"""

from __future__ import annotations

import runpy
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))


def test_examples_found():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(path, monkeypatch, tmp_path_factory):
    # one data home for all examples (they share cached lattices), not ~/sk_rgmi_data
    home = tmp_path_factory.getbasetemp() / "example_data"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("SK_RGMI_DATA", str(home))
    monkeypatch.setenv("SK_RGMI_EXAMPLE_SCALE", "tiny")
    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    try:
        namespace = runpy.run_path(str(path), run_name="__main__")
        # each example draws at least one figure with at least one populated axes
        figures = [plt.figure(n) for n in plt.get_fignums()]
        assert figures, f"{path.name} drew no figure"
        assert any(ax.has_data() for fig in figures for ax in fig.axes)
        assert namespace["TINY"] is True
    finally:
        plt.close("all")
