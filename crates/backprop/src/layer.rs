//! The `Layer` trait: one stage of a sequential network.
//!
//! - `forward` maps a batch of inputs to outputs and caches what `backward` will need;
//! - `backward` takes ∂C/∂output, fills the layer's parameter gradients, and returns
//!   ∂C/∂input, the error signal for the layer before it;
//! - parameters and their gradients are reachable by name (`"weight"`, `"bias"`); the network
//!   prefixes them as `layers.{i}.weight`, in PyTorch's (out, in) layout.

use crate::dense::Dense;
use backprop_tensor::{Float, Matrix, RngState};

/// Whether a forward pass is for training (dropout active) or inference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Training: dropout draws masks.
    Train,
    /// Inference: dropout is the identity.
    Eval,
}

/// A parameter of a layer with its gradient, borrowed for an optimiser step.
pub struct ParameterSlot<'a, T: Float> {
    /// `"weight"` or `"bias"`.
    pub name: &'static str,
    /// The parameter's values.
    pub value: &'a mut Matrix<T>,
    /// ∂C/∂parameter from the last backward pass.
    pub gradient: &'a mut Matrix<T>,
}

/// One stage of a sequential network.
pub trait Layer<T: Float>: Send + Sync + std::fmt::Debug {
    /// A short name for messages, e.g. `"dense 784→30 sigmoid"`.
    fn describe(&self) -> String;

    /// The number of input units.
    fn input_width(&self) -> usize;

    /// The number of output units.
    fn output_width(&self) -> usize;

    /// Maps a batch (one example per row), caching what the backward pass needs.
    fn forward(&mut self, input: &Matrix<T>, mode: Mode) -> Matrix<T>;

    /// Maps a batch for inference, without touching caches.
    fn infer(&self, input: &Matrix<T>) -> Matrix<T>;

    /// Takes ∂C/∂output of the last `forward`, fills the parameter gradients, returns ∂C/∂input.
    fn backward(&mut self, grad_output: &Matrix<T>) -> Matrix<T>;

    /// Named parameters, `("weight", W)`, `("bias", b)`; none for parameter-free layers.
    fn parameters(&self) -> Vec<(&'static str, &Matrix<T>)> {
        Vec::new()
    }

    /// Named gradients, in the same order as [`Layer::parameters`].
    fn gradients(&self) -> Vec<(&'static str, &Matrix<T>)> {
        Vec::new()
    }

    /// Parameters with their gradients, mutable, for an optimiser step.
    fn parameter_slots(&mut self) -> Vec<ParameterSlot<'_, T>> {
        Vec::new()
    }

    /// The dense layer inside, when this is one (for traces and diagrams).
    fn as_dense(&self) -> Option<&Dense<T>> {
        None
    }

    /// The dense layer inside, mutable.
    fn as_dense_mut(&mut self) -> Option<&mut Dense<T>> {
        None
    }

    /// The state of the layer's random generator, for layers that draw (dropout masks): part
    /// of a checkpoint, so that a resumed run draws the same masks.
    fn random_state(&self) -> Option<RngState> {
        None
    }

    /// Puts the layer's random generator back where [`Layer::random_state`] saw it; layers
    /// without one ignore it.
    fn set_random_state(&mut self, _state: RngState) {}

    /// A boxed copy.
    fn boxed_clone(&self) -> Box<dyn Layer<T>>;
}

impl<T: Float> Clone for Box<dyn Layer<T>> {
    fn clone(&self) -> Self {
        self.boxed_clone()
    }
}
