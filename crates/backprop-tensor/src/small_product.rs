//! Matrix products too small for the `gemm` crate: at most [`SMALL_PRODUCT`] multiply-adds.
//!
//! There `gemm`'s per-call work (dispatch, blocking parameters, packing both operands) and its
//! ragged microkernels (a 3-wide result runs its 8 × 6 kernel with 3 of 8 lanes busy) cost more
//! than the arithmetic: the five products of one iris step (a 4-100-3 network on 120 rows,
//! 36k–48k multiply-adds each) were about half of the step. Two register-blocked kernels,
//! compiled twice by [`simd_kernel!`](crate::simd_kernel) like the elementwise ones:
//! - **rows**: blocks of 4 rows × 16 columns of the result held in registers while
//!   a[i, p] · B[p, j] is added for p = 0, 1, …, k − 1. It runs on the orientation with the
//!   longer rows (C, or Cᵀ = op(B)ᵀ·op(A)ᵀ written back transposed when C has fewer than
//!   [`MIN_WIDTH`] columns and more rows), and reads the rows of B in place when they are
//!   contiguous, else from a packed copy;
//! - **dot**: when both operands run contiguously along k (the forward product X·Wᵀ) with
//!   k ≥ [`MIN_DOT_K`] and C narrower than [`MIN_WIDTH`] columns (a network's output layer),
//!   blocks of 4 × 4 dot products in 8 lanes each, the lanes summed pairwise at the end.
//!
//! **Determinism.** Which kernel runs, and every element's order of additions, depend only on
//! the shapes and the transposes, never on the block an element falls in (the edge paths do
//! the same arithmetic one element at a time). Plain IEEE multiplications and additions, never
//! fused into an FMA, give the same bits in the AVX-512 build and the baseline one.

use crate::Float;

/// The most multiply-adds (m·n·k) of a product that runs here instead of in `gemm`.
pub const SMALL_PRODUCT: usize = 1 << 16;
/// Results narrower than this (with more rows than columns) are computed transposed by the
/// rows kernel, or by the dot kernel when it applies.
pub const MIN_WIDTH: usize = 8;
/// The shortest inner dimension for the dot kernel.
pub const MIN_DOT_K: usize = 16;
/// Rows of a register block.
const R: usize = 4;
/// Columns of a rows-kernel register block.
const W: usize = 16;
/// Lanes of a dot product.
const L: usize = 8;

/// True when C (m × n) = op(A) (m × k) · op(B) (k × n) runs here rather than in `gemm`.
pub fn is_small(m: usize, n: usize, k: usize) -> bool {
    m.saturating_mul(n).saturating_mul(k) <= SMALL_PRODUCT
}

/// One operand op(M): element (i, p) at `data[i * rs + p * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct Operand<'a, T> {
    pub(crate) data: &'a [T],
    pub(crate) rs: usize,
    pub(crate) cs: usize,
}

