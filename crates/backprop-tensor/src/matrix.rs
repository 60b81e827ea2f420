//! A dense 2-D matrix stored row-major: element (i, j) lives at `data[i * cols + j]`.
//!
//! In the engine a batch is a matrix with one example per row, so a layer's pre-activation is
//! Z = X·Wᵀ + 1·bᵀ, with the bias row added to every row ([`Matrix::add_row_to_each_row`]).
//! Shape mismatches between matrices the engine built itself are programming errors: those
//! methods panic and say which shapes disagreed. Constructors fed from outside return `Result`.

use crate::{Float, TensorError};
use std::fmt;
use std::ops::{Index, IndexMut};

/// A row-major matrix of `T` (`f32` by default).
#[derive(Clone, PartialEq)]
pub struct Matrix<T: Float = f32> {
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) data: Vec<T>,
}

impl<T: Float> fmt::Debug for Matrix<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Matrix<{}> {}×{} [", T::NAME, self.rows, self.cols)?;
        for row in 0..self.rows.min(8) {
            let shown: Vec<String> = self
                .row(row)
                .iter()
                .take(8)
                .map(|v| format!("{v:.5}"))
                .collect();
            let more = if self.cols > 8 { ", …" } else { "" };
            writeln!(f, "  [{}{more}]", shown.join(", "))?;
        }
        if self.rows > 8 {
            writeln!(f, "  …")?;
        }
        write!(f, "]")
    }
}

