//! scikit-learn's MLP training rules, as options beside the library's PyTorch-style defaults
//! (which the trainer and the command line keep). The Python package `backprop` (crate
//! `backprop-py`) builds its `MLPClassifier` and `MLPRegressor` on these.
//!
//! - **Initialisation** ([`glorot_uniform`]): weights and biases U(±√(f/(fan_in + fan_out))),
//!   f = 6, or 2 when the hidden activation is the logistic sigmoid.
//! - **Objective** ([`objective`]): the batch's data cost is the (sample-weighted) mean over its
//!   rows; the penalty is α/(2B)·Σw² over weights only, B = the batch's rows or its
//!   sample-weight sum, so the weight gradient is (δᵀa + αW)/B ([`SkOptimizer::step`]).
//!   Outputs: softmax, logistic, identity, and exp for the half Poisson deviance.
//! - **SGD** with momentum: v ← μv − ηg, w ← w + v; Nesterov: v ← μv − ηg, w ← w + μv − ηg.
//! - **Adam**: t ← t + 1, m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
//!   w ← w − η·√(1 − β₂ᵗ)/(1 − β₁ᵗ)·m/(√v + ε), with ε on the uncorrected v.
//! - Beyond scikit-learn, the library's own rules: **AdamW** ([`adamw_update`], α as the
//!   decoupled decay w ← w·(1 − ηα) on weights, not as a penalty in the gradient) and
//!   **RMSprop** ([`rmsprop_update`], smoothing β₂, the penalty's gradient as for SGD and Adam).
//! - **An epoch** ([`sk_epoch`]): batches in the given row order, one step per batch, the epoch
//!   loss the row-weighted mean of the batch losses (each with its penalty).
//! - **A fit** ([`fit::sk_fit`]): epochs with scikit-learn's rules between them (invscaling,
//!   adaptive, the `tol` / `n_iter_no_change` stopping rule), in one call.

pub mod fit;
#[cfg(test)]
mod fit_tests;
pub mod objective;
mod row_blocks;
#[cfg(test)]
mod row_blocks_tests;
#[cfg(test)]
mod tests;

pub use fit::{sk_fit, SkEpochs, SkFitConfig, SkProgress, SkSchedule, SkStop};
pub use objective::{
    sk_epoch, sk_epoch_paced, sk_loss_and_gradients, sk_output_loss, sk_run_in_pool,
    sk_uses_row_blocks, sk_uses_threads, squared_weights, SkData, SkObjective,
};

use crate::dense::Dense;
use crate::network::Network;
use crate::optim::pieces::{pieces3, pieces4};
use crate::optim::subnormal::{adam_moments, zero_below, Floors};
use crate::optim::{
    adamw_update, rmsprop_update, AdamState, AdamWConfig, RmsPropConfig, RmsPropState,
};
use crate::propagation::LayerStep;
use backprop_tensor::{simd_kernel, Float, Matrix, SeededRng};

/// scikit-learn's stochastic solvers, and two of the library's beyond them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SkSolver {
    /// SGD with (optionally Nesterov) momentum; μ = 0 is plain SGD.
    Sgd {
        /// μ in [0, 1].
        momentum: f64,
        /// Nesterov's form.
        nesterov: bool,
    },
    /// Adam as scikit-learn writes it.
    Adam {
        /// β₁ in [0, 1).
        beta_1: f64,
        /// β₂ in [0, 1).
        beta_2: f64,
        /// ε > 0, added to √v (uncorrected).
        epsilon: f64,
    },
    /// The library's AdamW ([`adamw_update`]): α is its decoupled weight decay, on weights only.
    AdamW {
        /// β₁ in [0, 1).
        beta_1: f64,
        /// β₂ in [0, 1).
        beta_2: f64,
        /// ε > 0.
        epsilon: f64,
    },
    /// The library's RMSprop ([`rmsprop_update`]) with smoothing constant β₂, no momentum.
    RmsProp {
        /// The running mean's smoothing constant in [0, 1).
        beta_2: f64,
        /// ε > 0, added to the root.
        epsilon: f64,
    },
}

