//! The time of one training step (forward and backward, no optimiser step) of `bench`'s lenet
//! network on a fixed batch of 64 MNIST-shaped images: the quickest of 15 rounds of 20 steps,
//! so that a noisy machine's slow moments drop out. For comparing two builds in turns:
//!
//!     cargo run --release -p backprop --example lenet_step            # one thread
//!     THREADS=2 cargo run --release -p backprop --example lenet_step

use backprop::conv::ImageShape;
use backprop::feature_layers::FeatureLayer;
use backprop::{Activation, Cost, Matrix, NetworkConfig};
use std::time::Instant;

fn main() {
    let threads = std::env::var("THREADS").map_or(1, |t| t.parse().expect("THREADS: a number"));
    let spec = ["conv:20:5", "maxpool:2", "conv:40:5", "maxpool:2"];
    let layers = spec
        .iter()
        .map(|text| FeatureLayer::parse(text, Activation::Relu).expect("a layer"))
        .collect();
    let mut network = NetworkConfig::new(&[0, 100, 10], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Relu)
        .with_features(ImageShape::new(1, 28, 28), layers)
        .with_seed(1)
        .init::<f32>()
        .expect("lenet");
    let x = Matrix::from_fn(64, 784, |i, j| ((i * 7 + j * 3) % 11) as f32 * 0.1);
    let y = Matrix::from_fn(64, 10, |i, j| if i % 10 == j { 1.0 } else { 0.0 });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    let quickest = pool.install(|| {
        (0..15)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..20 {
                    network.compute_gradients(&x, &y);
                }
                start.elapsed().as_secs_f64() / 20.0
            })
            .fold(f64::MAX, f64::min)
    });
    println!(
        "lenet step, batch 64, {threads} thread(s): {:.1} µs",
        quickest * 1e6
    );
}
