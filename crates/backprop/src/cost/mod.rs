//! Costs C: how far the network's output a is from the target y.
//!
//! The cost of one example sums over output units (quadratic, binary cross-entropy, softmax
//! cross-entropy) or averages over them (MSE, Huber, as PyTorch's `reduction="mean"` does per
//! example). **The cost of a batch is the mean over its n examples**, C = (1/n) Σₓ Cₓ, so every
//! gradient here carries the factor 1/n.
//!
//! BP1 starts backprop at the output: δᴸ = ∇ₐC ⊙ σ′(zᴸ). Two pairings have a fused shortcut
//! that is both cheaper and numerically safer: softmax + cross-entropy and sigmoid + binary
//! cross-entropy both give δᴸ = (a − y)/n, and their losses are computed from the logits z with
//! a stable log-sum-exp, so extreme logits never make a NaN.

pub mod binary_cross_entropy;
pub mod huber;
pub mod mean_squared_error;
pub mod quadratic;
pub mod softmax_cross_entropy;

use crate::activation::Activation;
use backprop_tensor::{simd_kernel, Float, Matrix};
use std::fmt;
use std::str::FromStr;

/// A cost function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cost {
    /// Nielsen's quadratic cost, ½Σⱼ(aⱼ − yⱼ)² per example.
    Quadratic,
    /// Mean squared error, (1/m)Σⱼ(aⱼ − yⱼ)² per example over m output units.
    MeanSquaredError,
    /// Binary cross-entropy summed over sigmoid outputs (Nielsen's `CrossEntropyCost`).
    BinaryCrossEntropy,
    /// Softmax cross-entropy, −Σⱼ yⱼ ln aⱼ, fused with the softmax output.
    SoftmaxCrossEntropy,
    /// Huber loss, mean over output units: ½d² for |d| ≤ δ, δ(|d| − ½δ) beyond (PyTorch's `HuberLoss`).
    Huber {
        /// The threshold δ between the quadratic and linear parts (PyTorch default 1.0).
        delta: f64,
    },
}

