//! Softmax over each row: aⱼ = e^(zⱼ − m) / Σₖ e^(zₖ − m), with m = maxₖ zₖ so no exponent overflows.
//!
//! Its Jacobian is ∂aⱼ/∂zᵢ = aⱼ(𝟙ᵢⱼ − aᵢ), so the backward pass is
//! ∂C/∂zᵢ = aᵢ (∂C/∂aᵢ − Σⱼ ∂C/∂aⱼ aⱼ). With cross-entropy the product collapses to a − y,
//! which the cost uses directly (see `cost::softmax_cross_entropy`).

use backprop_tensor::{Float, Matrix};

/// Row-wise softmax of a batch.
pub fn forward<T: Float>(z: &Matrix<T>) -> Matrix<T> {
    let mut a = z.clone();
    for i in 0..a.rows() {
        row_in_place(a.row_mut(i));
    }
    a
}

/// Softmax of one row in place: the max, the exponentials (a vectorisable loop), their sum in
/// column order, then the division.
#[inline(always)]
pub fn row_in_place<T: Float>(row: &mut [T]) {
    let max = row.iter().fold(row[0], |m, &v| m.max(v));
    for v in row.iter_mut() {
        *v = (*v - max).exp_simd();
    }
    let mut total = T::ZERO;
    for &v in row.iter() {
        total += v;
    }
    for v in row.iter_mut() {
        *v /= total;
    }
}

/// Rows per block of [`rows_in_place`]: one 512-bit register of `f32` lanes.
pub const BLOCK_ROWS: usize = 16;
/// The widest rows [`rows_in_place`] takes a block at a time (a 10-class output, say).
pub const BLOCK_COLS: usize = 32;

/// A block of [`BLOCK_ROWS`] rows of at most `COLUMNS` ≤ [`BLOCK_COLS`] values, column by
/// column: lane r of `columns[j]` is value j of row r, so one operation on a column treats 16
/// rows at once. [`block_width!`](crate::block_width) picks the narrowest `COLUMNS` for a
/// width, so that a 3-class output does not zero and move 32 columns per block.
pub struct RowBlock<T, const COLUMNS: usize = BLOCK_COLS> {
    /// The values, column-major; columns past the rows' width are unused.
    pub columns: [[T; BLOCK_ROWS]; COLUMNS],
    /// Each row's largest value.
    pub max: [T; BLOCK_ROWS],
    /// Each row's Σⱼ e^(vⱼ − max), summed in column order.
    pub sum: [T; BLOCK_ROWS],
}

/// Runs `$run::<T, C>($args)` with C the narrowest of 4, 8, 16 and [`BLOCK_COLS`] columns
/// that holds `$cols` (a [`RowBlock`] width).
#[macro_export]
#[doc(hidden)]
macro_rules! block_width {
    ($cols:expr, $run:ident::<$t:ty>($($args:expr),*)) => {
        match $cols {
            0..=4 => $run::<$t, 4>($($args),*),
            5..=8 => $run::<$t, 8>($($args),*),
            9..=16 => $run::<$t, 16>($($args),*),
            _ => $run::<$t, { $crate::activation::softmax::BLOCK_COLS }>($($args),*),
        }
    };
}

impl<T: Float, const COLUMNS: usize> RowBlock<T, COLUMNS> {
    /// The block of `rows` (16 rows of `cols` ≤ [`BLOCK_COLS`] values end to end), with each
    /// row's max and sum of exponentials. With `exponentials`, `columns` holds e^(vⱼ − max)
    /// afterwards. Per row these are the operations of [`row_in_place`] and
    /// [`log_sum_exp`], in their order: the same bits.
    #[inline(always)]
    pub fn new(rows: &[T], cols: usize, exponentials: bool) -> Self {
        debug_assert!(
            cols <= COLUMNS,
            "a block of {COLUMNS} columns, rows of {cols}"
        );
        let mut columns = [[T::ZERO; BLOCK_ROWS]; COLUMNS];
        for (r, row) in rows.chunks_exact(cols).enumerate() {
            for (column, &v) in columns.iter_mut().zip(row) {
                column[r] = v;
            }
        }
        let mut max = columns[0];
        for column in &columns[..cols] {
            for (m, &v) in max.iter_mut().zip(column) {
                *m = m.max(v);
            }
        }
        let mut sum = [T::ZERO; BLOCK_ROWS];
        for column in &mut columns[..cols] {
            for ((s, v), &m) in sum.iter_mut().zip(column.iter_mut()).zip(&max) {
                let e = (*v - m).exp_simd();
                *s += e;
                if exponentials {
                    *v = e;
                }
            }
        }
        Self { columns, max, sum }
    }
}

