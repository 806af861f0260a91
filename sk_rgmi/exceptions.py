"""Warnings and errors raised by sk_rgmi."""

from __future__ import annotations

__all__ = [
    "BinningWarning",
    "DataCacheWarning",
    "DivergenceWarning",
    "ReliabilityWarning",
    "TiedValuesWarning",
    "UndersampledWarning",
]


class ReliabilityWarning(UserWarning):
    """a reported number may be wrong; the message says why and what to do"""


class UndersampledWarning(ReliabilityWarning):
    """The number of possible (or observed) joint states is large relative to N.

    Count-based MI is then biased upwards by roughly ``(K_x - 1)(K_y - 1) / (2 N)``
    nats; the message states the size of that bias for the data at hand.

    Examples
    --------
    >>> import warnings
    >>> from sk_rgmi.exceptions import UndersampledWarning
    >>> issubclass(UndersampledWarning, UserWarning)
    True
    """


class DivergenceWarning(ReliabilityWarning):
    """Neural MI training diverged (non-finite loss or bound) and was rolled back.

    The estimator restores the parameters of the best finite epoch; the message says
    what to change (usually a smaller learning rate, the ``"smile"`` loss or
    standardised inputs).

    Examples
    --------
    >>> from sk_rgmi.exceptions import DivergenceWarning
    >>> issubclass(DivergenceWarning, UserWarning)
    True
    """


class DataCacheWarning(UserWarning):
    """A cached data set was damaged or did not match the request, and is remade.

    Raised by :func:`~sk_rgmi.datasets.load_critical_ising` when the file under the
    requested name is empty, truncated, not a ``.npy`` array, or holds the wrong
    shape, dtype or values; the message names the file and the problem, and the
    data set is generated again and rewritten.

    Examples
    --------
    >>> from sk_rgmi.exceptions import DataCacheWarning
    >>> issubclass(DataCacheWarning, UserWarning)
    True
    """


class BinningWarning(ReliabilityWarning):
    """Continuous data were binned in several dimensions, so the MI is underestimated.

    :class:`~sk_rgmi.PluginMIEstimator` bins continuous columns before counting.
    Binning keeps only the information coarser than the bins: the MI of the binned
    variables is at most that of the continuous ones, and with several continuous
    columns per variable (few bins each) it is typically far below it. The message
    names the estimators made for continuous data: ``KSGEstimator`` (k-nearest
    neighbours) for a few dimensions, ``MINEEstimator`` (neural) for many. One
    continuous column per variable is binned finely enough and does not warn.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sk_rgmi import PluginMIEstimator
    >>> from sk_rgmi.exceptions import BinningWarning
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((1000, 2))
    >>> y = X + rng.standard_normal((1000, 2))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     est = PluginMIEstimator().fit(X, y)
    >>> [w.category.__name__ for w in caught]
    ['BinningWarning']
    """


class TiedValuesWarning(ReliabilityWarning):
    """Tied (discrete or rounded) values given to a k-nearest-neighbour estimator.

    :class:`~sk_rgmi.KSGEstimator` orders samples by distance; with repeated values
    the distances tie and the tie-breaking jitter sets the order. The estimate is
    then that of the discrete variables, noisier than counting; the message names
    the tied columns and :class:`~sk_rgmi.PluginMIEstimator`, the estimator for
    discrete data.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sk_rgmi import KSGEstimator
    >>> from sk_rgmi.exceptions import TiedValuesWarning
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 2, (2000, 1))          # spins
    >>> y = x ^ (rng.random((2000, 1)) < 0.1)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     est = KSGEstimator(random_state=0).fit(x, y)
    >>> [w.category.__name__ for w in caught]
    ['TiedValuesWarning']
    """