impl Cost {
    /// The name used on the command line and in model files.
    pub fn name(&self) -> &'static str {
        match self {
            Cost::Quadratic => "quadratic",
            Cost::MeanSquaredError => "mse",
            Cost::BinaryCrossEntropy => "binary-cross-entropy",
            Cost::SoftmaxCrossEntropy => "cross-entropy",
            Cost::Huber { .. } => "huber",
        }
    }

    /// The output activation this cost is normally paired with.
    pub fn natural_output_activation(&self) -> Activation {
        match self {
            Cost::SoftmaxCrossEntropy => Activation::Softmax,
            Cost::BinaryCrossEntropy => Activation::Sigmoid,
            Cost::Quadratic | Cost::MeanSquaredError | Cost::Huber { .. } => Activation::Identity,
        }
    }

    /// Checks that the cost fits an output layer with this activation and width.
    pub fn check_output(&self, activation: Activation, width: usize) -> Result<(), String> {
        match (self, activation) {
            (Cost::SoftmaxCrossEntropy, Activation::Softmax) if width >= 2 => Ok(()),
            (Cost::SoftmaxCrossEntropy, Activation::Softmax) => {
                Err("softmax cross-entropy needs at least 2 output units (a 1-unit softmax is always 1); use a sigmoid output with binary cross-entropy".into())
            }
            (Cost::SoftmaxCrossEntropy, other) => Err(format!(
                "cross-entropy needs a softmax output layer, not {other}; use softmax, or binary cross-entropy with sigmoid"
            )),
            (_, Activation::Softmax) => Err(format!(
                "a softmax output needs the cross-entropy cost, not {}",
                self.name()
            )),
            (Cost::BinaryCrossEntropy, Activation::Sigmoid) => Ok(()),
            (Cost::BinaryCrossEntropy, other) => Err(format!(
                "binary cross-entropy needs sigmoid outputs in (0, 1), not {other}"
            )),
            (Cost::Huber { delta }, _) if !(*delta > 0.0 && delta.is_finite()) => {
                Err(format!("the Huber threshold must be positive and finite, got {delta}"))
            }
            _ => Ok(()),
        }
    }

    /// True when δᴸ comes straight from a − y instead of ∇ₐC ⊙ σ′(z).
    pub fn is_fused_with(&self, activation: Activation) -> bool {
        matches!(
            (self, activation),
            (Cost::SoftmaxCrossEntropy, Activation::Softmax)
                | (Cost::BinaryCrossEntropy, Activation::Sigmoid)
        )
    }

    /// The batch cost (1/n) Σₓ Cₓ, accumulated in `f64` in row order.
    ///
    /// `z` are the output layer's pre-activations (the logits), `a` = σ(z), `y` the targets.
    #[track_caller]
    pub fn loss<T: Float>(&self, z: &Matrix<T>, a: &Matrix<T>, y: &Matrix<T>) -> f64 {
        assert_eq!(
            a.shape(),
            y.shape(),
            "cost {}: output and target shapes differ",
            self.name()
        );
        let n = a.rows().max(1) as f64;
        summed_loss(*self, z, a, y) / n
    }

    /// ∇ₐC of the batch cost: the gradient with respect to the output activations.
    #[track_caller]
    pub fn output_gradient<T: Float>(&self, a: &Matrix<T>, y: &Matrix<T>) -> Matrix<T> {
        assert_eq!(
            a.shape(),
            y.shape(),
            "cost {}: output and target shapes differ",
            self.name()
        );
        let inverse_n = T::from_f64(1.0 / a.rows().max(1) as f64);
        let units = a.cols();
        a.zip_map(y, |a, y| {
            inverse_n
                * match *self {
                    Cost::Quadratic => quadratic::gradient(a, y),
                    Cost::MeanSquaredError => mean_squared_error::gradient(a, y, units),
                    Cost::BinaryCrossEntropy => binary_cross_entropy::gradient(a, y),
                    Cost::SoftmaxCrossEntropy => softmax_cross_entropy::gradient(a, y),
                    Cost::Huber { delta } => huber::gradient(a, y, T::from_f64(delta), units),
                }
        })
    }

    /// BP1: δᴸ = ∂C/∂zᴸ for the batch cost. Fused pairings return (a − y)/n; others
    /// ∇ₐC ⊙ σ′(zᴸ) (or the softmax Jacobian product).
    pub fn output_delta<T: Float>(
        &self,
        activation: Activation,
        z: &Matrix<T>,
        a: &Matrix<T>,
        y: &Matrix<T>,
    ) -> Matrix<T> {
        let mut delta = Matrix::zeros(0, 0);
        self.output_delta_into(activation, z, a, y, &mut delta);
        delta
    }

    /// [`Cost::output_delta`] into a buffer that is reused from batch to batch.
    #[track_caller]
    pub fn output_delta_into<T: Float>(
        &self,
        activation: Activation,
        z: &Matrix<T>,
        a: &Matrix<T>,
        y: &Matrix<T>,
        delta: &mut Matrix<T>,
    ) {
        if self.is_fused_with(activation) {
            assert_eq!(
                a.shape(),
                y.shape(),
                "cost {}: output and target shapes differ",
                self.name()
            );
            let inverse_n = T::from_f64(1.0 / a.rows().max(1) as f64);
            delta.resize(a.rows(), a.cols());
            if *self == Cost::SoftmaxCrossEntropy {
                // softmax + CE: ∂C/∂zⱼ = aⱼ·Σₖyₖ − yⱼ, which is aⱼ − yⱼ when the row sums to 1.
                softmax_delta(
                    delta.as_mut_slice(),
                    a.as_slice(),
                    y.as_slice(),
                    a.cols(),
                    inverse_n,
                );
            } else {
                // sigmoid + BCE, unit by unit: ∂C/∂zⱼ = aⱼ − yⱼ.
                fused_delta(delta.as_mut_slice(), a.as_slice(), y.as_slice(), inverse_n);
            }
        } else {
            activation.backward_into(z, a, &self.output_gradient(a, y), delta);
        }
    }
}

simd_kernel! {
    /// Σₓ Cₓ over the batch, example by example in row order, in `f64`.
    fn summed_loss<T: Float>(cost: Cost, z: &Matrix<T>, a: &Matrix<T>, y: &Matrix<T>) -> f64 {
        if cost == Cost::BinaryCrossEntropy {
            let (z, y) = (z.as_slice(), y.as_slice());
            return binary_cross_entropy::batch_loss_from_logits(z, y, a.cols());
        }
        if cost == Cost::SoftmaxCrossEntropy {
            let (z, y) = (z.as_slice(), y.as_slice());
            return softmax_cross_entropy::batch_loss_from_logits(z, y, a.cols());
        }
        let mut total = 0.0;
        for i in 0..a.rows() {
            total += match cost {
                Cost::Quadratic => quadratic::example_loss(a.row(i), y.row(i)),
                Cost::MeanSquaredError => mean_squared_error::example_loss(a.row(i), y.row(i)),
                Cost::BinaryCrossEntropy => {
                    binary_cross_entropy::example_loss_from_logits(z.row(i), y.row(i))
                }
                Cost::SoftmaxCrossEntropy => {
                    softmax_cross_entropy::example_loss_from_logits(z.row(i), y.row(i))
                }
                Cost::Huber { delta } => huber::example_loss(a.row(i), y.row(i), delta),
            };
        }
        total
    }
}

