//! Plain SGD (no momentum, no weight decay, no clipping, no L1 term) takes its step inside the
//! backward pass: each layer adds −η·δᵀX straight onto its weights (scaled by 1 − ηλ/n first
//! under Nielsen's L2). These tests train the same
//! network twice, once on that fused path and once through the optimiser's separate step (a
//! clipping norm too large to ever clip turns the fusion off), and require the same weights,
//! losses and optimiser bookkeeping.

use backprop::optim::{OptimizerConfig, SgdConfig};
use backprop::regularization::Regularization;
use backprop::train::TrainingEvent;
use backprop::{
    Activation, Cost, Matrix, Network, NetworkConfig, SeededRng, Trainer, TrainingConfig,
};

fn data() -> (Matrix<f32>, Matrix<f32>) {
    let mut rng = SeededRng::with_stream(7, 3);
    let x: Matrix<f32> = Matrix::random_uniform(300, 20, -1.0, 1.0, &mut rng);
    let y = Matrix::from_fn(300, 3, |row, col| {
        let class = if x[(row, 0)] + x[(row, 1)] > 0.3 {
            0
        } else if x[(row, 2)] > 0.0 {
            1
        } else {
            2
        };
        if class == col {
            1.0
        } else {
            0.0
        }
    });
    (x, y)
}

/// Trains a 20-16-8-3 network with plain SGD at batch 10 and returns its parameters, batch
/// losses and the optimiser's step count.
fn train(
    cost: Cost,
    activation: Activation,
    gradient_clip: Option<f64>,
    threads: usize,
) -> (Vec<Matrix<f32>>, Vec<f64>, u64) {
    let regularization = Regularization::none();
    train_with(cost, activation, regularization, gradient_clip, threads)
}

fn train_with(
    cost: Cost,
    activation: Activation,
    regularization: Regularization,
    gradient_clip: Option<f64>,
    threads: usize,
) -> (Vec<Matrix<f32>>, Vec<f64>, u64) {
    let (x, y) = data();
    let mut network: Network<f32> = NetworkConfig::new(&[20, 16, 8, 3], cost)
        .with_hidden_activation(activation)
        .with_regularization(regularization)
        .with_seed(4)
        .init()
        .unwrap();
    let config = TrainingConfig {
        epochs: 4,
        batch_size: 10,
        optimizer: OptimizerConfig::Sgd(SgdConfig::new().with_learning_rate(0.5)),
        gradient_clip,
        seed: 9,
        ..TrainingConfig::default()
    };
    let mut losses = Vec::new();
    let mut observer = |event: &TrainingEvent<'_>| {
        if let TrainingEvent::Batch(batch) = event {
            losses.push(batch.loss);
        }
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let mut trainer = Trainer::new(config).unwrap();
    pool.install(|| {
        trainer
            .fit(&mut network, &x, &y, None, &mut observer)
            .unwrap()
    });
    let parameters = network
        .parameters()
        .into_iter()
        .map(|(_, m)| m.clone())
        .collect();
    (parameters, losses, trainer.optimizer().steps_taken())
}

fn largest_relative_difference(a: &[Matrix<f32>], b: &[Matrix<f32>]) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|(a, b)| a.as_slice().iter().zip(b.as_slice()))
        .map(|(&p, &q)| (p as f64 - q as f64).abs() / (p.abs().max(q.abs()) as f64).max(1e-3))
        .fold(0.0, f64::max)
}

#[test]
fn fused_plain_sgd_matches_the_separate_optimiser_step() {
    for (cost, activation) in [
        (Cost::SoftmaxCrossEntropy, Activation::Relu),
        (Cost::BinaryCrossEntropy, Activation::Sigmoid),
        (Cost::Quadratic, Activation::Tanh),
    ] {
        let (fused, fused_losses, fused_steps) = train(cost, activation, None, 1);
        let (separate, separate_losses, separate_steps) = train(cost, activation, Some(1e30), 1);
        assert_eq!(fused_steps, 4 * 30);
        assert_eq!(fused_steps, separate_steps);
        let difference = largest_relative_difference(&fused, &separate);
        assert!(
            difference < 1e-5,
            "{cost:?}/{activation}: weights differ by {difference:e}"
        );
        for (a, b) in fused_losses.iter().zip(&separate_losses) {
            assert!(
                (a - b).abs() <= 1e-5 * a.abs().max(1.0),
                "{cost:?}: loss {a} vs {b}"
            );
        }
        // Training moved the weights (the comparison is not between two untouched networks).
        let untrained: Vec<Matrix<f32>> = NetworkConfig::new(&[20, 16, 8, 3], cost)
            .with_hidden_activation(activation)
            .with_seed(4)
            .init::<f32>()
            .unwrap()
            .parameters()
            .into_iter()
            .map(|(_, m)| m.clone())
            .collect();
        assert!(largest_relative_difference(&fused, &untrained) > 1e-2);
        assert!(fused_losses.last().unwrap() < fused_losses.first().unwrap());
    }
}

#[test]
fn fused_plain_sgd_is_the_same_for_one_two_and_three_threads() {
    let one = train(Cost::SoftmaxCrossEntropy, Activation::Relu, None, 1);
    for threads in [2, 3] {
        assert_eq!(
            one,
            train(Cost::SoftmaxCrossEntropy, Activation::Relu, None, threads)
        );
    }
}

#[test]
fn fused_sgd_with_nielsens_l2_matches_the_separate_step() {
    // Nielsen's L2 (λ/2n)Σw² becomes a scaling of the weights by 1 − ηλ/n in the fused pass.
    let l2 = Regularization::l2_nielsen(5.0, 300);
    let run = |clip| train_with(Cost::BinaryCrossEntropy, Activation::Sigmoid, l2, clip, 1);
    let (fused, fused_losses, _) = run(None);
    let (separate, separate_losses, _) = run(Some(1e30));
    // (1 − ηλ/n)·w − η·g rounds otherwise than w − η·(g + λw/n); over 120 f32 steps the
    // paths drift apart by about 1.5e-5 (measured), inside the 1e-4 the f32 paths promise.
    let difference = largest_relative_difference(&fused, &separate);
    assert!(difference < 1e-4, "weights differ by {difference:e}");
    for (a, b) in fused_losses.iter().zip(&separate_losses) {
        assert!((a - b).abs() <= 1e-4 * a.abs().max(1.0), "loss {a} vs {b}");
    }
    // The term did something: without it the weights end elsewhere.
    let none = Regularization::none();
    let (plain, _, _) = train_with(Cost::BinaryCrossEntropy, Activation::Sigmoid, none, None, 1);
    assert!(largest_relative_difference(&fused, &plain) > 1e-3);
}
