//! eˣ (for `f32` and `f64`) and ln(1 + x) (for `f32`) in plain IEEE arithmetic, so that loops
//! over them vectorise (libm's versions are scalar calls with branches) and give the same bits
//! on every machine.
//!
//! - eˣ = 2ⁿ·e^r with n = round(x·log₂e) and r = x − n·ln 2 (ln 2 split in two so n·ln2_hi is
//!   exact), e^r ≈ 1 + r + r²·P(r) with Cephes' degree-5 polynomial on |r| ≤ ½ln 2. n is rounded
//!   by adding and subtracting 1.5·2²³, and 2ⁿ is built from its exponent bits.
//! - ln(1 + x) = ln u · x / (u − 1) with u = 1 + x rounded (Goldberg's correction, exact to a
//!   few ulp even where u − 1 lost bits), and ln u = k·ln 2 + ln m, u = m·2ᵏ, m ∈ [√½, √2), from
//!   Cephes' degree-9 polynomial.
//!
//! - eˣ for `f64`: the same reduction with n rounded by 1.5·2⁵² and Cephes' rational form
//!   e^r = 1 + 2r·P(r²)/(Q(r²) − r·P(r²)) on |r| ≤ ½ln 2 (degrees 2 and 3, one division).
//!
//! Measured against `f64` references (tests below): at most 2 ulp for eˣ on [−87, 88] and
//! 2.3 ulp for ln(1 + x) on [0, 1]. Out of range, eˣ gives 0 below −87.33 (where the true value is a
//! subnormal) and +∞ above 88.72; NaN stays NaN. The `f64` eˣ is within 2 ulp of libm's on
//! [−708, 709]; it gives 0 below −708.40 (subnormal results) and +∞ above 709.78.

const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 = LN2_HI + LN2_LO, with LN2_HI short enough that n·LN2_HI is exact for |n| ≤ 2⁸.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// 1.5·2²³: adding it rounds to an integer held in the low mantissa bits.
const ROUNDING: f32 = 12_582_912.0;
/// Below this eˣ is subnormal; it returns 0.
const EXP_LOWEST: f32 = -87.336_55;
/// Above this eˣ overflows; it returns +∞.
const EXP_HIGHEST: f32 = 88.722_84;

/// eˣ, vectorisable (see the module documentation).
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    // `clamp` passes a NaN through to the result.
    let clamped = x.clamp(EXP_LOWEST, EXP_HIGHEST);
    let shifted = clamped * LOG2_E + ROUNDING;
    let n = shifted - ROUNDING;
    let exponent = (shifted.to_bits() as i32).wrapping_sub(ROUNDING.to_bits() as i32);
    let r = (clamped - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    // Cephes writes 5.0000001201e-1, which rounds to ½ in f32.
    p = p * r + 0.5;
    let e_r = (p * (r * r) + r) + 1.0;
    // 2ⁿ as two exact factors, each a normal number for n in [−126, 128].
    let half = exponent >> 1;
    let first = f32::from_bits((half.wrapping_add(127) as u32) << 23);
    let second = f32::from_bits((exponent.wrapping_sub(half).wrapping_add(127) as u32) << 23);
    let result = (e_r * first) * second;
    if x < EXP_LOWEST {
        0.0
    } else if x > EXP_HIGHEST {
        f32::INFINITY
    } else {
        result
    }
}

/// ln 2 = LN2_HI_F64 + LN2_LO_F64 (Cephes' C1 and C2), n·LN2_HI_F64 exact for |n| ≤ 2¹¹.
const LN2_HI_F64: f64 = 6.931_457_519_531_25e-1;
const LN2_LO_F64: f64 = 1.4286068203094173e-6;
/// 1.5·2⁵²: adding it rounds to an integer held in the low mantissa bits.
const ROUNDING_F64: f64 = 6_755_399_441_055_744.0;
/// Below this eˣ is subnormal (ln of the least normal `f64`); it returns 0.
const EXP_LOWEST_F64: f64 = -708.396_418_532_264_1;
/// Above this eˣ overflows; it returns +∞.
const EXP_HIGHEST_F64: f64 = 709.782_712_893_384;

