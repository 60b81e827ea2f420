"""The training loops of the estimators: scikit-learn's ``_fit_stochastic`` (every epoch in
one engine call when nothing needs Python between epochs, else epoch by epoch) and its
L-BFGS (SciPy's L-BFGS-B over the engine's loss and gradient)."""

import warnings

import numpy as np
import scipy.optimize
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.optimize import _check_optimize_result

try:  # scikit-learn >= 1.7 (scipy renamed L-BFGS-B's verbosity option)
    from sklearn.utils.fixes import _get_additional_lbfgs_options_dict
except ImportError:  # pragma: no cover

    def _get_additional_lbfgs_options_dict(key, value):
        return {key: value}


class _TrainingMixin:
    """The solvers of ``_BaseMLP``; they use its core (``_synced_core``, ``_pull``)."""

    def _fit_stochastic(self, X, y, sample_weight, incremental):
        core = self._synced_core()
        dtype = np.dtype(core.dtype)
        settings = dict(
            momentum=float(self.momentum),
            nesterov=bool(self.nesterovs_momentum),
            beta_1=float(self.beta_1),
            beta_2=float(self.beta_2),
            epsilon=float(self.epsilon),
        )
        if not incremental or not getattr(self, "_has_optimizer", False):
            core.reset_optimizer(self.solver, float(self.learning_rate_init), **settings)
            self._has_optimizer = True
        elif core.learning_rate is None:
            # a core rebuilt after unpickling: the optimiser state did not travel
            core.reset_optimizer(self.solver, float(self._learning_rate), **settings)
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
        # the engine runs the whole loop unless something needs Python between epochs, or
        # the generator is not NumPy's MT19937 (a RandomState over another bit generator)
        rng_state = None
        if self.shuffle:
            rng_state = self._random_state.get_state(legacy=True)
            if not (isinstance(rng_state, tuple) and rng_state[0] == "MT19937"
                    and n_samples < 2**32):
                rng_state = False
        if not (early_stopping or self.verbose or rng_state is False):
            try:
                self._run_epochs(core, rng_state, batch_size, incremental)
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
                        core.loss(X_val.astype(dtype, copy=False), y_val_raw.astype(dtype),
                                  None if sw_val is None else np.asarray(sw_val, dtype=dtype))
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

    def _run_epochs(self, core, rng_state, batch_size, incremental):
        """Every epoch of a fit in one engine call, _fit_stochastic's rules applied between
        epochs there; with shuffling, the engine draws each epoch's row order from the
        estimator's RandomState (its MT19937 state handed over and taken back), the same draws
        as scikit-learn's ``shuffle(sample_idx, random_state=...)``."""
        epochs = 1 if incremental else self.max_iter
        schedule = self.learning_rate if self.solver == "sgd" else "constant"
        shuffle = None if rng_state is None else (rng_state[1], int(rng_state[2]))
        stop, losses, state, _, after = core.fit(
            shuffle, epochs, batch_size, float(self.alpha), float(self.tol),
            float(self.n_iter_no_change), float(self.learning_rate_init), schedule,
            float(self.power_t),
            (int(self.t_), float(self.best_loss_), int(self._no_improvement_count)),
        )
        if after is not None:
            keys, pos = after
            self._random_state.set_state(
                (rng_state[0], keys, pos) + tuple(rng_state[3:])
            )
        self.t_, self.best_loss_, self._no_improvement_count = state
        self.n_iter_ += len(losses)
        self.loss_curve_.extend(losses)
        if losses:
            self.loss_ = losses[-1]
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
