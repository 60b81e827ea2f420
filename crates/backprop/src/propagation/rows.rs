//! Inference over rows read in place, for networks of dense layers only: the rows are cut into
//! blocks of [`ROW_BLOCK`], and each block goes through every layer on one thread, zˡ = aˡ⁻¹·(wˡ)ᵀ
//! by one single-threaded product ([`matmul_transpose_rows`], or over the non-zeros when the
//! block's input is mostly zero: [`crate::sparse_input`]) from the caller's buffer (the first
//! layer) or the block's own (the others), then aˡ = σ(zˡ + bˡ) in place; each block writes its
//! rows of the result at their place, and the blocks spread over rayon's threads.
//!
//! Whether the blocks spread over the threads or run in order on the caller's is the network's
//! inference pacer's choice (see [`super::InferencePacer`]).
//!
//! Against [`Network::forward`] on a copy of the rows: no copy of X (a whole training set, for an
//! evaluation), and a block's activations stay in cache from the first layer to the last. The
//! blocks are a function of the row count alone, so the bits do not depend on the threads.

use crate::network::Network;
use crate::sparse_input;
use backprop_tensor::matmul::matmul_transpose_rows;
use backprop_tensor::sparse_rows::AlignedRows;
use backprop_tensor::{team, Float, Matrix, MatrixView};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Rows per block.
pub const ROW_BLOCK: usize = 256;

/// What [`Network::forward_rows`] gives for each row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowsOutput {
    /// The output layer's activations, a = σ(z), as [`Network::forward`].
    Activations,
    /// The output layer's z (for softmax, the logits), as the first matrix of
    /// [`Network::output_with_logits`].
    Logits,
}

impl<T: Float> Network<T> {
    /// True when [`Network::forward_rows`] takes this network: dense layers only, and inputs
    /// and outputs at least one wide.
    pub fn reads_rows_in_place(&self) -> bool {
        self.dense_layers().len() == self.layers().len()
            && self.input_width() > 0
            && self.output_width() > 0
    }

    /// The outputs for the rows of `x` (row-major, [`Network::input_width`] values a row), read
    /// in place block by block (see the module's notes). With `check_finite`, `None` when a
    /// block's first product is not finite: a NaN or an infinity in a row of X makes every
    /// element of that row of X·(w¹)ᵀ NaN or infinite (each product multiplies every pair, and
    /// ±∞·0 is NaN), so checking the first product checks X in a fraction of the reads; it
    /// also fires when that product overflows from finite values, which the caller may tell
    /// apart.
    ///
    /// # Panics
    /// When the network has image layers (see [`Network::reads_rows_in_place`]), or `x` is not
    /// whole rows.
    #[track_caller]
    pub fn forward_rows(
        &self,
        x: &[T],
        output: RowsOutput,
        check_finite: bool,
    ) -> Option<Matrix<T>> {
        assert!(
            self.reads_rows_in_place(),
            "forward_rows: the network has image layers"
        );
        let (cols, width) = (self.input_width(), self.output_width());
        assert!(
            x.len().is_multiple_of(cols),
            "forward_rows: {} values are not whole rows of {cols}",
            x.len()
        );
        let rows = x.len() / cols;
        let layers = self.dense_layers();
        let finite = AtomicBool::new(true);
        // Each layer's Wᵀ for blocks of mostly-zero inputs, transposed once for all blocks.
        let transposed: Vec<OnceLock<AlignedRows<T>>> =
            layers.iter().map(|_| OnceLock::new()).collect();
        let block_here = |(input, target): (&[T], &mut [T])| {
            if check_finite && !finite.load(Ordering::Relaxed) {
                return;
            }
            let n = input.len() / cols;
            let (mut a, mut next) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
            for (index, dense) in layers.iter().enumerate() {
                let last = index + 1 == layers.len();
                let source = if index == 0 { input } else { a.as_slice() };
                let sparse = dense.sparse_inference()
                    && sparse_input::infer_product(
                        MatrixView::new(source, dense.weight.cols()).expect("whole rows"),
                        || {
                            transposed[index]
                                .get_or_init(|| AlignedRows::from_transpose(&dense.weight))
                        },
                        &mut next,
                    );
                if !sparse {
                    next.resize(n, dense.weight.rows());
                    matmul_transpose_rows(next.as_mut_slice(), source, &dense.weight);
                }
                if index == 0 && check_finite && !backprop_tensor::all_finite(next.as_slice()) {
                    finite.store(false, Ordering::Relaxed);
                    return;
                }
                if last && output == RowsOutput::Logits {
                    next.add_row_to_each_row(&dense.bias);
                } else {
                    dense
                        .activation
                        .add_bias_and_forward_in_place(&mut next, &dense.bias);
                }
                std::mem::swap(&mut a, &mut next);
            }
            target.copy_from_slice(a.as_slice());
        };
        // Each block on one thread: the sparse path's loops run in order inside it, as the
        // dense products do, rather than as tasks of their own on the pool.
        let block = |pair: (&[T], &mut [T])| team::run_alone(|| block_here(pair));
        let mut out = vec![T::ZERO; rows * width];
        let (input_block, output_block) = (ROW_BLOCK * cols, ROW_BLOCK * width);
        let mut run_blocks = |spread: bool| match spread {
            true => x
                .par_chunks(input_block)
                .zip(out.par_chunks_mut(output_block))
                .for_each(block),
            false => x
                .chunks(input_block)
                .zip(out.chunks_mut(output_block))
                .for_each(block),
        };
        // The blocks spread over the pool, or run here in order when the pacer finds that
        // faster (another process holding the second core).
        if rows > ROW_BLOCK && rayon::current_num_threads() > 1 {
            self.inference_pacer.run(run_blocks);
        } else {
            run_blocks(false);
        }
        finite
            .into_inner()
            .then(|| Matrix::from_vec(rows, width, out).expect("rows × width values"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::ImageShape;
    use crate::feature_layers::FeatureLayer;
    use crate::{Activation, Cost, NetworkConfig};

    /// 13-40-30-7 with tanh and softmax, and 700 rows: two whole blocks and a ragged third.
    fn network_and_rows() -> (Network<f32>, Matrix<f32>) {
        let network = NetworkConfig::new(&[13, 40, 30, 7], Cost::SoftmaxCrossEntropy)
            .with_hidden_activation(Activation::Tanh)
            .with_seed(5)
            .init::<f32>()
            .unwrap();
        let x = Matrix::from_fn(700, 13, |row, col| {
            ((row * 31 + col * 7) % 23) as f32 / 11.0 - 1.0
        });
        (network, x)
    }

    fn close(a: &Matrix<f32>, b: &Matrix<f32>) {
        assert_eq!(a.shape(), b.shape());
        for (x, y) in a.as_slice().iter().zip(b.as_slice()) {
            assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{x} against {y}");
        }
    }

    #[test]
    fn rows_in_place_give_the_outputs_and_logits_of_the_batched_pass() {
        let (network, x) = network_and_rows();
        let (z, a) = network.output_with_logits(&x);
        let logits = network
            .forward_rows(x.as_slice(), RowsOutput::Logits, true)
            .unwrap();
        let outputs = network
            .forward_rows(x.as_slice(), RowsOutput::Activations, true)
            .unwrap();
        close(&logits, &z);
        close(&outputs, &a);
        close(&outputs, &network.forward(&x));
        // Fewer rows than a block run on the calling thread (their bits may differ in the last
        // place: the product's rounding depends on its shape).
        let few = network
            .forward_rows(&x.as_slice()[..13 * 9], RowsOutput::Logits, false)
            .unwrap();
        close(&few, &z.select_rows(&(0..9).collect::<Vec<_>>()));
    }

    #[test]
    fn the_bits_do_not_depend_on_the_threads() {
        let (network, x) = network_and_rows();
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                network
                    .forward_rows(x.as_slice(), RowsOutput::Logits, false)
                    .unwrap()
            })
        };
        let one = on(1);
        for threads in [2, 3, 4] {
            assert_eq!(on(threads).as_slice(), one.as_slice(), "{threads} threads");
        }
    }

