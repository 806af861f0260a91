"""What the neural estimators share: parameter constraints and the critic seed.

``MINEEstimator`` and ``MIMaximizingCoarseGrainer`` validate their common
parameters with :data:`NEURAL_CONSTRAINTS` (the registered critics and bounds, not
any string; device strings that torch understands), so a rule changes in one place.
"""

from __future__ import annotations

import re
from numbers import Integral, Real
from typing import Any

from sklearn.utils._param_validation import Interval, StrOptions

from .nn.bounds import BOUNDS
from .nn.critics import CRITICS

__all__ = ["NEURAL_CONSTRAINTS", "DeviceString"]


class DeviceString(StrOptions):
    """A device name: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``.

    (A :class:`~sklearn.utils._param_validation.StrOptions` that also accepts CUDA
    device indices, so scikit-learn's parameter validation takes it.)

    Examples
    --------
    >>> from sk_rgmi._neural import DeviceString
    >>> [DeviceString().is_satisfied_by(d) for d in ("cuda:1", "gpu", 3)]
    [True, False, False]
    """

    _PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")

    def __init__(self) -> None:
        super().__init__({"auto", "cpu", "cuda"})

    def is_satisfied_by(self, val: Any) -> bool:
        return isinstance(val, str) and bool(self._PATTERN.match(val))

    def __str__(self) -> str:
        return "a device name: 'auto', 'cpu', 'cuda' or 'cuda:<index>'"


#: constraints of the parameters every neural estimator has
NEURAL_CONSTRAINTS: dict[str, list] = {
    "critic": [StrOptions(set(CRITICS)), callable],
    "hidden_size": [Interval(Integral, 1, None, closed="left")],
    "loss": [StrOptions(set(BOUNDS))],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "lr_schedule": [dict, None],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "callbacks": [list, None],
    "device": [DeviceString()],
    "units": [StrOptions({"nats", "bits"})],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}
