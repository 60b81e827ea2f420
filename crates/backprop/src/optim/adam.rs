//! Adam and AdamW: steps scaled by bias-corrected running moments of the gradient.
//!
//! At step t (counted from 1): m ← β₁·m + (1 − β₁)·g, v ← β₂·v + (1 − β₂)·g²,
//! bc₁ = 1 − β₁ᵗ, bc₂ = 1 − β₂ᵗ, then p ← p − (η/bc₁)·m / (√v/√bc₂ + ε), PyTorch's formula,
//! evaluated as p ← p − (η·√bc₂/bc₁)·m / (√v + ε·√bc₂) (the same number up to rounding, with one
//! division per element instead of two).
//! Adam adds an L2 penalty to the gradient first (g ← g + λ·p); AdamW decouples the decay and
//! shrinks the parameter before the step, p ← p·(1 − η·λ).

use super::pieces::pieces4;
use super::subnormal::{adam_moments, Floors};
use super::{assert_same_length, ensure_buffer, require_decay_rate};
use super::{require_non_negative, require_positive, OptimError};
use super::{ParameterState, UpdateRule};
use backprop_tensor::simd_kernel;
use backprop_tensor::Float;

macro_rules! adam_config {
    ($(#[$doc:meta])* $name:ident, $owner:literal, $weight_decay:literal, $decay_doc:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $name {
            /// Base learning rate η (default 1e-3).
            pub learning_rate: f64,
            /// Decay rate β₁ of the first moment m (default 0.9).
            pub beta1: f64,
            /// Decay rate β₂ of the second moment v (default 0.999).
            pub beta2: f64,
            /// ε added to the denominator (default 1e-8).
            pub epsilon: f64,
            #[doc = $decay_doc]
            pub weight_decay: f64,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    learning_rate: 1e-3,
                    beta1: 0.9,
                    beta2: 0.999,
                    epsilon: 1e-8,
                    weight_decay: $weight_decay,
                }
            }
        }

        impl $name {
            /// PyTorch's defaults, as [`Default`].
            pub fn new() -> Self {
                Self::default()
            }

            with_methods!(
                with_learning_rate => learning_rate: f64,
                with_beta1 => beta1: f64,
                with_beta2 => beta2: f64,
                with_epsilon => epsilon: f64,
                with_weight_decay => weight_decay: f64,
            );

            /// Checks every field: learning_rate and epsilon finite and > 0, beta1 and beta2
            /// in [0, 1), weight_decay finite and ≥ 0.
            pub fn validate(&self) -> Result<(), OptimError> {
                require_positive($owner, "learning_rate", self.learning_rate)?;
                require_decay_rate($owner, "beta1", self.beta1)?;
                require_decay_rate($owner, "beta2", self.beta2)?;
                require_positive($owner, "epsilon", self.epsilon)?;
                require_non_negative($owner, "weight_decay", self.weight_decay)
            }
        }
    };
}

adam_config!(
    /// Hyper-parameters of Adam; [`Default`] gives PyTorch's defaults.
    AdamConfig,
    "Adam",
    0.0,
    "L2 penalty λ added to the gradient as λ·p (default 0)."
);

adam_config!(
    /// Hyper-parameters of AdamW; [`Default`] gives PyTorch's defaults.
    AdamWConfig,
    "AdamW",
    0.01,
    "Decoupled weight decay λ: p ← p·(1 − η·λ) before each step (default 0.01)."
);

/// The state Adam and AdamW keep for one parameter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdamState<T: Float> {
    /// First moment m; empty until the first step.
    pub exp_avg: Vec<T>,
    /// Second moment v; empty until the first step.
    pub exp_avg_sq: Vec<T>,
    /// Steps taken t, which sets the bias corrections.
    pub step: u64,
}

/// One Adam update of `parameter` in place, at `learning_rate` (the scheduled rate).
///
/// # Panics
/// When `parameter` and `gradient` differ in length, or a non-empty state buffer does.
#[track_caller]
pub fn adam_update<T: Float>(
    config: &AdamConfig,
    learning_rate: f64,
    parameter: &mut [T],
    gradient: &[T],
    state: &mut AdamState<T>,
) {
    let moments = (config.beta1, config.beta2, config.epsilon);
    adam_step(
        moments,
        learning_rate,
        config.weight_decay,
        parameter,
        gradient,
        state,
    );
}

