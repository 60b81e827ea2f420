//! C = scale · A·Bᵀ (+ c_scale · C) when C is small and the inner dimension k long: every
//! element of C is the dot product of a row of A with a row of B, both read in place.
//!
//! That is the weight gradient of a convolution with few input channels, ∂C/∂W = δ · X̂ᵀ with
//! δ one filter per row and X̂ one patch element per row, both as long as the batch's output
//! positions (20 × 25 outputs over 36,864 positions in the first layer of `bench --config
//! lenet`). `gemm` packs both operands and then runs panels that so small a result leaves
//! mostly empty, at a fraction of its speed on square products.
//!
//! The kernel: a block of [`A_ROWS`] rows of A and [`B_ROWS`] rows of B goes along k
//! [`LANES`] values at a time, each of its A_ROWS · B_ROWS outputs keeping LANES partial sums
//! in a register (one fused multiply-add per value): A_ROWS + B_ROWS loads feed
//! A_ROWS · B_ROWS multiply-adds. The last k mod LANES values take one more step with the
//! lanes past k masked to zero; then each output's lanes are added in a fixed order. Blocks
//! at the edges of C re-read their last row in the rows they lack and drop those outputs. The
//! blocks run on the team's threads; each output is computed by one block whatever thread
//! runs it, so the bits do not depend on the thread count.
//!
//! Written for `f32` with AVX-512 alone (`gemm` takes every other case).

use crate::{team, Float};

/// Values of k taken at a time: one 512-bit vector of `f32`.
const LANES: usize = 16;
/// Rows of A in a block.
const A_ROWS: usize = 4;
/// Rows of B in a block.
const B_ROWS: usize = 5;
/// The shortest k sent here: below it `gemm`'s packing is paid back.
const MIN_DEPTH: usize = 4096;
/// The most outputs sent here: past them `gemm`'s panels fill up.
const MAX_OUTPUTS: usize = 64 * 64;

/// True when C (m × n) = A·Bᵀ over k should run here rather than in `gemm`: A's and B's rows
/// long, C small, `T` = `f32` and a CPU with AVX-512.
pub(crate) fn suits<T: Float>(m: usize, n: usize, k: usize) -> bool {
    k >= MIN_DEPTH && m * n <= MAX_OUTPUTS && T::as_f32(&[]).is_some() && crate::simd::has_avx512()
}

/// A pointer to C that the blocks, which write disjoint elements, share across threads.
#[derive(Clone, Copy)]
struct Output(*mut f32);
// SAFETY: each block writes only its own elements of C (its rows × its columns, with no
// overlap between blocks), while the `&mut [f32]` C was made from stays borrowed; that is
// sharing disjoint `&mut` access.
unsafe impl Send for Output {}
// SAFETY: as for `Send`.
unsafe impl Sync for Output {}

impl Output {
    /// The address of element `index` (a method, so that closures capture the whole `Output`
    /// rather than its raw pointer, which may not cross threads).
    fn at(&self, index: usize) -> *mut f32 {
        self.0.wrapping_add(index)
    }
}