    /// The pacer's trials run calls with helpers and alone in turn; every call gives the same
    /// bits, through `forward_rows` and through `forward`.
    #[test]
    fn paced_calls_give_the_same_bits_both_ways() {
        let (network, x) = network_and_rows();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let first = network
            .forward_rows(x.as_slice(), RowsOutput::Activations, false)
            .unwrap();
        let mut ways = std::collections::BTreeSet::new();
        for _ in 0..3000 {
            ways.insert(network.inference_pacer.helpers());
            let again = pool.install(|| {
                network
                    .forward_rows(x.as_slice(), RowsOutput::Activations, false)
                    .unwrap()
            });
            assert_eq!(again, first);
            if ways.len() == 2 {
                break;
            }
        }
        assert_eq!(ways.len(), 2, "the pacer tried both ways");
        // `forward` on a batch large enough for its products to use threads, paced the same way.
        let wide = Matrix::from_fn(2000, 13, |row, col| ((row + 3 * col) % 17) as f32 / 8.0);
        let big = NetworkConfig::new(&[13, 300, 300, 7], Cost::SoftmaxCrossEntropy)
            .with_seed(9)
            .init::<f32>()
            .unwrap();
        assert!(big.uses_threads(2000, false));
        let first = big.forward(&wide);
        let mut ways = std::collections::BTreeSet::new();
        for _ in 0..3000 {
            ways.insert(big.inference_pacer.helpers());
            assert_eq!(pool.install(|| big.forward(&wide)), first);
            if ways.len() == 2 {
                break;
            }
        }
        assert_eq!(ways.len(), 2, "the pacer tried both ways");
    }

    #[test]
    fn a_non_finite_input_is_found_when_asked() {
        let (network, mut x) = network_and_rows();
        x[(600, 4)] = f32::NAN;
        assert!(network
            .forward_rows(x.as_slice(), RowsOutput::Activations, true)
            .is_none());
        let unchecked = network
            .forward_rows(x.as_slice(), RowsOutput::Activations, false)
            .unwrap();
        assert!(unchecked.row(600).iter().all(|v| v.is_nan()));
        assert!(unchecked.row(599).iter().all(|v| v.is_finite()));
        x[(600, 4)] = f32::INFINITY;
        assert!(network
            .forward_rows(x.as_slice(), RowsOutput::Logits, true)
            .is_none());
    }

    #[test]
    fn image_layers_are_not_read_in_place() {
        let layers =
            ["conv:2:3", "maxpool:2"].map(|t| FeatureLayer::parse(t, Activation::Relu).unwrap());
        let network = NetworkConfig::new(&[0, 4], Cost::SoftmaxCrossEntropy)
            .with_features(ImageShape::new(1, 8, 8), layers.to_vec())
            .init::<f32>()
            .unwrap();
        assert!(!network.reads_rows_in_place());
        assert!(network_and_rows().0.reads_rows_in_place());
    }
}
