//! Conversions between [`Matrix`] and `ndarray`'s two-dimensional arrays (the `ndarray`
//! feature, the ndarray version linfa uses). A `Matrix` is row-major and owns its values, so
//! each conversion copies them once, in row order, from any layout.
//!
//! ```
//! use backprop_tensor::Matrix;
//! let matrix = Matrix::from_rows(&[[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]]).unwrap();
//! let array = matrix.to_ndarray();
//! assert_eq!(array[[1, 2]], 6.0);
//! let back = Matrix::from_ndarray(array.t());
//! assert_eq!(back.shape(), (3, 2));
//! assert_eq!(back[(2, 1)], 6.0);
//! ```

use crate::{Float, Matrix};
use ndarray::{Array2, ArrayView2};

impl<T: Float> Matrix<T> {
    /// A copy as an `ndarray::Array2` of the same shape.
    pub fn to_ndarray(&self) -> Array2<T> {
        Array2::from_shape_fn((self.rows(), self.cols()), |(row, col)| self[(row, col)])
    }

    /// A copy of any two-dimensional `ndarray` view (transposed and strided ones too).
    pub fn from_ndarray(array: ArrayView2<'_, T>) -> Self {
        let (rows, cols) = array.dim();
        Matrix::from_fn(rows, cols, |row, col| array[[row, col]])
    }
}

impl<T: Float> From<&Matrix<T>> for Array2<T> {
    fn from(matrix: &Matrix<T>) -> Self {
        matrix.to_ndarray()
    }
}

impl<T: Float> From<ArrayView2<'_, T>> for Matrix<T> {
    fn from(array: ArrayView2<'_, T>) -> Self {
        Matrix::from_ndarray(array)
    }
}

impl<T: Float> From<&Array2<T>> for Matrix<T> {
    fn from(array: &Array2<T>) -> Self {
        Matrix::from_ndarray(array.view())
    }
}
