//! Evaluation reports for a trained model: what `backprop evaluate` prints.
//!
//! Classification, from predicted and true class indices over k classes:
//! - the confusion matrix M, Mᵢⱼ = examples of true class i predicted as j;
//! - accuracy = Σᵢ Mᵢᵢ / n;
//! - per class c: precision = M_cc / Σᵢ M_ic, recall = M_cc / Σⱼ M_cj,
//!   F1 = 2·precision·recall / (precision + recall) (0 where a denominator is 0, as
//!   scikit-learn's `zero_division=0`), and support = Σⱼ M_cj;
//! - macro averages (unweighted mean over classes) and weighted averages (by support).
//!
//! Regression, from predictions and targets in original units, averaged over target columns:
//! MSE = (1/n)Σ(a − y)², MAE = (1/n)Σ|a − y|, R² = 1 − Σ(y − a)²/Σ(y − ȳ)².

use crate::train::{MetricAccumulator, Task};
use backprop_tensor::{Float, Matrix};

/// Precision, recall, F1 and support of one class.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassScores {
    /// Of the examples predicted as this class, the fraction that are.
    pub precision: f64,
    /// Of the examples of this class, the fraction found.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Examples of this class.
    pub support: usize,
}

/// A classification report.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassificationReport {
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
    /// Fraction correct, in [0, 1].
    pub accuracy: f64,
    /// One entry per class.
    pub per_class: Vec<ClassScores>,
    /// Unweighted means over classes (support is the total).
    pub macro_average: ClassScores,
    /// Support-weighted means over classes (support is the total).
    pub weighted_average: ClassScores,
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

impl ClassificationReport {
    /// Builds the report from predicted and true labels, all below `classes`.
    ///
    /// ```
    /// use backprop::evaluation::ClassificationReport;
    /// let report = ClassificationReport::new(&[0, 1, 1, 1], &[0, 1, 0, 1], 2);
    /// assert_eq!(report.confusion, vec![vec![1, 1], vec![0, 2]]);
    /// assert_eq!(report.accuracy, 0.75);
    /// assert!((report.per_class[1].precision - 2.0 / 3.0).abs() < 1e-15);
    /// assert_eq!(report.per_class[0].recall, 0.5);
    /// ```
    ///
    /// # Panics
    /// When the slices differ in length or a label is not below `classes`.
    #[track_caller]
    pub fn new(predicted: &[usize], actual: &[usize], classes: usize) -> Self {
        assert_eq!(
            predicted.len(),
            actual.len(),
            "ClassificationReport: predicted and actual differ in length"
        );
        let mut confusion = vec![vec![0usize; classes]; classes];
        for (&p, &a) in predicted.iter().zip(actual) {
            assert!(
                p < classes && a < classes,
                "ClassificationReport: label out of range ({a} → {p}, {classes} classes)"
            );
            confusion[a][p] += 1;
        }
        let total = actual.len();
        let correct: usize = (0..classes).map(|c| confusion[c][c]).sum();
        let per_class: Vec<ClassScores> = (0..classes)
            .map(|c| {
                let predicted_as: usize = (0..classes).map(|i| confusion[i][c]).sum();
                let support: usize = confusion[c].iter().sum();
                let precision = ratio(confusion[c][c], predicted_as);
                let recall = ratio(confusion[c][c], support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassScores {
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect();
        let mean = |weight: &dyn Fn(&ClassScores) -> f64| {
            let weights: f64 = per_class.iter().map(weight).sum();
            let average = |field: fn(&ClassScores) -> f64| {
                if weights == 0.0 {
                    0.0
                } else {
                    per_class.iter().map(|s| weight(s) * field(s)).sum::<f64>() / weights
                }
            };
            ClassScores {
                precision: average(|s| s.precision),
                recall: average(|s| s.recall),
                f1: average(|s| s.f1),
                support: total,
            }
        };
        let macro_average = mean(&|_| 1.0);
        let weighted_average = mean(&|s| s.support as f64);
        Self {
            confusion,
            accuracy: ratio(correct, total),
            per_class,
            macro_average,
            weighted_average,
        }
    }
}

/// A regression report, in the targets' original units.
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionReport {
    /// Mean squared error.
    pub mse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination, averaged over target columns.
    pub r2: f64,
    /// Examples.
    pub rows: usize,
}

impl RegressionReport {
    /// Builds the report from predictions and targets of the same shape.
    ///
    /// ```
    /// use backprop::evaluation::RegressionReport;
    /// use backprop::Matrix;
    /// let predicted = Matrix::<f32>::from_rows(&[[1.0], [2.0], [4.0]]).unwrap();
    /// let actual = Matrix::<f32>::from_rows(&[[1.0], [3.0], [5.0]]).unwrap();
    /// let report = RegressionReport::new(&predicted, &actual);
    /// assert!((report.mse - 2.0 / 3.0).abs() < 1e-12);
    /// assert!((report.r2 - 0.75).abs() < 1e-12);
    /// ```
    ///
    /// # Panics
    /// When the shapes differ.
    #[track_caller]
    pub fn new<T: Float>(predicted: &Matrix<T>, actual: &Matrix<T>) -> Self {
        assert_eq!(
            predicted.shape(),
            actual.shape(),
            "RegressionReport: predictions and targets differ in shape"
        );
        let mut accumulator = MetricAccumulator::new();
        accumulator.add(predicted, actual, 0.0);
        let metrics = accumulator.finish(Task::Regression, 0.0);
        let count = predicted.len().max(1) as f64;
        let mse = predicted
            .as_slice()
            .iter()
            .zip(actual.as_slice())
            .map(|(p, a)| (p.to_f64() - a.to_f64()).powi(2))
            .sum::<f64>()
            / count;
        Self {
            mse,
            mae: metrics.mae.unwrap_or(0.0),
            r2: metrics.r2.unwrap_or(0.0),
            rows: predicted.rows(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_and_empty_classes() {
        // Class 2 never appears and is never predicted: all its scores are 0.
        let report = ClassificationReport::new(&[0, 0, 1, 1], &[0, 1, 1, 1], 3);
        assert_eq!(
            report.per_class[2],
            ClassScores {
                precision: 0.0,
                recall: 0.0,
                f1: 0.0,
                support: 0
            }
        );
        // Class 0: precision 1/2, recall 1; class 1: precision 1, recall 2/3.
        let f1_0 = 2.0 * 0.5 / 1.5;
        let f1_1 = 2.0 * (2.0 / 3.0) / (5.0 / 3.0);
        assert!((report.macro_average.f1 - (f1_0 + f1_1) / 3.0).abs() < 1e-15);
        assert!((report.weighted_average.f1 - (f1_0 + 3.0 * f1_1) / 4.0).abs() < 1e-15);
        assert_eq!(report.macro_average.support, 4);
    }
}