/// C (m × n, row-major, `c.len()` = m·n) = scale · A·Bᵀ, or c_scale · C + that when `keep` is
/// `Some(c_scale)`; A is m rows of k values end to end, B n rows of k values.
///
/// # Panics
/// When the lengths do not fit m, n and k, or when [`suits`] is false.
pub(crate) fn dot_products<T: Float>(
    c: &mut [T],
    a: &[T],
    b: &[T],
    (m, n, k): (usize, usize, usize),
    keep: Option<T>,
    scale: T,
) {
    assert!(
        c.len() == m * n && a.len() == m * k && b.len() == n * k,
        "dot_products: C has {} values, A {}, B {}, for m = {m}, n = {n}, k = {k}",
        c.len(),
        a.len(),
        b.len()
    );
    assert!(
        suits::<T>(m, n, k),
        "dot_products: not for this type, shape or CPU"
    );
    let (Some(c), Some(a), Some(b)) = (T::as_f32_mut(c), T::as_f32(a), T::as_f32(b)) else {
        unreachable!("`suits` checked that T is f32");
    };
    let (keep, scale) = (keep.map(|s| s.to_f64() as f32), scale.to_f64() as f32);
    let (row_blocks, column_blocks) = (m.div_ceil(A_ROWS), n.div_ceil(B_ROWS));
    let output = Output(c.as_mut_ptr());
    team::parallel_for(row_blocks * column_blocks, |index| {
        let first_row = index / column_blocks * A_ROWS;
        let first_column = index % column_blocks * B_ROWS;
        let a_rows: [&[f32]; A_ROWS] =
            std::array::from_fn(|r| &a[(first_row + r).min(m - 1) * k..][..k]);
        let b_rows: [&[f32]; B_ROWS] =
            std::array::from_fn(|s| &b[(first_column + s).min(n - 1) * k..][..k]);
        // SAFETY: `suits` checked that the CPU has AVX-512; every row holds k values.
        let sums = unsafe { block_sums(a_rows, b_rows, k) };
        for r in 0..A_ROWS.min(m - first_row) {
            for s in 0..B_ROWS.min(n - first_column) {
                let product = scale * sums[r * B_ROWS + s];
                // SAFETY: (first_row + r, first_column + s) lies inside C (r < m − first_row,
                // s < n − first_column) and belongs to this block alone.
                let value = unsafe { &mut *output.at((first_row + r) * n + first_column + s) };
                *value = match keep {
                    Some(c_scale) => c_scale * *value + product,
                    None => product,
                };
            }
        }
    });
}

/// The A_ROWS × B_ROWS dot products of the rows of `a` with those of `b`, output (r, s) at
/// r · B_ROWS + s.
///
/// # Safety
/// The CPU must have AVX-512F, and every row must hold at least k values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn block_sums(a: [&[f32]; A_ROWS], b: [&[f32]; B_ROWS], k: usize) -> [f32; A_ROWS * B_ROWS] {
    use std::arch::x86_64::{
        __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_maskz_loadu_ps, _mm512_reduce_add_ps,
        _mm512_setzero_ps,
    };
    let mut sums = [_mm512_setzero_ps(); A_ROWS * B_ROWS];
    let mut step = |a_values: [__m512; A_ROWS], b_values: [__m512; B_ROWS]| {
        for r in 0..A_ROWS {
            for s in 0..B_ROWS {
                let sum = &mut sums[r * B_ROWS + s];
                *sum = _mm512_fmadd_ps(a_values[r], b_values[s], *sum);
            }
        }
    };
    let whole = k - k % LANES;
    let mut start = 0;
    while start < whole {
        // SAFETY: start + LANES ≤ whole ≤ k values, which every row holds.
        let load = |row: &[f32]| unsafe { _mm512_loadu_ps(row.as_ptr().add(start)) };
        step(
            [load(a[0]), load(a[1]), load(a[2]), load(a[3])],
            [load(b[0]), load(b[1]), load(b[2]), load(b[3]), load(b[4])],
        );
        start += LANES;
    }
    if whole < k {
        // The last k mod LANES values, the lanes past k loaded as zeros (x · 0 + s = s).
        let mask = (1u16 << (k - whole)) - 1;
        // SAFETY: the mask reads only the lanes below k − whole, inside every row.
        let load = |row: &[f32]| unsafe { _mm512_maskz_loadu_ps(mask, row.as_ptr().add(whole)) };
        step(
            [load(a[0]), load(a[1]), load(a[2]), load(a[3])],
            [load(b[0]), load(b[1]), load(b[2]), load(b[3]), load(b[4])],
        );
    }
    sums.map(|sum| _mm512_reduce_add_ps(sum))
}

/// Never called: [`suits`] is false off x86-64.
#[cfg(not(target_arch = "x86_64"))]
unsafe fn block_sums(_: [&[f32]; A_ROWS], _: [&[f32]; B_ROWS], _: usize) -> [f32; A_ROWS * B_ROWS] {
    unreachable!("dot_products runs on x86-64 alone")
}
