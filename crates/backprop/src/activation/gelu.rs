//! GELU, exact form: σ(z) = z·Φ(z) with Φ(z) = ½(1 + erf(z/√2)); σ′(z) = Φ(z) + z·φ(z),
//! φ(z) = e^(−z²/2)/√(2π).

use backprop_tensor::Float;

/// Φ(z), the standard normal CDF.
#[inline]
fn normal_cdf<T: Float>(z: T) -> T {
    T::from_f64(0.5) * (T::ONE + (z * T::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erf())
}

/// σ(z) = z·Φ(z).
#[inline]
pub fn value<T: Float>(z: T) -> T {
    z * normal_cdf(z)
}

/// dσ/dz = Φ(z) + z·φ(z).
#[inline]
pub fn derivative<T: Float>(z: T) -> T {
    let density = (-(z * z) * T::from_f64(0.5)).exp()
        * T::from_f64(1.0 / (2.0 * std::f64::consts::PI).sqrt());
    normal_cdf(z) + z * density
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_values() {
        // PyTorch: torch.nn.functional.gelu(torch.tensor(1.0, dtype=torch.float64)) = 0.8413447460685429
        assert!((super::value(1.0f64) - 0.841_344_746_068_542_9).abs() < 1e-15);
        assert_eq!(super::value(0.0f64), 0.0);
        assert!((super::derivative(0.0f64) - 0.5).abs() < 1e-15);
    }
}
