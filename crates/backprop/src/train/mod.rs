//! The training loop: epochs of mini-batches, each a forward pass, backprop, and an optimiser
//! step θ ← θ − η·u(∂C/∂θ).
//!
//! - Each epoch draws a seeded permutation of the training rows and cuts it into batches (the
//!   last one may be smaller).
//! - The learning rate comes from a [`LearningRateSchedule`] counted in optimisation steps.
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

pub mod checkpoint;
pub mod diagnostics;
mod divergence;
mod events;
mod history;
mod metrics;
pub mod sharded;
mod split;
mod state;

pub use diagnostics::{diagnose, EpochDiagnostics, LayerDiagnostics};
pub use divergence::{
    DivergencePolicy, DivergenceSettings, DEFAULT_LOSS_BOUND_FACTOR, DEFAULT_MAX_HALVINGS,
};
pub use events::{BatchEvent, RestoreEvent, Silent, TrainingEvent, TrainingObserver};
pub use history::{EpochRecord, History};
pub use metrics::{evaluate, MetricAccumulator, Metrics, Task};
pub use sharded::{ShardTimings, Sharding, DEFAULT_SHARDS};
pub use state::{EpochProgress, SavedRng, TrainingState, TRAINING_STATE_VERSION};

use split::split_rows;

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

/// The part of a trainer that moves as training goes, and that divergence handling puts back.
#[derive(Clone)]
struct Progress<T: Float> {
    optimizer: Optimizer<T>,
    /// Before the permutation of the epoch in progress, if any.
    shuffle_rng: SeededRng,
    step: u64,
    /// Epochs complete.
    epoch: usize,
    history: History,
    best: Option<(f64, Network<T>)>,
    epochs_without_improvement: usize,
    in_progress: Option<EpochProgress>,
    learning_rate: f64,
    reference_loss: Option<f64>,
}

/// Training state that persists between epochs: optimiser, shuffle generator, step count,
/// early-stopping bookkeeping, history, and the last good state kept against divergence.
pub struct Trainer<T: Float> {
    config: TrainingConfig,
    progress: Progress<T>,
    learning_rate_scale: f64,
    halvings: usize,
    /// The state (and weights) at the start of the current epoch, restored on divergence.
    last_good: Option<(Progress<T>, Network<T>)>,
    /// The weights before the best ones were put back at the end of `fit` (what a checkpoint
    /// of a finished early-stopping run must hold to go on).
    latest_weights: Option<Network<T>>,
    /// The targets of the current batch, gathered into one buffer reused from batch to batch.
    targets: Matrix<T>,
    /// Sharded gradients (data-parallel or its single-process twin); `None` is the plain path.
    sharding: Option<Sharding<T>>,
}

impl<T: Float> Trainer<T> {
    /// A trainer at epoch 0.
    pub fn new(config: TrainingConfig) -> Result<Self> {
        config.validate()?;
        let optimizer = Optimizer::new(config.optimizer.clone())?;
        let shuffle_rng = SeededRng::with_stream(config.seed, SHUFFLE_STREAM);
        let learning_rate = config.optimizer.learning_rate();
        Ok(Self {
            progress: Progress {
                optimizer,
                shuffle_rng,
                step: 0,
                epoch: 0,
                history: History::default(),
                best: None,
                epochs_without_improvement: 0,
                in_progress: None,
                learning_rate,
                reference_loss: None,
            },
            config,
            learning_rate_scale: 1.0,
            halvings: 0,
            last_good: None,
            latest_weights: None,
            targets: Matrix::zeros(0, 0),
            sharding: None,
        })
    }

    /// Computes every batch as S shards combined over a fixed tree ([`Sharding`]): the path
    /// data-parallel runs take, and the single process that they equal bit for bit.
    pub fn set_sharding(&mut self, sharding: Sharding<T>) {
        self.sharding = Some(sharding);
    }

    /// The sharding, when set.
    pub fn sharding_mut(&mut self) -> Option<&mut Sharding<T>> {
        self.sharding.as_mut()
    }

    /// The configuration.
    pub fn config(&self) -> &TrainingConfig {
        &self.config
    }

    /// Sets the number of epochs to train in all (a resumed run may go further than planned).
    pub fn set_epochs(&mut self, epochs: usize) -> Result<()> {
        if epochs == 0 {
            return Err(Error::Training("epochs must be at least 1".into()));
        }
        self.config.epochs = epochs;
        Ok(())
    }

    /// The optimiser (its state belongs in a checkpoint).
    pub fn optimizer(&self) -> &Optimizer<T> {
        &self.progress.optimizer
    }

    /// Optimisation steps taken.
    pub fn steps_taken(&self) -> u64 {
        self.progress.step
    }

    /// Epochs complete.
    pub fn epochs_done(&self) -> usize {
        self.progress.epoch
    }

