//! Sharded gradients: a mini-batch cut into a fixed number S of contiguous row shards, whose
//! gradient sums are added over one fixed binary tree, whoever computes them.
//!
//! This is what makes data-parallel training deterministic. The rules:
//! - **Shards.** A batch of n rows (in the epoch's shuffled order) is cut into S shards; shard
//!   s holds rows ⌊s·n/S⌋ .. ⌊(s+1)·n/S⌋. Shards differ by at most one row. A batch with fewer
//!   than S rows (a small last batch) has empty shards, whose sums are zero.
//! - **Owners.** Of N participants (MPI ranks), rank r computes shards ⌊r·S/N⌋ .. ⌊(r+1)·S/N⌋:
//!   contiguous runs. N need not divide S; with N > S some ranks own no shard and only take
//!   part in the exchanges.
//! - **The tree.** Node [lo, hi) is a leaf (one shard's sum) when hi − lo = 1, otherwise the
//!   sum left + right of its halves [lo, mid) and [mid, hi), mid = lo + ⌈(hi − lo)/2⌉. The
//!   batch's gradient sum is the root [0, S).
//! - **Exchange.** A rank sums the largest tree nodes that lie inside its run
//!   ([`owned_nodes`]) and sends only those; every rank then finishes the same tree from the
//!   nodes received ([`tree_sum`]). Each node is always computed the same way from the same
//!   leaves, so the root has the same bits for every N, dividing S or not.
//!
//! A [`GradientCombiner`] moves the nodes; [`LocalCombiner`] is the single process (one rank
//! owning every shard). The MPI transport lives in the command-line crate.

use backprop_tensor::Float;
use std::ops::Range;

/// The shards of S that rank `rank` of `ranks` computes: a contiguous run, possibly empty.
///
/// ```
/// use backprop::shard::owned_shards;
/// assert_eq!(owned_shards(8, 1, 2), 4..8);
/// assert_eq!(owned_shards(8, 2, 3), 5..8);
/// assert_eq!(owned_shards(2, 0, 4), 0..0);
/// ```
pub fn owned_shards(shards: usize, rank: usize, ranks: usize) -> Range<usize> {
    (rank * shards / ranks)..((rank + 1) * shards / ranks)
}

/// The positions in a batch of `rows` rows that shard `shard` of `shards` holds.
///
/// ```
/// use backprop::shard::shard_rows;
/// assert_eq!(shard_rows(10, 8, 0), 0..1);
/// assert_eq!(shard_rows(10, 8, 7), 8..10);
/// assert_eq!(shard_rows(3, 8, 0), 0..0);
/// ```
pub fn shard_rows(rows: usize, shards: usize, shard: usize) -> Range<usize> {
    (shard * rows / shards)..((shard + 1) * rows / shards)
}

/// The split point of tree node [lo, hi) (hi − lo ≥ 2).
fn middle(lo: usize, hi: usize) -> usize {
    lo + (hi - lo).div_ceil(2)
}

/// The largest tree nodes over S shards that lie wholly inside `run`, left to right: what a
/// rank owning `run` sends. Empty for an empty run.
///
/// ```
/// use backprop::shard::owned_nodes;
/// assert_eq!(owned_nodes(8, 4..8), vec![4..8]);
/// assert_eq!(owned_nodes(8, 2..5), vec![2..4, 4..5]);
/// ```
pub fn owned_nodes(shards: usize, run: Range<usize>) -> Vec<Range<usize>> {
    fn visit(lo: usize, hi: usize, run: &Range<usize>, out: &mut Vec<Range<usize>>) {
        if run.start >= hi || run.end <= lo || run.is_empty() {
            return;
        }
        if run.start <= lo && hi <= run.end {
            out.push(lo..hi);
            return;
        }
        let mid = middle(lo, hi);
        visit(lo, mid, run, out);
        visit(mid, hi, run, out);
    }
    let mut nodes = Vec::new();
    if shards > 0 {
        visit(0, shards, &run, &mut nodes);
    }
    nodes
}

/// The value of tree node `node`: `known(lo, hi)` when it gives one, otherwise the sum of the
/// node's halves, recursively. Every leaf must be known, directly or through a node above it.
///
/// # Panics
/// When a leaf is reached that `known` does not give (the caller's nodes do not cover it).
pub fn tree_sum<'a, T: Float>(
    node: Range<usize>,
    known: &dyn Fn(usize, usize) -> Option<&'a [T]>,
) -> Vec<T> {
    let mut sum = Vec::new();
    tree_sum_into(node, known, &mut sum, &mut TreeScratch::default());
    sum
}

/// Buffers reused from one tree sum to the next (one per tree level), so that a training step
/// allocates (and page-faults) nothing for its sums.
#[derive(Clone, Debug, Default)]
pub struct TreeScratch<T> {
    levels: Vec<Vec<T>>,
}

