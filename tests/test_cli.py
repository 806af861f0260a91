"""The ``sk-rgmi`` command line: reproduce (tiny preset, end to end), estimate,
generate, and their one-line error messages."""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from sk_rgmi import KSGEstimator, PluginMIEstimator
from sk_rgmi.cli import build_parser, main
from sk_rgmi.datasets import T_C, block_spin, sample_ising
from sk_rgmi.studies.notebook import ROWS

MI_LINE = re.compile(
    r"MI = (-?[0-9.]+) ± ([0-9.]+|nan) (nats|bits), "
    r"95% interval \[(-?[0-9.]+|nan), (-?[0-9.]+|nan)\], N = ([0-9]+)"
)


@pytest.fixture(scope="module")
def data_home(tmp_path_factory):
    return tmp_path_factory.mktemp("sk_rgmi_data")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, data_home):
    """One end-to-end ``sk-rgmi reproduce --preset tiny`` shared by the tests below."""
    out = tmp_path_factory.mktemp("reproduce_out")
    argv = ["reproduce", "--preset", "tiny", "--out", str(out)]
    argv += ["--data-home", str(data_home), "--seed", "3", "-q"]
    rc = main(argv)
    return rc, out


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("sk-rgmi: error: ")
    return lines[0]


# ----------------------------------------------------------------------- reproduce


