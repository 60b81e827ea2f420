//! Determinism, as the conventions promise it:
//! - one seed gives bit-identical weights after training, run after run;
//! - training in rayon pools of 1, 2, 3, 4 and 8 threads, and in a pool of 2 whose steps run
//!   without helpers (as the pacer runs them when another process holds a core), gives
//!   bit-identical weights and loss histories, on shapes large enough that the GEMM wrapper
//!   really splits its products into tiles computed on several threads (SGD with momentum,
//!   Adam with dropout, whose steps, as SGD with momentum's, run in the bands of the weight
//!   gradients, and plain SGD, whose step is fused into the backward pass), whose helpers also
//!   gather the next batch in small pieces between the step's loops, on a small network whose
//!   steps split nothing and have a helper gather the next batch instead, and on mostly-zero
//!   inputs whose first layer multiplies only the non-zeros (`backprop::sparse_input`);
//! - golden values: the first initial weights for a seed are pinned to literal numbers, for the
//!   default initialisation and for every `Initialization` variant.

use backprop::optim::{AdamConfig, OptimizerConfig, SgdConfig};
use backprop::train::{EpochRecord, TrainingEvent};
use backprop::{
    Activation, Cost, Initialization, Matrix, Network, NetworkConfig, SeededRng, Trainer,
    TrainingConfig,
};
use backprop_tensor::matmul::TilePlan;
use backprop_tensor::{team, Transpose};

const INPUTS: usize = 300;
const HIDDEN: usize = 300;
const CLASSES: usize = 10;
const EXAMPLES: usize = 512;
const BATCH: usize = 256;

/// A seeded classification set: each example is its class's random prototype plus noise; with
/// `mostly_zero`, four values in five of it are then zero.
fn classification_data(seed: u64, mostly_zero: bool) -> (Matrix<f32>, Matrix<f32>) {
    let mut rng = SeededRng::with_stream(seed, 40);
    let prototypes: Matrix<f32> = Matrix::random_normal(CLASSES, INPUTS, 0.0, 1.0, &mut rng);
    let labels: Vec<usize> = (0..EXAMPLES).map(|_| rng.below(CLASSES)).collect();
    let x = Matrix::from_fn(EXAMPLES, INPUTS, |row, col| {
        let value = prototypes[(labels[row], col)] + rng.normal() as f32;
        let zero = mostly_zero && rng.below(5) > 0;
        if zero {
            0.0
        } else {
            value
        }
    });
    let y = Matrix::from_fn(EXAMPLES, CLASSES, |row, col| {
        if labels[row] == col {
            1.0
        } else {
            0.0
        }
    });
    (x, y)
}

/// Everything a training run produced that must not depend on the thread count.
#[derive(Debug, PartialEq)]
struct Run {
    parameters: Vec<(String, Matrix<f32>)>,
    batch_losses: Vec<f64>,
    /// Epoch records without their wall-clock seconds.
    epochs: Vec<EpochRecord>,
    /// The first layer's multiply-adds skipped on zero inputs.
    skipped: u64,
}

/// The network's hidden width and the batch size: the shapes the GEMM wrapper splits across
/// threads, or a small network whose steps split nothing and gather the next batch ahead on a
/// helper thread instead.
#[derive(Clone, Copy, Debug)]
struct Shape {
    hidden: usize,
    batch: usize,
    mostly_zero: bool,
}

const SPLIT: Shape = Shape {
    hidden: HIDDEN,
    batch: BATCH,
    mostly_zero: false,
};
const GATHERED_AHEAD: Shape = Shape {
    hidden: 30,
    batch: 16,
    mostly_zero: false,
};
/// Mostly-zero inputs in batches large enough for the first layer's sparse path.
const NON_ZEROS: Shape = Shape {
    mostly_zero: true,
    ..SPLIT
};
/// Splits its products over smaller batches, whose next batch the helper gathers in fewer
/// pieces.
const SPLIT_AND_GATHERED_AHEAD: Shape = Shape {
    hidden: HIDDEN,
    batch: 64,
    mostly_zero: false,
};

