//! Inverted dropout: in training each unit is kept with probability 1 − p and scaled by
//! 1/(1 − p), so the expected activation is unchanged and inference is the identity.
//! Backward multiplies ∂C/∂output by the same mask. The masks come from a seeded generator.
//! The mask lives in a buffer kept from batch to batch, so a training step allocates nothing.

use crate::layer::{LayerOps, Mode};
use backprop_tensor::{Float, Matrix, RngState, SeededRng};

/// A dropout layer.
#[derive(Clone, Debug)]
pub struct Dropout<T: Float> {
    probability: f64,
    width: usize,
    rng: SeededRng,
    /// The last training pass's mask, 0 or 1/(1 − p) per value; used while `masked`.
    mask: Matrix<T>,
    masked: bool,
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
            mask: Matrix::zeros(0, 0),
            masked: false,
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

/// out = values ⊙ mask, into `out`'s allocation.
fn masked_into<T: Float>(out: &mut Matrix<T>, values: &Matrix<T>, mask: &Matrix<T>) {
    out.resize(values.rows(), values.cols());
    for ((o, v), m) in out
        .as_mut_slice()
        .iter_mut()
        .zip(values.as_slice())
        .zip(mask.as_slice())
    {
        *o = *v * *m;
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
        let mut output = Matrix::zeros(0, 0);
        self.forward_into(input, mode, &mut output);
        output
    }

    fn forward_into(&mut self, input: &Matrix<T>, mode: Mode, output: &mut Matrix<T>) {
        self.masked = mode == Mode::Train && self.probability > 0.0;
        if !self.masked {
            output.copy_from(input);
            return;
        }
        let keep = 1.0 - self.probability;
        let scale = T::from_f64(1.0 / keep);
        // One draw per value in row-major order: the masks depend on the seed alone.
        self.mask.resize(input.rows(), input.cols());
        for value in self.mask.as_mut_slice() {
            *value = if self.rng.uniform() < keep {
                scale
            } else {
                T::ZERO
            };
        }
        masked_into(output, input, &self.mask);
    }

    fn infer(&self, input: &Matrix<T>) -> Matrix<T> {
        input.clone()
    }

    fn backward(&mut self, grad_output: &Matrix<T>) -> Matrix<T> {
        let mut grad_input = Matrix::zeros(0, 0);
        self.backward_into(grad_output, &mut grad_input);
        grad_input
    }

    fn backward_into(&mut self, grad_output: &Matrix<T>, grad_input: &mut Matrix<T>) {
        // ∂(m ⊙ x)/∂x = m
        if !self.masked {
            grad_input.copy_from(grad_output);
            return;
        }
        masked_into(grad_input, grad_output, &self.mask);
    }

    fn backward_parameters_only(&mut self, _grad_output: &Matrix<T>) {
        // No parameters, and no layer before it to hand ∂C/∂input to.
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
