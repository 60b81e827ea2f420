//! Rectified linear unit: σ(z) = max(0, z), σ′(z) = 1 for z > 0, else 0 (0 at the kink, as PyTorch).
//! NaN goes through as NaN, as `torch.relu` does, so a diverging run shows in its outputs.

use backprop_tensor::Float;

/// σ(z) = max(0, z), and NaN for NaN.
#[inline(always)]
pub fn value<T: Float>(z: T) -> T {
    // `z <= 0` is false for NaN, so NaN is returned as it came.
    if z <= T::ZERO {
        T::ZERO
    } else {
        z
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

#[cfg(test)]
mod tests {
    #[test]
    fn nan_goes_through_and_negative_zero_becomes_zero() {
        assert!(super::value(f32::NAN).is_nan());
        assert!(super::value(f64::NAN).is_nan());
        assert_eq!(super::value(-0.0f64).to_bits(), 0.0f64.to_bits());
        assert_eq!(super::value(-3.0f32), 0.0);
        assert_eq!(super::value(2.5f32), 2.5);
    }
}
