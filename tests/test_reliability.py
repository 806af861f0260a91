"""Tests for intervals and reliability flags (sk_rgmi.reliability) and for the
flags and intervals of MINEEstimator on constructed cases."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.stats import t as student_t

from sk_rgmi import MINEEstimator
from sk_rgmi.datasets import gaussian_pairs_mi, make_gaussian_pairs
from sk_rgmi.exceptions import ReliabilityWarning
from sk_rgmi.reliability import bound_limit, flag, fold_interval


# ----------------------------------------------------------------- the rules
def test_fold_interval_has_its_nominal_coverage() -> None:
    # 4000 sets of 5 normal "fold estimates": the t interval must cover the mean in
    # 95% of them; the binomial sd of the coverage is sqrt(.95 * .05 / 4000) = 0.0034,
    # so +-0.015 is more than 4 sd.
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(4000):
        mean, se, t = fold_interval(rng.normal(1.0, 0.3, size=5))
        covered += mean - t * se <= 1.0 <= mean + t * se
    assert abs(covered / 4000 - 0.95) < 0.015


def test_bound_limits() -> None:
    assert bound_limit("dv", 5000) == pytest.approx(math.log(5000))
    assert bound_limit("infonce", 5000, 16) == pytest.approx(math.log(17))


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        ({"estimate": 0.5, "limit": 8.5}, []),
        ({"estimate": 4.3, "limit": 8.5}, ["near_bound_limit"]),
        # a rise of 0.1 nats when the estimate is 0.5 and the noise 0.01: flagged
        (
            {"estimate": 0.5, "limit": 8.5, "n_slope": 0.1, "n_slope_se": 0.01},
            ["not_converged_in_n"],
        ),
        # the same rise within its noise: not flagged
        ({"estimate": 0.5, "limit": 8.5, "n_slope": 0.1, "n_slope_se": 0.06}, []),
        # a small rise (5% of the estimate), however certain: not flagged
        ({"estimate": 1.0, "limit": 8.5, "n_slope": 0.05, "n_slope_se": 0.001}, []),
        # near-zero MI: a certain but immaterial rise (< 0.01 nats) is not flagged
        ({"estimate": 0.001, "limit": 8.5, "n_slope": 0.004, "n_slope_se": 1e-4}, []),
        (
            {"estimate": 0.5, "limit": 8.5, "gap": 0.9, "gap_se": 0.1},
            ["train_heldout_gap"],
        ),
        ({"estimate": 0.5, "limit": 8.5, "gap": 0.3, "gap_se": 0.01}, []),
        ({"estimate": 0.5, "limit": 8.5, "diverged": True}, ["diverged"]),
    ],
)
def test_flag_rules(numbers, expected) -> None:
    assert flag(**numbers) == expected


# ------------------------------------------------------- constructed cases
def _fit(x, y, **params):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = MINEEstimator(device="cpu", random_state=0, **params).fit(x, y)
    warned = [w for w in caught if issubclass(w.category, ReliabilityWarning)]
    return est, warned


@pytest.mark.parametrize("loss", ["mine", "infonce"])
def test_very_high_mi_is_flagged(loss) -> None:
    # rho = 0.9999 in 5 + 5 dims: 21.3 nats, far beyond what 2000 samples certify
    # (log 2000 = 7.6 nats). The estimate is low by an unknown amount; it must be
    # flagged, and warned.
    truth = gaussian_pairs_mi(0.9999, 5)
    x, y = make_gaussian_pairs(2000, 5, mi=truth, random_state=1)
    est, warned = _fit(x, y, loss=loss, max_epochs=20)
    assert est.diagnostics_["flags"], est.diagnostics_
    assert warned and "may be wrong" in str(warned[0].message)
    assert est.mi_ < truth / 2  # far below the truth: why the flag is needed


def test_identical_variables_are_flagged() -> None:
    # X = y: infinite MI; any finite number must come with a flag.
    x = np.random.default_rng(2).normal(size=(2000, 3))
    est, warned = _fit(x, x.copy(), max_epochs=20)
    assert est.diagnostics_["flags"] and warned


@pytest.mark.parametrize(("case", "true"), [("independent", 0.0), ("2+2", 0.5)])
def test_good_fits_are_not_flagged_and_covered(case, true) -> None:
    # 5000 samples of independent Gaussians and of 2+2-D Gaussians with 0.5 nats,
    # defaults: no flag, the 95% interval contains the truth, and the averaged
    # critic scores fresh data near the truth. Measured over 12 seeds of data and
    # model each: no flag in 24 fits; intervals covered 11/12 (independent) and
    # 12/12 (2+2); score error on 5000 fresh pairs -0.0005 ± 0.0005 (independent)
    # and -0.0043 ± 0.0101 (2+2) (mean ± sd): bounds below are mean ± 5 sd.
    bounds = {"independent": (-0.003, 0.002), "2+2": (-0.055, 0.046)}[case]
    for seed in range(1 if case == "independent" else 2):
        rng = np.random.default_rng(50 + seed)
        if case == "independent":
            x, y = rng.normal(size=(5000, 2)), rng.normal(size=(5000, 2))
            xt, yt = rng.normal(size=(5000, 2)), rng.normal(size=(5000, 2))
        else:
            x, y = make_gaussian_pairs(5000, 2, mi=0.5, random_state=60 + seed)
            xt, yt = make_gaussian_pairs(5000, 2, mi=0.5, random_state=70 + seed)
        est, warned = _fit(x, y)
        low, high = est.mi_ci_
        assert est.diagnostics_["flags"] == [] and not warned, est.diagnostics_
        assert bounds[0] < est.score(xt, yt) - true < bounds[1]
        assert low <= true <= high, (seed, est.mi_ci_)
        # mi_std_ is the interval's standard error: low = held-out - t(0.975, 4)
        # mi_std_, high = mi_ + t mi_std_ (clipped at 0: MI is never negative)
        t = student_t.ppf(0.975, 4)
        heldout = est.diagnostics_["heldout_mi"]
        assert low == pytest.approx(max(heldout - t * est.mi_std_, 0.0), abs=1e-12)
        assert high == pytest.approx(max(est.mi_ + t * est.mi_std_, 0.0), abs=1e-12)
        assert est.mi_ == pytest.approx(heldout + est.diagnostics_["shortfall"])
