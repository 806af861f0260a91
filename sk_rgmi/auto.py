"""Which MI estimator for which data: the one rule, and a one-call helper.

:func:`choose_estimator` decides between the three estimators from the data alone;
:func:`mutual_info` applies the decision (or a requested estimator), fits it and
returns the value with its 95% interval, the estimator it used and why, and any
reliability flags. ``sk-rgmi estimate`` (``--estimator auto``, the default) uses
both. The measurements behind the rule are on the documentation page "Which
estimator when".
"""

from __future__ import annotations

import importlib
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from ._counting import as_integral, encode_rows
from ._validation import check_units, validate_pair
from .exceptions import (
    BinningWarning,
    DivergenceWarning,
    ReliabilityWarning,
    TiedValuesWarning,
    UndersampledWarning,
)
from .plugin import _WARN_SAMPLES_PER_STATE, _is_continuous_auto
from .reliability import FLAG_ADVICE, Z95

__all__ = ["KSG_MAX_DIMS", "METHODS", "MIResult", "choose_estimator", "mutual_info"]

#: the values of ``method``
METHODS = ("auto", "plugin", "ksg", "mine")

#: Continuous data with at most this many columns in all (X's plus y's) go to KSG,
#: more to MINE. Measured on the Beyond Normal tasks (5,000 samples; docs: "Which
#: estimator when"): from 5 columns on MINEEstimator is closer to the truth than
#: KSGEstimator significantly more often (sign test p < 0.001 at 5, 6, 8, 10 and
#: 50); up to 4 the two are not significantly different and KSG is about 100
#: times faster.
KSG_MAX_DIMS = 4

# estimator per method: (module, class)
_CLASSES = {
    "plugin": ("sk_rgmi.plugin", "PluginMIEstimator"),
    "ksg": ("sk_rgmi.knn", "KSGEstimator"),
    "mine": ("sk_rgmi.mine", "MINEEstimator"),
}
# where each method's 95% interval comes from (printed with the result)
_INTERVALS = {
    "plugin": "normal interval, ± 1.96 jackknife standard errors",
    "ksg": "Student t over random subsets; sampling noise, not KSG's bias",
    "mine": "Student t over the cross-fitted folds, from the held-out lower bound "
    "to the estimate (held-out value plus its estimated shortfall)",
}
# flag name of each warning class that names one problem
_WARNING_FLAGS = {
    UndersampledWarning: "undersampled",
    BinningWarning: "binned_continuous",
    TiedValuesWarning: "tied_values",
    DivergenceWarning: "diverged",
}