/// [`tree_sum`] into `out`: the left half is summed in place, a right half that is known is
/// added straight from its slice, and one that is not is summed into a scratch buffer of its
/// level. The same additions in the same order as [`tree_sum`], with fewer copies.
pub fn tree_sum_into<'a, T: Float>(
    node: Range<usize>,
    known: &dyn Fn(usize, usize) -> Option<&'a [T]>,
    out: &mut Vec<T>,
    scratch: &mut TreeScratch<T>,
) {
    let depth = usize::BITS as usize - (node.end - node.start).leading_zeros() as usize + 1;
    if scratch.levels.len() < depth {
        scratch.levels.resize_with(depth, Vec::new);
    }
    sum_at_level(node, known, out, &mut scratch.levels);
}

fn sum_at_level<'a, T: Float>(
    node: Range<usize>,
    known: &dyn Fn(usize, usize) -> Option<&'a [T]>,
    out: &mut Vec<T>,
    levels: &mut [Vec<T>],
) {
    if let Some(value) = known(node.start, node.end) {
        out.clear();
        out.extend_from_slice(value);
        return;
    }
    assert!(
        node.end - node.start >= 2,
        "shard {} is in no node received",
        node.start
    );
    let mid = middle(node.start, node.end);
    sum_at_level(node.start..mid, known, out, levels);
    let add = |out: &mut Vec<T>, right: &[T]| {
        for (left, right) in out.iter_mut().zip(right) {
            *left += *right;
        }
    };
    match known(mid, node.end) {
        Some(right) => add(out, right),
        None => {
            let (right, deeper) = levels.split_first_mut().expect("one level per tree depth");
            sum_at_level(mid..node.end, known, right, deeper);
            add(out, right);
        }
    }
}

/// How the shard sums of one batch are combined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CombineMode {
    /// The fixed tree: bit-identical for every rank count.
    #[default]
    Deterministic,
    /// Each rank adds its own shards in order, then one sum across ranks in whatever order the
    /// transport likes (MPI_Allreduce): faster, equal to the tree within rounding.
    FastSum,
}

/// Moves shard sums between the participants of a data-parallel run. Every method is a
/// collective: every participant calls it, in the same order, with the same sizes. `Send`, as
/// a [`crate::Trainer`] may move between threads.
pub trait GradientCombiner<T: Float>: Send {
    /// This participant's rank, from 0.
    fn rank(&self) -> usize;

    /// The number of participants.
    fn ranks(&self) -> usize;

    /// Deterministic (the tree) or fast.
    fn mode(&self) -> CombineMode {
        CombineMode::Deterministic
    }

    /// Every participant's `local` values, concatenated in rank order; `counts[r]` is rank r's
    /// length (known to all).
    fn all_gather(&mut self, local: &[T], counts: &[usize]) -> Vec<T>;

    /// [`GradientCombiner::all_gather`] for `f64` values (losses and metric sums).
    fn all_gather_f64(&mut self, local: &[f64], counts: &[usize]) -> Vec<f64>;

    /// Replaces `values` by their element-wise sum over the participants, in an order the
    /// transport chooses (used in [`CombineMode::FastSum`] only).
    fn all_reduce_sum(&mut self, values: &mut [T]);

    /// The largest of the participants' `value`s (an order-free integer reduction, for flags
    /// such as "stop now").
    fn all_reduce_max(&mut self, value: u64) -> u64;

    /// Seconds spent in exchanges so far (for timings; 0 for a single process).
    fn communication_seconds(&self) -> f64 {
        0.0
    }
}

/// The single process: rank 0 of 1, owning every shard; exchanges are copies.
#[derive(Clone, Copy, Debug, Default)]
pub struct LocalCombiner;

impl<T: Float> GradientCombiner<T> for LocalCombiner {
    fn rank(&self) -> usize {
        0
    }

    fn ranks(&self) -> usize {
        1
    }

    fn all_gather(&mut self, local: &[T], _counts: &[usize]) -> Vec<T> {
        local.to_vec()
    }

    fn all_gather_f64(&mut self, local: &[f64], _counts: &[usize]) -> Vec<f64> {
        local.to_vec()
    }

    fn all_reduce_sum(&mut self, _values: &mut [T]) {}

    fn all_reduce_max(&mut self, value: u64) -> u64 {
        value
    }
}

/// The root of the tree over S shards, from each rank's node values laid end to end (rank 0's
/// nodes first, each node `width` values long), as [`GradientCombiner::all_gather`] returns
/// them from the ranks' [`owned_nodes`].
///
/// # Panics
/// When `gathered` does not hold one node of `width` values per owned node of every rank.
pub fn root_from_gathered<T: Float>(
    shards: usize,
    ranks: usize,
    width: usize,
    gathered: &[T],
) -> Vec<T> {
    let mut root = Vec::new();
    root_into(
        shards,
        ranks,
        width,
        gathered,
        &mut root,
        &mut TreeScratch::default(),
    );
    root
}