/// eˣ for `f64`, vectorisable (see the module documentation).
#[inline(always)]
pub fn exp_f64(x: f64) -> f64 {
    // `clamp` passes a NaN through to the result.
    let clamped = x.clamp(EXP_LOWEST_F64, EXP_HIGHEST_F64);
    let shifted = clamped * std::f64::consts::LOG2_E + ROUNDING_F64;
    let n = shifted - ROUNDING_F64;
    let exponent = (shifted.to_bits() as i64).wrapping_sub(ROUNDING_F64.to_bits() as i64);
    let r = (clamped - n * LN2_HI_F64) - n * LN2_LO_F64;
    let rr = r * r;
    let mut p = 1.2617719307481058e-4;
    p = p * rr + 3.0299440770744195e-2;
    p = p * rr + 1.0;
    let p = p * r;
    let mut q = 3.0019850513866446e-6;
    q = q * rr + 2.524483403496841e-3;
    q = q * rr + 2.2726554820815503e-1;
    q = q * rr + 2.0;
    let e_r = 1.0 + 2.0 * (p / (q - p));
    // 2ⁿ as two exact factors, each a normal number for n in [−1022, 1024].
    let half = exponent >> 1;
    let first = f64::from_bits((half.wrapping_add(1023) as u64) << 52);
    let second = f64::from_bits((exponent.wrapping_sub(half).wrapping_add(1023) as u64) << 52);
    let result = (e_r * first) * second;
    if x < EXP_LOWEST_F64 {
        0.0
    } else if x > EXP_HIGHEST_F64 {
        f64::INFINITY
    } else {
        result
    }
}

/// √½, where ln's reduction moves a mantissa in [½, 1) to [√½, √2).
const SQRT_HALF_F64: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// ln 2 = LN2_HI_LOG − LN2_LO_LOG (Cephes' split for its logarithm).
const LN2_HI_LOG: f64 = 0.693_359_375;
const LN2_LO_LOG: f64 = 2.121_944_400_546_905_8e-4;

/// ln x for `f64`, vectorisable: x = m·2ᵉ with m in [√½, √2), f = m − 1, and
/// ln(1 + f) = f − f²/2 + f³·P(f)/Q(f) (Cephes' degree-5 rational form), plus e·ln 2. Within
/// 2 ulp of libm's for positive normal x; 0 gives −∞, +∞ gives +∞, and negative numbers and
/// NaN give NaN. Subnormal x are scaled by 2⁶⁴ first.
#[inline(always)]
pub fn ln_f64(x: f64) -> f64 {
    let subnormal = x < f64::MIN_POSITIVE;
    let scaled = if subnormal {
        x * 18_446_744_073_709_551_616.0
    } else {
        x
    };
    let bits = scaled.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    // m in [½, 1): the mantissa with the exponent of ½.
    let half_to_one = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3fe0_0000_0000_0000);
    let below = half_to_one < SQRT_HALF_F64;
    let exponent = biased - 1022 - i64::from(below) - if subnormal { 64 } else { 0 };
    let f = if below {
        (half_to_one + half_to_one) - 1.0
    } else {
        half_to_one - 1.0
    };
    let e = exponent as f64;
    let ff = f * f;
    let mut p = 1.018_756_638_045_809_3e-4;
    p = p * f + 4.974_949_949_767_47e-1;
    p = p * f + 4.705_791_198_788_817;
    p = p * f + 1.449_892_253_416_109_3e1;
    p = p * f + 1.793_686_785_078_198_2e1;
    p = p * f + 7.708_387_337_558_854;
    let mut q = f + 1.128_735_871_891_674_5e1;
    q = q * f + 4.522_791_458_375_322e1;
    q = q * f + 8.298_752_669_127_766e1;
    q = q * f + 7.115_447_506_185_639e1;
    q = q * f + 2.312_516_201_267_653_4e1;
    let mut y = f * (ff * p / q);
    y -= e * LN2_LO_LOG;
    y -= 0.5 * ff;
    let result = (f + y) + e * LN2_HI_LOG;
    if x == 0.0 {
        f64::NEG_INFINITY
    } else if x == f64::INFINITY {
        x
    } else if x < 0.0 || x.is_nan() {
        f64::NAN
    } else {
        result
    }
}

/// ln u for u in [1, 2]: the mantissa and exponent split and Cephes' polynomial.
#[inline(always)]
fn ln_one_to_two(u: f32) -> f32 {
    // u = m·2ᵏ with m ∈ [√½, √2): k is 0 below √2 and 1 above.
    let upper = u > std::f32::consts::SQRT_2;
    let (m, k) = if upper { (u * 0.5, 1.0) } else { (u, 0.0) };
    let f = m - 1.0;
    let z = f * f;
    let mut y = 7.037_683_6e-2_f32;
    y = y * f - 1.151_461e-1;
    y = y * f + 1.167_699_9e-1;
    y = y * f - 1.242_014_1e-1;
    y = y * f + 1.424_932_3e-1;
    y = y * f - 1.666_805_8e-1;
    y = y * f + 2.000_071_4e-1;
    y = y * f - 2.499_999_4e-1;
    y = y * f + 3.333_333e-1;
    y = y * f * z;
    y += k * LN2_LO;
    y -= 0.5 * z;
    (f + y) + k * LN2_HI
}

