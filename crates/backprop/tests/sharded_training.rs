//! Sharded training ([`Sharding`]): the single-process sharded path against the plain path,
//! its determinism, and simulated ranks (threads that exchange through shared memory with the
//! semantics of MPI's collectives), which must give the single process's weights bit for bit
//! for every rank count, dividing S or not, with a last partial batch and batches smaller
//! than S.

use backprop::optim::{AdamConfig, OptimizerConfig, SgdConfig};
use backprop::shard::{CombineMode, GradientCombiner};
use backprop::train::{Sharding, Silent};
use backprop::{Cost, Matrix, Network, NetworkConfig, SeededRng, Trainer, TrainingConfig};
use backprop::{History, Validation};
use std::sync::{Arc, Barrier, Mutex};

fn data() -> (Matrix<f32>, Matrix<f32>) {
    let mut rng = SeededRng::with_stream(11, 3);
    let x: Matrix<f32> = Matrix::random_uniform(203, 12, -1.0, 1.0, &mut rng);
    let y = Matrix::from_fn(203, 3, |row, col| {
        let class = if x[(row, 0)] * x[(row, 1)] > 0.1 {
            0
        } else if x[(row, 2)] > 0.2 {
            1
        } else {
            2
        };
        f32::from(u8::from(class == col))
    });
    (x, y)
}

fn config(batch_size: usize, optimizer: OptimizerConfig) -> TrainingConfig {
    TrainingConfig {
        epochs: 3,
        batch_size,
        optimizer,
        validation: Validation::Fraction(0.2),
        seed: 5,
        ..TrainingConfig::default()
    }
}

fn sgd() -> OptimizerConfig {
    OptimizerConfig::Sgd(SgdConfig::new().with_learning_rate(0.3))
}

fn network() -> Network<f32> {
    NetworkConfig::new(&[12, 16, 8, 3], Cost::SoftmaxCrossEntropy)
        .with_seed(3)
        .init()
        .unwrap()
}

fn bits(network: &Network<f32>) -> Vec<u32> {
    network
        .parameters()
        .iter()
        .flat_map(|(_, m)| m.as_slice().iter().map(|v| v.to_bits()))
        .collect()
}

/// Trains with `sharding` (or the plain path); the weights and the history.
fn train(config: TrainingConfig, sharding: Option<Sharding<f32>>) -> (Network<f32>, History) {
    let (x, y) = data();
    let mut network = network();
    let mut trainer = Trainer::new(config).unwrap();
    if let Some(sharding) = sharding {
        trainer.set_sharding(sharding);
    }
    let history = trainer
        .fit(&mut network, &x, &y, None, &mut Silent)
        .unwrap();
    (network, history)
}

#[test]
fn sharded_path_equals_the_plain_path_within_rounding_and_repeats_bit_for_bit() {
    for optimizer in [sgd(), OptimizerConfig::Adam(AdamConfig::new())] {
        let (plain, plain_history) = train(config(32, optimizer.clone()), None);
        let sharded = || {
            train(
                config(32, optimizer.clone()),
                Some(Sharding::local(8).unwrap()),
            )
        };
        let (first, history) = sharded();
        let (second, _) = sharded();
        assert_eq!(bits(&first), bits(&second));
        let largest = plain
            .parameters()
            .iter()
            .zip(first.parameters())
            .flat_map(|((_, a), (_, b))| {
                let pairs: Vec<_> = a
                    .as_slice()
                    .iter()
                    .zip(b.as_slice())
                    .map(|(&p, &q)| (p, q))
                    .collect();
                pairs
            })
            .map(|(p, q)| (p - q).abs() / p.abs().max(q.abs()).max(1e-2))
            .fold(0.0, f32::max);
        assert!(largest < 1e-4, "sharded against plain: {largest}");
        let (a, b) = (&plain_history.epochs[2], &history.epochs[2]);
        let validation = (
            a.validation.as_ref().unwrap(),
            b.validation.as_ref().unwrap(),
        );
        assert!((validation.0.loss - validation.1.loss).abs() < 1e-5 * validation.0.loss);
        assert_eq!(validation.0.accuracy, validation.1.accuracy);
        assert!((a.train.loss - b.train.loss).abs() < 1e-4 * a.train.loss);
    }
}

/// One simulated rank's view of a shared exchange: `slots[r]` holds rank r's contribution
/// between two barriers, as MPI's collectives would deliver it.
struct ThreadCombiner {
    rank: usize,
    ranks: usize,
    mode: CombineMode,
    barrier: Arc<Barrier>,
    slots: Arc<Mutex<Vec<Vec<f64>>>>,
}

