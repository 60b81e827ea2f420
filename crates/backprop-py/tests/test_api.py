"""The estimators' behaviour: input kinds, fitted attributes, errors, threads, pickling, pipelines."""

import multiprocessing
import pickle
import re
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_iris, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import backprop

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_fitted_attributes_have_scikit_learn_shapes(iris):
    X, y = iris
    clf = backprop.MLPClassifier(hidden_layer_sizes=(7, 5), max_iter=20, learning_rate_init=0.05,
                                 random_state=0).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(4, 7), (7, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [(7,), (5,), (3,)]
    assert list(clf.classes_) == [0, 1, 2]
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3 and clf.n_features_in_ == 4
    assert clf.out_activation_ == "softmax"
    assert clf.n_iter_ == 20 == len(clf.loss_curve_) and clf.t_ == 20 * len(X)
    assert clf.loss_ == clf.loss_curve_[-1] and clf.best_loss_ == min(clf.loss_curve_)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, y) > 0.8


def test_string_labels_and_binary(iris):
    X, y = iris
    labels = np.array(["setosa", "other"])[(y > 0).astype(int)]
    clf = backprop.MLPClassifier(max_iter=30, random_state=0).fit(X, labels)
    assert clf.out_activation_ == "logistic" and clf.coefs_[-1].shape == (100, 1)
    assert set(clf.predict(X)) <= {"setosa", "other"}
    assert clf.predict_proba(X).shape == (150, 2)
    assert clf.score(X, labels) > 0.95


def test_float32_and_fortran_order_give_the_same_predictions(iris):
    X, y = iris
    X32 = X.astype(np.float32)
    a = backprop.MLPClassifier(max_iter=10, random_state=0).fit(X32, y)
    assert a.coefs_[0].dtype == np.float32
    assert a.predict_proba(X32).dtype == np.float32
    b = backprop.MLPClassifier(max_iter=10, random_state=0).fit(np.asfortranarray(X32), y)
    for p, q in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(a.predict_proba(np.asfortranarray(X32)), a.predict_proba(X32))
    c = backprop.MLPClassifier(max_iter=10, random_state=0).fit(X, y)
    assert c.coefs_[0].dtype == np.float64


def test_x_read_in_place_or_copied_gives_the_same_fit(iris):
    # A C-ordered X is read in place while fitting, any other layout copied: a row slice (a
    # view into a larger buffer), a column slice (not contiguous) and copies of both agree.
    X, y = iris
    wide = np.hstack([X, X]).astype(np.float32)
    fit = lambda A, t: backprop.MLPClassifier(max_iter=5, random_state=0).fit(A, t).coefs_
    for view in (wide[10:, :4], wide[10:]):
        copy = np.ascontiguousarray(view)
        before = view.copy()
        for p, q in zip(fit(view, y[10:]), fit(copy, y[10:])):
            np.testing.assert_array_equal(p, q)
        np.testing.assert_array_equal(view, before)  # X is only read


def test_thread_count_does_not_change_results():
    X, y = make_regression(n_samples=2000, n_features=300, random_state=0)
    y = y / 100.0
    fits = [
        backprop.MLPRegressor(hidden_layer_sizes=(256,), max_iter=3, random_state=0,
                              n_threads=n).fit(X.astype(np.float32), y)
        for n in (1, 2, None)
    ]
    for other in fits[1:]:
        for p, q in zip(fits[0].coefs_, other.coefs_):
            np.testing.assert_array_equal(p, q)


def test_prediction_blocks_give_the_same_bits_on_any_thread_count():
    # more rows than one block of the engine's inference, with a ragged last block
    rng = np.random.RandomState(0)
    X = rng.randn(1500, 40)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    with pytest.raises(ValueError, match="NaN"):
        backprop.MLPClassifier(max_iter=2).fit(X, np.where(y > 1, np.nan, names))
    fast = backprop.MLPClassifier(max_iter=3, random_state=0).fit(X, names)
    listed = backprop.MLPClassifier(max_iter=3, random_state=0).fit(X, names.tolist())
    assert list(fast.classes_) == list(listed.classes_) == ["setosa", "versicolor", "virginica"]
    np.testing.assert_array_equal(fast.coefs_[0], listed.coefs_[0])
    for dtype in (np.float32, np.float64):
        clf = backprop.MLPClassifier(hidden_layer_sizes=(30, 20), max_iter=3, random_state=0,
                                     n_threads=1).fit(X.astype(dtype), y)
        expected = clf.predict_proba(X.astype(dtype))
        for n in (2, 3, 4, 8):
            clf.set_params(n_threads=n)
            np.testing.assert_array_equal(clf.predict_proba(X.astype(dtype)), expected)
        # the first rows alone: the same network applied to fewer rows
        np.testing.assert_allclose(clf.predict_proba(X[:7].astype(dtype)), expected[:7],
                                   rtol=1e-5, atol=1e-6)