impl<T: Float> Matrix<T> {
    /// A `rows × cols` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self::filled(rows, cols, T::ZERO)
    }

    /// A `rows × cols` matrix with every element `value`.
    pub fn filled(rows: usize, cols: usize, value: T) -> Self {
        Self {
            rows,
            cols,
            data: vec![value; rows * cols],
        }
    }

    /// Wraps row-major data; fails when `data.len() != rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<T>) -> Result<Self, TensorError> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(TensorError::LengthMismatch {
                rows,
                cols,
                len: data.len(),
            });
        }
        Ok(Self { rows, cols, data })
    }

    /// Builds a matrix from equal-length rows; fails on ragged rows.
    ///
    /// ```
    /// use backprop_tensor::Matrix;
    /// let m = Matrix::<f64>::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
    /// assert_eq!(m[(1, 0)], 3.0);
    /// ```
    pub fn from_rows<R: AsRef<[T]>>(rows: &[R]) -> Result<Self, TensorError> {
        let cols = rows.first().map_or(0, |r| r.as_ref().len());
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (index, row) in rows.iter().enumerate() {
            let row = row.as_ref();
            if row.len() != cols {
                return Err(TensorError::RaggedRow {
                    row: index,
                    expected: cols,
                    found: row.len(),
                });
            }
            data.extend_from_slice(row);
        }
        Ok(Self {
            rows: rows.len(),
            cols,
            data,
        })
    }

    /// A 1 × n matrix holding `values`.
    pub fn row_vector(values: &[T]) -> Self {
        Self {
            rows: 1,
            cols: values.len(),
            data: values.to_vec(),
        }
    }

    /// A matrix whose element (i, j) is `f(i, j)`.
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut data = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            for j in 0..cols {
                data.push(f(i, j));
            }
        }
        Self { rows, cols, data }
    }

    /// Number of rows.
    #[inline]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    #[inline]
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    #[inline]
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the matrix holds no element.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The row-major elements.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The row-major elements, mutable.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// Consumes the matrix, returning its row-major elements.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// Row `i`.
    ///
    /// # Panics
    /// When `i >= rows`.
    #[inline]
    #[track_caller]
    pub fn row(&self, i: usize) -> &[T] {
        assert!(
            i < self.rows,
            "row {i} out of range for a {}×{} matrix",
            self.rows,
            self.cols
        );
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Row `i`, mutable.
    ///
    /// # Panics
    /// When `i >= rows`.
    #[inline]
    #[track_caller]
    pub fn row_mut(&mut self, i: usize) -> &mut [T] {
        assert!(
            i < self.rows,
            "row {i} out of range for a {}×{} matrix",
            self.rows,
            self.cols
        );
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// A new matrix made of the listed rows, in order (used to gather a mini-batch).
    ///
    /// # Panics
    /// When an index is out of range.
    #[track_caller]
    pub fn select_rows(&self, indices: &[usize]) -> Self {
        let mut data = Vec::with_capacity(indices.len() * self.cols);
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        Self {
            rows: indices.len(),
            cols: self.cols,
            data,
        }
    }

    /// Converts every element to another float type.
    pub fn cast<U: Float>(&self) -> Matrix<U> {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|v| U::from_f64(v.to_f64())).collect(),
        }
    }

    /// The transpose, materialised. The matmul routines never need it; this is for display,
    /// tests, and operands of the small products that read a weight matrix by its columns.
    pub fn transpose(&self) -> Self {
        let mut out = Self::zeros(0, 0);
        self.transpose_into(&mut out);
        out
    }

    /// [`Matrix::transpose`] into a buffer that keeps its allocation, in 16 × 16 blocks.
    pub fn transpose_into(&self, out: &mut Self) {
        out.resize(self.cols, self.rows);
        let shape = (self.rows, self.cols);
        crate::transpose::transpose_blocks(&self.data, self.cols, shape, &mut out.data, self.rows);
    }

    #[track_caller]
    fn assert_same_shape(&self, other: &Self, operation: &str) {
        assert!(
            self.shape() == other.shape(),
            "{operation}: shapes differ, {}×{} against {}×{}",
            self.rows,
            self.cols,
            other.rows,
            other.cols
        );
    }

    /// Applies `f` to every element, returning a new matrix.
    pub fn map(&self, f: impl Fn(T) -> T) -> Self {
        Self {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|&v| f(v)).collect(),
        }
    }

    /// Applies `f` to every element in place.
    pub fn map_in_place(&mut self, f: impl Fn(T) -> T) {
        self.data.iter_mut().for_each(|v| *v = f(*v));
    }

    /// Combines two equal-shaped matrices element by element.
    ///
    /// # Panics
    /// When the shapes differ.
    #[track_caller]
    pub fn zip_map(&self, other: &Self, f: impl Fn(T, T) -> T) -> Self {
        self.assert_same_shape(other, "zip_map");
        let data = self
            .data
            .iter()
            .zip(&other.data)
            .map(|(&a, &b)| f(a, b))
            .collect();
        Self {
            rows: self.rows,
            cols: self.cols,
            data,
        }
    }

    /// Combines `other` into `self` element by element: `self[i] = f(self[i], other[i])`.
    ///
    /// # Panics
    /// When the shapes differ.
    #[track_caller]
    pub fn zip_map_in_place(&mut self, other: &Self, f: impl Fn(T, T) -> T) {
        self.assert_same_shape(other, "zip_map_in_place");
        self.data
            .iter_mut()
            .zip(&other.data)
            .for_each(|(a, &b)| *a = f(*a, b));
    }

    /// Element-wise sum.
    #[track_caller]
    pub fn add(&self, other: &Self) -> Self {
        self.zip_map(other, |a, b| a + b)
    }

    /// Element-wise difference `self − other`.
    #[track_caller]
    pub fn sub(&self, other: &Self) -> Self {
        self.zip_map(other, |a, b| a - b)
    }

    /// Element-wise (Hadamard) product `self ⊙ other`.
    #[track_caller]
    pub fn hadamard(&self, other: &Self) -> Self {
        self.zip_map(other, |a, b| a * b)
    }

    /// Every element times `factor`.
    pub fn scale(&self, factor: T) -> Self {
        self.map(|v| v * factor)
    }

    /// `self += alpha · other`.
    #[track_caller]
    pub fn add_scaled(&mut self, alpha: T, other: &Self) {
        self.zip_map_in_place(other, |a, b| a + alpha * b);
    }

    /// Sets every element to `value`.
    pub fn fill(&mut self, value: T) {
        self.data.iter_mut().for_each(|v| *v = value);
    }

    /// Adds the 1 × cols row `bias` to every row (Z = XWᵀ + 1·bᵀ).
    ///
    /// # Panics
    /// When `bias` is not 1 × cols.
    #[track_caller]
    pub fn add_row_to_each_row(&mut self, bias: &Self) {
        assert!(
            bias.rows == 1 && bias.cols == self.cols,
            "add_row_to_each_row: bias is {}×{}, expected 1×{}",
            bias.rows,
            bias.cols,
            self.cols
        );
        if self.cols == 0 {
            return;
        }
        for row in self.data.chunks_exact_mut(self.cols) {
            row.iter_mut().zip(&bias.data).for_each(|(v, &b)| *v += b);
        }
    }

    /// Sums down each column: a 1 × cols matrix (the bias gradient Σₓ δₓ).
    ///
    /// Rows are added in order, one after another, so the result does not depend on threads
    /// ([`Matrix::column_sums_into`] without a buffer to reuse).
    pub fn column_sums(&self) -> Self {
        let mut sums = Self::zeros(1, self.cols);
        self.column_sums_into(&mut sums);
        sums
    }

    /// Sums along each row: a rows × 1 matrix.
    pub fn row_sums(&self) -> Self {
        let data = (0..self.rows)
            .map(|i| self.row(i).iter().copied().sum())
            .collect();
        Self {
            rows: self.rows,
            cols: 1,
            data,
        }
    }

    /// The sum of all elements, added in storage order.
    pub fn sum(&self) -> T {
        self.data.iter().copied().sum()
    }

    /// The Euclidean (Frobenius) norm, accumulated in `f64`.
    pub fn norm(&self) -> f64 {
        self.data
            .iter()
            .map(|v| v.to_f64() * v.to_f64())
            .sum::<f64>()
            .sqrt()
    }

    /// The largest absolute value (0 for an empty matrix).
    pub fn max_abs(&self) -> T {
        self.data.iter().fold(T::ZERO, |m, v| m.max(v.abs()))
    }

    /// For each row, [`argmax`] of it: the first NaN if there is one, else the first largest
    /// element.
    pub fn argmax_rows(&self) -> Vec<usize> {
        (0..self.rows).map(|i| argmax(self.row(i))).collect()
    }

    /// True when every element is finite.
    pub fn all_finite(&self) -> bool {
        all_finite(&self.data)
    }
}

