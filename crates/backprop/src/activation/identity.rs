//! Identity: σ(z) = z, σ′(z) = 1. The output activation for regression.

use backprop_tensor::Float;

/// σ(z) = z.
#[inline(always)]
pub fn value<T: Float>(z: T) -> T {
    z
}

/// dσ/dz = 1.
#[inline(always)]
pub fn derivative<T: Float>(_z: T) -> T {
    T::ONE
}
