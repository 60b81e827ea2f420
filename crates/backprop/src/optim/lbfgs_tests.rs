use super::*;
use crate::optim::{lbfgs_fit, pack_gradients, pack_parameters, unpack_parameters};
use crate::{Activation, Cost, NetworkConfig};
use backprop_tensor::Matrix;

/// f(x) = ½ Σ cᵢ (xᵢ − i)², whose minimum is x = (0, 1, 2, …) with f = 0.
fn quadratic(x: &[f64], gradient: &mut [f64]) -> f64 {
    let mut loss = 0.0;
    for (i, (&xi, g)) in x.iter().zip(gradient.iter_mut()).enumerate() {
        let scale = 1.0 + 10.0 * i as f64;
        let offset = xi - i as f64;
        loss += 0.5 * scale * offset * offset;
        *g = scale * offset;
    }
    loss
}

/// Rosenbrock's valley, minimum 0 at (1, 1).
fn rosenbrock(x: &[f64], gradient: &mut [f64]) -> f64 {
    let (a, b) = (x[0], x[1]);
    gradient[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
    gradient[1] = 200.0 * (b - a * a);
    (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
}

fn tight() -> LbfgsConfig {
    LbfgsConfig {
        gradient_tolerance: 1e-8,
        loss_tolerance: 0.0,
        ..LbfgsConfig::default()
    }
}

#[test]
fn minimises_an_ill_conditioned_quadratic() {
    let mut x = vec![5.0; 6];
    let report = minimize(quadratic, &mut x, &tight(), |_, _, _| true).unwrap();
    for (i, &xi) in x.iter().enumerate() {
        assert!((xi - i as f64).abs() < 1e-8, "x[{i}] = {xi}");
    }
    assert_eq!(report.stop, LbfgsStop::Gradient);
    // A quadratic in 6 dimensions: far fewer iterations than gradient descent would need.
    assert!(report.iterations < 30, "{report:?}");
}

#[test]
fn minimises_rosenbrock() {
    let mut x = vec![-1.2, 1.0];
    let report = minimize(rosenbrock, &mut x, &tight(), |_, _, _| true).unwrap();
    assert!(
        (x[0] - 1.0).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6,
        "{x:?}"
    );
    assert!(report.loss < 1e-12, "{report:?}");
    assert!(report.iterations < 100, "{report:?}");
}

#[test]
fn honours_max_iterations_max_evaluations_and_the_callback() {
    let config = LbfgsConfig {
        max_iterations: 3,
        ..tight()
    };
    let mut x = vec![-1.2, 1.0];
    let mut seen = Vec::new();
    let report = minimize(rosenbrock, &mut x, &config, |i, loss, _| {
        seen.push((i, loss));
        true
    })
    .unwrap();
    assert_eq!((report.iterations, report.stop), (3, LbfgsStop::Iterations));
    assert_eq!(seen.len(), 3);
    assert!(
        seen.windows(2).all(|w| w[1].1 < w[0].1),
        "f decreases: {seen:?}"
    );

    let config = LbfgsConfig {
        max_evaluations: 7,
        ..tight()
    };
    let mut calls = 0;
    let mut x = vec![-1.2, 1.0];
    let report = minimize(
        |x, g| {
            calls += 1;
            rosenbrock(x, g)
        },
        &mut x,
        &config,
        |_, _, _| true,
    )
    .unwrap();
    assert_eq!(report.stop, LbfgsStop::Evaluations);
    assert!(
        calls <= 7 && report.evaluations == calls,
        "{calls} {report:?}"
    );

    let mut x = vec![-1.2, 1.0];
    let report = minimize(rosenbrock, &mut x, &tight(), |i, _, _| i < 2).unwrap();
    assert_eq!(
        (report.iterations, report.stop),
        (2, LbfgsStop::Interrupted)
    );
}

#[test]
fn loss_tolerance_stops_on_a_small_relative_decrease() {
    let config = LbfgsConfig {
        loss_tolerance: 1e-3,
        gradient_tolerance: 0.0,
        ..LbfgsConfig::default()
    };
    let mut x = vec![-1.2, 1.0];
    let report = minimize(rosenbrock, &mut x, &config, |_, _, _| true).unwrap();
    assert_eq!(report.stop, LbfgsStop::Loss);
    assert!(report.iterations < 200);
}

#[test]
fn refuses_invalid_settings_and_a_non_finite_start() {
    for config in [
        LbfgsConfig {
            history: 0,
            ..LbfgsConfig::default()
        },
        LbfgsConfig {
            max_iterations: 0,
            ..LbfgsConfig::default()
        },
        LbfgsConfig {
            gradient_tolerance: f64::NAN,
            ..LbfgsConfig::default()
        },
        LbfgsConfig {
            loss_tolerance: -1.0,
            ..LbfgsConfig::default()
        },
    ] {
        let mut x = vec![0.0; 2];
        assert!(minimize(rosenbrock, &mut x, &config, |_, _, _| true).is_err());
    }
    let mut x = vec![f64::NAN, 0.0];
    let report = minimize(rosenbrock, &mut x, &tight(), |_, _, _| true).unwrap();
    assert_eq!(report.stop, LbfgsStop::NotFinite);
}

fn network_and_data() -> (crate::Network<f64>, Matrix<f64>, Matrix<f64>) {
    let network = NetworkConfig::new(&[2, 6, 3], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Tanh)
        .with_seed(4)
        .init::<f64>()
        .unwrap();
    let x = Matrix::from_fn(30, 2, |i, j| ((i * 2 + j) as f64 * 0.71).sin());
    let y = Matrix::from_fn(30, 3, |i, j| if i % 3 == j { 1.0 } else { 0.0 });
    (network, x, y)
}

#[test]
fn packing_round_trips_and_gradients_match_finite_differences() {
    let (mut network, x, y) = network_and_data();
    let packed = pack_parameters(&network);
    assert_eq!(packed.len(), network.parameter_count());
    let mut other = network.clone();
    unpack_parameters(&mut other, &vec![0.0; packed.len()]);
    unpack_parameters(&mut other, &packed);
    assert_eq!(pack_parameters(&other), packed);
    // The packed gradient is the derivative of the loss the objective returns.
    network.compute_gradients(&x, &y);
    let analytic = pack_gradients(&mut network);
    let h = 1e-6;
    for index in [0, 5, 13, packed.len() - 1] {
        let at = |delta: f64| {
            let mut moved = packed.clone();
            moved[index] += delta;
            let mut probe = network.clone();
            unpack_parameters(&mut probe, &moved);
            probe.loss(&x, &y)
        };
        let numeric = (at(h) - at(-h)) / (2.0 * h);
        assert!(
            (numeric - analytic[index]).abs() < 1e-7,
            "parameter {index}: {numeric} vs {}",
            analytic[index]
        );
    }
}

#[test]
fn trains_a_small_network_below_its_starting_loss() {
    let (mut network, x, y) = network_and_data();
    let start = network.loss(&x, &y);
    let mut losses = Vec::new();
    let config = LbfgsConfig {
        max_iterations: 50,
        ..LbfgsConfig::default()
    };
    let report = lbfgs_fit(
        &mut network,
        &config,
        |probe| probe.compute_gradients(&x, &y),
        |current, _, loss| {
            // The network handed over holds the iterate whose loss is reported.
            assert!((current.loss(&x, &y) - loss).abs() < 1e-9);
            losses.push(loss);
            true
        },
    )
    .unwrap();
    let end = network.loss(&x, &y);
    assert!((end - report.loss).abs() < 1e-12, "the best point is kept");
    assert!(end < 0.5 * start, "{start} → {end}");
    assert!(losses.windows(2).all(|w| w[1] <= w[0]), "{losses:?}");
    // At least as good as 50 full-batch steps of plain gradient descent from the same start.
    let (mut descent, _, _) = network_and_data();
    for _ in 0..50 {
        descent.compute_gradients(&x, &y);
        for (_, slot) in descent.parameter_slots() {
            slot.value.add_scaled(-0.5, slot.gradient);
        }
    }
    assert!(
        end < descent.loss(&x, &y),
        "{end} vs {}",
        descent.loss(&x, &y)
    );
}
