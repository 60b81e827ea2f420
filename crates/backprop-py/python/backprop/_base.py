"""``_BaseMLP``: what the two estimators share (parameters, the Rust core, fitting's
validation, prediction, ``trace``, ``gradient_check``, ``save``)."""

import json
import os
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import _core
from ._files import _jsonable
from ._training import _TrainingMixin

_STOCHASTIC_SOLVERS = ["sgd", "adam", "adamw", "rmsprop"]

# Each estimator class's constructor parameters (scikit-learn reads them from the signature of
# __init__ on every get_params call), and the parameter sets that passed validation: a set
# checked once is valid for good, and small fits spent a tenth of a millisecond on each.
_PARAM_NAMES = {}
_VALID_PARAMS = {}
_VALID_PARAMS_KEPT = 256


def _typed(value):
    """A hashable key for a parameter value that tells apart values of different types
    (True from 1, 1 from 1.0), or None when the value cannot be a key."""
    if isinstance(value, tuple):
        parts = tuple(_typed(v) for v in value)
        return None if any(p is None for p in parts) else (tuple, parts)
    try:
        hash(value)
    except TypeError:
        return None
    return (type(value), value)


class _BaseMLP(_TrainingMixin, BaseEstimator):
    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [
            StrOptions({"identity", "logistic", "tanh", "relu", "gelu", "leaky_relu"})
        ],
        "solver": [StrOptions({"lbfgs", "sgd", "adam", "adamw", "rmsprop"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "n_threads": [None, Interval(Integral, 1, None, closed="left")],
    }

    @classmethod
    def _get_param_names(cls):
        names = _PARAM_NAMES.get(cls)
        if names is None:
            names = _PARAM_NAMES[cls] = super()._get_param_names()
        return names

    def _validate_params(self):
        """scikit-learn's parameter validation, skipped for a parameter set that has passed
        it before (invalid sets are never kept, so they raise every time)."""
        params = self.get_params(deep=False)
        key = tuple((name, _typed(value)) for name, value in params.items())
        if any(typed is None for _, typed in key):
            key = None
        if key is not None and (type(self), key) in _VALID_PARAMS:
            return
        super()._validate_params()
        if key is not None:
            if len(_VALID_PARAMS) >= _VALID_PARAMS_KEPT:
                _VALID_PARAMS.clear()
            _VALID_PARAMS[(type(self), key)] = True

    def _validated_xy(self, X, y, reset, labels=False):
        """What ``validate_data(self, X, y, ...)`` returns for fitting, without its passes, for
        the usual input: a finite float32 or float64 NumPy matrix and a 1-d NumPy vector as
        long, of numbers (or, with ``labels``, of strings or objects, none of them NaN), no
        feature names kept from before. Anything else gives None, and the caller runs
        scikit-learn's validation, which converts it or raises its error."""
        usual = (
            type(X) is np.ndarray
            and type(y) is np.ndarray
            and X.ndim == 2
            and y.ndim == 1
            and X.dtype in (np.float64, np.float32)
            and y.dtype.kind in ("biufOUS" if labels else "biuf")
            and X.shape[0] >= 1
            and X.shape[1] >= 1
            and y.shape[0] == X.shape[0]
            and not hasattr(self, "feature_names_in_")
        )
        if not usual:
            return None
        # a sum is finite only when every value is (an overflow just takes the long way)
        with np.errstate(over="ignore", invalid="ignore"):
            finite = np.isfinite(X.sum()) and (y.dtype.kind != "f" or np.isfinite(y.sum()))
        # scikit-learn's NaN test for objects: NaN is the one value unequal to itself
        finite = finite and not (y.dtype.kind == "O" and (y != y).any())
        if not finite:
            return None
        if reset:
            self.n_features_in_ = X.shape[1]
        elif getattr(self, "n_features_in_", None) != X.shape[1]:
            return None
        return X, y

    # ----------------------------------------------------------------- the Rust core
    def _core_for(self, layer_units, dtype):
        key = (tuple(layer_units), self.activation, self.out_activation_, np.dtype(dtype).name)
        if getattr(self, "_core", None) is None or self._core_key != key:
            self._core = _core.Core(
                list(layer_units), self.activation, self.out_activation_, key[3]
            )
            self._core_key = key
        self._core.set_threads(0 if self.n_threads is None else int(self.n_threads))
        return self._core

    def _layer_units(self):
        return [self.coefs_[0].shape[0]] + [c.shape[1] for c in self.coefs_]

    def _synced_core(self):
        """The core holding the current coefs_ and intercepts_ (they may have been set by hand)."""
        core = self._core_for(self._layer_units(), self.coefs_[0].dtype)
        core.set_coefs(
            [np.asarray(c, dtype=np.float64) for c in self.coefs_],
            [np.asarray(b, dtype=np.float64) for b in self.intercepts_],
        )
        return core

    def _pull(self, core):
        pairs = core.get_coefs()
        self.coefs_ = [c for c, _ in pairs]
        self.intercepts_ = [b for _, b in pairs]

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        state.pop("_core", None)
        state.pop("_core_key", None)
        return state

    # ----------------------------------------------------------------- fitting
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if np.any(np.array(sizes) <= 0):
            raise ValueError("hidden_layer_sizes must be > 0, got %s." % sizes)
        return [int(s) for s in sizes]

    def _initialize(self, y, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        core = self._core_for(layer_units, dtype)
        seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        core.init_glorot(seed, self.activation == "logistic")
        self._pull(core)
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [b.copy() for b in self.intercepts_]
        if self.solver not in _STOCHASTIC_SOLVERS:
            return
        self.loss_curve_ = []
        self.validation_loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _fit(self, X, y, sample_weight=None, incremental=False):
        self._validate_params()
        hidden = self._hidden_sizes()
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y, class_sw = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if class_sw is not None:
            class_sw = np.asarray(class_sw, dtype=X.dtype)
            sample_weight = class_sw if sample_weight is None else sample_weight * class_sw
        if sp.issparse(X):
            X = X.toarray()
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        n_features = X.shape[1]
        layer_units = [n_features] + hidden + [y.shape[1]]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)
        elif self._layer_units() != layer_units:
            raise ValueError(
                "The network's layer sizes %s do not match the data and hidden_layer_sizes %s"
                % (self._layer_units(), layer_units)
            )
        self.n_outputs_ = y.shape[1]
        # a few rows kept for gradient_check()
        self._check_sample = (np.array(X[:10]), np.array(y[:10], dtype=X.dtype))
        if self.solver in _STOCHASTIC_SOLVERS:
            self._fit_stochastic(X, y, sample_weight, incremental)
        else:
            self._fit_lbfgs(X, y, sample_weight)
        if not all(np.isfinite(w).all() for w in self.coefs_ + self.intercepts_):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        return self

    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y, rows weighted by ``sample_weight``
        (default: all 1): each batch's data cost is the weighted mean over its rows and its
        penalty α/(2B)·Σw² takes B = the batch's weight sum."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    # ----------------------------------------------------------------- prediction
    def _forward_pass_fast(self, X, check_input=True):
        table = getattr(self, "_table_metadata", None)
        if table is not None and hasattr(X, "columns"):
            # a command-line model and a DataFrame: its columns read as `backprop predict`
            # reads a CSV file (by name, categories one-hot, missing cells filled)
            X = _core.encode_table(table, X.to_csv(index=False).encode())
            check_input = False
        if check_input:
            # NaN and infinity are found by the engine in the first layer's product (a pass
            # over X cost a quarter of a 10,000-row MNIST predict_proba) and reported with
            # scikit-learn's own error below
            X = validate_data(
                self,
                X,
                accept_sparse=["csr", "csc"],
                dtype=(np.float64, np.float32),
                reset=False,
                ensure_all_finite=False,
            )
        if sp.issparse(X):
            X = X.toarray()
        core = self._synced_core()
        scaler = getattr(self, "_input_scaler", None)
        if scaler is not None:  # a command-line model's stored input scaling
            X = (np.asarray(X, dtype=np.float64) - scaler[0]) / scaler[1]
        X = np.asarray(X, dtype=core.dtype)
        out = core.forward(X, check_finite=check_input)
        if out is None:
            # X holds a NaN or an infinity (scikit-learn's error for it), or finite X overflowed
            # in the first layer (no error, as in scikit-learn)
            assert_all_finite(X, estimator_name=type(self).__name__, input_name="X")
            out = core.forward(X)
        target = getattr(self, "_target_scaler", None)
        if target is not None:  # and its target scaling, undone
            out = (out * target[1] + target[0]).astype(out.dtype)
        return out

    # ----------------------------------------------------------------- ours alone
    def _targets(self, X, y):
        if y is None:
            y = self.predict(X)
        if is_classifier(self):
            Y = self._label_binarizer.transform(np.atleast_1d(y) if self.n_outputs_ == 1
                                                else np.atleast_2d(y))
        else:
            Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
        if Y.shape[1] != self.n_outputs_:
            raise ValueError("y has %d outputs, the network %d" % (Y.shape[1], self.n_outputs_))
        return Y

    def trace(self, x, y=None):
        """Forward and backward pass for one example: per layer, z, a and δ = ∂C/∂z.

        ``x`` is one example (n_features,); ``y`` its target (a class label for a classifier,
        values for a regressor; default: the model's own prediction). Returns one dict per
        layer l = 1…L with ``layer``, ``activation``, ``z``, ``a``, ``delta`` and ``grad_a``
        (∂C/∂a), each a 1-D NumPy array, for the per-example cost whose gradient scikit-learn's
        solvers follow (cross-entropy, or ½Σ(a − y)²), without the α penalty.
        """
        check_is_fitted(self)
        X = validate_data(self, np.asarray(x).reshape(1, -1) if np.ndim(x) == 1 else x,
                          dtype=(np.float64, np.float32), reset=False)
        if X.shape[0] != 1:
            raise ValueError("trace takes one example, got %d rows" % X.shape[0])
        Y = self._targets(X, y)
        core = self._synced_core()
        layers = core.trace(np.asarray(X, dtype=core.dtype), np.asarray(Y, dtype=core.dtype))
        for layer in layers:
            for key in ("z", "a", "delta", "grad_a"):
                layer[key] = layer[key][0]
        return layers

    def gradient_check(self, X=None, y=None):
        """Backprop's gradient against central finite differences, computed in float64.

        On ``X``, ``y`` (default: up to ten rows of the last fit). Returns one dict per layer
        with ``layer``, ``max_relative_error``, ``max_absolute_error``, ``worst`` (the
        parameter), ``checked`` and ``skipped`` (parameters whose ±h step crosses a ReLU kink).
        """
        check_is_fitted(self)
        if X is None:
            X, Y = self._check_sample
        else:
            X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
            Y = self._targets(X, y)
        core = self._synced_core()
        return core.gradient_check(np.asarray(X, dtype=core.dtype), np.asarray(Y, dtype=core.dtype))

    def save(self, path):
        """Writes the model in the command line's safetensors format (float32 weights), so that
        ``backprop predict --model PATH`` runs it; ``backprop.load(PATH)`` reads it back."""
        check_is_fitted(self)
        core = self._synced_core()
        names = getattr(self, "feature_names_in_", None)
        names = [str(n) for n in names] if names is not None else [
            "x%d" % i for i in range(self.n_features_in_)
        ]
        # a class_weight dict's keys would come back from JSON as strings
        params = {k: v for k, v in self.get_params().items()
                  if k not in ("random_state", "class_weight") and _jsonable(v)}
        params["hidden_layer_sizes"] = self._hidden_sizes()
        saved = {"estimator": type(self).__name__, "params": params,
                 "feature_names_in": hasattr(self, "feature_names_in_"),
                 "n_iter": int(self.n_iter_), "t": int(self.t_),
                 "loss_curve": [float(v) for v in getattr(self, "loss_curve_", [])]}
        class_names = None
        if is_classifier(self):
            class_names = [str(c) for c in self.classes_]
            saved["multilabel"] = self._label_binarizer.y_type_.startswith("multilabel")
            if all(isinstance(c, (str, np.str_, bool, np.bool_, Integral)) for c in self.classes_):
                saved["classes"] = [c.item() if hasattr(c, "item") else c for c in self.classes_]
        task = "classification" if is_classifier(self) else "regression"
        core.save(os.fspath(path), task, names, class_names, json.dumps({"sklearn": saved}))

    def _score_with_function(self, X, y, score_function, sample_weight=None):
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