/// [`root_from_gathered`] into `out`, with reused scratch buffers.
///
/// # Panics
/// As [`root_from_gathered`].
pub fn root_into<T: Float>(
    shards: usize,
    ranks: usize,
    width: usize,
    gathered: &[T],
    out: &mut Vec<T>,
    scratch: &mut TreeScratch<T>,
) {
    let mut nodes: Vec<(Range<usize>, &[T])> = Vec::new();
    let mut offset = 0;
    for rank in 0..ranks {
        for node in owned_nodes(shards, owned_shards(shards, rank, ranks)) {
            nodes.push((node, &gathered[offset..offset + width]));
            offset += width;
        }
    }
    assert_eq!(
        offset,
        gathered.len(),
        "gathered node values of another size"
    );
    let known = |lo: usize, hi: usize| {
        nodes
            .iter()
            .find(|(node, _)| node.start == lo && node.end == hi)
            .map(|(_, value)| *value)
    };
    tree_sum_into(0..shards, &known, out, scratch);
}

/// The values of this rank's [`owned_nodes`], laid end to end, from its leaves (`leaves[i]` is
/// shard `run.start + i`'s sum).
pub fn node_values<T: Float>(shards: usize, run: Range<usize>, leaves: &[Vec<T>]) -> Vec<T> {
    let mut values = Vec::new();
    node_values_into(
        shards,
        run,
        leaves,
        &mut values,
        &mut TreeScratch::default(),
    );
    values
}

/// [`node_values`] into `out`, with reused scratch buffers.
pub fn node_values_into<T: Float>(
    shards: usize,
    run: Range<usize>,
    leaves: &[Vec<T>],
    out: &mut Vec<T>,
    scratch: &mut TreeScratch<T>,
) {
    let start = run.start;
    let known = |lo: usize, hi: usize| (hi - lo == 1).then(|| leaves[lo - start].as_slice());
    out.clear();
    let nodes = owned_nodes(shards, run);
    if let [node] = nodes.as_slice() {
        // One node (N dividing S): summed straight into `out`.
        tree_sum_into(node.clone(), &known, out, scratch);
        return;
    }
    let mut value = Vec::new();
    for node in nodes {
        tree_sum_into(node, &known, &mut value, scratch);
        out.extend_from_slice(&value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_partition_the_shards_in_order() {
        for shards in 1..=9 {
            for ranks in 1..=11 {
                let runs: Vec<_> = (0..ranks).map(|r| owned_shards(shards, r, ranks)).collect();
                assert_eq!(runs[0].start, 0);
                assert_eq!(runs[ranks - 1].end, shards);
                for pair in runs.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start);
                }
            }
        }
    }

    #[test]
    fn shard_rows_cover_the_batch_near_equally() {
        for rows in 0..40 {
            let sizes: Vec<usize> = (0..8).map(|s| shard_rows(rows, 8, s).len()).collect();
            assert_eq!(sizes.iter().sum::<usize>(), rows);
            let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(max - min <= 1, "{rows}: {sizes:?}");
        }
    }

    /// Leaves whose sums depend on the order of addition (large and tiny values).
    fn leaves(shards: usize) -> Vec<Vec<f32>> {
        (0..shards)
            .map(|s| {
                (0..5)
                    .map(|i| ((s * 7 + i) as f32).sin() * 10f32.powi((s % 4) as i32 * 3 - 4))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_rank_split_gives_the_same_root_bits() {
        for shards in [1, 3, 8, 13] {
            let leaves = leaves(shards);
            let single = node_values(shards, 0..shards, &leaves);
            for ranks in 1..=shards + 2 {
                let mut gathered = Vec::new();
                for rank in 0..ranks {
                    let run = owned_shards(shards, rank, ranks);
                    gathered.extend(node_values(shards, run.clone(), &leaves[run]));
                }
                let root = root_from_gathered(shards, ranks, 5, &gathered);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&root), bits(&single), "S={shards}, N={ranks}");
            }
        }
    }

    #[test]
    fn the_tree_is_pairwise_and_differs_from_a_left_fold() {
        let leaves = leaves(8);
        let root = node_values(8, 0..8, &leaves);
        let pair =
            |a: &[f32], b: &[f32]| -> Vec<f32> { a.iter().zip(b).map(|(x, y)| x + y).collect() };
        let quarter = |i: usize| pair(&leaves[i], &leaves[i + 1]);
        let expected = pair(
            &pair(&quarter(0), &quarter(2)),
            &pair(&quarter(4), &quarter(6)),
        );
        assert_eq!(root, expected);
    }
}
