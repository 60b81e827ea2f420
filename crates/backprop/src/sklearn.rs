//! scikit-learn's MLP training rules, as options beside the library's PyTorch-style defaults
//! (which the trainer and the command line keep). The Python package `backprop` (crate
//! `backprop-py`) builds its `MLPClassifier` and `MLPRegressor` on these.
//!
//! - **Initialisation** ([`glorot_uniform`]): weights and biases U(±√(f/(fan_in + fan_out))),
//!   f = 6, or 2 when the hidden activation is the logistic sigmoid.
//! - **Penalty**: α/(2B)·Σw² per batch over weights only (B = the batch's rows), so the weight
//!   gradient is (δᵀa + αW)/B ([`SkOptimizer::step`]).
//! - **SGD** with momentum: v ← μv − ηg, w ← w + v; Nesterov: v ← μv − ηg, w ← w + μv − ηg.
//! - **Adam**: t ← t + 1, m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
//!   w ← w − η·√(1 − β₂ᵗ)/(1 − β₁ᵗ)·m/(√v + ε), with ε on the uncorrected v.
//! - **An epoch** ([`sk_epoch`]): batches in the given row order, one step per batch, the epoch
//!   loss the row-weighted mean of the batch losses (each with its penalty).
//!
//! The per-epoch rules (invscaling η/(t + 1)^power_t with t counting samples, adaptive η/5,
//! the `tol` / `n_iter_no_change` stopping rule) are scalar bookkeeping between epochs: the
//! caller sets [`SkOptimizer::learning_rate`] before each epoch.

use crate::network::Network;
use backprop_tensor::{Float, Matrix, SeededRng};

/// scikit-learn's stochastic solvers.
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

/// The state of one of scikit-learn's stochastic optimisers: velocities (SGD) or moments (Adam),
/// one pair per parameter in [`Network::parameters`] order.
#[derive(Clone, Debug)]
pub struct SkOptimizer<T: Float> {
    solver: SkSolver,
    /// η for the next step; the caller applies the schedules between epochs.
    pub learning_rate: f64,
    /// Adam's step count t.
    pub steps: u64,
    first: Vec<Matrix<T>>,
    second: Vec<Matrix<T>>,
    gradient: Matrix<T>,
}

impl<T: Float> SkOptimizer<T> {
    /// A fresh optimiser (zero velocities and moments) for `network`'s parameters.
    pub fn new(solver: SkSolver, learning_rate: f64, network: &Network<T>) -> Self {
        let zeros: Vec<Matrix<T>> = network
            .parameters()
            .iter()
            .map(|(_, m)| Matrix::zeros(m.rows(), m.cols()))
            .collect();
        let second = match solver {
            SkSolver::Adam { .. } => zeros.clone(),
            SkSolver::Sgd { .. } => Vec::new(),
        };
        Self {
            solver,
            learning_rate,
            steps: 0,
            first: zeros,
            second,
            gradient: Matrix::zeros(0, 0),
        }
    }

    /// The solver.
    pub fn solver(&self) -> SkSolver {
        self.solver
    }

