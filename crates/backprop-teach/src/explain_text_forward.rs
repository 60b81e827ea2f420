//! Text for the forward half of an explanation: the forward pass, the error and the cost, and
//! δ at the output (BP1).

use crate::explain::{largest, SUMMARY_ENTRIES};
use crate::explain_text::{
    capitalise, cost_formula, derivative_equation, symbol, the, wants, weight_symbol, Writer,
    WIDE_LAYER_UNITS,
};
use crate::explanation::LayerStep;
use crate::format::{format_number, operand, operand_factor, subscript, superscript};

pub(crate) fn forward(writer: &mut Writer<'_>) {
    writer.heading("1. Forward pass: zˡⱼ = Σₖ wˡⱼₖ aˡ⁻¹ₖ + bˡⱼ, then aˡⱼ = σ(zˡⱼ)");
    for layer in &writer.explanation.layers {
        let l = layer.layer;
        if layer.units.len() > WIDE_LAYER_UNITS {
            summarise_activations(writer, layer);
            continue;
        }
        for unit in &layer.units {
            let j = unit.unit;
            let narrow = unit.weights.len() <= WIDE_LAYER_UNITS;
            if writer.roles().is_some() {
                let heard = if narrow {
                    let parts: Vec<String> = (0..unit.weights.len())
                        .map(|k| {
                            format!(
                                "{} ({}, trusted {})",
                                writer.name(l - 1, k),
                                format_number(layer.input[k]),
                                format_number(unit.weights[k])
                            )
                        })
                        .collect();
                    parts.join(" and ")
                } else {
                    format!("{} units below", unit.weights.len())
                };
                let text = format!(
                    "  {} hears {heard}, adds a bias of {}: z = {}, and reports σ(z) = {}.",
                    capitalise(&the(writer.name(l, j))),
                    format_number(unit.bias),
                    format_number(unit.z),
                    format_number(unit.a)
                );
                writer.line(&text);
            }
            let (z, a) = (symbol("z", l, j), symbol("a", l, j));
            let sum = if narrow {
                let symbols: Vec<String> = (0..unit.weights.len())
                    .map(|k| format!("{} {}", weight_symbol(l, j, k), symbol("a", l - 1, k)))
                    .collect();
                let numbers: Vec<String> = (0..unit.weights.len())
                    .map(|k| {
                        format!(
                            "{} × {}",
                            operand_factor(unit.weights[k]),
                            operand_factor(layer.input[k])
                        )
                    })
                    .collect();
                format!(
                    "{} + {} = {} + {}",
                    symbols.join(" + "),
                    symbol("b", l, j),
                    numbers.join(" + "),
                    operand_factor(unit.bias)
                )
            } else {
                let (upper, lower) = (superscript(l), superscript(l - 1));
                format!(
                    "Σₖ w{upper}{}ₖ a{lower}ₖ + {}",
                    subscript(j + 1),
                    symbol("b", l, j)
                )
            };
            let applied = if unit.activation_derivative.is_some() {
                format!(" = {}({})", layer.activation, operand(unit.z))
            } else {
                String::new()
            };
            let text = format!(
                "{z} = {sum} = {};  {a} = {}({z}){applied} = {}",
                format_number(unit.z),
                layer.activation,
                format_number(unit.a)
            );
            writer.notation(&text);
        }
    }
    writer.line("");
}

fn summarise_activations(writer: &mut Writer<'_>, layer: &LayerStep) {
    let a: Vec<f64> = layer.units.iter().map(|u| u.a).collect();
    let top: Vec<String> = largest(&a, SUMMARY_ENTRIES)
        .into_iter()
        .map(|j| format!("{} = {}", symbol("a", layer.layer, j), format_number(a[j])))
        .collect();
    writer.line(&format!(
        "  layer {} ({} {} units): ‖a{}‖ = {}; the largest: {}",
        layer.layer,
        layer.units.len(),
        layer.activation,
        superscript(layer.layer),
        format_number(layer.summary.activation_norm),
        top.join(", ")
    ));
}

