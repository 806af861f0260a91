"""Training histories as plain rows: the one conversion from a skorch history."""

from __future__ import annotations

from typing import Any

from ._validation import to_units

__all__ = ["history_rows"]

_DROPPED = {
    "batches",
    "train_loss",
    "valid_loss",
    "train_batch_count",
    "valid_batch_count",
}


def history_rows(history: Any, units: str = "nats") -> list[dict]:
    """Per-epoch rows of a training history, MI values in ``units``.

    Keys ending in ``_mi`` (nats in the net) are converted to ``units``; the
    per-batch records and skorch's loss columns (the same numbers negated, in nats)
    are dropped; everything else (``epoch``, ``dur``, ``valid_mi_best``,
    ``temperature``, ``filters``, ...) is kept as it is.

    Parameters
    ----------
    history : skorch History or list of dict
    units : {"nats", "bits"}, default="nats"

    Returns
    -------
    list of dict

    Examples
    --------
    >>> from sk_rgmi._history import history_rows
    >>> history_rows([{"epoch": 1, "train_mi": 0.6931471805599453, "batches": []}],
    ...              "bits")
    [{'epoch': 1, 'train_mi': 1.0}]
    """
    rows = []
    for row in history:
        out = {}
        for key, value in row.items():
            if key in _DROPPED:
                continue
            if key.endswith("_mi") and value is not None:
                value = float(to_units(value, units))
            out[key] = value
        rows.append(out)
    return rows
