//! Matrix products: C = op(A)·op(B) with op = identity or transpose, through one wrapper over
//! the `gemm` crate, so the GEMM backend can be swapped in one place.
//!
//! The three products backprop needs, for a batch X (n × in), weights W (out × in) and
//! δ (n × out):
//! - forward Z = X·Wᵀ ([`Matrix::matmul_transpose`]),
//! - weight gradient ∂C/∂W = δᵀ·X ([`Matrix::transpose_matmul`]),
//! - input gradient ∂C/∂X = δ·W ([`Matrix::matmul`]).
//!
//! Transposes are never materialised: `gemm` takes row and column strides, and a transposed
//! operand is the same buffer read with its strides swapped.
//!
//! **Determinism.** C is cut into tiles whose layout depends only on the shapes and the
//! transposes ([`TilePlan::for_product`]). Each tile is one single-threaded `gemm` call that runs
//! the whole inner dimension k, and rayon only decides which thread computes which tile. So every
//! element of C is produced by the same instructions in the same order whatever the number of
//! threads: 1, 2 or 3 threads give the same bits.
//!
//! **The tiling**, chosen from the shapes alone (measured one core at a time on the network
//! shapes of issue 4; [`TilePlan::for_product`]):
//! - the forward product X·Wᵀ of a small batch (m ≤ [`SMALL_ROWS`]) reads both operands along k
//!   contiguously. Packed kernels must first transpose W into panels, which costs as much as the
//!   product itself when m is small (40 GFLOP/s at m = 10, k = 784). Tiles of at most
//!   [`DOT_TILE`] × [`DOT_TILE`] send `gemm` to its dot-product ("horizontal") kernels, which read
//!   both operands in place (105 GFLOP/s on the same shape);
//! - the forward product of a batch of 2·[`INFERENCE_ROWS`] rows or more (inference): tiles of
//!   about [`INFERENCE_ROWS`] rows and all columns, so X is packed once and W once per tile;
//! - the forward product of a larger batch: tiles of all rows (up to [`MAX_ROWS`]) and
//!   [`FORWARD_COLUMNS`] columns, so W is packed once per tile, not once per 64 rows (108 against
//!   91 GFLOP/s at m = 256); [`WIDE_FORWARD_COLUMNS`] from [`WIDE_OUTPUTS`] columns, so X is
//!   packed half as often;
//! - a product too small to split across threads ([`PARALLEL_THRESHOLD`]) and not in the first
//!   case: one tile, one call;
//! - a shallow product with a small C and op(B) read by rows (k ≤ 32, m·n ≤ 32,768, n ≥ 16,
//!   below the parallel threshold: a small batch's weight gradient δᵀX and the plain SGD
//!   step fused into it, or a narrow layer's δW) skips `gemm` for
//!   [`small_product`]'s register tiles, which read both
//!   operands in place ([`fits_small_product`]; faster than `gemm` there, measured in
//!   docs/performance.md);
//! - everything else (∂C/∂W = δᵀX, ∂C/∂X = δW): tiles of all rows up to [`ROW_TILE`]·4, and
//!   ⌈n / [`COL_TILE`]⌉ column tiles whose edges fall on multiples of 64, the height of `gemm`'s
//!   `f32` AVX-512 microkernel once it has transposed the row-major result: 784 columns become
//!   192 + 192 + 192 + 208, with one ragged edge instead of four (90 against 79 GFLOP/s for
//!   Nielsen's 30 × 784 weight gradient at batch 10).

use crate::small_product::{small_product, small_product_add_scaled, Shape, Strided};
use crate::{team, Float, Matrix};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Whether an operand is read as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    /// Read as stored.
    No,
    /// Read transposed.
    Yes,
}

pub use crate::tile_plan::{
    Split, TilePlan, COL_TILE, DOT_TILE, FORWARD_COLUMNS, INFERENCE_ROWS, MAX_ROWS,
    PARALLEL_THRESHOLD, ROW_TILE, SMALL_ROWS, WIDE_FORWARD_COLUMNS, WIDE_OUTPUTS,
};

