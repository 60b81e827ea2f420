//! A batch of mostly-zero rows kept by its non-zeros (compressed sparse rows), and the products
//! a dense layer needs when such a batch X is its input, each over the non-zeros only: Z = X·Wᵀ
//! and the weight gradient's transpose Xᵀ·δ. A batch of MNIST digits (about a fifth of the
//! pixels are not zero) then costs about a fifth of the multiply-adds of the dense products.
//!
//! [`sparse_product`] computes Z ← S·B, row i of Z = Σₖ S(i, k)·(row k of B) over row i's
//! non-zeros in column order, the sums for a panel of up to 128 `f32` (64 `f64`) columns held
//! in registers while the row's non-zeros run. Xᵀ·δ is the same product with S = Xᵀ
//! ([`SparseRows::fill_transposed_from`]: the non-zeros of each column, in row order) and B = δ. B's
//! rows start on cache lines ([`AlignedRows`]), so that no vector load straddles two lines.
//!
//! **Order and threads.** Every element's sum runs in the order just given, from zero, whatever
//! the thread count: the work is split by rows of Z, and no sum is split between threads. With
//! AVX-512 each term is one fused multiply-add; the plain form rounds the product and the sum
//! (so the two differ in the last bits, as the conventions allow across CPU feature levels).

use crate::{team, Float, Matrix, MatrixView};

mod aligned;
pub use aligned::{copy_into, AlignedRows};

/// Rows of Z one task of [`sparse_product`] computes.
const PRODUCT_ROWS: usize = 16;

/// Rows of a matrix by their non-zeros: row i's are `values[starts[i]..][..counts[i]]`, in the
/// columns `columns[starts[i]..][..counts[i]]`, in increasing column order. A batch compressed
/// from a dense matrix ([`SparseRows::fill_from`]) gives each row room for all its columns, so
/// that rows are filled side by side on several threads with no pass to place them; a
/// transpose ([`SparseRows::fill_transposed_from`]) gives each column room for every row.
#[derive(Clone, Debug, Default)]
pub struct SparseRows<T> {
    cols: usize,
    starts: Vec<usize>,
    counts: Vec<usize>,
    columns: Vec<u32>,
    values: Vec<T>,
}

/// Rows of a batch one task of [`SparseRows::fill_from`] compresses.
const TASK_ROWS: usize = 16;
/// Columns of a batch one task of [`SparseRows::fill_transposed_from`] compresses.
pub const TASK_COLUMNS: usize = 16;

/// Where the tasks of a fill write: each writes the rows (or slots) it owns, and no other.
struct Destination<T> {
    counts: *mut usize,
    columns: *mut u32,
    values: *mut T,
}

// SAFETY: the tasks that share a `Destination` write disjoint parts of its buffers (stated at
// each use), which outlive the parallel loop.
unsafe impl<T: Send> Send for Destination<T> {}
unsafe impl<T: Send> Sync for Destination<T> {}

impl<T: Float> SparseRows<T> {
    /// No rows.
    pub fn new() -> Self {
        Self {
            cols: 0,
            starts: Vec::new(),
            counts: Vec::new(),
            columns: Vec::new(),
            values: Vec::new(),
        }
    }

    /// The non-zeros of `matrix`.
    ///
    /// ```
    /// use backprop_tensor::{sparse_rows::SparseRows, Matrix};
    /// let m = Matrix::from_rows(&[[0.0f32, 2.0, 0.0], [1.0, 0.0, 3.0]]).unwrap();
    /// let s = SparseRows::from_dense(&m);
    /// assert_eq!(s.row(1), (&[0u32, 2][..], &[1.0f32, 3.0][..]));
    /// assert_eq!(s.non_zeros(), 3);
    /// assert_eq!(s.density(), 0.5);
    /// ```
    pub fn from_dense(matrix: &Matrix<T>) -> Self {
        let mut rows = Self::new();
        rows.fill_from(matrix);
        rows
    }