crate::simd_kernel! {
    /// True when no value is NaN or infinite. Vectorised (x·0 is ±0 for finite x, NaN
    /// otherwise, and NaN survives a sum), without stopping early: a scan of a whole input
    /// costs about one read of it.
    pub fn all_finite<T: Float>(values: &[T]) -> bool {
        let mut lanes = [T::ZERO; 16];
        let chunks = values.chunks_exact(16);
        let rest = chunks.remainder();
        for chunk in chunks {
            for (lane, &v) in lanes.iter_mut().zip(chunk) {
                *lane += v * T::ZERO;
            }
        }
        lanes.iter().all(|&lane| lane == T::ZERO) && rest.iter().all(|v| v.is_finite())
    }
}

/// The index of the largest value in `values`, with the rule NumPy's and PyTorch's `argmax`
/// follow: a NaN counts as larger than every number, so the first NaN wins; without NaN, the
/// first of equal largest values wins (+∞ is larger than every finite value; a row of −∞ gives
/// 0). An empty slice gives 0.
///
/// Prediction, evaluation and the training metrics all label a row with this one function, so a
/// row with a NaN output gets the same label everywhere.
///
/// ```
/// use backprop_tensor::argmax;
/// assert_eq!(argmax(&[0.1f32, 0.7, 0.7]), 1);
/// assert_eq!(argmax(&[0.1f32, f32::NAN, 0.9, f32::NAN]), 1);
/// ```
pub fn argmax<T: Float>(values: &[T]) -> usize {
    let Some(&first) = values.first() else {
        return 0;
    };
    // The best value so far is kept beside its index, and both are chosen by selects rather
    // than branches: which unit of a softmax output is largest is a coin toss per row, so a
    // branch would be mispredicted about once a row.
    let (mut best, mut best_value) = (0, first);
    for (index, &value) in values.iter().enumerate() {
        if value.is_nan() {
            return index;
        }
        let greater = value > best_value;
        best = if greater { index } else { best };
        best_value = if greater { value } else { best_value };
    }
    best
}

impl<T: Float> Index<(usize, usize)> for Matrix<T> {
    type Output = T;

    #[inline]
    #[track_caller]
    fn index(&self, (i, j): (usize, usize)) -> &T {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of range for {}×{}",
            self.rows,
            self.cols
        );
        &self.data[i * self.cols + j]
    }
}

