//! `backprop explain --batch`: the company network on XOR's four sales as one batch. Each sale
//! alone would pull a weight its own way; the batch step takes the mean of their gradients.
//! The weight is `--weight`, or by default the one the sales disagree on most (the largest
//! smaller side of the up and down pulls). With `--steps N` (with or without `--batch`, unless
//! one sale is asked for) the company trains on the whole batch instead: N plain
//! gradient-descent steps on the mean gradient, the cost and every weight at steps 0, 1, 2, 5,
//! 10, … and every sale's verdict at the end, so a learner sees a rule learned from several
//! sales rather than one example fitted.

use crate::exit::CliError;
use crate::output_file::print_stdout_line;
use backprop::optim::{sgd_update, SgdConfig, SgdState};
use backprop::{Matrix, Network};
use backprop_teach::format::format_number;
use backprop_teach::{
    batch_pull, weights_table, BatchPull, CompanyExample, CompanyRoles, TextStyle, WeightName,
};
use std::io::IsTerminal;

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
    if let Some(steps) = arguments.steps {
        if weight.is_some() {
            return Err(CliError::usage(
                "--weight: with --steps on XOR's four sales the whole network trains; leave \
                 --weight out (or give --signals and --result to step one sale)",
            ));
        }
        if arguments.html.is_some() {
            return Err(CliError::usage(
                "--html: the page explains one sale; with --steps on XOR's four sales leave \
                 --html out, or give --signals and --result to step one sale",
            ));
        }
        return train_on_the_batch(
            network,
            &x,
            &y,
            example.learning_rate,
            steps,
            arguments.json,
        );
    }
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
            "sale {} (signals {}, {}; verdict {})",
            sale_number(&sale.input),
            sale.input[0],
            sale.input[1],
            sale.target[0]
        )
    });
    print_stdout_line(format!(
        "XOR's four sales as one batch for the company network (seed {}, η = {}).\n{text}\n\
         No single sale decides: a sale that pulls the other way only shrinks the step, and the \
         weights that serve every sale best are where these pulls balance (the mean gradient is 0).",
        example.seed, example.learning_rate
    ))
}

/// The 1-based number of the sale with these signals in XOR's table.
fn sale_number(input: &[f64]) -> usize {
    SALES
        .iter()
        .position(|(signals, _)| signals.as_slice() == input)
        .map_or(0, |index| index + 1)
}

/// 0, 1, 2, 5, 10, 20, 50, … and the last step.
fn is_kept(step: u64, last: u64) -> bool {
    if step == 0 || step == last {
        return true;
    }
    let mut decade = 1;
    while decade <= step {
        if [decade, 2 * decade, 5 * decade].contains(&step) {
            return true;
        }
        decade *= 10;
    }
    false
}

/// `steps` plain SGD steps of `network` on the whole batch (the engine's trace gives the mean
/// gradient; the engine's SGD rule applies it), reported as the cost at the kept steps and
/// the verdicts at the end.
fn train_on_the_batch(
    mut network: Network<f64>,
    x: &Matrix<f64>,
    y: &Matrix<f64>,
    learning_rate: f64,
    steps: u64,
    json: bool,
) -> Result<(), CliError> {
    let mut costs = vec![(0, network.loss(x, y))];
    let mut snapshots = vec![(0, network.clone())];
    let before = network.forward(x);
    for step in 1..=steps {
        let trace = network.trace(x, y);
        for (dense, layer) in network.dense_layers_mut().into_iter().zip(&trace.layers) {
            let config = SgdConfig::default();
            sgd_update(
                &config,
                learning_rate,
                dense.weight.as_mut_slice(),
                layer.weight_gradient.as_slice(),
                &mut SgdState::default(),
            );
            sgd_update(
                &config,
                learning_rate,
                dense.bias.as_mut_slice(),
                layer.bias_gradient.as_slice(),
                &mut SgdState::default(),
            );
        }
        if is_kept(step, steps) {
            costs.push((step, network.loss(x, y)));
            snapshots.push((step as usize, network.clone()));
        }
    }
    let after = network.forward(x);
    if json {
        let value = serde_json::json!({
            "learning_rate": learning_rate,
            "costs": costs.iter().map(|(s, c)| serde_json::json!({"step": s, "cost": c})).collect::<Vec<_>>(),
            "weights": snapshots.iter().map(|(s, n)| serde_json::json!({
                "step": s,
                "layers": n.dense_layers().iter().map(|d| serde_json::json!({
                    "weight": (0..d.weight.rows()).map(|j| d.weight.row(j).to_vec()).collect::<Vec<_>>(),
                    "bias": d.bias.as_slice(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "verdicts_before": before.as_slice(),
            "verdicts_after": after.as_slice(),
            "targets": y.as_slice(),
        });
        return print_stdout_line(value);
    }
    let mut lines = vec![
        format!(
            "The company network trained on XOR's four sales as one batch: {steps} plain \
             gradient-descent step{} (η = {}), each on the mean gradient of all four sales.",
            if steps == 1 { "" } else { "s" },
            format_number(learning_rate)
        ),
        format!("  {:>6}  {:>10}", "step", "cost"),
    ];
    for (step, cost) in &costs {
        lines.push(format!("  {step:>6}  {:>10}", format_number(*cost)));
    }
    let style = TextStyle {
        colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        roles: Some(CompanyRoles::company()),
    };
    lines.push(weights_table(&snapshots, &style).trim_end().to_string());
    lines.push("The CEO's verdict on each sale, before and after:".into());
    for (row, (sale, target)) in SALES.iter().enumerate() {
        lines.push(format!(
            "  sale {} (signals {}, {}; verdict {}): {} → {}",
            row + 1,
            sale[0],
            sale[1],
            target,
            format_number(before[(row, 0)]),
            format_number(after[(row, 0)])
        ));
    }
    let right = (0..SALES.len())
        .filter(|&row| (after[(row, 0)] >= 0.5) == (SALES[row].1 >= 0.5))
        .count();
    lines.push(format!(
        "{right} of 4 sales on the right side of 0.5. Unlike one sale, XOR's four cannot all be \
         met by trusting one salesperson: the managers must learn to combine them."
    ));
    print_stdout_line(lines.join("\n"))
}
