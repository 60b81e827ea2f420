//! The history table of `backprop inspect`: about ten epochs — the first, every k-th, the best
//! (lowest validation loss, else lowest training loss) and the last — with loss, accuracy or
//! R², their validation counterparts and the learning rate.

use crate::report::{format_number, format_percent};
use backprop::model::EpochSummary;

/// Rows of the history table, about.
const HISTORY_ROWS: usize = 10;

/// The epochs shown: the first, every k-th, the best and the last.
pub fn history_rows(history: &[EpochSummary]) -> (Vec<usize>, Option<usize>) {
    let best = best_index(history);
    let step = history.len().div_ceil(HISTORY_ROWS).max(1);
    let mut rows: Vec<usize> = (0..history.len())
        .filter(|&index| {
            index == 0
                || (index + 1) % step == 0
                || index + 1 == history.len()
                || Some(index) == best
        })
        .collect();
    rows.dedup();
    (rows, best)
}

/// The epoch with the lowest validation loss, else the lowest training loss.
fn best_index(history: &[EpochSummary]) -> Option<usize> {
    let key = |summary: &EpochSummary| summary.validation_loss.unwrap_or(summary.loss);
    let validated = history
        .iter()
        .any(|summary| summary.validation_loss.is_some());
    history
        .iter()
        .enumerate()
        .filter(|(_, summary)| !validated || summary.validation_loss.is_some())
        .min_by(|(_, a), (_, b)| key(a).total_cmp(&key(b)))
        .map(|(index, _)| index)
}

/// The history table.
pub fn history_lines(history: &[EpochSummary]) -> Vec<String> {
    if history.is_empty() {
        return vec!["history: none recorded".into()];
    }
    let (rows, best) = history_rows(history);
    let validated = history
        .iter()
        .any(|summary| summary.validation_loss.is_some());
    let best_what = if validated {
        "lowest validation loss"
    } else {
        "lowest training loss"
    };
    let mut lines = vec![format!(
        "history: {} epochs; * marks the best ({best_what}); shown: the first, every {}, the best and the last",
        history.len(),
        match history.len().div_ceil(HISTORY_ROWS).max(1) {
            1 => "epoch".to_string(),
            k => format!("{k} epochs"),
        }
    )];
    lines.push(format!(
        "  {:>7}  {:>10}  {:>8}  {:>10}  {:>8}  {:>10}",
        "epoch", "loss", "metric", "val_loss", "val", "lr"
    ));
    let metric = |accuracy: Option<f64>, r2: Option<f64>| match (accuracy, r2) {
        (Some(accuracy), _) => format_percent(accuracy),
        (None, Some(r2)) => format!("R² {r2:.3}"),
        (None, None) => "-".into(),
    };
    for index in rows {
        let summary = &history[index];
        let mark = if Some(index) == best { "*" } else { " " };
        lines.push(format!(
            " {mark}{:>7}  {:>10}  {:>8}  {:>10}  {:>8}  {:>10}",
            summary.epoch,
            format_number(summary.loss),
            metric(summary.accuracy, summary.r2),
            summary.validation_loss.map_or("-".into(), format_number),
            metric(summary.validation_accuracy, summary.validation_r2),
            format_number(summary.learning_rate)
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(epoch: usize, loss: f64) -> EpochSummary {
        EpochSummary {
            epoch,
            loss,
            accuracy: None,
            mae: None,
            r2: None,
            validation_loss: None,
            validation_accuracy: None,
            validation_mae: None,
            validation_r2: None,
            learning_rate: 0.1,
            step: epoch as u64,
            seconds: 0.0,
            layers: Vec::new(),
        }
    }

    #[test]
    fn the_table_shows_first_every_kth_best_and_last() {
        let losses = [
            5.0, 4.0, 3.0, 0.5, 2.0, 1.9, 1.8, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0, 0.9, 0.8,
            0.7, 0.6, 0.55, 0.9, 1.0, 1.1,
        ];
        let history: Vec<EpochSummary> = losses
            .iter()
            .enumerate()
            .map(|(i, &l)| summary(i + 1, l))
            .collect();
        let (rows, best) = history_rows(&history);
        assert_eq!(best, Some(3));
        assert_eq!(rows, [0, 2, 3, 5, 8, 11, 14, 17, 20, 22]);
    }
}
