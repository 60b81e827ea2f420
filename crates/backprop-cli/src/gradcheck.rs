//! `backprop gradcheck`: backprop's gradients against central finite differences, per layer.
//!
//! On a fresh network built from flags (full sizes such as `2,3,1`, activations, cost, seed)
//! and a seeded random batch whose targets fit the cost. Prints, per layer, the largest
//! relative error |g − ĝ| / max(|g| + |ĝ|, 1e-7), the largest absolute difference, and how many
//! parameters were skipped because ±h moved a ReLU pre-activation across 0. Exits 1 when a
//! layer misses the tolerance by more than f64 finite differences can resolve.

use crate::exit::CliError;
use crate::parse::{parse_activation, parse_cost};
use crate::report::say;
use backprop::gradient_check::gradient_check;
use backprop::{Activation, Cost, Matrix, NetworkConfig, SeededRng};
use clap::Args;

/// The absolute difference below which f64 central differences with h = 1e-6 cannot tell a
/// gradient apart from backprop's (rounding in C, ~1e-16·|C|, over 2h, with a wide margin).
pub const RESOLUTION: f64 = 1e-9;

/// Flags of `backprop gradcheck`.
#[derive(Debug, Args)]
pub struct GradcheckArgs {
    /// Full layer sizes, input first, e.g. 2,3,1.
    #[arg(long, value_name = "SIZES", default_value = "2,3,1")]
    pub sizes: String,
    /// Hidden activation.
    #[arg(long, value_name = "NAME", value_parser = parse_activation, default_value = "sigmoid")]
    pub activation: Activation,
    /// Cost (the output activation follows from it).
    #[arg(long, value_name = "NAME", value_parser = parse_cost, default_value = "quadratic")]
    pub cost: Cost,
    /// Output activation [default: the one the cost expects].
    #[arg(long, value_name = "NAME", value_parser = parse_activation)]
    pub output_activation: Option<Activation>,
    /// Examples in the batch.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub batch: u64,
    /// Seed for the weights and the batch.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// The largest relative error accepted.
    #[arg(long, value_name = "F", default_value_t = 1e-6)]
    pub tolerance: f64,
    /// Print one JSON object with the per-layer results on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Parses `2,3,1`.
fn parse_sizes(text: &str) -> Result<Vec<usize>, CliError> {
    let sizes: Result<Vec<usize>, _> = text
        .split(',')
        .map(|part| part.trim().parse::<usize>())
        .collect();
    match sizes {
        Ok(sizes) if sizes.len() >= 2 && sizes.iter().all(|&s| (1..=4096).contains(&s)) => Ok(sizes),
        _ => Err(CliError::usage(format!(
            "--sizes {text:?}: expected at least two layer sizes from 1 to 4096, separated by commas, such as 2,3,1"
        ))),
    }
}

/// Runs `backprop gradcheck`.
pub fn run(arguments: &GradcheckArgs) -> Result<(), CliError> {
    let sizes = parse_sizes(&arguments.sizes)?;
    let output = arguments
        .output_activation
        .unwrap_or_else(|| arguments.cost.natural_output_activation());
    let network = NetworkConfig::new(&sizes, arguments.cost)
        .with_hidden_activation(arguments.activation)
        .with_output_activation(output)
        .with_seed(arguments.seed)
        .init::<f64>()?;
    let rows = arguments.batch as usize;
    let (inputs, outputs) = (sizes[0], sizes[sizes.len() - 1]);
    let mut rng = SeededRng::with_stream(arguments.seed, 7);
    let x = Matrix::<f64>::random_normal(rows, inputs, 0.0, 1.0, &mut rng);
    let y = match arguments.cost {
        Cost::SoftmaxCrossEntropy => Matrix::from_fn(rows, outputs, |i, j| {
            if (i + arguments.seed as usize) % outputs == j {
                1.0
            } else {
                0.0
            }
        }),
        Cost::BinaryCrossEntropy => {
            Matrix::from_fn(
                rows,
                outputs,
                |_, _| if rng.uniform() < 0.5 { 0.0 } else { 1.0 },
            )
        }
        _ => Matrix::random_normal(rows, outputs, 0.0, 1.0, &mut rng),
    };
    let report = gradient_check(&network, &x, &y);
    let passed = report.passed_within_resolution(arguments.tolerance, RESOLUTION);
    if arguments.json {
        let layers: Vec<serde_json::Value> = report
            .layers
            .iter()
            .map(|l| {
                serde_json::json!({
                    "layer": l.index, "max_relative_error": l.max_error, "worst": l.worst,
                    "max_absolute_error": l.max_absolute_error, "checked": l.checked, "skipped": l.skipped,
                })
            })
            .collect();
        let object = serde_json::json!({ "sizes": sizes, "passed": passed, "tolerance": arguments.tolerance, "layers": layers });
        println!("{object}");
    }
    say(format_args!(
        "gradient check of {} ({} hidden, {} output, {} cost) on {rows} random examples, in f64",
        sizes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("-"),
        arguments.activation,
        output,
        arguments.cost
    ));
    for layer in &report.layers {
        say(format_args!(
            "  layers.{}: {:4} checked, {:3} skipped at a kink, largest relative error {:.2e} at {}, largest |g − ĝ| {:.1e}",
            layer.index, layer.checked, layer.skipped, layer.max_error, layer.worst, layer.max_absolute_error
        ));
    }
    if passed {
        say(format_args!("passed: every layer within {:e} (or within f64's resolution, |g − ĝ| < {RESOLUTION:e})", arguments.tolerance));
        Ok(())
    } else {
        Err(CliError::Runtime(format!(
            "gradient check failed: a layer exceeds {:e} relative error",
            arguments.tolerance
        )))
    }
}
