//! The AVX-512 forms of the sparse kernels: compression of rows and of 16-column bands, the
//! register-held 16 × 16 transpose, and the products with their sums in registers.

use crate::small_product::wide::Lane;
use std::arch::x86_64::{
    __m512, __m512i, _mm256_add_epi32, _mm256_maskz_compress_epi32, _mm256_set1_epi32,
    _mm256_setr_epi32, _mm256_storeu_si256, _mm512_add_epi32, _mm512_cmpneq_pd_mask,
    _mm512_cmpneq_ps_mask, _mm512_loadu_ps, _mm512_maskz_compress_epi32, _mm512_maskz_compress_pd,
    _mm512_maskz_compress_ps, _mm512_maskz_loadu_pd, _mm512_maskz_loadu_ps, _mm512_set1_epi32,
    _mm512_setr_epi32, _mm512_setzero_pd, _mm512_setzero_ps, _mm512_shuffle_f32x4,
    _mm512_shuffle_ps, _mm512_storeu_pd, _mm512_storeu_ps, _mm512_storeu_si512, _mm512_unpackhi_ps,
    _mm512_unpacklo_ps,
};

/// [`super::compress_columns`] for 16 `f32` columns, 16 rows at a time: the 16 × 16 block
/// is transposed in registers, and each column's 16 values are compressed as a row is
/// ([`compress_f32`]), with their row numbers.
///
/// # Safety
/// As [`super::compress_columns`], with AVX-512F present and columns first..first + 16
/// inside the rows.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn compress_columns_f32(
    source: &[f32],
    cols: usize,
    first: usize,
    out: &super::Destination<f32>,
    capacity: usize,
) {
    let rows = source.len() / cols;
    let mut counts = [0usize; 16];
    // SAFETY (every load and store): the loads read 16 values of rows inside `source`
    // (rows past the end stay zeros); each store writes 16 slots of one of this task's
    // columns from its count, at most rows + 16 ≤ capacity.
    unsafe {
        let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for start in (0..rows).step_by(16) {
            let mut block = [_mm512_setzero_ps(); 16];
            for (r, row) in block.iter_mut().enumerate().take(rows - start) {
                *row = _mm512_loadu_ps(source.as_ptr().add((start + r) * cols + first));
            }
            let block = transpose_16(block);
            let index = _mm512_add_epi32(lanes, _mm512_set1_epi32(start as i32));
            for (j, (column, count)) in block.iter().zip(counts.iter_mut()).enumerate() {
                let kept = _mm512_cmpneq_ps_mask(*column, _mm512_setzero_ps());
                let slot = (first + j) * capacity + *count;
                let values = _mm512_maskz_compress_ps(kept, *column);
                _mm512_storeu_ps(out.values.add(slot), values);
                let rows_kept = _mm512_maskz_compress_epi32(kept, index);
                _mm512_storeu_si512(out.columns.add(slot).cast(), rows_kept);
                *count += kept.count_ones() as usize;
            }
        }
        for (j, &count) in counts.iter().enumerate() {
            *out.counts.add(first + j) = count;
        }
    }
}

/// dst(j, i) = src(i, j) for a 16 × 16 block of `f32`, rows `src_stride` and `dst_stride`
/// apart.
///
/// # Safety
/// AVX-512F must be present; 16 rows of 16 values from `src` and from `dst` must lie inside
/// their buffers.
#[target_feature(enable = "avx512f")]
pub(crate) unsafe fn transpose_block_f32(
    src: *const f32,
    src_stride: usize,
    dst: *mut f32,
    dst_stride: usize,
) {
    // SAFETY: as the caller promises.
    unsafe {
        let mut block = [_mm512_setzero_ps(); 16];
        for (r, row) in block.iter_mut().enumerate() {
            *row = _mm512_loadu_ps(src.add(r * src_stride));
        }
        for (c, column) in transpose_16(block).iter().enumerate() {
            _mm512_storeu_ps(dst.add(c * dst_stride), *column);
        }
    }
}

