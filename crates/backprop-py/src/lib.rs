//! `backprop._core`: the Rust side of the Python package. A [`Core`] holds one dense network
//! (f32 or f64), scikit-learn's optimiser state and the training data of the current `fit`
//! ([`engine`]); the Python estimators in `python/backprop` validate input and, when early
//! stopping or verbose output needs Python between epochs, run the epoch loop themselves;
//! otherwise [`Core::fit`] runs it here, shuffling with NumPy's draws ([`shuffle`]). Every
//! heavy call releases the GIL. Shapes are checked here too, so that a mistake in the Python
//! layer raises `ValueError`, never a Rust panic. [`tabular`] reads a command-line model's
//! input columns from a table.

use backprop::model::{Model, ModelMetadata};
use backprop::sklearn::{
    glorot_uniform, sk_epoch, sk_fit, sk_loss_and_gradients, sk_output_loss, sk_run_in_pool,
    sk_uses_row_blocks, sk_uses_threads, SkEpochs, SkFitConfig, SkObjective, SkOptimizer,
    SkProgress, SkSchedule, SkSolver, SkStop,
};
use backprop::{gradient_check, Activation, Cost, Matrix, Network, NetworkConfig, Task};
use backprop_tensor::pacer::Pacer;
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

mod engine;
mod shuffle;
mod tabular;

use engine::{
    check_data, check_shapes, forward_blocks, parse_activation, to_matrix, to_numpy, to_weights,
    value_error, Engine, Rows, PREDICT_ROWS,
};
use shuffle::Mt19937;

/// What [`Core::fit`] returns: (stop, losses, (t, best_loss, no_improvement_count), η, the
/// shuffle generator's state as a NumPy key array and position).
type FitResult<'py> = (
    &'static str,
    Vec<f64>,
    (u64, f64, usize),
    f64,
    Option<(Bound<'py, PyArray1<u32>>, usize)>,
);

enum Any {
    F32(Engine<f32>),
    F64(Engine<f64>),
}

/// The network behind an estimator.
#[pyclass(module = "backprop._core")]
struct Core {
    engine: Any,
    pool: Option<(usize, Arc<rayon::ThreadPool>)>,
    /// The process that chose `pool`: a forked child inherits the core but not the pool's
    /// threads.
    pool_process: u32,
    /// The identity output is the log of a Poisson mean (scikit-learn's "exp" output).
    poisson: bool,
}

impl Core {
    /// Runs `work` in this core's thread pool (or rayon's global one).
    fn in_pool<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some((_, pool)) => pool.install(work),
            None => work(),
        }
    }
}

