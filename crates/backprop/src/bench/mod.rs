//! Throughput benchmarks on synthetic MNIST-shaped data: the workloads of issue 4, measured the
//! way `shared/bench/peers.md` measured the peers.
//!
//! - **A** (Nielsen): 784-30-10, sigmoid everywhere, binary cross-entropy summed per output, plain
//!   SGD η = 0.5, batch 10.
//! - **B**: 784-128-64-10, ReLU, softmax cross-entropy; SGD η = 0.1 at batch 32 and 256, Adam
//!   η = 1e-3 at batch 32.
//! - **infer-b**: B's forward pass at batch 1000 over the inputs, plus the single-example latency
//!   of B and of a 4-64-64-2 network.
//!
//! Each epoch is a fresh permutation, a row gather per batch, forward, backward and update, all
//! timed ([`Trainer::fit`]'s per-epoch seconds); one warm-up epoch comes first and is reported
//! apart. Throughput is samples/s per epoch and their median; GFLOP/s = samples/s × FLOPs per
//! sample, where a training step needs 2·in·out per layer forward, 2·in·out per layer for ∂C/∂W
//! and 2·in·out per layer after the first for ∂C/∂X (B: 454,400; A: 95,880), and inference
//! the forward part alone. The fraction of peak divides by [`sgemm_peak_gflops`] measured in the
//! same process and thread pool.

pub mod data;
pub mod measure;
mod report;

pub use report::BenchReport;

use crate::optim::{AdamConfig, OptimizerConfig, SgdConfig};
use crate::train::{Trainer, TrainingConfig, TrainingEvent};
use crate::{Activation, Cost, Error, Matrix, NetworkConfig, Result};
use backprop_tensor::peak::sgemm_peak_gflops;
use measure::{latency, median, peak_memory_bytes, process_cpu_seconds};
use std::str::FromStr;
use std::time::Instant;

/// Rows of synthetic data, as MNIST's training set.
pub const ROWS: usize = 60_000;
/// Side of the square matrices the sgemm peak is measured on.
pub const PEAK_SIZE: usize = 1024;
/// Single-row forward calls timed per latency figure.
pub const LATENCY_CALLS: usize = 2000;

/// A named benchmark of issue 4, or a custom one.
#[derive(Clone, Debug, PartialEq)]
pub enum BenchConfig {
    /// 784-30-10 sigmoid, binary cross-entropy, SGD η = 0.5, batch 10.
    A,
    /// 784-128-64-10 ReLU, softmax cross-entropy, SGD η = 0.1, batch 32.
    BSgd32,
    /// As `BSgd32` at batch 256.
    BSgd256,
    /// As `BSgd32` with Adam η = 1e-3.
    BAdam32,
    /// B's forward pass at batch 1000, and single-example latencies.
    InferB,
    /// Any other shape, batch size or optimiser.
    Custom(BenchSpec),
}

impl BenchConfig {
    /// The names [`FromStr`] accepts.
    pub const NAMES: [&'static str; 5] = ["a", "b-sgd-32", "b-sgd-256", "b-adam-32", "infer-b"];

    /// What to run.
    pub fn spec(&self) -> BenchSpec {
        let b = |name: &str, batch_size, optimizer| BenchSpec {
            name: name.to_string(),
            ..BenchSpec::custom(&[128, 64], batch_size, optimizer)
        };
        let sgd = |rate| OptimizerConfig::Sgd(SgdConfig::new().with_learning_rate(rate));
        match self {
            BenchConfig::A => BenchSpec {
                name: "a".into(),
                sizes: vec![784, 30, 10],
                hidden_activation: Activation::Sigmoid,
                cost: Cost::BinaryCrossEntropy,
                ..BenchSpec::custom(&[30], 10, sgd(0.5))
            },
            BenchConfig::BSgd32 => b("b-sgd-32", 32, sgd(0.1)),
            BenchConfig::BSgd256 => b("b-sgd-256", 256, sgd(0.1)),
            BenchConfig::BAdam32 => b("b-adam-32", 32, AdamConfig::new().into()),
            BenchConfig::InferB => BenchSpec {
                inference: true,
                latencies: true,
                ..b("infer-b", 1000, sgd(0.1))
            },
            BenchConfig::Custom(spec) => spec.clone(),
        }
    }
}

impl FromStr for BenchConfig {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "a" => Ok(BenchConfig::A),
            "b-sgd-32" => Ok(BenchConfig::BSgd32),
            "b-sgd-256" => Ok(BenchConfig::BSgd256),
            "b-adam-32" => Ok(BenchConfig::BAdam32),
            "infer-b" => Ok(BenchConfig::InferB),
            _ => Err(format!(
                "unknown benchmark '{text}' (expected {})",
                Self::NAMES.join(", ")
            )),
        }
    }
}

