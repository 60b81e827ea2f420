//! Optimisers: how each parameter moves once its gradient g = ∂L/∂p is known.
//!
//! Every rule updates a parameter element by element, p ← p − η·u(g, state), where η is this
//! step's learning rate (a [`LearningRateSchedule`] applied to the configured base rate) and u
//! is the rule's direction: plain or momentum SGD, Adam, AdamW or RMSprop, with the semantics
//! and defaults of PyTorch 2.x. Each rule is a pure function of (parameter, gradient, state):
//! [`sgd_update`], [`adam_update`], [`adamw_update`], [`rmsprop_update`], reached through the
//! [`UpdateRule`] trait that each configuration implements. [`Optimizer`] keeps
//! one state per named parameter and saves it as named tensors and step counts
//! ([`Optimizer::state_tensors`], [`Optimizer::state_scalars`]) from which
//! [`Optimizer::restore`] rebuilds an optimiser that continues bit for bit.
//! [`clip_by_global_norm`] rescales gradients so that ‖(g₁, …, gₙ)‖₂ ≤ max_norm.
//! [`minimize`] is full-batch L-BFGS over any f: ℝⁿ → ℝ; [`lbfgs_fit`] runs it over a
//! network's parameters.

/// Writes one `with_<field>` builder method per listed field.
macro_rules! with_methods {
    ($($method:ident => $field:ident: $kind:ty),* $(,)?) => {
        $(
            #[doc = concat!("Returns the configuration with `", stringify!($field), "` set.")]
            #[must_use]
            pub fn $method(mut self, $field: $kind) -> Self {
                self.$field = $field;
                self
            }
        )*
    };
}

mod adam;
mod checkpoint;
mod clip;
mod config;
mod lbfgs;
mod lbfgs_network;
mod optimizer;
pub(crate) mod parts;
pub(crate) mod pieces;
mod rmsprop;
mod rule;
mod schedule;
mod sgd;
pub(crate) mod subnormal;

pub use adam::{adam_update, adamw_update, AdamConfig, AdamState, AdamWConfig};
pub use clip::{clip_by_global_norm, global_norm, validate_max_norm};
pub use config::OptimizerConfig;
pub use lbfgs::{minimize, LbfgsConfig, LbfgsReport, LbfgsStop};
pub use lbfgs_network::{lbfgs_fit, pack_gradients, pack_parameters, unpack_parameters};
pub use optimizer::{Optimizer, ParameterRef};
pub use rmsprop::{rmsprop_update, RmsPropConfig, RmsPropState};
pub use rule::{ParameterState, UpdateRule};
pub use schedule::{Decay, LearningRateSchedule};
pub use sgd::{sgd_update, SgdConfig, SgdState};

use thiserror::Error;

