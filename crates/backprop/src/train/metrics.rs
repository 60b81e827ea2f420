//! Metrics reported each epoch: the loss, plus accuracy for classification, or MAE and R² for
//! regression.
//!
//! - accuracy = (1/n) Σₓ 𝟙[argmaxⱼ aⱼ = argmaxⱼ yⱼ]; with one output unit, 𝟙[(a > ½) = (y > ½)];
//! - MAE = (1/nm) Σ |a − y|;
//! - R² = 1 − Σ(y − a)² / Σ(y − ȳ)², per output column, then averaged (scikit-learn's
//!   `uniform_average`). A constant target column scores 1 when predicted exactly, else 0.
//!
//! Sums are accumulated in `f64`, batch after batch, in order.

use crate::network::Network;
use crate::propagation::RowsOutput;
use backprop_tensor::{argmax, Float, Matrix};
use serde::{Deserialize, Serialize};

/// What the network predicts, which decides the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Class labels: accuracy.
    Classification,
    /// Real values: MAE and R².
    Regression,
}

/// Loss and metrics over a set of examples.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Mean cost over the examples (penalty included).
    pub loss: f64,
    /// Fraction classified correctly, in [0, 1].
    pub accuracy: Option<f64>,
    /// Mean absolute error.
    pub mae: Option<f64>,
    /// Coefficient of determination.
    pub r2: Option<f64>,
}

/// Accumulates metrics batch by batch (saved in a checkpoint taken in the middle of an epoch).
///
/// R²'s total sum of squares is kept as each target column's running mean and Σ(y − ȳ)²
/// (Welford's update within a batch, Chan's merge across shards), never as Σy² − (Σy)²/n, which
/// loses every digit when the targets' mean is large against their spread.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredAccumulator")]
pub struct MetricAccumulator {
    rows: usize,
    loss_sum: f64,
    correct: usize,
    absolute_error: f64,
    // Per output column: the mean of y, Σ(y − ȳ)² and Σ(a − y)².
    target_mean: Vec<f64>,
    target_squared_deviation: Vec<f64>,
    residual_square_sum: Vec<f64>,
    /// Set for a classification task ([`MetricAccumulator::for_task`]): the regression sums
    /// (MAE and R²'s, a division per output value) are left at zero.
    accuracy_only: bool,
}

/// A [`MetricAccumulator`] as checkpoints store it, including those written before the target
/// sums were kept as means and deviations (Σy and Σy²).
#[derive(Deserialize)]
struct StoredAccumulator {
    rows: usize,
    loss_sum: f64,
    correct: usize,
    absolute_error: f64,
    #[serde(default)]
    target_mean: Vec<f64>,
    #[serde(default)]
    target_squared_deviation: Vec<f64>,
    #[serde(default)]
    target_sum: Vec<f64>,
    #[serde(default)]
    target_square_sum: Vec<f64>,
    residual_square_sum: Vec<f64>,
    #[serde(default)]
    accuracy_only: bool,
}

impl From<StoredAccumulator> for MetricAccumulator {
    fn from(stored: StoredAccumulator) -> Self {
        let (target_mean, target_squared_deviation) = if stored.target_sum.is_empty() {
            (stored.target_mean, stored.target_squared_deviation)
        } else {
            let n = stored.rows.max(1) as f64;
            let means = stored.target_sum.iter().map(|sum| sum / n).collect();
            let deviations = stored
                .target_sum
                .iter()
                .zip(&stored.target_square_sum)
                .map(|(sum, squares)| (squares - sum * sum / n).max(0.0))
                .collect();
            (means, deviations)
        };
        Self {
            rows: stored.rows,
            loss_sum: stored.loss_sum,
            correct: stored.correct,
            absolute_error: stored.absolute_error,
            target_mean,
            target_squared_deviation,
            residual_square_sum: stored.residual_square_sum,
            accuracy_only: stored.accuracy_only,
        }
    }
}

