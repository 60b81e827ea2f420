//! A dense layer's training products over the non-zeros of a mostly-zero input batch (pixels of
//! handwritten digits, one-hot columns): Z = X·Wᵀ and ∂C/∂W = δᵀ·X, each costing about the
//! batch's density times the multiply-adds of the dense product (see
//! [`backprop_tensor::sparse_rows`] for the kernels and the order of their sums).
//!
//! A layer with this enabled ([`crate::dense::Dense::set_sparse_input`]; the trainer and
//! scikit-learn's loop enable it on a network's first layer) looks at each training batch when
//! the forward pass starts: a batch of at least [`MIN_ROWS`] rows and [`MIN_INPUTS`] columns, at
//! most [`MAX_VALUES`] values and at most [`MAX_DENSITY`] of them non-zero (a few rows sampled
//! first, [`looks_sparse`], so that a dense batch costs next to nothing) goes through the
//! non-zeros, any other through `gemm`.
//! Inference takes the same path by the same rule ([`takes_sparse_path`], on unless
//! [`crate::dense::Dense::set_sparse_inference`] turns it off), for any dense layer whose input
//! qualifies: a prediction on MNIST's digits then costs about a third of its multiply-adds.
//! Which path a batch takes depends on its values and size alone, so the bits do not depend on
//! the thread count; they differ from the dense path's in the last places (another order of the
//! sums), so a row predicted in a batch of 64 or more rows may differ in its last bits from the
//! same row predicted alone.

use backprop_tensor::sparse_rows::{copy_into, sparse_product, AlignedRows, SparseRows};
use backprop_tensor::{Float, Matrix, MatrixView};
use std::any::Any;
use std::cell::Cell;

/// The largest fraction of non-zeros taken this way. Measured on a 200 × 784 batch into 100
/// units (`cargo run --release -p backprop-tensor --example sparse_products -- 200 784 100 D T`,
/// compression and transposes included), the sparse forward product and weight gradient take
/// 0.54–0.56 of `gemm`'s time at a density of 0.19 (MNIST's), 0.75–0.77 at 0.3 and 0.95–0.99 at
/// 0.4, on one thread and on two: per multiply-add, one load each costs about twice `gemm`'s.
pub const MAX_DENSITY: f64 = 0.3;
/// The most values (rows × columns) a batch may have: the compressed batch and its transpose
/// keep room for every value (8 bytes each, twice: 64 MiB at this size), which for a whole data
/// set would outgrow the data.
pub const MAX_VALUES: usize = 1 << 22;
/// The fewest inputs for which a layer is worth enabling: narrower layers' products are small.
pub const MIN_INPUTS: usize = 256;
/// The fewest rows a batch must have: the transposes of W and of the gradient, and the
/// parallel loops, cost the same for any batch. Measured with `backprop bench --config
/// b-sgd-32 --threads 2 --batch-size B` (784-128-64-10 on 16 %-dense inputs): at B = 10 (the
/// `a` configuration's 784-30-10) a third of the dense path's speed, at 32 about 0.9 of it, at
/// 64 1.4 times it.
pub const MIN_ROWS: usize = 64;
/// Rows sampled by [`looks_sparse`].
const SAMPLE_ROWS: usize = 8;

/// The buffers of the sparse path, kept from batch to batch.
#[derive(Clone, Debug)]
pub(crate) struct SparseInput<T: Float> {
    batch: SparseRows<T>,
    transposed: SparseRows<T>,
    weight_transposed: AlignedRows<T>,
    delta: AlignedRows<T>,
    gradient_transposed: Matrix<T>,
    /// True when this batch's forward product went through the non-zeros (so must its
    /// gradient).
    active: bool,
    /// Multiply-adds the dense products would have done on zeros, over every batch so far.
    skipped: u64,
}

impl<T: Float> SparseInput<T> {
    pub(crate) fn new() -> Self {
        Self {
            batch: SparseRows::new(),
            transposed: SparseRows::new(),
            weight_transposed: AlignedRows::new(),
            delta: AlignedRows::new(),
            gradient_transposed: Matrix::zeros(0, 0),
            active: false,
            skipped: 0,
        }
    }

    /// Z = X·Wᵀ over X's non-zeros when the batch qualifies (see the module documentation);
    /// returns whether it did (else Z is untouched and the caller runs `gemm`).
    pub(crate) fn forward(
        &mut self,
        input: &Matrix<T>,
        weight: &Matrix<T>,
        z: &mut Matrix<T>,
    ) -> bool {
        self.active = false;
        if !compress_if_sparse(input.into(), &mut self.batch) {
            return false;
        }
        self.weight_transposed.transpose_from(weight);
        sparse_product(z, &self.batch, &self.weight_transposed);
        self.active = true;
        self.skipped += self.zeros_times(weight.rows());
        true
    }

    /// True when the last forward pass went through the non-zeros.
    pub(crate) fn active(&self) -> bool {
        self.active
    }

    /// ∂C/∂W = δᵀ·X into `gradient` (units × inputs), as (Xᵀ·δ)ᵀ over X's non-zeros.
    pub(crate) fn weight_gradient(
        &mut self,
        input: &Matrix<T>,
        delta: &Matrix<T>,
        gradient: &mut Matrix<T>,
    ) {
        self.weight_gradient_transposed(input, delta)
            .transpose_into(gradient);
    }

