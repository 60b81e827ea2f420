//! Training events: what progress bars, logs and reports subscribe to.
//!
//! The loop calls [`TrainingObserver::on_batch`] after every optimisation step and
//! [`TrainingObserver::on_epoch`] after every epoch. A closure `FnMut(&TrainingEvent)` is an
//! observer too (without diagnostics).
//!
//! An observer whose [`TrainingObserver::wants_diagnostics`] says yes also gets
//! [`TrainingObserver::on_diagnostics`] after each epoch: per-layer ‖δˡ‖, ‖∂C/∂wˡ‖ and the
//! saturated share (see [`super::diagnostics`]).
//!
//! An observer can also pause training: [`TrainingObserver::should_stop`] is asked after every
//! batch and after every epoch; when it says yes, [`Trainer::fit`](super::Trainer::fit)
//! returns at once, between two batches, and a later `fit` (or a checkpoint's resume) goes on
//! from there as if nothing had happened.

use super::diagnostics::EpochDiagnostics;
use super::history::EpochRecord;

/// One optimisation step finished.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchEvent {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based batch within the epoch.
    pub batch: usize,
    /// Batches in this epoch.
    pub batches: usize,
    /// Optimisation steps taken so far, this one included.
    pub step: u64,
    /// The batch's cost before the step.
    pub loss: f64,
    /// The learning rate the step used.
    pub learning_rate: f64,
}

/// Training diverged and went back to its last good state with a lower learning rate
/// ([`DivergencePolicy::RestoreAndHalve`](super::DivergencePolicy::RestoreAndHalve)).
#[derive(Clone, Debug, PartialEq)]
pub struct RestoreEvent {
    /// 1-based epoch of the batch whose loss diverged.
    pub epoch: usize,
    /// 1-based batch within that epoch.
    pub batch: usize,
    /// The loss that was refused (not finite, or past the bound).
    pub loss: f64,
    /// Epochs complete in the restored state.
    pub restored_epoch: usize,
    /// Batches of the next epoch done in the restored state.
    pub restored_batch: usize,
    /// The factor now applied to the scheduled learning rate (1/2, 1/4, …).
    pub learning_rate_scale: f64,
    /// Halvings so far, this one included.
    pub halvings: usize,
    /// The most halvings allowed.
    pub max_halvings: usize,
}

/// Something that happened during training.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainingEvent<'a> {
    /// A batch was processed.
    Batch(&'a BatchEvent),
    /// An epoch ended.
    Epoch(&'a EpochRecord),
    /// An epoch's per-layer diagnostics are ready.
    Diagnostics(&'a EpochDiagnostics),
}

/// Receives training events.
pub trait TrainingObserver {
    /// After every optimisation step.
    fn on_batch(&mut self, _event: &BatchEvent) {}
    /// After every epoch, with its metrics.
    fn on_epoch(&mut self, _record: &EpochRecord) {}
    /// After a divergence that was answered by restoring the last good state.
    fn on_restore(&mut self, _event: &RestoreEvent) {}
    /// Asked after every batch and every epoch: true pauses training there ([`Trainer::fit`]
    /// returns and [`Trainer::is_finished`] is false).
    ///
    /// [`Trainer::fit`]: super::Trainer::fit
    /// [`Trainer::is_finished`]: super::Trainer::is_finished
    fn should_stop(&mut self) -> bool {
        false
    }
    /// True when the trainer should compute per-layer diagnostics after each epoch (one extra
    /// forward and backward pass over a fixed batch); they then also go into the history.
    fn wants_diagnostics(&self) -> bool {
        false
    }
    /// After every epoch's [`TrainingObserver::on_epoch`], when diagnostics are wanted.
    fn on_diagnostics(&mut self, _diagnostics: &EpochDiagnostics) {}
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl TrainingObserver for Silent {}

impl<F: FnMut(&TrainingEvent<'_>)> TrainingObserver for F {
    fn on_batch(&mut self, event: &BatchEvent) {
        self(&TrainingEvent::Batch(event));
    }

    fn on_epoch(&mut self, record: &EpochRecord) {
        self(&TrainingEvent::Epoch(record));
    }
}
