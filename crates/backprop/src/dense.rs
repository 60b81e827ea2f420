//! A dense layer: an affine map followed by its activation, zˡ = wˡ aˡ⁻¹ + bˡ, aˡ = σ(zˡ).
//!
//! For a batch X (n × in) with W (out × in) and b (1 × out), all one example per row:
//! - forward: Z = X·Wᵀ + 1·b, A = σ(Z);
//! - backward, given ∂C/∂A:
//!   - δ = ∂C/∂A ⊙ σ′(Z) (BP1 at the output, BP2's ⊙ σ′ elsewhere),
//!   - ∂C/∂W = δᵀ·X (BP4, summed over the batch),
//!   - ∂C/∂b = Σₓ δₓ (BP3),
//!   - ∂C/∂X = δ·W, which is (wˡ)ᵀ δˡ for the layer before (the first half of BP2).

use crate::activation::Activation;
use crate::layer::{Layer, Mode, ParameterSlot};
use backprop_tensor::{Float, Matrix};

/// What a training forward pass remembers for backward and for traces.
#[derive(Clone, Debug)]
pub struct DenseCache<T: Float> {
    /// aˡ⁻¹, the layer's input.
    pub input: Matrix<T>,
    /// zˡ, the weighted input.
    pub z: Matrix<T>,
    /// aˡ = σ(zˡ).
    pub a: Matrix<T>,
    /// δˡ = ∂C/∂zˡ, once backward has run.
    pub delta: Option<Matrix<T>>,
}

/// A dense (fully connected) layer with its activation.
#[derive(Clone, Debug)]
pub struct Dense<T: Float> {
    /// Weights, (out × in): row j holds the weights into unit j.
    pub weight: Matrix<T>,
    /// Biases, (1 × out).
    pub bias: Matrix<T>,
    /// σ.
    pub activation: Activation,
    /// ∂C/∂W from the last backward pass.
    pub weight_gradient: Matrix<T>,
    /// ∂C/∂b from the last backward pass.
    pub bias_gradient: Matrix<T>,
    cache: Option<DenseCache<T>>,
}

impl<T: Float> Dense<T> {
    /// A layer with the given weights (out × in), bias (1 × out) and activation.
    ///
    /// # Panics
    /// When the bias is not 1 × out.
    #[track_caller]
    pub fn new(weight: Matrix<T>, bias: Matrix<T>, activation: Activation) -> Self {
        assert_eq!(
            bias.shape(),
            (1, weight.rows()),
            "dense: bias must be 1×{} for a {}×{} weight",
            weight.rows(),
            weight.rows(),
            weight.cols()
        );
        let weight_gradient = Matrix::zeros(weight.rows(), weight.cols());
        let bias_gradient = Matrix::zeros(1, weight.rows());
        Self {
            weight,
            bias,
            activation,
            weight_gradient,
            bias_gradient,
            cache: None,
        }
    }

    /// The cache of the last training forward pass (and δ once backward ran).
    pub fn cache(&self) -> Option<&DenseCache<T>> {
        self.cache.as_ref()
    }

    /// Z = X·Wᵀ + 1·b.
    #[track_caller]
    pub fn weighted_input(&self, input: &Matrix<T>) -> Matrix<T> {
        assert_eq!(
            input.cols(),
            self.weight.cols(),
            "{}: input has {} columns, the layer takes {}",
            self.describe(),
            input.cols(),
            self.weight.cols()
        );
        let mut z = input.matmul_transpose(&self.weight);
        z.add_row_to_each_row(&self.bias);
        z
    }

    /// Given δ = ∂C/∂Z for the cached forward pass: stores ∂C/∂W = δᵀX (BP4) and
    /// ∂C/∂b = Σₓ δₓ (BP3), and returns ∂C/∂X = δ·W.
    ///
    /// # Panics
    /// When no training forward pass was cached, or δ's shape does not match it.
    #[track_caller]
    pub fn backward_from_delta(&mut self, delta: Matrix<T>) -> Matrix<T> {
        let description = self.describe();
        let cache = self
            .cache
            .as_mut()
            .unwrap_or_else(|| panic!("{description}: backward before forward"));
        assert_eq!(
            delta.shape(),
            cache.z.shape(),
            "{description}: δ shape differs from z"
        );
        // BP4: ∂C/∂wⱼₖ = Σₓ δⱼ aₖˡ⁻¹
        self.weight_gradient = delta.transpose_matmul(&cache.input);
        // BP3: ∂C/∂bⱼ = Σₓ δⱼ
        self.bias_gradient = delta.column_sums();
        // (wˡ)ᵀ δˡ, handed to the layer before.
        let grad_input = delta.matmul(&self.weight);
        cache.delta = Some(delta);
        grad_input
    }
}

