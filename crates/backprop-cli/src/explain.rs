//! `backprop explain`: one training step told in numbers and words.
//!
//! - **No arguments**: the company network ([`CompanyExample`]): 2 salespeople, 3 managers,
//!   1 CEO, one sale, one step. `--seed`, `--learning-rate`, `--signals A,B` and `--result R`
//!   change the example.
//! - **`--batch`**: XOR's four sales as one batch, each pulling one weight its own way, and
//!   the mean gradient the step uses (`explain_batch`).
//! - **`--steps N`**: N plain gradient-descent steps on XOR's four sales as one batch, the cost
//!   and every weight as they change (`explain_batch`). With `--signals`/`--result` (the
//!   learner asks for one sale) or `--model`: steps on that one example until the prediction
//!   matches (at most N), with a note that one example is fitted at once by any network.
//! - **`--model FILE --input v1,v2,…`**: any model traced for one example. The values are the
//!   network's inputs before scaling (after any one-hot encoding); the model's stored input
//!   scaler is applied. The target is `--target-values …` (for regression in the targets' own
//!   units, mapped through the stored target scaler), or by default the model's own
//!   prediction made definite: one-hot for softmax, 0/1 for sigmoid outputs, rounded to whole
//!   units for regression — so the step shows how the cost would change towards it.
//!
//! - **`--model CONV_MODEL --input @pixels.csv`**: a model with convolutions, δ per feature
//!   map for one example (`explain_conv`).
//!
//! The text is the product, so it goes to stdout, coloured only on a terminal without
//! `NO_COLOR`. `--json` prints the explanation as one JSON object instead; `--html FILE`
//! writes a self-contained page atomically.

use crate::draw::write_text_file;
use crate::exit::CliError;
use crate::model_file::LoadedModel;
use crate::output_file::print_stdout_line;
use crate::report::say;
use backprop::train::Task;
use backprop::{Cost, Matrix, Network};
use backprop_teach::{
    chain_rule, explain_step, explain_steps, render_html, render_steps_html, render_steps_text,
    render_text, unreachable_target, CompanyExample, CompanyRoles, StepsOptions, TextStyle,
    WeightName,
};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

/// The learning rate of a step on a model file when `--learning-rate` is not given.
pub const MODEL_LEARNING_RATE: f64 = 0.1;

/// Flags of `backprop explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// N plain gradient-descent steps on XOR's four sales as one batch, printing the cost and
    /// every weight as they change. With --signals/--result (one sale) or --model (one
    /// example): repeat steps until the prediction matches the target, at most N of them.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub steps: Option<u64>,
    /// Seed of the company network's random start [default: 7].
    #[arg(long, value_name = "N", conflicts_with = "model")]
    pub seed: Option<u64>,
    /// The learning rate η [default: 2 for the company, 0.1 for a model].
    #[arg(long, value_name = "ETA", allow_negative_numbers = true)]
    pub learning_rate: Option<f64>,
    /// What the two salespeople signal [default: 1,0.5].
    #[arg(
        long,
        value_name = "A,B",
        conflicts_with = "model",
        allow_hyphen_values = true
    )]
    pub signals: Option<String>,
    /// The known result of the sale [default: 1].
    #[arg(
        long,
        value_name = "R",
        conflicts_with = "model",
        allow_negative_numbers = true
    )]
    pub result: Option<f64>,
    /// A model file to trace instead of the company network (needs --input).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// With --model: one example's input values, before the model's scaling, or @FILE to read
    /// them from a file (separated by commas, spaces or line breaks; an image in (C, H, W)
    /// order).
    #[arg(
        long,
        value_name = "V1,V2,…",
        requires = "model",
        allow_hyphen_values = true
    )]
    pub input: Option<String>,
    /// With --model: the target outputs (regression: in the targets' units) [default: the
    /// model's own prediction, one-hot or rounded].
    #[arg(
        long,
        value_name = "V1,V2,…",
        requires = "model",
        allow_hyphen_values = true
    )]
    pub target_values: Option<String>,
    /// Write out the chain rule for one weight, named as in the model file (0-based), such as
    /// layers.1.weight[0,1] (the CEO's weight on manager 2's report).
    #[arg(long, value_name = "NAME", conflicts_with = "steps")]
    pub weight: Option<String>,
    /// A batch instead of one sale: XOR's four sales, each pulling one weight (--weight, or
    /// the one they disagree on most) its own way, and the mean gradient the batch step uses.
    /// With --steps N: N plain gradient-descent steps on the whole batch instead.
    #[arg(long, conflicts_with_all = ["model", "signals", "result", "html"])]
    pub batch: bool,
    /// Print the explanation as one JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML page with the explanation and its diagrams.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Parses `1,0.5` into finite numbers; `flag` names the option in the message.
pub fn parse_values(flag: &str, text: &str) -> Result<Vec<f64>, CliError> {
    crate::parse::parse_finite_numbers(text).ok_or_else(|| {
        CliError::usage(format!(
            "{flag} {text:?}: expected finite numbers separated by commas, such as 1,0.5"
        ))
    })
}

