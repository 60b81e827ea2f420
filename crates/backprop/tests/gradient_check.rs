//! Backprop's gradients agree with central finite differences for every activation × cost
//! pairing that `NetworkConfig::validate` accepts, on shallow and deeper shapes and on batches of
//! 1 and 5 examples, with and without weight penalties and with dropout configured.
//!
//! Also proves that the check skips (and counts, per layer) exactly the parameters whose ±h
//! moves a ReLU or leaky-ReLU pre-activation across its kink, and that the `f32` gradients stay
//! within 1e-4 (relative, per tensor) of the `f64` reference.

use backprop::gradient_check::{precision_gap, GradientCheckReport};
use backprop::{gradient_check, Activation, Cost, Matrix, Network, NetworkConfig, Regularization};
use backprop::{Float, SeededRng};

/// The largest relative error any compared parameter may have.
const TOLERANCE: f64 = 1e-6;

fn hidden_activations() -> Vec<Activation> {
    vec![
        Activation::Identity,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LEAKY_RELU,
        Activation::Gelu,
    ]
}

fn output_activations() -> Vec<Activation> {
    let mut all = hidden_activations();
    all.push(Activation::Softmax);
    all
}

fn costs() -> Vec<Cost> {
    vec![
        Cost::Quadratic,
        Cost::MeanSquaredError,
        Cost::BinaryCrossEntropy,
        Cost::SoftmaxCrossEntropy,
        Cost::Huber { delta: 1.0 },
    ]
}

/// One activation × cost pairing: hidden activation, output activation, cost.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Pairing {
    hidden: Activation,
    output: Activation,
    cost: Cost,
}

impl Pairing {
    fn config(&self, sizes: &[usize]) -> NetworkConfig {
        NetworkConfig::new(sizes, self.cost)
            .with_hidden_activation(self.hidden)
            .with_output_activation(self.output)
    }

    /// The output widths to test: 1 and 3, keeping those the validator accepts.
    fn accepted_widths(&self) -> Vec<usize> {
        [1, 3]
            .into_iter()
            .filter(|&width| self.config(&[2, 3, width]).validate().is_ok())
            .collect()
    }
}

/// Every combination of the lists above, each with the output widths the validator accepts
/// (empty when it accepts none).
fn all_pairings() -> Vec<(Pairing, Vec<usize>)> {
    let mut out = Vec::new();
    for hidden in hidden_activations() {
        for output in output_activations() {
            for cost in costs() {
                let pairing = Pairing {
                    hidden,
                    output,
                    cost,
                };
                out.push((pairing, pairing.accepted_widths()));
            }
        }
    }
    out
}

fn accepted_pairings() -> Vec<(Pairing, Vec<usize>)> {
    all_pairings()
        .into_iter()
        .filter(|(_, widths)| !widths.is_empty())
        .collect()
}

/// Seeded inputs, normal with standard deviation 1.
fn inputs(rows: usize, cols: usize, seed: u64) -> Matrix<f64> {
    let mut rng = SeededRng::with_stream(seed, 7);
    Matrix::random_normal(rows, cols, 0.0, 1.0, &mut rng)
}

/// Targets that are valid for the cost: one-hot rows for softmax cross-entropy, values in
/// [0, 1] (a mix of 0, 1 and fractions) for binary cross-entropy, arbitrary reals otherwise.
fn targets(cost: Cost, rows: usize, cols: usize, seed: u64) -> Matrix<f64> {
    let mut rng = SeededRng::with_stream(seed, 8);
    match cost {
        Cost::SoftmaxCrossEntropy => {
            let mut y = Matrix::zeros(rows, cols);
            for row in 0..rows {
                let class = rng.below(cols);
                y[(row, class)] = 1.0;
            }
            y
        }
        Cost::BinaryCrossEntropy => Matrix::from_fn(rows, cols, |row, col| match (row + col) % 3 {
            0 => 0.0,
            1 => 1.0,
            _ => rng.uniform_range(0.05, 0.95),
        }),
        _ => Matrix::random_uniform(rows, cols, -1.5, 1.5, &mut rng),
    }
}

