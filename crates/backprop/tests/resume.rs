//! Checkpoints and resume at the library level: a run paused anywhere (between any two
//! batches, or at an epoch's end), written to a checkpoint file, read back and trained on to
//! the end gives bit-identical weights and history (timings aside) to the run that was never
//! paused. So does a 5-epoch run extended to 10. For SGD with momentum and for Adam, with and
//! without dropout, validation and early-stopping bookkeeping.

use backprop::model::{Model, ModelMetadata};
use backprop::optim::{AdamConfig, LearningRateSchedule, OptimizerConfig, SgdConfig};
use backprop::train::checkpoint::{load_checkpoint, save_checkpoint};
use backprop::train::{BatchEvent, History, TrainingObserver, Validation};
use backprop::{
    Activation, Cost, Matrix, Network, NetworkConfig, SeededRng, Task, Trainer, TrainingConfig,
};

/// 90 points of three noisy spirals arms: 3 classes, one-hot targets.
fn data() -> (Matrix<f32>, Matrix<f32>) {
    let mut rng = SeededRng::new(11);
    let rows = 90;
    let x = Matrix::from_fn(rows, 2, |i, j| {
        let class = (i % 3) as f64;
        let radius = (i / 3) as f64 / 30.0;
        let angle = class * 2.1 + radius * 4.0 + 0.2 * rng.normal();
        (if j == 0 {
            radius * angle.cos()
        } else {
            radius * angle.sin()
        }) as f32
    });
    let y = Matrix::from_fn(rows, 3, |i, j| f32::from(u8::from(i % 3 == j)));
    (x, y)
}

fn network_config(dropout: f64) -> NetworkConfig {
    NetworkConfig::new(&[2, 12, 8, 3], Cost::SoftmaxCrossEntropy)
        .with_hidden_activation(Activation::Tanh)
        .with_dropout(dropout)
        .with_seed(5)
}

/// The variants under test: optimiser, dropout, validation with early-stopping bookkeeping.
fn variants() -> Vec<(&'static str, OptimizerConfig, f64, bool)> {
    let momentum = SgdConfig::new()
        .with_learning_rate(0.05)
        .with_momentum(0.9)
        .into();
    let adam: OptimizerConfig = AdamConfig::new().with_learning_rate(0.01).into();
    vec![
        ("sgd-momentum", momentum, 0.0, false),
        ("adam", adam.clone(), 0.0, false),
        ("adam-dropout-validation", adam, 0.2, true),
    ]
}

fn training_config(optimizer: OptimizerConfig, validation: bool, epochs: usize) -> TrainingConfig {
    TrainingConfig {
        epochs,
        batch_size: 8,
        optimizer,
        schedule: LearningRateSchedule::step_decay(20, 0.7).with_warmup(5),
        validation: if validation {
            Validation::Fraction(0.2)
        } else {
            Validation::None
        },
        // Patience longer than the run: the best weights are tracked and saved, never used.
        early_stopping: validation.then_some(1000),
        seed: 9,
        ..TrainingConfig::default()
    }
}

/// Pauses after `pause_after` optimisation steps (once).
struct PauseAt {
    pause_after: u64,
    steps: u64,
    paused: bool,
}

impl TrainingObserver for PauseAt {
    fn on_batch(&mut self, event: &BatchEvent) {
        self.steps = event.step;
    }

    fn should_stop(&mut self) -> bool {
        if !self.paused && self.steps >= self.pause_after {
            self.paused = true;
            return true;
        }
        false
    }
}

fn bits(network: &Network<f32>) -> Vec<(String, Vec<u32>)> {
    network
        .parameters()
        .into_iter()
        .map(|(name, m)| (name, m.as_slice().iter().map(|v| v.to_bits()).collect()))
        .collect()
}

/// The history with timings zeroed.
fn without_timings(history: &History) -> History {
    let mut history = history.clone();
    for record in &mut history.epochs {
        record.seconds = 0.0;
    }
    history
}

fn metadata(network: &Network<f32>) -> ModelMetadata {
    ModelMetadata::describe(network.config(), Task::Classification)
}

/// Trains `epochs` without a pause.
fn straight(
    variant: &(&str, OptimizerConfig, f64, bool),
    epochs: usize,
) -> (Network<f32>, History) {
    let (x, y) = data();
    let mut network = network_config(variant.2).init::<f32>().unwrap();
    let mut trainer = Trainer::new(training_config(variant.1.clone(), variant.3, epochs)).unwrap();
    let history = trainer
        .fit(&mut network, &x, &y, None, &mut backprop::train::Silent)
        .unwrap();
    (network, history)
}