# set before forking: a forked child sees the parent's objects as they are, Rust cores included
# (arguments to Pool.map would travel pickled, and a pickled estimator rebuilds its core)
_FORK_STATE = None


def _fork_child_work(_):
    clf, X, y, n_threads = _FORK_STATE
    fresh = backprop.MLPClassifier(max_iter=2, random_state=0, n_threads=n_threads).fit(X, y)
    return clf.predict_proba(X), fresh.predict_proba(X)


@pytest.mark.skipif(sys.platform != "linux", reason="the fork start method is Linux's default")
@pytest.mark.parametrize("n_threads", [None, 2])
def test_a_forked_child_predicts_and_fits(n_threads):
    # the parent's thread pools have no threads in a forked child: work handed to them hung
    rng = np.random.RandomState(0)
    X = rng.randn(1200, 20)
    y = (X[:, 0] > 0).astype(int)
    clf = backprop.MLPClassifier(max_iter=2, random_state=0, n_threads=n_threads).fit(X, y)
    expected = clf.predict_proba(X)
    fresh = backprop.MLPClassifier(max_iter=2, random_state=0, n_threads=n_threads).fit(X, y)
    global _FORK_STATE
    _FORK_STATE = (clf, X, y, n_threads)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        result = pool.map_async(_fork_child_work, range(2))
        for proba, fresh_proba in result.get(timeout=120):
            np.testing.assert_array_equal(proba, expected)
            np.testing.assert_array_equal(fresh_proba, fresh.predict_proba(X))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prediction_refuses_nan_and_infinity_with_scikit_learns_error(bad, dtype):
    rng = np.random.RandomState(0)
    X = rng.randn(700, 6).astype(dtype)
    y = (X[:, 0] > 0).astype(int)
    clf = backprop.MLPClassifier(max_iter=3, random_state=0).fit(X, y)
    Z = X.copy()
    Z[650, 3] = bad  # in the third block of the engine's inference
    with pytest.raises(ValueError, match="NaN" if np.isnan(bad) else "infinity"):
        clf.predict_proba(Z)
    # a finite value whose product overflows is no error, as in scikit-learn
    Z = X.copy()
    Z[3, 1] = np.finfo(dtype).max
    proba = clf.predict_proba(Z)
    assert np.isfinite(np.delete(proba, 3, axis=0)).all()


def test_pandas_keeps_feature_names(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = backprop.MLPClassifier(max_iter=5, random_state=0).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"a": "z"}))


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_equals_dense(iris, fmt):
    X, y = iris
    dense = backprop.MLPClassifier(max_iter=5, random_state=0).fit(X, y)
    sparse = backprop.MLPClassifier(max_iter=5, random_state=0).fit(sp.csr_matrix(X).asformat(fmt), y)
    for p, q in zip(dense.coefs_, sparse.coefs_):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X)))


def test_bad_input_raises_scikit_learn_exceptions(iris):
    X, y = iris
    clf = backprop.MLPClassifier(max_iter=2)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    with pytest.raises(ValueError):
        backprop.MLPClassifier(hidden_layer_sizes=(0,)).fit(X, y)
    with pytest.raises(ValueError, match="solver"):
        backprop.MLPClassifier(solver="bogus").fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(np.where(X > 2, np.nan, X), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(X, y[:-1])
    clf.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError):
        clf.predict(np.ones(4))
    with pytest.raises(ValueError, match="early_stopping"):
        backprop.MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="classes"):
        backprop.MLPClassifier(warm_start=True, max_iter=2).fit(X, y).fit(X[y > 0], y[y > 0])
    with pytest.raises(ValueError, match="non-finite"):
        backprop.MLPRegressor(solver="sgd", learning_rate_init=10.0, max_iter=5).fit(
            X, np.full(len(X), 1e30))