    /// One update from the gradients the last backward pass left in `network` (means over a
    /// batch of weight `batch`), with the penalty's αW/B added to each weight gradient.
    pub fn step(&mut self, network: &mut Network<T>, alpha: f64, batch: f64) {
        self.steps += 1;
        let lr = self.learning_rate;
        let penalty = T::from_f64(alpha / batch);
        let mut index = 0;
        let gradient = &mut self.gradient;
        for dense in network.dense_layers_mut() {
            for is_weight in [true, false] {
                let (value, raw) = if is_weight {
                    (&mut dense.weight, &dense.weight_gradient)
                } else {
                    (&mut dense.bias, &dense.bias_gradient)
                };
                gradient.resize(raw.rows(), raw.cols());
                gradient.as_mut_slice().copy_from_slice(raw.as_slice());
                if is_weight && alpha != 0.0 {
                    gradient.add_scaled(penalty, value);
                }
                let first = &mut self.first[index];
                match self.solver {
                    SkSolver::Sgd { momentum, nesterov } => {
                        let (mu, eta) = (T::from_f64(momentum), T::from_f64(lr));
                        for ((v, w), &g) in first
                            .as_mut_slice()
                            .iter_mut()
                            .zip(value.as_mut_slice())
                            .zip(gradient.as_slice())
                        {
                            *v = mu * *v - eta * g;
                            *w = if nesterov {
                                *w + (mu * *v - eta * g)
                            } else {
                                *w + *v
                            };
                        }
                    }
                    SkSolver::Adam {
                        beta_1,
                        beta_2,
                        epsilon,
                    } => {
                        let t = self.steps as i32;
                        let rate = lr * (1.0 - beta_2.powi(t)).sqrt() / (1.0 - beta_1.powi(t));
                        let (b1, b2) = (T::from_f64(beta_1), T::from_f64(beta_2));
                        let (one, eps, rate) = (T::ONE, T::from_f64(epsilon), T::from_f64(rate));
                        let second = &mut self.second[index];
                        for (((m, v), w), &g) in first
                            .as_mut_slice()
                            .iter_mut()
                            .zip(second.as_mut_slice())
                            .zip(value.as_mut_slice())
                            .zip(gradient.as_slice())
                        {
                            *m = b1 * *m + (one - b1) * g;
                            *v = b2 * *v + (one - b2) * g * g;
                            *w -= rate * *m / (v.sqrt() + eps);
                        }
                    }
                }
                index += 1;
            }
        }
    }
}

/// scikit-learn's loss of a batch at the output `a`: softmax or binary cross-entropy (mean over
/// rows, summed over outputs; probabilities clipped to the float type's ε), or squared error
/// (mean over all cells, halved) for the identity output.
pub fn sk_output_loss<T: Float>(network: &Network<T>, a: &Matrix<T>, y: &Matrix<T>) -> f64 {
    use crate::Cost;
    let rows = a.rows().max(1) as f64;
    let eps = T::EPSILON.to_f64();
    let clip = |p: f64| p.clamp(eps, 1.0 - eps);
    let pairs = a.as_slice().iter().zip(y.as_slice());
    match network.cost() {
        Cost::SoftmaxCrossEntropy => {
            -pairs
                .map(|(&p, &t)| {
                    let t = t.to_f64();
                    if t == 0.0 {
                        0.0
                    } else {
                        t * clip(p.to_f64()).ln()
                    }
                })
                .sum::<f64>()
                / rows
        }
        Cost::BinaryCrossEntropy => {
            -pairs
                .map(|(&p, &t)| {
                    let (p, t) = (clip(p.to_f64()), t.to_f64());
                    let mut sum = 0.0;
                    if t != 0.0 {
                        sum += t * p.ln();
                    }
                    if t != 1.0 {
                        sum += (1.0 - t) * (1.0 - p).ln();
                    }
                    sum
                })
                .sum::<f64>()
                / rows
        }
        _ => {
            pairs
                .map(|(&p, &t)| (p.to_f64() - t.to_f64()).powi(2))
                .sum::<f64>()
                / a.len().max(1) as f64
                / 2.0
        }
    }
}

/// Σw² over every weight (no biases); the batch penalty is α/(2B) times this.
pub fn squared_weights<T: Float>(network: &Network<T>) -> f64 {
    network
        .dense_layers()
        .iter()
        .map(|d| d.weight.norm().powi(2))
        .sum()
}

/// One epoch of scikit-learn's minibatch training: rows in `order`, batches of `batch_size`
/// (the last one shorter), one [`SkOptimizer::step`] each. Returns the epoch loss, Σ (batch
/// loss + α/(2B)·Σw²)·B / n, as scikit-learn's `loss_curve_` records it.
///
/// # Panics
/// When shapes disagree with the network, `batch_size` is 0 or `order` holds a row out of range.
pub fn sk_epoch<T: Float>(
    network: &mut Network<T>,
    optimizer: &mut SkOptimizer<T>,
    x: &Matrix<T>,
    y: &Matrix<T>,
    order: &[usize],
    batch_size: usize,
    alpha: f64,
) -> f64 {
    assert!(batch_size > 0, "sk_epoch: batch_size must be positive");
    network.check_batch(x, Some(y));
    let mut y_batch = Matrix::zeros(0, 0);
    let mut total = 0.0;
    for rows in order.chunks(batch_size) {
        let batch = rows.len() as f64;
        network.load_batch(x, rows);
        y_batch.gather_rows(y, rows);
        network.compute_gradients_loaded(&y_batch);
        let a = &network
            .dense_layers()
            .last()
            .and_then(|d| d.cache())
            .expect("a training pass caches the output")
            .a;
        let loss =
            sk_output_loss(network, a, &y_batch) + 0.5 * alpha * squared_weights(network) / batch;
        total += loss * batch;
        optimizer.step(network, alpha, batch);
    }
    total / order.len().max(1) as f64
}

