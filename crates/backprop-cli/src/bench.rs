//! `backprop bench`: training and inference throughput on synthetic MNIST-shaped data.
//!
//! The flags pick one of the named configurations the peers were measured on (`a`, `b-sgd-32`,
//! `b-sgd-256`, `b-adam-32`, `infer-b`; [`spec`]), or any shape, batch size and optimiser; the
//! harness ([`run`](mod@run)) trains on synthetic data ([`data`]) and measures ([`measure`]).
//! It runs one untimed warm-up epoch and then `--epochs` timed ones, and prints samples/s (the
//! median over the timed epochs), GFLOP/s, and the fraction of an sgemm peak that it measures
//! in the same thread pool just before. `--json` prints one JSON object on stdout instead,
//! whose `samples_per_second` is that median.

mod data;
mod measure;
mod report;
mod run;
mod spec;

use crate::args::OptimizerKind;
use crate::exit::CliError;
use crate::optimizer::{default_learning_rate, optimizer_config};
use crate::output_file::print_stdout_line;
use crate::parse::{parse_activation, parse_layers, HiddenLayers};
use backprop::Activation;
use clap::Args;
use report::BenchReport;
use run::run;
use serde_json::{json, Value};
use spec::{BenchConfig, BenchSpec};

/// Flags of `backprop bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A named configuration: a (784-30-10 sigmoid, SGD 0.5, batch 10), b-sgd-32, b-sgd-256,
    /// b-adam-32 (784-128-64-10 ReLU, softmax cross-entropy) or infer-b (B's forward pass at
    /// batch 1000 and single-example latencies) [default: b-sgd-32]. The flags below change it.
    #[arg(long, value_name = "NAME", value_parser = parse_config)]
    pub config: Option<BenchConfig>,

    /// Hidden layers between the 784 inputs and the 10 classes, such as 128,64.
    #[arg(long, value_name = "WIDTHS", value_parser = parse_layers)]
    pub layers: Option<HiddenLayers>,

    /// Examples per training step (per forward call for infer-b).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch_size: Option<u64>,

    /// The optimiser [default: the configuration's].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,

    /// Learning rate [default: the configuration's, or the optimiser's default].
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub learning_rate: Option<f64>,

    /// Hidden activation [default: the configuration's].
    #[arg(long, value_name = "NAME", value_parser = parse_activation)]
    pub activation: Option<Activation>,

    /// Rows of synthetic data per epoch.
    #[arg(long, value_name = "N", default_value_t = 60_000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub rows: u64,

    /// Worker threads.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub threads: u64,

    /// Timed epochs, after one untimed warm-up epoch.
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub epochs: u64,

    /// Train on S shards per batch summed over a fixed tree, the path `backprop train --shards
    /// S` and data-parallel (mpirun) runs take [default: the plain path].
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub shards: Option<u64>,

    /// Multiply every input value in the first layer, zeros included, in training and in
    /// infer-b's forward passes. By default a batch that is mostly zeros (the synthetic images
    /// are 16 % non-zero) goes through its non-zeros only, and GFLOP/s counts the multiply-adds
    /// done.
    #[arg(long)]
    pub dense_input: bool,

    /// Print one JSON object with the figures on stdout instead of the text report.
    #[arg(long)]
    pub json: bool,
}

fn parse_config(text: &str) -> Result<BenchConfig, String> {
    text.parse()
}

/// Runs `backprop bench`.
pub fn run_command(arguments: &BenchArgs) -> Result<(), CliError> {
    let config = bench_config(arguments)?;
    let threads = usize::try_from(arguments.threads).unwrap_or(usize::MAX);
    let epochs = usize::try_from(arguments.epochs).unwrap_or(usize::MAX);
    let report = run(&config, threads, epochs)?;
    if arguments.json {
        print_stdout_line(report_json(&report))
    } else {
        print_stdout_line(&report)
    }
}