/// Glorot-uniform initial weights and biases with scikit-learn's factor: U(±√(f/(fan_in +
/// fan_out))) for both, f = 2 when `logistic`, else 6. Weights are drawn before biases, layer by
/// layer, from one seeded stream.
pub fn glorot_uniform<T: Float>(network: &mut Network<T>, seed: u64, logistic: bool) {
    let factor = if logistic { 2.0 } else { 6.0 };
    let mut rng = SeededRng::new(seed);
    for dense in network.dense_layers_mut() {
        let (fan_out, fan_in) = dense.weight.shape();
        let bound = (factor / (fan_in + fan_out) as f64).sqrt();
        dense.weight = Matrix::random_uniform(fan_out, fan_in, -bound, bound, &mut rng);
        dense.bias = Matrix::random_uniform(1, fan_out, -bound, bound, &mut rng);
    }
}

/// The state of one optimiser: velocities (SGD), moments (Adam) or the library rules' states,
/// one per parameter in [`Network::parameters`] order.
#[derive(Clone, Debug)]
pub struct SkOptimizer<T: Float> {
    solver: SkSolver,
    /// η for the next step; the caller applies the schedules between epochs.
    pub learning_rate: f64,
    /// Adam's step count t.
    pub steps: u64,
    first: Vec<Matrix<T>>,
    second: Vec<Matrix<T>>,
    adamw: Vec<AdamState<T>>,
    rmsprop: Vec<RmsPropState<T>>,
    /// RMSprop's gradient with the penalty added.
    gradient: Vec<T>,
}

impl<T: Float> SkOptimizer<T> {
    /// A fresh optimiser (zero velocities and moments) for `network`'s parameters.
    pub fn new(solver: SkSolver, learning_rate: f64, network: &Network<T>) -> Self {
        let count = network.parameters().len();
        let zeros = || -> Vec<Matrix<T>> {
            network
                .parameters()
                .iter()
                .map(|(_, m)| Matrix::zeros(m.rows(), m.cols()))
                .collect()
        };
        let (first, second) = match solver {
            SkSolver::Adam { .. } => (zeros(), zeros()),
            SkSolver::Sgd { .. } => (zeros(), Vec::new()),
            _ => (Vec::new(), Vec::new()),
        };
        let adamw = match solver {
            SkSolver::AdamW { .. } => vec![AdamState::default(); count],
            _ => Vec::new(),
        };
        let rmsprop = match solver {
            SkSolver::RmsProp { .. } => vec![RmsPropState::default(); count],
            _ => Vec::new(),
        };
        Self {
            solver,
            learning_rate,
            steps: 0,
            first,
            second,
            adamw,
            rmsprop,
            gradient: Vec::new(),
        }
    }

    /// The solver.
    pub fn solver(&self) -> SkSolver {
        self.solver
    }

    /// One update from the gradients the last backward pass left in `network` (means over a
    /// batch of weight `batch`: its rows or its sample-weight sum), with the penalty's αW/B
    /// added to each weight gradient (AdamW: the decoupled decay instead). SGD and Adam run
    /// element by element in pieces on the step's threads (the optimisers' own pieces), the
    /// penalty added as each element is read: on MNIST's 79,510 parameters the update was a
    /// seventh of a training step when it copied each gradient and ran on one thread.
    pub fn step(&mut self, network: &mut Network<T>, alpha: f64, batch: f64) {
        self.begin_step();
        for (ordinal, dense) in network.dense_layers_mut().into_iter().enumerate() {
            let index = 2 * ordinal;
            let weight = (
                dense.weight.as_mut_slice(),
                dense.weight_gradient.as_slice(),
            );
            self.update_parameter(index, weight, true, (alpha, batch));
            let bias = (dense.bias.as_mut_slice(), dense.bias_gradient.as_slice());
            self.update_parameter(index + 1, bias, false, (alpha, batch));
        }
    }

    /// Counts the step that the updates of its parameters then take.
    fn begin_step(&mut self) {
        self.steps += 1;
    }

    /// True when this solver's update of a weight can run on bands of its gradient inside the
    /// backward pass ([`SkLayerStep`]): scikit-learn's SGD and Adam.
    fn updates_in_bands(&self) -> bool {
        matches!(self.solver, SkSolver::Sgd { .. } | SkSolver::Adam { .. })
    }

