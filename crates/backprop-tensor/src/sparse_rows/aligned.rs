//! Dense rows on cache-line boundaries: the dense operands of the sparse products (Wᵀ, formed by
//! the blocked transpose of [`crate::transpose`], and δ).

use crate::transpose::transpose_blocks;
use crate::{Float, Matrix};

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
        copy_into(matrix, &mut rows);
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

    /// The transpose of `matrix`, its rows on cache lines.
    pub fn from_transpose(matrix: &Matrix<T>) -> Self {
        let mut rows = Self::new();
        rows.transpose_from(matrix);
        rows
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