/// One AdamW update of `parameter` in place: p ← p·(1 − η·λ), then Adam's step without decay.
///
/// # Panics
/// When `parameter` and `gradient` differ in length, or a non-empty state buffer does.
#[track_caller]
pub fn adamw_update<T: Float>(
    config: &AdamWConfig,
    learning_rate: f64,
    parameter: &mut [T],
    gradient: &[T],
    state: &mut AdamState<T>,
) {
    assert_same_length("adamw_update", parameter.len(), gradient.len());
    let shrink = T::from_f64(1.0 - learning_rate * config.weight_decay);
    parameter.iter_mut().for_each(|p| *p *= shrink);
    let moments = (config.beta1, config.beta2, config.epsilon);
    adam_step(moments, learning_rate, 0.0, parameter, gradient, state);
}

/// The Adam step shared by both rules; `(β₁, β₂, ε)` and an L2 penalty on the gradient.
#[track_caller]
fn adam_step<T: Float>(
    moments: (f64, f64, f64),
    learning_rate: f64,
    weight_decay: f64,
    parameter: &mut [T],
    gradient: &[T],
    state: &mut AdamState<T>,
) {
    assert_same_length("adam_update", parameter.len(), gradient.len());
    let settings = adam_settings(moments, learning_rate, weight_decay, parameter.len(), state);
    let (exp_avg, exp_avg_sq) = (&mut state.exp_avg, &mut state.exp_avg_sq);
    pieces4(parameter, gradient, exp_avg, exp_avg_sq, |p, g, m, v| {
        adam_elements(p, g, m, v, settings)
    });
}

/// Counts one step in `state` (its moments sized for a parameter of `length` values) and
/// returns that step's scalars: everything of the update but its element loop.
#[track_caller]
pub(super) fn adam_settings<T: Float>(
    (beta1, beta2, epsilon): (f64, f64, f64),
    learning_rate: f64,
    weight_decay: f64,
    length: usize,
    state: &mut AdamState<T>,
) -> AdamSettings<T> {
    ensure_buffer(&mut state.exp_avg, length, "exp_avg");
    ensure_buffer(&mut state.exp_avg_sq, length, "exp_avg_sq");
    state.step += 1;
    let step = state.step as f64;
    let bias_correction1 = 1.0 - libm::pow(beta1, step);
    let bias_correction2 = 1.0 - libm::pow(beta2, step);
    // (η/bc₁)·m / (√v/√bc₂ + ε) = (η·√bc₂/bc₁)·m / (√v + ε·√bc₂): one division per element
    // instead of two (the update is bound by its square root and divisions; 30 % faster).
    let bias_correction2_sqrt = bias_correction2.sqrt();
    let step_size = T::from_f64(learning_rate * bias_correction2_sqrt / bias_correction1);
    let epsilon = epsilon * bias_correction2_sqrt;
    let (beta1_t, one_minus_beta1) = (T::from_f64(beta1), T::from_f64(1.0 - beta1));
    let (beta2_t, one_minus_beta2) = (T::from_f64(beta2), T::from_f64(1.0 - beta2));
    let (epsilon, decay) = (T::from_f64(epsilon), T::from_f64(weight_decay));
    AdamSettings {
        floors: Floors::new(),
        decays: weight_decay != 0.0,
        decay,
        beta1: beta1_t,
        one_minus_beta1,
        beta2: beta2_t,
        one_minus_beta2,
        epsilon,
        step_size,
    }
}

/// The scalars of one Adam step, in `T`.
#[derive(Clone, Copy, Debug)]
pub(super) struct AdamSettings<T> {
    /// Below which moments and gradients are zero ([`subnormal`](super::subnormal)).
    floors: Floors<T>,
    decays: bool,
    decay: T,
    beta1: T,
    one_minus_beta1: T,
    beta2: T,
    one_minus_beta2: T,
    /// ε·√bc₂.
    epsilon: T,
    /// η·√bc₂/bc₁.
    step_size: T,
}

simd_kernel! {
    /// The per-element Adam update, in the order PyTorch's formula reads, with magnitudes too
    /// small to matter taken as zero before they can turn subnormal
    /// ([`subnormal`](super::subnormal)).
    pub(super) fn adam_elements<T: Float>(parameter: &mut [T], gradient: &[T], m: &mut [T], v: &mut [T], s: AdamSettings<T>) {
        let (beta1, beta2) = ((s.beta1, s.one_minus_beta1), (s.beta2, s.one_minus_beta2));
        let moments = m.iter_mut().zip(v.iter_mut());
        for ((p, &g), (m, v)) in parameter.iter_mut().zip(gradient).zip(moments) {
            let g = if s.decays { g + s.decay * *p } else { g };
            adam_moments((&mut *m, &mut *v), g, beta1, beta2, s.floors);
            *p -= s.step_size * *m / (v.sqrt() + s.epsilon);
        }
    }
}

