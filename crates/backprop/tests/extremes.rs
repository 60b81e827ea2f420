//! Activations and costs stay finite at extreme inputs, in `f32` and `f64`: softmax and
//! softmax cross-entropy with logits of ±1e4, sigmoid and binary cross-entropy at ±1e3, their
//! gradients, and a whole network's backward pass with such logits.

use backprop::{Activation, Cost, Float, Matrix, Network, NetworkConfig};

fn assert_finite<T: Float>(what: &str, m: &Matrix<T>) {
    for (index, value) in m.as_slice().iter().enumerate() {
        assert!(value.is_finite(), "{what}: element {index} is {value:?}");
    }
}

/// Rows of logits at ±1e4 (and mixtures with 0) over three units.
fn extreme_logits<T: Float>() -> Matrix<T> {
    let rows: [[f64; 3]; 6] = [
        [1e4, -1e4, 0.0],
        [-1e4, -1e4, -1e4],
        [1e4, 1e4, 1e4],
        [1e4, 1e4, -1e4],
        [-1e4, 0.0, 1e4],
        [0.0, 0.0, 0.0],
    ];
    Matrix::from_fn(6, 3, |i, j| T::from_f64(rows[i][j]))
}

/// Each row's target is the class with the lowest logit: the worst case for the loss.
fn worst_targets<T: Float>(z: &Matrix<T>) -> Matrix<T> {
    Matrix::from_fn(z.rows(), z.cols(), |i, j| {
        let row = z.row(i);
        let lowest = (0..row.len())
            .min_by(|&a, &b| row[a].partial_cmp(&row[b]).unwrap())
            .unwrap();
        if j == lowest {
            T::ONE
        } else {
            T::ZERO
        }
    })
}

fn softmax_and_cross_entropy<T: Float>() {
    let z = extreme_logits::<T>();
    let a = Activation::Softmax.forward(&z);
    assert_finite("softmax", &a);
    for i in 0..a.rows() {
        let sum: f64 = a.row(i).iter().map(|v| v.to_f64()).sum();
        assert!((sum - 1.0).abs() < 1e-6, "row {i} sums to {sum}");
    }
    let y = worst_targets(&z);
    let cost = Cost::SoftmaxCrossEntropy;
    let loss = cost.loss(&z, &a, &y);
    assert!(loss.is_finite(), "loss {loss}");
    // The first row's target has logit −1e4 against a maximum of 1e4: −ln a = 2e4.
    assert!(loss > 2e4 / 6.0 * 0.99, "{loss}");
    let delta = cost.output_delta(Activation::Softmax, &z, &a, &y);
    assert_finite("∂C/∂z", &delta);
    let gradient = cost.output_gradient(&a, &y);
    assert_finite("∂C/∂a", &gradient);
    let through = Activation::Softmax.backward(&z, &a, &Matrix::from_fn(6, 3, |_, _| T::ONE));
    assert_finite("softmax backward", &through);
}

fn sigmoid_and_binary_cross_entropy<T: Float>() {
    let values = [1e3, -1e3, 0.0, 1e3, -1e3, 5e2];
    let z = Matrix::from_fn(6, 1, |i, _| T::from_f64(values[i]));
    let a = Activation::Sigmoid.forward(&z);
    assert_finite("sigmoid", &a);
    assert_eq!(a[(0, 0)].to_f64(), 1.0);
    assert_eq!(a[(1, 0)].to_f64(), 0.0);
    for i in 0..6 {
        let derivative = Activation::Sigmoid.derivative(z[(i, 0)], a[(i, 0)]);
        assert!(derivative.is_finite() && derivative.to_f64() >= 0.0);
    }
    // Wrong labels at the extremes: the loss is |z|, large but finite.
    let y = Matrix::from_fn(6, 1, |i, _| {
        T::from_f64(if values[i] > 0.0 { 0.0 } else { 1.0 })
    });
    let cost = Cost::BinaryCrossEntropy;
    let loss = cost.loss(&z, &a, &y);
    assert!(loss.is_finite() && loss > 500.0, "{loss}");
    assert_finite(
        "fused ∂C/∂z",
        &cost.output_delta(Activation::Sigmoid, &z, &a, &y),
    );
    assert_finite("∂C/∂a", &cost.output_gradient(&a, &y));
    let ones = Matrix::from_fn(6, 1, |_, _| T::ONE);
    assert_finite(
        "sigmoid backward",
        &Activation::Sigmoid.backward(&z, &a, &ones),
    );
    // Sigmoid with a cost it is not fused with.
    for cost in [Cost::Quadratic, Cost::MeanSquaredError] {
        let loss = cost.loss(&z, &a, &y);
        assert!(loss.is_finite(), "{cost}: {loss}");
        assert_finite(
            "unfused δ",
            &cost.output_delta(Activation::Sigmoid, &z, &a, &y),
        );
    }
}

#[test]
fn softmax_and_cross_entropy_are_finite_at_logits_of_1e4() {
    softmax_and_cross_entropy::<f32>();
    softmax_and_cross_entropy::<f64>();
}

#[test]
fn sigmoid_and_binary_cross_entropy_are_finite_at_1e3() {
    sigmoid_and_binary_cross_entropy::<f32>();
    sigmoid_and_binary_cross_entropy::<f64>();
}

/// A network whose output logits are ±1e4 (softmax) or ±1e3 (sigmoid): loss and every gradient
/// finite.
#[test]
fn a_backward_pass_with_extreme_logits_is_finite() {
    for (cost, scale, outputs) in [
        (Cost::SoftmaxCrossEntropy, 1e4, 3),
        (Cost::BinaryCrossEntropy, 1e3, 2),
    ] {
        let mut network: Network<f32> = NetworkConfig::new(&[2, outputs], cost).init().unwrap();
        let weight = network.parameter_mut("layers.0.weight").unwrap();
        for (index, value) in weight.as_mut_slice().iter_mut().enumerate() {
            *value = if index % 2 == 0 { scale } else { -scale };
        }
        let x = Matrix::from_rows(&[[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5]]).unwrap();
        let y = Matrix::from_fn(4, outputs, |i, j| {
            f32::from(u8::from((i + 1) % outputs == j))
        });
        let (loss, gradients) = network.backward(&x, &y);
        assert!(loss.is_finite() && loss > 0.0, "{cost}: {loss}");
        for (name, gradient) in &gradients.entries {
            assert_finite(name, gradient);
        }
        assert_finite("outputs", &network.forward(&x));
    }
}
