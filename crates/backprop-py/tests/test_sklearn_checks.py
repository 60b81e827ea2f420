"""scikit-learn's estimator checks over both estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

import backprop

# Each expected failure with its reason (at most three per estimator).
EXPECTED_FAILED = {}


def _expected(estimator):
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


@parametrize_with_checks(
    [
        backprop.MLPClassifier(max_iter=300, random_state=0),
        backprop.MLPRegressor(max_iter=300, random_state=0),
    ],
    expected_failed_checks=_expected,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
