//! The fused rule step (Adam, AdamW, RMSprop, SGD with momentum or weight decay run on each
//! band of ∂C/∂W inside the backward pass) is an optimisation of the plain step: the same
//! weights and optimiser state within rounding after several steps, the same bits on any number
//! of threads, nothing touched by a diverged batch, and the trainer takes it where it applies.

use backprop::optim::SgdConfig;
use backprop::optim::{AdamConfig, AdamWConfig, Optimizer, OptimizerConfig, RmsPropConfig};
use backprop::train::{
    DivergenceCheck, DivergenceSettings, FusedRuleStep, MetricAccumulator, PlainStep, Silent,
    StepInput, StepKind, StepStrategy,
};
use backprop::{Activation, Cost, Float, Matrix, Network, NetworkConfig, SeededRng};
use backprop::{Trainer, TrainingConfig};

const ROWS: usize = 64;
const BATCH: usize = 16;

/// 300 → 200 → 10: the first layer's ∂C/∂W (200 × 300 at depth 16) is computed in bands, the
/// output layer's whole.
fn network<T: Float>() -> Network<T> {
    NetworkConfig::new(&[300, 200, 10], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Relu)
        .with_seed(7)
        .init()
        .unwrap()
}

fn data<T: Float>() -> (Matrix<T>, Matrix<T>) {
    let mut rng = SeededRng::with_stream(3, 1);
    let x: Matrix<T> = Matrix::random_uniform(ROWS, 300, -1.0, 1.0, &mut rng);
    let y = Matrix::from_fn(ROWS, 10, |row, col| {
        if (row * 7) % 10 == col {
            T::ONE
        } else {
            T::ZERO
        }
    });
    (x, y)
}

fn rules() -> Vec<OptimizerConfig> {
    vec![
        AdamConfig::new().with_learning_rate(0.01).into(),
        AdamConfig::new().with_weight_decay(0.1).into(),
        AdamWConfig::new().with_learning_rate(0.01).into(),
        RmsPropConfig::new().with_learning_rate(0.001).into(),
        RmsPropConfig::new()
            .with_learning_rate(0.001)
            .with_centered(true)
            .with_momentum(0.5)
            .with_weight_decay(0.01)
            .into(),
        SgdConfig::new()
            .with_learning_rate(0.05)
            .with_momentum(0.9)
            .with_nesterov(true)
            .into(),
        SgdConfig::new()
            .with_learning_rate(0.05)
            .with_momentum(0.5)
            .with_dampening(0.3)
            .into(),
        SgdConfig::new()
            .with_learning_rate(0.05)
            .with_weight_decay(0.01)
            .into(),
    ]
}

fn input<'a, T: Float>(x: &'a Matrix<T>, y: &'a Matrix<T>, rows: &'a [usize]) -> StepInput<'a, T> {
    StepInput {
        x,
        y,
        rows,
        next_rows: &[],
        learning_rate: 1.0,
        gradient_clip: None,
        divergence: DivergenceCheck {
            settings: DivergenceSettings::default(),
            reference: None,
        },
    }
}

/// The parameters after training, and the optimiser's state tensors.
type Trained<T> = (Vec<(String, Matrix<T>)>, Vec<(String, Vec<T>)>);

/// Four steps with `strategy` on batches of 16 rows, on a pool of `threads` threads: the
/// parameters and the optimiser's state tensors after them.
fn train<T: Float>(
    strategy: &mut dyn StepStrategy<T>,
    rule: &OptimizerConfig,
    threads: usize,
) -> Trained<T> {
    let (x, y) = data::<T>();
    let mut network = network::<T>();
    let mut optimizer = Optimizer::new(rule.clone()).unwrap();
    let rate = rule.learning_rate();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut metrics = MetricAccumulator::new();
        for step in 0..4 {
            let rows: Vec<usize> = (0..BATCH).map(|i| (step * BATCH + i * 5) % ROWS).collect();
            let input = StepInput {
                learning_rate: rate,
                ..input(&x, &y, &rows)
            };
            strategy
                .step(&mut network, &mut optimizer, &input, &mut metrics)
                .unwrap();
        }
    });
    let parameters = network
        .parameters()
        .into_iter()
        .map(|(name, value)| (name, value.clone()))
        .collect();
    (parameters, optimizer.state_tensors())
}

fn assert_close<T: Float>(name: &str, plain: &[T], fused: &[T], tolerance: f64) {
    assert_eq!(plain.len(), fused.len(), "{name}");
    for (i, (&p, &f)) in plain.iter().zip(fused).enumerate() {
        let (p, f) = (p.to_f64(), f.to_f64());
        assert!(
            (p - f).abs() <= tolerance * p.abs().max(f.abs()).max(1e-3),
            "{name}[{i}]: plain {p}, fused {f}"
        );
    }
}

