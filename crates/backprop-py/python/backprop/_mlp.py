"""scikit-learn-compatible multi-layer perceptrons trained by backprop's Rust engine.

The estimators mirror scikit-learn's ``MLPClassifier`` and ``MLPRegressor``: the same
constructor parameters and defaults, the same validation, the same fitted attributes. The
minibatch passes (forward, backward, optimiser step) run in Rust with the GIL released; the
per-epoch bookkeeping (learning-rate schedules, stopping rules, early stopping) is here and
follows scikit-learn's ``_fit_stochastic`` line by line.
"""

import json
import os
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

try:  # scikit-learn >= 1.7 (scipy renamed L-BFGS-B's verbosity option)
    from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
except ImportError:  # pragma: no cover

    def _get_additional_lbfgs_options_dict(key, value):
        return {key: value}

from . import _core

_STOCHASTIC_SOLVERS = ["sgd", "adam", "adamw", "rmsprop"]


class _BaseMLP(BaseEstimator):
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

    def _fit_stochastic(self, X, y, sample_weight, incremental):
        core = self._synced_core()
        dtype = np.dtype(core.dtype)
        if not incremental or not getattr(self, "_has_optimizer", False):
            core.reset_optimizer(
                self.solver,
                float(self.learning_rate_init),
                momentum=float(self.momentum),
                nesterov=bool(self.nesterovs_momentum),
                beta_1=float(self.beta_1),
                beta_2=float(self.beta_2),
                epsilon=float(self.epsilon),
            )
            self._has_optimizer = True
        elif core.learning_rate is None:
            # a core rebuilt after unpickling: the optimiser state did not travel
            core.reset_optimizer(self.solver, float(self._learning_rate))
        else:
            core.learning_rate = float(self._learning_rate)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        if early_stopping:
            should_stratify = is_classifier(self) and self.n_outputs_ == 1
            stratify = y if should_stratify else None
            if sample_weight is None:
                X_train, X_val, y_train, y_val = train_test_split(
                    X,
                    y,
                    random_state=self._random_state,
                    test_size=self.validation_fraction,
                    stratify=stratify,
                )
                sw_train = sw_val = None
            else:
                X_train, X_val, y_train, y_val, sw_train, sw_val = train_test_split(
                    X,
                    y,
                    sample_weight,
                    random_state=self._random_state,
                    test_size=self.validation_fraction,
                    stratify=stratify,
                )
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )
            y_val_raw = y_val
            if is_classifier(self):
                y_val = self._label_binarizer.inverse_transform(y_val)
        else:
            X_train, y_train, sw_train = X, y, sample_weight
            X_val = y_val = sw_val = None
        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=np.int64)
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than "
                    "sample size. It is going to be clipped"
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        core.set_data(
            X_train.astype(dtype, copy=False),
            y_train.astype(dtype),
            None if sw_train is None else np.asarray(sw_train, dtype=dtype),
        )
        self.n_iter_ = 0
        if not (early_stopping or self.verbose):
            try:
                self._run_epochs(core, sample_idx, batch_size, incremental)
            finally:
                core.clear_data()
                self._learning_rate = core.learning_rate
            self._pull(core)
            return
        try:
            for _ in range(self.max_iter):
                if self.shuffle:
                    # the draws of sklearn.utils.shuffle(sample_idx, random_state=...), without
                    # its per-call parameter validation (half a millisecond)
                    sample_idx = sample_idx[self._random_state.permutation(n_samples)]
                self.loss_ = core.epoch(sample_idx.tolist(), batch_size, float(self.alpha))
                self.n_iter_ += 1
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
                if early_stopping:
                    self._pull(core)
                    self.validation_loss_curve_.append(
                        core.loss(X_val.astype(dtype, copy=False), y_val_raw.astype(dtype))
                    )
                self._update_no_improvement_count(early_stopping, X_val, y_val, sw_val)
                # the learning rate for the next epoch (scikit-learn's iteration_ends)
                if self.solver == "sgd" and self.learning_rate == "invscaling":
                    core.learning_rate = float(self.learning_rate_init) / (
                        (self.t_ + 1) ** self.power_t
                    )
                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            "tol=%f for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than tol=%f"
                            " for %d consecutive epochs." % (self.tol, self.n_iter_no_change)
                        )
                    if self._trigger_stopping(core, msg):
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) "
                        "reached and the optimization hasn't converged yet." % self.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        finally:
            core.clear_data()
            self._learning_rate = core.learning_rate
        self._pull(core)
        if early_stopping:
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts

    def _run_epochs(self, core, sample_idx, batch_size, incremental):
        """Every epoch of a fit without early stopping or verbose output in one engine call
        (per chunk of orders), with _fit_stochastic's rules applied between epochs there."""
        n_samples = len(sample_idx)
        epochs = 1 if incremental else self.max_iter
        schedule = self.learning_rate if self.solver == "sgd" else "constant"
        # orders are drawn ahead in chunks of at most about a million row indices
        chunk = max(1, min(epochs, (1 << 20) // max(n_samples, 1)))
        done, stop = 0, "done"
        while done < epochs and stop == "done":
            count = min(chunk, epochs - done)
            orders = None
            if self.shuffle:
                rng_state = self._random_state.get_state()
                start_idx = sample_idx
                orders = np.empty((count, n_samples), dtype=np.uintp)
                for i in range(count):
                    # the draws of sklearn.utils.shuffle(sample_idx, random_state=...)
                    sample_idx = sample_idx[self._random_state.permutation(n_samples)]
                    orders[i] = sample_idx
            stop, losses, state, _ = core.fit(
                orders, count, batch_size, float(self.alpha), float(self.tol),
                float(self.n_iter_no_change), float(self.learning_rate_init), schedule,
                float(self.power_t),
                (int(self.t_), float(self.best_loss_), int(self._no_improvement_count)),
            )
            self.t_, self.best_loss_, self._no_improvement_count = state
            self.n_iter_ += len(losses)
            self.loss_curve_.extend(losses)
            if losses:
                self.loss_ = losses[-1]
            if self.shuffle and len(losses) < count:
                # the random state as if only the epochs that ran had drawn their orders
                self._random_state.set_state(rng_state)
                sample_idx = start_idx
                for _ in range(len(losses)):
                    sample_idx = sample_idx[self._random_state.permutation(n_samples)]
            done += len(losses)
        if stop == "interrupted":
            warnings.warn("Training interrupted by user.")
        elif stop == "done" and not incremental:
            warnings.warn(
                "Stochastic Optimizer: Maximum iterations (%d) "
                "reached and the optimization hasn't converged yet." % self.max_iter,
                ConvergenceWarning,
            )

    def _fit_lbfgs(self, X, y, sample_weight=None):
        """scikit-learn's L-BFGS: SciPy's L-BFGS-B over the packed parameters, with the
        full-batch loss and gradient computed by the engine (GIL released)."""
        core = self._synced_core()
        dtype = np.dtype(core.dtype)
        coef_shapes = [c.shape for c in self.coefs_]
        sizes = [int(np.prod(shape)) for shape in coef_shapes] + [len(b) for b in self.intercepts_]
        bounds = np.cumsum([0] + sizes)
        n = len(self.coefs_)

        def unpack(theta):
            parts = [theta[bounds[i]:bounds[i + 1]] for i in range(len(sizes))]
            coefs = [parts[i].reshape(coef_shapes[i]) for i in range(n)]
            return coefs, parts[n:]

        def loss_grad(theta):
            coefs, intercepts = unpack(theta)
            core.set_coefs([np.asarray(c, dtype=np.float64) for c in coefs],
                           [np.asarray(b, dtype=np.float64) for b in intercepts])
            loss, grads = core.loss_and_gradients(float(self.alpha))
            packed = [g.ravel() for g, _ in grads] + [b.ravel() for _, b in grads]
            return loss, np.concatenate(packed).astype(np.float64)

        iprint = 1 if (self.verbose is True or self.verbose >= 1) else -1
        theta = np.concatenate([c.ravel() for c in self.coefs_] + [b.ravel() for b in self.intercepts_])
        core.set_data(X.astype(dtype, copy=False), y.astype(dtype),
                      None if sample_weight is None else np.asarray(sample_weight, dtype=dtype))
        try:
            opt_res = scipy.optimize.minimize(
                loss_grad,
                theta.astype(np.float64),
                method="L-BFGS-B",
                jac=True,
                options={
                    "maxfun": self.max_fun,
                    "maxiter": self.max_iter,
                    "gtol": self.tol,
                    **_get_additional_lbfgs_options_dict("iprint", iprint),
                },
            )
        finally:
            core.clear_data()
        self.n_iter_ = _check_optimize_result("lbfgs", opt_res, self.max_iter)
        self.loss_ = opt_res.fun
        coefs, intercepts = unpack(opt_res.x)
        self.coefs_ = [c.astype(dtype) for c in coefs]
        self.intercepts_ = [b.astype(dtype) for b in intercepts]

    def _trigger_stopping(self, core, msg):
        """scikit-learn's optimiser rule: adaptive SGD divides the rate by 5 until ≤ 1e-6."""
        if self.solver == "sgd" and self.learning_rate == "adaptive":
            if core.learning_rate > 1e-6:
                core.learning_rate = core.learning_rate / 5.0
                if self.verbose:
                    print(msg + " Setting learning rate to %f" % core.learning_rate)
                return False
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        if self.verbose:
            print(msg + " Stopping.")
        return True

    def _update_no_improvement_count(self, early_stopping, X, y, sample_weight):
        if early_stopping:
            val_score = self._score(X, y, sample_weight=sample_weight)
            self.validation_scores_.append(val_score)
            if self.verbose:
                print("Validation score: %f" % self.validation_scores_[-1])
            last_valid_score = self.validation_scores_[-1]
            if last_valid_score < (self.best_validation_score_ + self.tol):
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last_valid_score > self.best_validation_score_:
                self.best_validation_score_ = last_valid_score
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [b.copy() for b in self.intercepts_]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

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
            X = validate_data(
                self, X, accept_sparse=["csr", "csc"], dtype=(np.float64, np.float32), reset=False
            )
        if sp.issparse(X):
            X = X.toarray()
        core = self._synced_core()
        scaler = getattr(self, "_input_scaler", None)
        if scaler is not None:  # a command-line model's stored input scaling
            X = (np.asarray(X, dtype=np.float64) - scaler[0]) / scaler[1]
        out = core.forward(np.asarray(X, dtype=core.dtype))
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
        X, y = validate_data(
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
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
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
        y = self._label_binarizer.transform(y).astype(bool)
        return X, y, class_sw

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
        X, y = validate_data(
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


def _jsonable(value):
    if isinstance(value, float) and not np.isfinite(value):
        return False
    try:
        json.dumps(value, allow_nan=False)
        return True
    except (TypeError, ValueError):
        return False


_HIDDEN_FROM_FILE = {"sigmoid": "logistic", "relu": "relu", "tanh": "tanh", "identity": "identity",
                     "gelu": "gelu", "leaky-relu": "leaky_relu"}
_OUTPUT_FROM_FILE = {"softmax": "softmax", "sigmoid": "logistic", "identity": "identity"}


def load(path):
    """Reads a model file written by ``save`` or by ``backprop train``.

    Returns a fitted ``MLPClassifier`` or ``MLPRegressor``. For a command-line model, predict
    applies the file's stored input scaling (and, for regression, maps predictions back through
    its target scaling); ``coefs_`` then are the weights of the network itself, which sees
    scaled inputs. A pandas DataFrame given to such a model is read as ``backprop predict``
    reads a CSV file: columns matched by name, string (categorical) columns one-hot encoded
    with the stored categories, missing cells filled with the stored values; a NumPy array must
    hold the encoded features in the order of the file's feature names.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError("No such model file: %r" % path)
    meta_json, pairs = _core.load_model(path)
    meta = json.loads(meta_json)
    arch = meta["architecture"]
    sizes, activations = arch["sizes"], arch["activations"]
    hidden = {_HIDDEN_FROM_FILE.get(a) for a in activations[:-1]}
    if None in hidden or len(hidden) > 1:
        raise ValueError("hidden activations %s have no single scikit-learn name" % activations[:-1])
    output = _OUTPUT_FROM_FILE.get(activations[-1])
    if output is None:
        raise ValueError("output activation %r is not supported" % activations[-1])
    hp = meta.get("hyperparameters", {}).get("sklearn")
    classifier = meta["task"] == "classification"
    cls = MLPClassifier if classifier else MLPRegressor
    if hp is not None and hp.get("estimator") == cls.__name__:
        params = dict(hp["params"])
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    else:
        params = dict(hidden_layer_sizes=tuple(sizes[1:-1]),
                      activation=hidden.pop() if hidden else "relu")
    est = cls(**params)
    est.coefs_ = [np.asarray(c) for c, _ in pairs]
    est.intercepts_ = [np.asarray(b) for _, b in pairs]
    est.n_features_in_ = sizes[0]
    est.n_layers_ = len(sizes)
    est.n_outputs_ = sizes[-1]
    est.out_activation_ = output
    if output == "identity" and params.get("loss") == "poisson":
        est.out_activation_ = "exp"
    est.n_iter_ = hp["n_iter"] if hp else len(meta.get("history", []))
    est.t_ = hp["t"] if hp else 0
    est.loss_curve_ = hp["loss_curve"] if hp else [e["loss"] for e in meta.get("history", [])]
    est.loss_ = est.loss_curve_[-1] if est.loss_curve_ else None
    pre = meta["preprocessing"]
    if hp is None:
        est._table_metadata = meta_json
    if hp and hp.get("feature_names_in"):
        est.feature_names_in_ = np.asarray(pre["feature_names"], dtype=object)
    if classifier:
        classes = hp.get("classes") if hp else None
        if classes is None:
            classes = pre.get("class_names") or [str(i) for i in range(max(2, sizes[-1]))]
        binarizer = LabelBinarizer()
        if hp and hp.get("multilabel"):
            binarizer.fit(np.eye(len(classes), dtype=int))
        else:
            binarizer.fit(classes)
        est._label_binarizer = binarizer
        est.classes_ = binarizer.classes_ if not (hp and hp.get("multilabel")) else np.asarray(classes)
    if pre.get("input_scaler"):
        s = pre["input_scaler"]
        est._input_scaler = (np.asarray(s["center"]), np.asarray(s["scale"]))
    if pre.get("target_scaler") and not classifier:
        s = pre["target_scaler"]
        est._target_scaler = (np.asarray(s["center"]), np.asarray(s["scale"]))
    return est
