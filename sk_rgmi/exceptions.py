"""Warnings and errors raised by sk_rgmi."""

from __future__ import annotations

__all__ = ["DivergenceWarning", "UndersampledWarning"]


class UndersampledWarning(UserWarning):
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


class DivergenceWarning(UserWarning):
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