def test_a_parameter_set_checked_once_still_refuses_invalid_values(iris):
    X, y = iris
    from sklearn.utils._param_validation import InvalidParameterError

    clf = backprop.MLPClassifier(max_iter=2, shuffle=True).fit(X, y)
    clf.fit(X, y)  # the same set again: taken as checked
    for bad in [dict(shuffle=1), dict(alpha=-1.0), dict(max_iter=2.0), dict(activation="bogus"),
                dict(hidden_layer_sizes=(5, "a"))]:
        with pytest.raises((InvalidParameterError, ValueError, TypeError)):
            backprop.MLPClassifier(max_iter=2, shuffle=True).set_params(**bad).fit(X, y)
    # unhashable values are checked every time
    backprop.MLPClassifier(max_iter=2, hidden_layer_sizes=[5]).fit(X, y)
    with pytest.raises(InvalidParameterError):
        backprop.MLPClassifier(max_iter=2, hidden_layer_sizes=[5], alpha=-1.0).fit(X, y)


def test_usual_input_is_taken_as_scikit_learns_validation_takes_it(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = backprop.MLPClassifier(max_iter=2, random_state=0).fit(frame, y)
    assert hasattr(clf, "feature_names_in_")
    clf.fit(X, y)  # plain arrays after a DataFrame: the names go, as in scikit-learn
    assert not hasattr(clf, "feature_names_in_") and clf.n_features_in_ == 4
    clf.fit(X[:, :3], y)
    assert clf.n_features_in_ == 3
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="infinity"):
        backprop.MLPClassifier(max_iter=2).fit(np.where(X > 2, np.inf, X), y)
    # finite values whose sum overflows take the long way, quietly
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert backprop.MLPClassifier()._validated_xy(np.full_like(X, 1e307), y, True) is None
        assert backprop.MLPClassifier()._validated_xy(X, y, True) is not None
    with pytest.raises(ValueError, match="NaN"):
        backprop.MLPRegressor(max_iter=2).fit(X, np.where(y > 1, np.nan, y))
    for dtype in (np.float32, np.float64):
        fast = backprop.MLPClassifier(max_iter=3, random_state=0).fit(X.astype(dtype), y)
        # y as a list: scikit-learn's validation
        listed = backprop.MLPClassifier(max_iter=3, random_state=0).fit(X.astype(dtype), y.tolist())
        assert fast.coefs_[0].dtype == listed.coefs_[0].dtype
        for p, q in zip(fast.coefs_, listed.coefs_):
            np.testing.assert_array_equal(p, q)


def test_pickle_round_trip(iris):
    X, y = iris
    clf = backprop.MLPClassifier(max_iter=5, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    again.partial_fit(X, y)  # still trainable after unpickling
    assert len(again.loss_curve_) == 6 and again.t_ == 6 * len(X)


def test_partial_fit_and_warm_start(iris):
    X, y = iris
    clf = backprop.MLPClassifier(random_state=0)
    for _ in range(5):
        clf.partial_fit(X, y, classes=np.unique(y))
    # as in scikit-learn, n_iter_ counts the epochs of the last call
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 5 and clf.t_ == 5 * len(X)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    reg = backprop.MLPRegressor(warm_start=True, max_iter=3, random_state=0).fit(X, y.astype(float))
    first = [c.copy() for c in reg.coefs_]
    reg.fit(X, y.astype(float))
    assert len(reg.loss_curve_) == 6
    assert not np.array_equal(first[0], reg.coefs_[0])
    assert not hasattr(backprop.MLPClassifier(solver="lbfgs"), "partial_fit")


def test_early_stopping_keeps_the_best_validation_weights():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = backprop.MLPClassifier(early_stopping=True, random_state=0, max_iter=200).fit(X, y)
    assert clf.best_loss_ is None and clf.best_validation_score_ == max(clf.validation_scores_)
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.validation_loss_curve_)
    assert clf.n_iter_ < 200
    assert clf.score(X, y) > 0.95


