"""scikit-learn's estimator checks over every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ae.utils import all_estimators

from .conftest import FAST_PARAMS

# Checks expected to fail, per estimator class name, each with its reason.
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {}


def _instances():
    return [cls(**FAST_PARAMS) for _, cls in all_estimators()]


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@parametrize_with_checks(_instances(), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
