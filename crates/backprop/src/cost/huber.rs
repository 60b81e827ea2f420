//! Huber loss, averaged over the m output units (PyTorch's `HuberLoss`, reduction mean):
//! with d = a − y, ℓ(d) = ½d² for |d| ≤ δ and δ(|d| − ½δ) otherwise; ∂ℓ/∂a = d, or δ·sign(d).

use backprop_tensor::Float;

/// (1/m) Σⱼ ℓ(aⱼ − yⱼ) for one example, in `f64`.
pub fn example_loss<T: Float>(a: &[T], y: &[T], delta: f64) -> f64 {
    let m = a.len().max(1) as f64;
    a.iter()
        .zip(y)
        .map(|(&a, &y)| {
            let d = (a.to_f64() - y.to_f64()).abs();
            if d <= delta {
                0.5 * d * d
            } else {
                delta * (d - 0.5 * delta)
            }
        })
        .sum::<f64>()
        / m
}

/// ∂Cₓ/∂aⱼ = d/m for |d| ≤ δ, δ·sign(d)/m beyond.
#[inline]
pub fn gradient<T: Float>(a: T, y: T, delta: T, units: usize) -> T {
    let d = a - y;
    let clipped = if d.abs() <= delta {
        d
    } else if d > T::ZERO {
        delta
    } else {
        -delta
    };
    clipped / T::from_usize(units)
}
