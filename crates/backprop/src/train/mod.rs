//! Training: epochs of mini-batches, each a forward pass, backprop, and an optimiser step
//! θ ← θ − η·u(∂C/∂θ).
//!
//! One API serves every front end. [`Trainer::step`] takes one batch; [`Trainer::fit`] steps
//! until the configured epochs are done, early stopping ends the run, or an observer pauses it.
//! - Each epoch draws a seeded permutation of the training rows and cuts it into batches (the
//!   last one may be smaller); [`Trainer::next_batch_rows`] tells the rows of the next step.
//! - The step itself is a [`StepStrategy`]: plain backprop then the optimiser's update rule,
//!   plain SGD fused into the backward pass, or sharded gradients ([`step`]).
//! - The learning rate comes from a [`LearningRateSchedule`] counted in optimisation steps.
//!   The base rate, the optimiser's hyper-parameters and the batch size may change between
//!   steps ([`Trainer::set_optimizer_config`], [`Trainer::set_batch_size`]); the optimiser
//!   keeps its state.
//! - Gradients may be clipped by their global norm before the step.
//! - After each epoch: training metrics (accumulated over the batches), validation metrics.
//! - Early stopping watches the validation loss and restores the best weights.
//! - A NaN or infinite loss, or one past a bound, is divergence ([`DivergenceSettings`]): training
//!   stops with [`Error::Diverged`], naming epoch and batch, or restores its last good state
//!   and halves the learning rate.
//! - An observer may pause training between two batches; the trainer's [`TrainingState`]
//!   (with the weights and optimiser state, a [`checkpoint`]) lets a later run go on bit for
//!   bit, in the middle of an epoch too.
//! - When the observer wants them, per-layer [`diagnostics`] on a fixed batch after each epoch.
//!
//! [`LearningRateSchedule`]: crate::optim::LearningRateSchedule

pub mod checkpoint;
pub mod diagnostics;
mod divergence;
mod epoch;
mod events;
mod history;
mod metrics;
pub mod sharded;
mod split;
mod state;
pub mod step;
mod trainer;

pub use diagnostics::{diagnose, EpochDiagnostics, LayerDiagnostics};
pub use divergence::{
    DivergencePolicy, DivergenceSettings, DEFAULT_LOSS_BOUND_FACTOR, DEFAULT_MAX_HALVINGS,
};
pub use epoch::StepReport;
pub use events::{BatchEvent, RestoreEvent, Silent, TrainingEvent, TrainingObserver};
pub use history::{EpochRecord, History};
pub use metrics::{evaluate, MetricAccumulator, Metrics, Task};
pub use sharded::{ShardTimings, Sharding, DEFAULT_SHARDS};
pub use state::{EpochProgress, SavedRng, TrainingState, TRAINING_STATE_VERSION};
pub use step::{
    DivergedLoss, DivergenceCheck, FusedRuleStep, FusedSgdStep, PlainStep, ShardedStep, StepInput,
    StepKind, StepStrategy,
};
pub use trainer::Trainer;

use crate::cost::Cost;
use crate::network::Network;
use crate::optim::{LearningRateSchedule, OptimizerConfig, SgdConfig};
use crate::{Error, Result};
use backprop_tensor::{Float, Matrix};

/// RNG stream for the per-epoch shuffles.
const SHUFFLE_STREAM: u64 = 1;

/// Where validation data comes from.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Validation {
    /// No validation.
    #[default]
    None,
    /// Hold out this fraction of the training rows (stratified for classification, seeded).
    Fraction(f64),
}

/// How to train: epochs, batches, optimiser, schedule and the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingConfig {
    /// Passes over the training data; 0 trains nothing ([`Trainer::fit`] returns an empty
    /// history and leaves the weights as initialised, as Keras's `fit(epochs=0)`).
    pub epochs: usize,
    /// Examples per optimisation step.
    pub batch_size: usize,
    /// The optimiser and its base learning rate.
    pub optimizer: OptimizerConfig,
    /// The learning-rate schedule, in optimisation steps.
    pub schedule: LearningRateSchedule,
    /// Clip gradients to this global norm before each step.
    pub gradient_clip: Option<f64>,
    /// Validation data drawn from the training data, when no separate set is given.
    pub validation: Validation,
    /// Stop after this many epochs without a lower validation loss, restoring the best weights.
    pub early_stopping: Option<usize>,
    /// Shuffle the rows every epoch (on by default).
    pub shuffle: bool,
    /// Seed for shuffles and splits.
    pub seed: u64,
    /// The task; `None` infers it from the cost (cross-entropies classify, the rest regress).
    pub task: Option<Task>,
    /// How a diverging loss is detected and answered.
    pub divergence: DivergenceSettings,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 32,
            optimizer: OptimizerConfig::Sgd(SgdConfig::default().with_learning_rate(0.01)),
            schedule: LearningRateSchedule::default(),
            gradient_clip: None,
            validation: Validation::None,
            early_stopping: None,
            shuffle: true,
            seed: 0,
            task: None,
            divergence: DivergenceSettings::default(),
        }
    }
}

impl TrainingConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(Error::Training(m));
        if self.batch_size == 0 {
            return fail("batch size must be at least 1".into());
        }
        if let Validation::Fraction(f) = self.validation {
            if !(f > 0.0 && f < 1.0) {
                return fail(format!(
                    "the validation fraction must be between 0 and 1, got {f}"
                ));
            }
        }
        if self.early_stopping == Some(0) {
            return fail("early-stopping patience must be at least 1 epoch".into());
        }
        if let Some(clip) = self.gradient_clip {
            crate::optim::validate_max_norm(clip)?;
        }
        self.optimizer.validate()?;
        self.schedule.validate()?;
        self.divergence.validate()?;
        Ok(())
    }

    /// The task, given or inferred from the cost.
    pub fn task_for(&self, cost: Cost) -> Task {
        self.task.unwrap_or(match cost {
            Cost::SoftmaxCrossEntropy | Cost::BinaryCrossEntropy => Task::Classification,
            _ => Task::Regression,
        })
    }
}

/// Checks that data fits the network: input width, target width, matching row counts, rows > 0.
pub fn check_data<T: Float>(
    network: &Network<T>,
    x: &Matrix<T>,
    y: &Matrix<T>,
    context: &str,
) -> Result<()> {
    let shape_error = |expected: String, found: String| {
        Err(Error::Shape {
            context: context.to_string(),
            expected,
            found,
        })
    };
    if x.cols() != network.input_width() {
        return shape_error(
            format!("{} input columns", network.input_width()),
            format!("{}", x.cols()),
        );
    }
    if y.cols() != network.output_width() {
        return shape_error(
            format!("{} target columns", network.output_width()),
            format!("{}", y.cols()),
        );
    }
    if x.rows() != y.rows() {
        return shape_error(
            format!("as many target rows as input rows ({})", x.rows()),
            format!("{}", y.rows()),
        );
    }
    if x.rows() == 0 {
        return shape_error("at least one example".into(), "none".into());
    }
    Ok(())
}
