"""The RSMI study (sk_rgmi.studies.rsmi): estimators, fits, JSON schema, CLI."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from sk_rgmi.datasets import T_C
from sk_rgmi.studies._rsmi_decay import decay_fits, filter_symmetry, grouped_count_mi
from sk_rgmi.studies.rsmi import PRESETS, run_study, write_outputs


# ------------------------------------------------------------- grouped counting
def test_grouped_count_mi_recovers_a_channel():
    # binary symmetric channel, flip 0.1: MI = ln 2 - H(0.1) = 0.36806 nats
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, 40_000)
    y = x ^ (rng.random(40_000) < 0.1)
    res = grouped_count_mi(x, y, np.arange(40_000) % 50)
    assert res["low"] < 0.36806 < res["high"]
    # independent groups: the grouped error matches the plug-in estimator's own
    # (jackknife per sample) to within the error of an error from 50 groups (~10%)
    from sk_rgmi import PluginMIEstimator

    ref = PluginMIEstimator().fit(x[:, None], y).mi_std_
    assert res["std"] == pytest.approx(ref, rel=0.3)


def test_grouped_count_mi_counts_correlated_samples_once():
    # each group repeats one draw 25 times: 25 identical windows carry the
    # information of one, so the grouped error must be ~5x the naive one
    rng = np.random.default_rng(1)
    x0 = rng.integers(0, 2, 800)
    y0 = x0 ^ (rng.random(800) < 0.2)
    x, y = np.repeat(x0, 25), np.repeat(y0, 25)
    groups = np.repeat(np.arange(800), 25)
    grouped = grouped_count_mi(x, y, groups)["std"]
    naive = grouped_count_mi(x, y, np.arange(x.size) % 800)["std"]
    assert grouped > 3 * naive


def test_grouped_count_mi_bias_correction():
    # independent variables with many states: plug-in MI ~ (K-1)^2 / 2N > 0,
    # the jackknife removes it (to within its standard error)
    rng = np.random.default_rng(2)
    a, b = rng.integers(0, 16, 4000), rng.integers(0, 16, 4000)
    res = grouped_count_mi(a, b, np.arange(4000) % 40)
    assert res["plugin"] > 0.02
    assert abs(res["mi"]) < 3 * res["std"]


def test_filter_symmetry():
    assert filter_symmetry(np.ones(4), 2) == 0.0
    assert filter_symmetry([1, 0, 1, 0, 0, 0, 1, 0, 1], 3) == 0.0  # corners
    assert filter_symmetry([1, 0, 0, 0, 0, 0, 0, 0, 0], 3) > 0.5


# ------------------------------------------------------------------------ fits
def _loo(mi: np.ndarray, rel: float, g: int = 30, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return mi * (1 + rel * rng.normal(size=(g, mi.size)) / math.sqrt(g))


def _expected_half_width(x: np.ndarray, w: np.ndarray, rel: float) -> float:
    """95% half-width of a weighted least-squares slope of log MI on ``x`` when
    every point carries relative noise ``rel`` (what the jackknife of ``_loo``
    values estimates)."""
    w = w / w.sum()
    xc = x - w @ x
    return 1.959964 * rel * math.sqrt((w**2 * xc**2).sum()) / (w * xc**2).sum()


def _assert_half_width(interval: dict, expected: float) -> None:
    # 30 jackknife groups estimate a standard error to about 13% (1/sqrt(58)):
    # a factor of 2 either way is over 5 of those
    half = (interval["high"] - interval["low"]) / 2
    assert 0.5 < half / expected < 2.0, (half, expected)


def test_power_law_fit_recovers_the_exponent():
    lb = np.array([0, 1, 2, 3, 4, 6, 8])
    r0 = 2.0
    mi = 0.5 * (lb + r0) ** -0.25
    fit = decay_fits(T_C, lb, mi, 0.01 * mi, _loo(mi, 0.01), r0=r0)
    assert fit["kind"] == "power"
    assert fit["exponent"]["value"] == pytest.approx(0.25, abs=1e-9)
    assert fit["exponent_free"]["value"] == pytest.approx(0.25, abs=1e-3)
    assert fit["offset_free"] == pytest.approx(r0, abs=0.05)
    assert fit["exponent"]["low"] < 0.25 < fit["exponent"]["high"]
    x = np.log(lb + r0)
    _assert_half_width(fit["exponent"], _expected_half_width(x, np.ones_like(x), 0.01))


def test_exponential_fit_recovers_the_rate_and_drops_noise():
    lb = np.arange(9)
    rate = 0.9
    mi = 0.1 * np.exp(-rate * lb)
    std = np.full(lb.size, 2e-5)  # points below 3 sd are not fitted
    mi[-1] = 3e-5  # a noisy point far off the line, dropped
    fit = decay_fits(3.0, lb, mi, std, _loo(mi, 0.01), r0=2.0)
    assert fit["kind"] == "exponential"
    assert fit["buffers_used"] == list(range(8))
    assert fit["rate"]["value"] == pytest.approx(rate, abs=1e-9)
    assert fit["rate"]["low"] < rate < fit["rate"]["high"]
    used = np.arange(8.0)
    weight = (mi[:8] / std[:8]) ** 2  # the fit's inverse-variance weights
    _assert_half_width(fit["rate"], _expected_half_width(used, weight, 0.01))
    # expected: 2/xi from the exact correlation length at T = 3 (xi = 2.1385)
    assert fit["expected"] == pytest.approx(2 / 2.1385, abs=1e-3)


def test_plateau_below_tc():
    lb = np.arange(5)
    mi = np.array([0.62, 0.6, 0.59, 0.585, 0.585])
    fit = decay_fits(2.0, lb, mi, 0.01 * mi, _loo(mi, 0.01), r0=2.0, sign_mi=0.58)
    assert fit["kind"] == "plateau"
    assert fit["plateau"]["value"] == pytest.approx(0.585)
    assert fit["sign_mi"] == 0.58 and fit["ln2"] == pytest.approx(math.log(2))


# ----------------------------------------------------------------------- cache
def test_damaged_cache_files_are_regenerated(tmp_path):
    from sk_rgmi.exceptions import DataCacheWarning
    from sk_rgmi.studies._rsmi_data import cached_lattices, cached_scan

    kw = {"per_chain": 2, "seed": 0, "tag": "t", "data_home": tmp_path, "n_jobs": 1}
    x, chains = cached_lattices(4, 6, 2.5, **kw)
    assert x.shape == (4, 6, 6) and set(np.unique(x)) <= {-1, 1}
    assert chains.tolist() == [0, 0, 1, 1]
    (path,) = tmp_path.glob("rsmi_lattices_*.npy")
    path.write_bytes(b"not an array")
    with pytest.warns(DataCacheWarning, match="damaged"):
        again, _ = cached_lattices(4, 6, 2.5, **kw)
    np.testing.assert_array_equal(again, x)  # regenerated from the same seed

    def flows(lat):
        return [lat[:, ::3, ::3]]

    scan_kw = {"flows": {"decimate": flows}, "n_steps": 1, "key": "k", "seed": 0,
               "data_home": tmp_path, "n_jobs": 1}  # fmt: skip
    first = cached_scan(9, [2.5], 50, **scan_kw)[0]
    (scan,) = tmp_path.glob("rsmi_scan_*.npy")
    np.save(scan, np.full((50, 5), np.nan))  # right shape, NaN inside
    with pytest.warns(DataCacheWarning, match="NaN"):
        second = cached_scan(9, [2.5], 50, **scan_kw)[0]
    np.testing.assert_array_equal(first["m"]["decimate"][1], second["m"]["decimate"][1])
    assert len(first["m"]["decimate"]) == 2  # raw lattice and one step


# ------------------------------------------------------------ the whole study
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    home = tmp_path_factory.mktemp("rsmi_home")
    res = run_study("tiny", data_home=home, n_jobs=1, verbose=0)
    return res, home


def _interval_ok(d):
    return set(d) == {"value", "low", "high"} and d["low"] <= d["value"] <= d["high"]


def test_results_schema(tiny, tmp_path):
    res, _ = tiny
    preset = PRESETS["tiny"]
    assert res["units"] == "nats"
    assert len(res["decay"]) == len(preset.decay_temperatures)
    for entry in res["decay"]:
        n = len(entry["buffer"])
        assert entry["buffer"] == list(preset.blocks[0].buffers)
        for key in ("mi", "mi_low", "mi_high", "mi_fine", "mi_neural", "filters"):
            assert len(entry[key]) == n, key
        triples = zip(entry["mi_low"], entry["mi"], entry["mi_high"], strict=True)
        assert all(lo <= v <= hi for lo, v, hi in triples)
        assert entry["visible"] == [2, 2] and entry["fit"]["kind"] in (
            "power", "exponential", "plateau",
        )  # fmt: skip
    for block in (res, res["majority"]):
        assert _interval_ok(block["tc"]) and _interval_ok(block["nu"])
        flow = block["flow"]
        n_steps = preset.flow_steps
        assert len(flow["u4_large"]) == n_steps + 1
        assert len(flow["u4_small"]) == n_steps
        assert all(len(row) == preset.n_temperatures for row in flow["u4_large"])
        assert len(flow["matching"]) == n_steps
    # written files
    paths = write_outputs(res, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert {"decay", "tc", "nu", "flow", "majority"} <= set(data)
    assert set(data["decay"][0]) >= {
        "temperature", "visible", "buffer", "mi", "mi_low", "mi_high",
    }  # fmt: skip
    with paths["csv"].open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["section"] for r in rows} == {"decay", "flow", "matching"}
    for name in ("rsmi_decay", "rsmi_filters", "rsmi_flow"):
        assert paths[name].stat().st_size > 10_000


def test_tiny_flow_finds_tc(tiny):
    res, _ = tiny
    # tiny preset: 100 configurations of 27x27 and 9x9 per temperature; its
    # target (5% on T_c) is loose, the crossing lands within ~1% in practice
    for block in (res, res["majority"]):
        assert abs(block["tc"]["value"] / T_C - 1) < 0.05


def test_second_run_reads_the_cache(tiny):
    res, home = tiny
    again = run_study("tiny", parts=("flow",), data_home=home, n_jobs=1, verbose=0)
    assert again["flow"]["u4_large"] == res["flow"]["u4_large"]
    assert again["tc"] == res["tc"]
    assert again["timings"]["flow"] < res["timings"]["flow"]


def test_cli_rsmi_writes_its_outputs(tiny, tmp_path, capsys, monkeypatch):
    import dataclasses

    from sk_rgmi.cli import main
    from sk_rgmi.studies import rsmi

    _, home = tiny
    # the flow is cached by the fixture; a one-temperature decay keeps this short
    small = dataclasses.replace(
        PRESETS["tiny"], decay_temperatures=(T_C,), mine_params=None
    )
    monkeypatch.setitem(rsmi.PRESETS, "tiny", small)
    out = tmp_path / "out"
    status = main(["rsmi", "--preset", "tiny", "--out", str(out), "--data-home",
                   str(home), "--n-jobs", "1", "-q", "--no-figure"])  # fmt: skip
    assert status == 0
    assert (out / "rsmi.json").exists() and (out / "rsmi.csv").exists()
    printed = capsys.readouterr().out
    assert "T_c" in printed and "nu" in printed


def test_run_study_validates():
    with pytest.raises(ValueError, match="unknown preset"):
        run_study("huge")
    with pytest.raises(ValueError, match="unknown parts"):
        run_study("tiny", parts=("decay", "magic"))


@pytest.mark.slow
def test_quick_preset_meets_its_targets(tmp_path):
    # The quick targets: T_c within 1% and nu within 15% of the exact
    # values, for the learned flow and the majority rule (several minutes).
    res = run_study("quick", parts=("flow",), data_home=tmp_path, verbose=0)
    for block in (res, res["majority"]):
        assert block["checks"]["tc_ok"] and block["checks"]["nu_ok"]
