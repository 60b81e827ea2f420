//! Property: for any valid small configuration (layer sizes, activations, cost, optimiser,
//! learning rate from 10⁻⁴ to 10², batch size, dropout, penalties, clipping, data scale), a
//! few training epochs never panic. They either finish with finite weights or report
//! divergence; no other error comes out of a valid configuration.

use backprop::optim::{
    AdamConfig, AdamWConfig, LearningRateSchedule, OptimizerConfig, RmsPropConfig, SgdConfig,
};
use backprop::train::{DivergencePolicy, DivergenceSettings, Silent};
use backprop::{
    Activation, Cost, Error, Matrix, NetworkConfig, Regularization, SeededRng, Trainer,
    TrainingConfig,
};
use proptest::prelude::*;

const ACTIVATIONS: [Activation; 6] = Activation::ELEMENTWISE;

const COSTS: [Cost; 5] = [
    Cost::Quadratic,
    Cost::MeanSquaredError,
    Cost::BinaryCrossEntropy,
    Cost::SoftmaxCrossEntropy,
    Cost::Huber { delta: 1.0 },
];

fn optimizer(which: usize, learning_rate: f64) -> OptimizerConfig {
    match which {
        0 => SgdConfig::new().with_learning_rate(learning_rate).into(),
        1 => SgdConfig::new()
            .with_learning_rate(learning_rate)
            .with_momentum(0.9)
            .with_nesterov(true)
            .into(),
        2 => AdamConfig::new()
            .with_learning_rate(learning_rate)
            .with_weight_decay(0.01)
            .into(),
        3 => AdamWConfig::new().with_learning_rate(learning_rate).into(),
        _ => RmsPropConfig::new()
            .with_learning_rate(learning_rate)
            .with_momentum(0.5)
            .into(),
    }
}

/// Targets that suit the cost: one-hot rows, 0/1 labels, or real values.
fn targets(cost: Cost, rows: usize, outputs: usize, rng: &mut SeededRng) -> Matrix<f32> {
    match cost {
        Cost::SoftmaxCrossEntropy => {
            let labels: Vec<usize> = (0..rows).map(|_| rng.below(outputs)).collect();
            Matrix::from_fn(rows, outputs, |i, j| f32::from(u8::from(labels[i] == j)))
        }
        Cost::BinaryCrossEntropy => Matrix::from_fn(rows, outputs, |_, _| {
            f32::from(u8::from(rng.uniform() < 0.5))
        }),
        _ => Matrix::from_fn(rows, outputs, |_, _| (3.0 * rng.normal()) as f32),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn training_finishes_finite_or_reports_divergence(
        inputs in 1usize..5,
        hidden in proptest::collection::vec(1usize..7, 0..3),
        outputs in 1usize..4,
        activation in 0usize..6,
        cost in 0usize..5,
        which_optimizer in 0usize..5,
        log_learning_rate in -4.0f64..2.0,
        rows in 4usize..24,
        batch_size in 1usize..9,
        epochs in 1usize..4,
        dropout in prop_oneof![Just(0.0), Just(0.3)],
        l2 in prop_oneof![Just(0.0), Just(0.5)],
        clip in prop_oneof![Just(None), Just(Some(1.0))],
        data_scale in prop_oneof![Just(1.0f64), Just(1e3)],
        restore_and_halve in any::<bool>(),
        seed in 0u64..1000,
    ) {
        let cost = COSTS[cost];
        // Softmax over one unit is constant: give it at least two.
        let outputs = if cost == Cost::SoftmaxCrossEntropy { outputs.max(2) } else { outputs };
        let mut sizes = vec![inputs];
        sizes.extend(&hidden);
        sizes.push(outputs);
        let config = NetworkConfig::new(&sizes, cost)
            .with_hidden_activation(ACTIVATIONS[activation])
            .with_dropout(if hidden.is_empty() { 0.0 } else { dropout })
            .with_regularization(Regularization::l2_nielsen(l2, rows))
            .with_seed(seed);
        prop_assert!(config.validate().is_ok(), "{:?}", config.validate());
        let mut network = config.init::<f32>().unwrap();
        let mut rng = SeededRng::new(seed);
        let x = Matrix::from_fn(rows, inputs, |_, _| (data_scale * rng.normal()) as f32);
        let y = targets(cost, rows, outputs, &mut rng);
        let training = TrainingConfig {
            epochs,
            batch_size,
            optimizer: optimizer(which_optimizer, 10f64.powf(log_learning_rate)),
            schedule: LearningRateSchedule::exponential_decay(0.99),
            gradient_clip: clip,
            divergence: DivergenceSettings {
                policy: if restore_and_halve {
                    DivergencePolicy::RestoreAndHalve { max_halvings: 3 }
                } else {
                    DivergencePolicy::Stop
                },
                ..DivergenceSettings::default()
            },
            seed,
            ..TrainingConfig::default()
        };
        let mut trainer = Trainer::new(training).unwrap();
        match trainer.fit(&mut network, &x, &y, None, &mut Silent) {
            Ok(history) => {
                prop_assert!(trainer.is_finished());
                prop_assert_eq!(history.epochs.len(), epochs);
                for (name, matrix) in network.parameters() {
                    prop_assert!(
                        matrix.as_slice().iter().all(|v| v.is_finite()),
                        "{} is not finite", name
                    );
                }
                for record in &history.epochs {
                    prop_assert!(record.train.loss.is_finite());
                }
            }
            Err(Error::Diverged { epoch, batch, .. }) => {
                prop_assert!(epoch >= 1 && epoch <= epochs);
                prop_assert!(batch >= 1 && batch <= rows.div_ceil(batch_size));
                // The last good weights are kept: finite.
                for (_, matrix) in network.parameters() {
                    prop_assert!(matrix.as_slice().iter().all(|v| v.is_finite()));
                }
            }
            Err(other) => prop_assert!(false, "unexpected error: {}", other),
        }
    }
}
