//! Text for the update of an explanation: w ← w − η ∂C/∂w for every weight, what the change
//! means in the company's words, and the cost after it.

use crate::explain_text::{capitalise, symbol, the, weight_symbol, Writer, WIDE_LAYER_UNITS};
use crate::format::{format_number, operand, operand_factor, paint, superscript, Paint};

/// How a listener's weight on one report changed, in words: the size |w| is how much the
/// report is trusted, the sign which way it pushes; a weight that did not move says so, and a
/// weight that crossed zero says it now pushes the other way.
pub(crate) fn trust_change(
    listener: &str,
    speaker: &str,
    old: f64,
    new: f64,
    heard: f64,
) -> String {
    if new == old {
        let why = if heard == 0.0 {
            format!(": {speaker} reported 0, so this weight played no part in the error")
        } else {
            String::new()
        };
        return format!("unchanged{why}");
    }
    if (old < 0.0) != (new < 0.0) && old != 0.0 && new != 0.0 {
        let (now, was) = if new > 0.0 {
            ("raises", "lowering")
        } else {
            ("lowers", "raising")
        };
        return format!(
            "sign change: a higher report from {speaker} now {now} {listener}'s instead of {was} it"
        );
    }
    let (more, sign) = if new.abs() > old.abs() {
        ("more", "|w| grows")
    } else {
        ("less", "|w| shrinks")
    };
    if new > 0.0 || (new == 0.0 && old > 0.0) {
        format!("{listener} trusts {speaker} {more}: w > 0, {sign}")
    } else {
        format!("{listener} counts {speaker} {more} strongly the other way: w < 0, {sign}")
    }
}

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
                    Some(_) => format!(
                        "   ({})",
                        trust_change(
                            &the(writer.name(l, j)),
                            &writer.name(l - 1, k),
                            old,
                            new,
                            layer.input[k]
                        )
                    ),
                    None => String::new(),
                };
                let text = format!(
                    "  {}: {} − {} × {} = {}{about}",
                    weight_symbol(l, j, k),
                    operand(old),
                    operand(e.learning_rate),
                    operand_factor(unit.weight_gradients[k]),
                    format_number(new)
                );
                writer.line(&text);
            }
            let text = format!(
                "  {}: {} − {} × {} = {}",
                symbol("b", l, j),
                operand(unit.bias),
                operand(e.learning_rate),
                operand_factor(unit.bias_gradient),
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
