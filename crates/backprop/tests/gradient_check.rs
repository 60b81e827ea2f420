//! Backprop's gradients agree with central finite differences (`backprop::gradient_check`) for
//! every activation × cost pairing that `NetworkConfig::validate` accepts, on shallow and deeper
//! shapes and on batches of 1 and 5 examples, with and without weight penalties and with dropout
//! configured (the check runs without it).
//!
//! Also proves that the check skips, and counts per layer, exactly the parameters whose ±h moves
//! a ReLU or leaky-ReLU pre-activation across its kink, and that `f32` gradients stay within 1e-4
//! (relative, per tensor) of the `f64` reference.
//!
//! **The tolerance.** Every layer's worst relative error must be below 1e-6, except where the
//! finite difference itself cannot resolve the gradient. The library's error is
//! |g − ĝ| / max(|g| + |ĝ|, 1e-7) with h = 1e-6, and ĝ carries a rounding error of about 1e-10
//! in absolute terms. A parameter whose gradient is below about 1e-4 therefore cannot reach 1e-6
//! relative, however right backprop is. Typical culprits are a leaky-ReLU unit on its 0.01 slope,
//! a saturated sigmoid or a tiny input. On this file's seeded data, one run in eight has such a
//! parameter, with relative errors up to 9e-4. On a similar sweep, a Richardson-extrapolated
//! difference (h = 1e-3 and 5e-4) agreed with backprop to within 2e-12 absolute on every such
//! run, apart from Huber's kink at |a − y| = δ. So a layer that misses 1e-6 passes only when its
//! every parameter is off by less than [`RESOLUTION`] in absolute terms. Mutations tried while
//! writing this file (GELU′ off by 0.1 %, leaky-ReLU′ slope ×1.5, Huber's 1/m dropped, Nielsen's
//! λ/n changed to λ/(n + 1)) each fail it.

use backprop::gradient_check::{precision_gap, GradientCheckReport};
use backprop::{gradient_check, Activation, Cost, Matrix, Network, NetworkConfig, Regularization};
use backprop::{Float, SeededRng};

/// The relative error every well-resolved parameter must stay below.
const TOLERANCE: f64 = 1e-6;

/// The absolute resolution of the library's finite difference: with h = 1e-6, rounding in the
/// two f64 costs (each good to about 1e-16 relative) leaves |g − ĝ| of order 1e-10 for costs of
/// order 1; measured at most 2e-12 against a Richardson-extrapolated difference here. This is
/// ten times the worst case of that estimate.
const RESOLUTION: f64 = 1e-9;

fn hidden_activations() -> Vec<Activation> {
    Activation::ELEMENTWISE.to_vec()
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

/// Runs the gradient check and asserts, layer by layer, that the worst compared parameter
/// either has a relative error below [`TOLERANCE`] or (see the file header) has every
/// parameter within [`RESOLUTION`] of the finite difference in absolute terms. Returns the report and
/// whether every layer met [`TOLERANCE`] outright.
#[track_caller]
fn check(
    label: &str,
    network: &Network<f64>,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
) -> (GradientCheckReport, bool) {
    let report = gradient_check(network, x, y);
    assert!(
        report.checked() > 0,
        "{label}: nothing was compared: {report:?}"
    );
    assert_eq!(
        report.checked() + report.skipped(),
        network.parameter_count(),
        "{label}: every parameter is either compared or skipped"
    );
    let mut strict = true;
    for layer in &report.layers {
        assert!(layer.max_error.is_finite(), "{label}: {layer:?}");
        if layer.max_error < TOLERANCE {
            continue;
        }
        strict = false;
        // Every compared parameter of this layer, not just the worst, must then agree with the
        // finite difference to within its absolute resolution.
        assert!(
            layer.max_absolute_error < RESOLUTION,
            "{label}: {} has relative error {:.3e}, and the layer's largest |g − ĝ| is {:.3e}",
            layer.worst,
            layer.max_error,
            layer.max_absolute_error
        );
    }
    assert!(
        report.passed_within_resolution(TOLERANCE, RESOLUTION),
        "{label}"
    );
    (report, strict)
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
    let (mut runs, mut strict) = (0, 0);
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
                strict += usize::from(check(&label, &network, &x, &y).1);
                runs += 1;
            }
        }
    }
    // 114 pairings with widths 1 and 3, 6 softmax ones with width 3 only; two batch sizes.
    assert_eq!(runs, (114 * 2 + 6) * 2);
    // Most runs meet 1e-6 outright; the rest only on parameters too small to resolve.
    assert!(
        strict * 10 >= runs * 9,
        "{strict} of {runs} runs met 1e-6 outright"
    );
}