    /// (∂C/∂W)ᵀ = Xᵀ·δ (inputs × units) over X's non-zeros, left transposed for an update
    /// that reads it so ([`backprop_tensor::for_each_band_beside_transpose`]).
    pub(crate) fn weight_gradient_transposed(
        &mut self,
        input: &Matrix<T>,
        delta: &Matrix<T>,
    ) -> &Matrix<T> {
        debug_assert!(self.active, "the forward pass took the dense path");
        self.transposed.fill_transposed_from(input);
        copy_into(delta, &mut self.delta);
        sparse_product(&mut self.gradient_transposed, &self.transposed, &self.delta);
        self.skipped += self.zeros_times(delta.cols());
        &self.gradient_transposed
    }

    /// The multiply-adds a dense product over this batch into `units` would spend on zeros.
    fn zeros_times(&self, units: usize) -> u64 {
        let zeros = self.batch.rows() * self.batch.cols() - self.batch.non_zeros();
        (zeros * units) as u64
    }

    /// Multiply-adds skipped so far (see [`crate::dense::Dense::skipped_multiply_adds`]).
    pub(crate) fn skipped(&self) -> u64 {
        self.skipped
    }
}

/// Z = X·Wᵀ for inference over the non-zeros of `x` when it qualifies as a training batch would
/// (the same rows, columns, size and density limits); returns whether it did (else `z` is
/// untouched and the caller runs `gemm`). `weight_transposed` gives Wᵀ with its rows on cache
/// lines, asked for only when the sparse path is taken, so a caller running many blocks can
/// transpose W once for all of them. Its compressed rows are kept per thread from call to call,
/// so that a prediction does not pay for allocating and zeroing them each time.
pub(crate) fn infer_product<'w, T: Float>(
    x: MatrixView<'_, T>,
    weight_transposed: impl FnOnce() -> &'w AlignedRows<T>,
    z: &mut Matrix<T>,
) -> bool {
    with_scratch(|batch: &mut SparseRows<T>| {
        let sparse = compress_if_sparse(x, batch);
        if sparse {
            sparse_product(z, batch, weight_transposed());
        }
        sparse
    })
}

/// The rule, applied as the products apply it: when `x` fits the limits and its sampled rows
/// look mostly zero, compresses it into `batch` and returns whether its density is at most
/// [`MAX_DENSITY`] (false at once, `batch` untouched, when the first checks fail).
fn compress_if_sparse<T: Float>(x: MatrixView<'_, T>, batch: &mut SparseRows<T>) -> bool {
    if !fits(x) || !looks_sparse(x) {
        return false;
    }
    batch.fill_from(x);
    batch.density() <= MAX_DENSITY
}

/// True when a batch `x` goes through its non-zeros where a layer allows it, in training and
/// in inference alike: the rule they apply, here by counting every value (they count only
/// what they must). What a benchmark uses to count the multiply-adds done.
pub fn takes_sparse_path<T: Float>(x: MatrixView<'_, T>) -> bool {
    if !fits(x) || !looks_sparse(x) {
        return false;
    }
    let non_zeros: usize = x
        .as_slice()
        .iter()
        .map(|&v| usize::from(v != T::ZERO))
        .sum();
    // As `SparseRows::density` computes it.
    non_zeros as f64 / x.as_slice().len() as f64 <= MAX_DENSITY
}

/// The size limits: at least [`MIN_ROWS`] rows, at most [`MAX_VALUES`] values.
fn fits<T>(x: MatrixView<'_, T>) -> bool {
    (MIN_ROWS..).contains(&x.rows()) && x.as_slice().len() <= MAX_VALUES
}

thread_local! {
    /// Each thread's compressed rows for [`infer_product`], of whichever element type it last
    /// used.
    static SCRATCH: Cell<Option<Box<dyn Any>>> = const { Cell::new(None) };
}

/// Runs `work` on this thread's kept compressed rows (new ones when it has none of `T`). They
/// are taken out while `work` runs, so a call nested inside it (another block of rows stolen by
/// this thread) gets rows of its own.
fn with_scratch<T: Float, R>(work: impl FnOnce(&mut SparseRows<T>) -> R) -> R {
    let kept = SCRATCH
        .with(Cell::take)
        .and_then(|kept| kept.downcast().ok());
    let mut rows: Box<SparseRows<T>> = kept.unwrap_or_else(|| Box::new(SparseRows::new()));
    let result = work(&mut rows);
    SCRATCH.with(|scratch| scratch.set(Some(rows)));
    result
}

/// True when rows of `x` look mostly zero: at least [`MIN_INPUTS`] columns and at most
/// [`MAX_DENSITY`] non-zeros among up to 8 rows spread evenly over it. A first look at a batch
/// (a dense one is turned away after a few thousand values); the whole batch is counted after.
pub fn looks_sparse<T: Float>(x: MatrixView<'_, T>) -> bool {
    let (rows, cols) = (x.rows(), x.cols());
    if rows == 0 || cols < MIN_INPUTS {
        return false;
    }
    let step = rows.div_ceil(SAMPLE_ROWS).max(1);
    // Counted as sums of 0s and 1s, which vectorise.
    let (mut seen, mut non_zero) = (0usize, 0usize);
    for i in (0..rows).step_by(step) {
        let row = x.row(i);
        seen += row.len();
        non_zero += row
            .iter()
            .map(|&v| usize::from(v != T::ZERO))
            .sum::<usize>();
    }
    (non_zero as f64) <= MAX_DENSITY * seen as f64
}

#[cfg(test)]
mod tests;
