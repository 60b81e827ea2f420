"""Same numbers as scikit-learn: one warm-started epoch from identical weights."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor

import backprop

SOLVERS = [
    dict(solver="sgd", momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.05),
    dict(solver="sgd", momentum=0.9, nesterovs_momentum=True, learning_rate_init=0.05),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1, power_t=0.3),
    dict(solver="adam", learning_rate_init=0.01),
]


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:500] / 16.0, y[:500]


def _one_more_epoch(ours, theirs, X, y, epochs=1):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
        ours.fit(X, y)
        assert not np.allclose(ours.coefs_[0], theirs.coefs_[0])  # different initialisations
        ours.coefs_ = [c.copy() for c in theirs.coefs_]
        ours.intercepts_ = [b.copy() for b in theirs.intercepts_]
        for est in (ours, theirs):
            est.set_params(warm_start=True, shuffle=False, max_iter=epochs)
            est.fit(X, y)


def _assert_close(ours, theirs):
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-7)


@pytest.mark.parametrize("params", SOLVERS, ids=lambda p: "-".join(str(v) for v in p.values()))
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_classifier_matches_scikit_learn(params, activation):
    X, y = _digits()
    common = dict(hidden_layer_sizes=(20, 15), activation=activation, alpha=0.01, max_iter=1,
                  batch_size=64, random_state=0, **params)
    ours, theirs = backprop.MLPClassifier(**common), SkClassifier(**common)
    _one_more_epoch(ours, theirs, X, y, epochs=3)
    _assert_close(ours, theirs)
    assert ours.n_iter_ == theirs.n_iter_ == 3
    assert ours.t_ == theirs.t_


@pytest.mark.parametrize("params", SOLVERS[:1] + SOLVERS[3:], ids=["sgd", "adam"])
def test_binary_and_multilabel_match(params):
    X, y = _digits()
    common = dict(hidden_layer_sizes=(10,), alpha=0.1, max_iter=1, batch_size=50, random_state=1,
                  **params)
    for target in (y % 2, np.column_stack([y % 2, y > 4, y == 3]).astype(int)):
        ours, theirs = backprop.MLPClassifier(**common), SkClassifier(**common)
        _one_more_epoch(ours, theirs, X, target, epochs=2)
        assert ours.out_activation_ == theirs.out_activation_ == "logistic"
        _assert_close(ours, theirs)


@pytest.mark.parametrize("params", SOLVERS, ids=["sgd", "nesterov", "invscaling", "adam"])
def test_regressor_matches_scikit_learn(params):
    X, y = make_regression(n_samples=300, n_features=8, n_targets=2, random_state=0)
    y = y / 100.0
    common = dict(hidden_layer_sizes=(16,), alpha=0.5, max_iter=1, batch_size=32, random_state=0,
                  **params)
    ours, theirs = backprop.MLPRegressor(**common), SkRegressor(**common)
    _one_more_epoch(ours, theirs, X, y, epochs=2)
    _assert_close(ours, theirs)


@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_lbfgs_matches_scikit_learn(estimator):
    if estimator == "classifier":
        X, y = _digits()
        ours_cls, their_cls = backprop.MLPClassifier, SkClassifier
    else:
        X, y = make_regression(n_samples=300, n_features=8, random_state=0)
        y = y / 100.0
        ours_cls, their_cls = backprop.MLPRegressor, SkRegressor
    common = dict(solver="lbfgs", hidden_layer_sizes=(12,), activation="tanh", alpha=0.1,
                  max_iter=1, random_state=0)
    ours, theirs = ours_cls(**common), their_cls(**common)
    _one_more_epoch(ours, theirs, X, y, epochs=8)
    assert ours.n_iter_ == theirs.n_iter_
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-7)