    /// Room for `slots` non-zeros in all, `rows` rows of `cols` columns, counts at zero.
    fn reshape(&mut self, rows: usize, cols: usize, slots: usize) {
        self.cols = cols;
        self.counts.clear();
        self.counts.resize(rows, 0);
        if self.values.len() < slots {
            self.columns.resize(slots, 0);
            self.values.resize(slots, T::ZERO);
        }
    }

    /// Where the tasks of a fill write.
    fn destination(&mut self) -> Destination<T> {
        Destination {
            counts: self.counts.as_mut_ptr(),
            columns: self.columns.as_mut_ptr(),
            values: self.values.as_mut_ptr(),
        }
    }

    /// Replaces the contents with the non-zeros of `matrix`, keeping the allocations; rows are
    /// compressed side by side on the team's threads.
    ///
    /// # Panics
    /// When `matrix` has more columns than a `u32` counts.
    pub fn fill_from<'a>(&mut self, matrix: impl Into<MatrixView<'a, T>>)
    where
        T: 'a,
    {
        let matrix = matrix.into();
        let (rows, cols) = (matrix.rows(), matrix.cols());
        assert!(
            u32::try_from(cols).is_ok(),
            "SparseRows: {cols} columns do not fit in u32 indices"
        );
        // A vector's worth past each row: the wide form stores whole vectors and then counts
        // only the non-zeros among them.
        let capacity = cols + 16;
        self.reshape(rows, cols, rows * capacity);
        self.starts.clear();
        self.starts.extend((0..rows).map(|i| i * capacity));
        if cols == 0 {
            return;
        }
        let out = self.destination();
        let source = matrix.as_slice();
        team::parallel_for(rows.div_ceil(TASK_ROWS), |task| {
            let out = &out;
            for i in task * TASK_ROWS..((task + 1) * TASK_ROWS).min(rows) {
                // SAFETY: task `task` alone writes the rows i of its range: count i and the
                // `capacity` slots from i·capacity, which `reshape` allocated and which
                // `compress_row`'s `cols + 16` writes stay within.
                unsafe {
                    let count = compress_row(
                        &source[i * cols..][..cols],
                        out.columns.add(i * capacity),
                        out.values.add(i * capacity),
                    );
                    *out.counts.add(i) = count;
                }
            }
        });
    }

    /// Replaces the contents with the non-zeros of `matrix`ᵀ: row k holds column k's non-zeros
    /// of `matrix`, in row order. Bands of [`TASK_COLUMNS`] columns are compressed side by side
    /// on the team's threads, each reading its columns' part of every row (one cache line of
    /// `f32`) and writing only its own columns' non-zeros.
    ///
    /// ```
    /// use backprop_tensor::{sparse_rows::SparseRows, Matrix};
    /// let m = Matrix::from_rows(&[[0.0f32, 2.0, 0.0], [1.0, 3.0, 0.0]]).unwrap();
    /// let mut t = SparseRows::new();
    /// t.fill_transposed_from(&m);
    /// assert_eq!((t.rows(), t.cols()), (3, 2));
    /// assert_eq!(t.row(1), (&[0u32, 1][..], &[2.0f32, 3.0][..]));
    /// assert_eq!(t.row(2).0.len(), 0);
    /// ```
    ///
    /// # Panics
    /// When `matrix` has more rows than a `u32` counts.
    pub fn fill_transposed_from(&mut self, matrix: &Matrix<T>) {
        let (rows, cols) = matrix.shape();
        assert!(
            u32::try_from(rows).is_ok(),
            "SparseRows: {rows} rows do not fit in u32 indices"
        );
        // A vector's worth past each column: the wide form stores whole vectors.
        let capacity = rows + 16;
        self.reshape(cols, rows, cols * capacity);
        self.starts.clear();
        self.starts.extend((0..cols).map(|k| k * capacity));
        let out = self.destination();
        let source = matrix.as_slice();
        team::parallel_for(cols.div_ceil(TASK_COLUMNS), |task| {
            let out = &out;
            let first = task * TASK_COLUMNS;
            let width = (cols - first).min(TASK_COLUMNS);
            // SAFETY: task `task` alone writes columns first..first + width: their counts and
            // their `capacity` = rows + 16 slots each, which `reshape` allocated.
            unsafe { compress_columns(source, cols, first, width, out, capacity) };
        });
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.counts.len()
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Non-zeros in all.
    pub fn non_zeros(&self) -> usize {
        self.counts.iter().sum()
    }

    /// The fraction of the values that are not zero (0 for an empty matrix).
    pub fn density(&self) -> f64 {
        let all = self.rows() * self.cols;
        if all == 0 {
            return 0.0;
        }
        self.non_zeros() as f64 / all as f64
    }

    /// Row `i`'s columns and values.
    ///
    /// # Panics
    /// When `i` is out of range.
    pub fn row(&self, i: usize) -> (&[u32], &[T]) {
        let range = self.starts[i]..self.starts[i] + self.counts[i];
        (&self.columns[range.clone()], &self.values[range])
    }
}

