//! Logistic sigmoid: σ(z) = 1 / (1 + e⁻ᶻ), σ′(z) = σ(z)(1 − σ(z)).

use backprop_tensor::Float;

/// σ(z) = 1 / (1 + e⁻ᶻ), computed so that e^|z| never overflows: with e = e^−|z|, σ(z) is
/// 1 / (1 + e) for z ≥ 0 and e / (1 + e) for z < 0. Both branches share e and end in a select,
/// so a loop over a batch vectorises ([`Float::exp_simd`]).
#[inline(always)]
pub fn value<T: Float>(z: T) -> T {
    let e = (-z.abs()).exp_simd();
    let numerator = if z >= T::ZERO { T::ONE } else { e };
    numerator / (T::ONE + e)
}

/// dσ/dz = σ(z)(1 − σ(z)), from a = σ(z).
#[inline(always)]
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
