//! The training observer: on a terminal (and without `-q`), a progress bar over all the
//! optimisation steps showing the epoch, loss and accuracy; otherwise plain per-epoch lines on
//! stderr (thinned out to about 40 for long runs, none with `-q`). The same thinned epoch lines
//! are printed above the bar on a terminal. One JSON line per epoch goes to the `--log` file,
//! flushed as training goes, with the epoch's per-layer diagnostics under `layers`. The reporter asks the trainer for per-layer diagnostics every
//! epoch (they go into the model file's history), and with `--diagnostics` prints them, one
//! line per epoch.

use crate::exit::CliError;
use crate::json::epoch_json;
use crate::report::{epoch_line, format_number, format_percent, say};
use backprop::train::{BatchEvent, EpochDiagnostics, EpochRecord, TrainingObserver};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// About this many epoch lines are printed, however many epochs run.
pub const TARGET_EPOCH_LINES: usize = 40;

/// The bar's layout; plain text, so `NO_COLOR` needs nothing more.
const BAR_TEMPLATE: &str = "{prefix} [{bar:30}] {percent:>3}% {elapsed_precise} eta {eta} {msg}";

/// Prints, draws and logs epochs.
#[derive(Debug)]
pub struct EpochReporter {
    total_epochs: usize,
    print_every: usize,
    quiet: bool,
    bar: Option<ProgressBar>,
    log: Option<(PathBuf, BufWriter<File>)>,
    log_error: Option<CliError>,
    print_diagnostics: bool,
    /// The last epoch, waiting for its diagnostics before it is logged.
    pending_log: Option<EpochRecord>,
}

/// Print every k-th epoch so that about [`TARGET_EPOCH_LINES`] lines appear.
pub fn print_interval(total_epochs: usize) -> usize {
    total_epochs.div_ceil(TARGET_EPOCH_LINES).max(1)
}

impl EpochReporter {
    /// A reporter for `total_epochs` of `batches_per_epoch` steps; creates (truncates) the log
    /// file first. The bar is drawn only when stderr is a terminal and `quiet` is off.
    pub fn new(
        total_epochs: usize,
        batches_per_epoch: usize,
        quiet: bool,
        log: Option<&Path>,
    ) -> Result<Self, CliError> {
        let log = match log {
            Some(path) => {
                let file = File::create(path).map_err(|error| {
                    CliError::io(format!("cannot create log file {}", path.display()), error)
                })?;
                Some((path.to_path_buf(), BufWriter::new(file)))
            }
            None => None,
        };
        let steps = (total_epochs as u64).saturating_mul(batches_per_epoch as u64);
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| progress_bar(steps));
        Ok(Self {
            total_epochs,
            print_every: print_interval(total_epochs),
            quiet,
            bar,
            log,
            log_error: None,
            print_diagnostics: false,
            pending_log: None,
        })
    }

    /// Prints every epoch's per-layer diagnostics (`--diagnostics`), even with `-q`.
    pub fn with_diagnostics(mut self, print: bool) -> Self {
        self.print_diagnostics = print;
        self
    }

    /// True when this epoch gets a line on stderr: the first, every k-th and the last.
    fn prints(&self, epoch: usize) -> bool {
        !self.quiet
            && (epoch == 1 || epoch.is_multiple_of(self.print_every) || epoch == self.total_epochs)
    }

    /// Appends one JSON line (with the epoch's per-layer diagnostics under `layers`, when
    /// given) and flushes it; remembers the first failure.
    fn log_epoch(&mut self, record: &EpochRecord, diagnostics: Option<&EpochDiagnostics>) {
        if self.log_error.is_some() {
            return;
        }
        if let Some((path, writer)) = &mut self.log {
            let mut line = epoch_json(record);
            if let (Some(object), Some(diagnostics)) = (line.as_object_mut(), diagnostics) {
                object.insert("layers".into(), serde_json::json!(diagnostics.layers));
            }
            let written = writeln!(writer, "{line}").and_then(|()| writer.flush());
            if let Err(error) = written {
                let context = format!("cannot write log file {}", path.display());
                self.log_error = Some(CliError::io(context, error));
            }
        }
    }

    /// Clears the bar and flushes the log; reports the first write failure.
    pub fn finish(mut self) -> Result<(), CliError> {
        // An epoch whose diagnostics never came (training stopped in between) is logged as is.
        if let Some(record) = self.pending_log.take() {
            self.log_epoch(&record, None);
        }
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
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

/// A bar over `steps` optimisation steps, drawn on stderr.
fn progress_bar(steps: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(BAR_TEMPLATE) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

impl TrainingObserver for EpochReporter {
    fn on_batch(&mut self, event: &BatchEvent) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(format!("epoch {}/{}", event.epoch, self.total_epochs));
            bar.inc(1);
        }
    }

    fn on_epoch(&mut self, record: &EpochRecord) {
        // Logged when its diagnostics arrive, right after this event.
        if let Some(previous) = self.pending_log.replace(record.clone()) {
            self.log_epoch(&previous, None);
        }
        let line = self
            .prints(record.epoch)
            .then(|| epoch_line(record, self.total_epochs));
        match (&self.bar, line) {
            (Some(bar), line) => {
                let mut message = format!("loss {}", format_number(record.train.loss));
                if let Some(accuracy) = record.train.accuracy {
                    message.push_str(&format!("  accuracy {}", format_percent(accuracy)));
                }
                if let Some(r2) = record.train.r2 {
                    message.push_str(&format!("  r2 {r2:.4}"));
                }
                bar.set_message(message);
                if let Some(line) = line {
                    bar.println(line);
                }
            }
            (None, Some(line)) => say(line),
            (None, None) => {}
        }
    }

    fn wants_diagnostics(&self) -> bool {
        true
    }

    fn on_diagnostics(&mut self, diagnostics: &EpochDiagnostics) {
        if let Some(record) = self.pending_log.take() {
            self.log_epoch(&record, Some(diagnostics));
        }
        if !self.print_diagnostics {
            return;
        }
        let line = diagnostics_line(diagnostics);
        match &self.bar {
            Some(bar) => bar.println(line),
            None => say(line),
        }
    }
}

/// One epoch's diagnostics in one line:
/// `epoch 3 layers: 1 ‖δ‖ 1.23e-2 ‖∂C/∂w‖ 4.56e-2 saturated 12.5% | 2 ‖δ‖ …`.
pub fn diagnostics_line(diagnostics: &EpochDiagnostics) -> String {
    let layers: Vec<String> = diagnostics
        .layers
        .iter()
        .map(|layer| {
            let mut text = format!(
                "{} ‖δ‖ {:.3e} ‖∂C/∂w‖ {:.3e}",
                layer.layer, layer.delta_norm, layer.weight_gradient_norm
            );
            if let Some(share) = layer.saturated {
                text.push_str(&format!(" saturated {}", format_percent(share)));
            }
            text
        })
        .collect();
    format!("epoch {} layers: {}", diagnostics.epoch, layers.join(" | "))
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
        let reporter = EpochReporter::new(1000, 1, false, None).unwrap();
        let printed = (1..=1000).filter(|&epoch| reporter.prints(epoch)).count();
        assert_eq!(printed, 41);
        let quiet = EpochReporter::new(10, 1, true, None).unwrap();
        assert!(!(1..=10).any(|epoch| quiet.prints(epoch)));
        assert!(quiet.bar.is_none());
    }
}
