"""Sample weights, class weights, the Poisson loss and the AdamW / RMSprop solvers, each
against an independent computation: scikit-learn's own estimator, duplicated rows, or NumPy."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.utils.class_weight import compute_class_weight

import backprop

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


def _counts():
    """Regression rows whose targets are counts, for the Poisson loss."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 6))
    rate = np.exp(0.4 * X[:, 0] - 0.3 * X[:, 1] + 0.5)
    return X, rng.poisson(rate).astype(float)


def _warm_epochs(ours, theirs, X, y, epochs, **fit_params):
    """Both fitted once, scikit-learn's weights copied into ours, both fitted again."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y, **fit_params)
        ours.fit(X, y, **fit_params)
        ours.coefs_ = [c.copy() for c in theirs.coefs_]
        ours.intercepts_ = [b.copy() for b in theirs.intercepts_]
        for est in (ours, theirs):
            est.set_params(warm_start=True, shuffle=False, max_iter=epochs)
            est.fit(X, y, **fit_params)


def _assert_same(ours, theirs, rtol=1e-5):
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-7)


SOLVERS = [
    dict(solver="sgd", momentum=0.9, learning_rate_init=0.05),
    dict(solver="adam", learning_rate_init=0.01),
]


@pytest.mark.parametrize("params", SOLVERS, ids=["sgd", "adam"])
def test_sample_weight_matches_scikit_learn(params):
    X, y = _digits()
    weights = np.random.RandomState(1).uniform(0.1, 3.0, size=len(y))
    common = dict(hidden_layer_sizes=(12,), alpha=0.05, max_iter=1, batch_size=64,
                  random_state=0, **params)
    ours, theirs = backprop.MLPClassifier(**common), SkClassifier(**common)
    _warm_epochs(ours, theirs, X, y, 3, sample_weight=weights)
    _assert_same(ours, theirs)
    Xr, yr = make_regression(n_samples=200, n_features=5, n_targets=2, random_state=0)
    ours, theirs = backprop.MLPRegressor(**common), SkRegressor(**common)
    _warm_epochs(ours, theirs, Xr, yr / 100.0, 2, sample_weight=weights[:200])
    _assert_same(ours, theirs)


def test_sample_weight_with_lbfgs_matches_scikit_learn():
    X, y = _digits()
    weights = np.random.RandomState(2).uniform(0.5, 2.0, size=len(y))
    common = dict(solver="lbfgs", hidden_layer_sizes=(10,), activation="tanh", alpha=0.1,
                  max_iter=1, random_state=0)
    ours, theirs = backprop.MLPClassifier(**common), SkClassifier(**common)
    _warm_epochs(ours, theirs, X, y, 6, sample_weight=weights)
    _assert_same(ours, theirs)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_integer_weights_equal_duplicated_rows(solver):
    """One full-batch epoch: weight k on a row is that row k times (B = the weight sum)."""
    X, y = _digits()
    X, y = X[:120], y[:120]
    counts = np.random.RandomState(3).randint(1, 4, size=len(y))
    Xd, yd = np.repeat(X, counts, axis=0), np.repeat(y, counts)
    common = dict(solver=solver, hidden_layer_sizes=(9,), alpha=0.3, max_iter=1, shuffle=False,
                  momentum=0.0, learning_rate_init=0.1, random_state=0)
    weighted = backprop.MLPClassifier(batch_size=len(y), **common).fit(X, y, sample_weight=counts)
    repeated = backprop.MLPClassifier(batch_size=len(yd), **common).fit(Xd, yd)
    for a, b in zip(weighted.coefs_ + weighted.intercepts_, repeated.coefs_ + repeated.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(weighted.loss_, repeated.loss_, rtol=1e-9)
    unweighted = backprop.MLPClassifier(batch_size=len(y), **common).fit(X, y)
    assert not np.allclose(unweighted.coefs_[0], weighted.coefs_[0])


def test_class_weight_is_scikit_learns_compute_class_weight():
    X, y = _digits()
    y = np.where(y < 3, y, 3)  # unbalanced: classes 0, 1, 2 against a large class 3
    common = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    classes = np.unique(y)
    balanced = compute_class_weight("balanced", classes=classes, y=y)
    assert balanced.max() / balanced.min() > 3
    by_name = backprop.MLPClassifier(class_weight="balanced", **common).fit(X, y)
    by_hand = backprop.MLPClassifier(**common).fit(X, y, sample_weight=balanced[y])
    for a, b in zip(by_name.coefs_, by_hand.coefs_):
        np.testing.assert_array_equal(a, b)
    table = {0: 2.0, 1: 1.0, 2: 0.5, 3: 1.5}
    row_weights = np.array([table[c] for c in y]) * np.linspace(0.5, 1.5, len(y))
    by_dict = backprop.MLPClassifier(class_weight=table, **common).fit(
        X, y, sample_weight=np.linspace(0.5, 1.5, len(y)))
    by_rows = backprop.MLPClassifier(**common).fit(X, y, sample_weight=row_weights)
    for a, b in zip(by_dict.coefs_, by_rows.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    plain = backprop.MLPClassifier(**common).fit(X, y)
    assert not np.allclose(plain.coefs_[0], by_name.coefs_[0])


def test_bad_weights_raise():
    X, y = _digits()
    with pytest.raises(ValueError, match="sample_weight"):
        backprop.MLPClassifier(max_iter=1).fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="class_weight"):
        backprop.MLPClassifier(class_weight="bogus").fit(X, y)
    with pytest.raises(ValueError, match="balanced"):
        backprop.MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=np.unique(y))


@pytest.mark.parametrize("params", SOLVERS + [dict(solver="lbfgs")],
                         ids=["sgd", "adam", "lbfgs"])
def test_poisson_matches_scikit_learn(params):
    X, y = _counts()
    common = dict(loss="poisson", hidden_layer_sizes=(10,), activation="tanh", alpha=0.01,
                  max_iter=1, batch_size=50, random_state=0, **params)
    if params["solver"] == "sgd":
        common["learning_rate_init"] = 0.01
    ours, theirs = backprop.MLPRegressor(**common), SkRegressor(**common)
    _warm_epochs(ours, theirs, X, y, 3)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    _assert_same(ours, theirs)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-6)
    assert (ours.predict(X) > 0).all()


def test_poisson_with_sample_weight_matches_scikit_learn():
    X, y = _counts()
    weights = np.random.RandomState(4).uniform(0.2, 2.0, size=len(y))
    common = dict(loss="poisson", hidden_layer_sizes=(6,), alpha=0.1, max_iter=1, batch_size=64,
                  learning_rate_init=0.01, random_state=0)
    ours, theirs = backprop.MLPRegressor(**common), SkRegressor(**common)
    _warm_epochs(ours, theirs, X, y, 2, sample_weight=weights)
    _assert_same(ours, theirs)


def test_poisson_refuses_negative_targets():
    X, y = _counts()
    with pytest.raises(ValueError, match="poisson"):
        backprop.MLPRegressor(loss="poisson", max_iter=1).fit(X, y - 1.0)


def _one_full_batch_step(solver, alpha, **params):
    """Weights before and after one full-batch epoch (a fresh optimiser) of a tanh regressor."""
    X, y = make_regression(n_samples=40, n_features=3, random_state=0)
    y = y / 50.0
    reg = backprop.MLPRegressor(hidden_layer_sizes=(5,), activation="tanh", solver=solver,
                                alpha=alpha, batch_size=40, shuffle=False, max_iter=1,
                                random_state=0, **params).fit(X, y)
    before = ([c.copy() for c in reg.coefs_], [b.copy() for b in reg.intercepts_])
    reg.set_params(warm_start=True).fit(X, y)
    return X, y, before, reg


def _numpy_gradients(X, y, coefs, intercepts):
    """∂(½·mean (a − y)²)/∂θ for a one-hidden-layer tanh network, written out in NumPy."""
    h = np.tanh(X @ coefs[0] + intercepts[0])
    out = h @ coefs[1] + intercepts[1]
    delta2 = (out - y.reshape(-1, 1)) / len(X)
    delta1 = (delta2 @ coefs[1].T) * (1 - h**2)
    return [X.T @ delta1, h.T @ delta2], [delta1.sum(axis=0), delta2.sum(axis=0)]


def test_adamw_step_is_decoupled_decay_then_adam():
    eta, alpha, b1, b2, eps = 0.01, 0.5, 0.9, 0.999, 1e-8
    X, y, (coefs, intercepts), reg = _one_full_batch_step(
        "adamw", alpha, learning_rate_init=eta, beta_1=b1, beta_2=b2, epsilon=eps)
    gw, gb = _numpy_gradients(X, y, coefs, intercepts)

    def step(p, g, decay):
        m, v = (1 - b1) * g, (1 - b2) * g * g
        return p * (1 - eta * decay) - eta / (1 - b1) * m / (np.sqrt(v) / np.sqrt(1 - b2) + eps)

    for c, g, got in zip(coefs, gw, reg.coefs_):
        np.testing.assert_allclose(got, step(c, g, alpha), rtol=1e-9, atol=1e-12)
    for b, g, got in zip(intercepts, gb, reg.intercepts_):
        np.testing.assert_allclose(got, step(b, g, 0.0), rtol=1e-9, atol=1e-12)


def test_rmsprop_step_adds_the_penalty_to_the_gradient():
    eta, alpha, b2, eps = 0.01, 0.5, 0.99, 1e-8
    X, y, (coefs, intercepts), reg = _one_full_batch_step(
        "rmsprop", alpha, learning_rate_init=eta, beta_2=b2, epsilon=eps)
    gw, gb = _numpy_gradients(X, y, coefs, intercepts)
    gw = [g + alpha * c / len(X) for g, c in zip(gw, coefs)]

    def step(p, g):
        return p - eta * g / (np.sqrt((1 - b2) * g * g) + eps)

    for c, g, got in zip(coefs, gw, reg.coefs_):
        np.testing.assert_allclose(got, step(c, g), rtol=1e-9, atol=1e-12)
    for b, g, got in zip(intercepts, gb, reg.intercepts_):
        np.testing.assert_allclose(got, step(b, g), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("solver", ["adamw", "rmsprop"])
def test_new_solvers_learn_and_support_partial_fit(solver):
    X, y = _digits()
    clf = backprop.MLPClassifier(solver=solver, max_iter=30, random_state=0).fit(X, y)
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    assert clf.score(X, y) > 0.9
    part = backprop.MLPClassifier(solver=solver, random_state=0)
    for _ in range(3):
        part.partial_fit(X, y, classes=np.unique(y))
    assert part.n_iter_ == 1 and len(part.loss_curve_) == 3


def test_early_stopping_with_sample_weight_matches_scikit_learn():
    """The validation part takes its rows' weights (split with them) and is scored with them."""
    X, y = _digits()
    weights = np.random.RandomState(5).uniform(0.1, 3.0, size=len(y))
    common = dict(hidden_layer_sizes=(12,), alpha=0.01, max_iter=1, batch_size=64,
                  learning_rate_init=0.01, early_stopping=True, random_state=0)
    ours, theirs = backprop.MLPClassifier(**common), SkClassifier(**common)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
        ours.fit(X, y)
        ours.coefs_ = [c.copy() for c in theirs.coefs_]
        ours.intercepts_ = [b.copy() for b in theirs.intercepts_]
        for est in (ours, theirs):
            # the first fits' validation records differ (their initialisations did)
            est.best_validation_score_, est.validation_scores_ = -np.inf, []
            est._no_improvement_count = 0
            est.set_params(warm_start=True, shuffle=False, max_iter=4)
            est.fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-12)
    for a, b in zip(ours.coefs_, theirs.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-12)
    assert len(ours.validation_scores_) == 4


def test_poisson_model_file_round_trip(tmp_path):
    X, y = _counts()
    reg = backprop.MLPRegressor(loss="poisson", hidden_layer_sizes=(6,), max_iter=5,
                                random_state=0).fit(X, y)
    reg.save(tmp_path / "counts.safetensors")
    again = backprop.load(tmp_path / "counts.safetensors")
    assert again.out_activation_ == "exp" and again.loss == "poisson"
    np.testing.assert_allclose(again.predict(X), reg.predict(X), rtol=1e-5)