/// How many of `len` values (rows of `cols` end to end) lie in whole blocks of
/// [`BLOCK_ROWS`] rows that the block path takes: none when the rows are wider than
/// [`BLOCK_COLS`].
pub fn values_in_whole_blocks(len: usize, cols: usize) -> usize {
    let block = BLOCK_ROWS * cols;
    match (1..=BLOCK_COLS).contains(&cols) {
        true => len / block * block,
        false => 0,
    }
}

/// Softmax of every row of `values` (rows of `cols` end to end) in place: [`row_in_place`]
/// row by row, with whole blocks of [`BLOCK_ROWS`] narrow rows computed across SIMD lanes.
#[inline(always)]
pub fn rows_in_place<T: Float>(values: &mut [T], cols: usize) {
    if cols == 0 {
        return;
    }
    let whole = values_in_whole_blocks(values.len(), cols);
    let (blocks, rest) = values.split_at_mut(whole);
    for rows in blocks.chunks_exact_mut(BLOCK_ROWS * cols) {
        crate::block_width!(cols, block_in_place::<T>(rows, cols));
    }
    rest.chunks_exact_mut(cols).for_each(row_in_place);
}

/// Softmax of one block of [`BLOCK_ROWS`] rows in place, through a [`RowBlock`] of `COLUMNS`.
#[inline(always)]
fn block_in_place<T: Float, const COLUMNS: usize>(rows: &mut [T], cols: usize) {
    let exponentials = RowBlock::<T, COLUMNS>::new(rows, cols, true);
    for (r, row) in rows.chunks_exact_mut(cols).enumerate() {
        for (a, column) in row.iter_mut().zip(&exponentials.columns) {
            *a = column[r] / exponentials.sum[r];
        }
    }
}

/// log Σⱼ e^zⱼ of one row, stably: m + ln Σⱼ e^(zⱼ − m).
pub fn log_sum_exp<T: Float>(row: &[T]) -> T {
    let max = row.iter().fold(row[0], |m, &v| m.max(v));
    let mut total = T::ZERO;
    for &v in row {
        total += (v - max).exp_simd();
    }
    max + total.ln()
}

/// ∂C/∂z = a ⊙ (∂C/∂a − (∂C/∂a · a)) per row: the Jacobian-vector product.
pub fn backward<T: Float>(a: &Matrix<T>, grad_output: &Matrix<T>) -> Matrix<T> {
    let mut delta = grad_output.clone();
    backward_into(a, grad_output, &mut delta);
    delta
}

/// [`backward`] into a reused buffer.
pub fn backward_into<T: Float>(a: &Matrix<T>, grad_output: &Matrix<T>, delta: &mut Matrix<T>) {
    delta.copy_from(grad_output);
    for i in 0..a.rows() {
        let a_row = a.row(i);
        let dot: T = a_row
            .iter()
            .zip(grad_output.row(i))
            .map(|(&p, &g)| p * g)
            .sum();
        for (d, &p) in delta.row_mut(i).iter_mut().zip(a_row) {
            *d = p * (*d - dot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of 16 rows across SIMD lanes give every row the bits of the row-by-row softmax,
    /// for widths on both sides of the block's and a ragged last block.
    #[test]
    fn blocks_of_rows_equal_rows_one_at_a_time() {
        for (rows, cols) in [(37, 10), (16, 1), (40, 32), (20, 33), (5, 3)] {
            let values: Vec<f32> = (0..rows * cols)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.37)
                .collect();
            let mut blocks = values.clone();
            rows_in_place(&mut blocks, cols);
            let mut one_by_one = values.clone();
            one_by_one.chunks_exact_mut(cols).for_each(row_in_place);
            assert_eq!(blocks, one_by_one, "{rows} × {cols}");
            assert_ne!(blocks, values);
        }
    }

    #[test]
    fn stable_at_large_logits() {
        let z = Matrix::<f32>::row_vector(&[1e4, -1e4, 0.0]);
        let a = forward(&z);
        assert_eq!(a.as_slice(), &[1.0, 0.0, 0.0]);
        assert!(log_sum_exp(z.as_slice()).is_finite());
    }

    #[test]
    fn jacobian_product_matches_finite_differences() {
        let z = Matrix::<f64>::row_vector(&[0.3, -1.2, 2.0, 0.1]);
        let g = Matrix::<f64>::row_vector(&[0.5, -1.0, 0.25, 2.0]);
        let analytic = backward(&forward(&z), &g);
        for i in 0..4 {
            let h = 1e-6;
            let mut plus = z.clone();
            plus[(0, i)] += h;
            let mut minus = z.clone();
            minus[(0, i)] -= h;
            let c = |m: &Matrix<f64>| forward(m).hadamard(&g).sum();
            let numeric = (c(&plus) - c(&minus)) / (2.0 * h);
            assert!((numeric - analytic[(0, i)]).abs() < 1e-8);
        }
    }
}
