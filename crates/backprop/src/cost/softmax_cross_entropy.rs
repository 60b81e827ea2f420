//! Softmax cross-entropy: Cₓ = −Σⱼ yⱼ ln aⱼ with a = softmax(z).
//!
//! Computed from the logits as Σⱼ yⱼ (LSE(z) − zⱼ), where LSE is the stable log-sum-exp, so
//! logits of ±1e4 give a finite cost. Paired with softmax, δᴸⱼ = aⱼ·Σₖyₖ − yⱼ: a − y for
//! target rows that sum to 1 (one-hot labels), but not for soft or multi-hot rows.
//!
//! The exponentials run in the network's precision through [`Float::exp_simd`] (vectorised for
//! `f32` and `f64`), the logarithm and the sum over units in `f64`, with no allocation.

use crate::activation::softmax::{values_in_whole_blocks, RowBlock, BLOCK_ROWS};
use backprop_tensor::Float;

/// Σₓ Cₓ over a batch's rows of `cols` logits laid end to end, in `f64`: the bits of adding
/// [`example_loss_from_logits`] row by row, in row order. Narrow rows go a block of 16 at a
/// time ([`RowBlock`]: the max and the exponentials across SIMD lanes, each row's operations
/// in its own order).
#[inline(always)]
pub fn batch_loss_from_logits<T: Float>(z: &[T], y: &[T], cols: usize) -> f64 {
    if cols == 0 {
        return 0.0;
    }
    let (block, whole) = (BLOCK_ROWS * cols, values_in_whole_blocks(z.len(), cols));
    let mut total = 0.0;
    for (z, y) in z[..whole]
        .chunks_exact(block)
        .zip(y[..whole].chunks_exact(block))
    {
        crate::block_width!(cols, add_block_loss::<T>(z, y, cols, &mut total));
    }
    let rows = z[whole..]
        .chunks_exact(cols)
        .zip(y[whole..].chunks_exact(cols));
    for (z, y) in rows {
        total += example_loss_from_logits(z, y);
    }
    total
}

/// Adds each row's loss of one block of [`BLOCK_ROWS`] rows to `total`, in row order, through
/// a [`RowBlock`] of `COLUMNS`.
#[inline(always)]
fn add_block_loss<T: Float, const COLUMNS: usize>(z: &[T], y: &[T], cols: usize, total: &mut f64) {
    let logits = RowBlock::<T, COLUMNS>::new(z, cols, false);
    let rows = z.chunks_exact(cols).zip(y.chunks_exact(cols));
    for (r, (z, y)) in rows.enumerate() {
        let lse = logits.max[r].to_f64() + libm::log(logits.sum[r].to_f64());
        *total += row_loss(z, y, lse);
    }
}

/// Σⱼ yⱼ (lse − zⱼ) in `f64`, in unit order.
#[inline(always)]
fn row_loss<T: Float>(z: &[T], y: &[T], lse: f64) -> f64 {
    let mut loss = 0.0;
    for (&z, &y) in z.iter().zip(y) {
        loss += y.to_f64() * (lse - z.to_f64());
    }
    loss
}

/// Cₓ from the logits z, stably, in `f64`.
#[inline(always)]
pub fn example_loss_from_logits<T: Float>(z: &[T], y: &[T]) -> f64 {
    let max = z.iter().fold(z[0], |m, &v| m.max(v));
    let mut total = T::ZERO;
    for &v in z {
        total += (v - max).exp_simd();
    }
    let lse = max.to_f64() + libm::log(total.to_f64());
    row_loss(z, y, lse)
}

/// ∂Cₓ/∂aⱼ = −yⱼ / aⱼ, with a floored so it stays finite. Training uses the fused δ = a·Σy − y.
#[inline]
pub fn gradient<T: Float>(a: T, y: T) -> T {
    -y / a.max(T::from_f64(1e-12))
}

#[cfg(test)]
mod tests {
    /// The batch loss a block of 16 rows at a time is, bit for bit, the sum of the rows' losses
    /// in row order, in both precisions, for one-hot and soft targets.
    #[test]
    fn blocks_of_rows_add_up_to_the_row_by_row_sum() {
        fn check<T: backprop_tensor::Float>(rows: usize, cols: usize) {
            let z: Vec<T> = (0..rows * cols)
                .map(|i| T::from_f64(((i * 53 % 97) as f64 - 48.0) * 0.21))
                .collect();
            let y: Vec<T> = (0..rows * cols)
                .map(|i| match i % cols == (i / cols) % cols {
                    true => T::from_f64(0.75),
                    false => T::from_f64(0.25 / cols as f64),
                })
                .collect();
            let mut by_rows = 0.0;
            for (z, y) in z.chunks_exact(cols).zip(y.chunks_exact(cols)) {
                by_rows += super::example_loss_from_logits(z, y);
            }
            let batch = super::batch_loss_from_logits(&z, &y, cols);
            assert_eq!(batch.to_bits(), by_rows.to_bits(), "{rows} × {cols}");
            assert!(batch > 0.0);
        }
        for (rows, cols) in [(37, 10), (16, 2), (48, 32), (20, 33), (3, 4)] {
            check::<f32>(rows, cols);
            check::<f64>(rows, cols);
        }
    }

    #[test]
    fn finite_for_extreme_logits() {
        let loss = super::example_loss_from_logits(&[1e4f32, -1e4, 0.0], &[0.0, 1.0, 0.0]);
        assert!((loss - 2e4).abs() < 1e-6, "{loss}");
        let confident = super::example_loss_from_logits(&[1e4f32, -1e4], &[1.0, 0.0]);
        assert_eq!(confident, 0.0);
    }
}
