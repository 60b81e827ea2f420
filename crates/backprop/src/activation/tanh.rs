//! Hyperbolic tangent: σ(z) = tanh z, σ′(z) = 1 − tanh² z.

use backprop_tensor::Float;

/// σ(z) = tanh z.
#[inline(always)]
pub fn value<T: Float>(z: T) -> T {
    z.tanh()
}

/// dσ/dz = 1 − a², from a = tanh z.
#[inline(always)]
pub fn derivative<T: Float>(a: T) -> T {
    T::ONE - a * a
}
