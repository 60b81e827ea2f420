//! The layers of a sequential network: a closed set of kinds, [`Layer`], each implementing
//! one contract, [`LayerOps`].
//!
//! - `forward` maps a batch of inputs to outputs and caches what `backward` will need;
//! - `backward` takes ∂C/∂output, fills the layer's parameter gradients, and returns
//!   ∂C/∂input, the error signal for the layer before it;
//! - parameters and their gradients are reachable by name (`"weight"`, `"bias"`); the network
//!   prefixes them as `layers.{i}.weight`, in PyTorch's (out, in) layout.
//!
//! The set is closed on purpose: the network's passes, traces, model files and exporters
//! treat each kind explicitly (a dense layer's training pass writes straight into its buffers,
//! and the trace reads its z, a and δ), so a new kind — convolution, pooling, flattening — is a
//! new [`Layer`] variant with its [`LayerOps`], not a trait object from outside.

use crate::conv::Conv2d;
use crate::dense::Dense;
use crate::dropout::Dropout;
use crate::pool::Pool2d;
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

impl<'a, T: Float> ParameterSlot<'a, T> {
    /// The two slots of a layer with a weight and a bias, in that order (every layer that
    /// holds parameters lists them this way).
    pub(crate) fn weight_and_bias(
        weight: &'a mut Matrix<T>,
        weight_gradient: &'a mut Matrix<T>,
        bias: &'a mut Matrix<T>,
        bias_gradient: &'a mut Matrix<T>,
    ) -> [Self; 2] {
        [
            ParameterSlot {
                name: "weight",
                value: weight,
                gradient: weight_gradient,
            },
            ParameterSlot {
                name: "bias",
                value: bias,
                gradient: bias_gradient,
            },
        ]
    }
}

/// The contract every kind of layer keeps.
pub trait LayerOps<T: Float>: Send + Sync + std::fmt::Debug {
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

    /// [`LayerOps::forward`] into `output`, whose allocation a layer may reuse from batch to
    /// batch (the network keeps one such buffer per image layer).
    fn forward_into(&mut self, input: &Matrix<T>, mode: Mode, output: &mut Matrix<T>) {
        *output = self.forward(input, mode);
    }

    /// [`LayerOps::backward`] into `grad_input`, whose allocation a layer may reuse.
    fn backward_into(&mut self, grad_output: &Matrix<T>, grad_input: &mut Matrix<T>) {
        *grad_input = self.backward(grad_output);
    }

    /// [`LayerOps::backward`] for the first layer, which has no layer before it: the parameter
    /// gradients only. Layers whose ∂C/∂input costs a product skip it.
    fn backward_parameters_only(&mut self, grad_output: &Matrix<T>) {
        self.backward(grad_output);
    }

    /// Named parameters, `("weight", W)`, `("bias", b)`; none for parameter-free layers.
    fn parameters(&self) -> Vec<(&'static str, &Matrix<T>)> {
        Vec::new()
    }

    /// Named gradients, in the same order as [`LayerOps::parameters`].
    fn gradients(&self) -> Vec<(&'static str, &Matrix<T>)> {
        Vec::new()
    }

    /// Parameters with their gradients, mutable, for an optimiser step.
    fn parameter_slots(&mut self) -> Vec<ParameterSlot<'_, T>> {
        Vec::new()
    }

    /// The state of the layer's random generator, for layers that draw (dropout masks): part
    /// of a checkpoint, so that a resumed run draws the same masks.
    fn random_state(&self) -> Option<RngState> {
        None
    }

    /// Puts the layer's random generator back where [`LayerOps::random_state`] saw it; layers
    /// without one ignore it.
    fn set_random_state(&mut self, _state: RngState) {}
}

/// One stage of a sequential network: one of the kinds the network knows.
#[derive(Clone, Debug)]
pub enum Layer<T: Float> {
    /// An affine map and its activation.
    Dense(Dense<T>),
    /// Dropout (the identity at inference).
    Dropout(Dropout<T>),
    /// A 2-D convolution and its activation.
    Convolution(Conv2d<T>),
    /// Max- or average-pooling.
    Pool(Pool2d<T>),
}

impl<T: Float> Layer<T> {
    /// The layer's contract, whatever its kind.
    pub fn ops(&self) -> &dyn LayerOps<T> {
        match self {
            Self::Dense(dense) => dense,
            Self::Dropout(dropout) => dropout,
            Self::Convolution(conv) => conv,
            Self::Pool(pool) => pool,
        }
    }

    /// The layer's contract, mutable.
    pub fn ops_mut(&mut self) -> &mut dyn LayerOps<T> {
        match self {
            Self::Dense(dense) => dense,
            Self::Dropout(dropout) => dropout,
            Self::Convolution(conv) => conv,
            Self::Pool(pool) => pool,
        }
    }

