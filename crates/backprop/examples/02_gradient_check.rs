//! Proves backprop's gradients right: compares them with central finite differences,
//! (C(θ + h) − C(θ − h)) / 2h, for every single weight and bias, in f64. Then compares the f32
//! training path with the f64 reference on the same weights.
//!
//! Run: `cargo run --release -p backprop --example 02_gradient_check`

use backprop::gradient_check::precision_gap;
use backprop::{gradient_check, Activation, Cost, Matrix, NetworkConfig, SeededRng};

fn main() -> Result<(), backprop::Error> {
    let mut rng = SeededRng::new(3);
    let x = Matrix::<f32>::random_normal(8, 5, 0.0, 1.0, &mut rng);
    // One-hot targets for 3 classes.
    let y = Matrix::<f32>::from_fn(8, 3, |i, j| if i % 3 == j { 1.0 } else { 0.0 });

    for activation in [Activation::Tanh, Activation::Relu, Activation::Gelu] {
        let network = NetworkConfig::new(&[5, 7, 6, 3], Cost::SoftmaxCrossEntropy)
            .with_hidden_activation(activation)
            .with_seed(11)
            .init::<f32>()?;
        let report = gradient_check(&network, &x, &y);
        println!("{activation} hidden layers, softmax cross-entropy:");
        for layer in &report.layers {
            println!(
                "  layers.{}: {} parameters checked, {} skipped at a ReLU kink, largest relative error {:.2e} ({})",
                layer.index, layer.checked, layer.skipped, layer.max_error, layer.worst
            );
        }
        println!("  passed (< 1e-6): {}", report.passed(1e-6));
        for (name, gap) in precision_gap(&network, &x, &y) {
            println!("  f32 vs f64 {name}: {gap:.1e}");
        }
    }
    Ok(())
}
