//! Tests of scikit-learn's rules against formulas written out by hand.

use super::*;
use crate::network::Network;
use crate::{Activation, Cost, NetworkConfig};
use backprop_tensor::Matrix;

const NO_PENALTY: SkObjective = SkObjective {
    alpha: 0.0,
    poisson: false,
};

pub(super) fn penalty(alpha: f64) -> SkObjective {
    SkObjective {
        alpha,
        poisson: false,
    }
}

pub(super) fn net() -> Network<f64> {
    NetworkConfig::new(&[3, 4, 2], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Tanh)
        .init::<f64>()
        .unwrap()
}

pub(super) fn data() -> (Matrix<f64>, Matrix<f64>) {
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
    let objective = SkObjective {
        alpha,
        poisson: false,
    };
    let data = SkData::new(&x, &y);
    let loss = sk_epoch(&mut network, &mut optimizer, data, &order, 5, objective);
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
        sk_output_loss(&before, false, &a, &y, None) + 0.5 * alpha * squared_weights(&before) / 5.0;
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
            SkData::new(&x, &y),
            &[0, 1, 2, 3, 4],
            5,
            NO_PENALTY,
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
    sk_loss_and_gradients(&mut network, SkData::new(&x, &y), penalty(alpha));
    let analytic = network.dense_layers()[0].weight_gradient[(2, 1)];
    let analytic_bias = network.dense_layers()[1].bias_gradient[(0, 1)];
    let at = |w: f64, b: f64| {
        let mut probe = net();
        probe.dense_layers_mut()[0].weight[(2, 1)] = w;
        probe.dense_layers_mut()[1].bias[(0, 1)] = b;
        sk_loss_and_gradients(&mut probe, SkData::new(&x, &y), penalty(alpha))
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
            SkData::new(&x, &y),
            &[0, 1, 2, 3, 4],
            2,
            NO_PENALTY,
        );
        network.dense_layers()[0].weight.clone()
    };
    let (plain, nesterov) = (run(false), run(true));
    assert_ne!(plain, nesterov);
}

/// A 3-4-2 tanh network with an identity output (squared error, or Poisson through exp).
fn regression_net() -> Network<f64> {
    NetworkConfig::new(&[3, 4, 2], Cost::Quadratic)
        .with_hidden_activation(Activation::Tanh)
        .with_output_activation(Activation::Identity)
        .with_seed(5)
        .init::<f64>()
        .unwrap()
}

/// Integer sample weights are duplicated rows: the same full-batch loss (with the penalty over
/// B = Σw) and the same gradients, for every output kind.
#[test]
fn integer_weights_equal_duplicated_rows() {
    let (x, y) = data();
    let counts = [1usize, 3, 2, 1, 4];
    let rows: Vec<usize> = (0..5).flat_map(|i| vec![i; counts[i]]).collect();
    let (mut xd, mut yd) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
    xd.gather_rows(&x, &rows);
    yd.gather_rows(&y, &rows);
    let weights: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    let y_counts = Matrix::from_fn(5, 2, |i, j| (i + 2 * j) as f64 * 0.5);
    let mut yd_counts = Matrix::zeros(0, 0);
    yd_counts.gather_rows(&y_counts, &rows);
    let cases = [
        (net(), false, &y, &yd),
        (regression_net(), false, &y, &yd),
        (regression_net(), true, &y_counts, &yd_counts),
    ];
    for (network, poisson, y, yd) in cases {
        let objective = SkObjective {
            alpha: 0.3,
            poisson,
        };
        let (mut weighted, mut duplicated) = (network.clone(), network);
        let data = SkData {
            x: (&x).into(),
            y,
            sample_weight: Some(&weights),
        };
        let a = sk_loss_and_gradients(&mut weighted, data, objective);
        let b = sk_loss_and_gradients(&mut duplicated, SkData::new(&xd, yd), objective);
        assert!((a - b).abs() < 1e-12, "poisson {poisson}: loss {a} vs {b}");
        for (p, q) in weighted
            .dense_layers()
            .iter()
            .zip(duplicated.dense_layers())
        {
            for (g, h) in [
                (&p.weight_gradient, &q.weight_gradient),
                (&p.bias_gradient, &q.bias_gradient),
            ] {
                for (u, v) in g.as_slice().iter().zip(h.as_slice()) {
                    assert!((u - v).abs() < 1e-12, "poisson {poisson}: {u} vs {v}");
                }
            }
        }
    }
}

