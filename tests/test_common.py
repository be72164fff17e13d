"""scikit-learn's estimator checks over every public estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_ae.utils import all_estimators

from .conftest import FAST_PARAMS

# Checks expected to fail, per estimator class name, each with its reason.
_NEEDS_Y = (
    "fits outlier detectors on X alone; a conditional model needs its conditions y "
    "to fit (its fit_predict(X, y) is tested in test_conditional.py)"
)
EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "ConditionalAutoencoder": {
        "check_outliers_train": _NEEDS_Y,
        "check_outliers_fit_predict": _NEEDS_Y,
    },
}


def _instances():
    from sklearn_ae import (Autoencoder, AutoencoderImputer, ConvolutionalAutoencoder,
                            DenoisingAutoencoder, OutlierAutoencoder)
    from sklearn_ae.images import PatchDCT

    # Plus the default widths ("auto"), where a fit may end with PCA's linear
    # autoencoder: that path must keep the contract too; the imputer; and
    # the convolutional network whose code is feature maps; and a detector
    # whose network is an ensemble.
    return [cls(**FAST_PARAMS) for _, cls in all_estimators()] + [
        Autoencoder(max_iter=5, random_state=0),
        OutlierAutoencoder(n_members=3, **FAST_PARAMS),
        ConvolutionalAutoencoder(code="map", channels=(4,), max_iter=5, random_state=0),
        AutoencoderImputer(DenoisingAutoencoder(noise="masking", **FAST_PARAMS),
                           random_state=0),
        PatchDCT()]


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


def _as_list(mark):
    """The same parametrisation with its cases in a list.

    Older scikit-learn releases hand pytest a generator, which recent pytest
    warns about.
    """
    names, cases = mark.args
    return pytest.mark.parametrize(names, list(cases), **mark.kwargs)


@_as_list(parametrize_with_checks(_instances(), expected_failed_checks=_expected_failed_checks))
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
