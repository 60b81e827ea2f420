//! Softmax cross-entropy: Cₓ = −Σⱼ yⱼ ln aⱼ with a = softmax(z).
//!
//! Computed from the logits as Σⱼ yⱼ (LSE(z) − zⱼ), where LSE is the stable log-sum-exp, so
//! logits of ±1e4 give a finite cost. Paired with softmax, δᴸ = a − y.

use crate::activation::softmax::log_sum_exp;
use backprop_tensor::Float;

/// Cₓ from the logits z, stably, in `f64`.
pub fn example_loss_from_logits<T: Float>(z: &[T], y: &[T]) -> f64 {
    let z64: Vec<f64> = z.iter().map(|v| v.to_f64()).collect();
    let lse = log_sum_exp(&z64);
    z64.iter()
        .zip(y)
        .map(|(&z, &y)| y.to_f64() * (lse - z))
        .sum()
}

/// ∂Cₓ/∂aⱼ = −yⱼ / aⱼ, with a floored so it stays finite. Training uses the fused δ = a − y.
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