fn train(optimizer: OptimizerConfig, dropout: f64, seed: u64) -> Run {
    train_shape(optimizer, dropout, seed, SPLIT)
}

fn train_shape(optimizer: OptimizerConfig, dropout: f64, seed: u64, shape: Shape) -> Run {
    let (x, y) = classification_data(3, shape.mostly_zero);
    let mut network: Network<f32> =
        NetworkConfig::new(&[INPUTS, shape.hidden, CLASSES], Cost::SoftmaxCrossEntropy)
            .with_hidden_activation(Activation::Tanh)
            .with_dropout(dropout)
            .with_seed(seed)
            .init()
            .unwrap();
    let config = TrainingConfig {
        epochs: 3,
        batch_size: shape.batch,
        optimizer,
        seed,
        ..TrainingConfig::default()
    };
    let mut batch_losses = Vec::new();
    let mut observer = |event: &TrainingEvent<'_>| {
        if let TrainingEvent::Batch(batch) = event {
            batch_losses.push(batch.loss);
        }
    };
    let history = Trainer::new(config)
        .unwrap()
        .fit(&mut network, &x, &y, None, &mut observer)
        .unwrap();
    let epochs = history
        .epochs
        .into_iter()
        .map(|record| EpochRecord {
            seconds: 0.0,
            ..record
        })
        .collect();
    Run {
        parameters: network
            .parameters()
            .into_iter()
            .map(|(name, m)| (name, m.clone()))
            .collect(),
        batch_losses,
        epochs,
        skipped: network.dense_layers()[0].skipped_multiply_adds(),
    }
}

fn sgd_with_momentum() -> OptimizerConfig {
    OptimizerConfig::Sgd(SgdConfig::new().with_learning_rate(0.05).with_momentum(0.9))
}

fn adam() -> OptimizerConfig {
    OptimizerConfig::Adam(AdamConfig::new().with_learning_rate(1e-3))
}

#[test]
fn the_small_shape_splits_nothing_and_gathers_ahead() {
    let (no, yes) = (Transpose::No, Transpose::Yes);
    let Shape { hidden, batch, .. } = GATHERED_AHEAD;
    for (m, n, k, ta, tb) in [
        (batch, hidden, INPUTS, no, yes),
        (hidden, INPUTS, batch, yes, no),
        (batch, CLASSES, hidden, no, yes),
        (CLASSES, hidden, batch, yes, no),
        (batch, hidden, CLASSES, no, no),
    ] {
        let plan = TilePlan::for_product(m, n, k, ta, tb);
        assert!(!plan.parallel, "{m}×{n}, k = {k}: {plan:?}");
    }
    assert!(batch * INPUTS >= backprop::train::step::GATHER_AHEAD);
}

#[test]
fn the_split_shape_with_small_batches_also_gathers_ahead_in_pieces() {
    let Shape { hidden, batch, .. } = SPLIT_AND_GATHERED_AHEAD;
    let plan = TilePlan::for_product(batch, hidden, INPUTS, Transpose::No, Transpose::Yes);
    assert!(plan.parallel && plan.count() >= 2, "{plan:?}");
    // Both split shapes' next batches are gathered in several pieces.
    for Shape { batch, .. } in [SPLIT_AND_GATHERED_AHEAD, SPLIT] {
        assert!(batch * INPUTS >= 2 * backprop_tensor::SIDE_GATHER);
    }
}

#[test]
fn the_shapes_are_large_enough_for_the_gemm_wrapper_to_use_threads() {
    // Asked of the wrapper's own tiling, not re-derived from its constants: every product of a
    // training step (C m × n, inner dimension k, with its transposes) runs on threads, in
    // several tiles.
    let (no, yes) = (Transpose::No, Transpose::Yes);
    let products = [
        ("forward Z = X·Wᵀ, layer 1", BATCH, HIDDEN, INPUTS, no, yes),
        (
            "forward Z = X·Wᵀ, output layer",
            BATCH,
            CLASSES,
            HIDDEN,
            no,
            yes,
        ),
        (
            "weight gradient δᵀ·X, layer 1",
            HIDDEN,
            INPUTS,
            BATCH,
            yes,
            no,
        ),
        (
            "weight gradient δᵀ·X, output layer",
            CLASSES,
            HIDDEN,
            BATCH,
            yes,
            no,
        ),
        (
            "input gradient δ·W, output layer",
            BATCH,
            HIDDEN,
            CLASSES,
            no,
            no,
        ),
    ];
    for (name, m, n, k, ta, tb) in products {
        let plan = TilePlan::for_product(m, n, k, ta, tb);
        assert!(
            plan.parallel && plan.count() >= 2,
            "{name} ({m}×{n}, k = {k}) runs on one thread: {plan:?}"
        );
    }
}

