//! `backprop gradcheck`: backprop's gradients against central finite differences, per layer.
//!
//! Two modes:
//! - **A fresh network** built from flags (full sizes such as `2,3,1`, activations, cost,
//!   seed) on a seeded random batch whose targets fit the cost.
//! - **A model file** (`gradcheck MODEL` or `--model MODEL`): its network, on the first
//!   `--batch` rows of `--data DATA` after the model's preprocessing (input scaling, target
//!   encoding and scaling), or without `--data` on seeded random inputs of the model's width
//!   with targets that fit its cost.
//!
//! Prints, per layer, the largest relative error |g − ĝ| / max(|g| + |ĝ|, 1e-7), the largest
//! absolute difference, and how many parameters were skipped because ±h moved a ReLU
//! pre-activation across 0. Exits 1 when a layer misses the tolerance by more than f64 finite
//! differences can resolve.

use crate::exit::CliError;
use crate::labeled_data::{Generate, LabeledData, ModelTargets};
use crate::model_file::{LoadedModel, ModelLocation};
use crate::output_file::print_stdout_line;
use crate::parse::{parse_activation, parse_cost};
use crate::report::{format_architecture, say};
use backprop::gradient_check::gradient_check;
use backprop::{Activation, Cost, Matrix, Network, NetworkConfig, SeededRng};
use backprop_data::TargetColumn;
use clap::Args;

/// The absolute difference below which f64 central differences with h = 1e-6 cannot tell a
/// gradient apart from backprop's, for a cost of order 1 (rounding in C, ~1e-16·|C|, over 2h,
/// with a wide margin). It grows with |C|: the check uses `RESOLUTION · max(1, |C|)`.
pub const RESOLUTION: f64 = 1e-9;

/// Flags of `backprop gradcheck`.
#[derive(Debug, Args)]
pub struct GradcheckArgs {
    /// A model file to check instead of a fresh network.
    #[command(flatten)]
    pub model: ModelLocation,
    /// With a model: labelled data whose first --batch rows are checked (FILE.csv,
    /// mnist:DIR, a built-in name) [default: random rows].
    #[arg(long, value_name = "DATA")]
    pub data: Option<String>,
    /// With a model and CSV --data: the target column(s), by name or 0-based index.
    #[arg(long, value_name = "NAME|INDEX")]
    pub target: Vec<TargetColumn>,
    /// Full layer sizes, input first, e.g. 2,3,1 (fresh network) [default: 2,3,1].
    #[arg(long, value_name = "SIZES")]
    pub sizes: Option<String>,
    /// Hidden activation (fresh network) [default: sigmoid].
    #[arg(long, value_name = "NAME", value_parser = parse_activation)]
    pub activation: Option<Activation>,
    /// Cost, the output activation following from it (fresh network) [default: quadratic].
    #[arg(long, value_name = "NAME", value_parser = parse_cost)]
    pub cost: Option<Cost>,
    /// Output activation (fresh network) [default: the one the cost expects].
    #[arg(long, value_name = "NAME", value_parser = parse_activation)]
    pub output_activation: Option<Activation>,
    /// Examples in the batch.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub batch: u64,
    /// Seed for the weights (fresh network) and the random batch.
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
    crate::parse::parse_layer_sizes(text, 4096).ok_or_else(|| {
        CliError::usage(format!(
            "--sizes {text:?}: expected at least two layer sizes from 1 to 4096, separated by commas, such as 2,3,1"
        ))
    })
}