simd_kernel! {
    /// δ = (a·Σy − y)/n row by row, softmax + cross-entropy's δ for any target row: the cost
    /// −Σⱼ yⱼ (zⱼ − LSE(z)) has ∂/∂zⱼ = −yⱼ + aⱼ·Σₖ yₖ. Rows that sum to exactly 1 (one-hot
    /// labels) take the shortcut (a − y)/n, bit for bit what it has always been.
    pub(crate) fn softmax_delta<T: Float>(delta: &mut [T], a: &[T], y: &[T], cols: usize, inverse_n: T) {
        let rows = delta.chunks_mut(cols.max(1)).zip(a.chunks(cols.max(1))).zip(y.chunks(cols.max(1)));
        for ((delta, a), y) in rows {
            let total = y.iter().fold(T::ZERO, |sum, &v| sum + v);
            if total == T::ONE {
                for ((d, &a), &y) in delta.iter_mut().zip(a).zip(y) {
                    *d = (a - y) * inverse_n;
                }
            } else {
                for ((d, &a), &y) in delta.iter_mut().zip(a).zip(y) {
                    *d = (a * total - y) * inverse_n;
                }
            }
        }
    }
}

simd_kernel! {
    /// δ = (a − y)/n, the fused sigmoid + binary cross-entropy shortcut, unit by unit.
    pub(crate) fn fused_delta<T: Float>(delta: &mut [T], a: &[T], y: &[T], inverse_n: T) {
        for ((d, &a), &y) in delta.iter_mut().zip(a).zip(y) {
            *d = (a - y) * inverse_n;
        }
    }
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cost::Huber { delta } if *delta != 1.0 => write!(f, "huber:{delta}"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for Cost {
    type Err = String;

    /// Parses `quadratic`, `mse`, `binary-cross-entropy` (`bce`), `cross-entropy` (`ce`), `huber[:delta]`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        let (name, argument) = match lower.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (lower.as_str(), None),
        };
        let cost = match name {
            "quadratic" => Cost::Quadratic,
            "mse" | "mean-squared-error" => Cost::MeanSquaredError,
            "bce" | "binary-cross-entropy" => Cost::BinaryCrossEntropy,
            "ce" | "cross-entropy" | "softmax-cross-entropy" => Cost::SoftmaxCrossEntropy,
            "huber" => {
                let delta = match argument {
                    Some(a) => a.parse::<f64>().map_err(|_| format!("bad Huber threshold '{a}'"))?,
                    None => 1.0,
                };
                return Ok(Cost::Huber { delta });
            }
            _ => {
                return Err(format!(
                    "unknown cost '{text}' (expected quadratic, mse, binary-cross-entropy, cross-entropy or huber)"
                ))
            }
        };
        if argument.is_some() {
            return Err(format!("cost '{name}' takes no parameter"));
        }
        Ok(cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> (Matrix<f64>, Matrix<f64>) {
        let a = Matrix::from_rows(&[[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]]).unwrap();
        let y = Matrix::from_rows(&[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]).unwrap();
        (a, y)
    }

    /// ∇ₐC against central differences of the batch loss, for the costs that read a.
    #[test]
    fn output_gradients_match_finite_differences() {
        let (a, y) = batch();
        for cost in [
            Cost::Quadratic,
            Cost::MeanSquaredError,
            Cost::Huber { delta: 0.35 },
        ] {
            let analytic = cost.output_gradient(&a, &y);
            for index in 0..a.len() {
                let h = 1e-6;
                let mut plus = a.clone();
                plus.as_mut_slice()[index] += h;
                let mut minus = a.clone();
                minus.as_mut_slice()[index] -= h;
                let numeric =
                    (cost.loss(&plus, &plus, &y) - cost.loss(&minus, &minus, &y)) / (2.0 * h);
                assert!(
                    (numeric - analytic.as_slice()[index]).abs() < 1e-8,
                    "{cost} at {index}"
                );
            }
        }
    }

    fn softmax_rows(z: &Matrix<f64>) -> Matrix<f64> {
        let mut a = z.clone();
        for i in 0..z.rows() {
            let row = z.row(i);
            let max = row.iter().cloned().fold(f64::MIN, f64::max);
            let total: f64 = row.iter().map(|v| (v - max).exp()).sum();
            for j in 0..z.cols() {
                a[(i, j)] = (z[(i, j)] - max).exp() / total;
            }
        }
        a
    }

    /// Softmax + cross-entropy's δ against central differences of the loss in the logits, for
    /// one-hot, soft (summing to 1), multi-hot (summing to 2) and partial (summing to 0.5) rows.
    #[test]
    fn softmax_delta_matches_finite_differences_for_any_target_row() {
        let z = Matrix::from_rows(&[
            [0.3, -1.2, 2.0],
            [1.5, 0.25, -0.5],
            [-0.7, 0.9, 0.1],
            [0.0, 2.5, -2.5],
        ])
        .unwrap();
        let y = Matrix::from_rows(&[
            [0.0, 1.0, 0.0],
            [0.2, 0.5, 0.3],
            [1.0, 1.0, 0.0],
            [0.25, 0.0, 0.25],
        ])
        .unwrap();
        let cost = Cost::SoftmaxCrossEntropy;
        let delta = cost.output_delta(Activation::Softmax, &z, &softmax_rows(&z), &y);
        let loss = |z: &Matrix<f64>| cost.loss(z, &softmax_rows(z), &y);
        for index in 0..z.len() {
            let h = 1e-6;
            let mut plus = z.clone();
            plus.as_mut_slice()[index] += h;
            let mut minus = z.clone();
            minus.as_mut_slice()[index] -= h;
            let numeric = (loss(&plus) - loss(&minus)) / (2.0 * h);
            assert!(
                (numeric - delta.as_slice()[index]).abs() < 1e-8,
                "element {index}: δ {} against {numeric}",
                delta.as_slice()[index]
            );
        }
        // The one-hot row keeps the shortcut's bits: (a − y)/n.
        let a = softmax_rows(&z);
        for j in 0..3 {
            assert_eq!(delta[(0, j)], (a[(0, j)] - y[(0, j)]) * 0.25);
        }
    }

    #[test]
    fn batch_loss_is_a_mean_over_examples() {
        let (a, y) = batch();
        // Quadratic: ½[(0.04 + 0.09 + 0.01) + (0.25 + 0.0625 + 0.0625)] / 2
        let expected = 0.5 * (0.14 + 0.375) / 2.0;
        assert!((Cost::Quadratic.loss(&a, &a, &y) - expected).abs() < 1e-15);
        // MSE divides each example by its 3 units as well.
        assert!(
            (Cost::MeanSquaredError.loss(&a, &a, &y) - (0.14 + 0.375) / 3.0 / 2.0).abs() < 1e-15
        );
    }

    #[test]
    fn validator_rules() {
        assert!(Cost::SoftmaxCrossEntropy
            .check_output(Activation::Softmax, 3)
            .is_ok());
        assert!(Cost::SoftmaxCrossEntropy
            .check_output(Activation::Softmax, 1)
            .is_err());
        assert!(Cost::SoftmaxCrossEntropy
            .check_output(Activation::Sigmoid, 3)
            .is_err());
        assert!(Cost::MeanSquaredError
            .check_output(Activation::Softmax, 3)
            .is_err());
        assert!(Cost::BinaryCrossEntropy
            .check_output(Activation::Relu, 1)
            .unwrap_err()
            .contains("sigmoid"));
        assert!(Cost::Quadratic.check_output(Activation::Sigmoid, 1).is_ok());
        assert!(Cost::Huber { delta: -1.0 }
            .check_output(Activation::Identity, 1)
            .is_err());
    }

    #[test]
    fn parses_names() {
        assert_eq!("ce".parse::<Cost>().unwrap(), Cost::SoftmaxCrossEntropy);
        assert_eq!(
            "huber:0.5".parse::<Cost>().unwrap(),
            Cost::Huber { delta: 0.5 }
        );
        assert!("hinge".parse::<Cost>().is_err());
    }
}