fn fused_equals_plain<T: Float>(tolerance: f64) {
    for rule in rules() {
        let (plain, plain_state) = train::<T>(&mut PlainStep::default(), &rule, 1);
        let (fused, fused_state) = train::<T>(&mut FusedRuleStep::default(), &rule, 1);
        let untouched = network::<T>();
        for (((name, p), (_, f)), (_, u)) in plain.iter().zip(&fused).zip(untouched.parameters()) {
            assert_close(
                &format!("{} {name}", rule.name()),
                p.as_slice(),
                f.as_slice(),
                tolerance,
            );
            assert_ne!(
                p.as_slice(),
                u.as_slice(),
                "{name}: the steps moved nothing"
            );
        }
        assert_eq!(plain_state.len(), fused_state.len());
        for ((name, p), (other, f)) in plain_state.iter().zip(&fused_state) {
            assert_eq!(name, other);
            assert_close(&format!("{} state {name}", rule.name()), p, f, tolerance);
        }
    }
}

#[test]
fn fused_steps_equal_plain_steps_in_f64() {
    fused_equals_plain::<f64>(1e-10);
}

#[test]
fn fused_steps_equal_plain_steps_in_f32() {
    fused_equals_plain::<f32>(1e-4);
}

/// The bands are cut by the shapes alone: 1, 2 and 3 threads give the same bits.
#[test]
fn fused_steps_give_the_same_bits_on_any_number_of_threads() {
    let bits = |trained: Trained<f32>| {
        let (parameters, state) = trained;
        let values = parameters
            .into_iter()
            .flat_map(|(_, m)| m.as_slice().to_vec());
        let state = state.into_iter().flat_map(|(_, values)| values);
        values.chain(state).map(f32::to_bits).collect::<Vec<_>>()
    };
    for rule in [rules()[0].clone(), rules()[4].clone()] {
        let one = bits(train::<f32>(&mut FusedRuleStep::default(), &rule, 1));
        for threads in [2, 3] {
            let many = bits(train::<f32>(&mut FusedRuleStep::default(), &rule, threads));
            assert!(one == many, "{} on {threads} threads", rule.name());
        }
    }
}

/// A batch whose cost counts as divergence changes neither the weights nor the optimiser.
#[test]
fn a_diverged_batch_updates_nothing() {
    let (x, y) = data::<f32>();
    let rows: Vec<usize> = (0..BATCH).collect();
    let mut network = network::<f32>();
    let before = network.clone();
    let mut optimizer = Optimizer::new(AdamConfig::new().into()).unwrap();
    let diverging = StepInput {
        divergence: DivergenceCheck {
            settings: DivergenceSettings {
                loss_bound_factor: 1.0001,
                ..DivergenceSettings::default()
            },
            reference: Some(0.0),
        },
        ..input(&x, &y, &rows)
    };
    let mut metrics = MetricAccumulator::new();
    let result =
        FusedRuleStep::default().step(&mut network, &mut optimizer, &diverging, &mut metrics);
    assert!(
        result.is_err(),
        "a cost of about ln 10 is past the bound of 1.0001"
    );
    assert_eq!(network.parameters(), before.parameters());
    assert_eq!(optimizer.steps_taken(), 0);
    assert!(optimizer
        .state_tensors()
        .iter()
        .all(|(_, values)| values.iter().all(|&v| v == 0.0)));
}

/// The trainer takes the fused rule step for Adam, and the plain one once clipping needs every
/// gradient first.
#[test]
fn the_trainer_fuses_adam_unless_it_clips() {
    let (x, y) = data::<f32>();
    let config = TrainingConfig {
        epochs: 1,
        batch_size: BATCH,
        optimizer: AdamConfig::new().into(),
        ..TrainingConfig::default()
    };
    let mut network = network::<f32>();
    let mut trainer = Trainer::new(config.clone()).unwrap();
    let report = trainer
        .step(&mut network, &x, &y, None, &mut Silent)
        .unwrap();
    assert_eq!(report.kind, StepKind::FusedRule);
    let clipping = TrainingConfig {
        gradient_clip: Some(1.0),
        ..config
    };
    let mut trainer = Trainer::new(clipping).unwrap();
    let report = trainer
        .step(&mut network, &x, &y, None, &mut Silent)
        .unwrap();
    assert_eq!(report.kind, StepKind::Plain);
}