/// The thread count of rayon's global pool: `RAYON_NUM_THREADS`, else the available cores.
fn default_threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The pool of `n` threads that every core of this process with `n_threads=n` shares. Building
/// a pool starts its threads, about a millisecond, which every new estimator paid in each
/// `fit` when each core built its own. A forked child (multiprocessing) does not inherit the
/// threads behind its parent's pools, so it builds its own.
fn shared_pool(n: usize) -> PyResult<Arc<rayon::ThreadPool>> {
    type Pools = (u32, Vec<(usize, Arc<rayon::ThreadPool>)>);
    static POOLS: Mutex<Pools> = Mutex::new((0, Vec::new()));
    let mut pools = POOLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let process = std::process::id();
    if pools.0 != process {
        // the parent's pools have no threads here; dropping them would wait on none either
        std::mem::forget(std::mem::take(&mut pools.1));
        pools.0 = process;
    }
    if let Some((_, pool)) = pools.1.iter().find(|(k, _)| *k == n) {
        return Ok(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let pool = Arc::new(pool);
    pools.1.push((n, Arc::clone(&pool)));
    Ok(pool)
}

/// What a [`Pacer`] in [`shared_pacer`] is kept for: the pool's thread count, and the fit's
/// dtype, layer sizes, rows and batch size, so that the epochs a pacer compares are alike.
type PacerKey = (usize, &'static str, Vec<usize>, usize, usize);

/// The pacers of this process's fits, one for each [`PacerKey`] seen.
static PACERS: Mutex<Vec<(PacerKey, Pacer)>> = Mutex::new(Vec::new());

/// Most kinds of fit whose pacers are kept; past it the oldest goes.
const KEPT_PACERS: usize = 16;

/// The pacer that the last fit like `key` left (see `backprop_tensor::pacer`): whether `fit`'s
/// epochs run with the pool's helper threads or alone. The machine's load is the process's
/// business, not one estimator's, so fits share what their pacers learnt: a new estimator
/// fitting a small data set (a cross-validation fold, a grid-search candidate, a repeat) does
/// not start a trial that would run about half of a 40 ms fit alone. Concurrent fits each work
/// on their own copy; the last to finish leaves its own. A pacer only ever changes speed, never
/// a result.
fn shared_pacer(key: &PacerKey) -> Pacer {
    let pacers = PACERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    pacers
        .iter()
        .find(|(k, _)| k == key)
        .map_or_else(Pacer::new, |(_, pacer)| pacer.clone())
}

/// Keeps `pacer` for the next fit like `key`.
fn keep_pacer(key: PacerKey, pacer: Pacer) {
    let mut pacers = PACERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    pacers.retain(|(k, _)| *k != key);
    if pacers.len() >= KEPT_PACERS {
        pacers.remove(0);
    }
    pacers.push((key, pacer));
}

macro_rules! with_engine {
    ($core:expr, $engine:ident => $body:expr) => {
        match &$core.engine {
            Any::F32($engine) => $body,
            Any::F64($engine) => $body,
        }
    };
}

#[pymethods]
impl Core {
    /// `sizes` input first; `hidden` an activation name; `output` one of softmax, logistic,
    /// identity, exp (with softmax cross-entropy, binary cross-entropy, squared error, half
    /// Poisson deviance); `dtype` float32 or float64.
    #[new]
    fn new(sizes: Vec<usize>, hidden: &str, output: &str, dtype: &str) -> PyResult<Self> {
        let (cost, out) = match output {
            "softmax" => (Cost::SoftmaxCrossEntropy, Activation::Softmax),
            "logistic" => (Cost::BinaryCrossEntropy, Activation::Sigmoid),
            "identity" | "exp" => (Cost::Quadratic, Activation::Identity),
            other => return Err(value_error(format!("unknown output activation '{other}'"))),
        };
        let config = NetworkConfig::new(&sizes, cost)
            .with_hidden_activation(parse_activation(hidden)?)
            .with_output_activation(out);
        let engine = match dtype {
            "float32" => Any::F32(Engine::new(config.init().map_err(value_error)?)),
            "float64" => Any::F64(Engine::new(config.init().map_err(value_error)?)),
            other => return Err(value_error(format!("unsupported dtype '{other}'"))),
        };
        Ok(Self {
            engine,
            pool: None,
            pool_process: std::process::id(),
            poisson: output == "exp",
        })
    }

    /// "float32" or "float64".
    #[getter]
    fn dtype(&self) -> &'static str {
        match self.engine {
            Any::F32(_) => "float32",
            Any::F64(_) => "float64",
        }
    }

    /// Uses `n` threads (0: as many as rayon's global pool would, `RAYON_NUM_THREADS` or all
    /// cores). Results do not depend on it. The estimators call it before each use of the
    /// core, so a core copied into a forked child (multiprocessing) moves to a pool of the
    /// child's own: the parent's pools, and rayon's global one, have no threads there, and
    /// work handed to them waited forever.
    fn set_threads(&mut self, n: usize) -> PyResult<()> {
        let process = std::process::id();
        if self.pool_process != process {
            // dropping would signal threads that are not there
            std::mem::forget(self.pool.take());
            self.pool_process = process;
        }
        let n = if n == 0 { default_threads() } else { n };
        if self.pool.as_ref().map(|(k, _)| *k) != Some(n) {
            self.pool = Some((n, shared_pool(n)?));
        }
        Ok(())
    }

    /// scikit-learn's Glorot-uniform initialisation (factor 2 when `logistic`).
    fn init_glorot(&mut self, seed: u64, logistic: bool) {
        match &mut self.engine {
            Any::F32(e) => glorot_uniform(&mut e.network, seed, logistic),
            Any::F64(e) => glorot_uniform(&mut e.network, seed, logistic),
        }
    }

    /// [(coef (n_in, n_out), intercept (n_out,)), ...] in the core's dtype.
    fn get_coefs<'py>(&self, py: Python<'py>) -> PyObject {
        match &self.engine {
            Any::F32(e) => e
                .coefs(py)
                .into_pyobject(py)
                .expect("list")
                .into_any()
                .unbind(),
            Any::F64(e) => e
                .coefs(py)
                .into_pyobject(py)
                .expect("list")
                .into_any()
                .unbind(),
        }
    }

    /// Sets every layer from scikit-learn-layout float64 arrays.
    fn set_coefs(
        &mut self,
        coefs: Vec<PyReadonlyArray2<'_, f64>>,
        intercepts: Vec<PyReadonlyArray1<'_, f64>>,
    ) -> PyResult<()> {
        match &mut self.engine {
            Any::F32(e) => e.set_coefs(coefs, intercepts),
            Any::F64(e) => e.set_coefs(coefs, intercepts),
        }
    }

    /// A fresh optimiser: solver "sgd" (momentum, nesterov), "adam" or "adamw" (beta_1, beta_2,
    /// epsilon), "rmsprop" (beta_2 as its smoothing constant, epsilon).
    #[pyo3(signature = (solver, learning_rate, momentum=0.9, nesterov=true, beta_1=0.9, beta_2=0.999, epsilon=1e-8))]
    #[allow(clippy::too_many_arguments)]
    fn reset_optimizer(
        &mut self,
        solver: &str,
        learning_rate: f64,
        momentum: f64,
        nesterov: bool,
        beta_1: f64,
        beta_2: f64,
        epsilon: f64,
    ) -> PyResult<()> {
        let solver = match solver {
            "sgd" => SkSolver::Sgd { momentum, nesterov },
            "adam" => SkSolver::Adam {
                beta_1,
                beta_2,
                epsilon,
            },
            "adamw" => SkSolver::AdamW {
                beta_1,
                beta_2,
                epsilon,
            },
            "rmsprop" => SkSolver::RmsProp { beta_2, epsilon },
            other => return Err(value_error(format!("unsupported solver '{other}'"))),
        };
        match &mut self.engine {
            Any::F32(e) => e.optimizer = Some(SkOptimizer::new(solver, learning_rate, &e.network)),
            Any::F64(e) => e.optimizer = Some(SkOptimizer::new(solver, learning_rate, &e.network)),
        }
        Ok(())
    }

    /// The optimiser's learning rate (None before `reset_optimizer`).
    #[getter]
    fn learning_rate(&self) -> Option<f64> {
        with_engine!(self, e => e.optimizer.as_ref().map(|o| o.learning_rate))
    }

    #[setter]
    fn set_learning_rate(&mut self, value: f64) -> PyResult<()> {
        let optimizer = match &mut self.engine {
            Any::F32(e) => e.optimizer.as_mut().map(|o| &mut o.learning_rate),
            Any::F64(e) => e.optimizer.as_mut().map(|o| &mut o.learning_rate),
        };
        match optimizer {
            Some(rate) => {
                *rate = value;
                Ok(())
            }
            None => Err(PyRuntimeError::new_err("no optimiser yet")),
        }
    }

    /// Keeps the training data (X in the core's dtype, any layout; Y one column per output;
    /// optional sample weights, one per row, in the core's dtype).
    #[pyo3(signature = (x, y, sample_weight=None))]
    fn set_data(
        &mut self,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        sample_weight: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        macro_rules! keep {
            ($e:expr, $t:ty) => {{
                let x: Bound<'_, PyArray2<$t>> = x.extract()?;
                let y = to_matrix::<$t>(&y.extract()?);
                let shape = (x.shape()[0], x.shape()[1]);
                check_shapes(&$e.network, shape, &y)?;
                let sample_weight = match sample_weight {
                    None => None,
                    Some(w) => Some(to_weights::<$t>(&w.extract()?, shape.0)?),
                };
                $e.data = Some(Rows::keep(&x, y, sample_weight));
            }};
        }
        match &mut self.engine {
            Any::F32(e) => keep!(e, f32),
            Any::F64(e) => keep!(e, f64),
        }
        Ok(())
    }

    /// Drops the training data.
    fn clear_data(&mut self) {
        match &mut self.engine {
            Any::F32(e) => e.data = None,
            Any::F64(e) => e.data = None,
        }
    }

    /// Up to `epochs` epochs over the kept data with scikit-learn's rules between them (no
    /// early stopping), in one call with the GIL released. `shuffle` is None (rows in order)
    /// or a NumPy `RandomState`'s MT19937 (key array, position): each epoch then shuffles the
    /// row order with its draws, as scikit-learn's `shuffle(sample_idx, random_state)` does.
    /// `state` is (t, best_loss, no_improvement_count) before; returns (stop, losses, (t,
    /// best_loss, no_improvement_count), learning_rate, the generator's state after), stop
    /// one of "done", "converged", "interrupted" (a KeyboardInterrupt between epochs).
    #[pyo3(signature = (shuffle, epochs, batch_size, alpha, tol, n_iter_no_change, learning_rate_init, schedule, power_t, state))]
    #[allow(clippy::too_many_arguments)]
    fn fit<'py>(
        &mut self,
        py: Python<'py>,
        shuffle: Option<(PyReadonlyArray1<'py, u32>, usize)>,
        epochs: usize,
        batch_size: usize,
        alpha: f64,
        tol: f64,
        n_iter_no_change: f64,
        learning_rate_init: f64,
        schedule: &str,
        power_t: f64,
        state: (u64, f64, usize),
    ) -> PyResult<FitResult<'py>> {
        let schedule = match schedule {
            "constant" => SkSchedule::Constant,
            "invscaling" => SkSchedule::InvScaling { power_t },
            "adaptive" => SkSchedule::Adaptive,
            other => return Err(value_error(format!("unknown learning_rate '{other}'"))),
        };
        if batch_size == 0 {
            return Err(value_error("batch_size must be positive"));
        }
        let config = SkFitConfig {
            batch_size,
            objective: SkObjective {
                alpha,
                poisson: self.poisson,
            },
            tol,
            n_iter_no_change,
            learning_rate_init,
            schedule,
        };
        let (t, best_loss, no_improvement_count) = state;
        let mut progress = SkProgress {
            n_iter: 0,
            t,
            best_loss,
            no_improvement_count,
            loss_curve: Vec::new(),
        };
        let mut generator = match shuffle {
            None => None,
            Some((key, pos)) => Some(
                Mt19937::from_state(&key.as_array().to_vec(), pos).ok_or_else(|| {
                    value_error("shuffle must be an MT19937 state: 624 words and a position")
                })?,
            ),
        };
        let pool = self.pool.as_ref().map(|(_, p)| &**p);
        let threads = self.pool.as_ref().map_or(0, |(n, _)| *n);
        let dtype = self.dtype();
        let pacer_key = with_engine!(self, e => {
            let rows = e.data.as_ref().map_or(0, |rows| rows.rows);
            (threads, dtype, e.network.config().sizes.clone(), rows, batch_size)
        });
        let mut pacer = shared_pacer(&pacer_key);
        macro_rules! run {
            ($e:expr) => {{
                let e = $e;
                let rows = e.data.as_ref().ok_or_else(|| PyRuntimeError::new_err("no data set"))?;
                let n = rows.rows;
                let x = rows.borrow_x(py)?;
                if generator.is_some() && u32::try_from(n).is_err() {
                    return Err(value_error("shuffling in the engine takes fewer than 2**32 rows"));
                }
                let identity: Vec<usize> = (0..n).collect();
                let optimizer = e.optimizer.as_mut().ok_or_else(|| PyRuntimeError::new_err("no optimiser yet"))?;
                let (network, data) = (&mut e.network, rows.data(&x));
                let (progress, generator, pacer) = (&mut progress, &mut generator, &mut pacer);
                py.allow_threads(move || {
                    let mut order = identity;
                    let mut scratch = Vec::new();
                    let mut reorder = |order: &mut [usize]| {
                        if let Some(generator) = generator.as_mut() {
                            generator.shuffle_indices(order, &mut scratch);
                        }
                    };
                    let epochs = SkEpochs { count: epochs, order: &mut order, reorder: &mut reorder };
                    let mut keep_going = || Python::with_gil(|py| py.check_signals().is_ok());
                    let stop = sk_fit(network, optimizer, data, epochs, &config, progress, pool, pacer, &mut keep_going);
                    (stop, optimizer.learning_rate)
                })
            }};
        }
        let (stop, learning_rate) = match &mut self.engine {
            Any::F32(e) => run!(e),
            Any::F64(e) => run!(e),
        };
        keep_pacer(pacer_key, pacer);
        let stop = match stop {
            SkStop::EpochsDone => "done",
            SkStop::Converged => "converged",
            SkStop::Interrupted => "interrupted",
        };
        let state = (
            progress.t,
            progress.best_loss,
            progress.no_improvement_count,
        );
        let generator = generator.map(|g| {
            let (key, pos) = g.state();
            (PyArray1::from_vec(py, key), pos)
        });
        Ok((stop, progress.loss_curve, state, learning_rate, generator))
    }

    /// One epoch over the kept data, rows in `order`; returns scikit-learn's epoch loss.
    fn epoch(
        &mut self,
        py: Python<'_>,
        order: Vec<usize>,
        batch_size: usize,
        alpha: f64,
    ) -> PyResult<f64> {
        if batch_size == 0 {
            return Err(value_error("batch_size must be positive"));
        }
        let pool = self.pool.as_ref().map(|(_, p)| &**p);
        let objective = SkObjective {
            alpha,
            poisson: self.poisson,
        };
        macro_rules! run {
            ($e:expr) => {{
                let e = $e;
                let rows = e.data.as_ref().ok_or_else(|| PyRuntimeError::new_err("no data set"))?;
                if let Some(&bad) = order.iter().find(|&&i| i >= rows.rows) {
                    return Err(value_error(format!("row {bad} out of range")));
                }
                let optimizer = e.optimizer.as_mut().ok_or_else(|| PyRuntimeError::new_err("no optimiser yet"))?;
                let network = &mut e.network;
                let x = rows.borrow_x(py)?;
                let data = rows.data(&x);
                let one_team = sk_uses_row_blocks(network) && sk_uses_threads(network, batch_size);
                let mut work = move || sk_epoch(network, optimizer, data, &order, batch_size, objective);
                py.allow_threads(|| match pool {
                    Some(pool) => sk_run_in_pool(one_team, pool, work),
                    None => work(),
                })
            }};
        }
        Ok(match &mut self.engine {
            Any::F32(e) => run!(e),
            Any::F64(e) => run!(e),
        })
    }

    /// scikit-learn's full-batch loss (with the α penalty) over the kept data at the current
    /// weights, and its gradients as [(coef_grad (n_in, n_out), intercept_grad)].
    fn loss_and_gradients(&mut self, py: Python<'_>, alpha: f64) -> PyResult<(f64, PyObject)> {
        let pool = self.pool.as_ref().map(|(_, p)| &**p);
        let objective = SkObjective {
            alpha,
            poisson: self.poisson,
        };
        macro_rules! run {
            ($e:expr) => {{
                let e = $e;
                let rows = e
                    .data
                    .as_ref()
                    .ok_or_else(|| PyRuntimeError::new_err("no data set"))?;
                let network = &mut e.network;
                let x = rows.borrow_x(py)?;
                let data = rows.data(&x);
                let mut work = move || sk_loss_and_gradients(network, data, objective);
                let loss = py.allow_threads(|| match pool {
                    Some(pool) => pool.install(work),
                    None => work(),
                });
                let gradients: Vec<_> = e
                    .network
                    .dense_layers()
                    .iter()
                    .map(|d| {
                        let (out, inp) = d.weight_gradient.shape();
                        let g = Matrix::from_fn(inp, out, |i, j| d.weight_gradient[(j, i)]);
                        (
                            to_numpy(py, g),
                            PyArray1::from_slice(py, d.bias_gradient.as_slice()),
                        )
                    })
                    .collect();
                (loss, gradients.into_pyobject(py)?.into_any().unbind())
            }};
        }
        Ok(match &mut self.engine {
            Any::F32(e) => run!(e),
            Any::F64(e) => run!(e),
        })
    }

    /// The output activations for X (float32 array for a float32 core, else float64). With
    /// `check_finite`, None when X holds a NaN or an infinity (the caller raises
    /// scikit-learn's error for it).
    #[pyo3(signature = (x, check_finite=false))]
    fn forward<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        check_finite: bool,
    ) -> PyResult<PyObject> {
        macro_rules! run {
            ($e:expr, $t:ty) => {{
                let x: PyReadonlyArray2<'_, $t> = x.extract()?;
                let view = x.as_array();
                $e.check_width(view.ncols())?;
                let work = || forward_blocks(&$e.network, view, check_finite);
                // one block runs right here: moving it to a pool thread costs a wake-up
                let out = py.allow_threads(|| {
                    if view.nrows() <= PREDICT_ROWS {
                        work()
                    } else {
                        self.in_pool(work)
                    }
                });
                let Some(mut out) = out else {
                    return Ok(py.None());
                };
                if self.poisson {
                    out.as_mut_slice().iter_mut().for_each(|v| *v = v.exp());
                }
                to_numpy(py, out).into_any().unbind()
            }};
        }
        Ok(match &self.engine {
            Any::F32(e) => run!(e, f32),
            Any::F64(e) => run!(e, f64),
        })
    }

    /// One dict per layer (l from 1) with the activation name and z, a, δ = ∂C/∂z and
    /// ∂C/∂a for the examples in X against Y, in the core's dtype (one example per row).
    fn trace<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        macro_rules! run {
            ($e:expr, $t:ty) => {{
                let (x, y) = (
                    to_matrix::<$t>(&x.extract()?),
                    to_matrix::<$t>(&y.extract()?),
                );
                check_data(&$e.network, &x, &y)?;
                let trace = py.allow_threads(|| self.in_pool(|| $e.network.trace(&x, &y)));
                let mut out = Vec::new();
                for layer in trace.layers {
                    let dict = PyDict::new(py);
                    dict.set_item("layer", layer.layer)?;
                    dict.set_item("activation", layer.activation.name())?;
                    dict.set_item("z", to_numpy(py, layer.z))?;
                    dict.set_item("a", to_numpy(py, layer.a))?;
                    dict.set_item("delta", to_numpy(py, layer.delta))?;
                    dict.set_item("grad_a", to_numpy(py, layer.grad_output))?;
                    out.push(dict);
                }
                out
            }};
        }
        Ok(match &self.engine {
            Any::F32(e) => run!(e, f32),
            Any::F64(e) => run!(e, f64),
        })
    }

    /// Backprop against central finite differences (in f64) on X, Y: one dict per layer.
    fn gradient_check<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        macro_rules! run {
            ($e:expr, $t:ty) => {{
                let (x, y) = (
                    to_matrix::<$t>(&x.extract()?),
                    to_matrix::<$t>(&y.extract()?),
                );
                check_data(&$e.network, &x, &y)?;
                py.allow_threads(|| self.in_pool(|| gradient_check(&$e.network, &x, &y)))
            }};
        }
        let report = match &self.engine {
            Any::F32(e) => run!(e, f32),
            Any::F64(e) => run!(e, f64),
        };
        let mut out = Vec::new();
        for layer in report.layers {
            let dict = PyDict::new(py);
            dict.set_item("layer", layer.index + 1)?;
            dict.set_item("max_relative_error", layer.max_error)?;
            dict.set_item("max_absolute_error", layer.max_absolute_error)?;
            dict.set_item("worst", layer.worst)?;
            dict.set_item("checked", layer.checked)?;
            dict.set_item("skipped", layer.skipped)?;
            out.push(dict);
        }
        Ok(out)
    }

    /// Writes the network (as f32) to a model file in the command line's format, with
    /// metadata for `task` ("classification" or "regression"), the names, and a JSON object
    /// of hyper-parameters.
    #[pyo3(signature = (path, task, feature_names, class_names, hyperparameters))]
    fn save(
        &self,
        py: Python<'_>,
        path: PathBuf,
        task: &str,
        feature_names: Vec<String>,
        class_names: Option<Vec<String>>,
        hyperparameters: &str,
    ) -> PyResult<()> {
        let network: Network<f32> = match &self.engine {
            Any::F32(e) => e.network.clone(),
            Any::F64(e) => e.network.cast(),
        };
        let task = match task {
            "classification" => Task::Classification,
            "regression" => Task::Regression,
            other => return Err(value_error(format!("unknown task '{other}'"))),
        };
        let mut metadata = ModelMetadata::describe(network.config(), task);
        metadata.preprocessing.feature_names = feature_names;
        metadata.preprocessing.class_names = class_names;
        metadata.hyperparameters = serde_json::from_str(hyperparameters).map_err(value_error)?;
        let model = Model::new(network, metadata).map_err(value_error)?;
        py.allow_threads(|| model.save(&path))
            .map_err(|e| PyOSError::new_err(e.to_string()))
    }

    /// scikit-learn's loss (without penalty) of the outputs for X against Y, rows weighted by
    /// `sample_weight` when given.
    #[pyo3(signature = (x, y, sample_weight=None))]
    fn loss(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
        sample_weight: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<f64> {
        macro_rules! run {
            ($e:expr, $t:ty) => {{
                let (x, y) = (
                    to_matrix::<$t>(&x.extract()?),
                    to_matrix::<$t>(&y.extract()?),
                );
                check_data(&$e.network, &x, &y)?;
                let weights = match sample_weight {
                    None => None,
                    Some(w) => Some(to_weights::<$t>(&w.extract()?, x.rows())?),
                };
                py.allow_threads(|| {
                    self.in_pool(|| {
                        let a = $e.network.forward(&x);
                        let weights = weights.as_deref();
                        sk_output_loss(&$e.network, self.poisson, &a, &y, weights)
                    })
                })
            }};
        }
        Ok(match &self.engine {
            Any::F32(e) => run!(e, f32),
            Any::F64(e) => run!(e, f64),
        })
    }
}

/// Reads a model file: its metadata as JSON and [(coef (n_in, n_out), intercept)] as float32.
#[pyfunction]
fn load_model(py: Python<'_>, path: PathBuf) -> PyResult<(String, PyObject)> {
    let model = py
        .allow_threads(|| Model::load(&path))
        .map_err(value_error)?;
    let metadata = serde_json::to_string(&model.metadata).map_err(value_error)?;
    let engine = Engine::new(model.network);
    let coefs = engine.coefs(py).into_pyobject(py)?.into_any().unbind();
    Ok((metadata, coefs))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Core>()?;
    m.add_function(wrap_pyfunction!(load_model, m)?)?;
    m.add_function(wrap_pyfunction!(tabular::encode_table, m)?)?;
    Ok(())
}
