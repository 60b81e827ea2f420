//! Penalties on the weights, added to the batch cost (biases are never penalised).
//!
//! - **Nielsen's L2**: C = C₀ + (λ/2n) Σ w², where n is the size of the training set;
//!   ∂C/∂w gains (λ/n)·w.
//! - **L1** (as Keras' `l1`): C = C₀ + λ Σ |w|; ∂C/∂w gains λ·sign(w), with sign(0) = 0.
//!
//! PyTorch-style `weight_decay` is different: it is added to the gradient inside the optimiser
//! (or decoupled, in AdamW) and applies to every parameter. Never pass Nielsen's λ to it.

use backprop_tensor::{Float, Matrix};

/// Weight penalties that are part of the cost.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Regularization {
    /// Nielsen's λ for (λ/2n) Σ w². 0 turns it off.
    pub l2_nielsen: f64,
    /// n in (λ/2n): the number of training examples.
    pub training_set_size: usize,
    /// λ for λ Σ |w|. 0 turns it off.
    pub l1: f64,
}

impl Regularization {
    /// No penalty.
    pub fn none() -> Self {
        Self::default()
    }

    /// Nielsen's L2, (λ/2n) Σ w².
    pub fn l2_nielsen(lambda: f64, training_set_size: usize) -> Self {
        Self {
            l2_nielsen: lambda,
            training_set_size,
            l1: 0.0,
        }
    }

    /// L1, λ Σ |w|.
    pub fn l1(lambda: f64) -> Self {
        Self {
            l1: lambda,
            ..Self::default()
        }
    }

    /// True when no penalty applies.
    pub fn is_none(&self) -> bool {
        self.l2_nielsen == 0.0 && self.l1 == 0.0
    }

    /// Checks λ ≥ 0 and finite, and n > 0 where Nielsen's L2 is on.
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [("l2-nielsen", self.l2_nielsen), ("l1", self.l1)] {
            if !(value >= 0.0 && value.is_finite()) {
                return Err(format!("{name} must be a finite number ≥ 0, got {value}"));
            }
        }
        if self.l2_nielsen > 0.0 && self.training_set_size == 0 {
            return Err("Nielsen's L2 needs the training set size n".into());
        }
        Ok(())
    }

    pub(crate) fn l2_coefficient(&self) -> f64 {
        if self.l2_nielsen > 0.0 {
            self.l2_nielsen / self.training_set_size as f64
        } else {
            0.0
        }
    }

    /// The penalty for one weight matrix, in `f64`.
    pub fn penalty<T: Float>(&self, weight: &Matrix<T>) -> f64 {
        if self.is_none() {
            return 0.0;
        }
        let (l2, l1) = (self.l2_coefficient(), self.l1);
        weight
            .as_slice()
            .iter()
            .map(|w| 0.5 * l2 * w.to_f64() * w.to_f64() + l1 * w.to_f64().abs())
            .sum()
    }

    /// Adds the penalty's gradient to a weight gradient: (λ/n)·w + λ₁·sign(w).
    pub fn add_gradient<T: Float>(&self, weight: &Matrix<T>, gradient: &mut Matrix<T>) {
        if self.is_none() {
            return;
        }
        let (l2, l1) = (T::from_f64(self.l2_coefficient()), T::from_f64(self.l1));
        gradient.zip_map_in_place(weight, |g, w| {
            let sign = if w > T::ZERO {
                T::ONE
            } else if w < T::ZERO {
                -T::ONE
            } else {
                T::ZERO
            };
            g + l2 * w + l1 * sign
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalty_and_gradient() {
        let w = Matrix::<f64>::row_vector(&[1.0, -2.0, 0.0]);
        let r = Regularization::l2_nielsen(0.5, 10);
        assert!((r.penalty(&w) - 0.5 / 20.0 * 5.0).abs() < 1e-15);
        let mut g = Matrix::zeros(1, 3);
        r.add_gradient(&w, &mut g);
        assert_eq!(g.as_slice(), &[0.05, -0.1, 0.0]);
        let r = Regularization::l1(0.1);
        assert!((r.penalty(&w) - 0.3).abs() < 1e-15);
        let mut g = Matrix::zeros(1, 3);
        r.add_gradient(&w, &mut g);
        assert_eq!(g.as_slice(), &[0.1, -0.1, 0.0]);
        assert!(Regularization::l2_nielsen(1.0, 0).validate().is_err());
        assert!(Regularization::l1(-1.0).validate().is_err());
    }
}
