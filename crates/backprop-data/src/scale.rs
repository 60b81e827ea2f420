//! Feature scaling fitted on the training part only, per column j:
//! - standard: x′ = (x − μⱼ)/σⱼ, with μ the mean and σ the population standard deviation
//!   (divisor n, as scikit-learn's `StandardScaler`);
//! - min-max: x′ = (x − minⱼ)/(maxⱼ − minⱼ), mapping the training range onto [0, 1];
//! - none: x′ = x.
//!
//! A constant column would divide by zero: like scikit-learn, its σ (or range) is taken as 1, so
//! it maps to 0 and never to NaN. Statistics are computed in `f64` and stored as plain `Vec<f64>`
//! (serde-serialisable) so a model file can carry them.

use crate::statistics::{affine, column_mean_std, range_or_one};
use crate::DataError;
use backprop_tensor::{Float, Matrix};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which scaler to fit (`--scale standard|minmax|none`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ScalerKind {
    /// Zero mean, unit variance per column (the default for tabular data).
    #[default]
    Standard,
    /// The training range of each column onto [0, 1].
    MinMax,
    /// Leave the features as they are.
    None,
}

/// A fitted feature scaler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Scaler {
    /// x′ = (x − mean)/std per column; `std` is already 1 for constant columns.
    Standard {
        /// Column means.
        mean: Vec<f64>,
        /// Column standard deviations (population), never 0.
        std: Vec<f64>,
    },
    /// x′ = (x − min)/(max − min) per column, dividing by 1 where max = min.
    MinMax {
        /// Column minima.
        min: Vec<f64>,
        /// Column maxima.
        max: Vec<f64>,
    },
    /// The identity.
    None,
}

impl ScalerKind {
    /// The command-line name: `"standard"`, `"minmax"` or `"none"`.
    pub fn name(&self) -> &'static str {
        match self {
            ScalerKind::Standard => "standard",
            ScalerKind::MinMax => "minmax",
            ScalerKind::None => "none",
        }
    }

    /// Fits the scaler's statistics on (training) features, one example per row.
    pub fn fit<T: Float>(&self, features: &Matrix<T>) -> Scaler {
        match self {
            ScalerKind::Standard => {
                let (mean, std) = column_mean_std(features);
                Scaler::Standard { mean, std }
            }
            ScalerKind::MinMax => {
                let cols = features.cols();
                let (mut min, mut max) = (vec![f64::INFINITY; cols], vec![f64::NEG_INFINITY; cols]);
                for i in 0..features.rows() {
                    for (j, v) in features.row(i).iter().enumerate() {
                        min[j] = min[j].min(v.to_f64());
                        max[j] = max[j].max(v.to_f64());
                    }
                }
                if features.rows() == 0 {
                    (min, max) = (vec![0.0; cols], vec![1.0; cols]);
                }
                Scaler::MinMax { min, max }
            }
            ScalerKind::None => Scaler::None,
        }
    }
}

impl Scaler {
    /// The kind of this scaler.
    pub fn kind(&self) -> ScalerKind {
        match self {
            Scaler::Standard { .. } => ScalerKind::Standard,
            Scaler::MinMax { .. } => ScalerKind::MinMax,
            Scaler::None => ScalerKind::None,
        }
    }

    /// The number of columns it was fitted on (`None` for the identity, which takes any width).
    pub fn n_features(&self) -> Option<usize> {
        match self {
            Scaler::Standard { mean, .. } => Some(mean.len()),
            Scaler::MinMax { min, .. } => Some(min.len()),
            Scaler::None => None,
        }
    }

