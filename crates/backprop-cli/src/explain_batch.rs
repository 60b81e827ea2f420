//! `backprop explain --batch`: the company network on XOR's four sales as one batch. Each sale
//! alone would pull a weight its own way; the batch step takes the mean of their gradients.
//! The weight is `--weight`, or by default the one the sales disagree on most (the largest
//! smaller side of the up and down pulls).

use crate::exit::CliError;
use crate::output_file::print_stdout_line;
use backprop::Matrix;
use backprop_teach::{batch_pull, BatchPull, CompanyExample, WeightName};

use crate::explain::ExplainArgs;

/// XOR's truth table: two salespeople's signals and the customer's verdict.
const SALES: [([f64; 2], f64); 4] = [
    ([0.0, 0.0], 0.0),
    ([0.0, 1.0], 1.0),
    ([1.0, 0.0], 1.0),
    ([1.0, 1.0], 0.0),
];

/// How strongly the sales disagree on a weight: the smaller of the summed up and down pulls.
fn disagreement(pull: &BatchPull) -> f64 {
    let up: f64 = pull.examples.iter().map(|e| (-e.gradient).max(0.0)).sum();
    let down: f64 = pull.examples.iter().map(|e| e.gradient.max(0.0)).sum();
    up.min(down)
}

/// Runs `backprop explain --batch`.
pub fn run(arguments: &ExplainArgs, weight: Option<WeightName>) -> Result<(), CliError> {
    let mut example = CompanyExample::default();
    if let Some(seed) = arguments.seed {
        example.seed = seed;
    }
    if let Some(rate) = arguments.learning_rate {
        if !(rate > 0.0 && rate.is_finite()) {
            return Err(CliError::usage(
                "--learning-rate: expected a positive, finite number",
            ));
        }
        example.learning_rate = rate;
    }
    let network = example.network();
    let x = Matrix::from_fn(SALES.len(), 2, |row, column| SALES[row].0[column]);
    let y = Matrix::from_fn(SALES.len(), 1, |row, _| SALES[row].1);
    let pull = |weight| batch_pull(&network, &x, &y, weight, example.learning_rate);
    let chosen = match weight {
        Some(weight) => {
            pull(weight).map_err(|message| CliError::usage(format!("--weight {message}")))?
        }
        None => {
            let mut best: Option<BatchPull> = None;
            for (layer_index, dense) in network.dense_layers().iter().enumerate() {
                for to_unit in 0..dense.weight.rows() {
                    for from_unit in 0..dense.weight.cols() {
                        let candidate = pull(WeightName {
                            layer_index,
                            to_unit,
                            from_unit,
                        })
                        .map_err(CliError::usage)?;
                        if best
                            .as_ref()
                            .is_none_or(|b| disagreement(&candidate) > disagreement(b))
                        {
                            best = Some(candidate);
                        }
                    }
                }
            }
            best.expect("the company network has weights")
        }
    };
    if arguments.json {
        return print_stdout_line(
            serde_json::to_value(&chosen).map_err(|error| {
                CliError::Runtime(format!("--batch: cannot write JSON: {error}"))
            })?,
        );
    }
    let text = chosen.text(|sale| {
        format!(
            "sale {}, {} with verdict {}",
            sale.input[0], sale.input[1], sale.target[0]
        )
    });
    print_stdout_line(format!(
        "XOR's four sales as one batch for the company network (seed {}, η = {}).\n{text}\n\
         No single sale decides: a sale that pulls the other way only shrinks the step, and the \
         weights that serve every sale best are where these pulls balance (the mean gradient is 0).",
        example.seed, example.learning_rate
    ))
}