/// Runs the gradient check and asserts that every compared parameter is within tolerance.
#[track_caller]
fn check(
    label: &str,
    network: &Network<f64>,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
) -> GradientCheckReport {
    let report = gradient_check(network, x, y);
    assert!(
        report.checked() > 0,
        "{label}: nothing was compared: {report:?}"
    );
    assert!(
        report.max_error() < TOLERANCE,
        "{label}: max relative error {:.3e} at {:?}",
        report.max_error(),
        report
            .layers
            .iter()
            .max_by(|a, b| a.max_error.total_cmp(&b.max_error))
            .map(|l| &l.worst)
    );
    assert_eq!(
        report.checked() + report.skipped(),
        network.parameter_count(),
        "{label}: every parameter is either compared or skipped"
    );
    report
}

#[test]
fn the_validator_accepts_many_pairings_and_rejects_the_meaningless_ones() {
    let all = all_pairings();
    assert_eq!(all.len(), 6 * 7 * 5);
    let accepted = accepted_pairings();
    // Quadratic, MSE and Huber take any of the 6 elementwise outputs (3 × 6 × 6 = 108), binary
    // cross-entropy only sigmoid and softmax cross-entropy only softmax (6 each).
    assert_eq!(accepted.len(), 120);
    assert!(accepted.len() >= 40);
    let widths_of = |hidden, output, cost| {
        all.iter()
            .find(|(p, _)| {
                *p == Pairing {
                    hidden,
                    output,
                    cost,
                }
            })
            .map(|(_, widths)| widths.clone())
            .expect("pairing is in the list")
    };
    // Binary cross-entropy after a ReLU output: log of 0 or of values above 1.
    assert!(widths_of(
        Activation::Sigmoid,
        Activation::Relu,
        Cost::BinaryCrossEntropy
    )
    .is_empty());
    // Softmax with MSE: rejected, softmax is kept for cross-entropy.
    assert!(widths_of(
        Activation::Tanh,
        Activation::Softmax,
        Cost::MeanSquaredError
    )
    .is_empty());
    // Softmax cross-entropy needs a softmax output of at least 2 units.
    assert_eq!(
        widths_of(
            Activation::Relu,
            Activation::Softmax,
            Cost::SoftmaxCrossEntropy
        ),
        vec![3]
    );
    assert!(widths_of(
        Activation::Relu,
        Activation::Sigmoid,
        Cost::SoftmaxCrossEntropy
    )
    .is_empty());
    assert_eq!(
        widths_of(
            Activation::Gelu,
            Activation::Sigmoid,
            Cost::BinaryCrossEntropy
        ),
        vec![1, 3]
    );
    assert_eq!(
        widths_of(
            Activation::Identity,
            Activation::Relu,
            Cost::Huber { delta: 1.0 }
        ),
        vec![1, 3]
    );
}

#[test]
fn every_accepted_pairing_passes_on_a_shallow_network_with_batches_of_1_and_5() {
    let mut runs = 0;
    for (index, (pairing, widths)) in accepted_pairings().into_iter().enumerate() {
        for width in widths {
            for batch in [1, 5] {
                let seed = 1000 + index as u64;
                let network = pairing
                    .config(&[2, 3, width])
                    .with_seed(seed)
                    .init::<f64>()
                    .unwrap();
                let x = inputs(batch, 2, seed);
                let y = targets(pairing.cost, batch, width, seed);
                let label = format!("{pairing:?} [2, 3, {width}] batch {batch}");
                check(&label, &network, &x, &y);
                runs += 1;
            }
        }
    }
    // 114 pairings with widths 1 and 3, 6 softmax ones with width 3 only; two batch sizes.
    assert_eq!(runs, (114 * 2 + 6) * 2);
}

