//! Rectified linear unit: σ(z) = max(0, z), σ′(z) = 1 for z > 0, else 0 (0 at the kink, as PyTorch).

use backprop_tensor::Float;

/// σ(z) = max(0, z).
#[inline(always)]
pub fn value<T: Float>(z: T) -> T {
    if z > T::ZERO {
        z
    } else {
        T::ZERO
    }
}

/// dσ/dz = 1 for z > 0, 0 otherwise.
#[inline(always)]
pub fn derivative<T: Float>(z: T) -> T {
    if z > T::ZERO {
        T::ONE
    } else {
        T::ZERO
    }
}