/// A raw pointer that may cross to rayon's threads. Tiles write disjoint parts of C.
#[derive(Clone, Copy)]
pub(crate) struct SendPtr<T>(pub(crate) *mut T);
// SAFETY: a `SendPtr` is only dereferenced inside `gemm_scaled`'s tiles (and the panels of
// `row_panels::gemm_row_panels`, under the same rules), while the borrows of A,
// B and C it was made from are alive; A and B are only read, and each tile writes a part of C
// no other tile touches, so sharing the pointer is sharing `&[T]` and disjoint `&mut [T]`,
// which is sound for `T: Send + Sync` (every `Float` is).
unsafe impl<T: Send + Sync> Send for SendPtr<T> {}
// SAFETY: as for `Send` above: shared use only reads A and B and writes disjoint tiles of C.
unsafe impl<T: Send + Sync> Sync for SendPtr<T> {}

thread_local! {
    /// True while this thread is inside a call into the `gemm` crate.
    static IN_GEMM_CRATE: Cell<bool> = const { Cell::new(false) };
}

/// Calls into the `gemm` crate so far, on every thread.
static GEMM_CRATE_CALLS: AtomicU64 = AtomicU64::new(0);

/// True while the calling thread runs inside the `gemm` crate.
///
/// That crate allocates on every call that packs an operand: its packing buffer
/// (`dyn_stack::MemBuffer::new`) and a small `Vec<bool>` of packed-panel flags, both in
/// `gemm_basic_generic` (gemm-common 0.19, `src/gemm.rs`), and its API takes no scratch memory
/// to use instead. An allocation audit (the `no_allocation` test of `backprop`) tells those
/// allocations from the project's own with this flag, and bounds them with
/// [`gemm_crate_calls`].
pub fn inside_gemm_crate() -> bool {
    IN_GEMM_CRATE.with(Cell::get)
}

/// How many calls into the `gemm` crate this process has made (each GEMM tile is one call).
pub fn gemm_crate_calls() -> u64 {
    GEMM_CRATE_CALLS.load(Ordering::Relaxed)
}

/// Marks the calling thread as inside the `gemm` crate until dropped.
pub(crate) struct InGemmCrate;

impl InGemmCrate {
    pub(crate) fn enter() -> Self {
        GEMM_CRATE_CALLS.fetch_add(1, Ordering::Relaxed);
        IN_GEMM_CRATE.with(|inside| inside.set(true));
        Self
    }
}

impl Drop for InGemmCrate {
    fn drop(&mut self) {
        IN_GEMM_CRATE.with(|inside| inside.set(false));
    }
}

/// The shape of op(M) and the strides (row, column) at which to read it.
pub(crate) fn view<T: Float>(m: &Matrix<T>, transpose: Transpose) -> (usize, usize, isize, isize) {
    let (r, c) = m.shape();
    match transpose {
        Transpose::No => (r, c, c as isize, 1),
        Transpose::Yes => (c, r, 1, c as isize),
    }
}

/// C = op(A)·op(B), or C += op(A)·op(B) when `accumulate` is true.
///
/// # Panics
/// When the inner dimensions differ or C has the wrong shape; the message gives all shapes.
#[track_caller]
pub fn gemm<T: Float>(
    c: &mut Matrix<T>,
    a: &Matrix<T>,
    transpose_a: Transpose,
    b: &Matrix<T>,
    transpose_b: Transpose,
    accumulate: bool,
) {
    let keep = accumulate.then_some(T::ONE);
    gemm_scaled(c, a, transpose_a, b, transpose_b, keep, T::ONE);
}

/// C ← c_scale·C + product_scale·op(A)·op(B) in one pass over C: a plain SGD step
/// W ← (1 − ηλ)·W − η·δᵀX (λ an L2 term, 0 without) without writing the gradient to memory
/// first. The tiles are those of [`gemm()`].
///
/// # Panics
/// As [`gemm()`].
#[track_caller]
pub fn gemm_add_scaled<T: Float>(
    c: &mut Matrix<T>,
    c_scale: T,
    a: &Matrix<T>,
    transpose_a: Transpose,
    b: &Matrix<T>,
    transpose_b: Transpose,
    product_scale: T,
) {
    gemm_scaled(
        c,
        a,
        transpose_a,
        b,
        transpose_b,
        Some(c_scale),
        product_scale,
    );
}