#[test]
fn every_accepted_pairing_passes_on_a_deeper_network() {
    for (index, (pairing, _)) in accepted_pairings().into_iter().enumerate() {
        for batch in [1, 5] {
            let seed = 2000 + index as u64;
            let network = pairing
                .config(&[4, 5, 3, 2])
                .with_seed(seed)
                .init::<f64>()
                .unwrap();
            let x = inputs(batch, 4, seed);
            let y = targets(pairing.cost, batch, 2, seed);
            let label = format!("{pairing:?} [4, 5, 3, 2] batch {batch}");
            let report = check(&label, &network, &x, &y);
            assert_eq!(report.layers.len(), 3, "{label}");
        }
    }
}

#[test]
fn penalties_are_part_of_the_checked_cost() {
    let penalties = [
        ("l2-nielsen", Regularization::l2_nielsen(5.0, 10)),
        ("l1", Regularization::l1(0.05)),
        (
            "both",
            Regularization {
                l1: 0.02,
                ..Regularization::l2_nielsen(3.0, 7)
            },
        ),
    ];
    let pairings = [
        (
            Activation::Tanh,
            Activation::Softmax,
            Cost::SoftmaxCrossEntropy,
        ),
        (
            Activation::Sigmoid,
            Activation::Sigmoid,
            Cost::BinaryCrossEntropy,
        ),
        (
            Activation::Gelu,
            Activation::Identity,
            Cost::MeanSquaredError,
        ),
        (Activation::Relu, Activation::Sigmoid, Cost::Quadratic),
    ];
    for (name, regularization) in penalties {
        for (hidden, output, cost) in pairings {
            let config = NetworkConfig::new(&[4, 5, 3, 2], cost)
                .with_hidden_activation(hidden)
                .with_output_activation(output)
                .with_seed(31);
            let plain = config.init::<f64>().unwrap();
            let penalised = config
                .clone()
                .with_regularization(regularization)
                .init::<f64>()
                .unwrap();
            let x = inputs(5, 4, 31);
            let y = targets(cost, 5, 2, 31);
            let label = format!("{name} {hidden} → {output} {cost}");
            check(&label, &penalised, &x, &y);
            // The penalty really changes the gradient that was checked: the weight gradients
            // differ from the unpenalised network's by the penalty's own gradient.
            let with = penalised.trace(&x, &y);
            let without = plain.trace(&x, &y);
            for (l, (a, b)) in with.layers.iter().zip(&without.layers).enumerate() {
                let mut expected = b.weight_gradient.clone();
                regularization.add_gradient(&b.weight, &mut expected);
                let gap = a.weight_gradient.sub(&expected).max_abs();
                assert!(
                    gap < 1e-15,
                    "{label}: layer {l} penalty gradient off by {gap}"
                );
                assert!(
                    a.weight_gradient.sub(&b.weight_gradient).max_abs() > 1e-4,
                    "{label}: layer {l} penalty had no effect"
                );
                assert_eq!(
                    a.bias_gradient, b.bias_gradient,
                    "{label}: biases are not penalised"
                );
            }
            assert!(
                with.cost > without.cost,
                "{label}: the penalty adds to the cost"
            );
        }
    }
}

#[test]
fn dropout_is_off_during_the_check() {
    for (hidden, output, cost) in [
        (
            Activation::Sigmoid,
            Activation::Softmax,
            Cost::SoftmaxCrossEntropy,
        ),
        (
            Activation::Tanh,
            Activation::Identity,
            Cost::Huber { delta: 1.0 },
        ),
    ] {
        let config = NetworkConfig::new(&[4, 5, 3, 2], cost)
            .with_hidden_activation(hidden)
            .with_output_activation(output)
            .with_seed(8);
        let with_dropout = config.clone().with_dropout(0.5).init::<f64>().unwrap();
        let without = config.init::<f64>().unwrap();
        // Dropout layers sit between the dense ones but leave the initial weights alone.
        assert_eq!(with_dropout.layers().len(), 5);
        assert_eq!(with_dropout.parameters(), without.parameters());
        let x = inputs(5, 4, 8);
        let y = targets(cost, 5, 2, 8);
        let report = check("dropout 0.5", &with_dropout, &x, &y);
        // The same function is checked with and without dropout configured: identical reports.
        assert_eq!(report, gradient_check(&without, &x, &y));
        // Training mode does drop units: the training-mode gradient differs from the checked one.
        let mut training = with_dropout.clone();
        let (_, dropped) = training.backward(&x, &y);
        let checked = with_dropout.trace(&x, &y);
        assert_ne!(
            dropped.get("layers.0.weight").unwrap(),
            &checked.layers[0].weight_gradient
        );
    }
}

