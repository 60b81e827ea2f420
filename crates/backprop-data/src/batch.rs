//! Mini-batches for one epoch: a seeded permutation of the n rows (or 0..n in order), cut into
//! ⌈n/b⌉ consecutive batches of b rows; the last batch keeps the remaining n mod b rows.
//!
//! Shuffling draws from the caller's [`SeededRng`] (a Fisher–Yates shuffle, n − 1 draws per
//! epoch), so epoch k's order depends on every draw before it: to resume training mid-run and
//! get the same batches, save the generator's state ([`SeededRng::state`]) with the checkpoint
//! and restore it with [`SeededRng::from_state`]. Without shuffling the generator is not touched.

use crate::DataError;
use backprop_tensor::SeededRng;

/// How an epoch's rows are cut into batches: a batch size of at least 1, shuffled or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchOrder {
    batch_size: usize,
    shuffle: bool,
}

impl BatchOrder {
    /// Batches of `batch_size` rows (an error when it is 0), in shuffled order or not.
    pub fn new(batch_size: usize, shuffle: bool) -> Result<Self, DataError> {
        if batch_size == 0 {
            return Err(DataError::ZeroBatchSize);
        }
        Ok(Self {
            batch_size,
            shuffle,
        })
    }

    /// Rows per full batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// True when each epoch draws a new permutation.
    pub fn shuffles(&self) -> bool {
        self.shuffle
    }

    /// The number of batches in an epoch of `n_rows`: ⌈n_rows / batch_size⌉.
    pub fn batches_per_epoch(&self, n_rows: usize) -> usize {
        n_rows.div_ceil(self.batch_size)
    }

    /// The row indices of each batch for one epoch; every row appears exactly once.
    pub fn epoch(&self, n_rows: usize, rng: &mut SeededRng) -> Vec<Vec<usize>> {
        let order = if self.shuffle {
            rng.permutation(n_rows)
        } else {
            (0..n_rows).collect()
        };
        order
            .chunks(self.batch_size)
            .map(|batch| batch.to_vec())
            .collect()
    }
}

/// The batches of one epoch: [`BatchOrder::new`] then [`BatchOrder::epoch`].
///
/// ```
/// use backprop_data::epoch_batches;
/// use backprop_tensor::SeededRng;
/// let batches = epoch_batches(10, 4, &mut SeededRng::new(1), false).unwrap();
/// assert_eq!(batches, vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
/// ```
pub fn epoch_batches(
    n_rows: usize,
    batch_size: usize,
    rng: &mut SeededRng,
    shuffle: bool,
) -> Result<Vec<Vec<usize>>, DataError> {
    Ok(BatchOrder::new(batch_size, shuffle)?.epoch(n_rows, rng))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn last_partial_batch_is_kept() {
        let order = BatchOrder::new(32, true).unwrap();
        let batches = order.epoch(100, &mut SeededRng::new(0));
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![32, 32, 32, 4]);
        assert_eq!(order.batches_per_epoch(100), 4);
        assert_eq!(
            order.epoch(0, &mut SeededRng::new(0)),
            Vec::<Vec<usize>>::new()
        );
        assert_eq!(order.epoch(5, &mut SeededRng::new(0)).len(), 1);
    }

    #[test]
    fn shuffling_is_seeded_and_changes_every_epoch() {
        let order = BatchOrder::new(8, true).unwrap();
        let mut a = SeededRng::new(3);
        let mut b = SeededRng::new(3);
        let first = order.epoch(40, &mut a);
        assert_eq!(first, order.epoch(40, &mut b));
        let second = order.epoch(40, &mut a);
        assert_ne!(first, second);
        assert_ne!(first, order.epoch(40, &mut SeededRng::new(4)));
    }

    #[test]
    fn resuming_from_saved_state_repeats_the_epoch() {
        let order = BatchOrder::new(5, true).unwrap();
        let mut rng = SeededRng::new(9);
        order.epoch(30, &mut rng);
        let saved = rng.state();
        let expected = order.epoch(30, &mut rng);
        assert_eq!(order.epoch(30, &mut SeededRng::from_state(saved)), expected);
    }

    #[test]
    fn without_shuffle_the_rng_is_untouched() {
        let mut rng = SeededRng::new(2);
        let before = rng.state();
        epoch_batches(10, 3, &mut rng, false).unwrap();
        assert_eq!(rng.state(), before);
    }

    #[test]
    fn zero_batch_size_is_an_error() {
        let err = epoch_batches(10, 0, &mut SeededRng::new(0), true).unwrap_err();
        assert_eq!(err.to_string(), "the batch size must be at least 1, got 0");
    }

    proptest! {
        #[test]
        fn every_index_once_per_epoch(
            n_rows in 0usize..300,
            batch_size in 1usize..64,
            seed in any::<u64>(),
            shuffle in any::<bool>(),
        ) {
            let mut rng = SeededRng::new(seed);
            for _ in 0..2 {
                let batches = epoch_batches(n_rows, batch_size, &mut rng, shuffle).unwrap();
                prop_assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= batch_size));
                prop_assert_eq!(batches.len(), n_rows.div_ceil(batch_size));
                let mut seen: Vec<usize> = batches.concat();
                seen.sort_unstable();
                prop_assert_eq!(seen, (0..n_rows).collect::<Vec<_>>());
            }
        }
    }
}