def test_adaptive_learning_rate_divides_by_five(iris):
    X, y = iris
    clf = backprop.MLPClassifier(solver="sgd", learning_rate="adaptive", learning_rate_init=0.5,
                                 tol=10.0, n_iter_no_change=1, max_iter=4, random_state=0)
    clf.fit(X, y)
    assert clf.n_iter_ == 4
    assert clf._learning_rate == pytest.approx(0.5 / 5 ** 1)


def test_pipeline_grid_search_and_cross_validation(iris):
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), backprop.MLPClassifier(max_iter=200, random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.85
    grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(5,), (20,)],
                               "mlpclassifier__alpha": [1e-4, 1e-2]}, cv=3, n_jobs=2)
    grid.fit(X, y)
    assert grid.best_score_ > 0.85
    assert len(grid.cv_results_["params"]) == 4


def test_regressor_fits_a_curve():
    X, y = make_regression(n_samples=400, n_features=5, noise=1.0, random_state=0)
    reg = backprop.MLPRegressor(hidden_layer_sizes=(50,), max_iter=500, learning_rate_init=0.01,
                                random_state=0).fit(X, y)
    assert reg.out_activation_ == "identity" and reg.predict(X).shape == (400,)
    assert reg.score(X, y) > 0.95


def test_verbose_prints_scikit_learns_lines(iris, capsys):
    X, y = iris
    backprop.MLPClassifier(max_iter=2, verbose=True, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out and "Iteration 2, loss = " in out


def test_trace_gives_z_a_and_delta_per_layer(iris):
    X, y = iris
    clf = backprop.MLPClassifier(hidden_layer_sizes=(6,), activation="tanh", max_iter=20,
                                 random_state=0).fit(X, y)
    layers = clf.trace(X[60], y[60])
    assert [l["layer"] for l in layers] == [1, 2]
    assert [l["activation"] for l in layers] == ["tanh", "softmax"]
    hidden, output = layers
    np.testing.assert_allclose(hidden["z"], X[60] @ clf.coefs_[0] + clf.intercepts_[0])
    np.testing.assert_allclose(hidden["a"], np.tanh(hidden["z"]))
    np.testing.assert_allclose(output["a"], clf.predict_proba(X[60:61])[0])
    np.testing.assert_allclose(output["delta"], output["a"] - np.eye(3)[y[60]], atol=1e-12)
    # BP2: δ¹ = (W² δ²) ⊙ tanh′(z¹), with coefs_ in scikit-learn's (n_in, n_out) layout
    np.testing.assert_allclose(hidden["delta"],
                               (clf.coefs_[1] @ output["delta"]) * (1 - hidden["a"] ** 2))
    with pytest.raises(ValueError):
        clf.trace(X[:2])


def test_gradient_check_reports_each_layer(iris):
    X, y = iris
    clf = backprop.MLPClassifier(hidden_layer_sizes=(6, 4), activation="tanh", max_iter=5,
                                 random_state=0).fit(X, y)
    report = clf.gradient_check()
    assert [r["layer"] for r in report] == [1, 2, 3]
    assert sum(r["checked"] for r in report) == 4 * 6 + 6 + 6 * 4 + 4 + 4 * 3 + 3
    assert max(r["max_relative_error"] for r in report) < 1e-5
    reg = backprop.MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y * 1.0)
    assert len(reg.gradient_check(X[:5], y[:5] * 1.0)) == 2


