//! Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 weight decay.
//!
//! PyTorch's rule, per element: g ← g + λ·p; with momentum μ ≠ 0 the buffer is b ← g on the
//! first step and b ← μ·b + (1 − τ)·g after it (τ the dampening), then g ← g + μ·b (Nesterov)
//! or g ← b; finally p ← p − η·g.

use super::pieces::{pieces2, pieces3};
use super::subnormal::{zero_below, Floors};
use super::{assert_same_length, require, require_non_negative, require_positive, OptimError};
use super::{ParameterState, UpdateRule};
use backprop_tensor::simd_kernel;
use backprop_tensor::Float;

/// Hyper-parameters of SGD; [`Default`] gives PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// Base learning rate η (default 1e-3).
    pub learning_rate: f64,
    /// Momentum factor μ (default 0: no momentum buffer).
    pub momentum: f64,
    /// Dampening τ of the momentum buffer (default 0).
    pub dampening: f64,
    /// Nesterov momentum (default false); needs momentum > 0 and dampening = 0.
    pub nesterov: bool,
    /// L2 penalty λ added to the gradient as λ·p (default 0).
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

impl SgdConfig {
    /// PyTorch's defaults, as [`Default`].
    pub fn new() -> Self {
        Self::default()
    }

    with_methods!(
        with_learning_rate => learning_rate: f64,
        with_momentum => momentum: f64,
        with_dampening => dampening: f64,
        with_nesterov => nesterov: bool,
        with_weight_decay => weight_decay: f64,
    );

    /// Checks every field: learning_rate finite and > 0, momentum and weight_decay finite and
    /// ≥ 0, dampening in [0, 1], and Nesterov only with momentum > 0 and dampening = 0.
    pub fn validate(&self) -> Result<(), OptimError> {
        require_positive("SGD", "learning_rate", self.learning_rate)?;
        require_non_negative("SGD", "momentum", self.momentum)?;
        require(
            (0.0..=1.0).contains(&self.dampening),
            "SGD",
            "dampening",
            self.dampening,
            "in [0, 1]",
        )?;
        require_non_negative("SGD", "weight_decay", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(OptimError::NesterovRequirements {
                momentum: self.momentum,
                dampening: self.dampening,
            });
        }
        Ok(())
    }
}

/// The state SGD keeps for one parameter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SgdState<T: Float> {
    /// Momentum buffer b; empty until the first step with momentum ≠ 0.
    pub momentum_buffer: Vec<T>,
    /// Number of updates applied to this parameter.
    pub step: u64,
}

/// One SGD update of `parameter` in place, at `learning_rate` (the scheduled rate; the
/// config's own learning_rate is ignored here).
///
/// # Panics
/// When `parameter` and `gradient` differ in length, or a non-empty momentum buffer does.
#[track_caller]
pub fn sgd_update<T: Float>(
    config: &SgdConfig,
    learning_rate: f64,
    parameter: &mut [T],
    gradient: &[T],
    state: &mut SgdState<T>,
) {
    assert_same_length("sgd_update", parameter.len(), gradient.len());
    match sgd_settings(config, learning_rate, parameter.len(), state) {
        SgdSettings::Plain(s) => pieces2(parameter, gradient, |p, g| {
            plain_step(p, g, s.learning_rate, s.decay, s.weight_decay)
        }),
        SgdSettings::Momentum(settings) => {
            let buffers = &mut state.momentum_buffer;
            pieces3(parameter, gradient, buffers, |p, g, b| {
                momentum_step(p, g, b, settings)
            })
        }
    }
}

/// The scalars of one SGD step, without or with momentum.
#[derive(Clone, Copy, Debug)]
pub(super) enum SgdSettings<T> {
    /// p ← p − η·(g + λ·p).
    Plain(PlainSettings<T>),
    /// With a momentum buffer.
    Momentum(MomentumSettings<T>),
}

/// The scalars of a step without momentum, in `T`.
#[derive(Clone, Copy, Debug)]
pub(super) struct PlainSettings<T> {
    pub(super) learning_rate: T,
    pub(super) decay: bool,
    pub(super) weight_decay: T,
}

