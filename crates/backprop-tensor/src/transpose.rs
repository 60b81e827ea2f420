//! Transposes in 16 × 16 blocks that stay in cache (with AVX-512, in registers: whole blocks
//! for `f32`, 8 × 8 squares for `f64`, masked at the edges): the one transpose behind
//! [`Matrix::transpose_into`](crate::Matrix::transpose_into) and
//! [`AlignedRows::transpose_from`](crate::sparse_rows::AlignedRows::transpose_from), and
//! [`for_each_band_beside_transpose`], which hands a transpose to its reader band by band
//! instead of writing all of it. A transpose only copies values, so every form gives the same
//! result.

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

thread_local! {
    /// This thread's buffer for [`for_each_band_beside_transpose`], kept from call to call.
    static BAND: std::cell::RefCell<Option<Box<dyn std::any::Any>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `body(band, of_transpose)` for each band of 16 rows of `out` (the last one shorter),
/// `of_transpose` the same rows of `source`ᵀ, made for the band in a buffer of the thread's:
/// an update such as W ← s·W − η·(Gᵀ)ᵀ reads a gradient kept transposed without writing the
/// whole transpose to memory and reading it back. `out` has `source.cols()` rows of
/// `source.rows()` values; the bands split across the team's threads as a whole transpose's do
/// (from the same size), each band once, so `body` must touch only its own band.
///
/// ```
/// use backprop_tensor::{for_each_band_beside_transpose, Matrix};
/// let g = Matrix::from_vec(3, 2, vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
/// let mut w = vec![10.0f32; 6]; // 2 × 3, less Gᵀ = [1 3 5; 2 4 6]
/// for_each_band_beside_transpose(&mut w, &g, |_, band, g| {
///     band.iter_mut().zip(g).for_each(|(w, &g)| *w -= g)
/// });
/// assert_eq!(w, [9.0, 7.0, 5.0, 8.0, 6.0, 4.0]);
/// ```
///
/// # Panics
/// When `out` does not hold `source.cols()` × `source.rows()` values.
pub fn for_each_band_beside_transpose<T: Float>(
    out: &mut [T],
    source: &crate::Matrix<T>,
    body: impl Fn(usize, &mut [T], &[T]) + Sync + Send,
) {
    let (rows, cols) = source.shape();
    assert_eq!(
        out.len(),
        rows * cols,
        "for_each_band_beside_transpose: {} values beside a transpose of {cols} × {rows}",
        out.len()
    );
    if out.is_empty() {
        return;
    }
    let run = |index: usize, band: &mut [T]| {
        let spare = BAND.with(|spare| spare.borrow_mut().take());
        let mut buffer = spare
            .and_then(|spare| spare.downcast::<Vec<T>>().ok())
            .map_or_else(Vec::new, |buffer| *buffer);
        if buffer.len() < band.len() {
            buffer.resize(band.len(), T::ZERO);
        }
        // Every value of the band's part of the buffer is written before `body` reads it.
        let of_transpose = &mut buffer[..band.len()];
        let shape = (rows, cols);
        transpose_band(source.as_slice(), cols, shape, of_transpose, rows, index);
        body(index, band, of_transpose);
        BAND.with(|spare| *spare.borrow_mut() = Some(Box::new(buffer)));
    };
    let band = BLOCK * rows;
    if out.len() < PARALLEL_VALUES {
        for (index, chunk) in out.chunks_mut(band).enumerate() {
            run(index, chunk);
        }
        return;
    }
    team::for_each_chunk(out, band, run);
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
        if crate::simd::has_avx512() {
            if width == BLOCK && height == BLOCK {
                if let (Some(src), Some(out)) = (T::as_f32(src), T::as_f32_mut(out)) {
                    // SAFETY: AVX-512 is present; the block's 16 rows of 16 values lie inside
                    // `src` (rows start.., columns first..) and its 16 transposed rows inside
                    // this band of `out` (rows 0..16, columns start..).
                    unsafe {
                        let from = src.as_ptr().add(start * src_stride + first);
                        let to = out.as_mut_ptr().add(start);
                        crate::sparse_rows::wide::transpose_block_f32(
                            from, src_stride, to, dst_stride,
                        );
                    }
                    continue;
                }
            }
            if let (Some(src), Some(out)) = (T::as_f64(src), T::as_f64_mut(out)) {
                let block = (start, first, height, width);
                transpose_block_f64(src, src_stride, out, dst_stride, block);
                continue;
            }
        }
        let block = (start, first, height, width);
        transpose_block(src, src_stride, out, dst_stride, block);
    }
}

