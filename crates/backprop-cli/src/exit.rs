//! The command line's error type and its exit codes.
//!
//! - 1: a failure while running (training diverged, a file could not be written);
//! - 2: bad usage or bad input (unknown names, invalid settings, data that cannot be used);
//! - 130 or 143: training stopped by SIGINT or SIGTERM, with a checkpoint written (128 + the
//!   signal's number, as shells report it).
//!
//! Clap's own parse errors also exit with 2, before any of this runs.

use backprop::Error as ModelError;
use backprop_data::tabular::TabularError;
use backprop_data::DataError;
use std::fmt;

/// Exit status for a failure while running.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for bad usage or bad input.
pub const EXIT_USAGE: u8 = 2;

/// Why a command failed; the variant decides the exit code.
#[derive(Debug)]
pub enum CliError {
    /// Bad usage or bad input (exit 2).
    Usage(String),
    /// A failure while running, such as divergence or I/O (exit 1).
    Runtime(String),
    /// Stopped by a signal after writing a checkpoint (exit 128 + the signal's number).
    Interrupted {
        /// The signal's number (2 for SIGINT, 15 for SIGTERM).
        signal: i32,
        /// What was done and how to go on.
        message: String,
    },
}

impl CliError {
    /// A bad-usage error with this message.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    /// An I/O failure, naming what was being done.
    pub fn io(context: impl fmt::Display, error: std::io::Error) -> Self {
        Self::Runtime(format!("{context}: {error}"))
    }

    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => EXIT_USAGE,
            Self::Runtime(_) => EXIT_FAILURE,
            Self::Interrupted { signal, .. } => u8::try_from(128 + signal).unwrap_or(EXIT_FAILURE),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) | Self::Runtime(message) | Self::Interrupted { message, .. } => {
                formatter.write_str(message)
            }
        }
    }
}

impl std::error::Error for CliError {}

impl From<ModelError> for CliError {
    /// Divergence is a failure while running; every other library error comes from the
    /// settings or the data the user gave.
    fn from(error: ModelError) -> Self {
        match error {
            ModelError::Diverged { epoch, batch, loss } => Self::Runtime(format!(
                "training diverged at epoch {epoch}, batch {batch}: the loss became {loss}; \
                 try a lower --learning-rate (or clip gradients with --clip)"
            )),
            other => Self::Usage(other.to_string()),
        }
    }
}

impl From<backprop::optim::OptimError> for CliError {
    fn from(error: backprop::optim::OptimError) -> Self {
        Self::Usage(error.to_string())
    }
}

impl From<DataError> for CliError {
    /// Data errors are bad input, except a damaged embedded file, which is a broken build.
    fn from(error: DataError) -> Self {
        match error {
            DataError::EmbeddedData { .. } => Self::Runtime(error.to_string()),
            other => Self::Usage(other.to_string()),
        }
    }
}

impl From<TabularError> for CliError {
    /// The input's faults (a missing file among them) are bad input; an existing input that
    /// cannot be opened or read is a failure while running.
    fn from(error: TabularError) -> Self {
        match error {
            TabularError::Data(error) => Self::from(error),
            error if error.is_bad_input() => Self::Usage(error.to_string()),
            error => Self::Runtime(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergence_exits_one_and_settings_exit_two() {
        let diverged = CliError::from(ModelError::Diverged {
            epoch: 3,
            batch: 7,
            loss: f64::NAN,
        });
        assert_eq!(diverged.exit_code(), EXIT_FAILURE);
        let text = diverged.to_string();
        assert!(
            text.contains("epoch 3") && text.contains("batch 7"),
            "{text}"
        );
        assert!(text.contains("learning-rate"), "{text}");
        let config = CliError::from(ModelError::Config("bad".into()));
        assert_eq!(config.exit_code(), EXIT_USAGE);
        let data = CliError::from(DataError::InvalidFraction {
            purpose: "test",
            fraction: 1.5,
        });
        assert_eq!(data.exit_code(), EXIT_USAGE);
    }
}
