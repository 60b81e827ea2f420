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
//! **Determinism.** C is cut into fixed tiles of [`ROW_TILE`] × [`COL_TILE`] whose layout depends
//! only on the shapes. Each tile is one single-threaded `gemm` call that runs the whole inner
//! dimension k, and rayon only decides which thread computes which tile. So every element of C
//! is produced by the same instructions in the same order whatever the number of threads: 1, 2
//! or 3 threads give the same bits.

use crate::{Float, Matrix};
use rayon::prelude::*;

/// Rows of C per tile.
pub const ROW_TILE: usize = 64;
/// Columns of C per tile.
pub const COL_TILE: usize = 256;
/// Below this many multiply-adds a product runs as a single tile on the calling thread.
pub const PARALLEL_THRESHOLD: usize = 1 << 16;

/// Whether an operand is read as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    /// Read as stored.
    No,
    /// Read transposed.
    Yes,
}

/// A raw pointer that may cross to rayon's threads. Tiles write disjoint parts of C.
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

/// The shape of op(M) and the strides (row, column) at which to read it.
fn view<T: Float>(m: &Matrix<T>, transpose: Transpose) -> (usize, usize, isize, isize) {
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
        if !accumulate {
            c.fill(T::ZERO);
        }
        return;
    }
    let c_ptr = SendPtr(c.as_mut_slice().as_mut_ptr());
    let a_ptr = SendPtr(a.as_slice().as_ptr() as *mut T);
    let b_ptr = SendPtr(b.as_slice().as_ptr() as *mut T);
    let run_tile = |row0: usize, rows: usize, col0: usize, cols: usize| {
        let (c_ptr, a_ptr, b_ptr) = (c_ptr, a_ptr, b_ptr);
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
                T::ONE,
                T::ONE,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    };
    let tiles = tiles(m, n);
    if tiles.len() == 1 || m * n * k < PARALLEL_THRESHOLD {
        for (row0, rows, col0, cols) in tiles {
            run_tile(row0, rows, col0, cols);
        }
    } else {
        tiles
            .into_par_iter()
            .for_each(|(row0, rows, col0, cols)| run_tile(row0, rows, col0, cols));
    }
}

/// The fixed tiling of an m × n result: (first row, rows, first column, columns).
fn tiles(m: usize, n: usize) -> Vec<(usize, usize, usize, usize)> {
    let mut out = Vec::with_capacity(m.div_ceil(ROW_TILE) * n.div_ceil(COL_TILE));
    for row0 in (0..m).step_by(ROW_TILE) {
        for col0 in (0..n).step_by(COL_TILE) {
            out.push((row0, ROW_TILE.min(m - row0), col0, COL_TILE.min(n - col0)));
        }
    }
    out
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
    fn tiles_cover_the_result_once() {
        for (m, n) in [(1, 1), (64, 256), (65, 257), (200, 3)] {
            let mut count = vec![0u8; m * n];
            for (r0, r, c0, c) in tiles(m, n) {
                for i in r0..r0 + r {
                    for j in c0..c0 + c {
                        count[i * n + j] += 1;
                    }
                }
            }
            assert!(count.iter().all(|&c| c == 1), "{m}×{n}");
        }
    }

    #[test]
    fn empty_inner_dimension() {
        let a = Matrix::<f32>::zeros(3, 0);
        let b = Matrix::<f32>::zeros(0, 2);
        let mut c = Matrix::filled(3, 2, 7.0);
        gemm(&mut c, &a, Transpose::No, &b, Transpose::No, true);
        assert_eq!(c.as_slice(), &[7.0; 6]);
        assert_eq!(a.matmul(&b).as_slice(), &[0.0; 6]);
    }

    #[test]
    #[should_panic(expected = "op(A) is 2×3")]
    fn mismatch_names_shapes() {
        let _ = Matrix::<f32>::zeros(2, 3).matmul(&Matrix::zeros(2, 3));
    }
}
