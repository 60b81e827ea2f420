//! Text for the update of an explanation (w ← w − η ∂C/∂w and the cost after it), and for a
//! sequence of steps.

use crate::explain_text::{
    capitalise, symbol, the, weight_symbol, TextStyle, Writer, WIDE_LAYER_UNITS,
};
use crate::format::{factor, format_number, paint, superscript, Paint};
use crate::steps::StepsExplanation;
use crate::unit_name;

pub(crate) fn update(writer: &mut Writer<'_>) {
    let e = writer.explanation;
    let eta = format_number(e.learning_rate);
    writer.heading(&format!(
        "6. Update with η = {eta}: w ← w − η ∂C/∂w, b ← b − η ∂C/∂b"
    ));
    for layer in &e.layers {
        let l = layer.layer;
        if layer.units.len() > WIDE_LAYER_UNITS || layer.input.len() > WIDE_LAYER_UNITS {
            let squares: f64 = layer
                .units
                .iter()
                .flat_map(|u| {
                    u.new_weights
                        .iter()
                        .zip(&u.weights)
                        .map(|(n, o)| (n - o) * (n - o))
                })
                .sum();
            writer.line(&format!(
                "  layers.{}: ‖Δw{}‖ = {}",
                l - 1,
                superscript(l),
                format_number(squares.sqrt())
            ));
            continue;
        }
        for unit in &layer.units {
            let j = unit.unit;
            for k in 0..layer.input.len() {
                let (old, new) = (unit.weights[k], unit.new_weights[k]);
                let about = match writer.roles() {
                    Some(_) => {
                        let more = if new.abs() > old.abs() {
                            "more"
                        } else {
                            "less"
                        };
                        format!(
                            "   ({} trusts {} {more})",
                            the(writer.name(l, j)),
                            writer.name(l - 1, k)
                        )
                    }
                    None => String::new(),
                };
                let text = format!(
                    "  {}: {} − {eta} × {} = {}{about}",
                    weight_symbol(l, j, k),
                    format_number(old),
                    factor(unit.weight_gradients[k]),
                    format_number(new)
                );
                writer.line(&text);
            }
            let text = format!(
                "  {}: {} − {eta} × {} = {}",
                symbol("b", l, j),
                format_number(unit.bias),
                factor(unit.bias_gradient),
                format_number(unit.new_bias)
            );
            writer.line(&text);
        }
    }
    let u = &e.update;
    let (verdict, paint_kind) = if u.fell {
        ("fell", Paint::Good)
    } else {
        ("did not fall", Paint::Bad)
    };
    let verdict = paint(
        &format!("it {verdict} by {}", format_number(u.change.abs())),
        paint_kind,
        writer.style.colour,
    );
    let before = format_number(u.cost_before);
    let after = format_number(u.cost_after);
    writer.line(&format!("  The cost before the step {before}, after it {after} (recomputed on the updated network): {verdict}."));
    if u.prediction_after.len() <= WIDE_LAYER_UNITS {
        let last = e.sizes.len() - 1;
        for (j, (new, old)) in u
            .prediction_after
            .iter()
            .zip(&e.output.prediction)
            .enumerate()
        {
            let text = format!(
                "  {} now predicts {} (before: {}; the known result: {}).",
                capitalise(&the(writer.name(last, j))),
                format_number(*new),
                format_number(*old),
                format_number(e.target[j])
            );
            writer.line(&text);
        }
    }
}

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
    let target = shown(&steps.target);
    let outcome = if steps.matched {
        format!(
            "After {count} steps {who} {} matches the known result {target} within {}.",
            shown(steps.final_prediction()),
            format_number(steps.options.tolerance)
        )
    } else {
        format!(
            "After {count} steps {who} {} still misses the known result {target} by more than {}.",
            shown(steps.final_prediction()),
            format_number(steps.options.tolerance)
        )
    };
    out.push_str(&format!("{}\n", capitalise(&outcome)));
    if let (Some(roles), true) = (&style.roles, steps.matched) {
        let text = format!(
            "The {} kept changing his levels of trust until the customer feedback matched.\n",
            roles.output
        );
        out.push_str(&text);
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
