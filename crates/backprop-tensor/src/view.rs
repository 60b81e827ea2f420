//! A borrowed row-major matrix: `rows × cols` values in someone else's buffer (a [`Matrix`],
//! or a NumPy array the Python package reads in place), for code that only reads rows, such as
//! the training gathers. Nothing is copied to make one.

use crate::{Float, Matrix};

/// `rows × cols` values, row-major, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct MatrixView<'a, T> {
    values: &'a [T],
    rows: usize,
    cols: usize,
}

impl<'a, T> MatrixView<'a, T> {
    /// The rows of `values`, `cols` values each (no rows when `cols` is 0 and `values` empty).
    ///
    /// ```
    /// use backprop_tensor::MatrixView;
    /// let values = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
    /// let view = MatrixView::new(&values, 3).unwrap();
    /// assert_eq!((view.rows(), view.cols()), (2, 3));
    /// assert_eq!(view.row(1), &[4.0, 5.0, 6.0]);
    /// assert!(MatrixView::new(&values, 4).is_none());
    /// ```
    ///
    /// `None` when `values` is not whole rows.
    pub fn new(values: &'a [T], cols: usize) -> Option<Self> {
        match (values.len(), cols) {
            (0, _) => Some(Self {
                values,
                rows: 0,
                cols,
            }),
            (_, 0) => None,
            (len, _) if len.is_multiple_of(cols) => Some(Self {
                values,
                rows: len / cols,
                cols,
            }),
            _ => None,
        }
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Every value, row after row.
    pub fn as_slice(&self) -> &'a [T] {
        self.values
    }

    /// Row `row`.
    ///
    /// # Panics
    /// When `row` is out of range.
    #[track_caller]
    pub fn row(&self, row: usize) -> &'a [T] {
        assert!(row < self.rows, "row {row} of {} rows", self.rows);
        &self.values[row * self.cols..(row + 1) * self.cols]
    }
}

impl<'a, T: Float> From<&'a Matrix<T>> for MatrixView<'a, T> {
    fn from(matrix: &'a Matrix<T>) -> Self {
        Self {
            values: matrix.as_slice(),
            rows: matrix.rows(),
            cols: matrix.cols(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gather from a view of part of a buffer takes the rows a gather from the same rows as
    /// a matrix takes, on the calling thread and split over a pool.
    #[test]
    fn gathering_from_a_view_is_gathering_from_the_matrix() {
        let (rows, cols) = (300, 257);
        let buffer: Vec<f32> = (0..(rows + 3) * cols).map(|i| i as f32 * 0.5).collect();
        let matrix = Matrix::from_vec(rows, cols, buffer[3 * cols..].to_vec()).unwrap();
        let view = MatrixView::new(&buffer[3 * cols..], cols).unwrap();
        // 300 rows of 257: past the size at which a pool splits a gather.
        let picks: Vec<usize> = (0..rows).rev().collect();
        let (mut from_matrix, mut from_view) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
        from_matrix.gather_rows(&matrix, &picks);
        from_view.gather_rows_from(view, &picks);
        assert_eq!(from_view, from_matrix);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let pooled = pool.install(|| {
            let mut pooled = Matrix::zeros(0, 0);
            pooled.gather_rows_from(view, &picks);
            pooled
        });
        assert_eq!(pooled, from_matrix);
        assert_eq!(view.row(299), matrix.row(299));
    }

    #[test]
    #[should_panic(expected = "row 300 out of range")]
    fn a_row_past_the_view_is_refused() {
        let values = vec![0.0f32; 300 * 4];
        let view = MatrixView::new(&values, 4).unwrap();
        Matrix::<f32>::zeros(0, 0).gather_rows_from(view, &[0, 300]);
    }
}