/// The named configuration with the flags applied: any change of shape, batch, optimiser or
/// activation makes it a custom run (and infer-b's latencies are then left out); `--rows`
/// alone keeps the name.
fn bench_config(arguments: &BenchArgs) -> Result<BenchConfig, CliError> {
    let named = arguments.config.clone().unwrap_or(BenchConfig::BSgd32);
    let mut spec: BenchSpec = named.spec();
    let mut changed = false;
    if let Some(HiddenLayers(hidden, image, dropout)) = &arguments.layers {
        if !image.is_empty() || !dropout.is_empty() {
            return Err(CliError::usage(format!(
                "bench --layers takes dense widths only, not {:?}",
                image.first().map_or("dropout", String::as_str)
            )));
        }
        let (input, output) = (spec.sizes[0], spec.sizes[spec.sizes.len() - 1]);
        spec.sizes = std::iter::once(input)
            .chain(hidden.iter().copied())
            .chain(std::iter::once(output))
            .collect();
        changed = true;
    }
    if let Some(batch_size) = arguments.batch_size {
        spec.batch_size = usize::try_from(batch_size).unwrap_or(usize::MAX);
        changed = true;
    }
    if let Some(activation) = arguments.activation {
        spec.hidden_activation = activation;
        changed = true;
    }
    if arguments.optimizer.is_some() || arguments.learning_rate.is_some() {
        if spec.inference {
            return Err(CliError::usage(
                "--optimizer and --learning-rate do not apply to infer-b, which only runs forward passes",
            ));
        }
        let kind = arguments.optimizer.unwrap_or(match spec.optimizer {
            backprop::optim::OptimizerConfig::Adam(_) => OptimizerKind::Adam,
            _ => OptimizerKind::Sgd,
        });
        let learning_rate = arguments.learning_rate.unwrap_or_else(|| {
            if arguments.optimizer.is_none() {
                spec.optimizer.learning_rate()
            } else {
                default_learning_rate(kind)
            }
        });
        spec.optimizer = optimizer_config(
            kind,
            learning_rate,
            crate::optimizer::OptimizerFlags::default(),
        )?;
        changed = true;
    }
    let rows = usize::try_from(arguments.rows).unwrap_or(usize::MAX);
    if rows == spec.rows && !changed && arguments.shards.is_none() && !arguments.dense_input {
        return Ok(named);
    }
    if arguments.dense_input {
        spec.dense_input = true;
        if !changed {
            spec.name = format!("{} --dense-input", spec.name);
        }
    }
    if let Some(shards) = arguments.shards {
        if spec.inference {
            return Err(CliError::usage(
                "--shards does not apply to infer-b, which only runs forward passes",
            ));
        }
        spec.shards = Some(usize::try_from(shards).unwrap_or(usize::MAX));
        if !changed {
            spec.name = format!("{} --shards {shards}", spec.name);
        }
    }
    spec.rows = rows;
    if rows < spec.batch_size {
        return Err(CliError::usage(format!(
            "--batch-size {} is larger than the {rows} rows of data (--rows)",
            spec.batch_size
        )));
    }
    if changed {
        spec.name = format!("custom ({})", describe(&spec));
        // Latencies belong to infer-b's own network.
        spec.latencies = false;
    }
    Ok(BenchConfig::Custom(spec))
}

/// `784-128-64-10 relu, batch 32` for reports of custom runs.
fn describe(spec: &BenchSpec) -> String {
    let sizes: Vec<String> = spec.sizes.iter().map(usize::to_string).collect();
    format!(
        "{} {}, batch {}",
        sizes.join("-"),
        spec.hidden_activation,
        spec.batch_size
    )
}

/// The report as one JSON object; fractions in [0, 1].
fn report_json(report: &BenchReport) -> Value {
    let latencies: Vec<Value> = report
        .latencies
        .iter()
        .map(|l| {
            json!({
                "sizes": l.sizes,
                "median_seconds": l.median_seconds,
                "p10_seconds": l.p10_seconds,
                "p90_seconds": l.p90_seconds,
                "calls": l.calls,
            })
        })
        .collect();
    json!({
        "name": report.name,
        "threads": report.threads,
        "batch_size": report.batch_size,
        "rows": report.rows,
        "samples_per_second": report.samples_per_second,
        "epoch_samples_per_second": report.epoch_samples_per_second,
        "warmup_samples_per_second": report.warmup_samples_per_second,
        "epoch_samples_per_cpu_second": report.epoch_samples_per_cpu_second,
        "flops_per_sample": report.flops_per_sample,
        "sparse_input": report.sparse_input,
        "gflops": report.gflops,
        "gemm_peak_gflops": report.gemm_peak_gflops,
        "fraction_of_peak": report.fraction_of_peak,
        "peak_memory_bytes": report.peak_memory_bytes,
        "data_bytes": report.data_bytes,
        "data_seconds": report.data_seconds,
        "final_loss": report.final_loss,
        "latencies": latencies,
    })
}