/// The Poisson loss is exp(z) − y·z + y·ln y − y summed over outputs, averaged over rows, and
/// its gradient is that loss's derivative (central differences), weighted rows included.
#[test]
fn poisson_loss_and_its_gradient() {
    let (x, _) = data();
    let y = Matrix::from_fn(5, 2, |i, j| ((i + j) % 3) as f64);
    let weights = [0.5, 2.0, 1.0, 0.0, 3.0];
    let objective = SkObjective {
        alpha: 0.2,
        poisson: true,
    };
    let data = SkData {
        x: (&x).into(),
        y: &y,
        sample_weight: Some(&weights),
    };
    let mut network = regression_net();
    let loss = sk_loss_and_gradients(&mut network, data, objective);
    let (z, _) = regression_net().output_with_logits(&x);
    let mut expected = 0.0;
    for i in 0..5 {
        for j in 0..2 {
            let (z, t) = (z[(i, j)], y[(i, j)]);
            let xlogy = if t == 0.0 { 0.0 } else { t * t.ln() };
            expected += weights[i] * (z.exp() - t * z + xlogy - t);
        }
    }
    let total: f64 = weights.iter().sum();
    expected = expected / total + 0.5 * 0.2 * squared_weights(&regression_net()) / total;
    assert!((loss - expected).abs() < 1e-12, "{loss} vs {expected}");
    let analytic = network.dense_layers()[0].weight_gradient[(1, 2)];
    let at = |w: f64| {
        let mut probe = regression_net();
        probe.dense_layers_mut()[0].weight[(1, 2)] = w;
        sk_loss_and_gradients(&mut probe, data, objective)
    };
    let (w, h) = (regression_net().dense_layers()[0].weight[(1, 2)], 1e-6);
    let numeric = (at(w + h) - at(w - h)) / (2.0 * h);
    assert!((numeric - analytic).abs() < 1e-7, "{numeric} vs {analytic}");
}

/// One full-batch step of the library's AdamW and RMSprop, written out for one weight and one
/// bias: AdamW decays weights by ηα outside the gradient (biases not at all); RMSprop adds
/// the penalty's αW/B to the gradient.
#[test]
fn adamw_and_rmsprop_steps_follow_their_formulas() {
    let (x, y) = data();
    let (eta, alpha, b1, b2, eps) = (0.01, 0.5, 0.9, 0.99, 1e-8);
    for solver in [
        SkSolver::AdamW {
            beta_1: b1,
            beta_2: b2,
            epsilon: eps,
        },
        SkSolver::RmsProp {
            beta_2: b2,
            epsilon: eps,
        },
    ] {
        let mut network = net();
        let mut probe = network.clone();
        probe.compute_gradients(&x, &y);
        let mut optimizer = SkOptimizer::new(solver, eta, &network);
        let objective = penalty(alpha);
        sk_epoch(
            &mut network,
            &mut optimizer,
            SkData::new(&x, &y),
            &[0, 1, 2, 3, 4],
            5,
            objective,
        );
        let before = net();
        let cases = [
            (
                before.dense_layers()[0].weight[(2, 1)],
                probe.dense_layers()[0].weight_gradient[(2, 1)],
                network.dense_layers()[0].weight[(2, 1)],
                true,
            ),
            (
                before.dense_layers()[1].bias[(0, 1)],
                probe.dense_layers()[1].bias_gradient[(0, 1)],
                network.dense_layers()[1].bias[(0, 1)],
                false,
            ),
        ];
        for (w, g, got, is_weight) in cases {
            let expected = match solver {
                SkSolver::AdamW { .. } => {
                    let decay = if is_weight { alpha } else { 0.0 };
                    let (m, v) = ((1.0 - b1) * g, (1.0 - b2) * g * g);
                    let (bc1, bc2) = (1.0 - b1, 1.0f64 - b2);
                    w * (1.0 - eta * decay) - eta / bc1 * m / (v.sqrt() / bc2.sqrt() + eps)
                }
                _ => {
                    let g = if is_weight { g + alpha * w / 5.0 } else { g };
                    w - eta * g / (((1.0 - b2) * g * g).sqrt() + eps)
                }
            };
            assert!(
                (expected - got).abs() < 1e-12,
                "{solver:?}: {expected} vs {got}"
            );
        }
    }
}

