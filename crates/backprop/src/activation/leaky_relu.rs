//! Leaky ReLU: σ(z) = z for z > 0, αz otherwise; σ′(z) = 1 or α.

use backprop_tensor::Float;

/// σ(z) = z for z > 0, `negative_slope`·z otherwise.
#[inline(always)]
pub fn value<T: Float>(z: T, negative_slope: T) -> T {
    if z > T::ZERO {
        z
    } else {
        negative_slope * z
    }
}

/// dσ/dz = 1 for z > 0, `negative_slope` otherwise.
#[inline(always)]
pub fn derivative<T: Float>(z: T, negative_slope: T) -> T {
    if z > T::ZERO {
        T::ONE
    } else {
        negative_slope
    }
}
