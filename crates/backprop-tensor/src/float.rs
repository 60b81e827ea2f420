//! The scalar type of a [`Matrix`](crate::Matrix): `f32` for training, `f64` for gradient checks.
//!
//! Only what the engine needs is here. Transcendental functions go through `libm`, so that
//! `exp`, `ln`, `tanh` and `erf` give the same bits on every platform.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point scalar: implemented for `f32` and `f64`.
pub trait Float:
    Copy
    + Debug
    + Display
    + Default
    + PartialEq
    + PartialOrd
    + Send
    + Sync
    + Sum
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Machine epsilon.
    const EPSILON: Self;
    /// The type's name, `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest.
    fn from_f64(value: f64) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;
    /// Converts from a count.
    fn from_usize(value: usize) -> Self {
        Self::from_f64(value as f64)
    }
    /// eˣ.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// ln(1 + x), accurate for small x.
    fn ln_1p(self) -> Self;
    /// Square root (correctly rounded, so the same bits from libm, the standard library or a
    /// vector instruction).
    fn sqrt(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// The error function.
    fn erf(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// Integer power.
    fn powi(self, exponent: i32) -> Self;
    /// True unless NaN or infinite.
    fn is_finite(self) -> bool;
    /// True for NaN.
    fn is_nan(self) -> bool;
    /// The larger of two values (NaN-ignoring, as `f64::max`).
    fn max(self, other: Self) -> Self;
    /// The smaller of two values (NaN-ignoring, as `f64::min`).
    fn min(self, other: Self) -> Self;

    /// The values as `f32` when `Self` is `f32` (for kernels written for that type alone).
    fn as_f32(values: &[Self]) -> Option<&[f32]> {
        let _ = values;
        None
    }

    /// As [`Float::as_f32`], for writing.
    fn as_f32_mut(values: &mut [Self]) -> Option<&mut [f32]> {
        let _ = values;
        None
    }

    /// The values as `f64` when `Self` is `f64`.
    fn as_f64(values: &[Self]) -> Option<&[f64]> {
        let _ = values;
        None
    }

    /// As [`Float::as_f64`], for writing.
    fn as_f64_mut(values: &mut [Self]) -> Option<&mut [f64]> {
        let _ = values;
        None
    }

    /// eˣ in a form loops can vectorise: for `f32` the polynomial of
    /// [`vector_math::exp_f32`](crate::vector_math::exp_f32), for `f64` the rational form of
    /// [`vector_math::exp_f64`](crate::vector_math::exp_f64) (each within 2 ulp, plain IEEE
    /// arithmetic, the same bits on every machine).
    fn exp_simd(self) -> Self {
        self.exp()
    }

    /// ln(1 + x) for x in [0, 1], vectorisable for `f32` like [`Float::exp_simd`]
    /// ([`vector_math::ln_1p_f32`](crate::vector_math::ln_1p_f32)); libm's `log1p` for `f64`.
    fn ln_1p_simd(self) -> Self {
        self.ln_1p()
    }
}

macro_rules! impl_float {
    ($t:ty, $name:literal, $exp:path, $ln:path, $ln1p:path, $sqrt:path, $tanh:path, $erf:path $(, $extra:item)*) => {
        impl Float for $t {
            $($extra)*

            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const EPSILON: Self = <$t>::EPSILON;
            const NAME: &'static str = $name;

            #[inline]
            fn from_f64(value: f64) -> Self {
                value as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                $ln(self)
            }
            #[inline]
            fn ln_1p(self) -> Self {
                $ln1p(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                $sqrt(self)
            }
            #[inline]
            fn tanh(self) -> Self {
                $tanh(self)
            }
            #[inline]
            fn erf(self) -> Self {
                $erf(self)
            }
            #[inline]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline]
            fn powi(self, exponent: i32) -> Self {
                <$t>::powi(self, exponent)
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline]
            fn min(self, other: Self) -> Self {
                <$t>::min(self, other)
            }
        }
    };
}

impl_float!(
    f32,
    "f32",
    libm::expf,
    libm::logf,
    libm::log1pf,
    f32::sqrt,
    libm::tanhf,
    libm::erff,
    #[inline(always)]
    fn exp_simd(self) -> Self {
        crate::vector_math::exp_f32(self)
    },
    #[inline(always)]
    fn ln_1p_simd(self) -> Self {
        crate::vector_math::ln_1p_f32(self)
    },
    #[inline]
    fn as_f32(values: &[Self]) -> Option<&[f32]> {
        Some(values)
    },
    #[inline]
    fn as_f32_mut(values: &mut [Self]) -> Option<&mut [f32]> {
        Some(values)
    }
);
impl_float!(
    f64,
    "f64",
    libm::exp,
    libm::log,
    libm::log1p,
    f64::sqrt,
    libm::tanh,
    libm::erf,
    #[inline(always)]
    fn exp_simd(self) -> Self {
        crate::vector_math::exp_f64(self)
    },
    #[inline]
    fn as_f64(values: &[Self]) -> Option<&[f64]> {
        Some(values)
    },
    #[inline]
    fn as_f64_mut(values: &mut [Self]) -> Option<&mut [f64]> {
        Some(values)
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_functions() {
        assert_eq!(f32::from_f64(0.5).to_f64(), 0.5);
        assert!((Float::erf(1.0f64) - 0.842_700_792_949_714_9).abs() < 1e-15);
        assert!((Float::tanh(0.5f32) - 0.462_117_16).abs() < 1e-6);
        assert!((Float::ln_1p(1e-10f64) - 1e-10).abs() < 1e-20);
        assert_eq!(<f64 as Float>::NAME, "f64");
    }
}
