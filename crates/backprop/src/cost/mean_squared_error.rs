//! Mean squared error: Cₓ = (1/m) Σⱼ (aⱼ − yⱼ)² over m output units, so ∂Cₓ/∂aⱼ = 2(aⱼ − yⱼ)/m.

use backprop_tensor::Float;

/// (1/m) Σⱼ (aⱼ − yⱼ)² for one example, in `f64`.
pub fn example_loss<T: Float>(a: &[T], y: &[T]) -> f64 {
    let m = a.len().max(1) as f64;
    a.iter()
        .zip(y)
        .map(|(&a, &y)| (a.to_f64() - y.to_f64()).powi(2))
        .sum::<f64>()
        / m
}

/// ∂Cₓ/∂aⱼ = 2(aⱼ − yⱼ)/m.
#[inline]
pub fn gradient<T: Float>(a: T, y: T, units: usize) -> T {
    T::from_f64(2.0 / units as f64) * (a - y)
}
