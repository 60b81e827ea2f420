//! Binary cross-entropy summed over sigmoid outputs (Nielsen's `CrossEntropyCost`):
//! Cₓ = −Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)].
//!
//! With a = σ(z) it is computed from the logits as Σⱼ max(zⱼ, 0) − zⱼyⱼ + ln(1 + e^−|zⱼ|),
//! finite for any z. Paired with sigmoid, δᴸ = a − y (the σ′ cancels).

use backprop_tensor::Float;

/// Cₓ from the logits z, stably, in `f64`.
pub fn example_loss_from_logits<T: Float>(z: &[T], y: &[T]) -> f64 {
    z.iter()
        .zip(y)
        .map(|(&z, &y)| {
            let (z, y) = (z.to_f64(), y.to_f64());
            z.max(0.0) - z * y + libm::log1p(libm::exp(-z.abs()))
        })
        .sum()
}

/// ∂Cₓ/∂aⱼ = (aⱼ − yⱼ) / (aⱼ(1 − aⱼ)), with a kept a hair inside (0, 1) so it stays finite.
/// Training never uses it (the fused δ = a − y does); the trace shows it.
#[inline]
pub fn gradient<T: Float>(a: T, y: T) -> T {
    let tiny = T::from_f64(1e-12);
    let a = a.max(tiny).min(T::ONE - tiny);
    (a - y) / (a * (T::ONE - a))
}