/// `sk_epoch` takes SGD's and Adam's steps inside the backward pass, on the bands of a wide
/// layer's weight gradient: two epochs give the parameters (and the loss) of the gradients
/// computed whole and then [`SkOptimizer::step`], with the penalty and with sample weights.
#[test]
fn steps_inside_the_backward_pass_equal_steps_after_it() {
    let (rows, inputs, hidden) = (96, 300, 260);
    let x = Matrix::from_fn(rows, inputs, |i, j| {
        ((i * 31 + j * 7) % 23) as f64 / 23.0 - 0.4
    });
    let y = Matrix::from_fn(rows, 3, |i, j| if (i * 5) % 3 == j { 1.0 } else { 0.0 });
    let weights: Vec<f64> = (0..rows).map(|i| 0.5 + (i % 4) as f64 * 0.25).collect();
    let network = || -> Network<f64> {
        let mut network = NetworkConfig::new(&[inputs, hidden, 3], Cost::SoftmaxCrossEntropy)
            .with_hidden_activation(Activation::Relu)
            .init::<f64>()
            .unwrap();
        glorot_uniform(&mut network, 4, false);
        network
    };
    assert!(
        !sk_uses_row_blocks(&network()),
        "the banded path needs the gemm path"
    );
    let order: Vec<usize> = (0..rows).rev().collect();
    let solvers = [
        SkSolver::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
        SkSolver::Adam {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-8,
        },
    ];
    for solver in solvers {
        for sample_weight in [None, Some(&weights[..])] {
            let data = SkData {
                x: (&x).into(),
                y: &y,
                sample_weight,
            };
            let objective = penalty(0.01);
            let (mut fused, mut whole) = (network(), network());
            let mut fused_optimizer = SkOptimizer::new(solver, 0.01, &fused);
            let mut whole_optimizer = SkOptimizer::new(solver, 0.01, &whole);
            for _ in 0..2 {
                let fused_loss = sk_epoch(
                    &mut fused,
                    &mut fused_optimizer,
                    data,
                    &order,
                    32,
                    objective,
                );
                // The same epoch, the gradients whole and the step after them.
                let mut y_batch = Matrix::zeros(0, 0);
                let mut total = 0.0;
                for batch_rows in order.chunks(32) {
                    whole.load_batch(&x, batch_rows);
                    y_batch.gather_rows(&y, batch_rows);
                    let w: Option<Vec<f64>> =
                        sample_weight.map(|w| batch_rows.iter().map(|&i| w[i]).collect());
                    let (loss, batch) =
                        objective::batch_gradients(&mut whole, &y_batch, w.as_deref(), false, None);
                    total += (loss + 0.005 * squared_weights(&whole) / batch) * 32.0;
                    whole_optimizer.step(&mut whole, 0.01, batch);
                }
                let whole_loss = total / rows as f64;
                assert!(
                    (fused_loss - whole_loss).abs() <= 1e-12 * whole_loss,
                    "{solver:?}"
                );
            }
            for ((name, f), (_, w)) in fused.parameters().iter().zip(whole.parameters()) {
                for (a, b) in f.as_slice().iter().zip(w.as_slice()) {
                    assert!(
                        (a - b).abs() <= 1e-12 * b.abs().max(1e-3),
                        "{solver:?} {name}: {a} against {b}"
                    );
                }
            }
            assert_ne!(fused.parameters()[0].1, network().parameters()[0].1);
        }
    }
}