pub(crate) fn output_error(writer: &mut Writer<'_>) {
    let e = writer.explanation;
    let last = e.sizes.len() - 1;
    let error = &e.output;
    let who = writer.name(last, 0);
    match writer.roles() {
        Some(_) if error.prediction.len() == 1 => {
            writer.heading(&format!("2. The error at {}", the(who)))
        }
        _ => writer.heading("2. The error at the output"),
    }
    let order = largest(
        &error.difference,
        if error.difference.len() > WIDE_LAYER_UNITS {
            SUMMARY_ENTRIES
        } else {
            usize::MAX
        },
    );
    for j in order {
        let text = format!(
            "  {} predicts {} against the known result {}: a − y = {}.",
            capitalise(&the(writer.name(last, j))),
            format_number(error.prediction[j]),
            format_number(error.target[j]),
            writer.signed(error.difference[j])
        );
        writer.line(&text);
    }
    if error.difference.len() > WIDE_LAYER_UNITS {
        writer.line(&format!(
            "  (the {SUMMARY_ENTRIES} largest |a − y| of {})",
            error.difference.len()
        ));
    }
    let penalty = if error.penalty > 0.0 {
        format!(
            ", including a weight penalty of {}",
            format_number(error.penalty)
        )
    } else {
        String::new()
    };
    writer.line(&format!(
        "  The cost C = {} = {}{penalty} ({} cost).",
        cost_formula(&e.cost),
        format_number(error.cost),
        e.cost
    ));
    writer.line("");
}

pub(crate) fn output_delta(writer: &mut Writer<'_>) {
    let e = writer.explanation;
    let layer = e.layers.last().expect("a network has layers");
    let l = layer.layer;
    let fused = e.output.fused;
    let place = match writer.roles() {
        Some(_) if layer.units.len() == 1 => the(writer.name(l, 0)),
        _ => "the output".to_string(),
    };
    // Softmax + cross-entropy with a target row that does not sum to 1 (soft or multi-hot
    // labels): δᴸⱼ = aᴸⱼ·Σy − yⱼ; a − y only holds for rows that sum to 1.
    let target_sum: f64 = e.target.iter().sum();
    let scaled = fused && layer.activation == "softmax" && target_sum != 1.0;
    if scaled {
        writer.heading(&format!(
            "3. δ at {place} (BP1, fused): δᴸⱼ = aᴸⱼ·Σy − yⱼ (the targets sum to {}, not 1)",
            format_number(target_sum)
        ));
    } else if fused {
        writer.heading(&format!(
            "3. δ at {place} (BP1, fused): δᴸⱼ = aᴸⱼ − yⱼ (σ′ cancels the cost's denominator)"
        ));
    } else {
        writer.heading(&format!("3. δ at {place} (BP1): δᴸⱼ = ∂C/∂aᴸⱼ · σ′(zᴸⱼ)"));
    }
    if writer.roles().is_some() {
        writer.line("  δ says how much the cost would change if the weighed sum z moved: the error signal to send back.");
    }
    if layer.units.len() > WIDE_LAYER_UNITS {
        crate::explain_text_backward::summarise_deltas(writer, layer);
    } else {
        for unit in &layer.units {
            let j = unit.unit;
            let delta = symbol("δ", l, j);
            let (a, y) = (symbol("a", l, j), format!("y{}", subscript(j + 1)));
            let name = the(writer.name(l, j));
            let who = capitalise(&name);
            let text = match (fused, unit.activation_derivative) {
                (false, Some(derivative)) => {
                    let gradient = symbol("∂C/∂a", l, j);
                    let tie = if e.cost == "quadratic" {
                        format!(
                            "{gradient} = {a} − {y} = {} − {} = {}: the a − y of section 2, since C = ½(a − y)²",
                            operand(unit.a),
                            operand_factor(e.target[j]),
                            format_number(unit.cost_gradient)
                        )
                    } else {
                        format!(
                            "{gradient} = {} (the slope of the {} cost at a = {})",
                            format_number(unit.cost_gradient),
                            e.cost,
                            format_number(unit.a)
                        )
                    };
                    writer.line(&format!("  {tie}"));
                    let sigma =
                        derivative_equation(&layer.activation, l, j, unit.z, unit.a, derivative);
                    writer.line(&format!("  {sigma}"));
                    format!(
                        "{delta} = {gradient} × σ′({}) = {} × {} = {}",
                        symbol("z", l, j),
                        operand_factor(unit.cost_gradient),
                        operand_factor(derivative),
                        writer.signed(unit.delta)
                    )
                }
                _ if scaled => format!(
                    "{delta} = {a}·Σy − {y} = {} × {} − {} = {}",
                    operand(unit.a),
                    operand_factor(target_sum),
                    operand_factor(e.target[j]),
                    writer.signed(unit.delta)
                ),
                _ => format!(
                    "{delta} = {a} − {y} = {} − {} = {}",
                    operand(unit.a),
                    operand_factor(e.target[j]),
                    writer.signed(unit.delta)
                ),
            };
            writer.line(&format!("  {who}: {text}"));
            if writer.roles().is_some() {
                writer.line(&format!("  {}", wants(&name, unit.delta)));
            }
        }
    }
    writer.line("");
}
