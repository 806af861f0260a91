"""Intervals and reliability flags of MI estimates: one home for the rules.

An estimate that may be wrong is flagged: the flag's name goes into the
estimator's ``diagnostics_["flags"]`` and a
:class:`~sk_rgmi.exceptions.ReliabilityWarning` says why and what to do. The
flags of the neural estimators:

======================  =====================================================
``"near_bound_limit"``  the estimate is more than half of what its bound can
                        certify from the data: about ``log N`` nats for a
                        Donsker–Varadhan estimate on N pairs (McAllester &
                        Stratos, AISTATS 2020), ``log(K + 1)`` for InfoNCE with
                        K negatives. The true MI may be far larger.
``"not_converged_in_n"`` critics trained on half the data give clearly less:
                        the estimate still rises with the sample size, so the
                        full-data estimate is still biased low.
``"train_heldout_gap"`` the critics score their training rows far higher than
                        held-out rows: they memorised the sample.
``"diverged"``          training blew up and was stopped
                        (:class:`~sk_rgmi.exceptions.DivergenceWarning`).
======================  =====================================================

Numbers are in nats here; estimators convert to their ``units``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import t as student_t

from .exceptions import ReliabilityWarning

__all__ = [
    "FLAG_ADVICE",
    "Z95",
    "bound_limit",
    "flag",
    "fold_interval",
    "lower_bound_interval",
    "mean_std_err",
    "warn_flags",
]

#: the normal quantile of a two-sided 95% interval, ``norm.ppf(0.975)`` to 7 digits
Z95 = 1.959964

#: the fraction of the certifiable maximum above which an estimate is flagged
LIMIT_FRACTION = 0.5
#: a half-data estimate lower by more than this fraction of the estimate, by more
#: than N_SLOPE_NATS and by more than its noise flags the estimate as not converged
#: in N (a smaller rise is immaterial; it still widens ``mi_ci_``)
N_SLOPE_FRACTION = 0.1
N_SLOPE_NATS = 0.01
#: a training-row estimate higher by more than this (nats, plus its noise) flags
#: memorisation
GAP_NATS = 0.5

#: what to do about each flag (the warning's advice)
FLAG_ADVICE: dict[str, str] = {
    "near_bound_limit": (
        "the true MI may be far larger: no bound estimated from N samples can "
        "certify much more than log N nats. Reduce the dimension of the data or "
        "collect (many) more samples; treat the value as a lower bound."
    ),
    "not_converged_in_n": (
        "critics trained on half the data give clearly less, so the held-out "
        "value still rises with the sample size; mi_ adds the estimated remaining "
        "rise, which cannot be certified: collect more samples, and read mi_ci_ "
        "(from the held-out value to mi_) rather than mi_ alone."
    ),
    "train_heldout_gap": (
        "the critics score their training rows far higher than held-out rows "
        "(they memorised the sample): use more data, a smaller critic "
        "(hidden_size, n_layers) or fewer max_epochs."
    ),
    "diverged": (
        "training diverged and stopped early: try a smaller lr, loss='smile' or "
        "standardised inputs."
    ),
}


def mean_std_err(values: Sequence[float]) -> tuple[float, float | None]:
    """Mean and standard error of independent values (None from fewer than 2).

    Examples
    --------
    >>> from sk_rgmi.reliability import mean_std_err
    >>> mean, se = mean_std_err([0.40, 0.42, 0.38, 0.41, 0.39])
    >>> round(mean, 3), round(se, 4)
    (0.4, 0.0071)
    >>> mean_std_err([0.4])
    (0.4, None)
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size < 2:
        return float(v.mean()), None
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size))


def fold_interval(
    values: Sequence[float], level: float = 0.95
) -> tuple[float, float, float]:
    """Mean, standard error and t-quantile of independent per-fold estimates.

    The folds are disjoint and each is scored by critics that never saw it, so the
    spread of the per-fold estimates holds the evaluation noise and the training
    noise (initialisation, split, optimiser) together; Student's t with
    ``len(values) - 1`` degrees of freedom turns it into an interval.

    Examples
    --------
    >>> from sk_rgmi.reliability import fold_interval
    >>> mean, se, t = fold_interval([0.40, 0.42, 0.38, 0.41, 0.39])
    >>> round(mean, 3), round(se, 4), round(t, 2)
    (0.4, 0.0071, 2.78)
    """
    mean, se = mean_std_err(values)
    if se is None:
        raise ValueError("an interval from folds needs at least 2 folds.")
    return mean, se, float(student_t.ppf(0.5 + level / 2, len(values) - 1))


