//! Human-readable output on stderr: the header before training, one line per epoch, and the
//! final metrics.
//!
//! The output is plain text without colours, so `NO_COLOR` and non-terminal streams need no
//! special handling (the progress bar, [`crate::progress`], appears on terminals only). Write
//! errors on stderr are ignored: a closed stderr must not stop training.

mod summary;

pub use summary::summary_lines;

use crate::config::TrainPlan;
use crate::data::PreparedData;
use crate::parse::ScheduleSpec;
use backprop::optim::OptimizerConfig;
use backprop::train::{EpochRecord, History, Metrics, Task};
use backprop::{Activation, NetworkConfig};
use std::fmt::Display;
use std::io::Write;

/// Writes one line to stderr, ignoring write errors.
pub fn say(text: impl Display) {
    if !SILENT.load(std::sync::atomic::Ordering::Relaxed) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

/// Set on MPI ranks other than 0, which print nothing but their errors.
static SILENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes [`say`] print nothing from now on (MPI ranks other than 0).
pub fn silence() {
    SILENT.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// What a finished run produced, for the summary and the JSON object.
#[derive(Clone, Debug)]
pub struct Outcome<'a> {
    /// The plan that ran.
    pub plan: &'a TrainPlan,
    /// The data it ran on.
    pub data: &'a PreparedData,
    /// The network that was trained: sizes, activations, cost.
    pub config: &'a NetworkConfig,
    /// Examples per step actually used.
    pub batch_size: usize,
    /// Per-epoch records.
    pub history: &'a History,
    /// The final network's metrics on the training part (MAE and R² in the targets' units).
    pub train: Metrics,
    /// The same on the validation part.
    pub validation: Option<Metrics>,
    /// The same on the test part.
    pub test: Metrics,
    /// Wall-clock seconds of training.
    pub seconds: f64,
    /// Training examples processed per second of training.
    pub samples_per_second: f64,
}

impl Outcome<'_> {
    /// The hidden layers' activation (`None` without hidden layers).
    pub fn hidden_activation(&self) -> Option<Activation> {
        let activations = &self.config.activations;
        activations
            .len()
            .checked_sub(1)
            .and_then(|hidden| activations[..hidden].first().copied())
    }

    /// The output layer's activation.
    pub fn output_activation(&self) -> Activation {
        output_activation(self.config)
    }
}

/// A loss with four decimals, or in scientific notation when it is tiny.
pub fn format_number(value: f64) -> String {
    if value == 0.0 || !value.is_finite() || value.abs() >= 1e-3 {
        format!("{value:.4}")
    } else {
        format!("{value:.3e}")
    }
}

