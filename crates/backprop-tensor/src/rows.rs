//! Sums of picked rows: `sum += Σ scale[p] · row p` over a list of picks, the weight gradient
//! of a layer whose δ is zero except at known places (a convolution followed by max-pooling,
//! where δ lives at each window's winner alone).

use crate::Float;

/// `sum += scales[p] · row p` for each pick w in `picks`, in order, where p = w − `first` and
/// row p is `rows[p·stride .. p·stride + L]` with L = `sum.len()` ≤ `stride` (so `rows` may
/// also start partway along a wider matrix's rows). Each value gets a product then a sum (the
/// plain form, the same bits on every CPU), or one fused multiply-add for `f32` on a CPU with
/// AVX-512.
///
/// ```
/// use backprop_tensor::rows::add_scaled_rows;
/// let rows = [1.0f32, 2.0, 10.0, 20.0, 100.0, 200.0];
/// let mut sum = [0.5f32, 0.5];
/// // picks 7 and 9 counted from 7: rows 0 and 2, scaled by 2 and 0.5.
/// add_scaled_rows(&mut sum, &[7, 9], 7, &[2.0, -1.0, 0.5], &rows, 2);
/// assert_eq!(sum, [0.5 + 2.0 + 50.0, 0.5 + 4.0 + 100.0]);
/// // The second column alone.
/// let mut second = [0.0f32];
/// add_scaled_rows(&mut second, &[0, 1], 0, &[1.0, 1.0], &rows[1..], 2);
/// assert_eq!(second, [22.0]);
/// ```
///
/// # Panics
/// When `sum` is longer than `stride`, or a pick is below `first`, or its scale or row lies
/// outside `scales` or `rows`.
pub fn add_scaled_rows<T: Float>(
    sum: &mut [T],
    picks: &[u32],
    first: usize,
    scales: &[T],
    rows: &[T],
    stride: usize,
) {
    let len = sum.len();
    assert!(
        len <= stride,
        "add_scaled_rows: rows of {len} values {stride} apart"
    );
    for &pick in picks {
        let p = (pick as usize).checked_sub(first);
        assert!(
            p.is_some_and(|p| p < scales.len() && p * stride + len <= rows.len()),
            "add_scaled_rows: pick {pick} (from {first}) outside {} scales or {} values of rows",
            scales.len(),
            rows.len()
        );
    }
    #[cfg(target_arch = "x86_64")]
    if let (Some(sum), Some(scales), Some(rows)) =
        (T::as_f32_mut(sum), T::as_f32(scales), T::as_f32(rows))
    {
        if crate::simd::has_avx512() {
            // SAFETY: the CPU has AVX-512F, and every pick's scale and row lie inside `scales`
            // and `rows` (checked above).
            unsafe { add_scaled_rows_avx512(sum, picks, first, scales, rows, stride) };
            return;
        }
    }
    add_scaled_rows_plain(sum, picks, first, scales, rows, stride);
}

crate::simd_kernel! {
    /// [`add_scaled_rows`] one value at a time: a product, then a sum.
    fn add_scaled_rows_plain<T: Float>(
        sum: &mut [T],
        picks: &[u32],
        first: usize,
        scales: &[T],
        rows: &[T],
        stride: usize,
    ) {
        let len = sum.len();
        for &pick in picks {
            let p = pick as usize - first;
            let scale = scales[p];
            for (total, &value) in sum.iter_mut().zip(&rows[p * stride..][..len]) {
                *total += scale * value;
            }
        }
    }
}

/// [`add_scaled_rows`] for `f32` with AVX-512: `sum` in chunks of [`VECTORS`] vectors held in
/// registers while every pick's row is added (one fused multiply-add per value), rather than
/// `sum` read and written once per pick.
///
/// # Safety
/// The CPU must have AVX-512F, and every pick's scale and row must lie inside `scales` and
/// `rows`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn add_scaled_rows_avx512(
    sum: &mut [f32],
    picks: &[u32],
    first: usize,
    scales: &[f32],
    rows: &[f32],
    stride: usize,
) {
    use std::arch::x86_64::{
        _mm512_fmadd_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps, _mm512_set1_ps,
    };
    /// Vectors of `sum` kept in registers at a time.
    const VECTORS: usize = 8;
    let len = sum.len();
    for start in (0..len).step_by(16 * VECTORS) {
        // Lanes past the row's end masked off: loaded as zeros and never stored.
        let masks: [u16; VECTORS] = std::array::from_fn(|i| {
            let lanes = len.saturating_sub(start + 16 * i).min(16);
            ((1u32 << lanes) - 1) as u16
        });
        // SAFETY (every load and store below): each vector's mask admits only indices below
        // `len`, within `sum` and within the pick's row, which the caller guarantees is
        // inside `rows`; `start` < `len`.
        let target = unsafe { sum.as_mut_ptr().add(start) };
        let mut totals: [_; VECTORS] =
            std::array::from_fn(|i| unsafe { _mm512_maskz_loadu_ps(masks[i], target.add(16 * i)) });
        for &pick in picks {
            let p = pick as usize - first;
            // SAFETY: p indexes `scales` and row p lies inside `rows` (the caller's promise).
            let (scale, row) = unsafe {
                (
                    _mm512_set1_ps(*scales.get_unchecked(p)),
                    rows.as_ptr().add(p * stride + start),
                )
            };
            for (i, total) in totals.iter_mut().enumerate() {
                let value = unsafe { _mm512_maskz_loadu_ps(masks[i], row.add(16 * i)) };
                *total = _mm512_fmadd_ps(scale, value, *total);
            }
        }
        for (i, total) in totals.into_iter().enumerate() {
            unsafe { _mm512_mask_storeu_ps(target.add(16 * i), masks[i], total) };
        }
    }
}