/// Targets for `rows` examples that fit `cost` over `outputs` units.
fn random_targets(
    cost: Cost,
    rows: usize,
    outputs: usize,
    seed: u64,
    rng: &mut SeededRng,
) -> Matrix<f64> {
    match cost {
        Cost::SoftmaxCrossEntropy => Matrix::from_fn(rows, outputs, |i, j| {
            if (i + seed as usize) % outputs == j {
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
        _ => Matrix::random_normal(rows, outputs, 0.0, 1.0, rng),
    }
}

/// The network under test, the batch, and how to describe them.
struct Subject {
    network: Network<f64>,
    x: Matrix<f64>,
    y: Matrix<f64>,
    what: String,
}

/// A fresh network from the flags.
fn fresh_network(arguments: &GradcheckArgs) -> Result<Subject, CliError> {
    if arguments.data.is_some() || !arguments.target.is_empty() {
        return Err(CliError::usage(
            "--data and --target need a model file: backprop gradcheck MODEL --data DATA",
        ));
    }
    let sizes = parse_sizes(arguments.sizes.as_deref().unwrap_or("2,3,1"))?;
    let cost = arguments.cost.unwrap_or(Cost::Quadratic);
    let output = arguments
        .output_activation
        .unwrap_or_else(|| cost.natural_output_activation());
    let network = NetworkConfig::new(&sizes, cost)
        .with_hidden_activation(arguments.activation.unwrap_or(Activation::Sigmoid))
        .with_output_activation(output)
        .with_seed(arguments.seed)
        .init::<f64>()?;
    let rows = arguments.batch as usize;
    let mut rng = SeededRng::with_stream(arguments.seed, 7);
    let x = Matrix::<f64>::random_normal(rows, sizes[0], 0.0, 1.0, &mut rng);
    let y = random_targets(cost, rows, sizes[sizes.len() - 1], arguments.seed, &mut rng);
    Ok(Subject {
        network,
        x,
        y,
        what: format!("{rows} random examples"),
    })
}

/// A model file's network, on its data or on random rows.
fn model_network(arguments: &GradcheckArgs) -> Result<Subject, CliError> {
    if arguments.sizes.is_some()
        || arguments.activation.is_some()
        || arguments.cost.is_some()
        || arguments.output_activation.is_some()
    {
        return Err(CliError::usage(
            "--sizes, --activation, --cost and --output-activation build a fresh network; a model file brings its own",
        ));
    }
    let model = LoadedModel::load(arguments.model.path("gradcheck")?)?;
    let network = model.model.network.cast::<f64>();
    let rows = arguments.batch as usize;
    let outputs = network.output_width();
    let Some(data) = &arguments.data else {
        let mut rng = SeededRng::with_stream(arguments.seed, 7);
        let x = Matrix::<f64>::random_normal(rows, network.input_width(), 0.0, 1.0, &mut rng);
        let y = random_targets(network.cost(), rows, outputs, arguments.seed, &mut rng);
        let what = format!("{rows} random examples (inputs as after scaling)");
        return Ok(Subject {
            network,
            x,
            y,
            what,
        });
    };
    let generate = Generate {
        samples: 500,
        noise: 0.0,
        seed: arguments.seed,
    };
    let mut labeled = LabeledData::open(data, &model, &arguments.target, &generate)?;
    let chunk = labeled
        .next_chunk(rows)?
        .ok_or_else(|| CliError::usage(format!("--data {data}: no rows")))?;
    let preprocessing = &model.model.metadata.preprocessing;
    let features = match &preprocessing.input_scaler {
        Some(scaler) => scaler.transform(&chunk.features),
        None => chunk.features,
    };
    let single_unit = model.single_unit_binary();
    let y = match chunk.targets {
        ModelTargets::Classes(labels) if single_unit => {
            Matrix::from_fn(labels.len(), 1, |row, _| labels[row] as f64)
        }
        ModelTargets::Classes(labels) => Matrix::from_fn(labels.len(), outputs, |row, class| {
            if labels[row] == class {
                1.0
            } else {
                0.0
            }
        }),
        ModelTargets::Values(values) => match &preprocessing.target_scaler {
            Some(scaler) => scaler.transform(&values).cast(),
            None => values.cast(),
        },
    };
    let what = format!(
        "the first {} rows of {}",
        features.rows(),
        labeled.description
    );
    Ok(Subject {
        network,
        x: features.cast(),
        y,
        what,
    })
}

/// Runs `backprop gradcheck`.
pub fn run(arguments: &GradcheckArgs) -> Result<(), CliError> {
    let model_given = arguments.model.positional.is_some() || arguments.model.flag.is_some();
    let subject = if model_given {
        model_network(arguments)?
    } else {
        fresh_network(arguments)?
    };
    let config = subject.network.config();
    let sizes = config.sizes.clone();
    let report = gradient_check(&subject.network, &subject.x, &subject.y);
    let cost = subject.network.loss(&subject.x, &subject.y);
    let resolution = RESOLUTION * cost.abs().max(1.0);
    let passed = report.passed_within_resolution(arguments.tolerance, resolution);
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
        let mut object = serde_json::json!({ "sizes": sizes, "passed": passed, "tolerance": arguments.tolerance, "layers": layers });
        if let Some(path) = arguments
            .model
            .flag
            .as_ref()
            .or(arguments.model.positional.as_ref())
        {
            object["model"] = serde_json::json!(path.display().to_string());
        }
        print_stdout_line(object)?;
    }
    let activations = &config.activations;
    let hidden = match activations.len() {
        0 | 1 => "no".to_string(),
        _ => activations[0].to_string(),
    };
    let output = activations
        .last()
        .map_or(String::new(), ToString::to_string);
    say(format_args!(
        "gradient check of {} ({hidden} hidden, {output} output, {} cost) on {}, in f64",
        format_architecture(config),
        config.cost,
        subject.what
    ));
    for layer in &report.layers {
        say(format_args!(
            "  layers.{}: {:4} checked, {:3} skipped at a kink, largest relative error {:.2e} at {}, largest |g − ĝ| {:.1e}",
            layer.index, layer.checked, layer.skipped, layer.max_error, layer.worst, layer.max_absolute_error
        ));
    }
    if passed {
        say(format_args!("passed: every layer within {:e} (or within f64's resolution at C = {cost:.3}, |g − ĝ| < {resolution:.1e})", arguments.tolerance));
        Ok(())
    } else {
        Err(CliError::Runtime(format!(
            "gradient check failed: a layer exceeds {:e} relative error",
            arguments.tolerance
        )))
    }
}
