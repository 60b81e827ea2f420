//! The sharded training step: each participant computes the gradient sums of the shards it
//! owns, a [`GradientCombiner`] adds them over the fixed shard tree (or sums them fast), and
//! every participant applies the same optimiser step to the same combined gradient, so the
//! optimiser state needs no exchange. Training metrics and validation metrics are summed per
//! shard and added in shard order, so they too are the same bits for every rank count.
//!
//! The rules ([`crate::shard`]) and the single-process equivalent: a trainer with
//! [`Sharding::local`] and the same S runs exactly the sums an MPI run of any size runs.

use super::metrics::{MetricAccumulator, Metrics, Task};
use crate::network::Network;
use crate::shard::{
    node_values_into, owned_shards, root_into, shard_rows, CombineMode, GradientCombiner,
    LocalCombiner, TreeScratch,
};
use crate::{Error, Result};
use backprop_tensor::{Float, Matrix};
use std::time::Instant;

/// The default number of shards per batch.
pub const DEFAULT_SHARDS: usize = 8;

/// Where the time of sharded steps went, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ShardTimings {
    /// Shard forward and backward passes (this rank's shards).
    pub compute: f64,
    /// Combining: tree sums, exchanges and metric sums.
    pub combine: f64,
    /// Inside exchanges (MPI collectives), part of `combine`.
    pub exchange: f64,
}

/// Sharded gradients for a [`super::Trainer`]: the shard count S and the combiner.
pub struct Sharding<T: Float> {
    shards: usize,
    combiner: Box<dyn GradientCombiner<T>>,
    /// This rank's shard sums of the current batch, reused from batch to batch.
    leaves: Vec<Vec<T>>,
    /// This rank's node values, the combined sum, and tree-sum buffers, reused likewise.
    nodes: Vec<T>,
    total: Vec<T>,
    scratch: TreeScratch<T>,
    /// Seconds spent computing shard gradients (forward and backward).
    compute_seconds: f64,
    /// Seconds spent combining them: tree sums and exchanges, metrics included.
    combine_seconds: f64,
}

impl<T: Float> Sharding<T> {
    /// S shards per batch over `combiner`.
    pub fn new(shards: usize, combiner: Box<dyn GradientCombiner<T>>) -> Result<Self> {
        if shards == 0 {
            return Err(Error::Training("shards must be at least 1".into()));
        }
        Ok(Self {
            shards,
            combiner,
            leaves: Vec::new(),
            nodes: Vec::new(),
            total: Vec::new(),
            scratch: TreeScratch::default(),
            compute_seconds: 0.0,
            combine_seconds: 0.0,
        })
    }

    /// S shards per batch in this one process ([`LocalCombiner`]).
    pub fn local(shards: usize) -> Result<Self> {
        Self::new(shards, Box::new(LocalCombiner))
    }

    /// The shard count S.
    pub fn shards(&self) -> usize {
        self.shards
    }

    /// The combiner (its rank, its timings).
    pub fn combiner(&mut self) -> &mut dyn GradientCombiner<T> {
        self.combiner.as_mut()
    }

    /// Seconds so far: in shard forward and backward passes; in combining the shards (tree
    /// sums and exchanges); and in the exchanges alone (inside MPI collectives, waiting for
    /// slower ranks included).
    pub fn seconds(&self) -> ShardTimings {
        ShardTimings {
            compute: self.compute_seconds,
            combine: self.combine_seconds,
            exchange: self.combiner.communication_seconds(),
        }
    }

    /// One batch (`rows` of `x` and `y`, in order): leaves the combined mean gradient (with
    /// the regularisation term's gradient) in `network`, adds the batch's metrics to
    /// `accumulator` shard by shard, and returns the batch cost with the penalty, and the
    /// penalty.
    pub(crate) fn step(
        &mut self,
        network: &mut Network<T>,
        (x, y): (&Matrix<T>, &Matrix<T>),
        rows: &[usize],
        targets: &mut Matrix<T>,
        accumulator: &mut MetricAccumulator,
    ) -> (f64, f64) {
        let started = Instant::now();
        let (shards, rank, ranks) = (self.shards, self.combiner.rank(), self.combiner.ranks());
        let run = owned_shards(shards, rank, ranks);
        let cols = network.output_width();
        let width = network.parameter_count();
        self.leaves.resize_with(run.len(), Vec::new);
        let mut metric_values = Vec::with_capacity(run.len() * (4 + 3 * cols));
        for (leaf, shard) in self.leaves.iter_mut().zip(run.clone()) {
            let shard = &rows[shard_rows(rows.len(), shards, shard)];
            let mut shard_metrics = MetricAccumulator::new();
            if shard.is_empty() {
                leaf.clear();
                leaf.resize(width, T::ZERO);
            } else {
                network.load_batch(x, shard);
                targets.gather_rows(y, shard);
                let loss = network.shard_gradients_loaded(targets);
                let output = network.layers.last().and_then(|l| l.as_dense());
                if let Some(cache) = output.and_then(|d| d.cache()) {
                    shard_metrics.add(&cache.a, targets, loss);
                }
                // The shard's gradient sum: the mean over its rows times their count.
                network.flat_gradients_into(T::from_f64(shard.len() as f64), leaf);
            }
            metric_values.extend(shard_metrics.to_values(cols));
        }
        self.compute_seconds += started.elapsed().as_secs_f64();
        let started = Instant::now();
        self.combine(run.clone(), width);
        // Every shard's metric sums, added in shard order: the batch loss and the epoch's
        // training metrics are the same bits on every rank.
        let per_shard = 4 + 3 * cols;
        let counts: Vec<usize> = (0..ranks)
            .map(|r| owned_shards(shards, r, ranks).len() * per_shard)
            .collect();
        let all_metrics = self.combiner.all_gather_f64(&metric_values, &counts);
        let mut batch = MetricAccumulator::new();
        for values in all_metrics.chunks(per_shard) {
            batch.merge_values(values);
            accumulator.merge_values(values);
        }
        self.combine_seconds += started.elapsed().as_secs_f64();
        let scale = T::ONE / T::from_f64(rows.len() as f64);
        network.set_flat_gradients(&self.total, scale);
        let penalty = network.penalty();
        (batch.loss_sum() / rows.len() as f64 + penalty, penalty)
    }

