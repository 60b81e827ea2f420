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


@pytest.mark.parametrize("params", SOLVERS[:1] + SOLVERS[3:], ids=["sgd", "adam"])
def test_mostly_zero_wide_input_matches_scikit_learn(params):
    """Rows of 300 features, 85 % zeros: the first layer multiplies only the non-zeros (the
    engine's sparse path, taken for inputs of at least 256 columns at most 30 % non-zero)."""
    rng = np.random.RandomState(0)
    X = rng.uniform(0.0, 1.0, size=(400, 300)) * (rng.uniform(size=(400, 300)) < 0.15)
    y = (X[:, :150].sum(axis=1) > X[:, 150:].sum(axis=1)).astype(int) + 2 * (X[:, 0] > 0)
    common = dict(hidden_layer_sizes=(24,), alpha=0.01, max_iter=1, batch_size=64,
                  random_state=0, **params)
    ours, theirs = backprop.MLPClassifier(**common), SkClassifier(**common)
    _one_more_epoch(ours, theirs, X, y, epochs=3)
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


@pytest.mark.parametrize("params", SOLVERS[:1] + SOLVERS[3:], ids=["sgd", "adam"])
def test_shuffled_epochs_match_scikit_learn(params):
    """With shuffle=True the engine draws each epoch's row order from the estimator's
    RandomState itself: the same orders as scikit-learn's shuffle, so the same weights."""
    X, y = _digits()
    common = dict(hidden_layer_sizes=(10,), alpha=0.01, max_iter=1, batch_size=50,
                  random_state=3, **params)
    ours, theirs = backprop.MLPClassifier(**common), SkClassifier(**common)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
        ours.fit(X, y)
        ours.coefs_ = [c.copy() for c in theirs.coefs_]
        ours.intercepts_ = [b.copy() for b in theirs.intercepts_]
        for est in (ours, theirs):
            est.set_params(warm_start=True, shuffle=True, max_iter=3)
            est.fit(X, y)
    _assert_close(ours, theirs)


def test_engine_loop_draws_as_the_python_loop(capsys):
    """The whole fit in the engine (shuffling there) against the epoch-by-epoch loop in Python
    (what verbose=True runs): the same weights and the caller's RandomState left in the same
    state, also when the stopping rule ends the fit early."""
    X, y = _digits()
    for tol, max_iter in [(1e-4, 5), (10.0, 50)]:  # tol=10: the rule stops after 12 epochs
        runs = []
        for verbose in (False, True):
            rng = np.random.RandomState(7)
            clf = backprop.MLPClassifier(hidden_layer_sizes=(8,), max_iter=max_iter, tol=tol,
                                         random_state=rng, verbose=verbose)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, y)
            runs.append((clf, rng.get_state()[1].copy(), rng.get_state()[2]))
        (quiet, keys_a, pos_a), (loud, keys_b, pos_b) = runs
        assert quiet.n_iter_ == loud.n_iter_ == (5 if tol < 1 else 12)
        assert quiet.loss_curve_ == loud.loss_curve_
        for a, b in zip(quiet.coefs_, loud.coefs_):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(keys_a, keys_b)
        assert pos_a == pos_b
    capsys.readouterr()