/// C = scale·op(A)·op(B), or c_scale·C + that when `keep` is `Some(c_scale)`.
#[track_caller]
fn gemm_scaled<T: Float>(
    c: &mut Matrix<T>,
    a: &Matrix<T>,
    transpose_a: Transpose,
    b: &Matrix<T>,
    transpose_b: Transpose,
    keep: Option<T>,
    scale: T,
) {
    let (accumulate, c_scale) = match keep {
        Some(c_scale) => (true, c_scale),
        None => (false, T::ONE),
    };
    let (m, k, a_rs, a_cs) = view(a, transpose_a);
    let (k2, n, b_rs, b_cs) = view(b, transpose_b);
    assert!(
        k == k2 && c.shape() == (m, n),
        "matmul: op(A) is {m}×{k} ({:?} {}×{}), op(B) is {k2}×{n} ({:?} {}×{}), C is {}×{}",
        transpose_a,
        a.rows(),
        a.cols(),
        transpose_b,
        b.rows(),
        b.cols(),
        c.rows(),
        c.cols()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        match keep {
            None => c.fill(T::ZERO),
            Some(c_scale) if c_scale != T::ONE => {
                c.as_mut_slice().iter_mut().for_each(|v| *v *= c_scale)
            }
            Some(_) => {}
        }
        return;
    }
    if transpose_b == Transpose::No && fits_small_product(m, n, k) {
        // op(A) through its two strides, B as stored (rows `b_rs` = n apart).
        let lhs = Strided {
            values: a.as_slice(),
            row_stride: a_rs as usize,
            depth_stride: a_cs as usize,
        };
        let (rhs, ldr, shape) = (
            b.as_slice(),
            b_rs as usize,
            Shape {
                rows: m,
                cols: n,
                depth: k,
            },
        );
        match keep {
            Some(c_scale) if c_scale == T::ONE => {
                small_product_add_scaled(c.as_mut_slice(), n, scale, lhs, rhs, ldr, shape);
                return;
            }
            None if scale == T::ONE => {
                small_product(c.as_mut_slice(), n, false, lhs, rhs, ldr, shape);
                return;
            }
            _ => {}
        }
    }
    let c_ptr = SendPtr(c.as_mut_slice().as_mut_ptr());
    let a_ptr = SendPtr(a.as_slice().as_ptr() as *mut T);
    let b_ptr = SendPtr(b.as_slice().as_ptr() as *mut T);
    let plan = TilePlan::for_product(m, n, k, transpose_a, transpose_b);
    let run_tile = |index: usize| {
        let (c_ptr, a_ptr, b_ptr) = (c_ptr, a_ptr, b_ptr);
        let (row0, rows, col0, cols) = plan.tile(index);
        let _inside = InGemmCrate::enter();
        // SAFETY: the tile [row0, row0 + rows) × [col0, col0 + cols) lies inside C (m × n),
        // the A rows and B columns it reads lie inside A and B (shapes checked above), and no
        // two tiles overlap, so concurrent tiles never write the same element.
        unsafe {
            gemm::gemm(
                rows,
                cols,
                k,
                c_ptr.0.add(row0 * n + col0),
                1,
                n as isize,
                accumulate,
                a_ptr.0.offset(row0 as isize * a_rs),
                a_cs,
                a_rs,
                b_ptr.0.offset(col0 as isize * b_cs),
                b_cs,
                b_rs,
                c_scale,
                scale,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    };
    // The tiles, and so the bits, are the same whichever threads run them.
    if plan.parallel {
        team::parallel_for(plan.count(), run_tile);
    } else {
        (0..plan.count()).for_each(run_tile);
    }
}

/// True when C = op(A)·op(B) (m × n, depth k) goes to [`small_product`] rather than `gemm`:
/// a shallow product (k ≤ [`SMALL_PRODUCT_DEPTH`]) whose C fits in L1/L2
/// (m·n ≤ [`SMALL_PRODUCT_VALUES`]), at least one vector wide, and too small to split across
/// threads. There the register tiles read both operands in place, where `gemm` would first pack
/// them for a depth too short to repay it. A function of the shapes alone, so the kernel, and the
/// bits, never depend on the thread count.
pub fn fits_small_product(m: usize, n: usize, k: usize) -> bool {
    k <= SMALL_PRODUCT_DEPTH
        && n >= SMALL_PRODUCT_MIN_COLUMNS
        && m.saturating_mul(n) <= SMALL_PRODUCT_VALUES
        && m.saturating_mul(n).saturating_mul(k) < PARALLEL_THRESHOLD
}

/// The deepest product [`fits_small_product`] takes.
pub const SMALL_PRODUCT_DEPTH: usize = 32;
/// The most elements of C [`fits_small_product`] takes.
pub const SMALL_PRODUCT_VALUES: usize = 1 << 15;
/// The fewest columns of C [`fits_small_product`] takes: one `f32` AVX-512 vector (narrower
/// products leave lanes empty, and `gemm` is faster there).
pub const SMALL_PRODUCT_MIN_COLUMNS: usize = 16;

/// C = A·Bᵀ on the calling thread, A given as rows of `b.cols()` values laid end to end and C
/// as rows of `b.rows()` values: one `gemm` call over all of it, never split into
/// tiles or threads. For callers that cut a large product into row blocks of their own and run
/// the blocks on their own threads, reading a buffer they do not own in place (the Python
/// package's inference reads NumPy's memory): the bits of each block depend only on its shape.
///
/// # Panics
/// When `a` is not whole rows of `b.cols()` values, or `c` does not hold one row of `b.rows()`
/// values per row of `a`.
#[track_caller]
pub fn matmul_transpose_rows<T: Float>(c: &mut [T], a: &[T], b: &Matrix<T>) {
    let (n, k) = b.shape();
    let m = a.len().checked_div(k).unwrap_or(c.len() / n.max(1));
    assert!(
        a.len() == m * k && c.len() == m * n,
        "matmul_transpose_rows: A has {} values, C {}, B is {n}×{k}",
        a.len(),
        c.len()
    );
    // SAFETY: C is m × n with rows n apart, A m × k with rows k apart and B n × k (read
    // transposed), all inside the slices (lengths checked above).
    unsafe {
        one_call(
            (m, n, k),
            c,
            n,
            (a.as_ptr(), k as isize, 1),
            (b.as_slice().as_ptr(), 1, k as isize),
        )
    };
}

/// C (m × n, rows `c_row` apart, m·n values) = A · B, one `gemm` call on the calling thread
/// (C is zeroed when k = 0); A and B are (pointer, row stride, column stride) as the product
/// reads them (m × k and k × n).
///
/// # Safety
/// Every element the strides reach for those shapes lies inside A's and B's buffers.
pub(crate) unsafe fn one_call<T: Float>(
    (m, n, k): (usize, usize, usize),
    c: &mut [T],
    c_row: usize,
    (a, a_rs, a_cs): (*const T, isize, isize),
    (b, b_rs, b_cs): (*const T, isize, isize),
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        c_row >= n && c.len() > (m - 1) * c_row + n - 1,
        "C's rows overrun it"
    );
    if k == 0 {
        c.fill(T::ZERO);
        return;
    }
    let c = c.as_mut_ptr();
    let _inside = InGemmCrate::enter();
    // SAFETY: the caller's promise.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c,
            1,
            c_row as isize,
            false,
            a,
            a_cs,
            a_rs,
            b,
            b_cs,
            b_rs,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// C = op(A)·B[:, first..first + cols] on the calling thread, C given as `cols`-wide rows laid
/// end to end (m × cols): one `gemm` call over a block of B's columns, never split into tiles
/// or threads. For callers that cut a product into column blocks and use each block while it
/// is still in cache (a convolution's ∂C/∂X̂, added back onto the pixels a group of examples at
/// a time); the bits of each element depend only on k, as in [`gemm()`].
///
/// # Panics
/// When the block runs past B's columns, or `c` does not hold m × `cols` values.
#[track_caller]
pub fn gemm_column_block<T: Float>(
    c: &mut [T],
    a: &Matrix<T>,
    transpose_a: Transpose,
    b: &Matrix<T>,
    first: usize,
    cols: usize,
) {
    let (m, k, a_rs, a_cs) = view(a, transpose_a);
    let n = b.cols();
    assert!(
        b.rows() == k && first + cols <= n && c.len() == m * cols,
        "gemm_column_block: op(A) is {m}×{k}, B is {}×{n}, columns {first}..{}, C has {} values",
        b.rows(),
        first + cols,
        c.len()
    );
    // SAFETY: C is m × cols with rows `cols` apart (length checked above); A is read as
    // op(A), m × k, through its own strides; the block of B starts at column `first` and its
    // `cols` columns end inside B's rows (checked above).
    unsafe {
        one_call(
            (m, cols, k),
            c,
            cols,
            (a.as_slice().as_ptr(), a_rs, a_cs),
            (b.as_slice().as_ptr().add(first), n as isize, 1),
        )
    };
}

/// True when C = op(A)·op(B) with these shapes would hand tiles to rayon.
pub fn runs_in_parallel(
    m: usize,
    n: usize,
    k: usize,
    transpose_a: Transpose,
    transpose_b: Transpose,
) -> bool {
    TilePlan::for_product(m, n, k, transpose_a, transpose_b).parallel
}

/// The textbook triple loop, in `f64`: the reference the GEMM wrapper is tested against.
pub fn naive_matmul<T: Float>(
    a: &Matrix<T>,
    transpose_a: Transpose,
    b: &Matrix<T>,
    transpose_b: Transpose,
) -> Matrix<f64> {
    let get = |m: &Matrix<T>, t: Transpose, i: usize, j: usize| match t {
        Transpose::No => m[(i, j)].to_f64(),
        Transpose::Yes => m[(j, i)].to_f64(),
    };
    let (m, k, _, _) = view(a, transpose_a);
    let (k2, n, _, _) = view(b, transpose_b);
    assert_eq!(k, k2, "naive_matmul: inner dimensions differ");
    Matrix::from_fn(m, n, |i, j| {
        (0..k)
            .map(|p| get(a, transpose_a, i, p) * get(b, transpose_b, p, j))
            .sum()
    })
}

impl<T: Float> Matrix<T> {
    /// A·B.
    ///
    /// ```
    /// use backprop_tensor::Matrix;
    /// let a = Matrix::<f32>::from_rows(&[[1.0, 2.0], [3.0, 4.0]]).unwrap();
    /// let b = Matrix::<f32>::from_rows(&[[5.0], [6.0]]).unwrap();
    /// assert_eq!(a.matmul(&b).as_slice(), &[17.0, 39.0]);
    /// ```
    ///
    /// # Panics
    /// When `self.cols() != other.rows()`.
    #[track_caller]
    pub fn matmul(&self, other: &Self) -> Self {
        let mut c = Self::zeros(self.rows(), other.cols());
        gemm(&mut c, self, Transpose::No, other, Transpose::No, false);
        c
    }

    /// selfᵀ·other, without forming the transpose (the weight gradient δᵀ·X).
    ///
    /// # Panics
    /// When `self.rows() != other.rows()`.
    #[track_caller]
    pub fn transpose_matmul(&self, other: &Self) -> Self {
        let mut c = Self::zeros(self.cols(), other.cols());
        gemm(&mut c, self, Transpose::Yes, other, Transpose::No, false);
        c
    }

    /// self·otherᵀ, without forming the transpose (the forward product X·Wᵀ).
    ///
    /// # Panics
    /// When `self.cols() != other.cols()`.
    #[track_caller]
    pub fn matmul_transpose(&self, other: &Self) -> Self {
        let mut c = Self::zeros(self.rows(), other.rows());
        gemm(&mut c, self, Transpose::No, other, Transpose::Yes, false);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_inner_dimension() {
        let a = Matrix::<f32>::zeros(3, 0);
        let b = Matrix::<f32>::zeros(0, 2);
        let mut c = Matrix::filled(3, 2, 7.0);
        gemm(&mut c, &a, Transpose::No, &b, Transpose::No, true);
        assert_eq!(c.as_slice(), &[7.0; 6]);
        assert_eq!(a.matmul(&b).as_slice(), &[0.0; 6]);
        gemm_add_scaled(&mut c, 0.5, &a, Transpose::No, &b, Transpose::No, -1.0);
        assert_eq!(c.as_slice(), &[3.5; 6]);
    }

    #[test]
    #[should_panic(expected = "op(A) is 2×3")]
    fn mismatch_names_shapes() {
        let _ = Matrix::<f32>::zeros(2, 3).matmul(&Matrix::zeros(2, 3));
    }
}
