//! The trainer: the state a run carries from step to step (optimiser, shuffle generator,
//! counters, history, early-stopping bookkeeping) and [`Trainer::fit`], which steps it to the
//! end. One step is in `epoch.rs`.

use super::epoch::{check_training_data, EpochData};
use super::events::{RestoreEvent, TrainingObserver};
use super::history::History;
use super::split::split_rows;
use super::state::{self, EpochProgress, SavedRng, TrainingState, TRAINING_STATE_VERSION};
use super::step::{FusedRuleStep, FusedSgdStep, PlainStep, ShardedStep};
use super::{DivergencePolicy, Sharding, TrainingConfig, Validation, SHUFFLE_STREAM};
use crate::network::Network;
use crate::optim::Optimizer;
use crate::{Error, Result};
use backprop_tensor::{Float, Matrix, SeededRng};

/// The part of a trainer that moves as training goes, and that divergence handling puts back.
#[derive(Clone)]
pub(super) struct Progress<T: Float> {
    pub(super) optimizer: Optimizer<T>,
    /// Before the permutation of the epoch in progress, if any.
    pub(super) shuffle_rng: SeededRng,
    pub(super) step: u64,
    /// Epochs complete.
    pub(super) epoch: usize,
    pub(super) history: History,
    pub(super) best: Option<(f64, Network<T>)>,
    pub(super) epochs_without_improvement: usize,
    pub(super) in_progress: Option<EpochProgress>,
    pub(super) learning_rate: f64,
    pub(super) reference_loss: Option<f64>,
}

/// Training state that persists between epochs: optimiser, shuffle generator, step count,
/// early-stopping bookkeeping, history, and the last good state kept against divergence.
pub struct Trainer<T: Float> {
    pub(super) config: TrainingConfig,
    pub(super) progress: Progress<T>,
    pub(super) learning_rate_scale: f64,
    pub(super) halvings: usize,
    /// The state (and weights) at the start of the current epoch, restored on divergence.
    pub(super) last_good: Option<Snapshot<T>>,
    /// The weights before the best ones were put back at the end of `fit` (what a checkpoint
    /// of a finished early-stopping run must hold to go on).
    pub(super) latest_weights: Option<Network<T>>,
    /// The permutation of the epoch in progress, once drawn.
    pub(super) order: Option<EpochOrder>,
    /// A batch size asked for during an epoch, taken up when the next one starts.
    pub(super) pending_batch_size: Option<usize>,
    /// The step strategies ([`super::step`]); `sharded` replaces the other two when set.
    pub(super) plain: PlainStep<T>,
    pub(super) fused: FusedSgdStep<T>,
    pub(super) fused_rule: FusedRuleStep<T>,
    pub(super) sharded: Option<ShardedStep<T>>,
    /// Whether the network's first layer may multiply only the non-zeros of mostly-zero
    /// batches ([`crate::sparse_input`]); on unless [`Trainer::set_sparse_input`] says not.
    pub(super) sparse_input: bool,
}

/// What divergence handling puts back: the progress and weights at an epoch's start. The
/// history is not copied (it grows every epoch, and copying it each time made a run quadratic
/// in its epochs); records only ever get appended, so putting it back is cutting it to the
/// lengths it had.
pub(super) struct Snapshot<T: Float> {
    /// The progress with an empty history.
    progress: Progress<T>,
    network: Network<T>,
    epochs: usize,
    diagnostics: usize,
    best_epoch: Option<usize>,
    stopped_early: bool,
}

impl<T: Float> Snapshot<T> {
    fn take(progress: &mut Progress<T>, network: &Network<T>) -> Self {
        let history = std::mem::take(&mut progress.history);
        let copy = progress.clone();
        progress.history = history;
        let history = &progress.history;
        Self {
            progress: copy,
            network: network.clone(),
            epochs: history.epochs.len(),
            diagnostics: history.diagnostics.len(),
            best_epoch: history.best_epoch,
            stopped_early: history.stopped_early,
        }
    }

    fn restore(self, progress: &mut Progress<T>, network: &mut Network<T>) {
        let mut history = std::mem::take(&mut progress.history);
        history.epochs.truncate(self.epochs);
        history.diagnostics.truncate(self.diagnostics);
        history.best_epoch = self.best_epoch;
        history.stopped_early = self.stopped_early;
        *progress = self.progress;
        progress.history = history;
        *network = self.network;
    }
}