    /// The sum of every shard's leaf, as [`CombineMode`] says, into `self.total`.
    fn combine(&mut self, run: std::ops::Range<usize>, width: usize) {
        let (shards, ranks) = (self.shards, self.combiner.ranks());
        match self.combiner.mode() {
            CombineMode::Deterministic => {
                node_values_into(
                    shards,
                    run,
                    &self.leaves,
                    &mut self.nodes,
                    &mut self.scratch,
                );
                let counts: Vec<usize> = (0..ranks)
                    .map(|r| {
                        crate::shard::owned_nodes(shards, owned_shards(shards, r, ranks)).len()
                            * width
                    })
                    .collect();
                if ranks == 1 {
                    // Nothing to exchange: the node is the root.
                    std::mem::swap(&mut self.total, &mut self.nodes);
                    return;
                }
                let gathered = self.combiner.all_gather(&self.nodes, &counts);
                root_into(
                    shards,
                    ranks,
                    width,
                    &gathered,
                    &mut self.total,
                    &mut self.scratch,
                );
            }
            CombineMode::FastSum => {
                self.total.clear();
                self.total.resize(width, T::ZERO);
                for leaf in &self.leaves {
                    for (total, &value) in self.total.iter_mut().zip(leaf) {
                        *total += value;
                    }
                }
                self.combiner.all_reduce_sum(&mut self.total);
            }
        }
    }

    /// Validation metrics across the ranks: the rows are cut into S shards as a batch is, each
    /// rank evaluates its own, and every rank adds the shards' sums in shard order. Equal to
    /// [`super::evaluate`] on all rows within f32 rounding (a shard's forward products may be
    /// tiled differently from those over all rows), and the same bits for every rank count.
    pub(crate) fn evaluate(
        &mut self,
        network: &Network<T>,
        x: &Matrix<T>,
        y: &Matrix<T>,
        task: Task,
    ) -> Metrics {
        let (shards, rank, ranks) = (self.shards, self.combiner.rank(), self.combiner.ranks());
        let cols = network.output_width();
        let per_shard = 4 + 3 * cols;
        let mut local = Vec::new();
        for shard in owned_shards(shards, rank, ranks) {
            let rows: Vec<usize> = shard_rows(x.rows(), shards, shard).collect();
            let mut shard_metrics = MetricAccumulator::new();
            if !rows.is_empty() {
                let (xs, ys) = (x.select_rows(&rows), y.select_rows(&rows));
                let (z, a) = network.output_with_logits(&xs);
                shard_metrics.add(&a, &ys, network.cost().loss(&z, &a, &ys));
            }
            local.extend(shard_metrics.to_values(cols));
        }
        let counts: Vec<usize> = (0..ranks)
            .map(|r| owned_shards(shards, r, ranks).len() * per_shard)
            .collect();
        let gathered = self.combiner.all_gather_f64(&local, &counts);
        let mut accumulator = MetricAccumulator::new();
        for values in gathered.chunks(per_shard) {
            accumulator.merge_values(values);
        }
        accumulator.finish(task, network.penalty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::Cost;
    use crate::network::NetworkConfig;
    use crate::train::evaluate;
    use backprop_tensor::SeededRng;

    #[test]
    fn validation_across_shards_agrees_with_one_evaluation() {
        let mut rng = SeededRng::with_stream(2, 9);
        let x: Matrix<f32> = Matrix::random_uniform(203, 6, -1.0, 1.0, &mut rng);
        let y = Matrix::from_fn(203, 3, |row, col| f32::from(u8::from(row % 3 == col)));
        let network = NetworkConfig::new(&[6, 5, 3], Cost::SoftmaxCrossEntropy)
            .with_seed(1)
            .init::<f32>()
            .unwrap();
        let whole = evaluate(&network, &x, &y, Task::Classification);
        for shards in [1, 3, 8, 300] {
            let sharded =
                Sharding::local(shards)
                    .unwrap()
                    .evaluate(&network, &x, &y, Task::Classification);
            // Within f32 rounding: a shard's rows may take another GEMM tiling than all rows.
            assert!(
                (sharded.loss - whole.loss).abs() <= 1e-6 * whole.loss,
                "{shards} shards: {} against {}",
                sharded.loss,
                whole.loss
            );
            assert_eq!(sharded.accuracy, whole.accuracy);
        }
    }
}
