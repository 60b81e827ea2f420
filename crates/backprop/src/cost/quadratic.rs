//! Nielsen's quadratic cost: Cₓ = ½ Σⱼ (aⱼ − yⱼ)², so ∂Cₓ/∂aⱼ = aⱼ − yⱼ.

use backprop_tensor::Float;

/// ½ Σⱼ (aⱼ − yⱼ)² for one example, in `f64`.
pub fn example_loss<T: Float>(a: &[T], y: &[T]) -> f64 {
    0.5 * a
        .iter()
        .zip(y)
        .map(|(&a, &y)| (a.to_f64() - y.to_f64()).powi(2))
        .sum::<f64>()
}

/// ∂Cₓ/∂aⱼ = aⱼ − yⱼ.
#[inline]
pub fn gradient<T: Float>(a: T, y: T) -> T {
    a - y
}
