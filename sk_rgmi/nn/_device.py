"""Device resolution and the torch thread-count policy for the neural estimators.

Two small pieces every neural estimator shares:

* :func:`resolve_device` turns ``"auto"``, ``"cpu"``, ``"cuda"`` (or ``"cuda:1"``, a
  :class:`torch.device`) into a concrete device. Asking for CUDA where it is not
  available is an error, never a silent CPU fallback.
* :func:`torch_threads` is a context manager that sets torch's intra-op thread count
  for the duration of a fit or score and restores the caller's setting afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["default_num_threads", "resolve_device", "torch_threads"]


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Return the torch device meant by ``device``.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}, "cuda:<n>", torch.device or None
        ``"auto"`` (or None) picks CUDA when available, else the CPU. An explicit
        CUDA request on a machine without a usable CUDA device raises.

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If ``device`` is not a device name, or CUDA was asked for and is unavailable.

    Examples
    --------
    >>> from sk_rgmi.nn._device import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda' or 'cuda:<index>', got {device!r}."
        ) from exc
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available "
                f"(torch {torch.__version__}, cuda build: "
                f"{torch.version.cuda is not None}). Use device='cpu' or "
                "device='auto' (CUDA when available, else CPU)."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
    elif dev.type != "cpu":
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}.")
    return dev


def default_num_threads(device: torch.device | str = "cpu") -> int | None:
    """Torch intra-op threads used for the small critic MLPs of this package.

    One thread on the CPU: matrices this small gain nothing from a second thread
    and lose to its synchronisation when another core is busy (measured 4-44x
    slower with two threads; the documentation's page on defaults). On CUDA the
    thread count hardly matters and is left alone (None).

    Examples
    --------
    >>> from sk_rgmi.nn._device import default_num_threads
    >>> default_num_threads("cpu")
    1
    """
    return 1 if torch.device(device).type == "cpu" else None


@contextlib.contextmanager
def torch_threads(n_threads: int | None) -> Iterator[None]:
    """Temporarily set ``torch.set_num_threads(n_threads)``; None leaves it alone.

    The caller's thread count is restored on exit, also after an exception.

    Examples
    --------
    >>> import torch
    >>> from sk_rgmi.nn._device import torch_threads
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n_threads is None:
        yield
        return
    if int(n_threads) < 1:
        raise ValueError(f"n_threads must be >= 1 or None, got {n_threads!r}.")
    previous = torch.get_num_threads()
    changed = previous != int(n_threads)
    if changed:
        torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        if changed:
            torch.set_num_threads(previous)
