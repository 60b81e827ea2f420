//! Logistic sigmoid: σ(z) = 1 / (1 + e⁻ᶻ), σ′(z) = σ(z)(1 − σ(z)).

use backprop_tensor::Float;

/// σ(z) = 1 / (1 + e⁻ᶻ), computed so that e^|z| never overflows: for z < 0 it uses eᶻ / (1 + eᶻ).
#[inline]
pub fn value<T: Float>(z: T) -> T {
    if z >= T::ZERO {
        T::ONE / (T::ONE + (-z).exp())
    } else {
        let e = z.exp();
        e / (T::ONE + e)
    }
}

/// dσ/dz = σ(z)(1 − σ(z)), from a = σ(z).
#[inline]
pub fn derivative<T: Float>(a: T) -> T {
    a * (T::ONE - a)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finite_at_extremes() {
        assert_eq!(super::value(1000.0f32), 1.0);
        assert_eq!(super::value(-1000.0f32), 0.0);
        assert_eq!(super::value(0.0f64), 0.5);
    }
}