/// C ← scale·A·B, or c_scale·C + scale·A·B when `keep` is `Some(c_scale)`; C is m × n,
/// row-major, its rows n apart.
pub(crate) fn product<T: Float>(
    c: &mut [T],
    (m, n, k): (usize, usize, usize),
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    keep: Option<T>,
    scale: T,
) {
    let dot = a.cs == 1 && b.rs == 1 && k >= MIN_DOT_K && n < MIN_WIDTH;
    // The orientation with the longer rows: C = A·B, or Cᵀ = Bᵀ·Aᵀ.
    let transposed = !dot && n < MIN_WIDTH && m > n;
    let mut scratch = Vec::new();
    let out: &mut [T] = if keep.is_none() && !transposed {
        &mut c[..m * n]
    } else {
        scratch.resize(m * n, T::ZERO);
        &mut scratch
    };
    if dot {
        dot_kernel(out, m, n, k, a.data, a.rs, b.data, b.cs);
    } else {
        let (rows, width, left, right) = if transposed {
            let left = Operand {
                data: b.data,
                rs: b.cs,
                cs: b.rs,
            };
            let right = Operand {
                data: a.data,
                rs: a.cs,
                cs: a.rs,
            };
            (n, m, left, right)
        } else {
            (m, n, a, b)
        };
        // The right operand's k rows, each `width` long and contiguous.
        let packed: Vec<T>;
        let (right_rows, right_rs) = if right.cs == 1 {
            (right.data, right.rs)
        } else {
            packed = (0..k)
                .flat_map(|p| (0..width).map(move |j| right.data[p * right.rs + j * right.cs]))
                .collect();
            (&packed[..], width)
        };
        rows_kernel(
            out, rows, width, k, left.data, left.rs, left.cs, right_rows, right_rs,
        );
    }
    if scratch.is_empty() {
        if scale != T::ONE {
            c[..m * n].iter_mut().for_each(|v| *v = scale * *v);
        }
        return;
    }
    for (i, row) in c.chunks_exact_mut(n).take(m).enumerate() {
        for (j, c) in row.iter_mut().enumerate() {
            let r = if transposed {
                scratch[j * m + i]
            } else {
                scratch[i * n + j]
            };
            let r = if scale == T::ONE { r } else { scale * r };
            *c = match keep {
                None => r,
                Some(c_scale) if c_scale == T::ONE => *c + r,
                Some(c_scale) => c_scale * *c + r,
            };
        }
    }
}

/// Where the blocks of a dimension of length `len` start, `size` apart: the last block ends at
/// `len` (overlapping the one before; the overlap is computed twice, to the same bits), or,
/// when `len < size`, one block at 0 whose missing indices repeat the last one.
fn block_starts(len: usize, size: usize) -> impl Iterator<Item = usize> {
    let last = len.saturating_sub(size);
    (0..len.div_ceil(size)).map(move |b| (b * size).min(last))
}

crate::simd_kernel! {
    /// out[i, j] = Σₚ left[i, p] · right[p, j], p in order from 0; `right`'s rows contiguous,
    /// `right_rs` apart; `out` row-major, rows `width` apart. Blocks of R × W results in
    /// registers; a result narrower than W runs one element at a time, in the same order.
    fn rows_kernel<T: Float>(
        out: &mut [T],
        rows: usize,
        width: usize,
        k: usize,
        left: &[T],
        left_rs: usize,
        left_cs: usize,
        right: &[T],
        right_rs: usize,
    ) {
        if width < W {
            for i in 0..rows {
                for j in 0..width {
                    let mut sum = T::ZERO;
                    for p in 0..k {
                        sum += left[i * left_rs + p * left_cs] * right[p * right_rs + j];
                    }
                    out[i * width + j] = sum;
                }
            }
            return;
        }
        for i0 in block_starts(rows, R) {
            let starts: [usize; R] = std::array::from_fn(|r| (i0 + r).min(rows - 1) * left_rs);
            for j0 in block_starts(width, W) {
                let mut acc = [[T::ZERO; W]; R];
                for p in 0..k {
                    let b: &[T; W] = right[p * right_rs + j0..][..W].try_into().expect("W");
                    for (acc, &start) in acc.iter_mut().zip(&starts) {
                        let x = left[start + p * left_cs];
                        for (acc, &b) in acc.iter_mut().zip(b) {
                            *acc += x * b;
                        }
                    }
                }
                for (r, acc) in acc.iter().enumerate().take(rows - i0) {
                    out[(i0 + r) * width + j0..][..W].copy_from_slice(acc);
                }
            }
        }
    }
}

