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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricAccumulator {
    rows: usize,
    loss_sum: f64,
    correct: usize,
    absolute_error: f64,
    // Per output column: Σy, Σy², Σ(a − y)².
    target_sum: Vec<f64>,
    target_square_sum: Vec<f64>,
    residual_square_sum: Vec<f64>,
}

impl MetricAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a batch: its outputs a, targets y, and its mean loss.
    pub fn add<T: Float>(&mut self, a: &Matrix<T>, y: &Matrix<T>, mean_loss: f64) {
        self.rows += a.rows();
        self.loss_sum += mean_loss * a.rows() as f64;
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
        self.target_sum.resize(cols, 0.0);
        self.target_square_sum.resize(cols, 0.0);
        self.residual_square_sum.resize(cols, 0.0);
        for i in 0..a.rows() {
            for (j, (&p, &t)) in a.row(i).iter().zip(y.row(i)).enumerate() {
                let (p, t) = (p.to_f64(), t.to_f64());
                self.absolute_error += (p - t).abs();
                self.target_sum[j] += t;
                self.target_square_sum[j] += t * t;
                self.residual_square_sum[j] += (p - t).powi(2);
            }
        }
    }

    /// The sums as `f64` values for an exchange between ranks, for `cols` output columns:
    /// rows, loss sum, correct, absolute error, then Σy, Σy² and Σ(a − y)² per column
    /// (`4 + 3·cols` values; counts are exact in `f64` below 2⁵³).
    pub fn to_values(&self, cols: usize) -> Vec<f64> {
        let mut values = vec![
            self.rows as f64,
            self.loss_sum,
            self.correct as f64,
            self.absolute_error,
        ];
        for sums in [
            &self.target_sum,
            &self.target_square_sum,
            &self.residual_square_sum,
        ] {
            values.extend((0..cols).map(|j| sums.get(j).copied().unwrap_or(0.0)));
        }
        values
    }

    /// Adds sums that [`MetricAccumulator::to_values`] laid out (for `(values.len() − 4) / 3`
    /// output columns), as if their batches had been added here.
    pub fn merge_values(&mut self, values: &[f64]) {
        let cols = values.len().saturating_sub(4) / 3;
        self.rows += values[0] as usize;
        self.loss_sum += values[1];
        self.correct += values[2] as usize;
        self.absolute_error += values[3];
        for (k, sums) in [
            &mut self.target_sum,
            &mut self.target_square_sum,
            &mut self.residual_square_sum,
        ]
        .into_iter()
        .enumerate()
        {
            sums.resize(cols.max(sums.len()), 0.0);
            for (j, sum) in sums.iter_mut().enumerate().take(cols) {
                *sum += values[4 + k * cols + j];
            }
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
                let cols = self.target_sum.len().max(1) as f64;
                metrics.mae = Some(self.absolute_error / (n * cols));
                let scores: Vec<f64> = (0..self.target_sum.len())
                    .map(|j| {
                        let total = self.target_square_sum[j] - self.target_sum[j].powi(2) / n;
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
    let mut accumulator = MetricAccumulator::new();
    let mut start = 0;
    while start < x.rows() {
        let end = (start + EVALUATION_CHUNK).min(x.rows());
        let rows: Vec<usize> = (start..end).collect();
        let (xs, ys) = (x.select_rows(&rows), y.select_rows(&rows));
        let (z, a) = network.output_with_logits(&xs);
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
}
