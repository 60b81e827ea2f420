//! Running a benchmark. Each epoch is a fresh permutation, a row gather per batch, forward,
//! backward and update, all timed ([`Trainer::fit`]'s per-epoch seconds); one warm-up epoch
//! comes first and is reported apart. Throughput is samples/s per epoch and their median;
//! GFLOP/s = samples/s × [FLOPs per sample](BenchSpec::flops_per_sample), less the multiply-adds
//! the first layer skipped on zero inputs when it took the sparse path
//! ([`backprop::sparse_input`]; off with `--dense-input`), averaged over the run's samples: the
//! FLOPs done. Inference takes the same path, and counts the same way. The fraction of peak
//! divides by [`sgemm_peak_gflops`] measured in the same process and thread pool.

use super::data;
use super::measure::{latency, median, peak_memory_bytes, process_cpu_seconds};
use super::report::BenchReport;
use super::spec::{BenchConfig, BenchSpec};
use backprop::train::{Sharding, Trainer, TrainingConfig, TrainingEvent};
use backprop::{Error, Matrix, Network, Result};
use backprop_tensor::peak::sgemm_peak_gflops;
use std::time::Instant;

/// Side of the square matrices the sgemm peak is measured on.
pub const PEAK_SIZE: usize = 1024;
/// Single-row forward calls timed per latency figure.
pub const LATENCY_CALLS: usize = 2000;

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
    let mut network = spec.network_config().with_seed(spec.seed).init::<f32>()?;
    let started = Instant::now();
    // Multiply-adds the first layer skipped on zero inputs, and the samples they were over.
    let skipped;
    let (per_epoch, final_loss, data_bytes, data_seconds) = if spec.inference {
        let batches = data::generate_input_batches(spec.rows, spec.batch_size, spec.seed);
        let data_seconds = started.elapsed().as_secs_f64();
        let data_bytes = batches.iter().map(|b| 4 * b.len() as u64).sum();
        network.set_sparse_inference(!spec.dense_input);
        let per_epoch = time_inference(&network, &batches, epochs + 1, &mut cpu_marks);
        skipped = (skipped_in_inference(&network, &batches), spec.rows as u64);
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
        trainer.set_sparse_input(!spec.dense_input);
        if let Some(shards) = spec.shards {
            trainer.set_sharding(Sharding::local(shards)?);
        }
        let history = trainer.fit(&mut network, &data.x, &data.y, None, &mut observer)?;
        let first = network
            .dense_layers()
            .first()
            .map(|d| d.skipped_multiply_adds());
        skipped = (first.unwrap_or(0), (spec.rows * (epochs + 1)) as u64);
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
    // FLOPs done: the skipped multiply-adds (2 FLOPs each) are not counted.
    let flops_per_sample =
        spec.flops_per_sample() - 2.0 * skipped.0 as f64 / skipped.1.max(1) as f64;
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
        sparse_input: skipped.0 > 0,
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

/// Multiply-adds the first layer skips on zero inputs in one forward sweep over `batches`.
fn skipped_in_inference(network: &Network<f32>, batches: &[Matrix<f32>]) -> u64 {
    let Some(first) = network.dense_layers().first().copied() else {
        return 0;
    };
    if network.feature_count() > 0 || !first.sparse_inference() {
        return 0;
    }
    let units = first.weight.rows() as u64;
    batches
        .iter()
        .filter(|&batch| backprop::sparse_input::takes_sparse_path(batch.into()))
        .map(|batch| batch.as_slice().iter().filter(|&&v| v == 0.0).count() as u64 * units)
        .sum()
}

/// Samples/s of each of `epochs` forward sweeps over `batches` (cut before timing, as a framework
/// would slice views of one array).
fn time_inference(
    network: &Network<f32>,
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
    use backprop::optim::SgdConfig;

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