impl MetricAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty accumulator for `task`'s metrics only: for classification, the loss and the
    /// accuracy ([`MetricAccumulator::finish`] must then be asked for classification).
    pub fn for_task(task: Task) -> Self {
        Self {
            accuracy_only: task == Task::Classification,
            ..Self::default()
        }
    }

    /// Adds a batch: its outputs a, targets y, and its mean loss.
    pub fn add<T: Float>(&mut self, a: &Matrix<T>, y: &Matrix<T>, mean_loss: f64) {
        if a.cols() == 1 {
            let half = T::from_f64(0.5);
            self.correct += a
                .as_slice()
                .iter()
                .zip(y.as_slice())
                .filter(|(&a, &y)| (a > half) == (y > half))
                .count();
        } else {
            self.correct += (0..a.rows())
                .filter(|&i| argmax(a.row(i)) == argmax(y.row(i)))
                .count();
        }
        let cols = a.cols();
        self.target_mean.resize(cols, 0.0);
        self.target_squared_deviation.resize(cols, 0.0);
        self.residual_square_sum.resize(cols, 0.0);
        for i in (0..a.rows()).filter(|_| !self.accuracy_only) {
            // Welford: with n targets seen, ȳ ← ȳ + (y − ȳ)/n, M ← M + (y − ȳ_old)(y − ȳ_new).
            let n = (self.rows + i + 1) as f64;
            for (j, (&p, &t)) in a.row(i).iter().zip(y.row(i)).enumerate() {
                let (p, t) = (p.to_f64(), t.to_f64());
                self.absolute_error += (p - t).abs();
                let before = t - self.target_mean[j];
                self.target_mean[j] += before / n;
                self.target_squared_deviation[j] += before * (t - self.target_mean[j]);
                self.residual_square_sum[j] += (p - t).powi(2);
            }
        }
        self.rows += a.rows();
        self.loss_sum += mean_loss * a.rows() as f64;
    }

    /// Adds `penalty` to the loss of the last `rows` examples added: the regularisation term
    /// of the cost their step differentiated.
    pub fn add_penalty(&mut self, penalty: f64, rows: usize) {
        self.loss_sum += penalty * rows as f64;
    }

    /// The sums as `f64` values for an exchange between ranks, for `cols` output columns:
    /// rows, loss sum, correct, absolute error, then the mean of y, Σ(y − ȳ)² and Σ(a − y)² per
    /// column (`4 + 3·cols` values; counts are exact in `f64` below 2⁵³).
    pub fn to_values(&self, cols: usize) -> Vec<f64> {
        let mut values = vec![
            self.rows as f64,
            self.loss_sum,
            self.correct as f64,
            self.absolute_error,
        ];
        for sums in [
            &self.target_mean,
            &self.target_squared_deviation,
            &self.residual_square_sum,
        ] {
            values.extend((0..cols).map(|j| sums.get(j).copied().unwrap_or(0.0)));
        }
        values
    }

    /// Adds what [`MetricAccumulator::to_values`] laid out (for `(values.len() − 4) / 3`
    /// output columns), as if its batches had been added here: sums add, and means and
    /// deviations merge by Chan's rule, M = M_a + M_b + (ȳ_b − ȳ_a)²·n_a·n_b/n.
    pub fn merge_values(&mut self, values: &[f64]) {
        let cols = values.len().saturating_sub(4) / 3;
        let (before, added) = (self.rows as f64, values[0]);
        self.rows += values[0] as usize;
        self.loss_sum += values[1];
        self.correct += values[2] as usize;
        self.absolute_error += values[3];
        for column in [
            &mut self.target_mean,
            &mut self.target_squared_deviation,
            &mut self.residual_square_sum,
        ] {
            column.resize(cols.max(column.len()), 0.0);
        }
        if added == 0.0 {
            return;
        }
        let total = before + added;
        for j in 0..cols {
            let (mean, deviation, residual) = (
                values[4 + j],
                values[4 + cols + j],
                values[4 + 2 * cols + j],
            );
            let gap = mean - self.target_mean[j];
            self.target_mean[j] += gap * (added / total);
            self.target_squared_deviation[j] += deviation + gap * gap * (before * added / total);
            self.residual_square_sum[j] += residual;
        }
    }

    /// The sum of the batch losses so far (mean loss × rows, batch by batch).
    pub fn loss_sum(&self) -> f64 {
        self.loss_sum
    }

    /// The metrics so far, for `task`, with `penalty` added to the mean loss.
    pub fn finish(&self, task: Task, penalty: f64) -> Metrics {
        let n = self.rows.max(1) as f64;
        let mut metrics = Metrics {
            loss: self.loss_sum / n + penalty,
            ..Metrics::default()
        };
        match task {
            Task::Classification => metrics.accuracy = Some(self.correct as f64 / n),
            Task::Regression => {
                let cols = self.target_mean.len().max(1) as f64;
                metrics.mae = Some(self.absolute_error / (n * cols));
                let scores: Vec<f64> = (0..self.target_mean.len())
                    .map(|j| {
                        let total = self.target_squared_deviation[j];
                        let residual = self.residual_square_sum[j];
                        if total > 1e-12 * n {
                            1.0 - residual / total
                        } else if residual <= 1e-12 * n {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect();
                metrics.r2 = Some(scores.iter().sum::<f64>() / scores.len().max(1) as f64);
            }
        }
        metrics
    }
}

/// Rows per forward pass when evaluating a whole set, to bound memory.
const EVALUATION_CHUNK: usize = 4096;

/// Loss and metrics of `network` on (`x`, `y`), without dropout.
///
/// # Panics
/// When `x` or `y` have the wrong shape.
#[track_caller]
pub fn evaluate<T: Float>(
    network: &Network<T>,
    x: &Matrix<T>,
    y: &Matrix<T>,
    task: Task,
) -> Metrics {
    let mut accumulator = MetricAccumulator::for_task(task);
    let mut start = 0;
    // A dense network reads each chunk's rows of X in place, block by block.
    let in_place = network.reads_rows_in_place() && x.cols() == network.input_width();
    while start < x.rows() {
        let end = (start + EVALUATION_CHUNK).min(x.rows());
        let rows: Vec<usize> = (start..end).collect();
        let ys = y.select_rows(&rows);
        let (z, a) = if in_place {
            let values = &x.as_slice()[start * x.cols()..end * x.cols()];
            let z = network
                .forward_rows(values, RowsOutput::Logits, false)
                .expect("no check asked for");
            let output = network.dense_layers().last().map(|dense| dense.activation);
            let a = output.expect("a dense network").forward(&z);
            (z, a)
        } else {
            network.output_with_logits(&x.select_rows(&rows))
        };
        accumulator.add(&a, &ys, network.cost().loss(&z, &a, &ys));
        start = end;
    }
    accumulator.finish(task, network.penalty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_mae_r2_by_hand() {
        let a = Matrix::<f64>::from_rows(&[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]).unwrap();
        let y = Matrix::<f64>::from_rows(&[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]).unwrap();
        let mut acc = MetricAccumulator::new();
        acc.add(&a, &y, 0.5);
        let m = acc.finish(Task::Classification, 0.0);
        assert!((m.accuracy.unwrap() - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(m.loss, 0.5);

        let a = Matrix::<f64>::from_rows(&[[1.0], [2.0], [4.0]]).unwrap();
        let y = Matrix::<f64>::from_rows(&[[1.0], [3.0], [5.0]]).unwrap();
        let mut acc = MetricAccumulator::new();
        acc.add(&a.select_rows(&[0]), &y.select_rows(&[0]), 0.0);
        acc.add(&a.select_rows(&[1, 2]), &y.select_rows(&[1, 2]), 0.0);
        let m = acc.finish(Task::Regression, 0.0);
        assert!((m.mae.unwrap() - 2.0 / 3.0).abs() < 1e-15);
        // ȳ = 3, SS_tot = 4 + 0 + 4 = 8, SS_res = 0 + 1 + 1 = 2, R² = 0.75.
        assert!((m.r2.unwrap() - 0.75).abs() < 1e-12);
    }

    /// A classification accumulator keeps the loss and the accuracy of the full one, and
    /// leaves the regression sums at zero.
    #[test]
    fn a_classification_accumulator_counts_only_what_classification_reports() {
        let a = Matrix::<f32>::from_rows(&[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]).unwrap();
        let y = Matrix::<f32>::from_rows(&[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]).unwrap();
        let (mut full, mut classification) = (
            MetricAccumulator::new(),
            MetricAccumulator::for_task(Task::Classification),
        );
        for accumulator in [&mut full, &mut classification] {
            accumulator.add(&a.select_rows(&[0, 1]), &y.select_rows(&[0, 1]), 0.25);
            accumulator.add(&a.select_rows(&[2]), &y.select_rows(&[2]), 1.5);
        }
        let metrics = classification.finish(Task::Classification, 0.0);
        assert_eq!(metrics, full.finish(Task::Classification, 0.0));
        assert_eq!(metrics.accuracy, Some(1.0 / 3.0));
        let (values, full_values) = (classification.to_values(2), full.to_values(2));
        assert_eq!(values[..3], full_values[..3]);
        assert!(values[3..].iter().all(|&v| v == 0.0), "{values:?}");
        assert!(full_values[3..].iter().any(|&v| v != 0.0));
    }

    /// Targets near 10⁹ with a spread of a few units: Σy² − (Σy)²/n would cancel every digit.
    #[test]
    fn r2_is_stable_for_targets_with_a_large_mean() {
        let y = Matrix::<f64>::from_rows(&[[1e9], [1e9 + 1.0], [1e9 + 2.0], [1e9 + 3.0]]).unwrap();
        let a = y.map(|v| v + 0.5);
        // SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5, SS_res = 4 × 0.25 = 1, R² = 0.8.
        let mut whole = MetricAccumulator::new();
        whole.add(&a, &y, 0.0);
        let r2 = whole.finish(Task::Regression, 0.0).r2.unwrap();
        assert!((r2 - 0.8).abs() < 1e-9, "{r2}");
        // Added in two batches, and merged from two shards' values: the same R².
        let mut batches = MetricAccumulator::new();
        batches.add(&a.select_rows(&[0]), &y.select_rows(&[0]), 0.0);
        batches.add(&a.select_rows(&[1, 2, 3]), &y.select_rows(&[1, 2, 3]), 0.0);
        let r2 = batches.finish(Task::Regression, 0.0).r2.unwrap();
        assert!((r2 - 0.8).abs() < 1e-9, "{r2}");
        let mut merged = MetricAccumulator::new();
        for rows in [&[0, 1, 2][..], &[], &[3]] {
            let mut shard = MetricAccumulator::new();
            if !rows.is_empty() {
                shard.add(&a.select_rows(rows), &y.select_rows(rows), 0.0);
            }
            merged.merge_values(&shard.to_values(1));
        }
        let r2 = merged.finish(Task::Regression, 0.0).r2.unwrap();
        assert!((r2 - 0.8).abs() < 1e-9, "{r2}");
    }

    /// A checkpoint written before the target sums became means and deviations still loads.
    #[test]
    fn reads_the_sums_older_checkpoints_stored() {
        let old = r#"{"rows":3,"loss_sum":1.5,"correct":0,"absolute_error":2.0,
            "target_sum":[9.0],"target_square_sum":[35.0],"residual_square_sum":[2.0]}"#;
        let accumulator: MetricAccumulator = serde_json::from_str(old).unwrap();
        // y = 1, 3, 5: ȳ = 3, SS_tot = 8, R² = 1 − 2/8.
        let r2 = accumulator.finish(Task::Regression, 0.0).r2.unwrap();
        assert!((r2 - 0.75).abs() < 1e-12, "{r2}");
    }
}
