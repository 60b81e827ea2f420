//! Binary cross-entropy summed over sigmoid outputs (Nielsen's `CrossEntropyCost`):
//! Cₓ = −Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)].
//!
//! With a = σ(z) it is computed from the logits as Σⱼ max(zⱼ, 0) − zⱼyⱼ + ln(1 + e^−|zⱼ|),
//! finite for any z. Paired with sigmoid, δᴸ = a − y (the σ′ cancels).
//!
//! Each unit's term is computed in the network's precision with [`Float::exp_simd`] and
//! [`Float::ln_1p_simd`] (vectorised for `f32`, libm's for `f64`), then summed in `f64` in unit
//! order.

use backprop_tensor::Float;

/// Units per block of terms: computed in one vectorisable loop, then summed in order.
const BLOCK: usize = 32;

/// Cₓ from the logits z, stably, in `f64`.
#[inline(always)]
pub fn example_loss_from_logits<T: Float>(z: &[T], y: &[T]) -> f64 {
    let mut loss = 0.0;
    for (z, y) in z.chunks(BLOCK).zip(y.chunks(BLOCK)) {
        let mut terms = [T::ZERO; BLOCK];
        for ((term, &z), &y) in terms.iter_mut().zip(z).zip(y) {
            *term = z.max(T::ZERO) - z * y + (-z.abs()).exp_simd().ln_1p_simd();
        }
        for term in &terms[..z.len()] {
            loss += term.to_f64();
        }
    }
    loss
}

/// ∂Cₓ/∂aⱼ = (aⱼ − yⱼ) / (aⱼ(1 − aⱼ)), with a kept a hair inside (0, 1) so it stays finite.
/// Training never uses it (the fused δ = a − y does); the trace shows it.
///
/// The hair is at least the precision's ε: in `f32`, 1 − 10⁻¹² rounds to 1, and a saturated
/// sigmoid (a = 1 at z = 1000) would divide by zero.
#[inline]
pub fn gradient<T: Float>(a: T, y: T) -> T {
    let tiny = T::from_f64(1e-12).max(T::EPSILON);
    let a = a.max(tiny).min(T::ONE - tiny);
    (a - y) / (a * (T::ONE - a))
}