/// Why an optimiser, schedule or saved optimiser state was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OptimError {
    /// A hyper-parameter lies outside its valid range.
    #[error("{owner}: {field} = {value} is invalid, it must be {requirement}")]
    InvalidHyperParameter {
        /// What the field belongs to: `"SGD"`, `"Adam"`, `"schedule"`, …
        owner: &'static str,
        /// The field's name, e.g. `"beta1"`.
        field: &'static str,
        /// The value given.
        value: f64,
        /// The condition it breaks, in words.
        requirement: &'static str,
    },
    /// Nesterov momentum was asked for without momentum > 0 and dampening = 0.
    #[error(
        "SGD: nesterov requires momentum > 0 and dampening = 0, \
         got momentum = {momentum} and dampening = {dampening}"
    )]
    NesterovRequirements {
        /// The momentum given.
        momentum: f64,
        /// The dampening given.
        dampening: f64,
    },
    /// A change of hyper-parameters asked for another update rule, whose state differs.
    #[error("the optimizer's rule cannot change from {from} to {to} while it keeps its state")]
    RuleChanged {
        /// The rule in use.
        from: &'static str,
        /// The rule asked for.
        to: &'static str,
    },
    /// A saved state lacks a tensor the configuration needs.
    #[error("optimizer state: tensor `{name}` is missing")]
    MissingTensor {
        /// The tensor's full name, e.g. `optimizer.layers.0.weight.exp_avg`.
        name: String,
    },
    /// A saved state holds a tensor that the configuration has no use for.
    #[error("optimizer state: tensor `{name}` is not used by a {optimizer} optimizer")]
    UnexpectedTensor {
        /// The tensor's full name.
        name: String,
        /// The configured optimiser's name.
        optimizer: &'static str,
    },
    /// A saved state lacks a step count.
    #[error("optimizer state: scalar `{name}` is missing")]
    MissingScalar {
        /// The scalar's full name, e.g. `optimizer.steps_taken`.
        name: String,
    },
    /// A saved state holds a scalar that is not a step count.
    #[error("optimizer state: scalar `{name}` is not an optimizer step count")]
    UnexpectedScalar {
        /// The scalar's full name.
        name: String,
    },
    /// A saved state names the same tensor or scalar twice.
    #[error("optimizer state: `{name}` appears more than once")]
    DuplicateEntry {
        /// The repeated name.
        name: String,
    },
    /// A state tensor's length disagrees with its siblings or with its parameter.
    #[error("optimizer state: tensor `{name}` has {found} elements, expected {expected}")]
    LengthMismatch {
        /// The tensor's full name.
        name: String,
        /// The length it should have.
        expected: usize,
        /// The length it has.
        found: usize,
    },
    /// The optimiser holds state for a parameter the model does not have.
    #[error(
        "optimizer state: parameter `{name}` has state but is not among the model's parameters"
    )]
    UnknownParameter {
        /// The parameter's name.
        name: String,
    },
}

/// Returns `Ok` when `valid`, else [`OptimError::InvalidHyperParameter`].
fn require(
    valid: bool,
    owner: &'static str,
    field: &'static str,
    value: f64,
    requirement: &'static str,
) -> Result<(), OptimError> {
    if valid {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperParameter {
            owner,
            field,
            value,
            requirement,
        })
    }
}

/// Checks a value that must be finite and strictly positive (learning rates, ε).
fn require_positive(
    owner: &'static str,
    field: &'static str,
    value: f64,
) -> Result<(), OptimError> {
    require(
        value.is_finite() && value > 0.0,
        owner,
        field,
        value,
        "finite and > 0",
    )
}

/// Checks a value that must be finite and ≥ 0 (momentum, weight decay).
fn require_non_negative(
    owner: &'static str,
    field: &'static str,
    value: f64,
) -> Result<(), OptimError> {
    require(
        value.is_finite() && value >= 0.0,
        owner,
        field,
        value,
        "finite and >= 0",
    )
}

/// Checks a decay rate that must lie in [0, 1) (β₁, β₂, α).
fn require_decay_rate(
    owner: &'static str,
    field: &'static str,
    value: f64,
) -> Result<(), OptimError> {
    require(
        (0.0..1.0).contains(&value),
        owner,
        field,
        value,
        "in [0, 1)",
    )
}

/// Sizes a lazily created state buffer to `length` zeros on first use; returns true when it did.
///
/// # Panics
/// When the buffer already holds a different number of elements than the parameter (a restored
/// state that does not belong to this parameter; [`Optimizer::check_state_lengths`] reports it
/// as an error instead).
#[track_caller]
fn ensure_buffer<T: backprop_tensor::Float>(
    buffer: &mut Vec<T>,
    length: usize,
    name: &str,
) -> bool {
    if buffer.is_empty() {
        buffer.resize(length, T::ZERO);
        return true;
    }
    assert_eq!(
        buffer.len(),
        length,
        "optimizer state buffer `{name}` has {} elements but its parameter has {length}",
        buffer.len()
    );
    false
}

/// Panics unless a parameter and its gradient have the same number of elements.
#[track_caller]
fn assert_same_length(rule: &str, parameter: usize, gradient: usize) {
    assert_eq!(
        parameter, gradient,
        "{rule}: the parameter has {parameter} elements but its gradient has {gradient}"
    );
}
