//! The library's error type: everything that can go wrong because of what a user passed in.
//!
//! Shape mismatches inside a network that was built and validated are programming errors and
//! panic instead, naming the layer and the shapes.

use crate::model::ModelError;
use crate::optim::OptimError;

/// An error from building, training or using a network.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The network configuration is inconsistent (sizes, activations, cost).
    #[error("invalid network configuration: {0}")]
    Config(String),
    /// The training configuration is inconsistent.
    #[error("invalid training configuration: {0}")]
    Training(String),
    /// Data whose shape does not fit the network or each other.
    #[error("{context}: expected {expected}, found {found}")]
    Shape {
        /// What was being checked.
        context: String,
        /// What the network needed.
        expected: String,
        /// What was supplied.
        found: String,
    },
    /// The loss became NaN or infinite, or grew past the divergence bound.
    #[error("training diverged at epoch {epoch}, batch {batch}: the loss is {loss}; try a lower learning rate")]
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// The offending loss value.
        loss: f64,
    },
    /// A checkpoint's training state is missing, malformed or does not fit the run.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// An optimiser or schedule setting is invalid.
    #[error(transparent)]
    Optimizer(#[from] OptimError),
    /// A model file could not be read, checked or written.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