/// The non-zeros of columns `first..first + width` of a row-major matrix with `cols` columns,
/// each column's in row order from slot k·`capacity` of `out`, its count in `out.counts[k]`.
///
/// # Safety
/// No other thread may touch those columns' counts and slots while this runs; each column has
/// room for `capacity` ≥ rows + 16 values (the wide form stores whole vectors).
unsafe fn compress_columns<T: Float>(
    source: &[T],
    cols: usize,
    first: usize,
    width: usize,
    out: &Destination<T>,
    capacity: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx512() && width == TASK_COLUMNS {
        if let Some(source) = T::as_f32(source) {
            // SAFETY: AVX-512 is present; the caller owns these columns.
            let out = Destination {
                counts: out.counts,
                columns: out.columns,
                values: out.values.cast::<f32>(),
            };
            unsafe { wide::compress_columns_f32(source, cols, first, &out, capacity) };
            return;
        }
    }
    let mut counts = [0usize; TASK_COLUMNS];
    for (i, row) in source.chunks_exact(cols).enumerate() {
        for (j, &v) in row[first..first + width].iter().enumerate() {
            if v != T::ZERO {
                let k = first + j;
                // SAFETY: counts[j] < rows ≤ capacity: within column k's slots, which the
                // caller owns.
                unsafe {
                    *out.columns.add(k * capacity + counts[j]) = i as u32;
                    *out.values.add(k * capacity + counts[j]) = v;
                }
                counts[j] += 1;
            }
        }
    }
    for (j, &count) in counts[..width].iter().enumerate() {
        // SAFETY: the caller owns column first + j's count.
        unsafe { *out.counts.add(first + j) = count };
    }
}

/// Writes the non-zeros of `row` and their column numbers from `columns` and `values` on, and
/// returns how many there are.
///
/// # Safety
/// `columns` and `values` must be valid for `row.len() + 16` writes each (the wide form stores
/// whole vectors; only the first `count` values written are non-zeros).
unsafe fn compress_row<T: Float>(row: &[T], columns: *mut u32, values: *mut T) -> usize {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx512() {
        if let Some(row) = T::as_f32(row) {
            // SAFETY: AVX-512 is present; the caller's room is what `wide::compress_f32`
            // needs.
            return unsafe { wide::compress_f32(row, columns, values.cast()) };
        }
        if let Some(row) = T::as_f64(row) {
            // SAFETY: as above.
            return unsafe { wide::compress_f64(row, columns, values.cast()) };
        }
    }
    // SAFETY: the caller's room covers the row.
    unsafe { plain_compress(row, columns, values) }
}