def test_ctrl_c_ends_training_with_a_warning_and_a_usable_model():
    """Ctrl-C (here `_thread.interrupt_main`, what SIGINT's handler does) ends a fit of 100,000
    epochs with scikit-learn's warning: the engine runs Python's signal check before each
    epoch, so the fit ends within an epoch of it."""
    import _thread
    import signal
    import threading
    import time

    X, y = make_regression(n_samples=3000, n_features=50, random_state=0)
    reg = backprop.MLPRegressor(hidden_layer_sizes=(64,), max_iter=100000, tol=0.0,
                                n_iter_no_change=100000, random_state=0)
    # interrupt_main() does nothing while SIGINT is ignored or has its default action (a
    # process started in the background by a non-interactive shell, or a library that changed
    # it): set Python's own handler for this test.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.0, _thread.interrupt_main)
    # A second interrupt long after the first, so that a lost first one fails the bound below
    # in seconds instead of running all 100,000 epochs (minutes).
    watchdog = threading.Timer(30.0, _thread.interrupt_main)
    start = time.monotonic()
    timer.start()
    watchdog.start()
    try:
        with pytest.warns(UserWarning, match="Training interrupted by user"):
            reg.fit(X, y / 100.0)
    finally:
        timer.cancel()
        watchdog.cancel()
        signal.signal(signal.SIGINT, previous)
    elapsed = time.monotonic() - start
    assert elapsed < 20.0, "the fit ran %.1f s past an interrupt after 1 s" % elapsed
    assert 0 < reg.n_iter_ < 100000 and len(reg.loss_curve_) == reg.n_iter_
    assert np.isfinite(reg.predict(X)).all()


def test_shuffling_draws_what_scikit_learns_shuffle_draws():
    from sklearn.utils import shuffle

    idx = np.arange(37)
    a, b = np.random.RandomState(5), np.random.RandomState(5)
    for _ in range(3):
        np.testing.assert_array_equal(shuffle(idx, random_state=a), idx[b.permutation(37)])


@pytest.mark.parametrize("labels", [
    np.array([3, 1, 2, 1, 3, 2]),
    np.array([0, 1, 1, 0], dtype=np.int32),
    np.array([5, 5, 5], dtype=np.uint8),
    np.array([True, False, True]),
    np.array(["b", "a", "c", "a"]),
    np.array(["setosa", "virginica", "setosa"], dtype=object),
    np.array(["b", 1, "a"], dtype=object),  # mixed: NumPy's own error, through LabelBinarizer
    np.array([1.0, 3.0, 1.0]),
    np.array([0.5, 1.5, 2.5]),  # continuous: LabelBinarizer's own error
    np.array([[1, 0], [0, 1], [1, 1]]),
])
def test_the_fitted_label_binarizer_is_label_binarizers(labels):
    """fit's label binarizer, set directly for 1-d integer, boolean and string labels, has
    LabelBinarizer().fit's attributes (type, dtype of the classes) and transform; other labels
    go to LabelBinarizer and its errors."""
    from sklearn.preprocessing import LabelBinarizer

    from backprop._mlp import _fitted_label_binarizer

    try:
        expected = LabelBinarizer().fit(labels)
    except (TypeError, ValueError) as error:
        with pytest.raises(type(error), match=re.escape(str(error))):
            _fitted_label_binarizer(labels)
        return
    ours = _fitted_label_binarizer(labels)
    assert ours.y_type_ == expected.y_type_ and ours.sparse_input_ == expected.sparse_input_
    assert ours.classes_.dtype == expected.classes_.dtype
    np.testing.assert_array_equal(ours.classes_, expected.classes_)
    np.testing.assert_array_equal(ours.transform(labels), expected.transform(labels))


@pytest.mark.parametrize("labels", [
    np.array([3, 1, 2, 1, 3, 2]),
    np.array(["b", "a", "b", "b", "a", "a"]),
    np.array([1.0, 3.0, 1.0, 3.0, 1.0, 3.0]),
    np.array([True, False, False, True, True, False]),
])
def test_binarized_targets_are_label_binarizers(labels):
    """The fast one-hot of the class labels is LabelBinarizer's, also for a label it did not
    see (which the fast path hands to LabelBinarizer)."""
    from sklearn.preprocessing import LabelBinarizer

    clf = backprop.MLPClassifier()
    clf._label_binarizer = LabelBinarizer().fit(labels)
    expected = clf._label_binarizer.transform(labels).astype(bool)
    assert expected.any(axis=0).all()
    np.testing.assert_array_equal(clf._binarize(labels), expected)
    unseen = np.concatenate([labels, np.array([{"U": "z", "b": True}.get(labels.dtype.kind, 9)],
                                              dtype=labels.dtype)])
    if labels.dtype.kind != "b":
        np.testing.assert_array_equal(clf._binarize(unseen),
                                      clf._label_binarizer.transform(unseen).astype(bool))
