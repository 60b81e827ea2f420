//! The backward pass of a ReLU convolution and the max-pooling right after it, in one pass.
//!
//! Max-pooling hands ∂C/∂y only to each window's winner, so ∂C/∂a is zero everywhere else, and
//! the convolution's δ = ∂C/∂a ⊙ σ′(z) is zero there too. For ReLU, σ′(z) at a winner is 1
//! exactly when z > 0, that is when the pooled value y = max(0, z) is positive (NaN included:
//! σ′ is 0 and y is NaN). So δ can be written straight into the filter-major buffer the
//! products read — zeros, then (0 + ∂C/∂y)·σ′ at each winner, the same arithmetic as pooling's
//! backward pass followed by the convolution's — without the whole-batch ∂C/∂a, the pass that
//! zeroes it, or the pass that reads it back with z.
//!
//! The zeros also shorten BP4. With one patch per row of X̂, ∂C/∂W[f] = Σ_p δ[f, p] · X̂[p]
//! has one non-zero term per pooling window (a quarter of the positions for 2 × 2 windows):
//! each winner's δ times its patch, added in window order, example after example. Filters are
//! split between threads, each row of ∂C/∂W summed by one thread in that order, so the bits do
//! not depend on the thread count.

use super::Conv2d;
use crate::activation::{relu, Activation};
use crate::layer::LayerOps;
use crate::pool::{Pool2d, PoolKind};
use backprop_tensor::rows::add_scaled_rows;
use backprop_tensor::team::for_each_chunk;
use backprop_tensor::{Float, Matrix};

/// Where the max-pooling after a convolution sent its gradient: for every example and pooling
/// window (in the pooling's output order), the winner's index in the example's row of z.
#[derive(Clone, Copy)]
pub(super) struct Winners<'a> {
    indices: &'a [u32],
    /// Windows per filter plane.
    window_plane: usize,
}

impl<T: Float> Conv2d<T> {
    /// True when [`Conv2d::backward_through_max_pool`] can run with `pool` after this layer.
    pub(crate) fn fuses_with(&self, pool: &Pool2d<T>) -> bool {
        self.activation == Activation::Relu
            && pool.kind() == PoolKind::Max
            && pool.input_shape() == self.output
    }

    /// This layer's backward pass given ∂C/∂y of the max-pooling after it (`grad_pooled`) and
    /// that pooling's output `pooled`, both from the last training pass; `grad_input` receives
    /// ∂C/∂x unless it is `None`. The gradients are those of the pooling's backward pass
    /// followed by this layer's, bit for bit.
    ///
    /// # Panics
    /// When [`Conv2d::fuses_with`] is false or the shapes are not those of the last pass.
    #[track_caller]
    pub(crate) fn backward_through_max_pool(
        &mut self,
        pool: &Pool2d<T>,
        pooled: &Matrix<T>,
        grad_pooled: &Matrix<T>,
        grad_input: Option<&mut Matrix<T>>,
    ) {
        assert!(
            self.fuses_with(pool),
            "{}: no ReLU max-pooling pair",
            self.describe()
        );
        let (batch, positions) = (self.z.rows(), self.output.plane());
        let (window_plane, outputs) = (pool.output_shape().plane(), pool.output_shape().len());
        assert!(
            grad_pooled.shape() == (batch, outputs) && pooled.shape() == (batch, outputs),
            "{}: ∂C/∂y has the wrong shape (forward in training mode first)",
            self.describe()
        );
        let winners = pool.winner_indices();
        assert_eq!(
            winners.len(),
            batch * outputs,
            "pooling: forward in training mode first"
        );
        self.by_filter
            .resize(self.geometry.filters, batch * positions);
        for_each_chunk(
            self.by_filter.as_mut_slice(),
            batch * positions,
            |f, row| {
                let range = f * window_plane..(f + 1) * window_plane;
                for (example, block) in row.chunks_mut(positions).enumerate() {
                    block.fill(T::ZERO);
                    let winners = &winners[example * outputs..][range.clone()];
                    let grad = &grad_pooled.row(example)[range.clone()];
                    let pooled = &pooled.row(example)[range.clone()];
                    for ((&winner, &g), &y) in winners.iter().zip(grad).zip(pooled) {
                        // The winner's index in the example, in this filter's plane.
                        let position = winner as usize - f * positions;
                        block[position] = (T::ZERO + g) * relu::derivative(y);
                    }
                }
            },
        );
        let winners = Winners {
            indices: winners,
            window_plane,
        };
        self.backward_from_delta(grad_input, Some(winners));
    }

    /// BP4 with position-major X̂ when δ (in `by_filter`) is zero away from the pooling
    /// winners: ∂C/∂W[f] = Σ over examples and windows of δ[f, winner] · X̂[winner].
    pub(super) fn weight_gradient_at_winners(&mut self, winners: Winners<'_>) {
        let (filters, patch) = (self.geometry.filters, self.geometry.patch_len());
        let positions = self.output.plane();
        let batch = self.by_filter.cols() / positions.max(1);
        let window_plane = winners.window_plane;
        assert_eq!(
            winners.indices.len(),
            batch * filters * window_plane,
            "{}: winners of another batch",
            self.describe()
        );
        assert_eq!(self.columns.shape(), (batch * positions, patch));
        self.weight_gradient.resize(filters, patch);
        let (columns, by_filter) = (self.columns.as_slice(), &self.by_filter);
        // Any split gives the same bits (each row is summed by one task in one order); one
        // task per thread reads X̂ once per thread.
        let per_task = filters.div_ceil(rayon::current_num_threads().max(1));
        for_each_chunk(
            self.weight_gradient.as_mut_slice(),
            per_task * patch,
            |task, rows| {
                rows.fill(T::ZERO);
                let first = task * per_task;
                for example in 0..batch {
                    let patches = &columns[example * positions * patch..][..positions * patch];
                    for (offset, gradient) in rows.chunks_mut(patch).enumerate() {
                        let f = first + offset;
                        let windows = example * filters * window_plane + f * window_plane;
                        add_scaled_rows(
                            gradient,
                            &winners.indices[windows..][..window_plane],
                            f * positions,
                            &by_filter.row(f)[example * positions..][..positions],
                            patches,
                            patch,
                        );
                    }
                }
            },
        );
    }
}
