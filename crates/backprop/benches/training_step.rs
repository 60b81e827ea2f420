//! Criterion benchmarks of whole steps: one training step (gather a batch, forward, backward,
//! optimiser update) and inference, on the configurations of `backprop bench`, in samples/s.
//!
//! - A: 784-30-10 sigmoid, binary cross-entropy, SGD, batch 10;
//! - B: 784-128-64-10 ReLU, softmax cross-entropy, SGD at batch 32 and 256, Adam at batch 32;
//! - B's forward pass at batch 1000 (also read in place in row blocks, `Network::forward_rows`)
//!   and at batch 1 (latency);
//! - lenet (conv 20@5×5, max-pool 2, conv 40@5×5, max-pool 2, 100, 10; ReLU): forward and
//!   backward of one batch of 64 (`Network::compute_gradients`, no optimiser step).
//!
//! - Adam at b-adam-32 and at the MNIST preset's 784-256-128-10, batch 128, as the plain step
//!   (gradients, then the update) and as the fused rule step (the update on each band of the
//!   weight gradients inside the backward pass), through the step strategies.
//! - b-sgd-256 through the fused SGD step on 16,384 mostly-zero rows (50 MB, past the caches),
//!   its first layer over the non-zeros as `backprop bench` runs it, with the next batch's rows
//!   given (the helper gathers them in pieces during the step) and without (each step gathers
//!   its own batch).
//!
//! `cargo bench -p backprop --bench training_step`; `BENCH_THREADS` sets the pool (default 2, the
//! machine the peers were measured on). The per-epoch figures of `backprop bench` are the ones to
//! compare with peers; this is for quick A/B work on the engine. Never timed in CI.

use backprop::conv::ImageShape;
use backprop::feature_layers::FeatureLayer;
use backprop::optim::{AdamConfig, Optimizer, OptimizerConfig, ParameterRef, SgdConfig};
use backprop::train::{DivergenceCheck, DivergenceSettings, FusedRuleStep, MetricAccumulator};
use backprop::train::{FusedSgdStep, PlainStep, StepInput, StepStrategy};
use backprop::{Activation, Cost, Matrix, Network, NetworkConfig, RowsOutput, SeededRng};
use criterion::{Criterion, Throughput};
use std::hint::black_box;

/// Pixels per MNIST image.
const PIXELS: usize = 784;
/// MNIST's classes.
const CLASSES: usize = 10;

/// `rows` MNIST-shaped examples, inputs and one-hot targets: about 16 % of the pixels non-zero,
/// in [0.25, 1], and classes drawn at random. Every product in a step is dense, so its time does
/// not depend on the values and this stands in for the synthetic MNIST of `backprop bench`.
fn mnist_shaped(rows: usize, seed: u64) -> (Matrix<f32>, Matrix<f32>) {
    let mut rng = SeededRng::new(seed);
    let x = Matrix::from_fn(rows, PIXELS, |_, _| {
        let (hit, value) = (rng.uniform() < 0.16, rng.uniform_range(0.25, 1.0));
        if hit {
            value as f32
        } else {
            0.0
        }
    });
    let mut y = Matrix::zeros(rows, CLASSES);
    for row in 0..rows {
        y[(row, rng.below(CLASSES))] = 1.0;
    }
    (x, y)
}

fn network(sizes: &[usize], hidden: Activation, cost: Cost) -> Network<f32> {
    NetworkConfig::new(sizes, cost)
        .with_hidden_activation(hidden)
        .with_seed(1)
        .init()
        .expect("a valid network")
}

/// One optimisation step: the batch's gradients, then the optimiser over every parameter.
fn step(
    network: &mut Network<f32>,
    optimizer: &mut Optimizer<f32>,
    x: &Matrix<f32>,
    y: &Matrix<f32>,
) {
    let loss = network.compute_gradients(x, y);
    let mut slots = network.parameter_slots();
    let mut parameters: Vec<ParameterRef<'_, f32>> = slots
        .iter_mut()
        .map(|(name, slot)| ParameterRef {
            name: name.as_str(),
            value: &mut *slot.value,
            gradient: &*slot.gradient,
        })
        .collect();
    optimizer.step(&mut parameters, 1e-3);
    black_box(loss);
}

