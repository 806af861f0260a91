"""Exact results for the 2D Ising model (J = 1, periodic square lattice).

Used as ground truth for the samplers: the finite-size internal energy of an
``m × n`` torus from Kaufman's (1949) partition function (as written by Ferdinand &
Fisher 1969), Onsager–Yang's spontaneous magnetisation and the critical constants.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import _check_temperature

__all__ = [
    "BINDER_CUMULANT_TC",
    "T_C",
    "exact_energy_per_spin",
    "exact_nn_correlation",
    "onsager_magnetization",
]

#: Critical temperature ``2 / ln(1 + sqrt(2))`` ≈ 2.269185 (J = 1, k_B = 1).
T_C: float = 2.0 / math.log(1.0 + math.sqrt(2.0))

#: Binder cumulant ``1 - <m^4> / (3 <m^2>^2)`` at T_c on the infinite periodic square
#: lattice (Salas & Sokal, J. Stat. Phys. 98, 551 (2000)).
BINDER_CUMULANT_TC: float = 0.61069


def _log_2cosh(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    return ax + np.log1p(np.exp(-2.0 * ax))


def _log_abs_2sinh(x: np.ndarray) -> np.ndarray:
    # log(1 - e^(-2|x|)) as log(-expm1(-2|x|)): log1p(-exp(.)) loses every digit
    # when |x| is tiny (at T_c one of Kaufman's terms is exactly there)
    ax = np.abs(x)
    return ax + np.log(-np.expm1(-2.0 * ax))


def exact_energy_per_spin(size: int | tuple[int, int], temperature: float) -> float:
    """Exact mean energy per spin ``<E>/N`` of the periodic ``m × n`` Ising torus.

    ``E = -sum_<ij> s_i s_j`` over the 2N nearest-neighbour bonds, spins ±1, J = 1.
    Kaufman's formula ``Z = ½ (2 sinh 2K)^(mn/2) (Z1 + Z2 + Z3 + Z4)`` is evaluated
    and differentiated analytically in log space (the Z_i overflow float64 for
    L ≳ 30), so the result is accurate to ~1e-12 for any L.

    Parameters
    ----------
    size : int or (int, int)
        Lattice size ``L`` (square) or ``(m, n)``; each at least 2.
    temperature : float
        Temperature ``T = 1/K`` (> 0).

    Returns
    -------
    energy : float
        Mean energy per spin; ``-sqrt(2) - 0.62244/L`` near T_c for large L.

    Examples
    --------
    >>> from sk_rgmi.datasets import T_C, exact_energy_per_spin
    >>> round(exact_energy_per_spin(64, T_C), 7)
    -1.4239384
    """
    m, n = (size, size) if np.ndim(size) == 0 else tuple(size)
    m, n = int(m), int(n)
    if m < 2 or n < 2:
        raise ValueError(f"size must be at least 2 in each direction, got {size!r}.")
    K = 1.0 / _check_temperature(temperature)
    s2k, c2k = math.sinh(2 * K), math.cosh(2 * K)
    # cosh(gamma_l) = cosh 2K coth 2K - cos(pi l / n), l = 1..2n-1; gamma_0 signed.
    l_idx = np.arange(2 * n)
    c = c2k * c2k / s2k
    dc = 2.0 * c2k * (1.0 - 1.0 / (s2k * s2k))  # d/dK of cosh 2K coth 2K
    cosg = c - np.cos(np.pi * l_idx / n)
    gamma = np.arccosh(np.maximum(cosg, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        dgamma = dc / np.sinh(gamma)
    gamma[0] = 2 * K + math.log(math.tanh(K))
    dgamma[0] = 2.0 + 2.0 / s2k
    odd, even = gamma[1::2], gamma[0::2]
    dodd, deven = dgamma[1::2], dgamma[0::2]
    x_odd, x_even = 0.5 * m * odd, 0.5 * m * even
    # log|Z_i| and d log|Z_i| / dK (sum over the n factors of each product)
    logs = np.array(
        [
            _log_2cosh(x_odd).sum(),
            _log_abs_2sinh(x_odd).sum(),
            _log_2cosh(x_even).sum(),
            _log_abs_2sinh(x_even).sum() if np.all(even != 0) else -np.inf,
        ]
    )
    signs = np.array([1.0, 1.0, 1.0, np.prod(np.sign(even))])
    with np.errstate(divide="ignore", invalid="ignore"):
        dlogs = np.array(
            [
                (0.5 * m * np.tanh(x_odd) * dodd).sum(),
                (0.5 * m * dodd / np.tanh(x_odd)).sum(),
                (0.5 * m * np.tanh(x_even) * deven).sum(),
                (0.5 * m * deven / np.tanh(x_even)).sum()
                if np.isfinite(logs[3])
                else 0.0,
            ]
        )
    w = signs * np.exp(logs - logs.max())
    dlogz = 0.5 * m * n * 2.0 * c2k / s2k + float((w * dlogs).sum() / w.sum())
    return -dlogz / (m * n)


def exact_nn_correlation(size: int | tuple[int, int], temperature: float) -> float:
    """Exact nearest-neighbour correlation ``<s_i s_j>`` (spins ±1) on the torus.

    Equal to ``-exact_energy_per_spin / 2`` (two bonds per spin).

    Examples
    --------
    >>> from sk_rgmi.datasets import T_C, exact_nn_correlation
    >>> round(exact_nn_correlation(256, T_C), 7)
    0.7083225
    """
    return -0.5 * exact_energy_per_spin(size, temperature)


def onsager_magnetization(temperature: float) -> float:
    """Spontaneous magnetisation of the infinite lattice (Onsager 1949, Yang 1952).

    ``M = (1 - sinh(2/T)^-4)^(1/8)`` for ``T < T_c`` and 0 above.

    Examples
    --------
    >>> from sk_rgmi.datasets import onsager_magnetization
    >>> round(onsager_magnetization(2.0), 6)
    0.911319
    >>> onsager_magnetization(3.0)
    0.0
    """
    t = _check_temperature(temperature)
    if t >= T_C:
        return 0.0
    return float((1.0 - math.sinh(2.0 / t) ** -4) ** 0.125)