impl ThreadCombiner {
    /// Every rank's values in rank order.
    fn exchange(&mut self, local: Vec<f64>) -> Vec<Vec<f64>> {
        self.slots.lock().unwrap()[self.rank] = local;
        self.barrier.wait();
        let all = self.slots.lock().unwrap().clone();
        self.barrier.wait();
        all
    }
}

impl GradientCombiner<f32> for ThreadCombiner {
    fn rank(&self) -> usize {
        self.rank
    }
    fn ranks(&self) -> usize {
        self.ranks
    }
    fn mode(&self) -> CombineMode {
        self.mode
    }
    fn all_gather(&mut self, local: &[f32], counts: &[usize]) -> Vec<f32> {
        assert_eq!(local.len(), counts[self.rank]);
        let all = self.exchange(local.iter().map(|&v| f64::from(v)).collect());
        all.concat().into_iter().map(|v| v as f32).collect()
    }
    fn all_gather_f64(&mut self, local: &[f64], counts: &[usize]) -> Vec<f64> {
        assert_eq!(local.len(), counts[self.rank]);
        self.exchange(local.to_vec()).concat()
    }
    fn all_reduce_sum(&mut self, values: &mut [f32]) {
        let all = self.exchange(values.iter().map(|&v| f64::from(v)).collect());
        // Another order than the tree's: last rank first.
        for (i, value) in values.iter_mut().enumerate() {
            *value = all
                .iter()
                .rev()
                .fold(0.0f32, |sum, rank| sum + rank[i] as f32);
        }
    }
    fn all_reduce_max(&mut self, value: u64) -> u64 {
        let all = self.exchange(vec![value as f64]);
        all.iter().map(|v| v[0] as u64).max().unwrap_or(0)
    }
}

/// Trains on `ranks` threads, each a rank with its own network and trainer; every rank's
/// weights.
fn train_on_ranks(
    ranks: usize,
    shards: usize,
    mode: CombineMode,
    config: TrainingConfig,
) -> Vec<(Vec<u32>, History)> {
    let barrier = Arc::new(Barrier::new(ranks));
    let slots = Arc::new(Mutex::new(vec![Vec::new(); ranks]));
    let handles: Vec<_> = (0..ranks)
        .map(|rank| {
            let combiner = ThreadCombiner {
                rank,
                ranks,
                mode,
                barrier: Arc::clone(&barrier),
                slots: Arc::clone(&slots),
            };
            let config = config.clone();
            std::thread::spawn(move || {
                let sharding = Sharding::new(shards, Box::new(combiner)).unwrap();
                let (network, history) = train(config, Some(sharding));
                (bits(&network), history)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn every_rank_count_gives_the_single_process_bits() {
    // 162 training rows: batches of 32 leave a last batch of 2 (6 empty shards); batches of 5
    // have 3 empty shards each.
    for (batch_size, optimizer) in [(32, sgd()), (5, OptimizerConfig::Adam(AdamConfig::new()))] {
        let config = config(batch_size, optimizer);
        let (single, single_history) = train(config.clone(), Some(Sharding::local(8).unwrap()));
        for ranks in [1, 2, 3, 4, 8, 10] {
            for (rank, (weights, history)) in
                train_on_ranks(ranks, 8, CombineMode::Deterministic, config.clone())
                    .into_iter()
                    .enumerate()
            {
                assert!(
                    weights == bits(&single),
                    "batch {batch_size}, {ranks} ranks, rank {rank}"
                );
                let metrics = |h: &History| -> Vec<_> {
                    h.epochs
                        .iter()
                        .map(|e| (e.train.clone(), e.validation.clone()))
                        .collect()
                };
                assert_eq!(metrics(&history), metrics(&single_history), "{ranks} ranks");
            }
        }
    }
}

#[test]
fn fast_sum_agrees_within_rounding_and_ranks_agree_with_each_other() {
    let config = config(32, sgd());
    let (single, _) = train(config.clone(), Some(Sharding::local(8).unwrap()));
    let runs = train_on_ranks(4, 8, CombineMode::FastSum, config);
    let single = bits(&single);
    for (weights, _) in &runs {
        assert_eq!(weights, &runs[0].0, "every rank applies the same update");
    }
    let largest = single
        .iter()
        .zip(&runs[0].0)
        .map(|(&a, &b)| {
            let (a, b) = (f32::from_bits(a), f32::from_bits(b));
            (a - b).abs() / a.abs().max(b.abs()).max(1e-2)
        })
        .fold(0.0, f32::max);
    assert!(largest < 1e-5, "fast sum against the tree: {largest}");
}
