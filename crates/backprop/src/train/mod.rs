//! The training loop: epochs of mini-batches, each a forward pass, backprop, and an optimiser
//! step θ ← θ − η·u(∂C/∂θ).
//!
//! - Each epoch draws a seeded permutation of the training rows and cuts it into batches (the
//!   last one may be smaller).
//! - The learning rate comes from a [`LearningRateSchedule`] counted in optimisation steps.
//! - Gradients may be clipped by their global norm before the step.
//! - After each epoch: training metrics (accumulated over the batches), validation metrics.
//! - Early stopping watches the validation loss and restores the best weights.
//! - A NaN or infinite loss stops training with [`Error::Diverged`], naming epoch and batch.
//! - When the observer wants them, per-layer [`diagnostics`] on a fixed batch after each epoch.

pub mod diagnostics;
mod events;
mod history;
mod metrics;

pub use diagnostics::{diagnose, EpochDiagnostics, LayerDiagnostics};
pub use events::{BatchEvent, Silent, TrainingEvent, TrainingObserver};
pub use history::{EpochRecord, History};
pub use metrics::{evaluate, MetricAccumulator, Metrics, Task};

use crate::cost::Cost;
use crate::network::Network;
use crate::optim::{
    clip_by_global_norm, LearningRateSchedule, Optimizer, OptimizerConfig, SgdConfig,
};
use crate::propagation::on_pool_thread;
use crate::{Error, Result};
use backprop_tensor::{Float, Matrix, SeededRng};
use std::time::Instant;

/// RNG stream for the per-epoch shuffles.
const SHUFFLE_STREAM: u64 = 1;
/// RNG stream for carving a validation split off the training data.
const SPLIT_STREAM: u64 = 2;

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
    /// Passes over the training data.
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
        }
    }
}

