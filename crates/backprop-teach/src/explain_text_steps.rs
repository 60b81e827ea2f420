//! Text for a sequence of steps: the cost and prediction at the kept steps, every weight of a
//! small network as it changes, and whether the output came to match the target.

use crate::explain_text::{capitalise, symbol, the, weight_symbol, TextStyle, WIDE_LAYER_UNITS};
use crate::format::{format_number, paint, Paint};
use crate::steps::StepsExplanation;
use crate::{plural, unit_name};

/// What `explain --steps` says when the learner asked for one sale.
pub const ONE_SALE_NOTE: &str = "One sale is easy: any network can fit a single example in a \
few steps, so this shows the mechanics, not learning. To see the company learn a rule from \
several sales, leave out --signals and --result: `backprop explain --steps 20000` trains on \
XOR's four sales as one batch (as `backprop train --data xor-table` does).";

pub(crate) fn steps_text(steps: &StepsExplanation, style: &TextStyle) -> String {
    let mut out = String::new();
    let sizes: Vec<usize> = steps
        .first
        .as_ref()
        .map_or_else(Vec::new, |e| e.sizes.clone());
    let heading = format!(
        "Plain gradient-descent steps (η = {}) until every |a − y| ≤ {}, at most {}:",
        format_number(steps.learning_rate),
        format_number(steps.options.tolerance),
        steps.options.max_steps
    );
    out.push_str(&paint(&heading, Paint::Bold, style.colour));
    out.push('\n');
    out.push_str(&format!("  {:>6}  {:>12}  prediction\n", "step", "cost"));
    let shown = |p: &[f64]| {
        let mut parts: Vec<String> = p.iter().take(3).map(|v| format_number(*v)).collect();
        if p.len() > 3 {
            parts.push("…".into());
        }
        parts.join(", ")
    };
    out.push_str(&format!(
        "  {:>6}  {:>12}  {}\n",
        0,
        format_number(steps.initial_cost),
        shown(&steps.initial_prediction)
    ));
    let kept: Vec<usize> = steps
        .snapshots()
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| *s > 0)
        .collect();
    for record in steps.records.iter().filter(|r| kept.contains(&r.step)) {
        out.push_str(&format!(
            "  {:>6}  {:>12}  {}\n",
            record.step,
            format_number(record.cost_after),
            shown(&record.prediction_after)
        ));
    }
    let count = steps.records.len();
    let who = match (&style.roles, sizes.len()) {
        (Some(_), n) if n > 0 && sizes[n - 1] == 1 => format!(
            "{}'s prediction",
            the(unit_name(style.roles.as_ref(), &sizes, n - 1, 0))
        ),
        _ => "the output".to_string(),
    };
    out.push_str(&weights_table(steps.snapshots(), style));
    let target = shown(&steps.target);
    let count_steps = match count {
        1 => "1 step".to_string(),
        n => format!("{n} steps"),
    };
    let outcome = if steps.matched {
        format!(
            "After {count_steps} {who} {} matches the known result {target} within {}.",
            shown(steps.final_prediction()),
            format_number(steps.options.tolerance)
        )
    } else {
        format!(
            "After {count_steps} {who} {} still misses the known result {target} by more than {}.",
            shown(steps.final_prediction()),
            format_number(steps.options.tolerance)
        )
    };
    out.push_str(&format!("{}\n", capitalise(&outcome)));
    if let (Some(roles), true) = (&style.roles, steps.matched) {
        let text = format!(
            "The {} and the {} kept changing their levels of trust until the CEO's verdict matched the customer's.\n",
            plural(&roles.hidden),
            roles.output
        );
        out.push_str(&text);
    }
    if style.roles.is_some() {
        out.push_str(ONE_SALE_NOTE);
        out.push('\n');
    }
    let rose = steps
        .records
        .iter()
        .filter(|r| r.cost_after >= r.cost_before)
        .count();
    let fall = if rose == 0 {
        paint(
            &format!(
                "The cost fell at every step: {} → {}.",
                format_number(steps.initial_cost),
                format_number(steps.final_cost())
            ),
            Paint::Good,
            style.colour,
        )
    } else {
        paint(
            &format!(
                "The cost did not fall at {rose} of {count} steps; {} → {}.",
                format_number(steps.initial_cost),
                format_number(steps.final_cost())
            ),
            Paint::Bad,
            style.colour,
        )
    };
    out.push_str(&fall);
    out.push('\n');
    out
}

/// Every weight and bias of a small network at the kept steps (0, 1, 2, 5, 10, … and the last),
/// so the reader sees the weights move, not only the cost. Empty for networks with more than
/// 2 × `WIDE_LAYER_UNITS` parameters, or with too few kept steps to show a change.
pub fn weights_table(snapshots: &[(usize, backprop::Network<f64>)], style: &TextStyle) -> String {
    let Some((_, start)) = snapshots.first() else {
        return String::new();
    };
    let parameters: usize = start
        .dense_layers()
        .iter()
        .map(|d| d.weight.len() + d.bias.len())
        .sum();
    if parameters > 2 * WIDE_LAYER_UNITS || snapshots.len() < 2 {
        return String::new();
    }
    // At most 8 columns, spread evenly over the kept steps from the first to the last, so a
    // long run shows where the weights moved, not only its first few steps.
    let columns = snapshots.len().min(8);
    let chosen: Vec<&(usize, backprop::Network<f64>)> = (0..columns)
        .map(|i| &snapshots[(i * (snapshots.len() - 1) + (columns - 1) / 2) / (columns - 1)])
        .collect();
    let mut rows = vec![{
        let mut header = vec!["weight".to_string()];
        header.extend(chosen.iter().map(|(step, _)| format!("step {step}")));
        header
    }];
    for (index, dense) in start.dense_layers().iter().enumerate() {
        let l = index + 1;
        for j in 0..dense.weight.rows() {
            for k in 0..dense.weight.cols() {
                let mut row = vec![weight_symbol(l, j, k)];
                row.extend(chosen.iter().map(|(_, network)| {
                    format_number(network.dense_layers()[index].weight[(j, k)])
                }));
                rows.push(row);
            }
            let mut row = vec![symbol("b", l, j)];
            row.extend(
                chosen
                    .iter()
                    .map(|(_, network)| format_number(network.dense_layers()[index].bias[(0, j)])),
            );
            rows.push(row);
        }
    }
    let mut right = vec![false];
    right.extend(std::iter::repeat_n(true, chosen.len()));
    let heading = match &style.roles {
        Some(roles) => format!(
            "How the {} and the {} changed their weights (trust) and biases:",
            plural(&roles.hidden),
            roles.output
        ),
        None => "How the weights and biases changed:".to_string(),
    };
    let mut out = paint(&heading, Paint::Bold, style.colour);
    out.push('\n');
    for line in crate::format::table(&rows, &right).lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    out
}
