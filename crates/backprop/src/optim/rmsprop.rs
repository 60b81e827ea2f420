//! RMSprop: steps divided by a running root-mean-square of the gradient.
//!
//! PyTorch's rule, per element: g ← g + λ·p; s ← α·s + (1 − α)·g²; centred, also
//! ḡ ← α·ḡ + (1 − α)·g and a = √(s − ḡ²) + ε, else a = √s + ε. With momentum μ > 0 the buffer
//! b ← μ·b + g/a and p ← p − η·b; without it p ← p − η·g/a.

use super::subnormal::{zero_below, Floors};
use super::{assert_same_length, ensure_buffer, require_decay_rate};
use super::{require_non_negative, require_positive, OptimError};
use super::{ParameterState, UpdateRule};
use backprop_tensor::Float;

/// Hyper-parameters of RMSprop; [`Default`] gives PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsPropConfig {
    /// Base learning rate η (default 1e-2).
    pub learning_rate: f64,
    /// Smoothing constant α of the running averages (default 0.99).
    pub alpha: f64,
    /// ε added to the denominator (default 1e-8).
    pub epsilon: f64,
    /// L2 penalty λ added to the gradient as λ·p (default 0).
    pub weight_decay: f64,
    /// Momentum factor μ (default 0: no momentum buffer).
    pub momentum: f64,
    /// Normalise by the estimated variance s − ḡ² instead of s (default false).
    pub centered: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-2,
            alpha: 0.99,
            epsilon: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

impl RmsPropConfig {
    /// PyTorch's defaults, as [`Default`].
    pub fn new() -> Self {
        Self::default()
    }

    with_methods!(
        with_learning_rate => learning_rate: f64,
        with_alpha => alpha: f64,
        with_epsilon => epsilon: f64,
        with_weight_decay => weight_decay: f64,
        with_momentum => momentum: f64,
        with_centered => centered: bool,
    );

    /// Checks every field: learning_rate and epsilon finite and > 0, alpha in [0, 1),
    /// weight_decay and momentum finite and ≥ 0.
    pub fn validate(&self) -> Result<(), OptimError> {
        require_positive("RMSprop", "learning_rate", self.learning_rate)?;
        require_decay_rate("RMSprop", "alpha", self.alpha)?;
        require_positive("RMSprop", "epsilon", self.epsilon)?;
        require_non_negative("RMSprop", "weight_decay", self.weight_decay)?;
        require_non_negative("RMSprop", "momentum", self.momentum)
    }
}

/// The state RMSprop keeps for one parameter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RmsPropState<T: Float> {
    /// Running mean of g², s; empty until the first step.
    pub square_avg: Vec<T>,
    /// Running mean of g, ḡ; used only when centred, empty otherwise.
    pub grad_avg: Vec<T>,
    /// Momentum buffer b; used only with momentum > 0, empty otherwise.
    pub momentum_buffer: Vec<T>,
    /// Number of updates applied to this parameter.
    pub step: u64,
}

/// One RMSprop update of `parameter` in place, at `learning_rate` (the scheduled rate).
///
/// # Panics
/// When `parameter` and `gradient` differ in length, or a non-empty state buffer does.
#[track_caller]
pub fn rmsprop_update<T: Float>(
    config: &RmsPropConfig,
    learning_rate: f64,
    parameter: &mut [T],
    gradient: &[T],
    state: &mut RmsPropState<T>,
) {
    assert_same_length("rmsprop_update", parameter.len(), gradient.len());
    let settings = rmsprop_settings(config, learning_rate, parameter.len(), state);
    rmsprop_elements(
        parameter,
        gradient,
        &mut state.square_avg,
        &mut state.grad_avg,
        &mut state.momentum_buffer,
        settings,
    );
}

/// The scalars of one RMSprop step, in `T`.
#[derive(Clone, Copy, Debug)]
pub(super) struct RmsPropSettings<T> {
    learning_rate: T,
    alpha: T,
    one_minus_alpha: T,
    epsilon: T,
    momentum: T,
    weight_decay: T,
    decays: bool,
    centered: bool,
    uses_momentum: bool,
}