impl TrainingConfig {
    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(Error::Training(m));
        if self.epochs == 0 {
            return fail("epochs must be at least 1".into());
        }
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

/// Training state that persists between epochs: optimiser, shuffle generator, step count,
/// early-stopping bookkeeping and history.
pub struct Trainer<T: Float> {
    config: TrainingConfig,
    optimizer: Optimizer<T>,
    shuffle_rng: SeededRng,
    step: u64,
    epoch: usize,
    history: History,
    best: Option<(f64, Network<T>)>,
    epochs_without_improvement: usize,
    /// The targets of the current batch, gathered into one buffer reused from batch to batch.
    targets: Matrix<T>,
}

impl<T: Float> Trainer<T> {
    /// A trainer at epoch 0.
    pub fn new(config: TrainingConfig) -> Result<Self> {
        config.validate()?;
        let optimizer = Optimizer::new(config.optimizer.clone())?;
        let shuffle_rng = SeededRng::with_stream(config.seed, SHUFFLE_STREAM);
        Ok(Self {
            config,
            optimizer,
            shuffle_rng,
            step: 0,
            epoch: 0,
            history: History::default(),
            best: None,
            epochs_without_improvement: 0,
            targets: Matrix::zeros(0, 0),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &TrainingConfig {
        &self.config
    }

    /// The optimiser (its state belongs in a checkpoint).
    pub fn optimizer(&self) -> &Optimizer<T> {
        &self.optimizer
    }

    /// Optimisation steps taken.
    pub fn steps_taken(&self) -> u64 {
        self.step
    }

    /// The history so far.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Trains `network` on (`x`, `y`), one example per row, for the configured epochs.
    ///
    /// `validation` is a separate validation set; without one, `config.validation` may carve
    /// one out of the training data. Returns the history; on early stopping the network holds
    /// the best weights.
    pub fn fit(
        &mut self,
        network: &mut Network<T>,
        x: &Matrix<T>,
        y: &Matrix<T>,
        validation: Option<(&Matrix<T>, &Matrix<T>)>,
        observer: &mut dyn TrainingObserver,
    ) -> Result<History> {
        check_data(network, x, y, "training data")?;
        if let Some((vx, vy)) = validation {
            check_data(network, vx, vy, "validation data")?;
        }
        let task = self.config.task_for(network.cost());
        let (train_rows, held_out) = match (&self.config.validation, validation) {
            (Validation::Fraction(fraction), None) => {
                let (train, held) = split_rows(y, *fraction, task, self.config.seed)?;
                (Some(train), Some(held))
            }
            _ => (None, None),
        };
        let owned;
        let (x, y, validation) = match (&train_rows, &held_out) {
            (Some(train), Some(held)) => {
                owned = (
                    x.select_rows(train),
                    y.select_rows(train),
                    x.select_rows(held),
                    y.select_rows(held),
                );
                (&owned.0, &owned.1, Some((&owned.2, &owned.3)))
            }
            _ => (x, y, validation),
        };
        if self.config.early_stopping.is_some() && validation.is_none() {
            return Err(Error::Training(
                "early stopping needs validation data (a validation fraction or set)".into(),
            ));
        }
        let diagnostic_batch = observer
            .wants_diagnostics()
            .then(|| diagnostics::diagnostic_batch(x, y));
        while self.epoch < self.config.epochs {
            self.run_epoch(network, x, y, validation, task, observer)?;
            if let Some((dx, dy)) = &diagnostic_batch {
                let figures = diagnose(network, dx, dy, self.epoch);
                observer.on_diagnostics(&figures);
                self.history.diagnostics.push(figures);
            }
            if self.history.stopped_early {
                break;
            }
        }
        if let Some((_, best)) = &self.best {
            network.copy_parameters_from(best);
        }
        Ok(self.history.clone())
    }

    fn run_epoch(
        &mut self,
        network: &mut Network<T>,
        x: &Matrix<T>,
        y: &Matrix<T>,
        validation: Option<(&Matrix<T>, &Matrix<T>)>,
        task: Task,
        observer: &mut dyn TrainingObserver,
    ) -> Result<()> {
        let started = Instant::now();
        self.epoch += 1;
        let n = x.rows();
        let order = if self.config.shuffle {
            self.shuffle_rng.permutation(n)
        } else {
            (0..n).collect()
        };
        let batches: Vec<&[usize]> = order.chunks(self.config.batch_size).collect();
        let base_rate = self.config.optimizer.learning_rate();
        let mut accumulator = MetricAccumulator::new();
        let mut learning_rate = base_rate;
        // Computed once: an optimiser step then formats no parameter names.
        let names: Vec<String> = network.parameters().into_iter().map(|(n, _)| n).collect();
        for (b, rows) in batches.iter().enumerate() {
            let parallel = network.uses_threads(rows.len(), true);
            let next = batches.get(b + 1).copied().unwrap_or(&[]);
            let step = self.step;
            let (config, optimizer, targets) =
                (&self.config, &mut self.optimizer, &mut self.targets);
            // The whole step on one pool thread: one hand-over to rayon per batch, not one per
            // product (see `propagation.rs`).
            let outcome = on_pool_thread(parallel, || {
                network.load_batch(x, rows);
                targets.gather_rows(y, rows);
                // The next batch's rows travel from memory while this one computes.
                x.prefetch_rows(next);
                y.prefetch_rows(next);
                let loss = network.compute_gradients_loaded(targets);
                if !loss.is_finite() {
                    return Err(loss);
                }
                let output = network.layers.last().and_then(|l| l.as_dense());
                if let Some(cache) = output.and_then(|d| d.cache()) {
                    accumulator.add(&cache.a, targets, loss - network.penalty());
                }
                let learning_rate = config.schedule.learning_rate_at(base_rate, step);
                apply_step(
                    network,
                    optimizer,
                    config.gradient_clip,
                    &names,
                    learning_rate,
                );
                Ok((loss, learning_rate))
            });
            let loss = match outcome {
                Ok((loss, rate)) => {
                    learning_rate = rate;
                    loss
                }
                Err(loss) => {
                    return Err(Error::Diverged {
                        epoch: self.epoch,
                        batch: b + 1,
                        loss,
                    })
                }
            };
            self.step += 1;
            observer.on_batch(&BatchEvent {
                epoch: self.epoch,
                batch: b + 1,
                batches: batches.len(),
                step: self.step,
                loss,
                learning_rate,
            });
        }
        let train = accumulator.finish(task, network.penalty());
        let validation_metrics = validation.map(|(vx, vy)| evaluate(network, vx, vy, task));
        if let Some(metrics) = &validation_metrics {
            if !metrics.loss.is_finite() {
                return Err(Error::Diverged {
                    epoch: self.epoch,
                    batch: batches.len(),
                    loss: metrics.loss,
                });
            }
        }
        let record = EpochRecord {
            epoch: self.epoch,
            train,
            validation: validation_metrics.clone(),
            learning_rate,
            step: self.step,
            seconds: started.elapsed().as_secs_f64(),
        };
        self.history.epochs.push(record.clone());
        self.history.best_epoch = Some(self.epoch);
        if let (Some(patience), Some(metrics)) = (self.config.early_stopping, &validation_metrics) {
            let improved = self
                .best
                .as_ref()
                .is_none_or(|(best, _)| metrics.loss < *best);
            if improved {
                self.best = Some((metrics.loss, network.clone()));
                self.epochs_without_improvement = 0;
            } else {
                self.epochs_without_improvement += 1;
            }
            let best_epoch = self.epoch - self.epochs_without_improvement;
            self.history.best_epoch = Some(best_epoch);
            if self.epochs_without_improvement >= patience {
                self.history.stopped_early = true;
            }
        }
        observer.on_epoch(&record);
        Ok(())
    }
}

/// Clips the gradients (when asked) and steps the optimiser over every parameter.
fn apply_step<T: Float>(
    network: &mut Network<T>,
    optimizer: &mut Optimizer<T>,
    gradient_clip: Option<f64>,
    names: &[String],
    learning_rate: f64,
) {
    if let Some(max_norm) = gradient_clip {
        let mut slots = network.parameter_slots();
        let mut gradients: Vec<&mut Matrix<T>> =
            slots.iter_mut().map(|(_, s)| &mut *s.gradient).collect();
        clip_by_global_norm(&mut gradients, max_norm);
    }
    optimizer.step(&mut network.parameter_refs(names), learning_rate);
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

/// A seeded split of row indices into (train, held out); stratified by class for classification.
fn split_rows<T: Float>(
    y: &Matrix<T>,
    fraction: f64,
    task: Task,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let mut rng = SeededRng::with_stream(seed, SPLIT_STREAM);
    let groups: Vec<Vec<usize>> = match task {
        Task::Classification => {
            let labels: Vec<usize> = if y.cols() == 1 {
                y.as_slice()
                    .iter()
                    .map(|&v| usize::from(v > T::from_f64(0.5)))
                    .collect()
            } else {
                y.argmax_rows()
            };
            let classes = labels.iter().copied().max().unwrap_or(0) + 1;
            let mut groups = vec![Vec::new(); classes];
            for (row, label) in labels.into_iter().enumerate() {
                groups[label].push(row);
            }
            groups.into_iter().filter(|g| !g.is_empty()).collect()
        }
        Task::Regression => vec![(0..y.rows()).collect()],
    };
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for mut group in groups {
        if group.len() < 2 {
            return Err(Error::Training(format!(
                "a class has only {} example(s): too few to hold some out for validation",
                group.len()
            )));
        }
        rng.shuffle(&mut group);
        let take = ((group.len() as f64 * fraction).round() as usize).clamp(1, group.len() - 1);
        held.extend_from_slice(&group[..take]);
        train.extend_from_slice(&group[take..]);
    }
    train.sort_unstable();
    held.sort_unstable();
    Ok((train, held))
}
