//! Transposes in 16 × 16 blocks that stay in cache (in registers for `f32` with AVX-512): the
//! one transpose behind [`Matrix::transpose_into`](crate::Matrix::transpose_into) and
//! [`AlignedRows::transpose_from`](crate::sparse_rows::AlignedRows::transpose_from). A transpose
//! only copies values, so every form gives the same result.

use crate::{team, Float};

/// Rows and columns per block.
const BLOCK: usize = 16;
/// Values from which the bands are split across the team's threads (Wᵀ of a 784 × 192 layer,
/// each step of the sparse path, is 150,528); smaller transposes run on the calling thread.
const PARALLEL_VALUES: usize = 1 << 16;

/// dst(j, i) = src(i, j) for a `rows` × `cols` source (rows `src_stride` apart; the
/// destination's rows `dst_stride` apart), in square blocks that stay in cache, bands of the
/// destination's rows split across the team's threads when there are at least
/// [`PARALLEL_VALUES`] values.
pub(crate) fn transpose_blocks<T: Float>(
    src: &[T],
    src_stride: usize,
    (rows, cols): (usize, usize),
    dst: &mut [T],
    dst_stride: usize,
) {
    if rows == 0 || cols == 0 {
        return;
    }
    let band = BLOCK * dst_stride;
    let dst = &mut dst[..cols * dst_stride];
    if rows * cols < PARALLEL_VALUES {
        for (index, out) in dst.chunks_mut(band).enumerate() {
            transpose_band(src, src_stride, (rows, cols), out, dst_stride, index);
        }
        return;
    }
    team::for_each_chunk(dst, band, |index, out| {
        transpose_band(src, src_stride, (rows, cols), out, dst_stride, index)
    });
}

/// Band `index` of [`transpose_blocks`]: destination rows index·16.. (source columns), in
/// 16 × 16 blocks.
fn transpose_band<T: Float>(
    src: &[T],
    src_stride: usize,
    (rows, cols): (usize, usize),
    out: &mut [T],
    dst_stride: usize,
    index: usize,
) {
    let first = index * BLOCK;
    let width = (cols - first).min(BLOCK);
    for start in (0..rows).step_by(BLOCK) {
        let height = (rows - start).min(BLOCK);
        #[cfg(target_arch = "x86_64")]
        if width == BLOCK && height == BLOCK && crate::simd::has_avx512() {
            if let (Some(src), Some(out)) = (T::as_f32(src), T::as_f32_mut(out)) {
                // SAFETY: AVX-512 is present; the block's 16 rows of 16 values lie inside
                // `src` (rows start.., columns first..) and its 16 transposed rows inside
                // this band of `out` (rows 0..16, columns start..).
                unsafe {
                    let from = src.as_ptr().add(start * src_stride + first);
                    let to = out.as_mut_ptr().add(start);
                    crate::sparse_rows::wide::transpose_block_f32(from, src_stride, to, dst_stride);
                }
                continue;
            }
        }
        for j in 0..width {
            let out = &mut out[j * dst_stride + start..][..height];
            for (i, value) in out.iter_mut().enumerate() {
                *value = src[(start + i) * src_stride + first + j];
            }
        }
    }
}