crate::simd_kernel! {
    /// out[i, j] = a[i, :] · b[:, j], both contiguous along k: L lanes over whole groups of L
    /// (lane l adds the products at p ≡ l mod L, in order), the rest added in order, then
    /// the lanes pairwise and the rest last. Blocks of R × R results share their loads.
    fn dot_kernel<T: Float>(
        out: &mut [T],
        m: usize,
        n: usize,
        k: usize,
        a: &[T],
        a_rs: usize,
        b: &[T],
        b_cs: usize,
    ) {
        let whole = k / L * L;
        for i0 in block_starts(m, R) {
            let xs: [usize; R] = std::array::from_fn(|r| (i0 + r).min(m - 1) * a_rs);
            for j0 in block_starts(n, R) {
                let ys: [usize; R] = std::array::from_fn(|c| (j0 + c).min(n - 1) * b_cs);
                let mut lanes = [[[T::ZERO; L]; R]; R];
                for p in (0..whole).step_by(L) {
                    for (lanes, &x) in lanes.iter_mut().zip(&xs) {
                        let x: &[T; L] = a[x + p..][..L].try_into().expect("L");
                        for (lanes, &y) in lanes.iter_mut().zip(&ys) {
                            let y: &[T; L] = b[y + p..][..L].try_into().expect("L");
                            for ((lane, &x), &y) in lanes.iter_mut().zip(x).zip(y) {
                                *lane += x * y;
                            }
                        }
                    }
                }
                for (r, lanes) in lanes.iter().enumerate().take(m - i0) {
                    for (c, l) in lanes.iter().enumerate().take(n - j0) {
                        let (x, y) = (i0 + r, j0 + c);
                        let mut rest = T::ZERO;
                        for p in whole..k {
                            rest += a[x * a_rs + p] * b[y * b_cs + p];
                        }
                        let low = (l[0] + l[1]) + (l[2] + l[3]);
                        let high = (l[4] + l[5]) + (l[6] + l[7]);
                        out[x * n + y] = (low + high) + rest;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matmul::{gemm, naive_matmul};
    use crate::{Matrix, SeededRng, Transpose};

    /// Every kernel and edge against the naive loop, and each element's bits independent of
    /// the block it falls in: a product's rows computed alone give the same bits.
    #[test]
    fn small_products_match_naive_and_do_not_depend_on_blocks() {
        let shapes = [
            (120, 100, 4),
            (120, 3, 100),
            (3, 100, 120),
            (100, 4, 120),
            (7, 5, 33),
            (1, 1, 1),
            (5, 17, 2),
            (9, 2, 40),
        ];
        let mut rng = SeededRng::new(5);
        for (m, n, k) in shapes {
            assert!(is_small(m, n, k));
            for ta in [Transpose::No, Transpose::Yes] {
                for tb in [Transpose::No, Transpose::Yes] {
                    let (ar, ac) = if ta == Transpose::No { (m, k) } else { (k, m) };
                    let (br, bc) = if tb == Transpose::No { (k, n) } else { (n, k) };
                    let a = Matrix::<f64>::random_uniform(ar, ac, -1.0, 1.0, &mut rng);
                    let b = Matrix::<f64>::random_uniform(br, bc, -1.0, 1.0, &mut rng);
                    let expected = naive_matmul(&a, ta, &b, tb);
                    let mut c = Matrix::filled(m, n, 0.5);
                    gemm(&mut c, &a, ta, &b, tb, true);
                    for (got, want) in c.as_slice().iter().zip(expected.as_slice()) {
                        assert!(
                            (got - 0.5 - want).abs() < 1e-12,
                            "{m}×{n}×{k} {ta:?} {tb:?}"
                        );
                    }
                    if ta == Transpose::No && m > 1 {
                        // the first row alone
                        let row = Matrix::from_vec(1, k, a.row(0).to_vec()).expect("a row");
                        let mut alone = Matrix::filled(1, n, 0.5);
                        gemm(&mut alone, &row, ta, &b, tb, true);
                        let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                        assert_eq!(bits(alone.as_slice()), bits(c.row(0)), "{m}×{n}×{k}");
                    }
                }
            }
        }
    }
}