/// Everything that defines a benchmark run.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchSpec {
    /// A label for reports.
    pub name: String,
    /// Layer sizes, 784 inputs first and 10 classes last.
    pub sizes: Vec<usize>,
    /// The hidden layers' activation (the output's follows from the cost).
    pub hidden_activation: Activation,
    /// The cost.
    pub cost: Cost,
    /// The optimiser.
    pub optimizer: OptimizerConfig,
    /// Examples per step (per forward call for inference).
    pub batch_size: usize,
    /// Forward passes only, no training.
    pub inference: bool,
    /// Also time single-example forward passes of these sizes and of a 4-64-64-2 network.
    pub latencies: bool,
    /// Rows of synthetic data.
    pub rows: usize,
    /// Seed of the data, the initial weights and the shuffles.
    pub seed: u64,
    /// Train on S shards per batch summed over the fixed tree ([`crate::train::Sharding`]), as
    /// a data-parallel run does; `None` is the plain (fused) path.
    pub shards: Option<usize>,
}

impl BenchSpec {
    /// A training benchmark with these hidden layers between 784 inputs and 10 classes: ReLU,
    /// softmax cross-entropy, [`ROWS`] rows, seed 1.
    pub fn custom(hidden: &[usize], batch_size: usize, optimizer: OptimizerConfig) -> Self {
        let mut sizes = vec![data::SIDE * data::SIDE];
        sizes.extend_from_slice(hidden);
        sizes.push(data::CLASSES);
        Self {
            name: "custom".into(),
            sizes,
            hidden_activation: Activation::Relu,
            cost: Cost::SoftmaxCrossEntropy,
            optimizer,
            batch_size,
            inference: false,
            latencies: false,
            rows: ROWS,
            seed: 1,
            shards: None,
        }
    }

    /// FLOPs per sample: 2·in·out per layer forward; training adds 2·in·out per layer for
    /// ∂C/∂W and per layer after the first for ∂C/∂X.
    pub fn flops_per_sample(&self) -> f64 {
        let products: Vec<f64> = self
            .sizes
            .windows(2)
            .map(|w| 2.0 * (w[0] * w[1]) as f64)
            .collect();
        let forward: f64 = products.iter().sum();
        if self.inference {
            forward
        } else {
            2.0 * forward + products[1..].iter().sum::<f64>()
        }
    }
}

/// Runs `config` on a pool of `threads` threads: one warm-up epoch, then `epochs` timed ones.
pub fn run(config: &BenchConfig, threads: usize, epochs: usize) -> Result<BenchReport> {
    let spec = config.spec();
    if epochs == 0 || spec.batch_size == 0 || spec.rows == 0 {
        return Err(Error::Training(
            "a benchmark needs at least one epoch, one row and a batch size of 1 or more".into(),
        ));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::Training(format!("cannot start {threads} threads: {e}")))?;
    pool.install(|| run_in_pool(&spec, epochs))
}