    /// The element loop of this step for scikit-learn's SGD and Adam, for a weight
    /// (`is_weight`, penalised when α > 0) or a bias; None for the library's rules.
    fn kernel(&self, is_weight: bool, (alpha, batch): (f64, f64)) -> Option<SkKernel<T>> {
        let decoupled = matches!(self.solver, SkSolver::AdamW { .. });
        let penalized = is_weight && alpha != 0.0 && !decoupled;
        let penalty = T::from_f64(alpha / batch);
        let lr = self.learning_rate;
        match self.solver {
            SkSolver::Sgd { momentum, nesterov } => Some(SkKernel::Sgd(SgdScalars {
                penalized,
                penalty,
                mu: T::from_f64(momentum),
                eta: T::from_f64(lr),
                nesterov,
                floors: Floors::new(),
            })),
            SkSolver::Adam {
                beta_1,
                beta_2,
                epsilon,
            } => {
                let t = self.steps as i32;
                let rate = lr * (1.0 - beta_2.powi(t)).sqrt() / (1.0 - beta_1.powi(t));
                let (b1, b2) = (T::from_f64(beta_1), T::from_f64(beta_2));
                Some(SkKernel::Adam(AdamScalars {
                    penalized,
                    penalty,
                    b1,
                    one_minus_b1: T::ONE - b1,
                    b2,
                    one_minus_b2: T::ONE - b2,
                    epsilon: T::from_f64(epsilon),
                    rate: T::from_f64(rate),
                    floors: Floors::new(),
                }))
            }
            SkSolver::AdamW { .. } | SkSolver::RmsProp { .. } => None,
        }
    }

    /// The update of parameter `index` (in [`Network::parameters`] order), its values and
    /// gradient in `value_and_gradient`, within the step [`SkOptimizer::begin_step`] counted.
    fn update_parameter(
        &mut self,
        index: usize,
        (value, raw): (&mut [T], &[T]),
        is_weight: bool,
        (alpha, batch): (f64, f64),
    ) {
        let lr = self.learning_rate;
        if let Some(kernel) = self.kernel(is_weight, (alpha, batch)) {
            let first = self.first[index].as_mut_slice();
            match kernel {
                SkKernel::Sgd(s) => pieces3(value, raw, first, |w, g, v| sgd_elements(w, g, v, s)),
                SkKernel::Adam(s) => {
                    let second = self.second[index].as_mut_slice();
                    pieces4(value, raw, first, second, |w, g, m, v| {
                        adam_elements(w, g, m, v, s)
                    })
                }
            }
            return;
        }
        let decoupled = matches!(self.solver, SkSolver::AdamW { .. });
        let penalized = is_weight && alpha != 0.0 && !decoupled;
        let penalty = T::from_f64(alpha / batch);
        match self.solver {
            SkSolver::AdamW {
                beta_1,
                beta_2,
                epsilon,
            } => {
                let config = AdamWConfig {
                    learning_rate: lr,
                    beta1: beta_1,
                    beta2: beta_2,
                    epsilon,
                    weight_decay: if is_weight { alpha } else { 0.0 },
                };
                adamw_update(&config, lr, value, raw, &mut self.adamw[index]);
            }
            SkSolver::RmsProp { beta_2, epsilon } => {
                let config = RmsPropConfig {
                    learning_rate: lr,
                    alpha: beta_2,
                    epsilon,
                    ..RmsPropConfig::default()
                };
                let gradient = &mut self.gradient;
                gradient.clear();
                gradient.extend_from_slice(raw);
                if penalized {
                    for (g, &w) in gradient.iter_mut().zip(value.iter()) {
                        *g += penalty * w;
                    }
                }
                rmsprop_update(&config, lr, value, gradient, &mut self.rmsprop[index]);
            }
            SkSolver::Sgd { .. } | SkSolver::Adam { .. } => unreachable!("have kernels"),
        }
    }
}

/// scikit-learn's step taken layer by layer inside the backward pass: for a layer large enough
/// to split, SGD's or Adam's element loop on each band of ∂C/∂W as it is computed (the same
/// operations per element as [`SkOptimizer::step`]); otherwise, and for the library's rules,
/// the layer's gradients whole and then its updates.
pub(crate) struct SkLayerStep<'a, T: Float> {
    pub(crate) optimizer: &'a mut SkOptimizer<T>,
    /// α and the batch's weight B.
    pub(crate) penalty: (f64, f64),
}

