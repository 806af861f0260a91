"""Random streams: the one way sk_rgmi turns a ``random_state`` into randomness.

Every random draw in sk_rgmi comes from a :class:`numpy.random.SeedSequence` built
from the user's ``random_state`` by :func:`check_seed_sequence`, and every job that
needs randomness takes its own *named* child stream with :func:`stream`::

    seq = check_seed_sequence(random_state)
    rng = generator(seq, "split")          # numpy Generator for the data split
    seed = seed_int(seq, "init")           # a 63-bit int for torch.manual_seed

A named stream depends only on the parent and the name, so adding a new stream (or
drawing more from one) never changes the numbers of another, and results are the
same for any order of the calls. Names used in the package:

===============  ==============================================================
``"split"``      held-out split of the training data
``"init"``       initial weights of a network
``"net"``        a training net's own streams (the next five names are its)
``"shuffle"``    minibatch order and in-batch marginal pairings during training
``"select"``     fixed pairings that score the selection split every epoch
``"report"``     fixed pairings of the reported held-out estimate
``"score"``      pairings of ``score`` on new data
``"torch"``      torch's global RNG inside a fit (layers that draw noise)
``"chains"``     Markov chains of the Ising sampler (spawned per chain)
``"pairs"``      block-pair / window positions cut from lattices
``"ties"``       random tie-breaking of the majority rule
``"jitter"``     tie-breaking noise of the kNN estimator
``"subsets"``    random subsets for the kNN estimator's standard error
``"subsample"``  nested subsamples of the reliability checks
``"fit"``        ``random_state`` of an estimator a study or the CLI fits
``"bootstrap"``  resampling of Markov chains for bootstrap intervals
``"decay"``      the points of the RSMI study's decay measurement
===============  ==============================================================

numpy's and torch's global random states are never read or changed.
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["check_seed_sequence", "generator", "seed_int", "stream"]

_MASK63 = (1 << 63) - 1


def _name_key(name: str) -> int:
    """A stable 32-bit key for a stream name (the same on every platform/run)."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=4).digest(), "little"
    )


def check_seed_sequence(random_state: Any) -> np.random.SeedSequence:
    """``random_state`` as a :class:`numpy.random.SeedSequence`.

    Accepts None (fresh OS entropy), a non-negative int, a sequence of non-negative
    ints, a ``SeedSequence`` (returned as is), or a numpy ``Generator`` /
    ``RandomState`` (advanced by one draw, as scikit-learn consumes a RandomState).

    Parameters
    ----------
    random_state : None, int, sequence of int, SeedSequence, Generator or RandomState

    Returns
    -------
    numpy.random.SeedSequence

    Raises
    ------
    ValueError
        For a negative int (or a sequence holding one).
    TypeError
        For anything else (floats, strings, booleans).

    Examples
    --------
    >>> from sk_rgmi._random import check_seed_sequence
    >>> check_seed_sequence(0).entropy
    0
    >>> check_seed_sequence([1, 2]).entropy
    [1, 2]
    """
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(
            [int(v) for v in random_state.integers(2**63, size=4)]
        )
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(
            [int(v) for v in random_state.randint(2**31, size=4)]
        )
    if isinstance(random_state, bool):
        raise TypeError("random_state must be None, an int or a seed object, not bool.")
    if isinstance(random_state, numbers.Integral):
        if random_state < 0:
            raise ValueError(f"random_state must be >= 0, got {random_state}.")
        return np.random.SeedSequence(int(random_state))
    if isinstance(random_state, Sequence | np.ndarray) and not isinstance(
        random_state, str | bytes
    ):
        values = list(np.asarray(random_state).ravel().tolist())
        if values and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values
        ):
            if min(values) < 0:
                raise ValueError(
                    f"random_state must hold non-negative ints, got {random_state!r}."
                )
            return np.random.SeedSequence([int(v) for v in values])
    raise TypeError(
        "random_state must be None, a non-negative int, a sequence of such ints, or "
        "a numpy SeedSequence, Generator or RandomState; got "
        f"{type(random_state).__name__} {random_state!r}."
    )


def stream(random_state: Any, name: str) -> np.random.SeedSequence:
    """The child stream called ``name`` of ``random_state``.

    Parameters
    ----------
    random_state : anything :func:`check_seed_sequence` accepts
        Converted first (a Generator/RandomState is advanced by one draw, so pass
        the converted ``SeedSequence`` when several streams must share a parent).
    name : str
        The stream's name (see the module docstring); names may be nested by
        calling :func:`stream` on a stream.

    Returns
    -------
    numpy.random.SeedSequence

    Examples
    --------
    >>> from sk_rgmi._random import check_seed_sequence, stream
    >>> seq = check_seed_sequence(0)
    >>> a, b = stream(seq, "split"), stream(0, "split")
    >>> bool(a.generate_state(1)[0] == b.generate_state(1)[0])
    True
    >>> bool(a.generate_state(1)[0] == stream(seq, "init").generate_state(1)[0])
    False
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"a stream name must be a non-empty str, got {name!r}.")
    seq = check_seed_sequence(random_state)
    return np.random.SeedSequence(
        seq.entropy,
        spawn_key=(*seq.spawn_key, _name_key(name)),
        pool_size=seq.pool_size,
    )


def generator(random_state: Any, name: str | None = None) -> np.random.Generator:
    """A numpy ``Generator`` on ``random_state`` (or on its stream ``name``).

    Examples
    --------
    >>> from sk_rgmi._random import generator
    >>> float(generator(0, "split").random()) == float(generator(0, "split").random())
    True
    """
    seq = check_seed_sequence(random_state)
    return np.random.default_rng(seq if name is None else stream(seq, name))


def seed_int(random_state: Any, name: str | None = None, *, bits: int = 63) -> int:
    """A non-negative int below ``2**bits`` from ``random_state`` (or its stream
    ``name``).

    For APIs that take an integer seed: ``torch.manual_seed`` (63 bits, the
    default) or a scikit-learn ``random_state`` (``bits=32``). Computed with Python
    ints (no unsigned numpy shifts), so it is the same on every supported numpy.

    Examples
    --------
    >>> from sk_rgmi._random import seed_int
    >>> seed_int(0, "init") == seed_int(0, "init"), 0 <= seed_int(0) < 2**63
    (True, True)
    >>> seed_int(0, "fit", bits=32) < 2**32
    True
    """
    if bits not in (32, 63):
        raise ValueError(f"bits must be 32 or 63, got {bits!r}.")
    seq = check_seed_sequence(random_state)
    if name is not None:
        seq = stream(seq, name)
    lo, hi = (int(v) for v in seq.generate_state(2, np.uint32))
    return lo if bits == 32 else ((hi << 32) | lo) & _MASK63