def lower_bound_interval(
    estimate: float, std_err: float, t: float, shortfall: float
) -> tuple[float, float]:
    """Interval for a held-out lower-bound estimate of MI, in the estimate's units.

    ``estimate ± t · std_err``, the upper end raised by the estimated ``shortfall``
    of the bound below the truth (never negative), both ends clipped at 0 (MI is
    never negative).

    Examples
    --------
    >>> from sk_rgmi.reliability import lower_bound_interval
    >>> [round(v, 3) for v in lower_bound_interval(0.40, 0.01, 2.0, 0.03)]
    [0.38, 0.45]
    >>> lower_bound_interval(-0.001, 0.001, 2.0, -0.5)
    (0.0, 0.001)
    """
    low = estimate - t * std_err
    high = estimate + max(shortfall, 0.0) + t * std_err
    return max(low, 0.0), max(high, 0.0)


def bound_limit(bound: str, n_pairs: int, n_negatives: int = 0) -> float:
    """What a bound can certify, in nats: ``log N`` (DV) or ``log(K + 1)`` (InfoNCE).

    Examples
    --------
    >>> from sk_rgmi.reliability import bound_limit
    >>> round(bound_limit("dv", 5000), 2), round(bound_limit("infonce", 0, 16), 2)
    (8.52, 2.83)
    """
    if bound == "infonce":
        return math.log(n_negatives + 1)
    return math.log(n_pairs)


def flag(
    *,
    estimate: float,
    limit: float,
    n_slope: float | None = None,
    n_slope_se: float | None = None,
    gap: float | None = None,
    gap_se: float | None = None,
    diverged: bool = False,
) -> list[str]:
    """The flags (see the module docstring) raised by the numbers of one fit.

    Parameters
    ----------
    estimate : float
        The held-out estimate, nats.
    limit : float
        :func:`bound_limit` for the data and bound.
    n_slope, n_slope_se : float or None
        Estimate on all the data minus the estimate of critics trained on half of
        it (same held-out rows), and its standard error.
    gap, gap_se : float or None
        Estimate on training rows minus the held-out estimate, and its standard
        error.
    diverged : bool

    Examples
    --------
    >>> from sk_rgmi.reliability import flag
    >>> flag(estimate=6.0, limit=8.5)
    ['near_bound_limit']
    >>> flag(estimate=0.5, limit=8.5, n_slope=0.01, n_slope_se=0.01)
    []
    """
    flags = []
    if estimate > LIMIT_FRACTION * limit:
        flags.append("near_bound_limit")
    if n_slope is not None:
        noise = 2.0 * (n_slope_se or 0.0)
        if n_slope > max(noise, N_SLOPE_FRACTION * abs(estimate), N_SLOPE_NATS):
            flags.append("not_converged_in_n")
    if gap is not None and gap > GAP_NATS + 2.0 * (gap_se or 0.0):
        flags.append("train_heldout_gap")
    if diverged:
        flags.append("diverged")
    return flags


def warn_flags(
    owner: str, flags: Sequence[str], details: dict[str, Any], stacklevel: int = 2
) -> None:
    """One :class:`~sk_rgmi.exceptions.ReliabilityWarning` per flag, with advice.

    ``details`` maps a flag to the numbers that raised it (a short text);
    ``stacklevel`` counts from the caller of this function, as for
    :func:`warnings.warn`. The ``"diverged"`` flag is not repeated: the training
    path has already warned with a :class:`~sk_rgmi.exceptions.DivergenceWarning`.

    Examples
    --------
    >>> import warnings
    >>> from sk_rgmi.reliability import warn_flags
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_flags("MINEEstimator", ["near_bound_limit"], {})
    >>> caught[0].category.__name__
    'ReliabilityWarning'
    """
    for name in flags:
        if name == "diverged":
            continue
        detail = details.get(name, "")
        reason = f"{name}: {detail}" if detail else name
        warnings.warn(
            f"{owner}: the estimate may be wrong ({reason}); " + FLAG_ADVICE[name],
            ReliabilityWarning,
            stacklevel=stacklevel + 1,
        )
