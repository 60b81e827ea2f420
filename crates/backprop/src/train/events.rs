//! Training events: what progress bars, logs and reports subscribe to.
//!
//! The loop calls [`TrainingObserver::on_batch`] after every optimisation step and
//! [`TrainingObserver::on_epoch`] after every epoch. An observer whose
//! [`TrainingObserver::wants_diagnostics`] says yes also gets
//! [`TrainingObserver::on_diagnostics`] after each epoch: per-layer ‖δˡ‖, ‖∂C/∂wˡ‖ and the
//! saturated share (see [`super::diagnostics`]). A closure `FnMut(&TrainingEvent)` is an
//! observer too (without diagnostics).

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
