"""Displays: the artists they draw and the numbers they hold (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.image import AxesImage

import sk_rgmi
from sk_rgmi.plotting import FilterDisplay, MICurveDisplay, MIHistoryDisplay


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


class FittedStub:
    """A stand-in for a fitted estimator: only the attributes a Display reads."""

    def __init__(self, **attrs):
        self.__dict__.update(attrs)


def test_public_names_are_exported():
    for name in ("MIHistoryDisplay", "FilterDisplay", "MICurveDisplay"):
        assert name in sk_rgmi.__all__
        assert getattr(sk_rgmi, name) is getattr(sk_rgmi.plotting, name)


def test_history_display_from_list_of_epoch_dicts():
    history = [
        {"epoch": e, "train_mi": 0.1 * e, "valid_mi": 0.08 * e} for e in range(1, 6)
    ]
    disp = MIHistoryDisplay.from_history(history, true_mi=0.45)
    ax = disp.ax_
    assert disp.figure_ is ax.figure
    lines = ax.get_lines()
    assert len(lines) == 3  # train, held-out, reference
    np.testing.assert_allclose(disp.lines_["train"].get_ydata(), 0.1 * np.arange(1, 6))
    np.testing.assert_allclose(disp.lines_["valid"].get_ydata(), 0.08 * np.arange(1, 6))
    np.testing.assert_allclose(disp.lines_["true"].get_ydata(), [0.45, 0.45])
    np.testing.assert_allclose(disp.lines_["train"].get_xdata(), np.arange(1, 6))
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "mutual information (nats)"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["training bound", "held-out", "reference"]


def test_history_display_from_mapping_with_missing_epochs():
    # skorch histories leave a key out in epochs where it was not computed
    history = [{"train_mi": 0.1}, {"train_mi": 0.2, "valid_mi": 0.15}]
    disp = MIHistoryDisplay.from_history(history)
    valid = disp.lines_["valid"].get_ydata()
    assert np.isnan(valid[0]) and valid[1] == pytest.approx(0.15)
    disp2 = MIHistoryDisplay.from_history({"train_mi": np.array([0.3, 0.4])})
    assert "valid" not in disp2.lines_


def test_history_display_from_estimator_uses_units_and_given_axes():
    _, ax = plt.subplots()
    est = FittedStub(
        history_={"train_mi": [0.5, 0.6], "valid_mi": [0.4, 0.5]}, units="bits"
    )
    disp = MIHistoryDisplay.from_estimator(est, ax=ax)
    assert disp.ax_ is ax
    assert ax.get_ylabel() == "mutual information (bits)"
    assert "FittedStub: held-out" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_history_display_errors():
    with pytest.raises(ValueError, match="no history_"):
        MIHistoryDisplay.from_estimator(FittedStub())
    with pytest.raises(ValueError, match="no per-epoch MI"):
        MIHistoryDisplay.from_history([{"loss": 1.0}])
    # a held-out series alone is not drawn as if it were the training bound
    with pytest.raises(ValueError, match="train_mi"):
        MIHistoryDisplay.from_history({"valid_mi": [0.1, 0.2]})


def test_filter_display_draws_block_shaped_images():
    filters = np.array([[0.5, 0.5, 0.5, 0.5], [1.0, -1.0, 0.0, 0.25]])
    disp = FilterDisplay(filters, block_shape=(2, 2)).plot()
    assert len(disp.ax_) == 2 and len(disp.images_) == 2
    for k, image in enumerate(disp.images_):
        assert isinstance(image, AxesImage)
        np.testing.assert_array_equal(image.get_array(), filters[k].reshape(2, 2))
        # symmetric colour scale so the sign of a weight is its colour
        assert image.get_clim() == (-1.0, 1.0)
    # one annotation per weight
    assert len(disp.ax_[1].texts) == 4
    assert disp.ax_[1].texts[1].get_text() == "-1.00"
    # readable labels: light on saturated cells (|w| = vmax), dark on pale ones (0)
    assert disp.ax_[1].texts[1].get_color() == "white"
    assert disp.ax_[1].texts[2].get_color() == "black"
    assert len(disp.figure_.axes) == 3  # two filters and the colour bar
    assert disp.colorbar_.ax.get_ylabel() == "filter weight"


def test_filter_display_from_estimator_reads_block_shape():
    est = FittedStub(components_=np.arange(9.0).reshape(1, 9) - 4, block_shape=(3, 3))
    disp = FilterDisplay.from_estimator(est, colorbar=False)
    assert disp.images_[0].get_array().shape == (3, 3)
    assert disp.colorbar_ is None and len(disp.figure_.axes) == 1
    labelled = FilterDisplay.from_estimator(est, colorbar_label="weight (a.u.)")
    assert labelled.colorbar_.ax.get_ylabel() == "weight (a.u.)"
    with pytest.raises(ValueError, match="holds 4 values"):
        FilterDisplay.from_estimator(est, block_shape=(2, 2))
    with pytest.raises(ValueError, match="no components_"):
        FilterDisplay.from_estimator(FittedStub())


def test_mi_curve_display_error_bars_and_reference():
    x = [2.0, 2.269, 2.6, 3.0]
    mi = [0.65, 0.42, 0.2, 0.08]
    std = [0.01, 0.02, 0.01, 0.005]
    disp = MICurveDisplay(
        x, mi, std, xlabel="temperature", label="2x2", reference=np.log(2)
    ).plot()
    line, _caps, (bars,) = disp.errorbar_.lines
    np.testing.assert_allclose(line.get_xdata(), x)
    np.testing.assert_allclose(line.get_ydata(), mi)
    assert isinstance(bars, LineCollection)
    seg = bars.get_segments()
    np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in seg], 2 * np.array(std))
    assert disp.ax_.get_xlabel() == "temperature"
    ref = [
        ln for ln in disp.ax_.get_lines() if ln is not line and len(ln.get_xdata()) == 2
    ]
    assert any(np.allclose(r.get_ydata(), np.log(2)) for r in ref)


def test_mi_curve_display_from_estimators_and_pipelines():
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    ests = [
        FittedStub(mi_=0.3, mi_std_=0.01, units="nats"),
        FittedStub(mi_=0.2, units="nats"),
    ]
    pipe = Pipeline([("id", FunctionTransformer()), ("mi", FittedStub(mi_=0.1))])
    disp = MICurveDisplay.from_estimators([1, 2, 3], [*ests, pipe], xlabel="block size")
    np.testing.assert_allclose(disp.mi, [0.3, 0.2, 0.1])
    assert disp.mi_std[0] == pytest.approx(0.01) and np.isnan(disp.mi_std[1])
    with pytest.raises(ValueError, match="2 values for 3"):
        MICurveDisplay.from_estimators([1, 2], [*ests, pipe])
    with pytest.raises(ValueError, match="different units"):
        MICurveDisplay.from_estimators(
            [1, 2],
            [FittedStub(mi_=1.0, units="bits"), FittedStub(mi_=1.0, units="nats")],
        )
    with pytest.raises(ValueError, match="without mi_"):
        MICurveDisplay.from_estimators([1], [FittedStub()])


def test_plotting_import_does_not_import_pyplot():
    import subprocess
    import sys

    code = "import sys, sk_rgmi.plotting; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