/// Trains to `first_epochs`, pausing after `pause_after` steps and checkpointing there (or at
/// the end when the pause never comes), then resumes from the file to `total_epochs`.
fn paused_and_resumed(
    variant: &(&str, OptimizerConfig, f64, bool),
    first_epochs: usize,
    pause_after: u64,
    total_epochs: usize,
    folder: &std::path::Path,
) -> (Network<f32>, History) {
    let (x, y) = data();
    let mut network = network_config(variant.2).init::<f32>().unwrap();
    let config = training_config(variant.1.clone(), variant.3, first_epochs);
    let mut trainer = Trainer::new(config).unwrap();
    let mut pause = PauseAt {
        pause_after,
        steps: 0,
        paused: false,
    };
    trainer.fit(&mut network, &x, &y, None, &mut pause).unwrap();
    let path = folder.join(format!("{}-{pause_after}.safetensors", variant.0));
    save_checkpoint(&path, metadata(&network), &network, &trainer).unwrap();
    drop((trainer, network));

    // A model reader reads the checkpoint as a model.
    Model::load(&path).unwrap();
    let checkpoint = load_checkpoint(&path).unwrap();
    let config = training_config(variant.1.clone(), variant.3, total_epochs);
    let (mut network, mut trainer) = checkpoint.into_trainer(config).unwrap();
    let history = trainer
        .fit(&mut network, &x, &y, None, &mut backprop::train::Silent)
        .unwrap();
    assert!(trainer.is_finished());
    (network, history)
}

#[test]
fn a_paused_run_resumed_from_its_checkpoint_is_bit_identical() {
    let folder = tempfile::tempdir().unwrap();
    for variant in variants() {
        let (expected, expected_history) = straight(&variant, 10);
        // 90 rows (72 with validation) in batches of 8: 12 (9) steps an epoch. Pauses in the
        // first batch, in the middle of epochs, and at epoch ends.
        let steps_per_epoch: u64 = if variant.3 { 9 } else { 12 };
        for pause_after in [
            1,
            5,
            steps_per_epoch,
            2 * steps_per_epoch + 7,
            9 * steps_per_epoch + 1,
        ] {
            let (network, history) =
                paused_and_resumed(&variant, 10, pause_after, 10, folder.path());
            assert_eq!(
                bits(&network),
                bits(&expected),
                "{} paused after {pause_after}",
                variant.0
            );
            assert_eq!(
                without_timings(&history),
                without_timings(&expected_history),
                "{} paused after {pause_after}",
                variant.0
            );
        }
    }
}

#[test]
fn a_finished_run_extended_from_its_checkpoint_is_bit_identical() {
    let folder = tempfile::tempdir().unwrap();
    for variant in variants() {
        let (expected, expected_history) = straight(&variant, 10);
        // The pause never comes: the checkpoint is of the finished 5-epoch run.
        let (network, history) = paused_and_resumed(&variant, 5, u64::MAX, 10, folder.path());
        assert_eq!(bits(&network), bits(&expected), "{}", variant.0);
        assert_eq!(
            without_timings(&history),
            without_timings(&expected_history)
        );
        assert_eq!(history.epochs.len(), 10);
    }
}

#[test]
fn a_model_file_is_not_a_checkpoint_and_a_wrong_optimiser_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let variant = &variants()[1];
    let (network, _) = straight(variant, 1);
    let model_path = folder.path().join("model.safetensors");
    Model::new(network, metadata(&straight(variant, 1).0))
        .unwrap()
        .save(&model_path)
        .unwrap();
    let error = load_checkpoint(&model_path).unwrap_err().to_string();
    assert!(error.contains("not a checkpoint"), "{error}");

    paused_and_resumed(variant, 2, 3, 2, folder.path());
    let path = folder.path().join("adam-3.safetensors");
    let checkpoint = load_checkpoint(&path).unwrap();
    assert_eq!(checkpoint.state.step, 3);
    assert_eq!(
        checkpoint
            .state
            .epoch_in_progress
            .as_ref()
            .unwrap()
            .batches_done,
        3
    );
    let sgd = training_config(SgdConfig::new().with_momentum(0.9).into(), false, 2);
    let Err(error) = checkpoint.into_trainer(sgd) else {
        panic!("an Adam checkpoint resumed with SGD")
    };
    let error = error.to_string();
    assert!(error.contains("optimizer state"), "{error}");
}