/// A hand-built [2, 3, 3, 1] network (exact binary fractions, so every z below is exact) for
/// input x = (1, 2):
/// - layer 0: z = (1.125 + `bias_shift`, 1.5, 1.0);
/// - layer 1: z = (1.8125, 1.0625, 0.4375 + `second_bias`);
/// - layer 2 (identity output): 0.1 + a₁ − a₂ + 0.5·a₃.
fn kinked_network(hidden: Activation, bias_shift: f64, second_bias: f64) -> Network<f64> {
    let mut network = NetworkConfig::new(&[2, 3, 3, 1], Cost::Quadratic)
        .with_hidden_activation(hidden)
        .init::<f64>()
        .unwrap();
    let mut set = |name: &str, rows: &[&[f64]]| {
        *network.parameter_mut(name).unwrap() = Matrix::from_rows(rows).unwrap();
    };
    set(
        "layers.0.weight",
        &[&[0.5, 0.25], &[0.25, 0.5], &[1.0, -0.25]],
    );
    set("layers.0.bias", &[&[0.125 + bias_shift, 0.25, 0.5]]);
    set(
        "layers.1.weight",
        &[&[0.5, 0.5, 0.5], &[-0.5, 0.25, 1.0], &[0.5, -0.25, 0.25]],
    );
    set("layers.1.bias", &[&[0.0, 0.25, second_bias]]);
    set("layers.2.weight", &[&[1.0, -1.0, 0.5]]);
    set("layers.2.bias", &[&[0.1]]);
    network
}

fn kink_batch() -> (Matrix<f64>, Matrix<f64>) {
    (
        Matrix::from_rows(&[[1.0, 2.0]]).unwrap(),
        Matrix::from_rows(&[[-0.7]]).unwrap(),
    )
}

fn per_layer(report: &GradientCheckReport) -> (Vec<usize>, Vec<usize>) {
    (
        report.layers.iter().map(|l| l.checked).collect(),
        report.layers.iter().map(|l| l.skipped).collect(),
    )
}

#[test]
fn a_pre_activation_within_h_of_a_relu_kink_skips_exactly_its_parameters() {
    let (x, y) = kink_batch();
    // z of layer 0, unit 0 = 2⁻²³ ≈ 1.2e-7 (the weights cancel the input: 0.5·1 − 0.25·2 = 0,
    // the bias is 2⁻²³): ±h (1e-6) on that unit's two weights or its bias crosses 0. No other
    // parameter moves that z, and every other z is at least 0.43 away from 0.
    let shift = -0.125 + f64::powi(2.0, -23);
    for hidden in [Activation::Relu, Activation::LEAKY_RELU] {
        let network = kinked_network(hidden, shift, -0.4375 + 1.0);
        let z = network.trace(&x, &y).layers[0].z.clone();
        assert_eq!(z.row(0)[0], f64::powi(2.0, -23));
        let report = check(&format!("{hidden} kink in layer 0"), &network, &x, &y);
        let (checked, skipped) = per_layer(&report);
        assert_eq!(skipped, vec![3, 0, 0], "{hidden}");
        assert_eq!(checked, vec![6, 12, 4], "{hidden}");
        assert_eq!(report.skipped(), 3);
    }
    // 2⁻¹⁶ ≈ 1.5e-5 is more than any ±h moves it (at most 2h through the weight on x₂ = 2).
    let network = kinked_network(Activation::Relu, -0.125 + f64::powi(2.0, -16), 0.5625);
    let report = check("relu away from the kink", &network, &x, &y);
    assert_eq!(per_layer(&report).1, vec![0, 0, 0]);
    // Tanh has no kink: nothing is skipped even with a z exactly at 0.
    let network = kinked_network(Activation::Tanh, -0.125, -0.4375);
    assert_eq!(network.trace(&x, &y).layers[0].z.row(0)[0], 0.0);
    let report = check("tanh at 0", &network, &x, &y);
    assert_eq!(per_layer(&report).1, vec![0, 0, 0]);
}

