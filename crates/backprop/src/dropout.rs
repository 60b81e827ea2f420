//! Inverted dropout: in training each unit is kept with probability 1 − p and scaled by
//! 1/(1 − p), so the expected activation is unchanged and inference is the identity.
//! Backward multiplies ∂C/∂output by the same mask. The masks come from a seeded generator.

use crate::layer::{LayerOps, Mode};
use backprop_tensor::{Float, Matrix, RngState, SeededRng};

/// A dropout layer.
#[derive(Clone, Debug)]
pub struct Dropout<T: Float> {
    probability: f64,
    width: usize,
    rng: SeededRng,
    mask: Option<Matrix<T>>,
}

impl<T: Float> Dropout<T> {
    /// Drops each of `width` units with probability `probability` ∈ [0, 1), masks drawn from `rng`.
    ///
    /// # Panics
    /// When the probability is outside [0, 1) (the network config validates it first).
    #[track_caller]
    pub fn new(width: usize, probability: f64, rng: SeededRng) -> Self {
        assert!(
            (0.0..1.0).contains(&probability),
            "dropout probability {probability} is outside [0, 1)"
        );
        Self {
            probability,
            width,
            rng,
            mask: None,
        }
    }

    /// The drop probability p.
    pub fn probability(&self) -> f64 {
        self.probability
    }

    /// The mask generator (its state belongs in a checkpoint).
    pub fn rng(&self) -> &SeededRng {
        &self.rng
    }
}

impl<T: Float> LayerOps<T> for Dropout<T> {
    fn describe(&self) -> String {
        format!("dropout p={} over {}", self.probability, self.width)
    }

    fn input_width(&self) -> usize {
        self.width
    }

    fn output_width(&self) -> usize {
        self.width
    }

    fn forward(&mut self, input: &Matrix<T>, mode: Mode) -> Matrix<T> {
        if mode == Mode::Eval || self.probability == 0.0 {
            self.mask = None;
            return input.clone();
        }
        let keep = 1.0 - self.probability;
        let scale = T::from_f64(1.0 / keep);
        let rng = &mut self.rng;
        let mask = Matrix::from_fn(input.rows(), input.cols(), |_, _| {
            if rng.uniform() < keep {
                scale
            } else {
                T::ZERO
            }
        });
        let output = input.hadamard(&mask);
        self.mask = Some(mask);
        output
    }

    fn infer(&self, input: &Matrix<T>) -> Matrix<T> {
        input.clone()
    }

    fn backward(&mut self, grad_output: &Matrix<T>) -> Matrix<T> {
        // ∂(m ⊙ x)/∂x = m
        match &self.mask {
            Some(mask) => grad_output.hadamard(mask),
            None => grad_output.clone(),
        }
    }

    fn random_state(&self) -> Option<RngState> {
        Some(self.rng.state())
    }

    fn set_random_state(&mut self, state: RngState) {
        self.rng = SeededRng::from_state(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_expectation_and_is_identity_at_inference() {
        let mut layer = Dropout::<f64>::new(1000, 0.3, SeededRng::new(9));
        let x = Matrix::filled(10, 1000, 1.0);
        let y = layer.forward(&x, Mode::Train);
        let kept = y.as_slice().iter().filter(|&&v| v > 0.0).count() as f64 / y.len() as f64;
        assert!((kept - 0.7).abs() < 0.02, "{kept}");
        assert!((y.sum() / y.len() as f64 - 1.0).abs() < 0.03);
        let g = layer.backward(&Matrix::filled(10, 1000, 2.0));
        assert_eq!(
            g.as_slice()
                .iter()
                .zip(y.as_slice())
                .filter(|(g, y)| (**g == 0.0) != (**y == 0.0))
                .count(),
            0
        );
        assert_eq!(layer.forward(&x, Mode::Eval), x);
        assert_eq!(layer.infer(&x), x);
    }

    #[test]
    fn same_seed_same_mask() {
        let x = Matrix::<f32>::filled(4, 16, 1.0);
        let a = Dropout::new(16, 0.5, SeededRng::new(1)).forward(&x, Mode::Train);
        let b = Dropout::new(16, 0.5, SeededRng::new(1)).forward(&x, Mode::Train);
        assert_eq!(a, b);
    }
}
