"""scikit-learn's estimator checks over every public sk_rgmi estimator.

Estimators are discovered from ``sk_rgmi.__all__`` (every public class that is a
scikit-learn ``BaseEstimator``), not listed by hand, so a new estimator is checked
the moment it is exported.
"""

from __future__ import annotations

import inspect

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import sk_rgmi


def _public_estimators() -> list[type[BaseEstimator]]:
    found = []
    for name in sk_rgmi.__all__:
        obj = getattr(sk_rgmi, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            found.append(obj)
    return found


ESTIMATORS = _public_estimators()

# Expected failures: {estimator class name: {check name: reason}}. Goal: empty.
# Every entry must say why the check does not apply to an MI estimator.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}


def _expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def _instances() -> list[BaseEstimator]:
    instances = []
    for cls in ESTIMATORS:
        # Small, fast settings where the estimator provides them; the checks feed
        # tiny data sets, and defaults are made for real data.
        fast = getattr(cls, "_fast_test_params", None)
        instances.append(cls(**fast()) if callable(fast) else cls())
    return instances


def test_estimators_discovered() -> None:
    names = {cls.__name__ for cls in ESTIMATORS}
    assert {"PluginMIEstimator", "MINEEstimator", "MIMaximizingCoarseGrainer"} <= names


@parametrize_with_checks(_instances(), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check) -> None:
    check(estimator)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_docstring_has_example(cls: type) -> None:
    assert cls.__doc__ and "Examples" in cls.__doc__