/// Adam's and AdamW's moments, moved between a [`ParameterState`] and the rule's typed state.
fn adam_family_update<T: Float>(
    state: &mut ParameterState<T>,
    update: impl FnOnce(&mut AdamState<T>),
) {
    let mut typed = AdamState {
        exp_avg: state.take_buffer("exp_avg"),
        exp_avg_sq: state.take_buffer("exp_avg_sq"),
        step: state.step,
    };
    update(&mut typed);
    state.step = typed.step;
    state.put_buffer("exp_avg", typed.exp_avg);
    state.put_buffer("exp_avg_sq", typed.exp_avg_sq);
}

impl UpdateRule for AdamConfig {
    fn buffer_names(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_avg_sq"]
    }

    fn update<T: Float>(&self, rate: f64, p: &mut [T], g: &[T], state: &mut ParameterState<T>) {
        adam_family_update(state, |typed| adam_update(self, rate, p, g, typed));
    }
}

impl UpdateRule for AdamWConfig {
    fn buffer_names(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_avg_sq"]
    }

    fn update<T: Float>(&self, rate: f64, p: &mut [T], g: &[T], state: &mut ParameterState<T>) {
        adam_family_update(state, |typed| adamw_update(self, rate, p, g, typed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adam in f64 straight from the formula, with an L2 penalty `l2` and decoupled decay `decoupled`.
    fn reference(p: &mut [f64], gradients: &[&[f64]], learning_rate: f64, l2: f64, decoupled: f64) {
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        let (mut m, mut v) = (vec![0.0; p.len()], vec![0.0; p.len()]);
        for (t, g) in gradients.iter().enumerate() {
            let t = (t + 1) as i32;
            for i in 0..p.len() {
                p[i] *= 1.0 - learning_rate * decoupled;
                let g = g[i] + l2 * p[i];
                m[i] = b1 * m[i] + (1.0 - b1) * g;
                v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                let m_hat = m[i] / (1.0 - b1.powi(t));
                let v_hat = v[i] / (1.0 - b2.powi(t));
                p[i] -= learning_rate * m_hat / (v_hat.sqrt() + eps);
            }
        }
    }

    const GRADIENTS: [&[f64]; 3] = [&[0.5, -3.0, 1e-3], &[0.25, 1.0, -2.0], &[-1.0, 0.5, 0.0]];

    fn close(a: &[f64], b: &[f64]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "{a:?} against {b:?}");
        }
    }

    /// A weight whose gradient stops: its moments decay to zero without ever being subnormal,
    /// and every weight has the bits of the same update taken without that floor (written out
    /// here in `f32`), including one whose gradients are all far below the floors.
    #[test]
    fn moments_reach_zero_without_subnormals_and_the_weights_do_not_notice() {
        let mut p = [0.5f32, -0.25, 1.5];
        let mut expected = p;
        let (mut m, mut v) = ([0.0f32; 3], [0.0f32; 3]);
        let mut state = AdamState::default();
        let subnormal = |x: &f32| *x != 0.0 && x.abs() < f32::MIN_POSITIVE;
        let mut reference_subnormals = 0;
        for step in 1..=2000 {
            let g: [f32; 3] = match step {
                1..=10 => [1e-3, -2e-2, 1e-20],
                _ => [0.0, 0.0, 1e-20],
            };
            adam_update(&AdamConfig::new(), 1e-3, &mut p, &g, &mut state);
            assert!(
                !state.exp_avg.iter().chain(&state.exp_avg_sq).any(subnormal),
                "step {step}"
            );
            let (bc1, bc2) = (
                1.0 - libm::pow(0.9, step as f64),
                1.0 - libm::pow(0.999, step as f64),
            );
            let step_size = (1e-3 * bc2.sqrt() / bc1) as f32;
            let epsilon = (1e-8 * bc2.sqrt()) as f32;
            for i in 0..3 {
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                expected[i] -= step_size * m[i] / (v[i].sqrt() + epsilon);
            }
            reference_subnormals += m.iter().chain(&v).filter(|x| subnormal(x)).count();
        }
        assert!(
            reference_subnormals > 0,
            "the formula's own moments went subnormal"
        );
        assert_eq!(&state.exp_avg[..2], &[0.0, 0.0]);
        assert_eq!(p, expected);
        assert_ne!(p, [0.5, -0.25, 1.5]);
    }

    #[test]
    fn defaults_match_pytorch() {
        let adam = AdamConfig::default();
        assert_eq!(
            (adam.learning_rate, adam.beta1, adam.beta2),
            (1e-3, 0.9, 0.999)
        );
        assert_eq!((adam.epsilon, adam.weight_decay), (1e-8, 0.0));
        assert_eq!(AdamWConfig::default().weight_decay, 0.01);
    }

    #[test]
    fn first_step_moves_by_learning_rate_times_sign() {
        let mut p = [1.0, 1.0, 1.0];
        let mut state = AdamState::default();
        adam_update(&AdamConfig::new(), 0.01, &mut p, GRADIENTS[0], &mut state);
        for (after, g) in p.iter().zip(GRADIENTS[0]) {
            let moved = 1.0 - after;
            assert!(
                (moved - 0.01 * g.signum()).abs() < 1e-6,
                "{moved} for g = {g}"
            );
        }
        assert_eq!(state.step, 1);
    }

    #[test]
    fn three_steps_match_the_formula() {
        let mut p = [1.0, -2.0, 0.5];
        let mut expected = p;
        reference(&mut expected, &GRADIENTS, 0.1, 0.0, 0.0);
        let mut state = AdamState::default();
        for g in GRADIENTS {
            adam_update(&AdamConfig::new(), 0.1, &mut p, g, &mut state);
        }
        close(&p, &expected);
        assert_eq!(state.step, 3);
    }

    #[test]
    fn l2_weight_decay_enters_the_gradient() {
        let config = AdamConfig::new().with_weight_decay(0.1);
        let mut p = [1.0, -2.0, 0.5];
        let mut expected = p;
        reference(&mut expected, &GRADIENTS, 0.1, 0.1, 0.0);
        let mut state = AdamState::default();
        for g in GRADIENTS {
            adam_update(&config, 0.1, &mut p, g, &mut state);
        }
        close(&p, &expected);
    }

    #[test]
    fn adamw_decouples_the_decay() {
        let mut p = [1.0, -2.0, 0.5];
        let mut expected = p;
        reference(&mut expected, &GRADIENTS, 0.1, 0.0, 0.1);
        let (mut state, mut l2_p, mut l2_state) = (AdamState::default(), p, AdamState::default());
        let l2 = AdamConfig::new().with_weight_decay(0.1);
        for g in GRADIENTS {
            adamw_update(
                &AdamWConfig::new().with_weight_decay(0.1),
                0.1,
                &mut p,
                g,
                &mut state,
            );
            adam_update(&l2, 0.1, &mut l2_p, g, &mut l2_state);
        }
        close(&p, &expected);
        assert!(
            p.iter().zip(&l2_p).all(|(a, b)| (a - b).abs() > 1e-6),
            "{p:?} {l2_p:?}"
        );
    }

    #[test]
    fn adamw_without_decay_is_adam_bit_for_bit() {
        let (mut a, mut b) = ([1.5f32, -0.25], [1.5f32, -0.25]);
        let (mut sa, mut sb) = (AdamState::default(), AdamState::default());
        for g in [[0.5f32, -0.75], [0.125, 2.0]] {
            adam_update(&AdamConfig::new(), 0.01, &mut a, &g, &mut sa);
            adamw_update(
                &AdamWConfig::new().with_weight_decay(0.0),
                0.01,
                &mut b,
                &g,
                &mut sb,
            );
        }
        assert_eq!(a.map(f32::to_bits), b.map(f32::to_bits));
        assert_eq!(sa, sb);
    }

    #[test]
    fn validation_errors_name_the_field() {
        let err = AdamConfig::new().with_beta1(1.0).validate().unwrap_err();
        assert!(err.to_string().contains("Adam: beta1 = 1"), "{err}");
        let err = AdamWConfig::new().with_beta2(-0.1).validate().unwrap_err();
        assert!(err.to_string().contains("AdamW: beta2"), "{err}");
        assert!(AdamConfig::new().with_epsilon(0.0).validate().is_err());
        assert!(AdamConfig::new()
            .with_learning_rate(f64::INFINITY)
            .validate()
            .is_err());
        assert!(AdamWConfig::new()
            .with_weight_decay(-1.0)
            .validate()
            .is_err());
        assert!(AdamWConfig::new().validate().is_ok());
    }
}
