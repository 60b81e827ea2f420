//! Training events: what progress bars, logs and reports subscribe to.
//!
//! The loop calls [`TrainingObserver::on_batch`] after every optimisation step and
//! [`TrainingObserver::on_epoch`] after every epoch. A closure `FnMut(&TrainingEvent)` is an
//! observer too.

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
}

/// Receives training events.
pub trait TrainingObserver {
    /// After every optimisation step.
    fn on_batch(&mut self, _event: &BatchEvent) {}
    /// After every epoch, with its metrics.
    fn on_epoch(&mut self, _record: &EpochRecord) {}
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