/// Counts one step in `state` (its buffers sized for a parameter of `length` values: s, and ḡ
/// when centred, b with momentum) and returns that step's scalars.
#[track_caller]
pub(super) fn rmsprop_settings<T: Float>(
    config: &RmsPropConfig,
    learning_rate: f64,
    length: usize,
    state: &mut RmsPropState<T>,
) -> RmsPropSettings<T> {
    ensure_buffer(&mut state.square_avg, length, "square_avg");
    if config.centered {
        ensure_buffer(&mut state.grad_avg, length, "grad_avg");
    }
    let uses_momentum = config.momentum > 0.0;
    if uses_momentum {
        ensure_buffer(&mut state.momentum_buffer, length, "momentum_buffer");
    }
    state.step += 1;
    RmsPropSettings {
        learning_rate: T::from_f64(learning_rate),
        alpha: T::from_f64(config.alpha),
        one_minus_alpha: T::from_f64(1.0 - config.alpha),
        epsilon: T::from_f64(config.epsilon),
        momentum: T::from_f64(config.momentum),
        weight_decay: T::from_f64(config.weight_decay),
        decays: config.weight_decay != 0.0,
        centered: config.centered,
        uses_momentum,
    }
}

/// The per-element RMSprop update over matching parts of the parameter, its gradient and the
/// buffers (`grad_avg` used only when centred, `momentum_buffer` only with momentum; either
/// may then be empty).
pub(super) fn rmsprop_elements<T: Float>(
    parameter: &mut [T],
    gradient: &[T],
    square_avg: &mut [T],
    grad_avg: &mut [T],
    momentum_buffer: &mut [T],
    s: RmsPropSettings<T>,
) {
    let floor = Floors::<T>::new();
    for (i, (p, &g)) in parameter.iter_mut().zip(gradient).enumerate() {
        let g = if s.decays { g + s.weight_decay * *p } else { g };
        let (g, g_squared) = (zero_below(g, floor.state), zero_below(g, floor.squared));
        let square = &mut square_avg[i];
        *square = zero_below(
            s.alpha * *square + s.one_minus_alpha * g_squared * g_squared,
            floor.state,
        );
        let root = if s.centered {
            let mean = &mut grad_avg[i];
            *mean = zero_below(s.alpha * *mean + s.one_minus_alpha * g, floor.state);
            let mean_squared = zero_below(*mean, floor.squared);
            (*square - mean_squared * mean_squared).sqrt()
        } else {
            square.sqrt()
        };
        let average = root + s.epsilon;
        if s.uses_momentum {
            let buffer = &mut momentum_buffer[i];
            *buffer = zero_below(s.momentum * *buffer + g / average, floor.state);
            *p -= s.learning_rate * *buffer;
        } else {
            *p -= s.learning_rate * g / average;
        }
    }
}

