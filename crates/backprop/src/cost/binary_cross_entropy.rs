//! Binary cross-entropy summed over sigmoid outputs (Nielsen's `CrossEntropyCost`):
//! Cₓ = −Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)].
//!
//! With a = σ(z) it is computed from the logits as Σⱼ max(zⱼ, 0) − zⱼyⱼ + ln(1 + e^−|zⱼ|),
//! finite for any z. Paired with sigmoid, δᴸ = a − y (the σ′ cancels).
//!
//! Each unit's term is computed in the network's precision with [`Float::exp_simd`] and
//! [`Float::ln_1p_simd`] (vectorised; libm's ln(1 + x) for `f64`), then summed in `f64` in unit
//! order.

use backprop_tensor::Float;

/// Units per block of terms: computed in one vectorisable loop, then summed in order.
const BLOCK: usize = 32;

/// Σₓ Cₓ over a batch's rows of `cols` logits laid end to end, in `f64`: each row's terms
/// summed in unit order, then the rows' sums in row order, the same bits as adding
/// [`example_loss_from_logits`] row by row. The terms are computed a block of the whole buffer
/// at a time, so rows narrower than a vector do not each run in a vector's tail.
#[inline(always)]
pub fn batch_loss_from_logits<T: Float>(z: &[T], y: &[T], cols: usize) -> f64 {
    let (mut total, mut row, mut in_row) = (0.0, 0.0, 0);
    for (z, y) in z.chunks(BLOCK).zip(y.chunks(BLOCK)) {
        let mut terms = [T::ZERO; BLOCK];
        for ((term, &z), &y) in terms.iter_mut().zip(z).zip(y) {
            *term = z.max(T::ZERO) - z * y + (-z.abs()).exp_simd().ln_1p_simd();
        }
        for term in &terms[..z.len()] {
            row += term.to_f64();
            in_row += 1;
            if in_row == cols {
                total += row;
                (row, in_row) = (0.0, 0);
            }
        }
    }
    total
}

/// Cₓ from the logits z, stably, in `f64`: one row of [`batch_loss_from_logits`].
#[inline(always)]
pub fn example_loss_from_logits<T: Float>(z: &[T], y: &[T]) -> f64 {
    batch_loss_from_logits(z, y, z.len().max(1))
}

/// ∂Cₓ/∂aⱼ = (aⱼ − yⱼ) / (aⱼ(1 − aⱼ)), with a kept a hair inside (0, 1) so it stays finite.
/// Training never uses it (the fused δ = a − y does); the trace shows it.
///
/// The hair is at least the precision's ε: in `f32`, 1 − 10⁻¹² rounds to 1, and a saturated
/// sigmoid (a = 1 at z = 1000) would divide by zero.
#[inline]
pub fn gradient<T: Float>(a: T, y: T) -> T {
    let tiny = T::from_f64(1e-12).max(T::EPSILON);
    let a = a.max(tiny).min(T::ONE - tiny);
    (a - y) / (a * (T::ONE - a))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batch form adds the same terms in the same order as the row-by-row form: the same
    /// bits, whatever the row width against the block.
    #[test]
    fn the_batch_loss_is_the_row_by_row_sum_bit_for_bit() {
        for cols in [1, 3, 10, BLOCK - 1, BLOCK, BLOCK + 1, 100] {
            let rows = 9;
            let z: Vec<f32> = (0..rows * cols)
                .map(|v| ((v * 13) % 29) as f32 * 0.7 - 9.0)
                .collect();
            let y: Vec<f32> = (0..rows * cols)
                .map(|v| ((v * 7) % 3 == 0) as u8 as f32)
                .collect();
            let mut want = 0.0;
            for (z, y) in z.chunks(cols).zip(y.chunks(cols)) {
                want += example_loss_from_logits(z, y);
            }
            let got = batch_loss_from_logits(&z, &y, cols);
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "rows of {cols}: {got} against {want}"
            );
        }
    }
}