/// `--input`'s values: inline (`0.5,1`), or `@FILE` for a file of numbers separated by commas,
/// spaces or line breaks (an image's pixels, say).
fn input_values(text: &str) -> Result<Vec<f64>, CliError> {
    let Some(path) = text.strip_prefix('@') else {
        return parse_values("--input", text);
    };
    // A file that is not there is bad input (exit 2), as a missing --data file is.
    let content = std::fs::read_to_string(path)
        .map_err(|error| CliError::usage(format!("--input {path}: cannot read: {error}")))?;
    let mut values = Vec::new();
    for (line_number, line) in content.lines().enumerate() {
        for field in line
            .split([',', ' ', '\t'])
            .filter(|f| !f.trim().is_empty())
        {
            match field.trim().parse::<f64>() {
                Ok(value) if value.is_finite() => values.push(value),
                _ => {
                    return Err(CliError::usage(format!(
                        "--input {path}: line {}: {field:?} is not a finite number",
                        line_number + 1
                    )))
                }
            }
        }
    }
    if values.is_empty() {
        return Err(CliError::usage(format!(
            "--input {path}: the file holds no numbers"
        )));
    }
    Ok(values)
}

/// The model's input scaler applied to one raw input row, which must fit the network.
pub fn scaled_input(loaded: &LoadedModel, values: &[f64]) -> Result<Vec<f64>, CliError> {
    let width = loaded.input_width();
    if values.len() != width {
        return Err(CliError::usage(format!(
            "--input: {} takes {width} input values, got {}",
            loaded.name(),
            values.len()
        )));
    }
    let row = Matrix::from_fn(1, width, |_, column| values[column]);
    let scaled = match &loaded.model.metadata.preprocessing.input_scaler {
        Some(scaler) if scaler.width() == width => scaler.transform(&row),
        Some(_) => {
            return Err(CliError::usage(format!(
                "{}: the stored input scaler does not fit the network",
                loaded.name()
            )))
        }
        None => row,
    };
    Ok(scaled.row(0).to_vec())
}

/// What one run explains: the network, the example, the learning rate and how to name units.
struct Subject {
    network: Network<f64>,
    input: Vec<f64>,
    target: Vec<f64>,
    learning_rate: f64,
    roles: Option<CompanyRoles>,
}

/// The company example with the flags' changes.
fn company_subject(arguments: &ExplainArgs) -> Result<Subject, CliError> {
    let mut example = CompanyExample::default();
    if let Some(seed) = arguments.seed {
        example.seed = seed;
    }
    if let Some(rate) = arguments.learning_rate {
        example.learning_rate = rate;
    }
    if let Some(text) = &arguments.signals {
        match parse_values("--signals", text)?.as_slice() {
            &[first, second] => example.signals = [first, second],
            _ => {
                return Err(CliError::usage(format!(
                    "--signals {text:?}: the company has two salespeople; give two numbers, such as 1,0.5"
                )))
            }
        }
    }
    if let Some(result) = arguments.result {
        if !result.is_finite() {
            return Err(CliError::usage("--result: expected a finite number"));
        }
        example.result = result;
    }
    Ok(Subject {
        network: example.network(),
        input: example.signals.to_vec(),
        target: vec![example.result],
        learning_rate: example.learning_rate,
        roles: Some(example.roles()),
    })
}

/// The model's own prediction made definite: one-hot, 0/1, or rounded in the targets' units.
fn default_target(loaded: &LoadedModel, network: &Network<f64>, prediction: &[f64]) -> Vec<f64> {
    match network.cost() {
        Cost::SoftmaxCrossEntropy => {
            let best = prediction
                .iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |(best, largest), (unit, &value)| {
                    if value > largest {
                        (unit, value)
                    } else {
                        (best, largest)
                    }
                })
                .0;
            (0..prediction.len())
                .map(|unit| if unit == best { 1.0 } else { 0.0 })
                .collect()
        }
        Cost::BinaryCrossEntropy => prediction
            .iter()
            .map(|&value| if value >= 0.5 { 1.0 } else { 0.0 })
            .collect(),
        _ if loaded.task == Task::Classification => prediction
            .iter()
            .map(|&value| value.round().clamp(0.0, 1.0))
            .collect(),
        _ => {
            let row = Matrix::from_fn(1, prediction.len(), |_, column| prediction[column]);
            match &loaded.model.metadata.preprocessing.target_scaler {
                Some(scaler) if scaler.width() == prediction.len() => {
                    let units = scaler.inverse_transform(&row);
                    let rounded = Matrix::from_fn(1, prediction.len(), |_, column| {
                        units[(0, column)].round()
                    });
                    scaler.transform(&rounded).row(0).to_vec()
                }
                _ => prediction.iter().map(|value| value.round()).collect(),
            }
        }
    }
}