/// [`compress_row`] one value at a time.
///
/// # Safety
/// `columns` and `values` must be valid for `row.len()` writes each.
unsafe fn plain_compress<T: Float>(row: &[T], columns: *mut u32, values: *mut T) -> usize {
    let mut count = 0;
    for (j, &v) in row.iter().enumerate() {
        if v != T::ZERO {
            // SAFETY: count < row.len(), inside the caller's room.
            unsafe {
                *columns.add(count) = j as u32;
                *values.add(count) = v;
            }
            count += 1;
        }
    }
    count
}

/// Z ← S·B for S (rows × k) by its non-zeros and B (k × n) dense, its rows on cache-line
/// boundaries: Z is resized to rows × n.
/// See the [module documentation](self) for the order of the sums and the threads.
///
/// ```
/// use backprop_tensor::{sparse_rows::{sparse_product, AlignedRows, SparseRows}, Matrix};
/// let s = SparseRows::from_dense(&Matrix::from_rows(&[[0.0f64, 2.0], [1.0, 0.0]]).unwrap());
/// let b = Matrix::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).unwrap();
/// let mut z = Matrix::zeros(0, 0);
/// let b = AlignedRows::from_matrix(&b);
/// sparse_product(&mut z, &s, &b);
/// assert_eq!(z.as_slice(), &[8.0, 10.0, 12.0, 1.0, 2.0, 3.0]);
/// ```
///
/// # Panics
/// When S has a different number of columns than B has rows.
pub fn sparse_product<T: Float>(z: &mut Matrix<T>, s: &SparseRows<T>, b: &AlignedRows<T>) {
    assert_eq!(
        s.cols(),
        b.rows(),
        "sparse_product: S has {} columns, B {} rows",
        s.cols(),
        b.rows()
    );
    let n = b.cols();
    z.resize(s.rows(), n);
    if n == 0 {
        return;
    }
    let (stride, b) = (b.stride(), b.as_slice());
    team::for_each_chunk(z.as_mut_slice(), PRODUCT_ROWS * n, |task, out| {
        let first = task * PRODUCT_ROWS;
        for (i, out) in out.chunks_exact_mut(n).enumerate() {
            let (columns, values) = s.row(first + i);
            product_row(out, columns, values, b, stride);
        }
    });
}

/// One row of [`sparse_product`]: `out` ← Σₚ `values[p]`·(row `columns[p]` of B), B's rows
/// `stride` apart and at least as long as `out`.
fn product_row<T: Float>(out: &mut [T], columns: &[u32], values: &[T], b: &[T], stride: usize) {
    let n = out.len();
    // Column indices are below S's columns (as built), B's rows (checked by the caller).
    debug_assert!(n <= stride && columns.iter().all(|&k| k as usize * stride + n <= b.len()));
    #[cfg(target_arch = "x86_64")]
    if crate::simd::has_avx512() {
        // SAFETY (both calls): AVX-512 is present, and every row of B a column index names
        // lies inside `b` (the column indices are below S's columns, B's rows).
        if let (Some(out), Some(values), Some(b)) =
            (T::as_f32_mut(out), T::as_f32(values), T::as_f32(b))
        {
            unsafe { wide::product_row(out, columns, values, b.as_ptr(), stride) };
            return;
        }
        if let (Some(out), Some(values), Some(b)) =
            (T::as_f64_mut(out), T::as_f64(values), T::as_f64(b))
        {
            unsafe { wide::product_row(out, columns, values, b.as_ptr(), stride) };
            return;
        }
    }
    plain_product_row(out, columns, values, b, stride);
}

crate::simd_kernel! {
    /// [`product_row`] element by element: a product, then a sum.
    fn plain_product_row<T: Float>(out: &mut [T], columns: &[u32], values: &[T], b: &[T], stride: usize) {
        let n = out.len();
        out.fill(T::ZERO);
        for (&k, &x) in columns.iter().zip(values) {
            let row = &b[k as usize * stride..][..n];
            for (o, &w) in out.iter_mut().zip(row) {
                *o += x * w;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod wide;

#[cfg(test)]
mod tests;
