//! The lines shown after training: early stopping, a table of the final network's metrics on
//! each part (rows × loss, accuracy or MAE and R²), and the speed.
//!
//! ```text
//!                    rows     loss  accuracy
//! train             1,437   0.0123    100.0%
//! test                360   0.0712     98.3%
//! trained 20 epochs in 0.45 s (63,860 samples/s)
//! ```

use super::{format_count, format_epochs, format_number, format_percent, Outcome};
use backprop::train::{Metrics, Task};

/// The summary lines.
pub fn summary_lines(outcome: &Outcome<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    let history = outcome.history;
    if history.stopped_early {
        lines.push(format!(
            "stopped early after epoch {}; restored the weights of epoch {}",
            history.epochs.len(),
            history.best_epoch.unwrap_or(history.epochs.len())
        ));
    }
    let data = outcome.data;
    let task = data.task;
    let mut parts: Vec<(&str, usize, &Metrics)> =
        vec![("train", data.train.rows(), &outcome.train)];
    if let (Some(part), Some(metrics)) = (&data.validation, &outcome.validation) {
        parts.push(("validation", part.rows(), metrics));
    }
    if data.test_is_training {
        parts.push(("test (= train)", data.test.rows(), &outcome.test));
    } else {
        parts.push(("test", data.test.rows(), &outcome.test));
    }
    lines.push(match task {
        Task::Classification => format!("{:<15}{:>9}{:>10}{:>10}", "", "rows", "loss", "accuracy"),
        Task::Regression => format!(
            "{:<15}{:>9}{:>10}{:>10}{:>9}",
            "", "rows", "loss", "MAE", "R²"
        ),
    });
    for (name, rows, metrics) in parts {
        lines.push(row(name, rows, metrics, task));
    }
    lines.push(format!(
        "trained {} in {:.2} s ({} samples/s)",
        format_epochs(history.epochs.len()),
        outcome.seconds,
        format_count(outcome.samples_per_second.round() as usize)
    ));
    lines
}

/// One row of the table.
fn row(name: &str, rows: usize, metrics: &Metrics, task: Task) -> String {
    let missing = || "-".to_string();
    let mut line = format!(
        "{name:<15}{:>9}{:>10}",
        format_count(rows),
        format_number(metrics.loss)
    );
    match task {
        Task::Classification => {
            let accuracy = metrics.accuracy.map_or_else(missing, format_percent);
            line.push_str(&format!("{accuracy:>10}"));
        }
        Task::Regression => {
            let mae = metrics.mae.map_or_else(missing, format_number);
            let r2 = metrics.r2.map_or_else(missing, |r2| format!("{r2:.4}"));
            line.push_str(&format!("{mae:>10}{r2:>9}"));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_line_up() {
        let metrics = Metrics {
            loss: 0.0712,
            accuracy: Some(0.983),
            ..Metrics::default()
        };
        assert_eq!(
            row("test", 360, &metrics, Task::Classification),
            "test                 360    0.0712     98.3%"
        );
        let regression = Metrics {
            loss: 0.5,
            mae: Some(43.25),
            r2: Some(0.4876),
            ..Metrics::default()
        };
        assert_eq!(
            row("train", 1437, &regression, Task::Regression),
            "train              1,437    0.5000   43.2500   0.4876"
        );
    }
}