class _Inputs(BaseEstimator):
    """Stand-in estimator through which :func:`choose_estimator` validates (X, y)
    with the shared validator; any dtype, strings included, as the plug-in."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.string = True
        return tags


# error messages of the shared validator name the caller
_Inputs.__name__ = _Inputs.__qualname__ = "mutual_info"


def _as_2d(A: Any) -> Any:
    """A 1-D array-like as one column (one variable); anything else unchanged."""
    if getattr(A, "ndim", None) == 1 or (
        isinstance(A, list | tuple) and np.ndim(A) == 1
    ):
        return np.asarray(A).reshape(-1, 1)
    return A


def _column_kinds(A: np.ndarray) -> list[str]:
    """Per column: ``"text"`` (not numbers), ``"discrete"`` or ``"continuous"``.

    Discrete is what :class:`~sk_rgmi.PluginMIEstimator` counts as it is with
    ``n_bins="auto"``: integer-valued columns (ints, bools, 0./1. spins), and
    floats with at most ``sqrt(N)`` distinct values (e.g. block means).
    """
    kinds = []
    for j in range(A.shape[1]):
        col = A[:, j]
        if col.dtype.kind == "O":
            try:
                col = col.astype(np.float64)
            except (TypeError, ValueError):
                kinds.append("text")
                continue
        if col.dtype.kind not in "biuf":
            kinds.append("text")
        elif as_integral(col) is not None or not _is_continuous_auto(col, len(col)):
            kinds.append("discrete")
        else:
            kinds.append("continuous")
    return kinds


def choose_estimator(X: Any, y: Any) -> tuple[str, str]:
    """The estimator ``method="auto"`` uses for (X, y), and why.

    The rule, in order:

    1. **Discrete data, enough samples → plugin.** Every column of X and y is
       discrete -- integer-valued (0/1 spins, counts, labels, bools), text, or
       floats with at most ``sqrt(N)`` distinct values (block means), i.e. what
       :class:`~sk_rgmi.PluginMIEstimator` counts without binning -- and there are
       at least 5 samples per possible joint state, ``N >= 5 K_x K_y`` with
       ``K_x``, ``K_y`` the distinct rows of X and y: the plug-in's own limit,
       below which it warns with :class:`~sk_rgmi.exceptions.UndersampledWarning`.
       Text columns always go to the plug-in, the only estimator that takes them.
    2. **Otherwise the data are treated as continuous**: continuous data, mixed
       discrete and continuous columns, and integer data with too many states to
       count (:class:`~sk_rgmi.KSGEstimator` then warns about the ties; a discrete
       column beside continuous ones is fine for it when its levels are well
       separated). With ``d_x + d_y <= KSG_MAX_DIMS`` (4) columns in all → ksg,
       else → mine. The crossover is measured, not guessed: on the Beyond Normal
       tasks (5,000 samples) MINE is significantly more accurate from 5
       dimensions in all; up to 4 the two are within noise of each other on most
       tasks and KSG is about 100 times faster (docs page "Which estimator
       when").

    Parameters
    ----------
    X : array-like of shape (n_samples,) or (n_samples, n_features_x)
        First variable; a 1-D array is one column.
    y : array-like of shape (n_samples,) or (n_samples, n_features_y)
        Second variable.

    Returns
    -------
    name : {"plugin", "ksg", "mine"}
        The estimator for :func:`mutual_info`'s ``method``.
    reason : str
        Why, in words, with the numbers the rule used.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.auto import choose_estimator
    >>> rng = np.random.default_rng(0)
    >>> spins = rng.integers(0, 2, size=(5000, 4))          # 2x2 blocks of spins
    >>> choose_estimator(spins, spins[:, ::-1])[0]
    'plugin'
    >>> choose_estimator(rng.normal(size=(5000, 2)), rng.normal(size=(5000, 2)))
    ('ksg', 'continuous data, 2 + 2 = 4 columns (KSG up to 4)')
    >>> choose_estimator(rng.normal(size=(5000, 10)), rng.normal(size=(5000, 10)))[0]
    'mine'
    """
    X, Y = validate_pair(_Inputs(), _as_2d(X), _as_2d(y), dtype=None)
    n, d_x, d_y = len(X), X.shape[1], Y.shape[1]
    kinds = _column_kinds(X) + _column_kinds(Y)
    how = "continuous data"
    if "continuous" not in kinds:
        k_x, k_y = encode_rows(X)[1], encode_rows(Y)[1]
        per_state = n / (k_x * k_y)
        states = (
            f"{k_x} x {k_y} states of X and y for N = {n}: "
            f"{_format_count(per_state)} samples per joint state"
        )
        if per_state >= _WARN_SAMPLES_PER_STATE:
            return "plugin", f"discrete data, {states} (counting needs >= 5)"
        if "text" in kinds:
            return "plugin", f"text columns, which only counting takes ({states})"
        how = f"discrete, but {states}, too few to count; treated as continuous"
    elif "text" in kinds:
        return "plugin", (
            "text columns, which only counting takes (continuous columns binned)"
        )
    elif "discrete" in kinds:
        how = "mixed discrete and continuous columns, treated as continuous"
    d = d_x + d_y
    dims = f"{d_x} + {d_y} = {d} columns"
    if d <= KSG_MAX_DIMS:
        return "ksg", f"{how}, {dims} (KSG up to {KSG_MAX_DIMS})"
    return "mine", f"{how}, {dims} (KSG only up to {KSG_MAX_DIMS})"


def _format_count(value: float) -> str:
    """A samples-per-state ratio for a reason: 2 significant digits below 10."""
    return f"{value:.2g}" if value < 10 else f"{value:,.0f}"


@dataclass(frozen=True)
class MIResult:
    """What :func:`mutual_info` returns: the MI, its interval and how it was found.

    ``str(result)`` is the summary that ``sk-rgmi estimate`` prints.

    Attributes
    ----------
    value : float
        The estimate (the estimator's ``mi_``), in ``units``.
    interval : tuple of two floats
        95% interval, in ``units``: the estimator's ``mi_ci_`` (KSG, MINE), or
        ``value ± 1.96 std`` for the plug-in (normal approximation to its
        jackknife standard error).
    std : float
        Standard error (the estimator's ``mi_std_``), in ``units``.
    method : {"plugin", "ksg", "mine"}
        The estimator used.
    reason : str
        Why it was used (``"requested"`` when ``method`` was given).
    flags : tuple of str
        Reliability flags: ``diagnostics_["flags"]`` of MINE (see
        :mod:`sk_rgmi.reliability`) and one name per reliability warning of the
        fit: ``"undersampled"``, ``"binned_continuous"``, ``"tied_values"``,
        ``"diverged"``, and for KSG ``"not_converged_in_n"`` or ``"no_interval"``.
    messages : tuple of str
        What each flag means and what to do, one per flag (the warning's text).
    estimator : estimator object
        The fitted estimator.
    n_samples : int
        Number of samples (pairs) it was fitted on.
    units : {"nats", "bits"}
    """

    value: float
    interval: tuple[float, float]
    std: float
    method: str
    reason: str
    flags: tuple[str, ...]
    messages: tuple[str, ...] = field(repr=False)
    estimator: Any = field(repr=False)
    n_samples: int = 0
    units: str = "nats"

    def describe(self) -> str:
        """The estimator and its main settings, e.g. ``"KSG, k=3"``."""
        est = self.estimator
        if self.method == "plugin":
            return f"plug-in, {est.correction} correction"
        if self.method == "ksg":
            return f"KSG, k={est.n_neighbors}"
        critics = "critic" if est.n_critics == 1 else "critics"
        return f"MINE, {est.n_folds} folds x {est.n_critics} {critics}"

    def __str__(self) -> str:
        low, high = self.interval
        lines = [
            f"MI = {self.value:.4f} ± {self.std:.4f} {self.units}, 95% interval "
            f"[{low:.4f}, {high:.4f}], N = {self.n_samples}",
            f"  estimator: {self.describe()} -- {self.reason}",
            f"  interval: {_INTERVALS[self.method]}",
        ]
        lines += [
            f"  flag {f}: {m}" for f, m in zip(self.flags, self.messages, strict=True)
        ]
        return "\n".join(lines)


def _check_method(method: Any) -> str:
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(
            f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}."
        )
    return method


def _estimator_class(name: str) -> type:
    module, cls = _CLASSES[name]
    return getattr(importlib.import_module(module), cls)


def _split_params(name: str, params: dict[str, Any], auto: bool) -> dict[str, Any]:
    """The keyword parameters of ``params`` that estimator ``name`` takes.

    With ``auto``, parameters of the other estimators are dropped (they were meant
    for the estimator the rule did not choose); a parameter no estimator takes, or
    one the requested estimator does not take, raises ``TypeError``.
    """
    if not params:
        return {}
    valid = set(_estimator_class(name)().get_params())
    mine = {k: v for k, v in params.items() if k in valid}
    rest = set(params) - set(mine)
    if rest and auto:
        others = set()
        for other in set(_CLASSES) - {name}:
            others |= set(_estimator_class(other)().get_params())
        rest -= others
    if rest and auto:
        raise TypeError(
            f"unknown parameter(s) {sorted(rest)}: none of "
            f"{', '.join(cls for _, cls in _CLASSES.values())} takes them."
        )
    if rest:
        raise TypeError(
            f"unknown parameter(s) {sorted(rest)} for {_CLASSES[name][1]}, which "
            f"takes {sorted(valid)}."
        )
    return mine


def _flags(est: Any, caught: list[warnings.WarningMessage]) -> list[tuple[str, str]]:
    """(flag, message) pairs from the estimator's diagnostics and the warnings of
    its fit (sk_rgmi reliability warnings only)."""
    out: dict[str, str] = {}
    diagnostics = getattr(est, "diagnostics_", None)
    diag_flags = list(diagnostics["flags"]) if diagnostics else []
    for w in caught:
        if not issubclass(w.category, ReliabilityWarning):
            continue
        msg = " ".join(str(w.message).split())
        name = _WARNING_FLAGS.get(w.category)
        if name is None and diagnostics is not None:
            name = next((f for f in diag_flags if f in msg), "unreliable")
        elif name is None:  # KSGEstimator's two plain reliability warnings
            finite = math.isfinite(getattr(est, "mi_std_", math.nan))
            name = "not_converged_in_n" if finite else "no_interval"
        out.setdefault(name, msg)
    for f in diag_flags:
        out.setdefault(f, FLAG_ADVICE.get(f, f))
    return list(out.items())


def _fit(
    X: Any,
    y: Any,
    method: str,
    reason: str,
    *,
    units: str,
    random_state: Any,
    params: dict[str, Any],
    auto: bool = False,
) -> MIResult:
    """Fit estimator ``method`` on (X, y) and collect its result and flags.

    The reliability warnings of the fit are recorded into the result and then
    issued again for the caller (any other warning passes through unchanged).
    """
    kwargs = _split_params(method, params, auto)
    kwargs["units"] = units
    if method != "plugin":
        kwargs.setdefault("random_state", random_state)
    est = _estimator_class(method)(**kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    for w in caught:  # again, for the caller of mutual_info
        warnings.warn(w.message, stacklevel=3)
    flags = _flags(est, caught)
    value, std = float(est.mi_), float(est.mi_std_)
    if method == "plugin":
        interval = (value - Z95 * std, value + Z95 * std)
    else:
        interval = tuple(float(v) for v in est.mi_ci_)
    return MIResult(
        value=value,
        interval=interval,
        std=std,
        method=method,
        reason=reason,
        flags=tuple(f for f, _ in flags),
        messages=tuple(m for _, m in flags),
        estimator=est,
        n_samples=len(X),
        units=units,
    )


def mutual_info(
    X: Any,
    y: Any,
    *,
    method: str = "auto",
    units: str = "nats",
    random_state: Any = None,
    **params: Any,
) -> MIResult:
    """Mutual information I(X; y) in one call: value, 95% interval and estimator.

    With ``method="auto"`` the estimator is chosen from the data by
    :func:`choose_estimator` -- :class:`~sk_rgmi.PluginMIEstimator` for discrete
    data with enough samples per state, :class:`~sk_rgmi.KSGEstimator` for
    continuous data in up to 4 dimensions in all, :class:`~sk_rgmi.MINEEstimator`
    beyond -- then fitted with its defaults (plus ``params``) on all the data.
    This is the notebook shortcut of the estimators themselves (not to be confused
    with :func:`sk_rgmi.nn.estimate_mi`, which evaluates a trained critic).

    MI is in nats unless ``units="bits"``.

    Parameters
    ----------
    X : array-like of shape (n_samples,) or (n_samples, n_features_x)
        First variable, one sample per row; a 1-D array is one column.
    y : array-like of shape (n_samples,) or (n_samples, n_features_y)
        Second variable.
    method : {"auto", "plugin", "ksg", "mine"}, default="auto"
        The estimator, or ``"auto"`` to let :func:`choose_estimator` pick it.
    units : {"nats", "bits"}, default="nats"
    random_state : int, RandomState instance or None, default=None
        Passed to KSG (jitter, subsets) and MINE (everything random); the
        plug-in is deterministic.
    **params
        Further parameters of the estimator, e.g. ``n_neighbors=5`` (KSG) or
        ``max_epochs=100, device="cpu"`` (MINE). With ``method="auto"``,
        parameters of the estimators not chosen are ignored, so one call can
        carry settings for each; a name no estimator takes raises ``TypeError``.

    Returns
    -------
    result : MIResult
        ``value``, ``interval`` (95%), ``std``, ``method`` (the estimator used),
        ``reason`` (why), ``flags`` and their ``messages``, the fitted
        ``estimator`` and ``units``. ``print(result)`` summarises it all.

    Raises
    ------
    ValueError
        For an unknown ``method`` or ``units``, and for bad data (NaN, mismatched
        lengths, ...), as the estimators do.
    TypeError
        For a parameter the estimator does not take.

    Warns
    -----
    ReliabilityWarning
        The estimator's own warnings (undersampled counts, binned continuous data,
        tied values, an unconverged or bound-limited estimate), also listed in
        ``result.flags``.

    See Also
    --------
    choose_estimator : the rule behind ``method="auto"``.

    Examples
    --------
    Two 2-D Gaussians with two correlated pairs (rho = 0.8): I = -ln(1 - 0.64) =
    1.022 nats. Continuous data in 2 + 2 dimensions go to KSG:

    >>> import numpy as np
    >>> from sk_rgmi import mutual_info
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((5000, 2))
    >>> Y = 0.8 * X + 0.6 * rng.standard_normal((5000, 2))
    >>> res = mutual_info(X, Y, random_state=0)
    >>> res.method, round(res.value, 2)
    ('ksg', 1.03)
    >>> low, high = res.interval
    >>> print(res)  # doctest: +ELLIPSIS
    MI = 1.0272 ± 0.0278 nats, 95% interval [0.9643, 1.0901], N = 5000
      estimator: KSG, k=3 -- continuous data, 2 + 2 = 4 columns (KSG up to 4)
      interval: Student t over random subsets; sampling noise, not KSG's bias

    A binary symmetric channel (flip probability 0.1, MI = ln 2 - H(0.1) = 0.368
    nats = 0.531 bits) is discrete, so it is counted:

    >>> x = rng.integers(0, 2, size=20_000)
    >>> y = x ^ (rng.random(20_000) < 0.1)
    >>> res = mutual_info(x, y, units="bits")
    >>> res.method, round(res.value, 2), res.flags
    ('plugin', 0.52, ())
    >>> low, high = res.interval
    >>> bool(low < 0.531 < high)
    True
    """
    _check_method(method)
    check_units(units)
    X, y = _as_2d(X), _as_2d(y)
    if method == "auto":
        name, reason = choose_estimator(X, y)
    else:
        name, reason = method, "requested"
    return _fit(
        X,
        y,
        name,
        reason,
        units=units,
        random_state=random_state,
        params=params,
        auto=method == "auto",
    )