/// The transpose of 16 rows of 16 `f32` held in registers: row c of the result is column
/// c. Four stages: 32-bit pairs within 128-bit lanes, 64-bit pairs, then 128-bit lanes
/// twice.
#[target_feature(enable = "avx512f")]
#[inline]
fn transpose_16(r: [__m512; 16]) -> [__m512; 16] {
    let mut t = [_mm512_setzero_ps(); 16];
    for p in 0..8 {
        t[2 * p] = _mm512_unpacklo_ps(r[2 * p], r[2 * p + 1]);
        t[2 * p + 1] = _mm512_unpackhi_ps(r[2 * p], r[2 * p + 1]);
    }
    // u[4q + c] holds, in 128-bit lane L, column 4L + c of rows 4q..4q + 4.
    let mut u = [_mm512_setzero_ps(); 16];
    for q in 0..4 {
        let (lo, hi) = (4 * q, 4 * q + 1);
        u[4 * q] = _mm512_shuffle_ps::<0x44>(t[lo], t[lo + 2]);
        u[4 * q + 1] = _mm512_shuffle_ps::<0xEE>(t[lo], t[lo + 2]);
        u[4 * q + 2] = _mm512_shuffle_ps::<0x44>(t[hi], t[hi + 2]);
        u[4 * q + 3] = _mm512_shuffle_ps::<0xEE>(t[hi], t[hi + 2]);
    }
    // v[c]: columns c and 8 + c of rows 0..8 (lanes: c, 8 + c, c, 8 + c); v[4 + c]:
    // columns 4 + c and 12 + c; v[8 + c] and v[12 + c]: the same of rows 8..16.
    let mut v = [_mm512_setzero_ps(); 16];
    for c in 0..4 {
        v[c] = _mm512_shuffle_f32x4::<0x88>(u[c], u[4 + c]);
        v[4 + c] = _mm512_shuffle_f32x4::<0xDD>(u[c], u[4 + c]);
        v[8 + c] = _mm512_shuffle_f32x4::<0x88>(u[8 + c], u[12 + c]);
        v[12 + c] = _mm512_shuffle_f32x4::<0xDD>(u[8 + c], u[12 + c]);
    }
    let mut out = [_mm512_setzero_ps(); 16];
    for c in 0..4 {
        out[c] = _mm512_shuffle_f32x4::<0x88>(v[c], v[8 + c]);
        out[8 + c] = _mm512_shuffle_f32x4::<0xDD>(v[c], v[8 + c]);
        out[4 + c] = _mm512_shuffle_f32x4::<0x88>(v[4 + c], v[12 + c]);
        out[12 + c] = _mm512_shuffle_f32x4::<0xDD>(v[4 + c], v[12 + c]);
    }
    out
}

/// Vectors of a panel of Z that [`product_row`] keeps in registers.
const PANEL_VECTORS: usize = 8;

/// The non-zeros of an `f32` row, 16 at a time: compare, compress in registers, store
/// whole vectors, advance by the count.
///
/// # Safety
/// AVX-512F must be present; `columns` and `values` valid for `row.len() + 16` writes.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn compress_f32(row: &[f32], columns: *mut u32, values: *mut f32) -> usize {
    let mut count = 0;
    let mut j = 0;
    // SAFETY (every load and store): loads are masked to the row; stores land within
    // `count + 16 ≤ row.len() + 16` of the caller's room.
    unsafe {
        let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        while j < row.len() {
            let mask = if row.len() - j >= 16 {
                u16::MAX
            } else {
                ((1u32 << (row.len() - j)) - 1) as u16
            };
            let v = _mm512_maskz_loadu_ps(mask, row.as_ptr().add(j));
            let kept = _mm512_cmpneq_ps_mask(v, _mm512_setzero_ps()) & mask;
            let index: __m512i = _mm512_add_epi32(lanes, _mm512_set1_epi32(j as i32));
            _mm512_storeu_ps(values.add(count), _mm512_maskz_compress_ps(kept, v));
            _mm512_storeu_si512(
                columns.add(count).cast(),
                _mm512_maskz_compress_epi32(kept, index),
            );
            count += kept.count_ones() as usize;
            j += 16;
        }
    }
    count
}

