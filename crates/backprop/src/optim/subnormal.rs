//! Magnitudes too small to matter, taken as zero in an optimiser's state before they can turn
//! subnormal.
//!
//! A weight whose gradient stays zero (a pixel that is 0 in every row of a batch, a unit that
//! never fires) has its moving averages shrink by a constant factor each step: Adam's first
//! moment by β₁ reaches `f32`'s subnormal range after about 800 steps, a momentum buffer by μ
//! as fast. On Intel cores each operation that makes or reads a subnormal number takes a
//! microcode assist of about a hundred cycles (docs/performance.md, the fifth round). The rules'
//! element loops therefore take as zero a moving average below [`Floors::state`] (2⁻¹⁰⁰, about
//! 8·10⁻³¹) and a gradient below it, and leave out of a square a gradient below
//! [`Floors::squared`] (2⁻⁵⁸, whose square times 1 − β₂ is still a normal number). Such values
//! move a weight by at most η·8·10⁻³¹/ε (Adam, RMSprop) or η·8·10⁻³¹ (momentum): far below the
//! last bit of any weight that is not itself that small, so the weights are those of the
//! formula taken exactly. `f64` takes 2⁻⁹⁰⁰ and 2⁻⁴⁵⁰. scikit-learn's SGD and Adam
//! ([`crate::sklearn`]) take the same floors.

use backprop_tensor::Float;

/// The floors of one precision.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Floors<T> {
    /// Moving averages and gradients smaller than this are zero.
    pub(crate) state: T,
    /// Values smaller than this add nothing when squared.
    pub(crate) squared: T,
}

impl<T: Float> Floors<T> {
    /// The floors for `T`.
    pub(crate) fn new() -> Self {
        let (state, squared) = match T::EPSILON.to_f64() < 1e-10 {
            true => (2f64.powi(-900), 2f64.powi(-450)),
            false => (2f64.powi(-100), 2f64.powi(-58)),
        };
        Self {
            state: T::from_f64(state),
            squared: T::from_f64(squared),
        }
    }
}

/// `value`, or zero when its magnitude is below `bound` (a select, not a branch).
#[inline(always)]
pub(crate) fn zero_below<T: Float>(value: T, bound: T) -> T {
    if value.abs() < bound {
        T::ZERO
    } else {
        value
    }
}

/// Adam's moments after gradient `g`, with the floors: m ← β₁m + (1 − β₁)g and
/// v ← β₂v + (1 − β₂)g², each pair given as (β, 1 − β). PyTorch's Adam and scikit-learn's
/// share them and differ only in the weight's step.
#[inline(always)]
pub(crate) fn adam_moments<T: Float>(
    (m, v): (&mut T, &mut T),
    g: T,
    (beta1, one_minus_beta1): (T, T),
    (beta2, one_minus_beta2): (T, T),
    floors: Floors<T>,
) {
    let (g, g_squared) = (zero_below(g, floors.state), zero_below(g, floors.squared));
    *m = zero_below(beta1 * *m + one_minus_beta1 * g, floors.state);
    *v = zero_below(
        beta2 * *v + one_minus_beta2 * g_squared * g_squared,
        floors.state,
    );
}

/// What the floors' tests share (here and for scikit-learn's rules).
#[cfg(test)]
pub(crate) mod fading {
    /// True for a nonzero `f32` below the smallest normal number.
    pub(crate) fn subnormal(x: &f32) -> bool {
        *x != 0.0 && x.abs() < f32::MIN_POSITIVE
    }

    /// The gradients of 2,000 steps: three weights learn for 10 steps and then see nothing,
    /// the fourth sees 10⁻²⁰ throughout.
    pub(crate) fn gradient(step: usize) -> [f32; 4] {
        match step {
            1..=10 => [1e-3, -2e-2, 0.5, 1e-20],
            _ => [0.0, 0.0, 0.0, 1e-20],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{
        rmsprop_update, sgd_update, RmsPropConfig, RmsPropState, SgdConfig, SgdState,
    };
    use super::fading::{gradient, subnormal};

    /// SGD with (Nesterov) momentum: the buffer reaches zero without a subnormal value, while
    /// the formula written out beside it in `f32` makes some, and the weights are its bits.
    #[test]
    fn momentum_buffers_reach_zero_without_subnormals() {
        for nesterov in [false, true] {
            let config = SgdConfig {
                momentum: 0.9,
                nesterov,
                ..SgdConfig::new()
            };
            let (mut p, mut state) = ([0.5f32, -0.25, 1.5, 2.0], SgdState::default());
            let (mut expected, mut buffer) = (p, [0.0f32; 4]);
            let mut reference_subnormals = 0;
            for step in 1..=2000 {
                let g = gradient(step);
                sgd_update(&config, 0.01, &mut p, &g, &mut state);
                assert!(!state.momentum_buffer.iter().any(subnormal), "step {step}");
                for i in 0..4 {
                    buffer[i] = if step == 1 {
                        g[i]
                    } else {
                        0.9 * buffer[i] + g[i]
                    };
                    let direction = if nesterov {
                        g[i] + 0.9 * buffer[i]
                    } else {
                        buffer[i]
                    };
                    expected[i] -= 0.01 * direction;
                }
                reference_subnormals += buffer.iter().filter(|x| subnormal(x)).count();
            }
            assert!(reference_subnormals > 0);
            assert_eq!(p, expected, "nesterov {nesterov}");
            assert_eq!(&state.momentum_buffer[..3], &[0.0; 3]);
        }
    }

    /// Centred RMSprop with momentum: no subnormal average or buffer, and the formula's bits for
    /// the weights that learned.
    #[test]
    fn rmsprop_averages_reach_zero_without_subnormals() {
        let config = RmsPropConfig {
            centered: true,
            momentum: 0.5,
            ..RmsPropConfig::new()
        };
        let (alpha, epsilon) = (config.alpha as f32, config.epsilon as f32);
        let one_minus_alpha = (1.0 - config.alpha) as f32;
        let (mut p, mut state) = ([0.5f32, -0.25, 1.5, 2.0], RmsPropState::default());
        let mut expected = p;
        let (mut square, mut mean, mut buffer) = ([0.0f32; 4], [0.0f32; 4], [0.0f32; 4]);
        let mut reference_subnormals = 0;
        for step in 1..=2000 {
            let g = gradient(step);
            rmsprop_update(&config, 1e-3, &mut p, &g, &mut state);
            let all = state
                .square_avg
                .iter()
                .chain(&state.grad_avg)
                .chain(&state.momentum_buffer);
            assert!(!all.clone().any(subnormal), "step {step}");
            for i in 0..4 {
                square[i] = alpha * square[i] + one_minus_alpha * g[i] * g[i];
                mean[i] = alpha * mean[i] + one_minus_alpha * g[i];
                let average = (square[i] - mean[i] * mean[i]).sqrt() + epsilon;
                buffer[i] = 0.5 * buffer[i] + g[i] / average;
                expected[i] -= 1e-3 * buffer[i];
            }
            let reference = square.iter().chain(&mean).chain(&buffer);
            reference_subnormals += reference.filter(|x| subnormal(x)).count();
        }
        assert!(reference_subnormals > 0);
        assert_eq!(p[..3], expected[..3]);
        assert_ne!(p[..3], [0.5, -0.25, 1.5]);
        // Written out exactly, the fourth weight's s − ḡ² of subnormal numbers rounds below
        // zero and its square root is NaN; with the floors it has no variance to divide by.
        assert!(expected[3].is_nan() && p[3].is_finite());
    }
}