/// Counts one step in `state` (its momentum buffer sized for a parameter of `length` values
/// when there is momentum) and returns that step's scalars.
#[track_caller]
pub(super) fn sgd_settings<T: Float>(
    config: &SgdConfig,
    learning_rate: f64,
    length: usize,
    state: &mut SgdState<T>,
) -> SgdSettings<T> {
    let learning_rate = T::from_f64(learning_rate);
    let weight_decay = T::from_f64(config.weight_decay);
    let momentum = T::from_f64(config.momentum);
    let one_minus_dampening = T::from_f64(1.0 - config.dampening);
    let (decay, nesterov) = (config.weight_decay != 0.0, config.nesterov);
    state.step += 1;
    if config.momentum == 0.0 {
        return SgdSettings::Plain(PlainSettings {
            learning_rate,
            decay,
            weight_decay,
        });
    }
    let first_step = super::ensure_buffer(&mut state.momentum_buffer, length, "momentum_buffer");
    SgdSettings::Momentum(MomentumSettings {
        learning_rate,
        decay,
        weight_decay,
        momentum,
        one_minus_dampening,
        first_step,
        nesterov,
    })
}

simd_kernel! {
    /// p ← p − η·(g + λ·p), the L2 term only when `decay`. The branches test settings, not
    /// data, so the loop compiles to straight vector code.
    pub(super) fn plain_step<T: Float>(parameter: &mut [T], gradient: &[T], learning_rate: T, decay: bool, weight_decay: T) {
        for (p, &g) in parameter.iter_mut().zip(gradient) {
            let g = if decay { g + weight_decay * *p } else { g };
            *p -= learning_rate * g;
        }
    }
}

/// The scalars of a momentum step, in `T`.
#[derive(Clone, Copy, Debug)]
pub(super) struct MomentumSettings<T> {
    learning_rate: T,
    decay: bool,
    weight_decay: T,
    momentum: T,
    one_minus_dampening: T,
    first_step: bool,
    nesterov: bool,
}

simd_kernel! {
    /// b ← g (first step) or μ·b + (1 − τ)·g, then p ← p − η·(g + μ·b or b), with magnitudes
    /// too small to matter taken as zero before they can turn subnormal
    /// ([`subnormal`](super::subnormal)).
    pub(super) fn momentum_step<T: Float>(parameter: &mut [T], gradient: &[T], buffers: &mut [T], s: MomentumSettings<T>) {
        let floor = Floors::<T>::new().state;
        for ((p, &g), buffer) in parameter.iter_mut().zip(gradient).zip(buffers) {
            let g = if s.decay { g + s.weight_decay * *p } else { g };
            let g = zero_below(g, floor);
            *buffer = if s.first_step {
                g
            } else {
                zero_below(s.momentum * *buffer + s.one_minus_dampening * g, floor)
            };
            let direction = if s.nesterov {
                g + s.momentum * *buffer
            } else {
                *buffer
            };
            *p -= s.learning_rate * direction;
        }
    }
}

