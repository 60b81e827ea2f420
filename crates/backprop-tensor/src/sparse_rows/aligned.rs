//! Dense rows on cache-line boundaries, and transposes in 16 × 16 blocks (in registers for
//! `f32` with AVX-512): the dense operands of the sparse products and the transposes around
//! them (Wᵀ before the forward product, the weight gradient after Xᵀ·δ).

use crate::{team, Float, Matrix};

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
                        super::wide::transpose_block_f32(from, src_stride, to, dst_stride);
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
