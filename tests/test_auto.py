"""The automatic choice of estimator (choose_estimator) and mutual_info."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from sk_rgmi import KSGEstimator, MINEEstimator, PluginMIEstimator, mutual_info
from sk_rgmi.auto import KSG_MAX_DIMS, MIResult, _flags, choose_estimator
from sk_rgmi.datasets import gaussian_pairs_mi
from sk_rgmi.exceptions import (
    BinningWarning,
    ReliabilityWarning,
    TiedValuesWarning,
    UndersampledWarning,
)

# Binary symmetric channel with flip probability 0.1: MI = ln 2 - H(0.1) nats.
BSC_MI = math.log(2) + 0.1 * math.log(0.1) + 0.9 * math.log(0.9)
# Fast MINE settings for tests (MINE at its defaults takes tens of seconds).
FAST_MINE = {
    "max_epochs": 40,
    "n_folds": 3,
    "n_critics": 1,
    "hidden_size": 16,
    "early_stopping": 10,
    "check_convergence": False,
    "device": "cpu",
}


def _gaussian_pairs(n, d_x, d_y, rho=0.8, seed=0):
    """X ~ N(0, I_dx); Y's first min(d) columns correlated rho with X's."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d_x))
    Y = rng.standard_normal((n, d_y))
    m = min(d_x, d_y)
    Y[:, :m] = rho * X[:, :m] + math.sqrt(1 - rho**2) * Y[:, :m]
    return X, Y, gaussian_pairs_mi(rho, m)


def _bsc(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, size=(n, 1))
    return x, x ^ (rng.random((n, 1)) < 0.1)


# ----------------------------------------------------------------------- decisions


def test_binary_spin_blocks_are_counted():
    rng = np.random.default_rng(0)
    spins = rng.integers(0, 2, size=(5000, 4))  # 2x2 blocks: 16 x 16 states
    name, reason = choose_estimator(spins, np.roll(spins, 1, axis=0))
    assert name == "plugin"
    assert "16 x 16 states" in reason and "discrete" in reason


@pytest.mark.parametrize("n", [19, 20, 21])
def test_plugin_threshold_is_the_plugins_own_undersampling_rule(n):
    # 2 x 2 states: the plug-in warns below 5 samples per joint state, N < 20;
    # auto must count exactly when the plug-in would not warn.
    x = np.tile([0, 1], n)[:n].reshape(-1, 1)
    y = np.tile([0, 0, 1, 1], n)[:n].reshape(-1, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        PluginMIEstimator().fit(x, y)
    undersampled = any(w.category is UndersampledWarning for w in caught)
    name, _ = choose_estimator(x, y)
    assert (name == "plugin") == (not undersampled)
    assert undersampled == (n < 20)


@pytest.mark.parametrize(
    ("d_x", "d_y", "expected"),
    [(1, 1, "ksg"), (2, 2, "ksg"), (3, 1, "ksg"), (3, 2, "mine"), (10, 10, "mine")],
)
def test_continuous_data_go_to_ksg_up_to_the_crossover(d_x, d_y, expected):
    X, Y, _ = _gaussian_pairs(2000, d_x, d_y)
    name, reason = choose_estimator(X, Y)
    assert name == expected
    assert (d_x + d_y <= KSG_MAX_DIMS) == (name == "ksg")
    assert f"{d_x} + {d_y} = {d_x + d_y} columns" in reason


def test_integer_labels_with_many_states_are_not_counted():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 1000, size=2000)  # ~900 states each: 0.003 per joint state
    y = (x + rng.integers(0, 5, size=2000)) % 1000
    name, reason = choose_estimator(x, y)
    assert name == "ksg"
    assert "too few to count" in reason


def test_mixed_and_text_columns():
    rng = np.random.default_rng(2)
    label = rng.integers(0, 3, size=(3000, 1))
    signal = label + rng.standard_normal((3000, 1))
    name, reason = choose_estimator(label, signal)
    assert name == "ksg" and "mixed" in reason
    # text can only be counted, even beside continuous columns
    words = np.array(["up", "down", "left"])[label.ravel()]
    assert choose_estimator(words, signal)[0] == "plugin"
    assert choose_estimator(words, words[::-1])[0] == "plugin"


def test_floats_with_few_levels_are_discrete():
    # block means of 2x2 spins take 5 values: counted, as the plug-in counts them
    rng = np.random.default_rng(3)
    spins = rng.integers(0, 2, size=(4000, 8))
    name, _ = choose_estimator(spins[:, :4].mean(1), spins[:, 4:].mean(1))
    assert name == "plugin"


def test_choose_estimator_rejects_bad_input_by_name():
    x, y = _bsc(100)
    with pytest.raises(ValueError, match="mutual_info requires y"):
        choose_estimator(x, None)
    bad = x.astype(float)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        choose_estimator(bad, y)
    with pytest.raises(ValueError, match="same number of samples"):
        choose_estimator(x, y[:50])


# --------------------------------------------------------------------- mutual_info


