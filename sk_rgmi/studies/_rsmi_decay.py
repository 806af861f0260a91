"""Part 1 of the RSMI study: I(H : E) against the buffer width ``L_B``.

For each temperature, visible block ``V`` and buffer width, a binary RSMI
coarse-grainer (:class:`~sk_rgmi.MIMaximizingCoarseGrainer`, ``symmetric=False``) is
fitted on windows cut from *training* lattices, and every MI is measured on windows
cut from other, *held-out* lattices:

- ``mi``: ``I(H : ΣE)``, the learned coarse variable against the spin sum of the
  environment shell, counted (plug-in with a delete-one-chain jackknife: bias
  correction and a standard error grouped by chain, since windows cut from one
  lattice -- and lattices of one Markov chain -- are not independent). A lower
  bound on ``I(H : E)``, resolved down to ~1e-4 nats;
- ``mi_fine``: ``I(V : ΣE)`` of the fine-grained block, counted the same way where
  countable (2×2: 16 states);
- ``mi_neural``, ``mi_fine_neural``: ``I(H : E)`` and ``I(V : E)`` with the full
  shell, by :class:`~sk_rgmi.MINEEstimator` fitted on the training windows and
  scored on the held-out ones; the interval is a batch-means interval over groups
  of held-out chains.

The fits (power law at T_c, exponential above, plateau below) are jackknifed over
the same chain groups. MI values are in nats.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._counting import encode_rows, mi_from_contingency
from .._random import seed_int, stream
from ..datasets.exact import T_C
from ..reliability import Z95, fold_interval

__all__ = [
    "BlockSpec",
    "decay_fits",
    "grouped_count_mi",
    "is_critical",
    "measure_point",
]

_LN2 = math.log(2.0)


@dataclass(frozen=True)
class BlockSpec:
    """One visible-block set-up of the decay measurement.

    Attributes
    ----------
    side : int
        ``V`` is a ``side × side`` block.
    n_components : int
        Binary coarse variables learned for it.
    buffers : tuple of int
        Buffer widths ``L_B``.
    temperatures : tuple of float or None
        Temperatures at which it is measured (None: all of the study's).
    """

    side: int
    n_components: int = 1
    buffers: tuple[int, ...] = (0, 1, 2, 3, 4, 6, 8)
    temperatures: tuple[float, ...] | None = None


def is_critical(temperature: float) -> bool:
    """Whether a study temperature is T_c (a power-law decay is fitted there)."""
    return abs(temperature - T_C) < 1e-9


def _jackknife_std(loo: np.ndarray) -> float:
    """Jackknife standard error of leave-one-group-out values ``θ_g``:
    ``sqrt((G - 1) / G Σ (θ_g - mean θ)²)``."""
    g = loo.size
    return math.sqrt((g - 1) / g * float(((loo - loo.mean()) ** 2).sum()))


def grouped_count_mi(a: Any, b: Any, groups: Any) -> dict[str, Any]:
    """Count-based MI of two discrete variables with a delete-one-group jackknife.

    The plug-in MI of the full table and of every table with one group (a Markov
    chain's windows) left out give the jackknife estimate ``G θ - (G - 1) mean θ_(-g)``
    (it removes the plug-in's 1/N bias) and its standard error
    ``sqrt((G - 1)/G Σ (θ_(-g) - mean)²)``, which counts correlated windows of a
    group once. MI in nats.

    Parameters
    ----------
    a, b : array-like of shape (n,) or (n, k)
        Discrete values (rows are joint states).
    groups : array-like of shape (n,)
        Group label of every sample.

    Returns
    -------
    dict
        ``mi``, ``std``, ``low``, ``high`` (95 %, normal), ``plugin`` and ``loo``
        (the leave-one-group-out plug-in values, for jackknifing fits).

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.studies._rsmi_decay import grouped_count_mi
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 2, 20000)
    >>> y = x ^ (rng.random(20000) < 0.1)            # MI = ln 2 - H(0.1) = 0.368
    >>> res = grouped_count_mi(x, y, np.arange(20000) % 40)
    >>> bool(res["low"] < 0.3681 < res["high"])
    True
    """
    (ca, ka), (cb, kb), (cg, n_groups) = (encode_rows(v) for v in (a, b, groups))
    if n_groups < 2:
        raise ValueError("a grouped jackknife needs at least two groups.")
    flat = (cg * ka + ca) * kb + cb
    tables = np.bincount(flat, minlength=n_groups * ka * kb).reshape(n_groups, ka, kb)
    total = tables.sum(axis=0)
    theta = float(mi_from_contingency(total))
    loo = np.asarray(mi_from_contingency(total[None] - tables), dtype=float)
    mean = loo.mean()
    mi = n_groups * theta - (n_groups - 1) * mean
    std = _jackknife_std(loo)
    return {
        "mi": float(mi),
        "std": std,
        "low": float(mi - Z95 * std),
        "high": float(mi + Z95 * std),
        "plugin": theta,
        "loo": loo,
    }


def _neural(
    X_tr: np.ndarray,
    Y_tr: np.ndarray,
    X_ev: np.ndarray,
    Y_ev: np.ndarray,
    groups_ev: np.ndarray,
    params: dict[str, Any],
    seed: int,
    n_groups: int,
) -> dict[str, float]:
    """MINE fitted on training windows, scored on held-out ones (batch means)."""
    from ..mine import MINEEstimator

    est = MINEEstimator(device="cpu", random_state=seed, **params).fit(X_tr, Y_tr)
    value = float(est.score(X_ev, Y_ev))
    # batch means: held-out chains split into n_groups sets, one score each
    sets = encode_rows(groups_ev)[0] % n_groups
    scores = [
        float(est.score(X_ev[sets == j], Y_ev[sets == j]))
        for j in range(n_groups)
        if (sets == j).sum() >= 50
    ]
    half = math.nan
    if len(scores) >= 2:
        _, se, t = fold_interval(scores)
        half = t * se
    ci = est.mi_ci_
    return {
        "value": value,
        "low": value - half,
        "high": value + half,
        "fit_mi": float(est.mi_),
        "fit_low": float(ci[0]),
        "fit_high": float(ci[1]),
    }


def filter_symmetry(weights: Any, side: int) -> float:
    """Relative distance of a square filter from its average over the square's
    eight symmetries (rotations and reflections): 0 for a symmetric filter.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rgmi.studies._rsmi_decay import filter_symmetry
    >>> filter_symmetry(np.ones(9), 3), round(filter_symmetry([1, 0, 0, 0], 2), 3)
    (0.0, 0.866)
    """
    w = np.asarray(weights, dtype=float).reshape(side, side)
    images = [np.rot90(m, k) for m in (w, w.T) for k in range(4)]
    sym = np.mean(images, axis=0)
    norm = float(np.linalg.norm(w))
    return float(np.linalg.norm(w - sym) / norm) if norm > 0 else 0.0


def measure_point(
    temperature: float,
    spec: BlockSpec,
    buffer: int,
    environment_width: int,
    train: np.ndarray,
    held_out: np.ndarray,
    held_out_chains: np.ndarray,
    n_windows: int,
    coarse_params: dict[str, Any],
    mine_params: dict[str, Any] | None,
    n_neural_groups: int,
    seq: np.random.SeedSequence,
) -> dict[str, Any]:
    """Every number of one (temperature, block, buffer) point; MI in nats.

    ``train`` / ``held_out`` are ±1 lattices (different Markov chains);
    ``held_out_chains`` gives the chain of each held-out lattice. Runs in a worker
    process: the coarse-grainer and MINE train on one torch thread.
    """
    from ..coarse_graining import MIMaximizingCoarseGrainer
    from ..datasets import sample_visible_environment

    t0 = time.perf_counter()
    h, e = spec.side, environment_width
    pairs = stream(seq, "pairs")
    fit_seeds = stream(seq, "fit")
    V_tr, E_tr = sample_visible_environment(
        train, (h, h), buffer, e, n_windows, random_state=stream(pairs, "train")
    )
    V_ev, E_ev, pos = sample_visible_environment(
        held_out, (h, h), buffer, e, n_windows,
        random_state=stream(pairs, "held-out"), return_positions=True,
    )  # fmt: skip
    groups = held_out_chains[pos[:, 0]]
    V_tr, E_tr = V_tr.astype(np.float32), E_tr.astype(np.float32)
    V_ev, E_ev = V_ev.astype(np.float32), E_ev.astype(np.float32)
    cg = MIMaximizingCoarseGrainer(
        n_components=spec.n_components, symmetric=False,
        random_state=seed_int(fit_seeds, "coarse", bits=32), **coarse_params,
    ).fit(V_tr, E_tr)  # fmt: skip
    H_ev = cg.transform(V_ev)
    H_sym = (V_ev @ cg.components_.T > 0).astype(float)
    s_ev = E_ev.sum(axis=1).astype(np.int64)
    # the lattice's magnetisation sign: what E reveals in the ordered phase
    sign = np.sign(held_out.sum(axis=(1, 2), dtype=np.int64))[pos[:, 0]]
    out: dict[str, Any] = {
        "buffer": int(buffer),
        "count": grouped_count_mi(H_ev, s_ev, groups),
        "sign": grouped_count_mi(H_ev, sign, groups),
        "filters": np.round(cg.components_, 5).tolist(),
        "intercepts": np.round(cg.intercept_, 5).tolist(),
        "d4_asymmetry": [filter_symmetry(w, h) for w in cg.components_],
        "flip_asymmetry": float(np.mean(np.any(H_ev != H_sym, axis=1))),
        "coarse_grainer_mi": float(cg.mi_),
    }
    if h * h <= 4:  # 16 fine states: countable against the shell sum
        out["fine_count"] = grouped_count_mi(V_ev, s_ev, groups)
    if mine_params is not None:
        H_tr = cg.transform(V_tr)
        out["neural"] = _neural(
            H_tr, E_tr, H_ev, E_ev, groups, mine_params,
            seed_int(fit_seeds, "mine-h", bits=32), n_neural_groups,
        )  # fmt: skip
        out["fine_neural"] = _neural(
            V_tr, E_tr, V_ev, E_ev, groups, mine_params,
            seed_int(fit_seeds, "mine-v", bits=32), n_neural_groups,
        )  # fmt: skip
    out["seconds"] = time.perf_counter() - t0
    return out


# ------------------------------------------------------------------------ fits
def _interval(value: float, jack: np.ndarray) -> dict[str, float]:
    """``value`` with a 95 % interval from leave-one-group-out values."""
    jack = jack[np.isfinite(jack)]
    if jack.size < 2 or not math.isfinite(value):
        return {"value": value, "low": math.nan, "high": math.nan}
    std = _jackknife_std(jack)
    return {"value": value, "low": value - Z95 * std, "high": value + Z95 * std}


def _slope(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares slope of every row of ``y`` against ``x``."""
    w = w / w.sum()
    xc = x - w @ x
    yc = y - (y * w).sum(axis=-1, keepdims=True)
    return (yc * xc * w).sum(axis=-1) / ((xc * xc) @ w)


def _power_free(x: np.ndarray, mi: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Fit ``log I = a - p log(x + c)`` (weights ``w``): (p, c), c in [0.05, 20]."""
    from scipy.optimize import least_squares

    y = np.log(mi)
    sw = np.sqrt(w)

    def resid(theta: np.ndarray) -> np.ndarray:
        a, p, c = theta
        return sw * (a - p * np.log(x + c) - y)

    sol = least_squares(resid, [y[0], 0.3, 1.5], bounds=([-50, -5, 0.05], [50, 5, 20]))
    return float(sol.x[1]), float(sol.x[2])


def decay_fits(
    temperature: float,
    buffers: Any,
    mi: Any,
    std: Any,
    loo: Any,
    *,
    r0: float,
    sign_mi: float | None = None,
) -> dict[str, Any]:
    """What the decay of MI with the buffer width is compared with (MI in nats).

    - at T_c: ``I ∝ R^(-p)`` with ``R = L_B + r0`` (``r0`` the distance from the
      block's centre to the middle of the shell at ``L_B = 0``), and with a free
      offset ``I ∝ (L_B + c)^(-p)``; expected ``p = η = 1/4`` for a shell summed
      over its perimeter (``2η = 1/2`` for point-like variables);
    - above T_c: ``I ∝ e^(-κ L_B)``; expected ``κ → 2/ξ`` far from the block,
      ``ξ`` the exact correlation length (at finite ``R`` slowly varying
      prefactors make the apparent rate somewhat larger). Only points more than 3
      standard errors above zero;
    - below T_c: the plateau (mean of the last two points) against ``I(H : sign
      M)`` and ln 2.

    The logarithmic fits weight each point by ``(I / σ)²``, the inverse variance
    of ``log I``; points with non-positive MI are left out. Intervals: jackknife
    over the held-out chain groups (``loo`` has one row per group, one column per
    buffer), with the weights of the full data.
    """
    from ..datasets.ising import _correlation_length

    x = np.asarray(buffers, dtype=float)
    mi, std = np.asarray(mi, dtype=float), np.asarray(std, dtype=float)
    loo = np.asarray(loo, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(mi > 0, (mi / std) ** 2, 0.0)
    if is_critical(temperature):
        ok = mi > 0
        r = x + r0
        if ok.sum() < 3:
            return {"kind": "power", "r0": r0, "exponent": None, "expected": 0.25}

        def fixed(rows: np.ndarray) -> np.ndarray:
            with np.errstate(invalid="ignore", divide="ignore"):
                return -_slope(np.log(r[ok]), np.log(rows[..., ok]), weight[ok])

        free = _power_free(x[ok], mi[ok], weight[ok])
        free_loo = np.array(
            [_power_free(x[ok], row[ok], weight[ok])[0] if np.all(row[ok] > 0)
             else np.nan for row in loo]
        )  # fmt: skip
        return {
            "kind": "power",
            "r0": r0,
            "exponent": _interval(float(fixed(mi)), fixed(loo)),
            "exponent_free": _interval(free[0], free_loo),
            "offset_free": free[1],
            "expected": 0.25,
            "expected_point_like": 0.5,
        }
    if temperature > T_C:
        xi = _correlation_length(temperature)
        ok = mi > 3 * std
        if ok.sum() < 3:
            return {"kind": "exponential", "rate": None, "expected": 2 / xi, "xi": xi}

        def rate(rows: np.ndarray) -> np.ndarray:
            with np.errstate(invalid="ignore", divide="ignore"):
                return -_slope(x[ok], np.log(rows[..., ok]), weight[ok])

        return {
            "kind": "exponential",
            "rate": _interval(float(rate(mi)), rate(loo)),
            "expected": 2 / xi,
            "xi": xi,
            "buffers_used": x[ok].astype(int).tolist(),
        }
    tail = slice(-2, None)
    return {
        "kind": "plateau",
        "plateau": _interval(float(mi[tail].mean()), loo[:, tail].mean(axis=1)),
        "sign_mi": sign_mi,
        "ln2": _LN2,
    }
