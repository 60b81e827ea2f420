//! The training observer: per-epoch lines on stderr (thinned out to about 40 for long runs,
//! none with `-q`) and one JSON line per epoch in the `--log` file, flushed as training goes.

use crate::exit::CliError;
use crate::json::epoch_json;
use crate::report::{epoch_line, say};
use backprop::train::{EpochRecord, TrainingObserver};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// About this many epoch lines are printed, however many epochs run.
pub const TARGET_EPOCH_LINES: usize = 40;

/// Prints and logs epochs.
#[derive(Debug)]
pub struct EpochReporter {
    total_epochs: usize,
    print_every: usize,
    quiet: bool,
    log: Option<(PathBuf, BufWriter<File>)>,
    log_error: Option<CliError>,
}

/// Print every k-th epoch so that about [`TARGET_EPOCH_LINES`] lines appear.
pub fn print_interval(total_epochs: usize) -> usize {
    total_epochs.div_ceil(TARGET_EPOCH_LINES).max(1)
}

impl EpochReporter {
    /// A reporter for `total_epochs`; creates (truncates) the log file first.
    pub fn new(total_epochs: usize, quiet: bool, log: Option<&Path>) -> Result<Self, CliError> {
        let log = match log {
            Some(path) => {
                let file = File::create(path).map_err(|error| {
                    CliError::io(format!("cannot create log file {}", path.display()), error)
                })?;
                Some((path.to_path_buf(), BufWriter::new(file)))
            }
            None => None,
        };
        Ok(Self {
            total_epochs,
            print_every: print_interval(total_epochs),
            quiet,
            log,
            log_error: None,
        })
    }

    /// True when this epoch gets a line on stderr: the first, every k-th and the last.
    fn prints(&self, epoch: usize) -> bool {
        !self.quiet && (epoch == 1 || epoch % self.print_every == 0 || epoch == self.total_epochs)
    }

    /// Appends one JSON line and flushes it; remembers the first failure.
    fn log_epoch(&mut self, record: &EpochRecord) {
        if self.log_error.is_some() {
            return;
        }
        if let Some((path, writer)) = &mut self.log {
            let written = writeln!(writer, "{}", epoch_json(record)).and_then(|()| writer.flush());
            if let Err(error) = written {
                let context = format!("cannot write log file {}", path.display());
                self.log_error = Some(CliError::io(context, error));
            }
        }
    }

    /// Flushes the log; reports the first write failure.
    pub fn finish(mut self) -> Result<(), CliError> {
        if let Some(error) = self.log_error.take() {
            return Err(error);
        }
        if let Some((path, writer)) = &mut self.log {
            writer.flush().map_err(|error| {
                CliError::io(format!("cannot write log file {}", path.display()), error)
            })?;
        }
        Ok(())
    }
}

impl TrainingObserver for EpochReporter {
    fn on_epoch(&mut self, record: &EpochRecord) {
        self.log_epoch(record);
        if self.prints(record.epoch) {
            say(epoch_line(record, self.total_epochs));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_are_thinned_to_about_forty_lines() {
        assert_eq!(print_interval(20), 1);
        assert_eq!(print_interval(40), 1);
        assert_eq!(print_interval(1000), 25);
        assert_eq!(print_interval(2000), 50);
        let reporter = EpochReporter::new(1000, false, None).unwrap();
        let printed = (1..=1000).filter(|&epoch| reporter.prints(epoch)).count();
        assert_eq!(printed, 41);
        let quiet = EpochReporter::new(10, true, None).unwrap();
        assert!(!(1..=10).any(|epoch| quiet.prints(epoch)));
    }
}