def test_mutual_info_counts_discrete_data_with_a_normal_interval():
    x, y = _bsc(20_000)
    res = mutual_info(x.ravel(), y.ravel())  # 1-D arrays are one variable
    assert isinstance(res, MIResult) and res.method == "plugin"
    assert isinstance(res.estimator, PluginMIEstimator)
    # the estimate is within 4 standard errors of the truth; the interval is the
    # normal 95% interval around it
    assert abs(res.value - BSC_MI) < 4 * res.std
    assert res.interval == pytest.approx(
        (res.value - 1.959964 * res.std, res.value + 1.959964 * res.std)
    )
    assert res.flags == () and res.n_samples == 20_000 and res.units == "nats"
    bits = mutual_info(x, y, units="bits")
    assert bits.value == pytest.approx(res.value / math.log(2))
    assert bits.interval[1] == pytest.approx(res.interval[1] / math.log(2))


def test_mutual_info_ksg_on_gaussians_matches_the_truth():
    X, Y, truth = _gaussian_pairs(4000, 2, 2)  # 1.022 nats
    res = mutual_info(X, Y, random_state=0)
    assert res.method == "ksg" and isinstance(res.estimator, KSGEstimator)
    assert res.interval == res.estimator.mi_ci_
    # KSG's bias at 2 + 2 dimensions and this MI is about -1% (docs), far below
    # its noise: 4 standard errors plus 3% of the MI bound the error
    assert abs(res.value - truth) < 4 * res.std + 0.03 * truth
    # the same random_state gives the same number
    assert mutual_info(X, Y, random_state=0).value == res.value


def test_mutual_info_mine_with_fast_settings():
    X, Y, truth = _gaussian_pairs(3000, 1, 1, rho=0.6)  # 0.223 nats
    res = mutual_info(X, Y, method="mine", random_state=0, **FAST_MINE)
    assert res.method == "mine" and res.reason == "requested"
    assert isinstance(res.estimator, MINEEstimator)
    assert res.estimator.n_folds == 3  # params reach the estimator
    low, high = res.interval
    assert low <= res.value <= high
    assert res.flags == tuple(res.estimator.diagnostics_["flags"])
    # a lower bound, short by little: 3 folds of 1000 rows give a standard error
    # of 0.020 nats per fold (measured); 0.1 nats is 5 of them
    assert truth - 0.1 < res.value < truth + 0.1


def test_auto_ignores_parameters_of_the_estimators_it_did_not_choose():
    x, y = _bsc(2000)
    res = mutual_info(x, y, n_neighbors=5, max_epochs=3)  # KSG's and MINE's
    assert res.method == "plugin"
    X, Y, _ = _gaussian_pairs(2000, 1, 1)
    res = mutual_info(X, Y, n_neighbors=5, max_epochs=3, random_state=0)
    assert res.method == "ksg" and res.estimator.n_neighbors == 5


def test_mutual_info_rejects_bad_method_units_and_parameters():
    x, y = _bsc(200)
    with pytest.raises(ValueError, match="method must be one of 'auto'"):
        mutual_info(x, y, method="knn")
    with pytest.raises(ValueError, match="units"):
        mutual_info(x, y, units="bans")
    with pytest.raises(TypeError, match="none of PluginMIEstimator"):
        mutual_info(x, y, n_neighbours=3)
    with pytest.raises(TypeError, match="for KSGEstimator"):
        mutual_info(x, y, method="ksg", max_epochs=3)


def test_flags_collect_the_warnings_and_reach_the_caller():
    x, y = _bsc(3000)
    with pytest.warns(TiedValuesWarning) as record:
        res = mutual_info(x, y, method="ksg", random_state=0)
    assert res.flags == ("tied_values",)
    assert "PluginMIEstimator" in res.messages[0]
    assert record[0].filename == __file__  # re-issued for the caller's line
    X, Y, _ = _gaussian_pairs(3000, 2, 2)
    with pytest.warns(BinningWarning):
        res = mutual_info(X, Y, method="plugin")
    assert res.flags == ("binned_continuous",)
    with pytest.warns(UndersampledWarning):
        res = mutual_info(x[:12], y[:12], method="plugin")
    assert "undersampled" in res.flags
    with pytest.warns(ReliabilityWarning, match="Too few samples"):
        res = mutual_info(X[:30], Y[:30], random_state=0)  # KSG, no subsets
    assert res.flags == ("no_interval",) and math.isnan(res.interval[0])


def test_flags_of_diagnostics_pair_with_their_warnings():
    class Fitted:
        def __init__(self):
            self.diagnostics_ = {"flags": ["near_bound_limit", "train_heldout_gap"]}

    warned = warnings.WarningMessage(
        ReliabilityWarning("MINEEstimator: (near_bound_limit: 6 nats) advice"),
        ReliabilityWarning,
        __file__,
        1,
    )
    pairs = dict(_flags(Fitted(), [warned]))
    assert list(pairs) == ["near_bound_limit", "train_heldout_gap"]
    assert "6 nats" in pairs["near_bound_limit"]
    assert "memorised" in pairs["train_heldout_gap"]  # advice when not warned


def test_str_summarises_value_interval_estimator_and_flags():
    x, y = _bsc(3000)
    with pytest.warns(TiedValuesWarning):
        res = mutual_info(x, y, method="ksg", random_state=0)
    text = str(res)
    first, *rest = text.splitlines()
    assert first.startswith(f"MI = {res.value:.4f} ± {res.std:.4f} nats, 95% interval")
    assert f"[{res.interval[0]:.4f}, {res.interval[1]:.4f}], N = 3000" in first
    assert "KSG, k=3 -- requested" in rest[0]
    assert rest[-1].startswith("  flag tied_values: Tied values")