#[test]
fn the_same_seed_trains_to_bit_identical_weights() {
    for optimizer in [sgd_with_momentum(), adam()] {
        let first = train(optimizer.clone(), 0.0, 5);
        let second = train(optimizer.clone(), 0.0, 5);
        assert_eq!(first, second, "{}", optimizer.name());
        // Training moved the weights, and another seed ends elsewhere: the equality is not vacuous.
        let untrained: Network<f32> =
            NetworkConfig::new(&[INPUTS, HIDDEN, CLASSES], Cost::SoftmaxCrossEntropy)
                .with_hidden_activation(Activation::Tanh)
                .with_seed(5)
                .init()
                .unwrap();
        assert_ne!(first.parameters[0].1, *untrained.parameters()[0].1);
        assert_ne!(
            first.parameters,
            train(optimizer.clone(), 0.0, 6).parameters
        );
        // And it learned something: the last epoch's loss is below the first's.
        assert!(first.epochs[2].train.loss < first.epochs[0].train.loss);
    }
}

#[test]
fn one_to_eight_threads_give_bit_identical_training() {
    // 4 and 8 threads oversubscribe a 2-core machine on purpose: the bits must not depend on
    // how the pool's threads are scheduled either.
    // Plain SGD takes its step inside the backward pass (fused into the BP4 product).
    let plain_sgd = OptimizerConfig::Sgd(SgdConfig::new().with_learning_rate(0.05));
    let setups = [
        (sgd_with_momentum(), 0.0, SPLIT),
        (adam(), 0.2, SPLIT),
        (adam(), 0.0, SPLIT_AND_GATHERED_AHEAD),
        (plain_sgd.clone(), 0.1, SPLIT),
        (adam(), 0.0, GATHERED_AHEAD),
        (plain_sgd.clone(), 0.0, GATHERED_AHEAD),
        (adam(), 0.2, NON_ZEROS),
        (sgd_with_momentum(), 0.0, NON_ZEROS),
        (plain_sgd, 0.0, NON_ZEROS),
    ];
    for (optimizer, dropout, shape) in setups {
        let thread_counts = [1, 2, 3, 4, 8];
        let runs: Vec<Run> = thread_counts
            .into_iter()
            .map(|threads| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| {
                    assert_eq!(rayon::current_num_threads(), threads);
                    train_shape(optimizer.clone(), dropout, 11, shape)
                })
            })
            .collect();
        let name = format!("{} {shape:?}", optimizer.name());
        assert_eq!(
            runs[0].skipped > 0,
            shape.mostly_zero,
            "{name}: the sparse path"
        );
        assert_eq!(
            runs[0].batch_losses.len(),
            3 * EXAMPLES.div_ceil(shape.batch)
        );
        for (threads, run) in thread_counts.into_iter().zip(&runs).skip(1) {
            for ((name_a, a), (name_b, b)) in runs[0].parameters.iter().zip(&run.parameters) {
                assert_eq!(name_a, name_b);
                assert!(
                    a == b,
                    "{name}: {name_a} differs between 1 and {threads} threads"
                );
            }
            assert_eq!(
                runs[0].batch_losses, run.batch_losses,
                "{name}, {threads} threads"
            );
            assert_eq!(runs[0].epochs, run.epochs, "{name}, {threads} threads");
        }
        // A pool of 2 whose steps run alone, as the pacer runs them while another process
        // holds the second core: the same bits again.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let alone =
            pool.install(|| team::run_alone(|| train_shape(optimizer.clone(), dropout, 11, shape)));
        assert_eq!(runs[0], alone, "{name}, 2 threads, steps alone");
    }
}

