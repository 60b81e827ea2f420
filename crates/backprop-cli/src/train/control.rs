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
    /// Batches since the ranks last agreed on the stop flag; `None` right after an epoch.
    batches_since_agreement: Option<usize>,
}

/// Under MPI, the ranks agree on the stop flag after every this many batches and after every
/// epoch: each agreement is a collective (a synchronisation point), and a signal can wait a
/// few batches. Every rank counts the same batches, so all stop after the same one.
const AGREE_EVERY_BATCHES: usize = 16;

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
            batches_since_agreement: Some(0),
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
        self.batches_since_agreement = self.batches_since_agreement.map(|n| n + 1);
    }

    fn on_epoch(&mut self, record: &EpochRecord) {
        self.reporter.on_epoch(record);
        self.batches_since_agreement = None;
        if self
            .checkpoint_every
            .is_some_and(|every| record.epoch.is_multiple_of(every))
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
        // `due` is set after an epoch on every rank alike; a signal waits for an agreement.
        match self.batches_since_agreement {
            Some(batches) if batches < AGREE_EVERY_BATCHES => return due,
            _ => self.batches_since_agreement = Some(0),
        }
        let agreed = cluster.agree_max(local.map_or(0, |s| u64::try_from(s).unwrap_or(0)));
        if agreed > 0 && local.is_none() {
            self.stop.raise(i32::try_from(agreed).unwrap_or(15));
        }
        agreed > 0 || due
    }
}