/// The rows of one epoch in the order its batches take them, and the shuffle generator as it
/// stands after drawing them (the trainer's own moves there when the epoch is complete, so a
/// resume in the middle draws the same order).
#[derive(Clone, Debug)]
pub(super) struct EpochOrder {
    /// 1-based epoch.
    pub(super) epoch: usize,
    pub(super) rows: Vec<usize>,
    pub(super) shuffle_rng_after: SeededRng,
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
            order: None,
            pending_batch_size: None,
            plain: PlainStep::default(),
            fused: FusedSgdStep::default(),
            fused_rule: FusedRuleStep::default(),
            sharded: None,
            sparse_input: true,
        })
    }

    /// Computes every batch as S shards combined over a fixed tree ([`Sharding`]): the path
    /// data-parallel runs take, and the single process that they equal bit for bit.
    pub fn set_sharding(&mut self, sharding: Sharding<T>) {
        self.sharded = Some(ShardedStep::new(sharding));
    }

    /// Lets the network's first layer multiply only the non-zeros of mostly-zero batches (on by
    /// default; see [`crate::sparse_input`]), or makes every step multiply every input value.
    /// The two give the same results within rounding, not the same bits.
    pub fn set_sparse_input(&mut self, enabled: bool) {
        self.sparse_input = enabled;
    }

    /// The sharding, when set.
    pub fn sharding_mut(&mut self) -> Option<&mut Sharding<T>> {
        self.sharded.as_mut().map(|step| &mut step.sharding)
    }

    /// A copy that steps exactly as this trainer would, for trying a step on copies (of the
    /// network too) without touching the run. A sharded trainer's copy computes the same step
    /// in one process ([`Sharding::local`] with the same shard count), since a combiner's
    /// connections to other processes cannot be copied.
    pub fn fork(&self) -> Self {
        let sharded = self.sharded.as_ref().map(|step| {
            let shards = step.sharding.shards();
            ShardedStep::new(Sharding::local(shards).expect("the shard count was valid"))
        });
        Self {
            config: self.config.clone(),
            progress: self.progress.clone(),
            learning_rate_scale: self.learning_rate_scale,
            halvings: self.halvings,
            last_good: None,
            latest_weights: self.latest_weights.clone(),
            order: self.order.clone(),
            pending_batch_size: self.pending_batch_size,
            plain: self.plain.clone(),
            fused: self.fused.clone(),
            fused_rule: self.fused_rule.clone(),
            sharded,
            sparse_input: self.sparse_input,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TrainingConfig {
        &self.config
    }

    /// Sets the number of epochs to train in all (a resumed run may go further than planned;
    /// as many as are done already, or 0, ends the run).
    pub fn set_epochs(&mut self, epochs: usize) -> Result<()> {
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
        check_training_data(network, x, y, validation)?;
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
        let data = EpochData { x, y, validation };
        // The state that divergence handling puts back: taken where this call starts and at
        // the start of every epoch.
        let mut take_snapshot = true;
        while !self.is_finished() {
            if take_snapshot {
                self.last_good = Some(Snapshot::take(&mut self.progress, network));
            }
            match self.step_on(network, &data, observer) {
                Ok(report) => take_snapshot = report.epoch_record.is_some(),
                Err(Error::Diverged { epoch, batch, loss }) => {
                    self.recover(network, epoch, batch, loss, observer)?;
                    take_snapshot = true;
                    continue;
                }
                Err(other) => return Err(other),
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
        if let Some(snapshot) = self.last_good.take() {
            snapshot.restore(&mut self.progress, network);
        }
        self.order = None;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Silent;
    use crate::{Cost, Matrix, NetworkConfig, TrainingConfig};

    #[test]
    fn a_snapshot_holds_no_copy_of_the_history_and_restore_cuts_it_back() {
        let x = Matrix::from_fn(8, 2, |r, c| (r * 2 + c) as f64 / 16.0);
        let y = Matrix::from_fn(8, 1, |r, _| (r % 2) as f64);
        let mut network = NetworkConfig::new(&[2, 3, 1], Cost::MeanSquaredError)
            .init::<f64>()
            .unwrap();
        let config = TrainingConfig {
            epochs: 3,
            batch_size: 4,
            ..TrainingConfig::default()
        };
        let mut trainer = Trainer::new(config).unwrap();
        trainer
            .fit(&mut network, &x, &y, None, &mut Silent)
            .unwrap();
        assert_eq!(trainer.progress.history.epochs.len(), 3);
        let snapshot = Snapshot::take(&mut trainer.progress, &network);
        // The snapshot records lengths, not a second copy of every epoch record.
        assert!(snapshot.progress.history.epochs.is_empty());
        assert_eq!(trainer.progress.history.epochs.len(), 3);
        let best = trainer.progress.history.best_epoch;
        let extra = trainer.progress.history.epochs[2].clone();
        trainer.progress.history.epochs.push(extra);
        trainer.progress.history.stopped_early = true;
        trainer.progress.history.best_epoch = Some(4);
        snapshot.restore(&mut trainer.progress, &mut network);
        let history = &trainer.progress.history;
        assert_eq!(history.epochs.len(), 3);
        assert_eq!(history.best_epoch, best);
        assert!(!history.stopped_early);
    }
}