/// One block of [`transpose_band`] value by value: rows start..start + height and columns
/// first..first + width of `src` into rows 0..width, columns start.. of the band `out`.
fn transpose_block<T: Float>(
    src: &[T],
    src_stride: usize,
    out: &mut [T],
    dst_stride: usize,
    (start, first, height, width): (usize, usize, usize, usize),
) {
    for j in 0..width {
        let out = &mut out[j * dst_stride + start..][..height];
        for (i, value) in out.iter_mut().enumerate() {
            *value = src[(start + i) * src_stride + first + j];
        }
    }
}

/// [`transpose_block`] for `f64` with AVX-512 present, in 8 × 8 squares held in registers
/// ([`wide::transpose_square_f64`]; the squares at the block's edges loaded and stored under
/// masks).
#[cfg(target_arch = "x86_64")]
fn transpose_block_f64(
    src: &[f64],
    src_stride: usize,
    out: &mut [f64],
    dst_stride: usize,
    (start, first, height, width): (usize, usize, usize, usize),
) {
    const SQUARE: usize = 8;
    for i in (0..height).step_by(SQUARE) {
        for j in (0..width).step_by(SQUARE) {
            let (rows, cols) = ((height - i).min(SQUARE), (width - j).min(SQUARE));
            let from = (start + i) * src_stride + first + j;
            let to = j * dst_stride + start + i;
            // The square's last value in each buffer, checked here so that the kernel reads
            // and writes inside them.
            assert!(from + (rows - 1) * src_stride + cols <= src.len());
            assert!(to + (cols - 1) * dst_stride + rows <= out.len());
            // SAFETY: AVX-512 is present (the caller checked); the square's `rows` rows of
            // `cols` values lie inside `src` and its `cols` rows of `rows` values inside `out`
            // (asserted above).
            unsafe {
                wide::transpose_square_f64(
                    src.as_ptr().add(from),
                    src_stride,
                    out.as_mut_ptr().add(to),
                    dst_stride,
                    (rows, cols),
                );
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod wide {
    use std::arch::x86_64::{
        _mm512_mask_storeu_pd, _mm512_maskz_loadu_pd, _mm512_setzero_pd, _mm512_shuffle_f64x2,
        _mm512_unpackhi_pd, _mm512_unpacklo_pd,
    };

    /// dst(j, i) = src(i, j) for i < rows ≤ 8 and j < cols ≤ 8, in registers: the rows are
    /// loaded under a mask of `cols` lanes (the missing rows as zeros), transposed as a whole
    /// 8 × 8 square (pairs within 128-bit lanes, then 128-bit lanes twice), and the first
    /// `cols` columns stored under a mask of `rows` lanes.
    ///
    /// # Safety
    /// AVX-512F must be present; `rows` rows of `cols` values from `src` (rows `src_stride`
    /// apart) and `cols` rows of `rows` values from `dst` (rows `dst_stride` apart) must lie
    /// inside their buffers.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn transpose_square_f64(
        src: *const f64,
        src_stride: usize,
        dst: *mut f64,
        dst_stride: usize,
        (rows, cols): (usize, usize),
    ) {
        let load_mask = ((1u16 << cols) - 1) as u8;
        let store_mask = ((1u16 << rows) - 1) as u8;
        // SAFETY: as the caller promises; masked lanes are neither read nor written.
        unsafe {
            let mut r = [_mm512_setzero_pd(); 8];
            for (i, row) in r.iter_mut().enumerate().take(rows) {
                *row = _mm512_maskz_loadu_pd(load_mask, src.add(i * src_stride));
            }
            // t[2p]: in lane L, (r[2p][2L], r[2p+1][2L]); t[2p + 1] the same of 2L + 1.
            let mut t = r;
            for p in 0..4 {
                t[2 * p] = _mm512_unpacklo_pd(r[2 * p], r[2 * p + 1]);
                t[2 * p + 1] = _mm512_unpackhi_pd(r[2 * p], r[2 * p + 1]);
            }
            // u[4q + k]: columns c and c + 4 of rows 4q..4q + 4 (c = 0, 2, 1, 3 for k = 0..4).
            let mut u = t;
            for q in 0..2 {
                let (even, odd) = (4 * q, 4 * q + 1);
                u[4 * q] = _mm512_shuffle_f64x2::<0x88>(t[even], t[even + 2]);
                u[4 * q + 1] = _mm512_shuffle_f64x2::<0xDD>(t[even], t[even + 2]);
                u[4 * q + 2] = _mm512_shuffle_f64x2::<0x88>(t[odd], t[odd + 2]);
                u[4 * q + 3] = _mm512_shuffle_f64x2::<0xDD>(t[odd], t[odd + 2]);
            }
            // Columns c and c + 4 from u[k] (rows 0..4) and u[4 + k] (rows 4..8).
            for (c, k) in [0, 2, 1, 3].into_iter().enumerate() {
                if c < cols {
                    let low = _mm512_shuffle_f64x2::<0x88>(u[k], u[4 + k]);
                    _mm512_mask_storeu_pd(dst.add(c * dst_stride), store_mask, low);
                }
                if c + 4 < cols {
                    let high = _mm512_shuffle_f64x2::<0xDD>(u[k], u[4 + k]);
                    _mm512_mask_storeu_pd(dst.add((c + 4) * dst_stride), store_mask, high);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Matrix;

    /// Every path (16 × 16 registers for `f32`, masked 8 × 8 squares for `f64`, value by value) against
    /// the definition, over shapes around the block and square sizes and strided bands.
    fn check<T: crate::Float>() {
        let sizes = [1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33, 64, 100, 130];
        for &rows in &sizes {
            for &cols in &sizes {
                let m = Matrix::<T>::from_fn(rows, cols, |i, j| T::from_f64((1000 * i + j) as f64));
                let mut t = Matrix::filled(2, 3, T::from_f64(-1.0));
                m.transpose_into(&mut t);
                assert_eq!(t.shape(), (cols, rows));
                for j in 0..cols {
                    for i in 0..rows {
                        assert_eq!(t[(j, i)], m[(i, j)], "{rows}x{cols} at ({i}, {j})");
                    }
                }
            }
        }
        // Past PARALLEL_VALUES, the bands split across a team's threads.
        let big = Matrix::<T>::from_fn(300, 257, |i, j| T::from_f64((i * 257 + j) as f64));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let t = pool.install(|| crate::team::run(|| big.transpose()));
        assert!((0..257).all(|j| (0..300).all(|i| t[(j, i)] == big[(i, j)])));
    }

    /// Each band of `out` meets the same rows of the source's transpose, with its index, on
    /// the calling thread and split across a team, over bands cut short and both types.
    fn check_bands<T: crate::Float>(threads: usize) {
        for (rows, cols) in [(1, 1), (5, 3), (17, 33), (300, 257), (784, 128)] {
            let source =
                Matrix::<T>::from_fn(rows, cols, |i, j| T::from_f64((i * cols + j) as f64));
            let mut out = vec![T::ZERO; rows * cols];
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                crate::team::run(|| {
                    super::for_each_band_beside_transpose(&mut out, &source, |index, band, of| {
                        assert_eq!(band.len(), of.len());
                        for (offset, (value, &t)) in band.iter_mut().zip(of).enumerate() {
                            let (r, c) = (index * 16 + offset / rows, offset % rows);
                            assert_eq!(t, source[(c, r)], "{rows}x{cols} at ({r}, {c})");
                            *value = t + T::ONE;
                        }
                    })
                })
            });
            for r in 0..cols {
                for c in 0..rows {
                    assert_eq!(out[r * rows + c], source[(c, r)] + T::ONE);
                }
            }
        }
    }

    #[test]
    fn bands_meet_the_rows_of_the_transpose() {
        for threads in [1, 2, 3] {
            check_bands::<f32>(threads);
            check_bands::<f64>(threads);
        }
    }

    #[test]
    #[should_panic(expected = "6 values beside a transpose of 2 × 2")]
    fn bands_refuse_a_mismatched_output() {
        let source = Matrix::<f32>::zeros(2, 2);
        super::for_each_band_beside_transpose(&mut [0.0f32; 6], &source, |_, _, _| {});
    }

    #[test]
    fn transposes_match_the_definition_f32() {
        check::<f32>();
    }

    #[test]
    fn transposes_match_the_definition_f64() {
        check::<f64>();
    }
}
