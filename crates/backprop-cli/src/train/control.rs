//! What the training loop hears besides progress: the epochs at which a checkpoint is due, a
//! signal asking it to stop, and divergences answered by restoring the last good state.
//!
//! [`Control`] wraps the progress reporter. It pauses training (between two batches, see
//! [`TrainingObserver::should_stop`]) when a checkpoint is due or a signal came; the caller
//! then writes the checkpoint and either goes on or exits.

use crate::interrupt::StopRequest;
use crate::progress::EpochReporter;
use crate::report::{format_number, say};
use backprop::train::{BatchEvent, EpochDiagnostics, EpochRecord, RestoreEvent, TrainingObserver};

/// The progress reporter, plus checkpoint and signal pauses.
pub struct Control<'a> {
    /// Where progress goes.
    pub reporter: &'a mut EpochReporter,
    /// The signal flag.
    pub stop: &'a StopRequest,
    /// Pause for a checkpoint after every this many epochs.
    pub checkpoint_every: Option<usize>,
    /// The base learning rate, for messages.
    pub base_learning_rate: f64,
    /// A checkpoint is due at the next pause point.
    due: bool,
}

impl<'a> Control<'a> {
    /// A control around `reporter`.
    pub fn new(
        reporter: &'a mut EpochReporter,
        stop: &'a StopRequest,
        checkpoint_every: Option<usize>,
        base_learning_rate: f64,
    ) -> Self {
        Self {
            reporter,
            stop,
            checkpoint_every,
            base_learning_rate,
            due: false,
        }
    }
}

impl TrainingObserver for Control<'_> {
    fn on_batch(&mut self, event: &BatchEvent) {
        self.reporter.on_batch(event);
    }

    fn on_epoch(&mut self, record: &EpochRecord) {
        self.reporter.on_epoch(record);
        if self
            .checkpoint_every
            .is_some_and(|every| record.epoch % every == 0)
        {
            self.due = true;
        }
    }

    fn on_restore(&mut self, event: &RestoreEvent) {
        say(format_args!(
            "warning: the loss diverged at epoch {}, batch {} ({}): back to the state after \
             epoch {}{}, learning rate halved to {} (halving {} of {})",
            event.epoch,
            event.batch,
            format_number(event.loss),
            event.restored_epoch,
            if event.restored_batch > 0 {
                format!(" and {} batches", event.restored_batch)
            } else {
                String::new()
            },
            format_number(self.base_learning_rate * event.learning_rate_scale),
            event.halvings,
            event.max_halvings
        ));
    }

    fn wants_diagnostics(&self) -> bool {
        self.reporter.wants_diagnostics()
    }

    fn on_diagnostics(&mut self, diagnostics: &EpochDiagnostics) {
        self.reporter.on_diagnostics(diagnostics);
    }

    fn should_stop(&mut self) -> bool {
        self.stop.signal().is_some() || std::mem::take(&mut self.due)
    }
}