    /// The history so far.
    pub fn history(&self) -> &History {
        &self.progress.history
    }

    /// True when every configured epoch ran, or early stopping ended the run; false when an
    /// observer paused it ([`TrainingObserver::should_stop`]).
    pub fn is_finished(&self) -> bool {
        self.progress.in_progress.is_none()
            && (self.progress.epoch >= self.config.epochs || self.progress.history.stopped_early)
    }

    /// The factor divergence halvings left on the scheduled learning rate (1 without any).
    pub fn learning_rate_scale(&self) -> f64 {
        self.learning_rate_scale
    }

    /// Where the run stands, as a checkpoint stores it; `network` is the network being
    /// trained (for its dropout generators).
    pub fn state(&self, network: &Network<T>) -> TrainingState {
        let progress = &self.progress;
        TrainingState {
            version: TRAINING_STATE_VERSION,
            epoch: progress.epoch,
            step: progress.step,
            shuffle_rng: SavedRng::of(&progress.shuffle_rng),
            epoch_in_progress: progress.in_progress.clone(),
            epochs_without_improvement: progress.epochs_without_improvement,
            best_loss: progress.best.as_ref().map(|(loss, _)| *loss),
            learning_rate: progress.learning_rate,
            learning_rate_scale: self.learning_rate_scale,
            halvings: self.halvings,
            reference_loss: progress.reference_loss,
            history: progress.history.clone(),
            dropout_rngs: state::dropout_rngs(self.latest_weights.as_ref().unwrap_or(network)),
            optimizer_steps: progress.optimizer.state_scalars(),
        }
    }

    /// The weights a checkpoint must hold to go on: `network` itself, except after a finished
    /// `fit` that put the best (early-stopping) weights back, where it is the latest weights.
    pub fn weights_to_continue<'a>(&'a self, network: &'a Network<T>) -> &'a Network<T> {
        self.latest_weights.as_ref().unwrap_or(network)
    }

    /// The best weights so far under early stopping (a checkpoint saves them too).
    pub fn best_weights(&self) -> Option<&Network<T>> {
        self.progress.best.as_ref().map(|(_, network)| network)
    }