impl<T: Float> IndexMut<(usize, usize)> for Matrix<T> {
    #[inline]
    #[track_caller]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut T {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of range for {}×{}",
            self.rows,
            self.cols
        );
        &mut self.data[i * self.cols + j]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: &[&[f64]]) -> Matrix<f64> {
        Matrix::from_rows(rows).unwrap()
    }

    #[test]
    fn construction_checks_lengths() {
        assert!(Matrix::<f32>::from_vec(2, 3, vec![0.0; 5]).is_err());
        let err = Matrix::<f32>::from_rows(&[vec![1.0, 2.0], vec![3.0]]).unwrap_err();
        assert!(err.to_string().contains("row 1"), "{err}");
    }

    #[test]
    fn sums_and_bias() {
        let mut a = m(&[&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]]);
        assert_eq!(a.column_sums().as_slice(), &[5.0, 7.0, 9.0]);
        assert_eq!(a.row_sums().as_slice(), &[6.0, 15.0]);
        a.add_row_to_each_row(&Matrix::row_vector(&[10.0, 20.0, 30.0]));
        assert_eq!(a.row(1), &[14.0, 25.0, 36.0]);
        assert_eq!(a.sum(), 11.0 + 22.0 + 33.0 + 14.0 + 25.0 + 36.0);
    }

    #[test]
    fn argmax_takes_the_first_nan_else_the_first_largest() {
        let nan = f32::NAN;
        let inf = f32::INFINITY;
        assert_eq!(argmax(&[nan, 1.0, 2.0]), 0, "NaN first");
        assert_eq!(argmax(&[1.0, nan, 2.0, nan]), 1, "NaN in the middle");
        assert_eq!(argmax(&[3.0, 1.0, nan]), 2, "NaN last");
        assert_eq!(argmax(&[inf, nan]), 1, "NaN beats +inf");
        assert_eq!(argmax(&[0.1, 0.7, 0.7]), 1, "ties go to the first");
        assert_eq!(argmax(&[2.0, 2.0]), 0);
        assert_eq!(argmax(&[1.0, inf, inf, 3.0]), 1, "+inf is the largest");
        assert_eq!(argmax(&[-inf, -inf, -inf]), 0, "all -inf");
        assert_eq!(argmax(&[-inf, -1e30, -inf]), 1);
        assert_eq!(argmax::<f32>(&[]), 0);
        assert_eq!(argmax(&[-0.0f64, 0.0]), 0, "-0 and +0 are equal");
        let outputs =
            Matrix::from_rows(&[[0.1f32, 0.7, 0.7], [0.9, 0.05, 0.05], [0.2, nan, 0.9]]).unwrap();
        assert_eq!(outputs.argmax_rows(), [1, 0, 1]);
    }

    #[test]
    fn elementwise() {
        let a = m(&[&[1.0, -2.0], &[3.0, 4.0]]);
        let b = m(&[&[2.0, 2.0], &[0.5, -1.0]]);
        assert_eq!(a.hadamard(&b).as_slice(), &[2.0, -4.0, 1.5, -4.0]);
        assert_eq!(a.sub(&b).as_slice(), &[-1.0, -4.0, 2.5, 5.0]);
        assert_eq!(a.add(&b).scale(2.0).as_slice(), &[6.0, 0.0, 7.0, 6.0]);
        assert_eq!(a.max_abs(), 4.0);
        assert_eq!(a.argmax_rows(), vec![0, 1]);
        assert_eq!(a.transpose().as_slice(), &[1.0, 3.0, -2.0, 4.0]);
        let wide = Matrix::from_fn(2, 3, |i, j| (10 * i + j) as f32);
        let mut spare = Matrix::filled(5, 5, 9.0);
        wide.transpose_into(&mut spare);
        assert_eq!(spare.shape(), (3, 2));
        assert_eq!(spare.as_slice(), &[0.0, 10.0, 1.0, 11.0, 2.0, 12.0]);
        assert_eq!(Matrix::<f32>::zeros(0, 3).transpose().shape(), (3, 0));
        let mut c = a.clone();
        c.add_scaled(0.5, &b);
        assert_eq!(c.as_slice(), &[2.0, -1.0, 3.25, 3.5]);
        assert_eq!(
            a.select_rows(&[1, 1, 0]).as_slice(),
            &[3.0, 4.0, 3.0, 4.0, 1.0, -2.0]
        );
    }

    #[test]
    #[should_panic(expected = "shapes differ, 2×2 against 1×2")]
    fn shape_mismatch_panics_with_shapes() {
        let a = m(&[&[1.0, 2.0], &[3.0, 4.0]]);
        let _ = a.add(&m(&[&[1.0, 2.0]]));
    }
}
