//! The network's input features, computed from the raw point (x₁, x₂) as TensorFlow Playground
//! does: x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂, without scaling.

use backprop_tensor::Matrix;
use serde::Deserialize;

/// One input feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// x₁.
    X1,
    /// x₂.
    X2,
    /// x₁².
    X1Squared,
    /// x₂².
    X2Squared,
    /// x₁·x₂.
    X1X2,
    /// sin x₁.
    SinX1,
    /// sin x₂.
    SinX2,
}

impl Feature {
    /// The name used in the API.
    pub fn name(self) -> &'static str {
        match self {
            Self::X1 => "x1",
            Self::X2 => "x2",
            Self::X1Squared => "x1_squared",
            Self::X2Squared => "x2_squared",
            Self::X1X2 => "x1_x2",
            Self::SinX1 => "sin_x1",
            Self::SinX2 => "sin_x2",
        }
    }

    /// The feature's value at the point (x₁, x₂), computed in `f64`.
    pub fn value(self, x1: f64, x2: f64) -> f64 {
        match self {
            Self::X1 => x1,
            Self::X2 => x2,
            Self::X1Squared => x1 * x1,
            Self::X2Squared => x2 * x2,
            Self::X1X2 => x1 * x2,
            Self::SinX1 => libm::sin(x1),
            Self::SinX2 => libm::sin(x2),
        }
    }
}

/// The network input for a list of raw points: one row per point, one column per feature.
pub fn feature_matrix(points: &[[f32; 2]], features: &[Feature]) -> Matrix<f32> {
    Matrix::from_fn(points.len(), features.len(), |row, column| {
        let [x1, x2] = points[row];
        features[column].value(f64::from(x1), f64::from(x2)) as f32
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_follow_their_formulas() {
        let all = [
            Feature::X1,
            Feature::X2,
            Feature::X1Squared,
            Feature::X2Squared,
            Feature::X1X2,
            Feature::SinX1,
            Feature::SinX2,
        ];
        let x = feature_matrix(&[[2.0, -3.0]], &all);
        let expected = [
            2.0,
            -3.0,
            4.0,
            9.0,
            -6.0,
            2.0f64.sin() as f32,
            (-3.0f64).sin() as f32,
        ];
        assert_eq!(x.row(0), expected);
        let names: Vec<_> = all.iter().map(|f| f.name()).collect();
        let parsed: Vec<Feature> = serde_json::from_value(serde_json::json!(names)).unwrap();
        assert_eq!(parsed, all);
    }
}
