//! Softmax cross-entropy: Cₓ = −Σⱼ yⱼ ln aⱼ with a = softmax(z).
//!
//! Computed from the logits as Σⱼ yⱼ (LSE(z) − zⱼ), where LSE is the stable log-sum-exp, so
//! logits of ±1e4 give a finite cost. Paired with softmax, δᴸⱼ = aⱼ·Σₖyₖ − yⱼ: a − y for
//! target rows that sum to 1 (one-hot labels), but not for soft or multi-hot rows.
//!
//! The exponentials run in the network's precision through [`Float::exp_simd`] (vectorised for
//! `f32`, libm's for `f64`), the logarithm and the sum over units in `f64`, with no allocation.

use backprop_tensor::Float;

/// Cₓ from the logits z, stably, in `f64`.
#[inline(always)]
pub fn example_loss_from_logits<T: Float>(z: &[T], y: &[T]) -> f64 {
    let max = z.iter().fold(z[0], |m, &v| m.max(v));
    let mut total = T::ZERO;
    for &v in z {
        total += (v - max).exp_simd();
    }
    let lse = max.to_f64() + libm::log(total.to_f64());
    let mut loss = 0.0;
    for (&z, &y) in z.iter().zip(y) {
        loss += y.to_f64() * (lse - z.to_f64());
    }
    loss
}

/// ∂Cₓ/∂aⱼ = −yⱼ / aⱼ, with a floored so it stays finite. Training uses the fused δ = a·Σy − y.
#[inline]
pub fn gradient<T: Float>(a: T, y: T) -> T {
    -y / a.max(T::from_f64(1e-12))
}

#[cfg(test)]
mod tests {
    #[test]
    fn finite_for_extreme_logits() {
        let loss = super::example_loss_from_logits(&[1e4f32, -1e4, 0.0], &[0.0, 1.0, 0.0]);
        assert!((loss - 2e4).abs() < 1e-6, "{loss}");
        let confident = super::example_loss_from_logits(&[1e4f32, -1e4], &[1.0, 0.0]);
        assert_eq!(confident, 0.0);
    }
}