#[test]
fn every_accepted_pairing_passes_on_a_deeper_network() {
    let (mut runs, mut strict) = (0, 0);
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
            let (report, met) = check(&label, &network, &x, &y);
            assert_eq!(report.layers.len(), 3, "{label}");
            strict += usize::from(met);
            runs += 1;
        }
    }
    assert_eq!(runs, 240);
    // 172 of 240 at the time of writing: deeper networks have more small gradients.
    assert!(
        strict * 3 >= runs * 2,
        "{strict} of {runs} runs met 1e-6 outright"
    );
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
            // The checked cost and gradient are the documented ones, written out here:
            // C = C₀ + Σ (λ₂/2n)·w² + λ₁·|w| over weights only, so ∂C/∂w gains
            // (λ₂/n)·w + λ₁·sign(w) and the biases' gradients are unchanged.
            // (λ₂/n is 0 when Nielsen's L2 is off, whatever n.)
            let l2_over_n = if regularization.l2_nielsen > 0.0 {
                regularization.l2_nielsen / regularization.training_set_size as f64
            } else {
                0.0
            };
            let l1 = regularization.l1;
            let sign = |w: f64| {
                if w > 0.0 {
                    1.0
                } else if w < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            };
            let with = penalised.trace(&x, &y);
            let without = plain.trace(&x, &y);
            let mut penalty = 0.0;
            for (l, (a, b)) in with.layers.iter().zip(&without.layers).enumerate() {
                for (k, &w) in b.weight.as_slice().iter().enumerate() {
                    penalty += l2_over_n / 2.0 * w * w + l1 * w.abs();
                    let expected = b.weight_gradient.as_slice()[k] + l2_over_n * w + l1 * sign(w);
                    let got = a.weight_gradient.as_slice()[k];
                    assert!(
                        (got - expected).abs() < 1e-15,
                        "{label}: layer {l} weight {k}: {got} against {expected}"
                    );
                }
                assert_eq!(
                    a.bias_gradient, b.bias_gradient,
                    "{label}: biases are not penalised"
                );
            }
            assert!(penalty > 0.01, "{label}: penalty {penalty}");
            assert!(
                (with.cost - without.cost - penalty).abs() < 1e-14,
                "{label}: the cost grew by {} instead of {penalty}",
                with.cost - without.cost
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
        let (report, _) = check("dropout 0.5", &with_dropout, &x, &y);
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
    // z of layer 0, unit 0 = 0.5·1 + 0.25·2 + b = 2⁻²³ ≈ 1.2e-7 with b = −1 + 2⁻²³: ±h (1e-6) on that unit's two weights or its bias crosses 0. No other
    // parameter moves that z, and every other z is at least 0.43 away from 0.
    let shift = -1.125 + f64::powi(2.0, -23);
    for hidden in [Activation::Relu, Activation::LEAKY_RELU] {
        let network = kinked_network(hidden, shift, -0.4375 + 1.0);
        let z = network.trace(&x, &y).layers[0].z.clone();
        assert_eq!(z.row(0)[0], f64::powi(2.0, -23));
        let (report, _) = check(&format!("{hidden} kink in layer 0"), &network, &x, &y);
        let (checked, skipped) = per_layer(&report);
        assert_eq!(skipped, vec![3, 0, 0], "{hidden}");
        assert_eq!(checked, vec![6, 12, 4], "{hidden}");
        assert_eq!(report.skipped(), 3);
    }
    // 2⁻¹⁶ ≈ 1.5e-5 is more than any ±h moves it (at most 2h through the weight on x₂ = 2).
    let network = kinked_network(Activation::Relu, -1.125 + f64::powi(2.0, -16), 0.5625);
    let (report, _) = check("relu away from the kink", &network, &x, &y);
    assert_eq!(per_layer(&report).1, vec![0, 0, 0]);
    // Tanh has no kink: nothing is skipped even with a z exactly at 0.
    let network = kinked_network(Activation::Tanh, -1.125, -0.4375);
    assert_eq!(network.trace(&x, &y).layers[0].z.row(0)[0], 0.0);
    let (report, _) = check("tanh at 0", &network, &x, &y);
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
        let (report, _) = check(&format!("{hidden} kink in layer 1"), &network, &x, &y);
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
        // The f32 network's gradient check runs in f64 on the rounded weights: the same report
        // as the f64 copy's, which passes.
        let report = gradient_check(&network, &x, &y);
        let (x64, y64) = (x.cast::<f64>(), y.cast::<f64>());
        let (expected, _) = check("f32 network", &network.cast::<f64>(), &x64, &y64);
        assert_eq!(report, expected);
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
