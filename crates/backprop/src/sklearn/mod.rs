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
    sk_epoch, sk_loss_and_gradients, sk_output_loss, sk_run_in_pool, sk_uses_row_blocks,
    sk_uses_threads, squared_weights, SkData, SkObjective,
};

use crate::network::Network;
use crate::optim::pieces::{pieces3, pieces4};
use crate::optim::{
    adamw_update, rmsprop_update, AdamState, AdamWConfig, RmsPropConfig, RmsPropState,
};
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
        self.steps += 1;
        let lr = self.learning_rate;
        let decoupled = matches!(self.solver, SkSolver::AdamW { .. });
        let penalty = T::from_f64(alpha / batch);
        let mut index = 0;
        for dense in network.dense_layers_mut() {
            for is_weight in [true, false] {
                let (value, raw) = if is_weight {
                    (&mut dense.weight, &dense.weight_gradient)
                } else {
                    (&mut dense.bias, &dense.bias_gradient)
                };
                let penalized = is_weight && alpha != 0.0 && !decoupled;
                let (value, raw) = (value.as_mut_slice(), raw.as_slice());
                match self.solver {
                    SkSolver::Sgd { momentum, nesterov } => {
                        let s = SgdScalars {
                            penalized,
                            penalty,
                            mu: T::from_f64(momentum),
                            eta: T::from_f64(lr),
                            nesterov,
                        };
                        let velocity = self.first[index].as_mut_slice();
                        pieces3(value, raw, velocity, |w, g, v| sgd_elements(w, g, v, s));
                    }
                    SkSolver::Adam {
                        beta_1,
                        beta_2,
                        epsilon,
                    } => {
                        let t = self.steps as i32;
                        let rate = lr * (1.0 - beta_2.powi(t)).sqrt() / (1.0 - beta_1.powi(t));
                        let (b1, b2) = (T::from_f64(beta_1), T::from_f64(beta_2));
                        let s = AdamScalars {
                            penalized,
                            penalty,
                            b1,
                            one_minus_b1: T::ONE - b1,
                            b2,
                            one_minus_b2: T::ONE - b2,
                            epsilon: T::from_f64(epsilon),
                            rate: T::from_f64(rate),
                        };
                        let (m, v) = (&mut self.first[index], &mut self.second[index]);
                        let (m, v) = (m.as_mut_slice(), v.as_mut_slice());
                        pieces4(value, raw, m, v, |w, g, m, v| adam_elements(w, g, m, v, s));
                    }
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
                }
                index += 1;
            }
        }
    }
}

/// SGD's scalars for one parameter, in `T`.
#[derive(Clone, Copy)]
struct SgdScalars<T> {
    penalized: bool,
    penalty: T,
    mu: T,
    eta: T,
    nesterov: bool,
}

simd_kernel! {
    /// v ← μv − ηg, w ← w + v (Nesterov: w + μv − ηg), g = ∂C/∂w + (α/B)·w when penalised.
    fn sgd_elements<T: Float>(w: &mut [T], raw: &[T], v: &mut [T], s: SgdScalars<T>) {
        for ((w, &g), v) in w.iter_mut().zip(raw).zip(v.iter_mut()) {
            let g = if s.penalized { g + s.penalty * *w } else { g };
            *v = s.mu * *v - s.eta * g;
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
}

simd_kernel! {
    /// scikit-learn's Adam element by element, ε on the uncorrected √v.
    fn adam_elements<T: Float>(w: &mut [T], raw: &[T], m: &mut [T], v: &mut [T], s: AdamScalars<T>) {
        let moments = m.iter_mut().zip(v.iter_mut());
        for ((w, &g), (m, v)) in w.iter_mut().zip(raw).zip(moments) {
            let g = if s.penalized { g + s.penalty * *w } else { g };
            *m = s.b1 * *m + s.one_minus_b1 * g;
            *v = s.b2 * *v + s.one_minus_b2 * g * g;
            *w -= s.rate * *m / (v.sqrt() + s.epsilon);
        }
    }
}