    /// Checks a scaler read from outside (a model file): equal lengths, finite statistics, σ > 0
    /// and min ≤ max.
    pub fn validate(&self) -> Result<(), DataError> {
        let invalid = |reason: &str| {
            Err(DataError::InvalidScaler {
                reason: reason.into(),
            })
        };
        let (a, b) = match self {
            Scaler::Standard { mean, std } => (mean, std),
            Scaler::MinMax { min, max } => (min, max),
            Scaler::None => return Ok(()),
        };
        if a.len() != b.len() {
            return invalid(&format!("{} centres but {} scales", a.len(), b.len()));
        }
        if !a.iter().chain(b).all(|v| v.is_finite()) {
            return invalid("a statistic is not finite");
        }
        match self {
            Scaler::Standard { std, .. } if std.iter().any(|&s| s <= 0.0) => {
                invalid("a standard deviation is not positive")
            }
            Scaler::MinMax { min, max } if min.iter().zip(max).any(|(lo, hi)| lo > hi) => {
                invalid("a minimum exceeds its maximum")
            }
            _ => Ok(()),
        }
    }

    /// Scales features (one example per row).
    ///
    /// # Panics
    /// When the width differs from [`Scaler::n_features`]; check it first for outside data.
    #[track_caller]
    pub fn transform<T: Float>(&self, features: &Matrix<T>) -> Matrix<T> {
        self.apply(features, false)
    }

    /// Maps scaled features back to the original units.
    ///
    /// # Panics
    /// When the width differs from [`Scaler::n_features`].
    #[track_caller]
    pub fn inverse_transform<T: Float>(&self, scaled: &Matrix<T>) -> Matrix<T> {
        self.apply(scaled, true)
    }

    /// The scaler as one affine map per column, x′ = (x − center)/scale, the form a model file
    /// stores: (mean, σ) for standard, (min, max − min) for min-max with the constant-column
    /// divisor of 1; `None` for the identity.
    pub fn affine(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        match self {
            Scaler::Standard { mean, std } => Some((mean.clone(), std.clone())),
            Scaler::MinMax { min, max } => Some((
                min.clone(),
                min.iter()
                    .zip(max)
                    .map(|(&low, &high)| range_or_one(low, high))
                    .collect(),
            )),
            Scaler::None => None,
        }
    }

    #[track_caller]
    fn apply<T: Float>(&self, matrix: &Matrix<T>, inverse: bool) -> Matrix<T> {
        match self {
            Scaler::Standard { mean, std } => affine(matrix, mean, |j| std[j], inverse),
            Scaler::MinMax { min, max } => {
                affine(matrix, min, |j| range_or_one(min[j], max[j]), inverse)
            }
            Scaler::None => matrix.clone(),
        }
    }
}

impl fmt::Display for ScalerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ScalerKind {
    type Err = DataError;