fn run_in_pool(spec: &BenchSpec, epochs: usize) -> Result<BenchReport> {
    let gemm_peak_gflops = sgemm_peak_gflops(PEAK_SIZE, 5);
    // Process CPU time at the start and at the end of every epoch.
    let mut cpu_marks = vec![process_cpu_seconds()];
    let mut network = NetworkConfig::new(&spec.sizes, spec.cost)
        .with_hidden_activation(spec.hidden_activation)
        .with_seed(spec.seed)
        .init::<f32>()?;
    let started = Instant::now();
    let (per_epoch, final_loss, data_bytes, data_seconds) = if spec.inference {
        let batches = data::generate_input_batches(spec.rows, spec.batch_size, spec.seed);
        let data_seconds = started.elapsed().as_secs_f64();
        let data_bytes = batches.iter().map(|b| 4 * b.len() as u64).sum();
        let per_epoch = time_inference(&network, &batches, epochs + 1, &mut cpu_marks);
        (per_epoch, None, data_bytes, data_seconds)
    } else {
        let data = data::generate(spec.rows, spec.seed);
        let data_seconds = started.elapsed().as_secs_f64();
        let config = TrainingConfig {
            epochs: epochs + 1,
            batch_size: spec.batch_size,
            optimizer: spec.optimizer.clone(),
            seed: spec.seed,
            ..TrainingConfig::default()
        };
        let mut observer = |event: &TrainingEvent<'_>| {
            if let TrainingEvent::Epoch(_) = event {
                cpu_marks.push(process_cpu_seconds());
            }
        };
        let mut trainer = Trainer::new(config)?;
        if let Some(shards) = spec.shards {
            trainer.set_sharding(crate::train::Sharding::local(shards)?);
        }
        let history = trainer.fit(&mut network, &data.x, &data.y, None, &mut observer)?;
        let speeds = history
            .epochs
            .iter()
            .map(|e| spec.rows as f64 / e.seconds)
            .collect();
        let loss = history.last().map(|e| e.train.loss);
        (speeds, loss, data.bytes(), data_seconds)
    };
    let samples_per_second = median(&per_epoch[1..]);
    let epoch_samples_per_cpu_second = cpu_marks
        .windows(2)
        .skip(1)
        .filter_map(|w| Some(spec.rows as f64 / (w[1]? - w[0]?)))
        .collect();
    let flops_per_sample = spec.flops_per_sample();
    let gflops = samples_per_second * flops_per_sample / 1e9;
    let latencies = if spec.latencies {
        vec![
            latency(&spec.sizes, LATENCY_CALLS),
            latency(&[4, 64, 64, 2], LATENCY_CALLS),
        ]
    } else {
        Vec::new()
    };
    Ok(BenchReport {
        name: spec.name.clone(),
        threads: rayon::current_num_threads(),
        batch_size: spec.batch_size,
        rows: spec.rows,
        warmup_samples_per_second: per_epoch[0],
        epoch_samples_per_second: per_epoch[1..].to_vec(),
        samples_per_second,
        epoch_samples_per_cpu_second,
        flops_per_sample,
        gflops,
        gemm_peak_gflops,
        fraction_of_peak: gflops / gemm_peak_gflops,
        peak_memory_bytes: peak_memory_bytes(),
        data_bytes,
        data_seconds,
        final_loss,
        latencies,
    })
}

/// Samples/s of each of `epochs` forward sweeps over `batches` (cut before timing, as a framework
/// would slice views of one array).
fn time_inference(
    network: &crate::Network<f32>,
    batches: &[Matrix<f32>],
    epochs: usize,
    cpu_marks: &mut Vec<Option<f64>>,
) -> Vec<f64> {
    let rows: usize = batches.iter().map(|b| b.rows()).sum();
    (0..epochs)
        .map(|_| {
            let started = Instant::now();
            for batch in batches {
                std::hint::black_box(network.forward(batch));
            }
            let speed = rows as f64 / started.elapsed().as_secs_f64();
            cpu_marks.push(process_cpu_seconds());
            speed
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flops_per_sample_match_the_issue() {
        assert_eq!(BenchConfig::BSgd32.spec().flops_per_sample(), 454_400.0);
        assert_eq!(BenchConfig::A.spec().flops_per_sample(), 95_880.0);
        assert_eq!(BenchConfig::InferB.spec().flops_per_sample(), 218_368.0);
        for name in BenchConfig::NAMES {
            assert_eq!(name.parse::<BenchConfig>().unwrap().spec().name, name);
        }
        assert!("c".parse::<BenchConfig>().is_err());
    }

    #[test]
    fn a_small_run_reports_every_figure() {
        let spec = BenchSpec {
            rows: 600,
            ..BenchSpec::custom(&[16], 32, SgdConfig::new().with_learning_rate(0.1).into())
        };
        let report = run(&BenchConfig::Custom(spec), 2, 2).unwrap();
        assert_eq!(
            (report.threads, report.epoch_samples_per_second.len()),
            (2, 2)
        );
        assert!(report.samples_per_second > 0.0 && report.gemm_peak_gflops > 0.0);
        assert!(report.final_loss.unwrap().is_finite());
        assert!(report.to_string().contains("samples/s"));
    }
}