/// scikit-learn's full-batch objective, what its L-BFGS minimises: fills every layer's
/// gradients with (δᵀa + αW)/n (biases without the penalty) and returns the loss plus
/// α/(2n)·Σw².
///
/// # Panics
/// When shapes disagree with the network.
pub fn sk_loss_and_gradients<T: Float>(
    network: &mut Network<T>,
    x: &Matrix<T>,
    y: &Matrix<T>,
    alpha: f64,
) -> f64 {
    network.check_batch(x, Some(y));
    let n = x.rows().max(1) as f64;
    network.compute_gradients(x, y);
    let a = &network
        .dense_layers()
        .last()
        .and_then(|d| d.cache())
        .expect("a training pass caches the output")
        .a;
    let loss = sk_output_loss(network, a, y) + 0.5 * alpha * squared_weights(network) / n;
    if alpha != 0.0 {
        let penalty = T::from_f64(alpha / n);
        for dense in network.dense_layers_mut() {
            let dense = &mut *dense;
            dense.weight_gradient.add_scaled(penalty, &dense.weight);
        }
    }
    loss
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, Cost, NetworkConfig};

    fn net() -> Network<f64> {
        NetworkConfig::new(&[3, 4, 2], Cost::SoftmaxCrossEntropy)
            .with_hidden_activation(Activation::Tanh)
            .init::<f64>()
            .unwrap()
    }

    fn data() -> (Matrix<f64>, Matrix<f64>) {
        let x = Matrix::from_fn(5, 3, |i, j| ((i * 3 + j) as f64 * 0.37).sin());
        let y = Matrix::from_fn(5, 2, |i, j| if (i % 2) == j { 1.0 } else { 0.0 });
        (x, y)
    }

    #[test]
    fn glorot_bounds_follow_the_factor() {
        for (logistic, factor) in [(false, 6.0), (true, 2.0)] {
            let mut network = net();
            glorot_uniform(&mut network, 3, logistic);
            let layers = network.dense_layers();
            let bound: f64 = (factor / 7.0f64).sqrt();
            assert!(layers[0].weight.max_abs() <= bound);
            assert!(layers[0].bias.max_abs() <= bound);
            assert!(layers[0].bias.max_abs() > 0.0, "biases are drawn too");
            assert!(layers[0].weight.max_abs() > 0.5 * bound);
        }
    }

    /// One SGD step with momentum 0 is w − η(∇ + αW/B), from the gradients computed apart.
    #[test]
    fn sgd_step_adds_the_penalty_over_the_batch() {
        let (x, y) = data();
        let mut network = net();
        let before = network.clone();
        let mut probe = before.clone();
        probe.compute_gradients(&x, &y);
        let (eta, alpha) = (0.1, 0.5);
        let solver = SkSolver::Sgd {
            momentum: 0.0,
            nesterov: false,
        };
        let mut optimizer = SkOptimizer::new(solver, eta, &network);
        let order: Vec<usize> = (0..5).collect();
        let loss = sk_epoch(&mut network, &mut optimizer, &x, &y, &order, 5, alpha);
        let w0 = &before.dense_layers()[0].weight;
        let g0 = &probe.dense_layers()[0].weight_gradient;
        let w1 = &network.dense_layers()[0].weight;
        for ((&a, &g), &b) in w0.as_slice().iter().zip(g0.as_slice()).zip(w1.as_slice()) {
            let expected = a - eta * (g + alpha * a / 5.0);
            assert!((expected - b).abs() < 1e-12, "{expected} vs {b}");
        }
        let b0 = &before.dense_layers()[1].bias;
        let gb = &probe.dense_layers()[1].bias_gradient;
        let b1 = &network.dense_layers()[1].bias;
        for ((&a, &g), &b) in b0.as_slice().iter().zip(gb.as_slice()).zip(b1.as_slice()) {
            assert!((a - eta * g - b).abs() < 1e-12, "biases carry no penalty");
        }
        let (_, a) = before.output_with_logits(&x);
        let expected =
            sk_output_loss(&before, &a, &y) + 0.5 * alpha * squared_weights(&before) / 5.0;
        assert!((loss - expected).abs() < 1e-12);
    }

    /// Two Adam steps by the formula, written out for one weight.
    #[test]
    fn adam_matches_the_formula_with_epsilon_on_uncorrected_v() {
        let (x, y) = data();
        let mut network = net();
        let (b1, b2, eps, eta) = (0.9, 0.999, 1e-3, 0.01);
        let solver = SkSolver::Adam {
            beta_1: b1,
            beta_2: b2,
            epsilon: eps,
        };
        let mut optimizer = SkOptimizer::new(solver, eta, &network);
        let (mut m, mut v) = (0.0, 0.0);
        for t in 1..=2 {
            let mut probe = network.clone();
            probe.compute_gradients(&x, &y);
            let g = probe.dense_layers()[0].weight_gradient[(1, 2)];
            let w = network.dense_layers()[0].weight[(1, 2)];
            sk_epoch(
                &mut network,
                &mut optimizer,
                &x,
                &y,
                &[0, 1, 2, 3, 4],
                5,
                0.0,
            );
            m = b1 * m + (1.0 - b1) * g;
            v = b2 * v + (1.0 - b2) * g * g;
            let rate = eta * (1.0 - b2.powi(t)).sqrt() / (1.0 - b1.powi(t));
            let expected = w - rate * m / (v.sqrt() + eps);
            let got = network.dense_layers()[0].weight[(1, 2)];
            assert!(
                (expected - got).abs() < 1e-12,
                "step {t}: {expected} vs {got}"
            );
        }
        assert_eq!(optimizer.steps, 2);
    }

    /// The full-batch gradient is the derivative of the full-batch loss (central differences).
    #[test]
    fn full_batch_gradient_is_the_derivative_of_the_loss() {
        let (x, y) = data();
        let mut network = net();
        let alpha = 0.7;
        sk_loss_and_gradients(&mut network, &x, &y, alpha);
        let analytic = network.dense_layers()[0].weight_gradient[(2, 1)];
        let analytic_bias = network.dense_layers()[1].bias_gradient[(0, 1)];
        let at = |w: f64, b: f64| {
            let mut probe = net();
            probe.dense_layers_mut()[0].weight[(2, 1)] = w;
            probe.dense_layers_mut()[1].bias[(0, 1)] = b;
            sk_loss_and_gradients(&mut probe, &x, &y, alpha)
        };
        let (w, b) = (
            net().dense_layers()[0].weight[(2, 1)],
            net().dense_layers()[1].bias[(0, 1)],
        );
        let h = 1e-6;
        let numeric = (at(w + h, b) - at(w - h, b)) / (2.0 * h);
        let numeric_bias = (at(w, b + h) - at(w, b - h)) / (2.0 * h);
        assert!((numeric - analytic).abs() < 1e-8, "{numeric} vs {analytic}");
        assert!((numeric_bias - analytic_bias).abs() < 1e-8);
    }

    #[test]
    fn nesterov_differs_from_plain_momentum_after_the_first_step() {
        let (x, y) = data();
        let run = |nesterov| {
            let mut network = net();
            let solver = SkSolver::Sgd {
                momentum: 0.9,
                nesterov,
            };
            let mut optimizer = SkOptimizer::new(solver, 0.1, &network);
            sk_epoch(
                &mut network,
                &mut optimizer,
                &x,
                &y,
                &[0, 1, 2, 3, 4],
                2,
                0.0,
            );
            network.dense_layers()[0].weight.clone()
        };
        let (plain, nesterov) = (run(false), run(true));
        assert_ne!(plain, nesterov);
    }
}
