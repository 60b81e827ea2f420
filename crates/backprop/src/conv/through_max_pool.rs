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
//!
//! And BP2's first half: position p's row of ∂C/∂X̂ = Σ_f δ[f, p] · W[f] has a term only for
//! the filters whose window p won (a quarter of them on average, fewer where ReLU's σ′ is 0),
//! each row of W a vector of the sum. The rows are formed a block of W's columns at a time,
//! that block of every filter staying in L1 across an example's positions, and then added back
//! onto the pixels from this position-major layout (col2im in runs of k). Each position's
//! filters are summed in filter order: again the same bits on any thread count.

use super::columns::col2im_by_position;
use super::Conv2d;
use crate::activation::{relu, Activation};
use crate::layer::LayerOps;
use crate::pool::{Pool2d, PoolKind};
use backprop_tensor::rows::{add_scaled_rows, sum_weighted_rows};
use backprop_tensor::team::{for_each_chunk, for_each_chunk_pair};
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

    /// Each example's winners with δ ≠ 0 listed by position and by filter, into
    /// `winner_lists` (per example: positions + 1 offsets, then the filters, grouped by
    /// position and in filter order within each; then for each filter its count and, in
    /// window order, its winners) and `winner_deltas` (δ beside the filters of the first
    /// list). δ = 0 (ReLU's σ′ = 0 at the winner) adds nothing for finite W and X̂ and is left
    /// out.
    pub(super) fn list_winners(&mut self, winners: Winners<'_>) {
        let filters = self.geometry.filters;
        let positions = self.output.plane();
        let batch = self.by_filter.cols() / positions.max(1);
        let window_plane = winners.window_plane;
        let terms = filters * window_plane;
        assert_eq!(
            winners.indices.len(),
            batch * terms,
            "{}: winners of another batch",
            self.describe()
        );
        let list_len = list_len(positions, filters, terms);
        self.winner_lists.resize(batch * list_len, 0);
        self.winner_deltas.resize(batch * terms, T::ZERO);
        let by_filter = &self.by_filter;
        for_each_chunk_pair(
            &mut self.winner_lists,
            list_len,
            &mut self.winner_deltas,
            terms,
            |example, list, deltas_out| {
                let (offsets, rest) = list.split_at_mut(positions + 1);
                let (picks, rest) = rest.split_at_mut(terms);
                let (counts, by_filter_out) = rest.split_at_mut(filters);
                let indices = &winners.indices[example * terms..][..terms];
                // Each filter's winners (its windows in order) and the filter's δ.
                let by_filters =
                    indices
                        .chunks_exact(window_plane)
                        .enumerate()
                        .map(|(f, winners)| {
                            let deltas = &by_filter.row(f)[example * positions..][..positions];
                            (f, winners, deltas)
                        });
                // A counting sort by position, filters in order: the counts, their running
                // sums (where each position's terms start), the terms put in place, the
                // starts restored.
                offsets.fill(0);
                for (f, winners, deltas) in by_filters.clone() {
                    let kept = &mut by_filter_out[f * window_plane..][..window_plane];
                    let mut count = 0;
                    for &index in winners {
                        let position = index as usize - f * positions;
                        if deltas[position] != T::ZERO {
                            offsets[position + 1] += 1;
                            kept[count] = index;
                            count += 1;
                        }
                    }
                    counts[f] = count as u32;
                }
                for p in 1..=positions {
                    offsets[p] += offsets[p - 1];
                }
                for (f, winners, deltas) in by_filters {
                    for &index in winners {
                        let position = index as usize - f * positions;
                        let delta = deltas[position];
                        if delta != T::ZERO {
                            let slot = offsets[position] as usize;
                            (picks[slot], deltas_out[slot]) = (f as u32, delta);
                            offsets[position] += 1;
                        }
                    }
                }
                offsets.copy_within(0..positions - 1, 1);
                offsets[0] = 0;
            },
        );
    }

    /// BP4 with position-major X̂ from the lists of [`Conv2d::list_winners`]: ∂C/∂W[f] = Σ
    /// over examples and f's winners with δ ≠ 0 (in window order) of δ[f, winner] ·
    /// X̂[winner].
    pub(super) fn weight_gradient_at_winners(&mut self) {
        let (filters, patch) = (self.geometry.filters, self.geometry.patch_len());
        let positions = self.output.plane();
        let batch = self.by_filter.cols() / positions.max(1);
        assert_eq!(self.columns.shape(), (batch * positions, patch));
        self.weight_gradient.resize(filters, patch);
        let (columns, by_filter) = (self.columns.as_slice(), &self.by_filter);
        let lists = WinnerLists::new(
            &self.winner_lists,
            &self.winner_deltas,
            positions,
            filters,
            batch,
        );
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
                        add_scaled_rows(
                            gradient,
                            lists.filter(example, f),
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

    /// BP2's first half with position-major X̂ from the lists of [`Conv2d::list_winners`]: each
    /// position's row of ∂C/∂X̂ sums δ[f, p] · W[f] over the filters f that p won for, then
    /// col2im adds the rows back onto `grad_input`'s pixels.
    pub(super) fn input_gradient_at_winners(&mut self, grad_input: &mut Matrix<T>) {
        let (filters, patch) = (self.geometry.filters, self.geometry.patch_len());
        let (positions, input_len) = (self.output.plane(), self.geometry.input.len());
        let batch = self.by_filter.cols() / positions.max(1);
        grad_input.resize(batch, input_len);
        assert_eq!(self.columns.len(), batch * positions * patch);
        // W's rows copied to start on 64-byte boundaries, so that no vector load of a row
        // block straddles two cache lines.
        let lanes = 64 / std::mem::size_of::<T>();
        let stride = patch.next_multiple_of(lanes);
        self.aligned_weight
            .resize(filters * stride + lanes, T::ZERO);
        let skip = self.aligned_weight.as_ptr().align_offset(64).min(lanes);
        let mut aligned = std::mem::take(&mut self.aligned_weight);
        let weight = &mut aligned[skip..][..filters * stride];
        for (to, from) in weight
            .chunks_exact_mut(stride)
            .zip(self.weight.as_slice().chunks_exact(patch))
        {
            to[..patch].copy_from_slice(from);
        }
        let weight = &*weight;
        let (geometry, output) = (&self.geometry, self.output);
        let lists = WinnerLists::new(
            &self.winner_lists,
            &self.winner_deltas,
            positions,
            filters,
            batch,
        );
        // Tasks of a few examples, each forming its examples' rows of ∂C/∂X̂ one after another
        // in one block of X̂'s buffer (now free), which stays in cache: a fresh block per
        // example sent most of the stores to memory.
        let per_task = EXAMPLES_PER_BLOCK;
        for_each_chunk_pair(
            grad_input.as_mut_slice(),
            per_task * input_len,
            self.columns.as_mut_slice(),
            positions * patch,
            |task, images, block| {
                for (offset, image) in images.chunks_exact_mut(input_len).enumerate() {
                    let example = task * per_task + offset;
                    for start in (0..patch).step_by(COLUMN_BLOCK) {
                        let len = COLUMN_BLOCK.min(patch - start);
                        for (p, row) in block.chunks_exact_mut(patch).enumerate() {
                            let (picks, deltas) = lists.position(example, p);
                            sum_weighted_rows(
                                &mut row[start..start + len],
                                picks,
                                deltas,
                                &weight[start..],
                                stride,
                            );
                        }
                    }
                    col2im_by_position(geometry, output, block, image);
                }
            },
        );
        self.aligned_weight = aligned;
    }
}

/// The length of one example's lists in [`Conv2d::list_winners`].
fn list_len(positions: usize, filters: usize, terms: usize) -> usize {
    positions + 1 + terms + filters + terms
}

/// The lists of [`Conv2d::list_winners`], read.
struct WinnerLists<'a, T> {
    lists: &'a [u32],
    deltas: &'a [T],
    positions: usize,
    filters: usize,
    terms: usize,
}

