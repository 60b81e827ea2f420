//! What a benchmark run measured, and how it prints: samples/s per epoch and their median, the
//! GFLOP/s they make (samples/s × FLOPs per sample) against the sgemm peak measured in the same
//! pool, peak memory next to the data's size, and single-example latencies.

use super::measure::{median, Latency};
use std::fmt;

/// What a benchmark run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    /// The spec's name.
    pub name: String,
    /// Threads in the pool it ran on.
    pub threads: usize,
    /// Examples per step or forward call.
    pub batch_size: usize,
    /// Samples per epoch.
    pub rows: usize,
    /// Samples/s of the untimed warm-up epoch.
    pub warmup_samples_per_second: f64,
    /// Samples/s of each timed epoch.
    pub epoch_samples_per_second: Vec<f64>,
    /// Their median.
    pub samples_per_second: f64,
    /// Samples per second of CPU time (all threads) of each timed epoch, where Linux reports
    /// it: on a shared machine a steadier yardstick than wall time for one thread (rayon's
    /// idle threads spin for a while, so with more threads it undercounts useful work).
    pub epoch_samples_per_cpu_second: Vec<f64>,
    /// FLOPs done per sample: [`BenchSpec::flops_per_sample`](super::spec::BenchSpec::flops_per_sample)
    /// less the first layer's multiply-adds skipped on zero inputs.
    pub flops_per_sample: f64,
    /// True when the first layer took its mostly-zero batches through their non-zeros.
    pub sparse_input: bool,
    /// `samples_per_second × flops_per_sample`, in GFLOP/s.
    pub gflops: f64,
    /// The sgemm peak measured before the run, same pool.
    pub gemm_peak_gflops: f64,
    /// `gflops / gemm_peak_gflops`.
    pub fraction_of_peak: f64,
    /// The process's peak resident memory (Linux), data included.
    pub peak_memory_bytes: Option<u64>,
    /// Bytes of synthetic data (inputs and targets).
    pub data_bytes: u64,
    /// Seconds spent generating the data.
    pub data_seconds: f64,
    /// The last epoch's training loss (training benchmarks).
    pub final_loss: Option<f64>,
    /// Single-example latencies (infer-b).
    pub latencies: Vec<Latency>,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let thousands = |v: f64| format!("{:.0}k", v / 1e3);
        let epochs: Vec<String> = self
            .epoch_samples_per_second
            .iter()
            .map(|&v| thousands(v))
            .collect();
        writeln!(
            f,
            "{} on {} thread(s), batch {}: {} samples/s (median of {} epochs: {}; warm-up {})",
            self.name,
            self.threads,
            self.batch_size,
            thousands(self.samples_per_second),
            epochs.len(),
            epochs.join(" "),
            thousands(self.warmup_samples_per_second)
        )?;
        if !self.epoch_samples_per_cpu_second.is_empty() {
            let per_cpu = median(&self.epoch_samples_per_cpu_second);
            writeln!(f, "  {} samples per CPU-second", thousands(per_cpu))?;
        }
        write!(
            f,
            "  {:.1} GFLOP/s = {:.0} % of the measured sgemm peak {:.1} GFLOP/s",
            self.gflops,
            100.0 * self.fraction_of_peak,
            self.gemm_peak_gflops
        )?;
        if self.sparse_input {
            write!(
                f,
                "\n  the first layer multiplied only its input's non-zeros (FLOPs as done; \
                 --dense-input multiplies every value)"
            )?;
        }
        if let Some(peak) = self.peak_memory_bytes {
            let mib = |b: u64| b as f64 / (1 << 20) as f64;
            let (peak, data) = (mib(peak), mib(self.data_bytes));
            write!(
                f,
                "\n  peak memory {peak:.0} MiB = data {data:.0} MiB + {:.0} MiB",
                peak - data
            )?;
        }
        if let Some(loss) = self.final_loss {
            write!(f, "\n  last epoch's training loss {loss:.4}")?;
        }
        for l in &self.latencies {
            let sizes: Vec<String> = l.sizes.iter().map(|s| s.to_string()).collect();
            write!(
                f,
                "\n  latency {}: median {:.2} µs (p10 {:.2}, p90 {:.2})",
                sizes.join("-"),
                l.median_seconds * 1e6,
                l.p10_seconds * 1e6,
                l.p90_seconds * 1e6
            )?;
        }
        Ok(())
    }
}