/// A model file traced for the example given by `--input` (and `--target-values`).
fn model_subject(arguments: &ExplainArgs, path: &std::path::Path) -> Result<Subject, CliError> {
    let loaded = LoadedModel::load(path)?;
    if loaded.model.network.feature_count() == 0 {
        loaded.require_plain_numbering("explain")?;
    }
    let text = arguments.input.as_deref().ok_or_else(|| {
        CliError::usage(format!(
            "explain --model needs --input with one example's {} values, such as --input {}",
            loaded.input_width(),
            vec!["0"; loaded.input_width().min(4)].join(",")
        ))
    })?;
    let input = scaled_input(&loaded, &input_values(text)?)?;
    let network: Network<f64> = loaded.model.network.cast::<f64>();
    let learning_rate = arguments.learning_rate.unwrap_or(MODEL_LEARNING_RATE);
    let outputs = loaded.output_width();
    let target = match &arguments.target_values {
        Some(text) => {
            let values = parse_values("--target-values", text)?;
            if values.len() != outputs {
                return Err(CliError::usage(format!(
                    "--target-values: {} has {outputs} outputs, got {} values",
                    loaded.name(),
                    values.len()
                )));
            }
            match &loaded.model.metadata.preprocessing.target_scaler {
                Some(scaler) if loaded.task == Task::Regression && scaler.width() == outputs => {
                    let row = Matrix::from_fn(1, outputs, |_, column| values[column]);
                    scaler.transform(&row).row(0).to_vec()
                }
                _ => values,
            }
        }
        None => {
            let probe = explain_step(&network, &input, &vec![0.0; outputs], learning_rate)?;
            let target = default_target(&loaded, &network, &probe.output.prediction);
            say(format_args!(
                "target: {target:?} (the model's own prediction made definite; \
                 give --target-values to choose)"
            ));
            target
        }
    };
    // A 2-3-1 model is the company network's shape: name its units by their roles.
    let roles = (network.config().sizes == [2, 3, 1]).then(CompanyRoles::company);
    Ok(Subject {
        network,
        input,
        target,
        learning_rate,
        roles,
    })
}

/// Runs `backprop explain`.
pub fn run(arguments: &ExplainArgs) -> Result<(), CliError> {
    let weight = match &arguments.weight {
        Some(name) => Some(
            WeightName::parse(name)
                .map_err(|message| CliError::usage(format!("--weight {message}")))?,
        ),
        None => None,
    };
    // Steps on one sale teach the mechanics, not learning: unless the learner asks for one
    // sale (or traces a model), `--steps` trains the company on XOR's four sales.
    let one_sale_asked = arguments.signals.is_some() || arguments.result.is_some();
    if arguments.batch
        || (arguments.steps.is_some() && arguments.model.is_none() && !one_sale_asked)
    {
        return crate::explain_batch::run(arguments, weight);
    }
    let subject = match &arguments.model {
        Some(path) => model_subject(arguments, path)?,
        None => company_subject(arguments)?,
    };
    if subject.network.feature_count() > 0 {
        return crate::explain_conv::run(
            arguments,
            &subject.network,
            &subject.input,
            &subject.target,
        );
    }
    if let Some(warning) = unreachable_target(&subject.network, &subject.target) {
        let flag = if arguments.model.is_some() {
            "--target-values"
        } else {
            "--result"
        };
        say(format_args!("warning: {flag}: {warning}"));
    }
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let style = TextStyle {
        colour,
        roles: subject.roles.clone(),
    };
    match arguments.steps {
        Some(count) => {
            let options = StepsOptions {
                max_steps: usize::try_from(count).unwrap_or(usize::MAX),
                ..StepsOptions::default()
            };
            let steps = explain_steps(
                &subject.network,
                &subject.input,
                &subject.target,
                subject.learning_rate,
                &options,
            )?;
            if let Some(path) = &arguments.html {
                write_text_file(path, &render_steps_html(&steps, subject.roles.as_ref()))?;
            }
            if arguments.json {
                print_stdout_line(steps.to_json())
            } else {
                print_stdout_line(render_steps_text(&steps, &style).trim_end())
            }
        }
        None => {
            let explanation = explain_step(
                &subject.network,
                &subject.input,
                &subject.target,
                subject.learning_rate,
            )?;
            let chain = match weight {
                Some(weight) => Some(
                    chain_rule(&explanation, weight, subject.roles.as_ref())
                        .map_err(|message| CliError::usage(format!("--weight {message}")))?,
                ),
                None => None,
            };
            if let Some(path) = &arguments.html {
                write_text_file(path, &render_html(&explanation, subject.roles.as_ref()))?;
            }
            if let Some(chain) = chain {
                return if arguments.json {
                    print_stdout_line(serde_json::to_value(&chain).map_err(|error| {
                        CliError::Runtime(format!("--weight: cannot write JSON: {error}"))
                    })?)
                } else {
                    print_stdout_line(&chain.text)
                };
            }
            if arguments.json {
                print_stdout_line(explanation.to_json())
            } else {
                print_stdout_line(render_text(&explanation, &style).trim_end())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_and_bad_ones_are_usage_errors() {
        assert_eq!(
            parse_values("--input", "1, 0.5,-2").unwrap(),
            [1.0, 0.5, -2.0]
        );
        for bad in ["", "1,,2", "a", "1,nan", "inf"] {
            assert_eq!(parse_values("--input", bad).unwrap_err().exit_code(), 2);
        }
    }
}