impl<'a, T: Float> SkLayerStep<'a, T> {
    /// Counts the step in `optimizer`: the layers' updates follow during the backward pass.
    pub(crate) fn begin(optimizer: &'a mut SkOptimizer<T>, alpha: f64, batch: f64) -> Self {
        optimizer.begin_step();
        Self {
            optimizer,
            penalty: (alpha, batch),
        }
    }
}

impl<T: Float> LayerStep<T> for SkLayerStep<'_, T> {
    fn stops_at(&self, _loss: f64) -> bool {
        false
    }

    fn update_layer(&mut self, dense: &mut Dense<T>, ordinal: usize) {
        let (optimizer, penalty, index) = (&mut *self.optimizer, self.penalty, 2 * ordinal);
        let rows = dense.cache().map_or(0, |cache| cache.input.rows());
        let banded = optimizer.updates_in_bands() && dense.updates_in_bands(rows);
        match optimizer.kernel(true, penalty).filter(|_| banded) {
            Some(kernel) => {
                let first = optimizer.first[index].as_mut_slice();
                let second = match optimizer.second.get_mut(index) {
                    Some(second) => second.as_mut_slice(),
                    None => &mut [],
                };
                dense.parameter_gradients_updating([first, second, &mut []], |w, g, state| {
                    let [first, second, _] = state;
                    match kernel {
                        SkKernel::Sgd(s) => sgd_elements(w, g, first, s),
                        SkKernel::Adam(s) => adam_elements(w, g, first, second, s),
                    }
                });
            }
            None => {
                dense.parameter_gradients();
                let weight = (
                    dense.weight.as_mut_slice(),
                    dense.weight_gradient.as_slice(),
                );
                optimizer.update_parameter(index, weight, true, penalty);
            }
        }
        let bias = (dense.bias.as_mut_slice(), dense.bias_gradient.as_slice());
        optimizer.update_parameter(index + 1, bias, false, penalty);
    }
}

/// scikit-learn's SGD or Adam element loop with one step's scalars.
#[derive(Clone, Copy)]
enum SkKernel<T> {
    Sgd(SgdScalars<T>),
    Adam(AdamScalars<T>),
}

/// SGD's scalars for one parameter, in `T`.
#[derive(Clone, Copy)]
struct SgdScalars<T> {
    penalized: bool,
    penalty: T,
    mu: T,
    eta: T,
    nesterov: bool,
    /// Gradients and velocities below these are zero (no subnormal state).
    floors: Floors<T>,
}

simd_kernel! {
    /// v ← μv − ηg, w ← w + v (Nesterov: w + μv − ηg), g = ∂C/∂w + (α/B)·w when penalised.
    fn sgd_elements<T: Float>(w: &mut [T], raw: &[T], v: &mut [T], s: SgdScalars<T>) {
        for ((w, &g), v) in w.iter_mut().zip(raw).zip(v.iter_mut()) {
            let g = if s.penalized { g + s.penalty * *w } else { g };
            let g = zero_below(g, s.floors.state);
            *v = zero_below(s.mu * *v - s.eta * g, s.floors.state);
            *w = if s.nesterov { *w + (s.mu * *v - s.eta * g) } else { *w + *v };
        }
    }
}

/// Adam's scalars for one step, in `T`.
#[derive(Clone, Copy)]
struct AdamScalars<T> {
    penalized: bool,
    penalty: T,
    b1: T,
    one_minus_b1: T,
    b2: T,
    one_minus_b2: T,
    epsilon: T,
    /// η·√(1 − β₂ᵗ)/(1 − β₁ᵗ).
    rate: T,
    /// Gradients and moments below these are zero (no subnormal state).
    floors: Floors<T>,
}

simd_kernel! {
    /// scikit-learn's Adam element by element, ε on the uncorrected √v.
    fn adam_elements<T: Float>(w: &mut [T], raw: &[T], m: &mut [T], v: &mut [T], s: AdamScalars<T>) {
        let moments = m.iter_mut().zip(v.iter_mut());
        for ((w, &g), (m, v)) in w.iter_mut().zip(raw).zip(moments) {
            let g = if s.penalized { g + s.penalty * *w } else { g };
            let (beta1, beta2) = ((s.b1, s.one_minus_b1), (s.b2, s.one_minus_b2));
            adam_moments((&mut *m, &mut *v), g, beta1, beta2, s.floors);
            *w -= s.rate * *m / (v.sqrt() + s.epsilon);
        }
    }
}