/// [`compress_f32`] for `f64` rows, 8 at a time.
///
/// # Safety
/// AVX-512F and AVX-512VL must be present; `columns` and `values` valid for
/// `row.len() + 16` writes.
#[target_feature(enable = "avx512f,avx512vl")]
pub(super) unsafe fn compress_f64(row: &[f64], columns: *mut u32, values: *mut f64) -> usize {
    let mut count = 0;
    let mut j = 0;
    // SAFETY: as in `compress_f32`, 8 lanes at a time.
    unsafe {
        let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        while j < row.len() {
            let mask = if row.len() - j >= 8 {
                u8::MAX
            } else {
                ((1u32 << (row.len() - j)) - 1) as u8
            };
            let v = _mm512_maskz_loadu_pd(mask, row.as_ptr().add(j));
            let kept = _mm512_cmpneq_pd_mask(v, _mm512_setzero_pd()) & mask;
            let index = _mm256_add_epi32(lanes, _mm256_set1_epi32(j as i32));
            _mm512_storeu_pd(values.add(count), _mm512_maskz_compress_pd(kept, v));
            _mm256_storeu_si256(
                columns.add(count).cast(),
                _mm256_maskz_compress_epi32(kept, index),
            );
            count += kept.count_ones() as usize;
            j += 8;
        }
    }
    count
}

/// `out` ← Σₚ `values[p]`·(row `columns[p]` of B), panels of up to [`PANEL_VECTORS`] vectors
/// summed in registers.
///
/// # Safety
/// AVX-512F must be present; row k of B, `b[k·stride..][..n]` with n = `out.len()`, must
/// lie in B's buffer for every k in `columns`.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn product_row<T: Lane>(
    out: &mut [T],
    columns: &[u32],
    values: &[T],
    b: *const T,
    stride: usize,
) {
    let n = out.len();
    let mut j = 0;
    while j < n {
        let width = (n - j).min(PANEL_VECTORS * T::LANES);
        let vectors = width.div_ceil(T::LANES);
        let tail = width - (vectors - 1) * T::LANES;
        let last_mask = ((1u32 << tail) - 1) as u16;
        // SAFETY: as for this function; the panel's columns j.. lie inside the rows.
        let panel = Panel {
            out: unsafe { out.as_mut_ptr().add(j) },
            b: unsafe { b.add(j) },
            stride,
            last_mask,
        };
        unsafe {
            match vectors {
                8 => panel.run::<8>(columns, values),
                7 => panel.run::<7>(columns, values),
                6 => panel.run::<6>(columns, values),
                5 => panel.run::<5>(columns, values),
                4 => panel.run::<4>(columns, values),
                3 => panel.run::<3>(columns, values),
                2 => panel.run::<2>(columns, values),
                _ => panel.run::<1>(columns, values),
            }
        }
        j += width;
    }
}

/// A panel of one row of Z: where it starts in Z and in B's rows.
struct Panel<T> {
    out: *mut T,
    b: *const T,
    /// The distance between B's rows.
    stride: usize,
    last_mask: u16,
}

impl<T: Lane> Panel<T> {
    /// # Safety
    /// As [`product_row`], for VECTORS vectors from the panel's start (the last as
    /// `last_mask` admits).
    #[inline(always)]
    unsafe fn run<const VECTORS: usize>(&self, columns: &[u32], values: &[T]) {
        let mask = |v: usize| {
            if v + 1 == VECTORS {
                self.last_mask
            } else {
                u16::MAX
            }
        };
        // SAFETY (every load and store): within the panel of rows of B and of Z, as the
        // caller promises; masked lanes are not touched.
        unsafe {
            let mut sums = [T::zero(); VECTORS];
            for (&k, &x) in columns.iter().zip(values) {
                let row = self.b.add(k as usize * self.stride);
                let x = T::splat(x);
                for (v, sum) in sums.iter_mut().enumerate() {
                    *sum = T::fma(x, T::load(row.add(v * T::LANES), mask(v)), *sum);
                }
            }
            for (v, &sum) in sums.iter().enumerate() {
                T::store(self.out.add(v * T::LANES), sum, mask(v));
            }
        }
    }
}