// Golden values. Changing any of these numbers changes the initial weights of every seeded model
// ever trained (and every result reproduced from a seed), on every machine: do it only on
// purpose, never to make a test pass.

#[test]
fn golden_initial_weights_for_seed_42() {
    let network = NetworkConfig::new(&[2, 3, 1], Cost::Quadratic)
        .with_seed(42)
        .init::<f32>()
        .unwrap();
    let golden: [(&str, &[f32]); 4] = [
        (
            "layers.0.weight",
            &[
                0.25724006,
                0.63678557,
                -0.102507286,
                0.18011497,
                -0.2989734,
                -0.4950329,
            ],
        ),
        ("layers.0.bias", &[-0.27147165, 0.429741, 0.3836037]),
        ("layers.1.weight", &[-0.30185574, 0.007929179, 0.46396235]),
        ("layers.1.bias", &[0.5276869]),
    ];
    let parameters = network.parameters();
    assert_eq!(parameters.len(), golden.len());
    for ((name, matrix), (golden_name, values)) in parameters.into_iter().zip(golden) {
        assert_eq!(name, golden_name);
        assert_eq!(matrix.as_slice(), values, "{name}");
    }
    // The f64 network draws the same numbers, rounded differently.
    let wide = NetworkConfig::new(&[2, 3, 1], Cost::Quadratic)
        .with_seed(42)
        .init::<f64>()
        .unwrap();
    let first = wide.parameter("layers.0.weight").unwrap().as_slice()[0];
    assert_eq!(first as f32, 0.25724006);
    assert!((first - 0.25724006).abs() < 1e-7);
}

#[test]
fn golden_first_values_of_every_initialization() {
    // A 4 → 3 layer drawn from seed 7's initialisation stream (stream 0, which
    // `NetworkConfig::init` uses): first weight, second weight, first bias.
    let golden: [(Initialization, [f64; 3]); 8] = [
        (
            Initialization::PytorchDefault,
            [
                -0.34220390297938064,
                -0.3320106372278987,
                0.02124988672869743,
            ],
        ),
        (
            Initialization::Uniform {
                low: -0.5,
                high: 2.0,
            },
            [
                -0.10550975744845159,
                -0.08002659306974674,
                0.8031247168217437,
            ],
        ),
        (
            Initialization::StandardNormal,
            [
                0.28880184241151724,
                -0.22730853267554407,
                -0.8030332736247994,
            ],
        ),
        (
            Initialization::ScaledNormal,
            [
                0.14440092120575862,
                -0.11365426633777204,
                -0.8030332736247994,
            ],
        ),
        (
            Initialization::XavierUniform,
            [-0.6336385031978533, -0.6147642425677631, 0.0],
        ),
        (
            Initialization::XavierNormal,
            [0.15437107813899675, -0.12150152148031362, 0.0],
        ),
        (
            Initialization::HeUniform,
            [-0.8382249502883626, -0.8132566503846446, 0.0],
        ),
        (
            Initialization::HeNormal,
            [0.2042137411883525, -0.16073140487644114, 0.0],
        ),
    ];
    for (initialization, [w0, w1, b0]) in golden {
        let mut rng = SeededRng::with_stream(7, 0);
        let (weight, bias) = initialization.draw::<f64>(4, 3, &mut rng);
        assert_eq!(weight.as_slice()[..2], [w0, w1], "{initialization}");
        assert_eq!(bias.as_slice()[0], b0, "{initialization}");
        // The network builder draws exactly these for its first layer.
        let network = NetworkConfig::new(&[4, 3, 2], Cost::Quadratic)
            .with_initialization(initialization)
            .with_seed(7)
            .init::<f64>()
            .unwrap();
        assert_eq!(network.parameter("layers.0.weight").unwrap(), &weight);
        assert_eq!(network.parameter("layers.0.bias").unwrap(), &bias);
    }
}
