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

use crate::{team, Float, Matrix};

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

    /// Replaces the contents with the non-zeros of `matrix`, keeping the allocations; rows are
    /// compressed side by side on the team's threads.
    ///
    /// # Panics
    /// When `matrix` has more columns than a `u32` counts.
    pub fn fill_from(&mut self, matrix: &Matrix<T>) {
        let (rows, cols) = matrix.shape();
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
        let out = Destination {
            counts: self.counts.as_mut_ptr(),
            columns: self.columns.as_mut_ptr(),
            values: self.values.as_mut_ptr(),
        };
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
        let out = Destination {
            counts: self.counts.as_mut_ptr(),
            columns: self.columns.as_mut_ptr(),
            values: self.values.as_mut_ptr(),
        };
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

/// A dense matrix whose rows start on 64-byte boundaries, `stride` values apart (a whole number
/// of cache lines): the dense operand of the sparse products, so that no vector load or store of
/// a row straddles two cache lines (a 100-unit row of `f32` is 6¼ lines; unaligned, most of its
/// vectors would touch two).
#[derive(Clone, Debug, Default)]
pub struct AlignedRows<T> {
    buffer: Vec<T>,
    offset: usize,
    rows: usize,
    cols: usize,
    stride: usize,
}

/// The alignment of [`AlignedRows`]' rows, in bytes.
const LINE: usize = 64;
/// Rows and columns per block of the transposes.
const TRANSPOSE_BLOCK: usize = 16;

impl<T: Float> AlignedRows<T> {
    /// An empty matrix.
    pub fn new() -> Self {
        Self {
            buffer: Vec::new(),
            offset: 0,
            rows: 0,
            cols: 0,
            stride: 0,
        }
    }

    /// A copy of `matrix`.
    pub fn from_matrix(matrix: &Matrix<T>) -> Self {
        let mut rows = Self::new();
        rows.resize(matrix.rows(), matrix.cols());
        for (i, row) in matrix
            .as_slice()
            .chunks_exact(matrix.cols().max(1))
            .enumerate()
        {
            rows.row_mut(i).copy_from_slice(row);
        }
        rows
    }

    /// Reshapes to rows × cols, keeping the allocation where it is large enough; the values
    /// are then unspecified.
    pub fn resize(&mut self, rows: usize, cols: usize) {
        let per_line = (LINE / std::mem::size_of::<T>()).max(1);
        let stride = cols.div_ceil(per_line) * per_line;
        let needed = rows * stride + per_line;
        if self.buffer.len() < needed {
            self.buffer.resize(needed, T::ZERO);
        }
        let misaligned = self.buffer.as_ptr() as usize % LINE;
        self.offset = match misaligned {
            0 => 0,
            bytes => (LINE - bytes) / std::mem::size_of::<T>(),
        };
        (self.rows, self.cols, self.stride) = (rows, cols, stride);
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The distance between rows, in values.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Every row with its padding, end to end.
    pub fn as_slice(&self) -> &[T] {
        &self.buffer[self.offset..][..self.rows * self.stride]
    }

    /// Every row with its padding, end to end.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.buffer[self.offset..][..self.rows * self.stride]
    }

    /// Row `i` (without its padding).
    pub fn row(&self, i: usize) -> &[T] {
        &self.as_slice()[i * self.stride..][..self.cols]
    }

    /// Row `i` (without its padding).
    pub fn row_mut(&mut self, i: usize) -> &mut [T] {
        let (stride, cols) = (self.stride, self.cols);
        &mut self.as_mut_slice()[i * stride..][..cols]
    }

    /// A plain matrix of the same values.
    pub fn to_matrix(&self) -> Matrix<T> {
        let values = (0..self.rows)
            .flat_map(|i| self.row(i).iter().copied())
            .collect();
        Matrix::from_vec(self.rows, self.cols, values).expect("rows × cols values")
    }

    /// Becomes the transpose of `matrix`.
    ///
    /// ```
    /// use backprop_tensor::{sparse_rows::AlignedRows, Matrix};
    /// let m = Matrix::from_rows(&[[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]).unwrap();
    /// let mut t = AlignedRows::new();
    /// t.transpose_from(&m);
    /// assert_eq!(t.to_matrix(), m.transpose());
    /// let mut back = Matrix::zeros(0, 0);
    /// t.transpose_into(&mut back);
    /// assert_eq!(back, m);
    /// ```
    pub fn transpose_from(&mut self, matrix: &Matrix<T>) {
        let (rows, cols) = matrix.shape();
        self.resize(cols, rows);
        let stride = self.stride;
        transpose_blocks(
            matrix.as_slice(),
            cols,
            (rows, cols),
            self.as_mut_slice(),
            stride,
        );
    }

    /// Writes the transpose into `out` (resized to cols × rows).
    pub fn transpose_into(&self, out: &mut Matrix<T>) {
        out.resize(self.cols, self.rows);
        let shape = (self.rows, self.cols);
        transpose_blocks(
            self.as_slice(),
            self.stride,
            shape,
            out.as_mut_slice(),
            self.rows,
        );
    }
}

/// `out` ← `matrix`ᵀ, in cache-sized blocks (split across the team's threads).
pub fn transpose_into<T: Float>(matrix: &Matrix<T>, out: &mut Matrix<T>) {
    let (rows, cols) = matrix.shape();
    out.resize(cols, rows);
    transpose_blocks(
        matrix.as_slice(),
        cols,
        (rows, cols),
        out.as_mut_slice(),
        rows,
    );
}

/// Copies `matrix` into `rows` (resized to its shape).
pub fn copy_into<T: Float>(matrix: &Matrix<T>, rows: &mut AlignedRows<T>) {
    rows.resize(matrix.rows(), matrix.cols());
    for (i, row) in matrix
        .as_slice()
        .chunks_exact(matrix.cols().max(1))
        .take(matrix.rows())
        .enumerate()
    {
        rows.row_mut(i).copy_from_slice(row);
    }
}

/// dst(j, i) = src(i, j) for a `rows` × `cols` source (rows `src_stride` apart; the
/// destination's rows `dst_stride` apart), in square blocks that stay in cache, split across
/// the team by bands of the destination's rows.
fn transpose_blocks<T: Float>(
    src: &[T],
    src_stride: usize,
    (rows, cols): (usize, usize),
    dst: &mut [T],
    dst_stride: usize,
) {
    if rows == 0 || cols == 0 {
        return;
    }
    let band = TRANSPOSE_BLOCK * dst_stride;
    team::for_each_chunk(&mut dst[..cols * dst_stride], band, |index, out| {
        let first = index * TRANSPOSE_BLOCK;
        let width = (cols - first).min(TRANSPOSE_BLOCK);
        for start in (0..rows).step_by(TRANSPOSE_BLOCK) {
            let height = (rows - start).min(TRANSPOSE_BLOCK);
            #[cfg(target_arch = "x86_64")]
            if width == TRANSPOSE_BLOCK && height == TRANSPOSE_BLOCK && crate::simd::has_avx512() {
                if let (Some(src), Some(out)) = (T::as_f32(src), T::as_f32_mut(out)) {
                    // SAFETY: AVX-512 is present; the block's 16 rows of 16 values lie inside
                    // `src` (rows start.., columns first..) and its 16 transposed rows inside
                    // this band of `out` (rows 0..16, columns start..).
                    unsafe {
                        let from = src.as_ptr().add(start * src_stride + first);
                        let to = out.as_mut_ptr().add(start);
                        wide::transpose_block_f32(from, src_stride, to, dst_stride);
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
    });
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
    let (stride, b) = (b.stride, b.as_slice());
    team::for_each_chunk(z.as_mut_slice(), PRODUCT_ROWS * n, |task, out| {
        let first = task * PRODUCT_ROWS;
        for (i, out) in out.chunks_exact_mut(n).enumerate() {
            let (columns, values) = s.row(first + i);
            product_row(out, columns, values, b, stride);
        }
    });
}

/// One row of [`sparse_product`]: `out` ← Σ values[p]·(row columns[p] of B), B's rows
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
mod wide {
    use crate::small_product::wide::Lane;
    use std::arch::x86_64::{
        __m512, __m512i, _mm256_add_epi32, _mm256_maskz_compress_epi32, _mm256_set1_epi32,
        _mm256_setr_epi32, _mm256_storeu_si256, _mm512_add_epi32, _mm512_cmpneq_pd_mask,
        _mm512_cmpneq_ps_mask, _mm512_loadu_ps, _mm512_maskz_compress_epi32,
        _mm512_maskz_compress_pd, _mm512_maskz_compress_ps, _mm512_maskz_loadu_pd,
        _mm512_maskz_loadu_ps, _mm512_set1_epi32, _mm512_setr_epi32, _mm512_setzero_pd,
        _mm512_setzero_ps, _mm512_shuffle_f32x4, _mm512_shuffle_ps, _mm512_storeu_pd,
        _mm512_storeu_ps, _mm512_storeu_si512, _mm512_unpackhi_ps, _mm512_unpacklo_ps,
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
    pub(super) unsafe fn transpose_block_f32(
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

    /// `out` ← Σ values[p]·(row columns[p] of B), panels of up to [`PANEL_VECTORS`] vectors
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
}

#[cfg(test)]
mod tests;