fn training(c: &mut Criterion) {
    let (data_x, data_y) = mnist_shaped(1024, 1);
    let sgd = |rate| OptimizerConfig::Sgd(SgdConfig::new().with_learning_rate(rate));
    let configurations = [
        (
            "a",
            vec![784, 30, 10],
            Activation::Sigmoid,
            Cost::BinaryCrossEntropy,
            sgd(0.5),
            10,
        ),
        (
            "b-sgd-32",
            vec![784, 128, 64, 10],
            Activation::Relu,
            Cost::SoftmaxCrossEntropy,
            sgd(0.1),
            32,
        ),
        (
            "b-sgd-256",
            vec![784, 128, 64, 10],
            Activation::Relu,
            Cost::SoftmaxCrossEntropy,
            sgd(0.1),
            256,
        ),
        (
            "b-adam-32",
            vec![784, 128, 64, 10],
            Activation::Relu,
            Cost::SoftmaxCrossEntropy,
            AdamConfig::new().into(),
            32,
        ),
    ];
    let mut group = c.benchmark_group("training_step");
    for (name, sizes, hidden, cost, optimizer, batch) in configurations {
        let rows: Vec<usize> = (0..batch).map(|i| (i * 37) % data_x.rows()).collect();
        let (x, y) = (data_x.select_rows(&rows), data_y.select_rows(&rows));
        let mut net = network(&sizes, hidden, cost);
        let mut optimizer = Optimizer::new(optimizer).expect("a valid optimiser");
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(name, |b| b.iter(|| step(&mut net, &mut optimizer, &x, &y)));
    }
    group.finish();
}

/// A step's input: `rows` of the data, the next batch's `next_rows` (empty: none), at the
/// rate `learning_rate`, with no clipping and the default divergence check.
fn step_input<'a>(
    (x, y): (&'a Matrix<f32>, &'a Matrix<f32>),
    rows: &'a [usize],
    next_rows: &'a [usize],
    learning_rate: f64,
) -> StepInput<'a, f32> {
    StepInput {
        x,
        y,
        rows,
        next_rows,
        learning_rate,
        gradient_clip: None,
        divergence: DivergenceCheck {
            settings: DivergenceSettings::default(),
            reference: None,
        },
    }
}

/// The plain and the fused rule step of Adam, side by side, through the strategies the trainer
/// picks between.
fn adam_strategies(c: &mut Criterion) {
    let (data_x, data_y) = mnist_shaped(1024, 1);
    let mut group = c.benchmark_group("adam_step_strategy");
    for (name, sizes, batch) in [
        ("b-adam-32", vec![784, 128, 64, 10], 32),
        ("mnist-preset-128", vec![784, 256, 128, 10], 128),
    ] {
        let strategies: [(&str, Box<dyn StepStrategy<f32>>); 2] = [
            ("plain", Box::new(PlainStep::default())),
            ("fused", Box::new(FusedRuleStep::default())),
        ];
        for (kind, mut strategy) in strategies {
            let mut net = network(&sizes, Activation::Relu, Cost::SoftmaxCrossEntropy);
            let mut optimizer = Optimizer::new(AdamConfig::new().into()).expect("valid");
            let batches: Vec<Vec<usize>> = (0..8)
                .map(|b| {
                    (0..batch)
                        .map(|i| (b * 131 + i * 37) % data_x.rows())
                        .collect()
                })
                .collect();
            let mut metrics = MetricAccumulator::new();
            let mut index = 0;
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(format!("{name}/{kind}"), |b| {
                b.iter(|| {
                    index += 1;
                    let rows = &batches[index % batches.len()];
                    let next_rows = &batches[(index + 1) % batches.len()];
                    let input = step_input((&data_x, &data_y), rows, next_rows, 1e-3);
                    let loss = strategy.step(&mut net, &mut optimizer, &input, &mut metrics);
                    black_box(loss.expect("a finite cost"))
                })
            });
        }
    }
    group.finish();
}