impl<'a, T: Float> WinnerLists<'a, T> {
    /// The lists in `lists` and `deltas` of a batch of `batch` examples of `filters` planes of
    /// `positions` output positions each.
    fn new(
        lists: &'a [u32],
        deltas: &'a [T],
        positions: usize,
        filters: usize,
        batch: usize,
    ) -> Self {
        let terms = deltas.len() / batch.max(1);
        assert_eq!(
            lists.len(),
            batch * list_len(positions, filters, terms),
            "convolution: winners not listed for this batch"
        );
        Self {
            lists,
            deltas,
            positions,
            filters,
            terms,
        }
    }

    fn example(&self, example: usize) -> &'a [u32] {
        let len = list_len(self.positions, self.filters, self.terms);
        &self.lists[example * len..][..len]
    }

    /// The filters that position `p` of `example` won for, in order, and their δ.
    fn position(&self, example: usize, p: usize) -> (&'a [u32], &'a [T]) {
        let (offsets, picks) = self.example(example).split_at(self.positions + 1);
        let range = offsets[p] as usize..offsets[p + 1] as usize;
        let deltas = &self.deltas[example * self.terms..];
        (&picks[range.clone()], &deltas[range])
    }

    /// The winners of filter `f` in `example` (their indices in the example's row of z), in
    /// window order.
    fn filter(&self, example: usize, f: usize) -> &'a [u32] {
        let rest = &self.example(example)[self.positions + 1 + self.terms..];
        let (counts, winners) = rest.split_at(self.filters);
        let window_plane = self.terms / self.filters.max(1);
        &winners[f * window_plane..][..counts[f] as usize]
    }
}

/// Columns per block of the winners' sums: one register block of the row kernels (8 vectors
/// of 16 `f32`); 20 KB of `f32` for 40 filters.
const COLUMN_BLOCK: usize = 128;

/// Examples per task of [`Conv2d::input_gradient_at_winners`], whose ∂C/∂X̂ rows share one
/// block of X̂'s buffer.
const EXAMPLES_PER_BLOCK: usize = 8;
