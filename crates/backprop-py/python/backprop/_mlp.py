"""scikit-learn-compatible multi-layer perceptrons trained by backprop's Rust engine.

The estimators mirror scikit-learn's ``MLPClassifier`` and ``MLPRegressor``: the same
constructor parameters and defaults, the same validation, the same fitted attributes. The
minibatch passes (forward, backward, optimiser step) run in Rust with the GIL released, and so
do the per-epoch rules of scikit-learn's ``_fit_stochastic`` when nothing needs Python between
epochs (``_training.py``). This file holds the two estimators; ``_base.py`` what they share.
"""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import _BaseMLP
from ._files import load

__all__ = ["MLPClassifier", "MLPRegressor", "load"]


def _fitted_label_binarizer(y):
    """``LabelBinarizer().fit(y)``. For a 1-d array of integers, booleans or strings, the
    common case, the same attributes are set directly: its ``fit`` validates its parameters and
    runs ``type_of_target`` and ``unique_labels`` (which runs it again), about a millisecond,
    which is a tenth of an iris fit. Anything else goes to ``fit`` itself, with its errors."""
    if isinstance(y, np.ndarray) and y.ndim == 1 and len(y) > 0:
        kind = y.dtype.kind
        if kind in "iub" or (kind in "OU" and all(isinstance(v, str) for v in y.tolist())):
            binarizer = LabelBinarizer()
            unique = np.unique(y)
            # type_of_target: more than two distinct labels is multiclass, else binary;
            # unique_labels: the sorted labels as NumPy makes an array of them (strings from an
            # object array become a unicode array)
            binarizer.y_type_ = "multiclass" if len(unique) > 2 else "binary"
            binarizer.sparse_input_ = False
            binarizer.classes_ = np.asarray(sorted(unique)) if kind == "O" else unique
            return binarizer
    return LabelBinarizer().fit(y)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier, a drop-in for scikit-learn's ``MLPClassifier``.

    Parameters are scikit-learn's, with the same meanings and defaults, plus ``n_threads``
    (None: all cores; results do not depend on it) and ``class_weight`` (None, "balanced" or
    a dict {class: weight}, multiplying each row's sample weight, as in scikit-learn's other
    classifiers). Solvers: ``lbfgs``, ``sgd``, ``adam``; also ``adamw`` and ``rmsprop``.
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "class_weight": [None, dict, StrOptions({"balanced"})],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        n_threads=None,
        class_weight=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.n_threads = n_threads
        self.class_weight = class_weight

    def _validate_input(self, X, y, incremental, reset):
        checked = self._validated_xy(X, y, reset, labels=True)
        X, y = checked if checked is not None else validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = _fitted_label_binarizer(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        class_sw = None
        if self.class_weight is not None:
            if incremental and self.class_weight == "balanced":
                raise ValueError(
                    "class_weight 'balanced' is not supported for partial_fit: pass "
                    "compute_class_weight('balanced', classes=classes, y=y) as a dict instead."
                )
            class_sw = compute_sample_weight(self.class_weight, y)
        return X, self._binarize(y), class_sw

    def _binarize(self, y):
        """LabelBinarizer.transform(y) as booleans. For class labels (not multi-label) it is
        one comparison per row against classes_ found by a binary search, which gives the
        same matrix without transform's repeated target-type checks (a millisecond of a
        small fit); labels outside classes_ go to transform, which raises its error."""
        binarizer = self._label_binarizer
        if y.ndim == 1 and binarizer.y_type_ in ("binary", "multiclass"):
            classes = binarizer.classes_
            try:
                where = np.searchsorted(classes, y)
            except TypeError:  # labels NumPy cannot order against classes_
                return binarizer.transform(y).astype(bool)
            where[where == len(classes)] = 0
            if np.array_equal(classes[where], y):
                if len(classes) == 2:
                    return (where == 1).reshape(-1, 1)
                if len(classes) > 2:
                    out = np.zeros((len(y), len(classes)), dtype=bool)
                    out[np.arange(len(y)), where] = True
                    return out
        return binarizer.transform(y).astype(bool)

    def predict(self, X):
        """Predict using the multi-layer perceptron classifier."""
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 2 and not self._label_binarizer.y_type_.startswith("multilabel"):
            # what LabelBinarizer.inverse_transform does for multiclass, for any output width
            return self.classes_[np.argmax(y_pred, axis=1)]
        return self._label_binarizer.inverse_transform(y_pred)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, accuracy_score, sample_weight)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single iteration over the given data."""
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_log_proba(self, X):
        """The log of predict_proba."""
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Probability estimates, one column per class in classes_."""
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, a drop-in for scikit-learn's ``MLPRegressor``.

    Parameters are scikit-learn's, with the same meanings and defaults, plus ``n_threads``.
    Solvers: ``lbfgs``, ``sgd``, ``adam``; also ``adamw`` and ``rmsprop``. Loss:
    ``squared_error`` or ``poisson`` (an exp output and the half Poisson deviance).
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        n_threads=None,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.n_threads = n_threads

    def predict(self, X):
        """Predict using the multi-layer perceptron model."""
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, r2_score, sample_weight)

    def _validate_input(self, X, y, incremental, reset):
        checked = self._validated_xy(X, y, reset)
        X, y = checked if checked is not None else validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError("y must be >= 0 for loss='poisson' (it is a count or a rate)")
        return X, y, None

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single iteration over the given data."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)