/// b-sgd-256's step with and without the next batch gathered ahead in pieces.
fn gather_ahead(c: &mut Criterion) {
    let (data_x, data_y) = mnist_shaped(16_384, 3);
    let mut group = c.benchmark_group("gather_ahead");
    let batch = 256;
    let batches: Vec<Vec<usize>> = (0..64)
        .map(|b| {
            (0..batch)
                .map(|i| (b * 7919 + i * 613) % data_x.rows())
                .collect()
        })
        .collect();
    for (kind, ahead) in [
        ("b-sgd-256/next-batch-ahead", true),
        ("b-sgd-256/own-gather", false),
    ] {
        let mut net = network(
            &[784, 128, 64, 10],
            Activation::Relu,
            Cost::SoftmaxCrossEntropy,
        );
        net.set_sparse_input(true);
        let sgd = SgdConfig::new().with_learning_rate(0.1);
        let mut optimizer = Optimizer::new(OptimizerConfig::Sgd(sgd)).expect("valid");
        let mut strategy = FusedSgdStep::default();
        let mut metrics = MetricAccumulator::new();
        let mut index = 0;
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(kind, |b| {
            b.iter(|| {
                index += 1;
                let next: &[usize] = match ahead {
                    true => &batches[(index + 1) % batches.len()],
                    false => &[],
                };
                let rows = &batches[index % batches.len()];
                let input = step_input((&data_x, &data_y), rows, next, 0.1);
                let loss = strategy.step(&mut net, &mut optimizer, &input, &mut metrics);
                black_box(loss.expect("a finite cost"))
            })
        });
    }
    group.finish();
}

fn inference(c: &mut Criterion) {
    let (inputs, _) = mnist_shaped(1000, 2);
    let net = network(
        &[784, 128, 64, 10],
        Activation::Relu,
        Cost::SoftmaxCrossEntropy,
    );
    let one = inputs.select_rows(&[0]);
    let mut group = c.benchmark_group("inference");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("b-batch-1000", |b| {
        b.iter(|| net.forward(black_box(&inputs)))
    });
    // The same rows read in place, block by block (the evaluation of a whole data set).
    group.bench_function("b-batch-1000-rows-in-place", |b| {
        b.iter(|| net.forward_rows(black_box(inputs.as_slice()), RowsOutput::Activations, false))
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("b-batch-1", |b| b.iter(|| net.forward(black_box(&one))));
    let small = network(&[4, 64, 64, 2], Activation::Relu, Cost::SoftmaxCrossEntropy);
    let four = Matrix::from_fn(1, 4, |_, j| j as f32 * 0.25);
    group.bench_function("4-64-64-2-batch-1", |b| {
        b.iter(|| small.forward(black_box(&four)))
    });
    group.finish();
}

fn convolution(c: &mut Criterion) {
    let spec = ["conv:20:5", "maxpool:2", "conv:40:5", "maxpool:2"];
    let layers = spec
        .iter()
        .map(|text| FeatureLayer::parse(text, Activation::Relu).expect("a layer"))
        .collect();
    let mut net = NetworkConfig::new(&[0, 100, CLASSES], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Relu)
        .with_features(ImageShape::new(1, 28, 28), layers)
        .with_seed(1)
        .init::<f32>()
        .expect("lenet");
    let (x, y) = mnist_shaped(64, 3);
    let mut group = c.benchmark_group("convolution");
    group.throughput(Throughput::Elements(64));
    group.bench_function("lenet-gradients-batch-64", |b| {
        b.iter(|| net.compute_gradients(black_box(&x), black_box(&y)))
    });
    group.finish();
}

fn main() {
    let threads = std::env::var("BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    pool.install(|| {
        let mut criterion = Criterion::default().configure_from_args();
        training(&mut criterion);
        adam_strategies(&mut criterion);
        gather_ahead(&mut criterion);
        inference(&mut criterion);
        convolution(&mut criterion);
        criterion.final_summary();
    });
}