    fn from_str(name: &str) -> Result<Self, DataError> {
        [ScalerKind::Standard, ScalerKind::MinMax, ScalerKind::None]
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| DataError::UnknownScaler { name: name.into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_form_keeps_the_constant_column_divisor() {
        let features = Matrix::from_rows(&[[0.0f32, 5.0], [2.0, 5.0]]).unwrap();
        let (center, scale) = ScalerKind::MinMax.fit(&features).affine().unwrap();
        assert_eq!((center, scale), (vec![0.0, 5.0], vec![2.0, 1.0]));
        let (center, scale) = ScalerKind::Standard.fit(&features).affine().unwrap();
        assert_eq!((center, scale), (vec![1.0, 5.0], vec![1.0, 1.0]));
        assert!(ScalerKind::None.fit(&features).affine().is_none());
    }
    use proptest::prelude::*;

    fn sample() -> Matrix<f32> {
        Matrix::from_rows(&[[1.0, 10.0, 7.0], [2.0, 30.0, 7.0], [6.0, 20.0, 7.0]]).unwrap()
    }

    #[test]
    fn standard_scaling_gives_mean_zero_std_one() {
        let x = crate::digits().unwrap().features;
        let scaler = ScalerKind::Standard.fit(&x);
        let scaled = scaler.transform(&x);
        let (mean, std) = crate::statistics::column_mean_std(&scaled);
        for j in 0..x.cols() {
            let constant = x.as_slice().chunks(64).all(|row| row[j] == x[(0, j)]);
            assert!(mean[j].abs() < 1e-5, "column {j}: mean {}", mean[j]);
            // Constant columns (pixel 0 is always 0) become 0 with σ taken as 1.
            assert!(
                constant || (std[j] - 1.0).abs() < 1e-4,
                "column {j}: std {}",
                std[j]
            );
        }
        assert!(scaled.all_finite());
    }

    #[test]
    fn min_max_maps_the_training_range_to_unit_interval() {
        let scaler = ScalerKind::MinMax.fit(&sample());
        let scaled = scaler.transform(&sample());
        assert_eq!(
            scaled.as_slice(),
            &[0.0, 0.0, 0.0, 0.2, 1.0, 0.0, 1.0, 0.5, 0.0]
        );
    }

    #[test]
    fn constant_columns_stay_finite() {
        for kind in [ScalerKind::Standard, ScalerKind::MinMax] {
            let scaler = kind.fit(&sample());
            let scaled = scaler.transform(&sample());
            assert!(scaled.all_finite(), "{kind}");
            assert!((0..3).all(|i| scaled[(i, 2)] == 0.0), "{kind}");
            let back = scaler.inverse_transform(&scaled);
            assert!(back.sub(&sample()).max_abs() < 1e-5, "{kind}: {back:?}");
        }
        let empty = ScalerKind::Standard.fit(&Matrix::<f32>::zeros(0, 2));
        assert!(empty
            .transform(&Matrix::<f32>::filled(1, 2, 3.0))
            .all_finite());
    }

    #[test]
    fn none_is_the_identity_and_names_parse() {
        assert_eq!(
            ScalerKind::None.fit(&sample()).transform(&sample()),
            sample()
        );
        for kind in [ScalerKind::Standard, ScalerKind::MinMax, ScalerKind::None] {
            assert_eq!(kind.name().parse::<ScalerKind>(), Ok(kind));
            assert_eq!(kind.fit(&sample()).kind(), kind);
        }
        assert_eq!(
            "z-score".parse::<ScalerKind>().unwrap_err().to_string(),
            "unknown scaler \"z-score\"; expected one of: standard, minmax, none"
        );
        assert_eq!(ScalerKind::default(), ScalerKind::Standard);
    }

    #[test]
    fn serialises_to_plain_vectors_and_validates() {
        let scaler = ScalerKind::Standard.fit(&sample());
        let json = serde_json::to_string(&scaler).unwrap();
        assert!(
            json.starts_with(r#"{"kind":"standard","mean":[3.0,20.0,7.0]"#),
            "{json}"
        );
        let back: Scaler = serde_json::from_str(&json).unwrap();
        assert_eq!(back, scaler);
        assert_eq!(back.validate(), Ok(()));
        let none: Scaler = serde_json::from_str(r#"{"kind":"none"}"#).unwrap();
        assert_eq!(none, Scaler::None);
        let broken = Scaler::Standard {
            mean: vec![0.0; 2],
            std: vec![1.0],
        };
        assert_eq!(
            broken.validate().unwrap_err().to_string(),
            "invalid scaler: 2 centres but 1 scales"
        );
        let zero = Scaler::Standard {
            mean: vec![0.0],
            std: vec![0.0],
        };
        assert!(zero.validate().is_err());
        let upside_down = Scaler::MinMax {
            min: vec![2.0],
            max: vec![1.0],
        };
        assert!(upside_down.validate().is_err());
        let nan = Scaler::MinMax {
            min: vec![f64::NAN],
            max: vec![1.0],
        };
        assert!(nan.validate().is_err());
    }

    proptest! {
        #[test]
        fn inverse_transform_round_trips(
            rows in 1usize..12,
            values in proptest::collection::vec(-1e3f64..1e3, 36),
            kind in prop_oneof![Just(ScalerKind::Standard), Just(ScalerKind::MinMax)],
        ) {
            let x = Matrix::<f64>::from_fn(rows, 3, |i, j| values[i * 3 + j]);
            let scaler = kind.fit(&x);
            let back = scaler.inverse_transform(&scaler.transform(&x));
            for (a, b) in back.as_slice().iter().zip(x.as_slice()) {
                prop_assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()), "{} vs {}", a, b);
            }
        }
    }
}