def test_reproduce_tiny_writes_files_and_a_sane_table(tiny_run, data_home, capsys):
    rc, out = tiny_run
    assert rc == 0
    for name in ("results.json", "results.csv", "reproduction.png"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "reproduction.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the data set was generated once into the data home (cached for later runs)
    assert len(list(data_home.glob("ising_27x27_from_81x81_*.npy"))) == 1

    res = json.loads((out / "results.json").read_text())
    assert res["units"] == "nats" and res["preset"]["name"] == "tiny"
    rows = {r["key"]: r for r in res["rows"]}
    assert list(rows) == [r.key for r in ROWS]
    for r in rows.values():
        assert r["n_seeds"] == 2 and len(r["values"]) == 2
        assert all(math.isfinite(v) for v in r["values"]), r
        assert math.isfinite(r["std"]) and r["std"] >= 0, r  # error bar present
        assert -0.5 < r["mean"] < math.log(2**9), r  # MI of two 3x3 binary blocks
    # count-based rows: within a repetition the fine and the coarse rows see the same
    # pairs, and plug-in MI obeys the data-processing inequality exactly.
    fine = np.array(rows["count_2x2_fine"]["values"])
    mean = np.array(rows["count_2x2_mean"]["values"])
    assert np.all(fine >= mean - 1e-12)
    # a binary coarse variable carries at most ln 2 nats, and no Boolean function
    # of a 2x2 block beats the fine-grained MI of the same (training) pairs
    for key in ("coarse_2x2_binary", "exhaustive_2x2_binary"):
        assert max(rows[key]["values"]) <= math.log(2) + 1e-9
    assert rows["count_2x2_fine"]["notebook_value"] == pytest.approx(0.4219)
    assert res["reference"] == "notebook"
    assert set(res["filters"]) >= {"coarse_2x2_binary", "coarse_2x2_linear"}
    assert np.asarray(res["filters"]["coarse_2x2_binary"][0]).shape == (1, 4)

    with (out / "results.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert [t["key"] for t in table] == list(rows)
    assert float(table[0]["mean"]) == pytest.approx(rows["count_2x2_fine"]["mean"])


def test_reproduce_prints_the_table(tmp_path, data_home, capsys):
    # data cached by tiny_run's sibling call or generated now: either way the same
    rc = main(
        [
            *("reproduce", "--preset", "tiny", "--out", str(tmp_path), "--no-figure"),
            *("--data-home", str(data_home), "--seed", "3", "-q", "--n-seeds", "2"),
        ]
    )
    assert rc == 0
    stdout = capsys.readouterr().out
    for row in ROWS:
        assert row.label in stdout
    assert "MI in nats" in stdout and "0.4219" in stdout
    header = next(line for line in stdout.splitlines() if line.startswith("quantity"))
    assert header.split()[-1] == "notebook"  # the original notebook's column
    assert not (tmp_path / "reproduction.png").exists()


def test_reproduce_bad_arguments(tmp_path, capsys):
    assert main(["reproduce", "--preset", "huge", "--out", str(tmp_path)]) == 2
    assert "unknown preset" in _error_line(capsys)
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    assert main(["reproduce", "--preset", "tiny", "--out", str(afile)]) == 2
    assert "not a folder" in _error_line(capsys)
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--quick", "--full"])
    assert exc.value.code == 2


def test_reproduce_refuses_missing_cuda_before_any_work(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here: nothing to refuse")
    argv = ["reproduce", "--preset", "tiny", "--device", "cuda"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert "CUDA is not available" in _error_line(capsys)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------ estimate


@pytest.fixture
def binary_pairs(tmp_path):
    # binary symmetric channel, flip probability 0.1: MI = ln 2 - H(0.1) = 0.368 nats
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(4000, 1))
    y = x ^ (rng.random((4000, 1)) < 0.1)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    return tmp_path / "x.npy", tmp_path / "y.npy", x, y


def test_estimate_auto_counts_discrete_data_in_both_units(binary_pairs, capsys):
    px, py, x, y = binary_pairs
    assert main(["estimate", str(px), str(py)]) == 0
    out = capsys.readouterr().out
    mi, std, units, low, high, n = MI_LINE.search(out).groups()
    ref = PluginMIEstimator(n_bins="auto", correction="jackknife").fit(x, y)
    assert units == "nats" and n == "4000"
    assert float(mi) == pytest.approx(ref.mi_, abs=5e-5)  # printed to 4 decimals
    assert float(std) == pytest.approx(ref.mi_std_, abs=5e-5)
    # the plug-in's interval: normal, from its jackknife standard error
    assert float(low) == pytest.approx(ref.mi_ - 1.959964 * ref.mi_std_, abs=5e-5)
    assert float(high) == pytest.approx(ref.mi_ + 1.959964 * ref.mi_std_, abs=5e-5)
    assert "plug-in, jackknife correction -- auto: discrete data" in out
    assert "jackknife standard errors" in out
    assert main(["estimate", str(px), str(py), "--units", "bits"]) == 0
    mi_bits, _, units, *_ = MI_LINE.search(capsys.readouterr().out).groups()
    assert units == "bits"
    assert float(mi_bits) == pytest.approx(ref.mi_ / math.log(2), abs=1e-4)


def test_estimate_flattens_stacks_of_blocks(tmp_path, capsys):
    rng = np.random.default_rng(1)
    blocks = rng.integers(0, 2, size=(3000, 2, 2))
    np.save(tmp_path / "a.npy", blocks)
    np.save(tmp_path / "b.npy", blocks)  # Y = X: MI = H(X)
    assert main(["estimate", str(tmp_path / "a.npy"), str(tmp_path / "b.npy")]) == 0
    out = capsys.readouterr().out
    mi = float(MI_LINE.search(out).group(1))
    assert "16 x 16 states" in out  # four spins per sample: counted
    flat = blocks.reshape(3000, 4)
    ref = PluginMIEstimator(n_bins="auto", correction="jackknife").fit(flat, flat)
    assert mi == pytest.approx(ref.mi_, abs=5e-5)


def test_estimate_auto_uses_ksg_for_continuous_data(tmp_path, capsys):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((3000, 2))
    Y = 0.8 * X + 0.6 * rng.standard_normal((3000, 2))
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", Y)
    assert main(["estimate", str(tmp_path / "x.npy"), str(tmp_path / "y.npy")]) == 0
    out = capsys.readouterr().out
    mi, std, _, low, high, _ = MI_LINE.search(out).groups()
    assert float(std) > 0
    assert "KSG, k=3 -- auto: continuous data, 2 + 2 = 4 columns" in out
    ref = KSGEstimator(random_state=0).fit(X, Y)  # --seed 0 is its random_state
    assert float(mi) == pytest.approx(ref.mi_, abs=5e-5)
    assert (float(low), float(high)) == pytest.approx(ref.mi_ci_, abs=5e-5)


def test_estimate_prints_one_line_per_flag(binary_pairs, capsys):
    px, py, _, _ = binary_pairs
    assert main(["estimate", str(px), str(py), "--estimator", "ksg"]) == 0
    captured = capsys.readouterr()
    flags = [ln for ln in captured.out.splitlines() if ln.strip().startswith("flag ")]
    assert len(flags) == 1 and flags[0].strip().startswith("flag tied_values: ")
    assert "requested with --estimator" in captured.out
    assert "TiedValuesWarning" not in captured.err  # printed once, as the flag


def test_estimate_mine_reports_the_cross_fitted_interval(binary_pairs, capsys):
    # regression: one fit printed "± nan"; MINE's own interval replaces the seeds
    px, py, _, _ = binary_pairs
    argv = ["estimate", str(px), str(py), "--estimator", "mine"]
    assert main([*argv, "--max-epochs", "2", "--n-folds", "2", "-q"]) == 0
    out = capsys.readouterr().out
    mi, std, _, low, high, _ = MI_LINE.search(out).groups()
    assert "nan" not in (std, low, high)
    assert float(low) <= float(mi) <= float(high)
    assert "MINE, 2 folds x 2 critics -- requested" in out
    assert "cross-fitted folds" in out


def test_estimate_mine_averages_seeds(binary_pairs, capsys):
    px, py, _, _ = binary_pairs
    argv = ["estimate", str(px), str(py), "--estimator", "mine", "-q"]
    assert main([*argv, "--max-epochs", "2", "--n-folds", "2", "--n-seeds", "2"]) == 0
    out = capsys.readouterr().out
    mi, std, *_ = MI_LINE.search(out).groups()
    values = re.search(r"mean of 2 fits \((-?[0-9.]+), (-?[0-9.]+)\)", out).groups()
    assert float(mi) == pytest.approx(np.mean([float(v) for v in values]), abs=1e-4)
    assert math.isfinite(float(std))


def test_estimate_test_fraction_is_a_deprecated_alias_of_n_folds(binary_pairs, capsys):
    px, py, _, _ = binary_pairs
    argv = ["estimate", str(px), str(py), "--estimator", "mine", "-q"]
    assert main([*argv, "--max-epochs", "2", "--test-fraction", "0.25"]) == 0
    captured = capsys.readouterr()
    assert "MINE, 4 folds" in captured.out
    assert "--test-fraction is deprecated" in captured.err
    assert main([*argv, "--test-fraction", "0.25", "--n-folds", "3"]) == 2
    assert "not both" in _error_line(capsys)
    assert main([*argv, "--test-fraction", "0.8"]) == 2
    assert "(0, 0.5]" in _error_line(capsys)


def test_estimate_notes_mine_options_another_estimator_ignores(binary_pairs, capsys):
    px, py, _, _ = binary_pairs
    assert main(["estimate", str(px), str(py), "--max-epochs", "5"]) == 0
    err = capsys.readouterr().err
    assert "--max-epochs: for mine only, ignored for plugin" in err


def test_estimate_one_dimensional_arrays_are_one_variable(binary_pairs, capsys):
    # regression: 1-D .npy files were refused with advice to reshape
    px, py, x, y = binary_pairs
    tmp = px.parent
    np.save(tmp / "x1.npy", x.ravel())
    np.save(tmp / "y1.npy", y.ravel())
    assert main(["estimate", str(tmp / "x1.npy"), str(tmp / "y1.npy")]) == 0
    mi_1d = float(MI_LINE.search(capsys.readouterr().out).group(1))
    assert main(["estimate", str(px), str(py)]) == 0
    mi_2d = float(MI_LINE.search(capsys.readouterr().out).group(1))
    assert mi_1d == mi_2d
    # a 1-D X with a 2-D Y of the same length works too
    assert main(["estimate", str(tmp / "x1.npy"), str(py)]) == 0


def test_estimate_errors_are_one_line(tmp_path, binary_pairs, capsys):
    px, py, x, _ = binary_pairs
    assert main(["estimate", str(tmp_path / "nope.npy"), str(py)]) == 2
    assert "no such file" in _error_line(capsys)
    assert main(["estimate", str(tmp_path), str(py)]) == 2
    assert "is a folder" in _error_line(capsys)

    np.save(tmp_path / "short.npy", x[:10])
    assert main(["estimate", str(tmp_path / "short.npy"), str(py)]) == 2
    assert "same number of samples" in _error_line(capsys)

    bad = x.astype(float)
    bad[3, 0] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    assert main(["estimate", str(tmp_path / "nan.npy"), str(py)]) == 2
    assert "nan" in _error_line(capsys).lower()

    np.save(tmp_path / "obj.npy", np.array([{"a": 1}] * 5, dtype=object))
    assert main(["estimate", str(tmp_path / "obj.npy"), str(py)]) == 2
    assert "not a numeric" in _error_line(capsys)

    np.save(tmp_path / "str.npy", np.array(["a", "b"] * 2000))
    assert main(["estimate", str(tmp_path / "str.npy"), str(py)]) == 2
    assert "non-numeric" in _error_line(capsys)

    (tmp_path / "text.npy").write_text("not numpy")
    assert main(["estimate", str(tmp_path / "text.npy"), str(py)]) == 2
    _error_line(capsys)

    np.savez(tmp_path / "arch.npz", x=x)
    assert main(["estimate", str(tmp_path / "arch.npz"), str(py)]) == 2
    assert ".npz" in _error_line(capsys)

    with pytest.raises(SystemExit) as exc:
        main(["estimate", str(px), str(py), "--estimator", "knn"])
    assert exc.value.code == 2


# ------------------------------------------------------------------------ generate


def test_generate_writes_deterministic_coarse_grained_lattices(tmp_path, capsys):
    argv = ["generate", "--n", "3", "--size", "27", "--coarse-to", "9", "-q"]
    assert main([*argv, str(tmp_path / "a.npy"), "--seed", "5"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main([*argv, str(tmp_path / "b.npy"), "--seed", "5"]) == 0
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape == (3, 9, 9) and a.dtype == np.int8
    assert set(np.unique(a)) <= {0, 1}
    np.testing.assert_array_equal(a, b)  # same seed, same configurations
    # coarse-graining while recording equals block-spinning the full lattices
    full = sample_ising(3, 27, T_C, spins="01", random_state=5)
    np.testing.assert_array_equal(a, block_spin(full, 3, rule="majority"))
    # whole lattices are flattened per sample; three 81-spin states never repeat,
    # which the count-based estimator refuses with a one-line reason
    argv = ["estimate", str(tmp_path / "a.npy"), str(tmp_path / "b.npy")]
    assert main([*argv, "--estimator", "plugin"]) == 2
    assert "distinct state" in _error_line(capsys)


def test_generate_refuses_to_overwrite_without_the_flag(tmp_path, capsys):
    # regression: an existing output file was silently replaced
    out = tmp_path / "x.npy"
    np.save(out, np.arange(3))
    argv = ["generate", str(out), "--n", "2", "--size", "9", "-q"]
    assert main(argv) == 2
    assert "--overwrite" in _error_line(capsys)
    np.testing.assert_array_equal(np.load(out), np.arange(3))  # left untouched
    for flag in ("--overwrite", "--force"):
        assert main([*argv, flag]) == 0
        assert np.load(out).shape == (2, 9, 9)


def test_generate_errors(tmp_path, capsys):
    assert (
        main(["generate", str(tmp_path / "x.npy"), "--size", "27", "--coarse-to", "10"])
        == 2
    )
    assert "power of 3" in _error_line(capsys)
    assert main(["generate", str(tmp_path / "x.txt")]) == 2
    assert ".npy" in _error_line(capsys)
    assert main(["generate", str(tmp_path / "missing" / "x.npy")]) == 2
    assert "does not exist" in _error_line(capsys)
    for bad in (["--temperature", "-1"], ["--n", "0"], ["--size", "abc"]):
        with pytest.raises(SystemExit) as exc:
            main(["generate", str(tmp_path / "x.npy"), *bad])
        assert exc.value.code == 2


# ---------------------------------------------------------------------- entry points


def test_python_dash_m_and_version(capsys):
    out = subprocess.run(
        [sys.executable, "-m", "sk_rgmi", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("sk-rgmi ")
    assert main([]) == 0
    assert "reproduce" in capsys.readouterr().out


def _option(command: str, dest: str):
    """The argparse action of option ``dest`` of subcommand ``command``."""
    sub = build_parser()._subparsers._group_actions[0].choices[command]
    return next(a for a in sub._actions if a.dest == dest)


def test_generate_algorithm_choices_match_the_samplers():
    from sk_rgmi.datasets import ALGORITHMS

    assert tuple(_option("generate", "algorithm").choices) == tuple(ALGORITHMS)


def test_estimate_estimator_choices_match_the_methods():
    from sk_rgmi.auto import METHODS

    est = _option("estimate", "estimator")
    assert tuple(est.choices) == METHODS and est.default == "auto"
