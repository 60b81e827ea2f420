//! Sums of picked rows: `sum += Σ scale[p] · row p` over a list of picks, the products of a
//! layer whose δ is zero except at known places (a convolution followed by max-pooling, where
//! δ lives at each window's winner alone): its weight gradient, a sum of the winners' patches,
//! and its input gradient, a sum of the rows of W of the filters a position won for.

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
            let terms = picks.iter().map(|&pick| {
                let p = pick as usize - first;
                (scales[p], p * stride)
            });
            // SAFETY: the CPU has AVX-512F, and every pick's row lies inside `rows` (checked
            // above).
            unsafe { add_rows_avx512(sum, terms, rows, true) };
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

/// `sum = Σ weights[i] · row picks[i]`, the terms added in order, where row p is
/// `rows[p·stride .. p·stride + L]` with L = `sum.len()` ≤ `stride`; `sum` is overwritten (an
/// empty list gives zeros). As [`add_scaled_rows`], but each pick carries its own weight: a
/// sparse vector times a matrix, `sum = wᵀ·R` over the rows where w is not zero. The plain form
/// rounds each product then each sum; `f32` on a CPU with AVX-512 fuses them.
///
/// ```
/// use backprop_tensor::rows::sum_weighted_rows;
/// let rows = [1.0f32, 2.0, 10.0, 20.0, 100.0, 200.0];
/// let mut sum = [7.0f32, 7.0];
/// sum_weighted_rows(&mut sum, &[2, 0], &[0.5, 2.0], &rows, 2);
/// assert_eq!(sum, [50.0 + 2.0, 100.0 + 4.0]);
/// ```
///
/// # Panics
/// When `picks` and `weights` differ in length, `sum` is longer than `stride`, or a pick's row
/// lies outside `rows`.
pub fn sum_weighted_rows<T: Float>(
    sum: &mut [T],
    picks: &[u32],
    weights: &[T],
    rows: &[T],
    stride: usize,
) {
    let len = sum.len();
    assert_eq!(
        picks.len(),
        weights.len(),
        "sum_weighted_rows: {} picks, {} weights",
        picks.len(),
        weights.len()
    );
    assert!(
        len <= stride,
        "sum_weighted_rows: rows of {len} values {stride} apart"
    );
    for &pick in picks {
        assert!(
            pick as usize * stride + len <= rows.len(),
            "sum_weighted_rows: pick {pick} outside {} values of rows",
            rows.len()
        );
    }
    #[cfg(target_arch = "x86_64")]
    if let (Some(sum), Some(weights), Some(rows)) =
        (T::as_f32_mut(sum), T::as_f32(weights), T::as_f32(rows))
    {
        if crate::simd::has_avx512() {
            let terms = picks
                .iter()
                .zip(weights)
                .map(|(&pick, &weight)| (weight, pick as usize * stride));
            // SAFETY: the CPU has AVX-512F, and every pick's row lies inside `rows` (checked
            // above).
            unsafe { add_rows_avx512(sum, terms, rows, false) };
            return;
        }
    }
    sum_weighted_rows_plain(sum, picks, weights, rows, stride);
}

crate::simd_kernel! {
    /// [`sum_weighted_rows`] one value at a time: a product, then a sum.
    fn sum_weighted_rows_plain<T: Float>(
        sum: &mut [T],
        picks: &[u32],
        weights: &[T],
        rows: &[T],
        stride: usize,
    ) {
        let len = sum.len();
        sum.fill(T::ZERO);
        for (&pick, &weight) in picks.iter().zip(weights) {
            let row = &rows[pick as usize * stride..][..len];
            for (total, &value) in sum.iter_mut().zip(row) {
                *total += weight * value;
            }
        }
    }
}

/// `sum (+)= Σ scale · rows[offset ..]` over `terms` = (scale, offset) pairs, for `f32` with
/// AVX-512: `sum` in chunks of [`VECTORS`] vectors held in registers while every term's row is
/// added (one fused multiply-add per value), rather than `sum` read and written once per term.
/// `sum` starts from its values when `accumulate`, from zero otherwise.
///
/// # Safety
/// The CPU must have AVX-512F, and `offset + sum.len() ≤ rows.len()` for every term.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn add_rows_avx512(
    sum: &mut [f32],
    terms: impl Iterator<Item = (f32, usize)> + Clone,
    rows: &[f32],
    accumulate: bool,
) {
    use std::arch::x86_64::{
        _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps,
        _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps,
    };
    /// Vectors of `sum` kept in registers at a time.
    const VECTORS: usize = 8;
    const WHOLE: u16 = u16::MAX;
    let len = sum.len();
    for start in (0..len).step_by(16 * VECTORS) {
        // Lanes past the row's end masked off: loaded as zeros and never stored. A chunk of
        // whole vectors uses plain loads and stores (masks would not all fit in registers).
        let whole = start + 16 * VECTORS <= len;
        let masks: [u16; VECTORS] = std::array::from_fn(|i| {
            let lanes = len.saturating_sub(start + 16 * i).min(16);
            ((1u32 << lanes) - 1) as u16
        });
        // SAFETY (every load and store below): each vector lies below `len` (or its mask
        // admits only indices below `len`), within `sum` and within the term's row, which the
        // caller guarantees is inside `rows`; `start` < `len`.
        let load = |i: usize, from: *const f32| unsafe {
            if whole {
                _mm512_loadu_ps(from.add(16 * i))
            } else {
                _mm512_maskz_loadu_ps(masks[i], from.add(16 * i))
            }
        };
        let target = unsafe { sum.as_mut_ptr().add(start) };
        let mut totals: [_; VECTORS] = std::array::from_fn(|i| {
            if accumulate {
                load(i, target)
            } else {
                _mm512_setzero_ps()
            }
        });
        if whole {
            add_terms(&mut totals, terms.clone(), rows, start, |_| WHOLE);
        } else {
            add_terms(&mut totals, terms.clone(), rows, start, |i| masks[i]);
        }
        for (i, total) in totals.into_iter().enumerate() {
            unsafe {
                if whole {
                    _mm512_storeu_ps(target.add(16 * i), total);
                } else {
                    _mm512_mask_storeu_ps(target.add(16 * i), masks[i], total);
                }
            }
        }
    }

    /// `totals[i] += scale · row[start + 16·i ..]` for every term, vector i's lanes as `mask(i)`
    /// admits (all of them when it returns `WHOLE`, a plain load).
    #[inline(always)]
    unsafe fn add_terms(
        totals: &mut [std::arch::x86_64::__m512; VECTORS],
        terms: impl Iterator<Item = (f32, usize)>,
        rows: &[f32],
        start: usize,
        mask: impl Fn(usize) -> u16,
    ) {
        for (scale, offset) in terms {
            // SAFETY: the row at `offset` lies inside `rows` (the caller's promise), and each
            // vector's lanes lie below `len` or are masked off.
            let (scale, row) = (_mm512_set1_ps(scale), unsafe {
                rows.as_ptr().add(offset + start)
            });
            for (i, total) in totals.iter_mut().enumerate() {
                let value = unsafe {
                    match mask(i) {
                        WHOLE => _mm512_loadu_ps(row.add(16 * i)),
                        lanes => _mm512_maskz_loadu_ps(lanes, row.add(16 * i)),
                    }
                };
                *total = _mm512_fmadd_ps(scale, value, *total);
            }
        }
    }
}