impl UpdateRule for SgdConfig {
    fn buffer_names(&self) -> &'static [&'static str] {
        if self.momentum != 0.0 {
            &["momentum_buffer"]
        } else {
            &[]
        }
    }

    fn update<T: Float>(
        &self,
        learning_rate: f64,
        parameter: &mut [T],
        gradient: &[T],
        state: &mut ParameterState<T>,
    ) {
        let mut typed = SgdState {
            momentum_buffer: state.take_buffer("momentum_buffer"),
            step: state.step,
        };
        sgd_update(self, learning_rate, parameter, gradient, &mut typed);
        state.step = typed.step;
        state.put_buffer("momentum_buffer", typed.momentum_buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: &SgdConfig, learning_rate: f64, p: &mut [f64], gradients: &[&[f64]]) {
        let mut state = SgdState::default();
        for g in gradients {
            sgd_update(config, learning_rate, p, g, &mut state);
        }
        assert_eq!(state.step, gradients.len() as u64);
    }

    #[test]
    fn defaults_match_pytorch() {
        let config = SgdConfig::default();
        assert_eq!(config.learning_rate, 1e-3);
        assert_eq!(
            (config.momentum, config.dampening, config.weight_decay),
            (0.0, 0.0, 0.0)
        );
        assert!(!config.nesterov);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn plain_sgd_with_weight_decay_two_steps() {
        let config = SgdConfig::new().with_weight_decay(0.1);
        let (learning_rate, g) = (0.5, [0.3, -2.0]);
        let mut p = [1.0, -4.0];
        let mut expected = p;
        for _ in 0..2 {
            for (e, g) in expected.iter_mut().zip(g) {
                *e -= learning_rate * (g + 0.1 * *e);
            }
        }
        run(&config, learning_rate, &mut p, &[&g, &g]);
        assert_eq!(p, expected);
        // By hand, first element: 1 − 0.5·(0.3 + 0.1) = 0.8; 0.8 − 0.5·(0.3 + 0.08) = 0.61.
        assert!((p[0] - 0.61).abs() < 1e-12);
    }

    #[test]
    fn momentum_literal_three_steps() {
        // p = 1, g = 1, μ = 0.9, η = 0.1: b = 1, 1.9, 2.71 and p = 0.9, 0.71, 0.439.
        let config = SgdConfig::new().with_momentum(0.9);
        let mut p = [1.0];
        run(&config, 0.1, &mut p, &[&[1.0], &[1.0], &[1.0]]);
        assert!((p[0] - 0.439).abs() < 1e-12, "{}", p[0]);
    }

    #[test]
    fn nesterov_literal_three_steps() {
        // b = 1, 1.9, 2.71; direction g + μ·b = 1.9, 2.71, 3.439; p = 0.81, 0.539, 0.1951.
        let config = SgdConfig::new().with_momentum(0.9).with_nesterov(true);
        let mut p = [1.0];
        run(&config, 0.1, &mut p, &[&[1.0], &[1.0], &[1.0]]);
        assert!((p[0] - 0.1951).abs() < 1e-12, "{}", p[0]);
    }

    #[test]
    fn dampening_spares_the_first_step() {
        let config = SgdConfig::new().with_momentum(0.5).with_dampening(0.25);
        let gradients: [&[f64]; 3] = [&[2.0, -1.0], &[1.0, 4.0], &[-3.0, 0.5]];
        let mut p = [0.5, 0.25];
        let (mut expected, mut buffer) = (p, [0.0; 2]);
        for (step, g) in gradients.iter().enumerate() {
            for i in 0..2 {
                buffer[i] = if step == 0 {
                    g[i]
                } else {
                    0.5 * buffer[i] + 0.75 * g[i]
                };
                expected[i] -= 0.2 * buffer[i];
            }
        }
        run(&config, 0.2, &mut p, &gradients);
        assert_eq!(p, expected);
    }

    #[test]
    fn f32_parameters_update_in_f32() {
        let config = SgdConfig::new().with_momentum(0.9);
        let mut p = [1.0f32];
        let mut state = SgdState::default();
        for _ in 0..3 {
            sgd_update(&config, 0.1, &mut p, &[1.0f32], &mut state);
        }
        assert!((p[0] - 0.439).abs() < 1e-6);
        assert_eq!(state.momentum_buffer.len(), 1);
    }

    #[test]
    fn validation_errors_name_the_field() {
        let err = SgdConfig::new()
            .with_learning_rate(-1.0)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("learning_rate"), "{err}");
        let err = SgdConfig::new()
            .with_momentum(f64::NAN)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("momentum"), "{err}");
        let nesterov = SgdConfig::new().with_nesterov(true);
        assert!(matches!(
            nesterov.validate(),
            Err(OptimError::NesterovRequirements { .. })
        ));
        let damped = nesterov.with_momentum(0.9).with_dampening(0.1);
        assert!(damped.validate().is_err());
        assert!(damped.with_dampening(0.0).validate().is_ok());
    }
}