impl UpdateRule for RmsPropConfig {
    fn buffer_names(&self) -> &'static [&'static str] {
        match (self.centered, self.momentum > 0.0) {
            (false, false) => &["square_avg"],
            (true, false) => &["square_avg", "grad_avg"],
            (false, true) => &["square_avg", "momentum_buffer"],
            (true, true) => &["square_avg", "grad_avg", "momentum_buffer"],
        }
    }

    fn update<T: Float>(
        &self,
        learning_rate: f64,
        parameter: &mut [T],
        gradient: &[T],
        state: &mut ParameterState<T>,
    ) {
        let mut typed = RmsPropState {
            square_avg: state.take_buffer("square_avg"),
            grad_avg: state.take_buffer("grad_avg"),
            momentum_buffer: state.take_buffer("momentum_buffer"),
            step: state.step,
        };
        rmsprop_update(self, learning_rate, parameter, gradient, &mut typed);
        state.step = typed.step;
        state.put_buffer("square_avg", typed.square_avg);
        state.put_buffer("grad_avg", typed.grad_avg);
        state.put_buffer("momentum_buffer", typed.momentum_buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRADIENTS: [&[f64]; 3] = [&[2.0, -0.5], &[1.0, 0.25], &[-1.5, 3.0]];

    /// RMSprop in f64 from the formula.
    fn reference(config: &RmsPropConfig, learning_rate: f64, p: &mut [f64], steps: usize) {
        let (a, eps, mu, wd) = (
            config.alpha,
            config.epsilon,
            config.momentum,
            config.weight_decay,
        );
        let (mut s, mut mean, mut b) = ([0.0; 2], [0.0; 2], [0.0; 2]);
        for g in &GRADIENTS[..steps] {
            for i in 0..2 {
                let g = g[i] + wd * p[i];
                s[i] = a * s[i] + (1.0 - a) * g * g;
                mean[i] = a * mean[i] + (1.0 - a) * g;
                let variance = if config.centered {
                    s[i] - mean[i] * mean[i]
                } else {
                    s[i]
                };
                let average = variance.sqrt() + eps;
                b[i] = mu * b[i] + g / average;
                p[i] -= learning_rate * if mu > 0.0 { b[i] } else { g / average };
            }
        }
    }

    fn check(config: RmsPropConfig) {
        let mut p = [1.0, -1.0];
        let mut expected = p;
        reference(&config, 0.01, &mut expected, 3);
        let mut state = RmsPropState::default();
        for g in GRADIENTS {
            rmsprop_update(&config, 0.01, &mut p, g, &mut state);
        }
        for (x, y) in p.iter().zip(&expected) {
            assert!(
                (x - y).abs() < 1e-12,
                "{config:?}: {p:?} against {expected:?}"
            );
        }
        assert_eq!(state.grad_avg.len(), if config.centered { 2 } else { 0 });
        assert_eq!(
            state.momentum_buffer.len(),
            if config.momentum > 0.0 { 2 } else { 0 }
        );
        assert_eq!(state.step, 3);
    }

    #[test]
    fn defaults_match_pytorch() {
        let config = RmsPropConfig::default();
        assert_eq!(
            (config.learning_rate, config.alpha, config.epsilon),
            (1e-2, 0.99, 1e-8)
        );
        assert_eq!((config.weight_decay, config.momentum), (0.0, 0.0));
        assert!(!config.centered);
    }

    #[test]
    fn first_step_by_hand() {
        // s = 0.01·4 = 0.04, a = 0.2 + 1e-8, p = 1 − 0.02/a = 0.900000005 (a step ≈ 10·η·sign g).
        let mut p = [1.0];
        let mut state = RmsPropState::default();
        rmsprop_update(&RmsPropConfig::new(), 0.01, &mut p, &[2.0], &mut state);
        assert!((p[0] - (1.0 - 0.02 / (0.2 + 1e-8))).abs() < 1e-15);
        assert!((p[0] - 0.900_000_005).abs() < 1e-12, "{}", p[0]);
        assert!((state.square_avg[0] - 0.04).abs() < 1e-15);
    }

    #[test]
    fn three_steps_plain() {
        check(RmsPropConfig::new());
        check(RmsPropConfig::new().with_weight_decay(0.1));
    }

    #[test]
    fn three_steps_centered() {
        check(RmsPropConfig::new().with_centered(true).with_alpha(0.9));
    }

    #[test]
    fn three_steps_momentum() {
        check(RmsPropConfig::new().with_momentum(0.9));
    }

    #[test]
    fn three_steps_centered_with_momentum_and_decay() {
        let config = RmsPropConfig::new().with_centered(true).with_momentum(0.5);
        check(config.with_weight_decay(0.05).with_alpha(0.8));
    }

    #[test]
    fn validation_errors_name_the_field() {
        let err = RmsPropConfig::new().with_alpha(1.0).validate().unwrap_err();
        assert!(err.to_string().contains("RMSprop: alpha"), "{err}");
        let err = RmsPropConfig::new()
            .with_momentum(-0.5)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("momentum"), "{err}");
        assert!(RmsPropConfig::new().with_epsilon(-1e-8).validate().is_err());
        assert!(RmsPropConfig::new().validate().is_ok());
    }
}