    /// The dense layer, when this is one.
    pub fn as_dense(&self) -> Option<&Dense<T>> {
        match self {
            Self::Dense(dense) => Some(dense),
            _ => None,
        }
    }

    /// The dense layer, mutable, when this is one.
    pub fn as_dense_mut(&mut self) -> Option<&mut Dense<T>> {
        match self {
            Self::Dense(dense) => Some(dense),
            _ => None,
        }
    }

    /// The dropout layer, when this is one.
    pub fn as_dropout(&self) -> Option<&Dropout<T>> {
        match self {
            Self::Dropout(dropout) => Some(dropout),
            _ => None,
        }
    }

    /// [`LayerOps::describe`].
    pub fn describe(&self) -> String {
        self.ops().describe()
    }

    /// [`LayerOps::input_width`].
    pub fn input_width(&self) -> usize {
        self.ops().input_width()
    }

    /// [`LayerOps::output_width`].
    pub fn output_width(&self) -> usize {
        self.ops().output_width()
    }

    /// [`LayerOps::forward`].
    pub fn forward(&mut self, input: &Matrix<T>, mode: Mode) -> Matrix<T> {
        self.ops_mut().forward(input, mode)
    }

    /// [`LayerOps::infer`].
    pub fn infer(&self, input: &Matrix<T>) -> Matrix<T> {
        self.ops().infer(input)
    }

    /// [`LayerOps::backward`].
    pub fn backward(&mut self, grad_output: &Matrix<T>) -> Matrix<T> {
        self.ops_mut().backward(grad_output)
    }

    /// The convolution, when this is one.
    pub fn as_convolution(&self) -> Option<&Conv2d<T>> {
        match self {
            Self::Convolution(conv) => Some(conv),
            _ => None,
        }
    }

    /// [`LayerOps::forward_into`].
    pub fn forward_into(&mut self, input: &Matrix<T>, mode: Mode, output: &mut Matrix<T>) {
        self.ops_mut().forward_into(input, mode, output);
    }

    /// [`LayerOps::backward_into`].
    pub fn backward_into(&mut self, grad_output: &Matrix<T>, grad_input: &mut Matrix<T>) {
        self.ops_mut().backward_into(grad_output, grad_input);
    }

    /// [`LayerOps::backward_parameters_only`].
    pub fn backward_parameters_only(&mut self, grad_output: &Matrix<T>) {
        self.ops_mut().backward_parameters_only(grad_output);
    }

    /// [`LayerOps::parameters`].
    pub fn parameters(&self) -> Vec<(&'static str, &Matrix<T>)> {
        self.ops().parameters()
    }

    /// [`LayerOps::gradients`].
    pub fn gradients(&self) -> Vec<(&'static str, &Matrix<T>)> {
        self.ops().gradients()
    }

    /// [`LayerOps::parameter_slots`].
    pub fn parameter_slots(&mut self) -> Vec<ParameterSlot<'_, T>> {
        self.ops_mut().parameter_slots()
    }

    /// The weight and bias slots of a dense or convolutional layer, as
    /// [`Layer::parameter_slots`] lists them but without a `Vec`: the optimiser step visits
    /// them on every batch, which must not allocate.
    pub(crate) fn weight_and_bias(&mut self) -> Option<[ParameterSlot<'_, T>; 2]> {
        Some(match self {
            Layer::Dense(d) => ParameterSlot::weight_and_bias(
                &mut d.weight,
                &mut d.weight_gradient,
                &mut d.bias,
                &mut d.bias_gradient,
            ),
            Layer::Convolution(c) => ParameterSlot::weight_and_bias(
                &mut c.weight,
                &mut c.weight_gradient,
                &mut c.bias,
                &mut c.bias_gradient,
            ),
            Layer::Pool(_) | Layer::Dropout(_) => return None,
        })
    }

    /// [`LayerOps::random_state`].
    pub fn random_state(&self) -> Option<RngState> {
        self.ops().random_state()
    }

    /// [`LayerOps::set_random_state`].
    pub fn set_random_state(&mut self, state: RngState) {
        self.ops_mut().set_random_state(state);
    }
}

impl<T: Float> From<Dense<T>> for Layer<T> {
    fn from(dense: Dense<T>) -> Self {
        Self::Dense(dense)
    }
}

impl<T: Float> From<Conv2d<T>> for Layer<T> {
    fn from(conv: Conv2d<T>) -> Self {
        Self::Convolution(conv)
    }
}

impl<T: Float> From<Pool2d<T>> for Layer<T> {
    fn from(pool: Pool2d<T>) -> Self {
        Self::Pool(pool)
    }
}

impl<T: Float> From<Dropout<T>> for Layer<T> {
    fn from(dropout: Dropout<T>) -> Self {
        Self::Dropout(dropout)
    }
}