/// A setting as typed, in scientific notation when very large or small: `0.5`, `1e30`.
pub fn format_setting(value: f64) -> String {
    if value == 0.0 || (1e-4..1e5).contains(&value.abs()) {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

/// A count with thousands separators: `4,810`.
pub fn format_count(count: usize) -> String {
    let digits = count.to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// The output layer's activation of a network config.
pub fn output_activation(config: &NetworkConfig) -> Activation {
    config
        .activations
        .last()
        .copied()
        .unwrap_or(Activation::Identity)
}

/// `1 epoch`, `20 epochs`.
pub fn format_epochs(count: usize) -> String {
    if count == 1 {
        "1 epoch".into()
    } else {
        format!("{} epochs", format_count(count))
    }
}

/// A fraction as a percentage with one decimal.
pub fn format_percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// `64-64-10`.
pub fn format_sizes(sizes: &[usize]) -> String {
    sizes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("-")
}

/// The architecture in one line: the dense sizes (`64-64-10`), after the input image and its
/// image layers when it has them (`1x28x28 → conv:20:5:1:valid → maxpool:2 → 2880-100-10`).
///
/// Dropout entries between dense layers stand where they were written:
/// `784-100-dropout:0.5-50-10`.
pub fn format_architecture(config: &backprop::NetworkConfig) -> String {
    let dense = if config.hidden_dropout.iter().any(|p| *p > 0.0) {
        let mut parts = vec![config.sizes[0].to_string()];
        for (l, size) in config.sizes[1..].iter().enumerate() {
            parts.push(size.to_string());
            match config.hidden_dropout.get(l) {
                Some(&p) if p > 0.0 => parts.push(format!("dropout:{p}")),
                _ => {}
            }
        }
        parts.join("-")
    } else {
        format_sizes(&config.sizes)
    };
    match config.input_shape {
        Some(shape) if !config.features.is_empty() => {
            let mut parts = vec![shape.to_string()];
            parts.extend(config.features.iter().map(ToString::to_string));
            parts.push(dense);
            parts.join(" → ")
        }
        _ => dense,
    }
}

/// The optimiser in words: `SGD (momentum 0.9)`, `AdamW (weight decay 0.01)`, …
pub fn describe_optimizer(config: &OptimizerConfig) -> String {
    let (mut text, weight_decay) = match config {
        OptimizerConfig::Sgd(sgd) if sgd.nesterov => (
            format!("SGD (Nesterov momentum {})", sgd.momentum),
            sgd.weight_decay,
        ),
        OptimizerConfig::Sgd(sgd) if sgd.momentum > 0.0 => {
            (format!("SGD (momentum {})", sgd.momentum), sgd.weight_decay)
        }
        OptimizerConfig::Sgd(sgd) => ("SGD".to_string(), sgd.weight_decay),
        OptimizerConfig::Adam(adam) => ("Adam".to_string(), adam.weight_decay),
        OptimizerConfig::AdamW(adamw) => ("AdamW".to_string(), adamw.weight_decay),
        OptimizerConfig::RmsProp(rmsprop) if rmsprop.momentum > 0.0 => (
            format!("RMSprop (momentum {})", rmsprop.momentum),
            rmsprop.weight_decay,
        ),
        OptimizerConfig::RmsProp(rmsprop) => ("RMSprop".to_string(), rmsprop.weight_decay),
    };
    // Settings away from PyTorch's defaults are named, so the header says what runs.
    let mut settings = Vec::new();
    match config {
        OptimizerConfig::Sgd(sgd) if sgd.dampening != 0.0 => {
            settings.push(format!("dampening {}", sgd.dampening));
        }
        OptimizerConfig::Adam(backprop::optim::AdamConfig {
            beta1,
            beta2,
            epsilon,
            ..
        })
        | OptimizerConfig::AdamW(backprop::optim::AdamWConfig {
            beta1,
            beta2,
            epsilon,
            ..
        }) => {
            if (*beta1, *beta2) != (0.9, 0.999) {
                settings.push(format!("betas {beta1},{beta2}"));
            }
            if *epsilon != 1e-8 {
                settings.push(format!("eps {epsilon}"));
            }
        }
        OptimizerConfig::RmsProp(rmsprop) => {
            if rmsprop.alpha != 0.99 {
                settings.push(format!("alpha {}", rmsprop.alpha));
            }
            if rmsprop.epsilon != 1e-8 {
                settings.push(format!("eps {}", rmsprop.epsilon));
            }
            if rmsprop.centered {
                settings.push("centered".into());
            }
        }
        OptimizerConfig::Sgd(_) => {}
    }
    if weight_decay > 0.0 {
        settings.push(format!("weight decay {weight_decay}"));
    }
    for setting in settings {
        text.push_str(&format!(", {setting}"));
    }
    text
}

/// The schedule in words, or `None` for a constant rate without warm-up.
fn describe_schedule(schedule: ScheduleSpec, warmup: u64) -> Option<String> {
    let decay = match schedule {
        ScheduleSpec::Constant => None,
        ScheduleSpec::Step { step_size, gamma } => {
            Some(format!("×{gamma} every {step_size} steps"))
        }
        ScheduleSpec::Exponential { gamma } => Some(format!("×{gamma} every step")),
        ScheduleSpec::Cosine { min_learning_rate } => {
            Some(format!("cosine to {min_learning_rate}"))
        }
    };
    match (decay, warmup) {
        (None, 0) => None,
        (Some(decay), 0) => Some(decay),
        (None, warmup) => Some(format!("{warmup} warm-up steps")),
        (Some(decay), warmup) => Some(format!("{warmup} warm-up steps, then {decay}")),
    }
}

/// The lines shown before training: data, network, optimiser.
/// `epochs` is the total the run will reach (a resumed run's new `--epochs`).
pub fn header_lines(
    plan: &TrainPlan,
    data: &PreparedData,
    config: &NetworkConfig,
    batch_size: usize,
    epochs: usize,
) -> Vec<String> {
    let rows = match (&data.validation, data.test_is_training) {
        (_, true) => format!(
            "{} rows, also the test set",
            format_count(data.train.rows())
        ),
        (Some(validation), false) => format!(
            "{} train / {} validation / {} test rows",
            format_count(data.train.rows()),
            format_count(validation.rows()),
            format_count(data.test.rows())
        ),
        (None, false) => format!(
            "{} train / {} test rows",
            format_count(data.train.rows()),
            format_count(data.test.rows())
        ),
    };
    let hidden = match config.activations.split_last() {
        Some((_, hidden)) if !hidden.is_empty() => format!("{} hidden, ", hidden[0]),
        _ => String::new(),
    };
    let mut network = format!(
        "network {}: {hidden}{} output, {} cost",
        format_architecture(config),
        output_activation(config),
        config.cost
    );
    if config.dropout > 0.0 {
        network.push_str(&format!(", dropout {}", config.dropout));
    }
    if plan.l2_nielsen > 0.0 {
        network.push_str(&format!(", L2 (Nielsen) λ {}", plan.l2_nielsen));
    }
    if plan.l1 > 0.0 {
        network.push_str(&format!(", L1 λ {}", plan.l1));
    }
    let full_batch = if batch_size == data.train.rows() {
        " (full batch)"
    } else {
        ""
    };
    let stopping = match plan.early_stopping {
        Some(patience) => format!(" (early stopping, patience {patience})"),
        None => String::new(),
    };
    let mut optimizer = format!(
        "optimizer {}, lr {}, batch {batch_size}{full_batch}, {}{stopping}, seed {}",
        describe_optimizer(&plan.optimizer),
        format_setting(plan.optimizer.learning_rate()),
        format_epochs(epochs),
        plan.seed
    );
    if !plan.shuffle {
        optimizer.push_str(", no shuffling");
    }
    if let Some(schedule) = describe_schedule(plan.schedule, plan.warmup) {
        optimizer.push_str(&format!(", schedule {schedule}"));
    }
    if let Some(clip) = plan.clip {
        optimizer.push_str(&format!(", clip {clip}"));
    }
    if plan.lbfgs.is_some() {
        // No learning rate, schedule, clipping or shuffling: the line search sets each step.
        optimizer = format!(
            "optimizer L-BFGS (history 10, Armijo line search), batch {batch_size} (full \
             batch), at most {} iterations, seed {}",
            epochs, plan.seed
        );
    }
    let mut lines = vec![format!("data {}: {rows}", data.name), network, optimizer];
    if data.task == Task::Regression {
        lines.push(if data.preprocessing.target_scaler.is_some() {
            "targets are standardised for training: losses are in standardised units, \
             MAE and R² in the targets' units"
                .into()
        } else {
            "targets are used as they are (--target-scale none): losses, MAE and R² are in the \
             targets' units"
                .into()
        });
    }
    lines
}

/// `loss 0.2345  accuracy 93.1%` or `loss 0.0123  r2 0.9876`, with a prefix for validation.
fn metric_fields(metrics: &Metrics, prefix: &str) -> String {
    let mut text = format!("{prefix}loss {}", format_number(metrics.loss));
    if let Some(accuracy) = metrics.accuracy {
        text.push_str(&format!("  {prefix}accuracy {}", format_percent(accuracy)));
    }
    if let Some(r2) = metrics.r2 {
        text.push_str(&format!("  {prefix}r2 {r2:.4}"));
    }
    text
}

/// `epoch  3/20  loss 0.2345  accuracy 93.1%  val_loss …  val_accuracy …  lr …`.
pub fn epoch_line(record: &EpochRecord, total_epochs: usize) -> String {
    let width = total_epochs.to_string().len();
    let mut line = format!(
        "epoch {:>width$}/{total_epochs}  {}",
        record.epoch,
        metric_fields(&record.train, "")
    );
    if let Some(validation) = &record.validation {
        line.push_str("  ");
        line.push_str(&metric_fields(validation, "val_"));
    }
    line.push_str(&format!("  lr {}", format_number(record.learning_rate)));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_lines_read_well() {
        let record = EpochRecord {
            epoch: 3,
            train: Metrics {
                loss: 0.23451,
                accuracy: Some(0.931),
                ..Metrics::default()
            },
            validation: Some(Metrics {
                loss: 0.0004,
                accuracy: Some(1.0),
                ..Metrics::default()
            }),
            learning_rate: 0.001,
            step: 30,
            seconds: 0.5,
        };
        assert_eq!(
            epoch_line(&record, 20),
            "epoch  3/20  loss 0.2345  accuracy 93.1%  val_loss 4.000e-4  \
             val_accuracy 100.0%  lr 0.0010"
        );
        assert_eq!(format_sizes(&[64, 64, 10]), "64-64-10");
        assert_eq!(format_count(4810), "4,810");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1_234_567), "1,234,567");
    }
}