impl<T: Float> Layer<T> for Dense<T> {
    fn describe(&self) -> String {
        format!(
            "dense {}→{} {}",
            self.weight.cols(),
            self.weight.rows(),
            self.activation
        )
    }

    fn input_width(&self) -> usize {
        self.weight.cols()
    }

    fn output_width(&self) -> usize {
        self.weight.rows()
    }

    fn forward(&mut self, input: &Matrix<T>, _mode: Mode) -> Matrix<T> {
        let z = self.weighted_input(input);
        let a = self.activation.forward(&z);
        self.cache = Some(DenseCache {
            input: input.clone(),
            z,
            a: a.clone(),
            delta: None,
        });
        a
    }

    fn infer(&self, input: &Matrix<T>) -> Matrix<T> {
        self.activation.forward(&self.weighted_input(input))
    }

    fn backward(&mut self, grad_output: &Matrix<T>) -> Matrix<T> {
        let description = self.describe();
        let cache = self
            .cache
            .as_ref()
            .unwrap_or_else(|| panic!("{description}: backward before forward"));
        // δ = ∂C/∂a ⊙ σ′(z)
        let delta = self.activation.backward(&cache.z, &cache.a, grad_output);
        self.backward_from_delta(delta)
    }

    fn parameters(&self) -> Vec<(&'static str, &Matrix<T>)> {
        vec![("weight", &self.weight), ("bias", &self.bias)]
    }

    fn gradients(&self) -> Vec<(&'static str, &Matrix<T>)> {
        vec![
            ("weight", &self.weight_gradient),
            ("bias", &self.bias_gradient),
        ]
    }

    fn parameter_slots(&mut self) -> Vec<ParameterSlot<'_, T>> {
        vec![
            ParameterSlot {
                name: "weight",
                value: &mut self.weight,
                gradient: &mut self.weight_gradient,
            },
            ParameterSlot {
                name: "bias",
                value: &mut self.bias,
                gradient: &mut self.bias_gradient,
            },
        ]
    }

    fn as_dense(&self) -> Option<&Dense<T>> {
        Some(self)
    }

    fn as_dense_mut(&mut self) -> Option<&mut Dense<T>> {
        Some(self)
    }

    fn boxed_clone(&self) -> Box<dyn Layer<T>> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_by_hand() {
        // One unit, two inputs: z = 0.5·x₁ − 1·x₂ + 0.25, identity activation.
        let w = Matrix::<f64>::from_rows(&[[0.5, -1.0]]).unwrap();
        let mut layer = Dense::new(w, Matrix::row_vector(&[0.25]), Activation::Identity);
        let x = Matrix::from_rows(&[[1.0, 2.0], [3.0, 0.0]]).unwrap();
        let a = layer.forward(&x, Mode::Train);
        assert_eq!(a.as_slice(), &[-1.25, 1.75]);
        let grad_input = layer.backward(&Matrix::from_rows(&[[1.0], [2.0]]).unwrap());
        assert_eq!(layer.weight_gradient.as_slice(), &[1.0 + 6.0, 2.0]);
        assert_eq!(layer.bias_gradient.as_slice(), &[3.0]);
        assert_eq!(grad_input.as_slice(), &[0.5, -1.0, 1.0, -2.0]);
    }

    #[test]
    #[should_panic(expected = "dense 2→1 identity: input has 3 columns, the layer takes 2")]
    fn wrong_input_width_names_the_layer() {
        let layer = Dense::new(
            Matrix::<f32>::zeros(1, 2),
            Matrix::zeros(1, 1),
            Activation::Identity,
        );
        let _ = layer.infer(&Matrix::zeros(4, 3));
    }
}