    /// A trainer that goes on from a saved [`TrainingState`]: `network` holds the saved
    /// weights (its dropout generators are set from the state here), `optimizer` the restored
    /// optimiser, and `best` the saved best weights when the state has a best loss.
    pub fn resume(
        config: TrainingConfig,
        state: TrainingState,
        optimizer: Optimizer<T>,
        network: &mut Network<T>,
        best: Option<Network<T>>,
    ) -> Result<Self> {
        if state.version != TRAINING_STATE_VERSION {
            return Err(Error::Checkpoint(format!(
                "training state version {} (this build reads version {TRAINING_STATE_VERSION})",
                state.version
            )));
        }
        let mut trainer = Self::new(config)?;
        if optimizer.config() != &trainer.config.optimizer {
            return Err(Error::Checkpoint(
                "the saved optimiser state belongs to another optimiser configuration".into(),
            ));
        }
        if state.history.epochs.len() != state.epoch {
            return Err(Error::Checkpoint(format!(
                "the training state: {} epoch(s) complete but {} in the history",
                state.epoch,
                state.history.epochs.len()
            )));
        }
        if !(state.learning_rate_scale > 0.0 && state.learning_rate_scale <= 1.0) {
            return Err(Error::Checkpoint(format!(
                "the training state: learning-rate scale {} is outside (0, 1]",
                state.learning_rate_scale
            )));
        }
        state::restore_dropout_rngs(network, &state.dropout_rngs)?;
        let best = match (state.best_loss, best) {
            (Some(loss), Some(weights)) => Some((loss, weights)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(Error::Checkpoint(
                    "the training state: a best loss without best weights".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(Error::Checkpoint(
                    "the training state: best weights without a best loss".into(),
                ))
            }
        };
        trainer.progress = Progress {
            optimizer,
            shuffle_rng: SeededRng::from_state(state.shuffle_rng.to_state()?),
            step: state.step,
            epoch: state.epoch,
            history: state.history,
            best,
            epochs_without_improvement: state.epochs_without_improvement,
            in_progress: state.epoch_in_progress,
            learning_rate: state.learning_rate,
            reference_loss: state.reference_loss,
        };
        trainer.learning_rate_scale = state.learning_rate_scale;
        trainer.halvings = state.halvings;
        Ok(trainer)
    }

    /// Trains `network` on (`x`, `y`), one example per row, until the configured epochs are
    /// done, early stopping ends the run, or the observer pauses it.
    ///
    /// `validation` is a separate validation set; without one, `config.validation` may carve
    /// one out of the training data. Returns the history; when the run finishes under early
    /// stopping the network holds the best weights. A paused run goes on with another `fit`
    /// on the same data. Divergence is handled as `config.divergence` says.
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
        if let Some(latest) = self.latest_weights.take() {
            // A finished run extended by `set_epochs`: go on from the latest weights.
            network.copy_parameters_from(&latest);
        }
        let diagnostic_batch = observer
            .wants_diagnostics()
            .then(|| diagnostics::diagnostic_batch(x, y));
        while !self.is_finished() {
            self.last_good = Some((self.progress.clone(), network.clone()));
            match self.run_epoch(network, x, y, validation, task, observer) {
                Ok(true) => {}
                Ok(false) => return Ok(self.progress.history.clone()),
                Err(Error::Diverged { epoch, batch, loss }) => {
                    self.recover(network, epoch, batch, loss, observer)?;
                    continue;
                }
                Err(other) => return Err(other),
            }
            if let Some((dx, dy)) = &diagnostic_batch {
                let figures = diagnose(network, dx, dy, self.progress.epoch);
                observer.on_diagnostics(&figures);
                self.progress.history.diagnostics.push(figures);
            }
            if !self.is_finished() && observer.should_stop() {
                return Ok(self.progress.history.clone());
            }
        }
        if let Some((_, best)) = &self.progress.best {
            self.latest_weights = Some(network.clone());
            network.copy_parameters_from(best);
        }
        Ok(self.progress.history.clone())
    }

    /// Answers a divergence: puts the last good state back, then either halves the learning
    /// rate (returning `Ok`, to go on) or returns the divergence error.
    fn recover(
        &mut self,
        network: &mut Network<T>,
        epoch: usize,
        batch: usize,
        loss: f64,
        observer: &mut dyn TrainingObserver,
    ) -> Result<()> {
        if let Some((progress, weights)) = self.last_good.take() {
            self.progress = progress;
            *network = weights;
        }
        let error = Error::Diverged { epoch, batch, loss };
        match self.config.divergence.policy {
            DivergencePolicy::RestoreAndHalve { max_halvings } if self.halvings < max_halvings => {
                self.halvings += 1;
                self.learning_rate_scale *= 0.5;
                observer.on_restore(&RestoreEvent {
                    epoch,
                    batch,
                    loss,
                    restored_epoch: self.progress.epoch,
                    restored_batch: self
                        .progress
                        .in_progress
                        .as_ref()
                        .map_or(0, |p| p.batches_done),
                    learning_rate_scale: self.learning_rate_scale,
                    halvings: self.halvings,
                    max_halvings,
                });
                Ok(())
            }
            _ => Err(error),
        }
    }

    /// Runs the epoch in progress (from its first batch not yet done) to its end; returns
    /// false when the observer paused it between two batches.
    fn run_epoch(
        &mut self,
        network: &mut Network<T>,
        x: &Matrix<T>,
        y: &Matrix<T>,
        validation: Option<(&Matrix<T>, &Matrix<T>)>,
        task: Task,
        observer: &mut dyn TrainingObserver,
    ) -> Result<bool> {
        let started = Instant::now();
        let epoch = self.progress.epoch + 1;
        let n = x.rows();
        // Drawn from a copy: the saved generator stays before this permutation until the
        // epoch is complete, so a resume in its middle draws the same order.
        let mut shuffle_rng = self.progress.shuffle_rng.clone();
        let order = if self.config.shuffle {
            shuffle_rng.permutation(n)
        } else {
            (0..n).collect()
        };
        let batches: Vec<&[usize]> = order.chunks(self.config.batch_size).collect();
        let resumed = self.progress.in_progress.take();
        if let Some(resumed) = &resumed {
            if resumed.batches_done >= batches.len() {
                return Err(Error::Checkpoint(format!(
                    "the training state has {} batches of epoch {epoch} done, but it has {}",
                    resumed.batches_done,
                    batches.len()
                )));
            }
        }
        let (first_batch, mut accumulator, earlier_seconds) = resumed.map_or_else(
            || (0, MetricAccumulator::new(), 0.0),
            |p| (p.batches_done, p.accumulator, p.seconds),
        );
        let base_rate = self.config.optimizer.learning_rate();
        let scale = self.learning_rate_scale;
        // Computed once: an optimiser step then formats no parameter names.
        let names: Vec<String> = network.parameters().into_iter().map(|(n, _)| n).collect();
        // Plain SGD without clipping or an L1 term: the step goes inside the backward pass.
        let fused = self.sharding.is_none()
            && self.progress.optimizer.is_plain_sgd()
            && self.config.gradient_clip.is_none()
            && network.can_fuse_descent();
        for (b, rows) in batches.iter().enumerate().skip(first_batch) {
            let parallel = network.uses_threads(rows.len(), true);
            let next = batches.get(b + 1).copied().unwrap_or(&[]);
            let step = self.progress.step;
            let (config, targets) = (&self.config, &mut self.targets);
            let (optimizer, reference) =
                (&mut self.progress.optimizer, self.progress.reference_loss);
            let outcome = if let Some(sharding) = self.sharding.as_mut() {
                // Shards, then one step on the combined gradient, the same on every rank.
                let learning_rate = config.schedule.learning_rate_at(base_rate, step) * scale;
                let (loss, _) = sharding.step(network, (x, y), rows, targets, &mut accumulator);
                if config.divergence.diverged(loss, reference) {
                    Err(loss)
                } else {
                    apply_step(
                        network,
                        optimizer,
                        config.gradient_clip,
                        &names,
                        learning_rate,
                    );
                    Ok((loss, learning_rate))
                }
            } else {
                // The whole step on one pool thread: one hand-over to rayon per batch, not one per
                // product (see `propagation.rs`).
                on_pool_thread(parallel, || {
                    network.load_batch(x, rows);
                    targets.gather_rows(y, rows);
                    // The next batch's rows travel from memory while this one computes.
                    x.prefetch_rows(next);
                    y.prefetch_rows(next);
                    let learning_rate = config.schedule.learning_rate_at(base_rate, step) * scale;
                    // A fused step has already moved the weights when a finite loss past the
                    // divergence bound is seen; the epoch's snapshot restores them either way.
                    let (loss, penalty) = if fused {
                        network.descend_loaded(targets, learning_rate)
                    } else {
                        network.compute_gradients_loaded(targets)
                    };
                    if config.divergence.diverged(loss, reference) {
                        return Err(loss);
                    }
                    let output = network.layers.last().and_then(|l| l.as_dense());
                    if let Some(cache) = output.and_then(|d| d.cache()) {
                        accumulator.add(&cache.a, targets, loss - penalty);
                    }
                    if fused {
                        optimizer.record_fused_step(&names);
                    } else {
                        apply_step(
                            network,
                            optimizer,
                            config.gradient_clip,
                            &names,
                            learning_rate,
                        );
                    }
                    Ok((loss, learning_rate))
                })
            };
            let (loss, learning_rate) = outcome.map_err(|loss| Error::Diverged {
                epoch,
                batch: b + 1,
                loss,
            })?;
            self.progress.learning_rate = learning_rate;
            self.progress.reference_loss.get_or_insert(loss);
            self.progress.step += 1;
            observer.on_batch(&BatchEvent {
                epoch,
                batch: b + 1,
                batches: batches.len(),
                step: self.progress.step,
                loss,
                learning_rate,
            });
            if b + 1 < batches.len() && observer.should_stop() {
                self.progress.in_progress = Some(EpochProgress {
                    batches_done: b + 1,
                    accumulator,
                    seconds: earlier_seconds + started.elapsed().as_secs_f64(),
                });
                return Ok(false);
            }
        }
        // A last step can overflow the weights without any loss having seen it: the next
        // forward pass would give NaN, so that is the loss reported.
        let overflowed = network
            .parameters()
            .iter()
            .any(|(_, m)| m.as_slice().iter().any(|v| !v.is_finite()));
        if overflowed {
            return Err(Error::Diverged {
                epoch,
                batch: batches.len(),
                loss: f64::NAN,
            });
        }
        let train = accumulator.finish(task, network.penalty());
        let validation_metrics = validation.map(|(vx, vy)| match self.sharding.as_mut() {
            Some(sharding) => sharding.evaluate(network, vx, vy, task),
            None => evaluate(network, vx, vy, task),
        });
        if let Some(metrics) = &validation_metrics {
            if !metrics.loss.is_finite() {
                return Err(Error::Diverged {
                    epoch,
                    batch: batches.len(),
                    loss: metrics.loss,
                });
            }
        }
        self.progress.shuffle_rng = shuffle_rng;
        self.progress.epoch = epoch;
        let record = EpochRecord {
            epoch,
            train,
            validation: validation_metrics.clone(),
            learning_rate: self.progress.learning_rate,
            step: self.progress.step,
            seconds: earlier_seconds + started.elapsed().as_secs_f64(),
        };
        let progress = &mut self.progress;
        progress.history.epochs.push(record.clone());
        progress.history.best_epoch = Some(epoch);
        if let (Some(patience), Some(metrics)) = (self.config.early_stopping, &validation_metrics) {
            let improved = progress
                .best
                .as_ref()
                .is_none_or(|(best, _)| metrics.loss < *best);
            if improved {
                progress.best = Some((metrics.loss, network.clone()));
                progress.epochs_without_improvement = 0;
            } else {
                progress.epochs_without_improvement += 1;
            }
            let best_epoch = epoch - progress.epochs_without_improvement;
            progress.history.best_epoch = Some(best_epoch);
            if progress.epochs_without_improvement >= patience {
                progress.history.stopped_early = true;
            }
        }
        observer.on_epoch(&record);
        Ok(true)
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
