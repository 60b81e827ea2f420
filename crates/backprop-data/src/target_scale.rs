//! Standardisation of regression targets: y′ = (y − μⱼ)/σⱼ per target column, fitted on the
//! training targets; predictions are mapped back with y = y′·σⱼ + μⱼ.
//!
//! A constant target column gets σ = 1, as for features. The statistics are plain `Vec<f64>`
//! (serde-serialisable) so a model file can carry them.

use crate::statistics::{affine, column_mean_std};
use crate::{DataError, Dataset, Targets};
use backprop_tensor::{Float, Matrix};
use serde::{Deserialize, Serialize};

/// Per-column standardisation of regression targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetScaler {
    /// Mean of each target column.
    pub mean: Vec<f64>,
    /// Population standard deviation of each target column, never 0.
    pub std: Vec<f64>,
}

impl TargetScaler {
    /// Fits on training targets (one example per row, one column per target).
    pub fn fit<T: Float>(targets: &Matrix<T>) -> Self {
        let (mean, std) = column_mean_std(targets);
        Self { mean, std }
    }

    /// Fits on a data set's targets; `None` for classification, whose targets are not scaled.
    pub fn fit_dataset(dataset: &Dataset) -> Option<Self> {
        match &dataset.targets {
            Targets::Values(values) => Some(Self::fit(values)),
            Targets::Classes { .. } => None,
        }
    }

    /// The number of target columns.
    pub fn n_targets(&self) -> usize {
        self.mean.len()
    }

    /// Checks a scaler read from outside: equal lengths, finite means, positive finite σ.
    pub fn validate(&self) -> Result<(), DataError> {
        let reason = if self.mean.len() != self.std.len() {
            format!(
                "{} target means but {} standard deviations",
                self.mean.len(),
                self.std.len()
            )
        } else if !self.mean.iter().all(|m| m.is_finite()) {
            "a target mean is not finite".into()
        } else if !self.std.iter().all(|s| s.is_finite() && *s > 0.0) {
            "a target standard deviation is not a positive number".into()
        } else {
            return Ok(());
        };
        Err(DataError::InvalidScaler { reason })
    }

    /// Standardises targets.
    ///
    /// # Panics
    /// When the width differs from [`TargetScaler::n_targets`].
    #[track_caller]
    pub fn transform<T: Float>(&self, targets: &Matrix<T>) -> Matrix<T> {
        affine(targets, &self.mean, |j| self.std[j], false)
    }

    /// Maps standardised predictions back to the targets' units.
    ///
    /// # Panics
    /// When the width differs from [`TargetScaler::n_targets`].
    #[track_caller]
    pub fn inverse_transform<T: Float>(&self, predictions: &Matrix<T>) -> Matrix<T> {
        affine(predictions, &self.mean, |j| self.std[j], true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BuiltIn, GenerateOptions};
    use proptest::prelude::*;

    #[test]
    fn standardises_each_target_column() {
        let y = Matrix::<f32>::from_rows(&[[1.0, 100.0], [3.0, 100.0], [5.0, 100.0]]).unwrap();
        let scaler = TargetScaler::fit(&y);
        assert_eq!(scaler.mean, vec![3.0, 100.0]);
        assert_eq!(scaler.std[1], 1.0);
        let scaled = scaler.transform(&y);
        let (mean, std) = column_mean_std(&scaled);
        assert!(mean[0].abs() < 1e-7 && (std[0] - 1.0).abs() < 1e-6);
        assert_eq!([scaled[(0, 1)], scaled[(2, 1)]], [0.0, 0.0]);
        let back = scaler.inverse_transform(&scaled);
        assert!(back.sub(&y).max_abs() < 1e-5, "{back:?}"); // f32 rounding of y′
        assert_eq!(scaler.n_targets(), 2);
    }

    #[test]
    fn fits_regression_data_sets_only() {
        let plane = BuiltIn::Plane.load(&GenerateOptions::default()).unwrap();
        let scaler = TargetScaler::fit_dataset(&plane).unwrap();
        assert_eq!(scaler.n_targets(), 1);
        assert!(
            scaler.std[0] > 0.2 && scaler.mean[0].abs() < 0.1,
            "{scaler:?}"
        );
        let circle = BuiltIn::Circle.load(&GenerateOptions::default()).unwrap();
        assert_eq!(TargetScaler::fit_dataset(&circle), None);
    }

    #[test]
    fn validate_rejects_damaged_statistics() {
        let good = TargetScaler {
            mean: vec![1.0],
            std: vec![2.0],
        };
        assert_eq!(good.validate(), Ok(()));
        let json = serde_json::to_string(&good).unwrap();
        assert_eq!(json, r#"{"mean":[1.0],"std":[2.0]}"#);
        let short = TargetScaler {
            mean: vec![1.0, 2.0],
            std: vec![2.0],
        };
        assert_eq!(
            short.validate().unwrap_err().to_string(),
            "invalid scaler: 2 target means but 1 standard deviations"
        );
        let zero = TargetScaler {
            mean: vec![1.0],
            std: vec![0.0],
        };
        assert!(zero.validate().is_err());
    }

    proptest! {
        #[test]
        fn predictions_map_back(values in proptest::collection::vec(-1e4f64..1e4, 2..40)) {
            let y = Matrix::<f64>::from_fn(values.len() / 2, 2, |i, j| values[2 * i + j]);
            let scaler = TargetScaler::fit(&y);
            let back = scaler.inverse_transform(&scaler.transform(&y));
            for (a, b) in back.as_slice().iter().zip(y.as_slice()) {
                prop_assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()));
            }
        }
    }
}
