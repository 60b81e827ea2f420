//! The record of a training run: one entry per epoch, and the per-layer diagnostics when they
//! were asked for.

use super::diagnostics::EpochDiagnostics;
use super::metrics::Metrics;
use serde::{Deserialize, Serialize};

/// What one epoch achieved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Training loss and metrics, accumulated over the epoch's batches before each step
    /// (as Keras reports them). The loss is the mean, over the epoch's examples, of the cost
    /// each step differentiated: the batch's data cost plus the L1/L2 penalty of the weights
    /// the step started from.
    pub train: Metrics,
    /// Validation loss and metrics after the epoch, when there is validation data.
    pub validation: Option<Metrics>,
    /// The learning rate of the epoch's last step.
    pub learning_rate: f64,
    /// Optimisation steps taken so far.
    pub step: u64,
    /// Wall-clock seconds the epoch took.
    pub seconds: f64,
}

/// All epochs of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// One record per epoch, in order.
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose weights the network holds at the end (the best one under early stopping).
    pub best_epoch: Option<usize>,
    /// True when early stopping ended the run before the last epoch.
    pub stopped_early: bool,
    /// Per-layer diagnostics, one entry per epoch, when the observer asked for them.
    pub diagnostics: Vec<EpochDiagnostics>,
}

impl History {
    /// The last epoch's record.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }
}
