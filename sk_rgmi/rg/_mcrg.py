"""Monte Carlo RG matching: the critical point and ν from coarse-grained lattices.

Swendsen's matching (Phys. Rev. Lett. 42, 859 (1979)) in its finite-size form: a
lattice of side ``L`` coarse-grained ``n + 1`` times and one of side ``L / b``
coarse-grained ``n`` times end at the same size. Near the fixed point an observable
of the two coarse lattices is the same function of the renormalised coupling, so
their curves against temperature cross at ``T_c`` and the ratio of their slopes
there is ``dK'/dK = b^(1/ν)``. Successive steps of *one* lattice do not give ν:
they all depend on the same scaling variable ``t L^(1/ν)``.

Here the observable is the Binder cumulant ``U4 = 1 - <m⁴>/(3<m²>²)`` (or the mean
of any per-configuration quantity, such as the nearest-neighbour correlation); each
curve is fitted by a low-order weighted polynomial in ``T``, the crossing and slopes
are read from the fits, and intervals come from a bootstrap over independent
Markov chains (configurations of one chain are correlated).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from .._random import generator
from ..datasets._checks import _as_pm1, _check_int, _check_lattices
from ..exceptions import ReliabilityWarning

__all__ = [
    "binder_cumulant",
    "find_crossing",
    "lattice_observables",
    "mcrg_matching",
]

_STATISTICS = ("binder", "mean")
_GRID = 2001  # points of the crossing search inside the (padded) window


def lattice_observables(lattices: Any) -> Bunch:
    """Magnetisation and nearest-neighbour correlation of every lattice.

    Spins count as ±1 whatever their encoding; bonds are periodic.

    Parameters
    ----------
    lattices : array-like of shape (n, H, W) or (H, W)
        Binary spins, 0/1 or ±1.

    Returns
    -------
    observables : Bunch
        ``magnetization``: ``(1/N) sum_i s_i``; ``nn_correlation``: the mean of
        ``s_i s_j`` over the ``2N`` nearest-neighbour bonds (``-energy`` per bond);
        arrays of shape ``(n,)``, float64.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.rg import lattice_observables
    >>> x = np.ones((2, 4, 4), dtype=int)
    >>> x[1, :, ::2] = 0                       # stripes: every horizontal bond broken
    >>> obs = lattice_observables(x)
    >>> obs.magnetization.tolist(), obs.nn_correlation.tolist()
    ([1.0, 0.0], [1.0, 0.0])
    """
    s = _as_pm1(*_check_lattices(lattices, allow_2d=True))
    m = s.mean(axis=(1, 2), dtype=np.float64)
    right = (s * np.roll(s, -1, axis=2)).mean(axis=(1, 2), dtype=np.float64)
    down = (s * np.roll(s, -1, axis=1)).mean(axis=(1, 2), dtype=np.float64)
    return Bunch(magnetization=m, nn_correlation=(right + down) / 2)


def binder_cumulant(magnetization: Any, axis: int = -1) -> np.ndarray | float:
    """Binder cumulant ``U4 = 1 - <m⁴> / (3 <m²>²)`` of magnetisation samples.

    2/3 in an ordered phase, 0 for Gaussian fluctuations (high temperature), about
    0.6107 at the 2D Ising critical point on periodic squares (Salas & Sokal, J.
    Stat. Phys. 98, 551 (2000)).

    Parameters
    ----------
    magnetization : array-like
        Magnetisation per spin of each configuration.
    axis : int, default=-1
        Axis over configurations.

    Returns
    -------
    float or ndarray
        ``U4`` (an array when ``magnetization`` has more than one dimension).

    Examples
    --------
    >>> from sk_rgmi.rg import binder_cumulant
    >>> round(binder_cumulant([0.5, -0.5, 0.5]), 6)   # two-peaked: ordered
    0.666667
    """
    m = np.asarray(magnetization, dtype=np.float64)
    if m.size == 0:
        raise ValueError("magnetization is empty.")
    u = _u4(np.mean(m**2, axis=axis), np.mean(m**4, axis=axis))
    return float(u) if np.ndim(u) == 0 else u


def _u4(m2: Any, m4: Any) -> Any:
    """``1 - <m⁴> / (3 <m²>²)`` from the moments (NaN where ``<m²> = 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 - m4 / (3.0 * m2**2)


# --------------------------------------------------------------------- crossings
def _fit_polynomials(
    u: np.ndarray, y: np.ndarray, sigma: np.ndarray | None, degree: int
) -> np.ndarray:
    """Weighted least-squares coefficients (lowest order first) for every column."""
    A = u[:, None] ** np.arange(degree + 1)
    if sigma is None:
        sw = np.ones_like(u)
    else:
        s = np.asarray(sigma, dtype=np.float64)
        if s.shape != u.shape or not (np.isfinite(s).all() and (s > 0).all()):
            raise ValueError(
                f"sigma must hold one positive finite error per point ({u.size}), "
                f"got {s!r}."
            )
        sw = s.min() / s  # square roots of the weights, scaled to at most 1
    coef, *_ = np.linalg.lstsq(A * sw[:, None], y * sw[:, None], rcond=None)
    return coef  # (degree + 1, n_curves)


def _poly(c: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Evaluate lowest-first coefficients ``c`` (d+1, B) at ``u`` (..., B)."""
    out = np.zeros(np.broadcast_shapes(u.shape, c.shape[1:]))
    for ck in c[::-1]:
        out = out * u + ck
    return out


def _dpoly(c: np.ndarray, u: np.ndarray) -> np.ndarray:
    d = c.shape[0] - 1
    if d == 0:
        return np.zeros(np.broadcast_shapes(u.shape, c.shape[1:]))
    return _poly(c[1:] * np.arange(1, d + 1)[:, None], u)


def find_crossing(
    x: Any,
    y_a: Any,
    y_b: Any,
    *,
    x_b: Any = None,
    degree: int = 2,
    sigma_a: Any = None,
    sigma_b: Any = None,
) -> Bunch:
    """Where two sampled curves cross, and their slopes there.

    Each curve is fitted by a weighted least-squares polynomial of ``degree`` in
    ``x``; the crossing is the root of their difference nearest the middle of the
    range of ``x`` (searched on that range padded by a quarter on each side, then
    refined by Newton steps). Columns of ``y_a`` / ``y_b`` are fitted and solved
    independently (vectorised), e.g. bootstrap replicates.

    Parameters
    ----------
    x : array-like of shape (n_points,)
        Abscissae of curve ``a`` (and of ``b`` unless ``x_b`` is given), at least
        ``degree + 1`` distinct values; the crossing is searched around them.
    y_a, y_b : array-like of shape (n_points,) or (n_points, n_curves)
        The two curves (``y_b`` of shape ``(len(x_b), ...)`` with ``x_b``).
    x_b : array-like of shape (n_points_b,), default=None
        Abscissae of curve ``b`` when they differ from ``x``, e.g. a wider window
        for a smaller lattice whose curve is flatter.
    degree : int, default=2
        Polynomial degree (1: straight lines).
    sigma_a, sigma_b : array-like of shape (n_points,), default=None
        Standard errors of the points (weights ``1/sigma²``); None: equal weights.

    Returns
    -------
    crossing : Bunch
        ``x``, ``y`` (the crossing), ``slope_a``, ``slope_b`` (derivatives of the
        fits there): floats for 1-D input, arrays of shape ``(n_curves,)``
        otherwise; NaN where the fits do not cross in the padded range.
        ``coef_a``, ``coef_b``: polynomial coefficients, lowest order first, in
        the variable ``(x - center) / scale``, with ``center`` and ``scale``.

    Examples
    --------
    Two straight lines through (2.0, 0.5) with slopes -3 and -1:

    >>> import numpy as np
    >>> from sk_rgmi.rg import find_crossing
    >>> t = np.linspace(1.9, 2.1, 5)
    >>> c = find_crossing(t, 0.5 - 3 * (t - 2.0), 0.5 - (t - 2.0), degree=1)
    >>> round(c.x, 6), round(c.y, 6), round(c.slope_a / c.slope_b, 6)
    (2.0, 0.5, 3.0)
    """
    degree = _check_int(degree, "degree", minimum=1)
    x = np.asarray(x, dtype=np.float64)
    xb = x if x_b is None else np.asarray(x_b, dtype=np.float64)
    ya, yb = np.asarray(y_a, dtype=np.float64), np.asarray(y_b, dtype=np.float64)
    squeeze = ya.ndim == 1 and yb.ndim == 1
    ya, yb = np.atleast_1d(ya), np.atleast_1d(yb)
    ya = ya[:, None] if ya.ndim == 1 else ya
    yb = yb[:, None] if yb.ndim == 1 else yb
    if x.ndim != 1 or xb.ndim != 1 or ya.shape[0] != x.size or yb.shape[0] != xb.size:
        raise ValueError(
            f"x (and x_b) must be 1-D and y_a, y_b have one row per abscissa; got x "
            f"{x.shape}, x_b {xb.shape}, y_a {ya.shape}, y_b {yb.shape}."
        )
    for name, xs in (("x", x), ("x_b", xb)):
        if np.unique(xs).size < degree + 1:
            raise ValueError(
                f"a degree-{degree} fit needs at least {degree + 1} distinct {name} "
                f"values, got {np.unique(xs).size}."
            )
    finite = [np.isfinite(a).all() for a in (x, xb, ya, yb)]
    if not all(finite):
        raise ValueError("x, x_b, y_a and y_b must be finite.")
    n_curves = max(ya.shape[1], yb.shape[1])
    ya = np.broadcast_to(ya, (x.size, n_curves))
    yb = np.broadcast_to(yb, (xb.size, n_curves))
    # one variable for both fits, normalised on x's range (the search window)
    center = 0.5 * (x.min() + x.max())
    scale = 0.5 * (x.max() - x.min())
    sa = None if sigma_a is None else np.asarray(sigma_a, dtype=np.float64)
    sb = None if sigma_b is None else np.asarray(sigma_b, dtype=np.float64)
    ca = _fit_polynomials((x - center) / scale, ya, sa, degree)
    cb = _fit_polynomials((xb - center) / scale, yb, sb, degree)
    diff = ca - cb
    grid = np.linspace(-1.25, 1.25, _GRID)
    values = _poly(diff, grid[:, None])  # (grid, n_curves)
    change = np.signbit(values[:-1]) != np.signbit(values[1:])
    # the sign change nearest the middle of the sampled range
    dist = np.where(change, np.abs(0.5 * (grid[:-1] + grid[1:]))[:, None], np.inf)
    idx = np.argmin(dist, axis=0)
    found = np.isfinite(dist[idx, np.arange(n_curves)])
    lo, hi = grid[idx], grid[idx + 1]
    root = 0.5 * (lo + hi)
    for _ in range(20):  # Newton, kept inside the bracket
        d = _dpoly(diff, root)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = _poly(diff, root) / d
        new = np.where(np.isfinite(step), root - step, root)
        root = np.clip(new, lo, hi)
    root = np.where(found, root, np.nan)
    out = Bunch(
        x=center + scale * root,
        y=0.5 * (_poly(ca, root) + _poly(cb, root)),
        slope_a=_dpoly(ca, root) / scale,
        slope_b=_dpoly(cb, root) / scale,
        coef_a=ca,
        coef_b=cb,
        center=center,
        scale=scale,
    )
    if squeeze:
        for key in ("x", "y", "slope_a", "slope_b"):
            out[key] = float(out[key][0])
        out.coef_a, out.coef_b = ca[:, 0], cb[:, 0]
    return out


# ------------------------------------------------------------------ the matching
def _group_sums(
    values: np.ndarray, groups: np.ndarray | None, statistic: str
) -> np.ndarray:
    """Per-group ``[count, sum v², sum v⁴]`` (binder) or ``[count, sum v]`` (mean)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size < 2:
        raise ValueError("every temperature needs at least two configurations.")
    if not np.isfinite(v).all():
        raise ValueError("values must be finite.")
    if groups is None:
        codes = np.arange(v.size)
    else:
        g = np.asarray(groups).ravel()
        if g.shape != v.shape:
            raise ValueError(
                f"groups have shape {g.shape}, their values {v.shape}: one group "
                "label per configuration."
            )
        _, codes = np.unique(g, return_inverse=True)
    n_groups = int(codes.max()) + 1
    cols = (
        [np.ones_like(v), v**2, v**4] if statistic == "binder" else [np.ones_like(v), v]
    )
    return np.stack([np.bincount(codes, c, minlength=n_groups) for c in cols], axis=1)


def _statistic(sums: np.ndarray, statistic: str) -> np.ndarray:
    """The statistic from (..., k) column sums."""
    n = sums[..., 0]
    if statistic == "mean":
        return sums[..., 1] / n
    return _u4(sums[..., 1] / n, sums[..., 2] / n)


def _curve(
    values: Sequence[Any],
    groups: Sequence[Any] | None,
    statistic: str,
    n_bootstrap: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """The statistic at every temperature and its bootstrap replicates (n_T, B)."""
    full, boot = [], []
    for k, v in enumerate(values):
        sums = _group_sums(v, None if groups is None else groups[k], statistic)
        n_groups = sums.shape[0]
        if n_groups < 2:
            raise ValueError(
                "every temperature needs at least two independent groups (chains) "
                "for a bootstrap interval."
            )
        w = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), n_bootstrap)
        full.append(_statistic(sums.sum(axis=0), statistic))
        boot.append(_statistic(w @ sums, statistic))
    return np.array(full), np.array(boot)


def _interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    ok = samples[np.isfinite(samples)]
    if ok.size == 0:
        return math.nan, math.nan
    q = 50 * (1 - confidence)
    lo, hi = np.percentile(ok, [q, 100 - q])
    return float(lo), float(hi)


def _fitted(crossing: Bunch, curve: str, x: np.ndarray) -> np.ndarray:
    """The fitted polynomial of ``curve`` ("a" or "b") of a 1-D crossing at ``x``."""
    coef = crossing[f"coef_{curve}"][:, None]
    return _poly(coef, ((x - crossing.center) / crossing.scale)[:, None])[:, 0]


def _slope_ratio(slope_a: Any, slope_b: Any) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(slope_a, dtype=np.float64) / slope_b


def _nu(ratio: np.ndarray, factor: int) -> np.ndarray:
    """``ν = ln b / ln(ratio)`` where the slope ratio exceeds 1, else NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        nu = math.log(factor) / np.log(ratio)
    return np.where((ratio > 1) & np.isfinite(nu), nu, np.nan)


def mcrg_matching(
    temperatures: Any,
    large: Sequence[Any],
    small: Sequence[Any],
    *,
    factor: int,
    temperatures_small: Any = None,
    groups_large: Sequence[Any] | None = None,
    groups_small: Sequence[Any] | None = None,
    statistic: str = "binder",
    degree: int = 2,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    random_state: Any = None,
) -> Bunch:
    """Critical temperature and ν from two matched coarse-grained lattice sizes.

    ``large[k]`` holds a per-configuration quantity at ``temperatures[k]`` of
    lattices of side ``L`` coarse-grained ``n + 1`` times, ``small[k]`` the same
    for side ``L / factor`` coarse-grained ``n`` times (same coarse size). The
    statistic of each set -- the Binder cumulant of magnetisations, or the mean,
    e.g. of nearest-neighbour correlations -- is fitted against temperature
    (:func:`find_crossing`, weights from the bootstrap errors); the curves cross
    at ``T_c`` and ``nu = ln(factor) / ln(slope_large / slope_small)``.

    The temperature window must shrink like ``1/L``: the fits assume smooth, nearly
    polynomial curves (about ±0.006 around T_c for L = 243, ±0.02 for L = 81 in
    the 2D Ising model). The smaller lattice's curve is ``b^(1/ν)`` times flatter;
    sampling it over a window ``b`` times wider (``temperatures_small``) spans the
    same range of the scaling variable ``t L^(1/ν)`` and measures its slope about
    as precisely as the larger lattice's.

    Parameters
    ----------
    temperatures : array-like of shape (n_T,)
        Temperatures of ``large``: at least ``degree + 1`` distinct values, around
        the crossing (which is searched in their range, padded by a quarter).
    large, small : sequence of array-likes
        Per-configuration values (magnetisations per spin for ``"binder"``), one
        array per temperature.
    factor : int
        Block factor ``b`` of one RG step (>= 2).
    temperatures_small : array-like of shape (n_T_small,), default=None
        Temperatures of ``small`` when they differ from ``temperatures``.
    groups_large, groups_small : sequence of n_T array-likes, default=None
        Independent-group label (e.g. the Markov chain) of every configuration;
        the bootstrap resamples whole groups. None: configurations are independent.
    statistic : {"binder", "mean"}, default="binder"
    degree : int, default=2
        Degree of the polynomial fits.
    n_bootstrap : int, default=1000
        Bootstrap replicates (each resamples the groups of every set).
    confidence : float, default=0.95
        Level of the percentile intervals.
    random_state : None, int, sequence of int or SeedSequence, default=None
        Seeds the bootstrap (stream ``"bootstrap"``).

    Returns
    -------
    result : Bunch
        ``tc``, ``tc_low``, ``tc_high``; ``nu``, ``nu_low``, ``nu_high``;
        ``value`` (the statistic at the crossing) with ``value_low``,
        ``value_high``; ``slope_ratio`` with ``slope_ratio_low``/``_high``;
        ``n_failed`` (replicates without a crossing or with a slope ratio <= 1);
        ``curves``: per temperature the statistic of each set and its bootstrap
        standard error, and the fitted curves on a grid (for plots).

    Warns
    -----
    ReliabilityWarning
        When the crossing lies outside the sampled temperatures, or more than 5 %
        of the bootstrap replicates have no crossing or no slope ratio above 1
        (widen or re-centre the window, or sample more).

    Examples
    --------
    Synthetic curves crossing at T = 2.27 with slopes in the ratio 3 (ν = 1 for
    b = 3), with chain-grouped noise:

    >>> import numpy as np
    >>> from sk_rgmi.rg import mcrg_matching
    >>> rng = np.random.default_rng(0)
    >>> t = np.linspace(2.25, 2.29, 5)
    >>> large = [0.61 - 30 * (tk - 2.27) + 0.01 * rng.normal(size=400) for tk in t]
    >>> small = [0.61 - 10 * (tk - 2.27) + 0.01 * rng.normal(size=400) for tk in t]
    >>> res = mcrg_matching(t, large, small, factor=3, statistic="mean",
    ...                     n_bootstrap=200, random_state=0)
    >>> round(res.tc, 3), round(res.nu, 1)
    (2.27, 1.0)
    >>> bool(res.tc_low < 2.27 < res.tc_high)
    True
    """
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {_STATISTICS}, got {statistic!r}.")
    factor = _check_int(factor, "factor", minimum=2)
    n_bootstrap = _check_int(n_bootstrap, "n_bootstrap", minimum=2)
    if not isinstance(confidence, numbers.Real) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
    t = np.asarray(temperatures, dtype=np.float64).ravel()
    ts = t if temperatures_small is None else np.asarray(temperatures_small, float)
    ts = ts.ravel()
    for name, values, temps in (
        ("large", large, t),
        ("small", small, ts),
        ("groups_large", groups_large, t),
        ("groups_small", groups_small, ts),
    ):
        if values is not None and len(values) != temps.size:
            raise ValueError(
                f"{name} needs one array per temperature ({temps.size}), got "
                f"{len(values)}."
            )
    rng = generator(random_state, "bootstrap")
    ya, ba = _curve(large, groups_large, statistic, n_bootstrap, rng)
    yb, bb = _curve(small, groups_small, statistic, n_bootstrap, rng)
    sa, sb = ba.std(axis=1, ddof=1), bb.std(axis=1, ddof=1)
    # a set whose bootstrap has no spread (e.g. all ordered) gets the smallest
    # positive error of the others, so the weights stay finite
    floor = min([s[s > 0].min() for s in (sa, sb) if (s > 0).any()] or [1.0])
    sa, sb = np.maximum(sa, floor), np.maximum(sb, floor)
    kw = {"x_b": ts, "degree": degree, "sigma_a": sa, "sigma_b": sb}
    point = find_crossing(t, ya, yb, **kw)
    boot = find_crossing(t, ba, bb, **kw)
    nu_point = float(_nu(_slope_ratio([point.slope_a], point.slope_b), factor)[0])
    ratio_boot = _slope_ratio(boot.slope_a, boot.slope_b)
    nu_boot = _nu(ratio_boot, factor)
    failed = ~np.isfinite(boot.x) | ~np.isfinite(nu_boot)
    n_failed = int(failed.sum())
    if not (t.min() <= point.x <= t.max()) or n_failed > 0.05 * n_bootstrap:
        warnings.warn(
            f"MCRG matching: crossing at T = {point.x:.5g} for temperatures "
            f"{t.min():.5g}-{t.max():.5g}; {n_failed} of {n_bootstrap} bootstrap "
            "replicates have no crossing in the window or a slope ratio <= 1. "
            "Centre the window on the crossing, narrow or widen it (about ±1.5/L), "
            "or sample more configurations.",
            ReliabilityWarning,
            stacklevel=2,
        )
    grid_a, grid_b = (np.linspace(v.min(), v.max(), 101) for v in (t, ts))
    tc_lo, tc_hi = _interval(boot.x, confidence)
    nu_lo, nu_hi = _interval(nu_boot, confidence)
    v_lo, v_hi = _interval(boot.y, confidence)
    r_lo, r_hi = _interval(ratio_boot, confidence)
    return Bunch(
        tc=float(point.x),
        tc_low=tc_lo,
        tc_high=tc_hi,
        nu=nu_point,
        nu_low=nu_lo,
        nu_high=nu_hi,
        value=float(point.y),
        value_low=v_lo,
        value_high=v_hi,
        slope_ratio=float(point.slope_a / point.slope_b),
        slope_ratio_low=r_lo,
        slope_ratio_high=r_hi,
        n_failed=n_failed,
        n_bootstrap=n_bootstrap,
        curves=Bunch(
            temperature=t,
            temperature_small=ts,
            large=ya,
            large_err=sa,
            small=yb,
            small_err=sb,
            large_grid=grid_a,
            large_fit=_fitted(point, "a", grid_a),
            small_grid=grid_b,
            small_fit=_fitted(point, "b", grid_b),
        ),
    )