#[test]
fn a_kink_in_the_second_layer_is_counted_in_every_layer_whose_parameters_cross_it() {
    let (x, y) = kink_batch();
    // z of layer 1, unit 2 is exactly 0. Its own 3 weights and bias cross it (4 skipped in
    // layer 1); so does every layer-0 parameter, since all three layer-0 units are active and
    // feed unit 2 through non-zero weights (9 skipped in layer 0). The output layer's 4
    // parameters come after the kink and are all compared.
    for hidden in [Activation::Relu, Activation::LEAKY_RELU] {
        let network = kinked_network(hidden, 0.0, -0.4375);
        let trace = network.trace(&x, &y);
        assert_eq!(trace.layers[0].z.row(0), &[1.125, 1.5, 1.0]);
        assert_eq!(trace.layers[1].z.row(0), &[1.8125, 1.0625, 0.0]);
        let report = check(&format!("{hidden} kink in layer 1"), &network, &x, &y);
        let (checked, skipped) = per_layer(&report);
        assert_eq!(skipped, vec![9, 4, 0], "{hidden}");
        assert_eq!(checked, vec![0, 8, 4], "{hidden}");
        assert_eq!(report.skipped(), 13);
        assert_eq!(report.layers[2].index, 2);
    }
}

/// An `f32` network's gradients against the `f64` reference on the same (rounded) weights.
fn assert_precision_gap_small<T: Float>(network: &Network<T>, x: &Matrix<T>, y: &Matrix<T>) {
    let gaps = precision_gap(network, x, y);
    assert_eq!(gaps.len(), 2 * network.dense_layers().len());
    for (name, gap) in gaps {
        assert!(gap < 1e-4, "{name}: relative gap {gap:.3e}");
        assert!(gap.is_finite(), "{name}");
    }
}

#[test]
fn f32_gradients_stay_within_1e_4_of_the_f64_reference() {
    let cases = [
        (Activation::Sigmoid, Activation::Sigmoid, Cost::Quadratic),
        (
            Activation::Tanh,
            Activation::Softmax,
            Cost::SoftmaxCrossEntropy,
        ),
        (
            Activation::Gelu,
            Activation::Sigmoid,
            Cost::BinaryCrossEntropy,
        ),
        (
            Activation::LEAKY_RELU,
            Activation::Identity,
            Cost::MeanSquaredError,
        ),
        (
            Activation::Tanh,
            Activation::Tanh,
            Cost::Huber { delta: 1.0 },
        ),
    ];
    for (index, (hidden, output, cost)) in cases.into_iter().enumerate() {
        let seed = 50 + index as u64;
        let network = NetworkConfig::new(&[4, 5, 3, 2], cost)
            .with_hidden_activation(hidden)
            .with_output_activation(output)
            .with_seed(seed)
            .init::<f32>()
            .unwrap();
        let x: Matrix<f32> = inputs(5, 4, seed).cast();
        let y: Matrix<f32> = targets(cost, 5, 2, seed).cast();
        assert_precision_gap_small(&network, &x, &y);
        // The f32 network's gradient check (run in f64 on the rounded weights) passes too.
        let report = gradient_check(&network, &x, &y);
        assert!(
            report.checked() > 0 && report.max_error() < TOLERANCE,
            "{report:?}"
        );
    }
    // A wider batch and network, where f32 rounding accumulates over more terms.
    let network = NetworkConfig::new(&[20, 32, 10], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Sigmoid)
        .with_seed(9)
        .init::<f32>()
        .unwrap();
    let x: Matrix<f32> = inputs(64, 20, 9).cast();
    let y: Matrix<f32> = targets(Cost::SoftmaxCrossEntropy, 64, 10, 9).cast();
    assert_precision_gap_small(&network, &x, &y);
}
