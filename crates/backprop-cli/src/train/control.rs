//! What the training loop hears besides progress: the epochs at which a checkpoint is due, a
//! signal asking it to stop, and divergences answered by restoring the last good state.
//!
//! [`Control`] wraps the progress reporter. It pauses training (between two batches, see
//! [`TrainingObserver::should_stop`]) when a checkpoint is due or a signal came; the caller
//! then writes the checkpoint and either goes on or exits.

use crate::distributed::Cluster;
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
    /// The other MPI ranks, which must stop at the same batch.
    cluster: Option<&'a Cluster>,
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
            cluster: None,
        }
    }

    /// Agrees on signals with the other ranks of `cluster`: a signal on any rank stops every
    /// rank at the same batch (an integer MPI_MAX over the signal numbers).
    pub fn with_cluster(mut self, cluster: &'a Cluster) -> Self {
        self.cluster = (cluster.ranks() > 1).then_some(cluster);
        self
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
        let due = std::mem::take(&mut self.due);
        let local = self.stop.signal();
        let Some(cluster) = self.cluster else {
            return local.is_some() || due;
        };
        let agreed = cluster.agree_max(local.map_or(0, |s| u64::try_from(s).unwrap_or(0)));
        if agreed > 0 && local.is_none() {
            self.stop.raise(i32::try_from(agreed).unwrap_or(15));
        }
        agreed > 0 || due
    }
}