use crate::optim::subnormal::fading::{gradient as fading_gradient, subnormal};

/// scikit-learn's SGD with momentum and its Adam keep no subnormal state, while the formulas
/// written out beside them in `f32` make some, and the weights are the formulas' bits.
#[test]
fn sgd_and_adam_elements_keep_no_subnormal_state() {
    for nesterov in [false, true] {
        let s = SgdScalars {
            penalized: false,
            penalty: 0.0f32,
            mu: 0.9,
            eta: 0.01,
            nesterov,
            floors: Floors::new(),
        };
        let (mut w, mut v) = ([0.5f32, -0.25, 1.5, 2.0], [0.0f32; 4]);
        let (mut expected, mut velocity, mut reference_subnormals) = (w, [0.0f32; 4], 0);
        for step in 1..=2000 {
            let g = fading_gradient(step);
            sgd_elements(&mut w, &g, &mut v, s);
            assert!(!v.iter().any(subnormal), "step {step}");
            for i in 0..4 {
                velocity[i] = 0.9 * velocity[i] - 0.01 * g[i];
                expected[i] += match nesterov {
                    true => 0.9 * velocity[i] - 0.01 * g[i],
                    false => velocity[i],
                };
            }
            reference_subnormals += velocity.iter().filter(|x| subnormal(x)).count();
        }
        assert!(reference_subnormals > 0);
        assert_eq!(w, expected, "nesterov {nesterov}");
        assert_eq!(&v[..3], &[0.0; 3]);
    }

    let (b1, b2, epsilon) = (0.9f32, 0.999f32, 1e-8f32);
    let (mut w, mut m, mut v) = ([0.5f32, -0.25, 1.5, 2.0], [0.0f32; 4], [0.0f32; 4]);
    let (mut expected, mut m_ref, mut v_ref, mut reference_subnormals) = (w, m, v, 0);
    for step in 1..=2000 {
        let g = fading_gradient(step);
        let t = step as i32;
        let rate = (1e-3 * (1.0 - 0.999f64.powi(t)).sqrt() / (1.0 - 0.9f64.powi(t))) as f32;
        let s = AdamScalars {
            penalized: false,
            penalty: 0.0,
            b1,
            one_minus_b1: 1.0 - b1,
            b2,
            one_minus_b2: 1.0 - b2,
            epsilon,
            rate,
            floors: Floors::new(),
        };
        adam_elements(&mut w, &g, &mut m, &mut v, s);
        assert!(!m.iter().chain(&v).any(subnormal), "step {step}");
        for i in 0..4 {
            m_ref[i] = b1 * m_ref[i] + (1.0 - b1) * g[i];
            v_ref[i] = b2 * v_ref[i] + (1.0 - b2) * g[i] * g[i];
            expected[i] -= rate * m_ref[i] / (v_ref[i].sqrt() + epsilon);
        }
        reference_subnormals += m_ref.iter().chain(&v_ref).filter(|x| subnormal(x)).count();
    }
    assert!(reference_subnormals > 0);
    assert_eq!(w, expected);
    assert_eq!(&m[..3], &[0.0f32; 3]);
}

/// Σw² in 32 partial sums: the bits of the partial sums written out in order, and within
/// rounding of one running sum, for lengths around the lane count.
#[test]
fn sum_of_squares_adds_lanes_in_order() {
    use super::objective::sum_of_squares;
    for length in [0, 1, 31, 32, 33, 100, 78_400] {
        let values: Vec<f32> = (0..length)
            .map(|i| ((i as f32) * 0.37).sin() * 3.0)
            .collect();
        let mut lanes = [0.0f64; 32];
        for (i, &v) in values.iter().enumerate() {
            lanes[i % 32] += f64::from(v) * f64::from(v);
        }
        let expected: f64 = lanes.iter().sum();
        assert_eq!(
            sum_of_squares(&values).to_bits(),
            expected.to_bits(),
            "{length}"
        );
        let running: f64 = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        assert!(
            (expected - running).abs() <= 1e-12 * running.max(1.0),
            "{length}"
        );
    }
}