/// ln(1 + x) for x in [0, 1], within 2.5 ulp, vectorisable (see the module documentation). Used for the
/// softplus term ln(1 + e^−|z|) of binary cross-entropy.
#[inline(always)]
pub fn ln_1p_f32(x: f32) -> f32 {
    let u = 1.0 + x;
    let d = u - 1.0;
    if d == 0.0 {
        x
    } else {
        ln_one_to_two(u) * (x / d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between an `f32` and the correctly rounded reference.
    fn ulps(value: f32, reference: f64) -> f64 {
        let rounded = reference as f32;
        let ulp = (f32::from_bits(rounded.abs().to_bits() + 1) - rounded.abs()) as f64;
        (value as f64 - reference).abs() / ulp
    }

    #[test]
    fn exp_within_two_ulp() {
        let mut worst: f64 = 0.0;
        for i in 0..=400_000 {
            let x = -87.0 + 175.0 * i as f32 / 400_000.0;
            worst = worst.max(ulps(exp_f32(x), (x as f64).exp()));
        }
        assert!(worst <= 2.0, "{worst} ulp");
        assert_eq!(exp_f32(0.0), 1.0);
    }

    #[test]
    fn exp_edges() {
        assert_eq!(exp_f32(-1e4), 0.0);
        assert_eq!(exp_f32(-88.0), 0.0);
        assert_eq!(exp_f32(1e4), f32::INFINITY);
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert!(exp_f32(88.5).is_finite() && exp_f32(88.5) > 2e38);
    }

    /// Distance in units in the last place between two `f64`s.
    fn ulps_f64(value: f64, reference: f64) -> f64 {
        let ulp = f64::from_bits(reference.abs().to_bits() + 1) - reference.abs();
        (value - reference).abs() / ulp
    }

    #[test]
    fn exp_f64_within_two_ulp_of_libm() {
        let mut worst: f64 = 0.0;
        for i in 0..=1_000_000 {
            let x = -708.0 + 1417.0 * i as f64 / 1_000_000.0;
            worst = worst.max(ulps_f64(exp_f64(x), libm::exp(x)));
        }
        for i in 0..=100_000 {
            let x = -1.0 + 2.0 * i as f64 / 100_000.0;
            worst = worst.max(ulps_f64(exp_f64(x), libm::exp(x)));
        }
        assert!(worst <= 2.0, "{worst} ulp");
        assert_eq!(exp_f64(0.0), 1.0);
    }

    #[test]
    fn exp_f64_edges() {
        assert_eq!(exp_f64(-1e4), 0.0);
        assert_eq!(exp_f64(-709.0), 0.0);
        assert_eq!(exp_f64(1e4), f64::INFINITY);
        assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_f64(f64::INFINITY), f64::INFINITY);
        assert!(exp_f64(f64::NAN).is_nan());
        assert!(exp_f64(709.7).is_finite() && exp_f64(709.7) > 1e308);
        assert!(exp_f64(-708.3) > 0.0);
    }

    #[test]
    fn ln_f64_within_two_ulp_of_libm() {
        let mut worst: f64 = 0.0;
        for i in 0..=1_000_000 {
            // 1e-300 … 1e300 evenly in the exponent, and [0.5, 2] evenly
            let x = 10f64.powf(-300.0 + 600.0 * i as f64 / 1_000_000.0);
            worst = worst.max(ulps_f64(ln_f64(x), libm::log(x)));
            let x = 0.5 + 1.5 * i as f64 / 1_000_000.0;
            worst = worst.max(ulps_f64(ln_f64(x), libm::log(x)));
        }
        for x in [f64::EPSILON, 1.0 - f64::EPSILON, 5e-324, 1e-310, f64::MAX] {
            worst = worst.max(ulps_f64(ln_f64(x), libm::log(x)));
        }
        assert!(worst <= 2.0, "{worst} ulp");
        assert_eq!(ln_f64(1.0), 0.0);
    }

    #[test]
    fn ln_f64_edges() {
        assert_eq!(ln_f64(0.0), f64::NEG_INFINITY);
        assert_eq!(ln_f64(f64::INFINITY), f64::INFINITY);
        assert!(ln_f64(-1.0).is_nan() && ln_f64(f64::NAN).is_nan());
    }

    #[test]
    fn ln_1p_within_two_ulp() {
        let mut worst: f64 = 0.0;
        for i in 0..=200_000 {
            let x = i as f32 / 200_000.0;
            worst = worst.max(ulps(ln_1p_f32(x), (x as f64).ln_1p()));
        }
        for i in 0..200 {
            let x = 1e-12 * 1.2f32.powi(i);
            if x <= 1.0 {
                worst = worst.max(ulps(ln_1p_f32(x), (x as f64).ln_1p()));
            }
        }
        assert!(worst <= 2.5, "{worst} ulp");
        assert_eq!(ln_1p_f32(0.0), 0.0);
    }
}
