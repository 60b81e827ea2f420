//! Text for the backward half of an explanation: δ in the hidden layers (BP2) and the
//! gradients (BP3, BP4).

use crate::explain_text::{
    capitalise, derivative_equation, symbol, the, wants, weight_symbol, Writer, WIDE_LAYER_UNITS,
};
use crate::explanation::{LayerStep, UnitStep};
use crate::format::{format_number, operand_factor, superscript};

/// ‖δˡ‖ and the largest |δˡⱼ| of a wide layer.
pub(crate) fn summarise_deltas(writer: &mut Writer<'_>, layer: &LayerStep) {
    let l = layer.layer;
    let top: Vec<String> = layer
        .summary
        .largest_deltas
        .iter()
        .map(|d| format!("{} = {}", symbol("δ", l, d.unit), writer.signed(d.value)))
        .collect();
    let text = format!(
        "  layer {l} ({} units): ‖δ{}‖ = {}; the largest |δ|: {}",
        layer.units.len(),
        superscript(l),
        format_number(layer.summary.delta_norm),
        top.join(", ")
    );
    writer.line(&text);
}

pub(crate) fn hidden_deltas(writer: &mut Writer<'_>) {
    let e = writer.explanation;
    let count = e.layers.len();
    if count == 1 {
        writer.heading("4. No hidden layers: BP2 has nothing to pass back.");
        writer.line("");
        return;
    }
    let heading = match writer.roles() {
        Some(roles) => format!(
            "4. δ at each {} (BP2): δˡⱼ = (Σₖ wˡ⁺¹ₖⱼ δˡ⁺¹ₖ) · σ′(zˡⱼ)",
            roles.hidden
        ),
        None => "4. δ in the hidden layers (BP2): δˡⱼ = (Σₖ wˡ⁺¹ₖⱼ δˡ⁺¹ₖ) · σ′(zˡⱼ)".to_string(),
    };
    writer.heading(&heading);
    if let Some(roles) = writer.roles() {
        let boss = the(writer.name(count, 0));
        let text = format!(
            "  {}'s feedback to each {} is weighed by how much {boss} trusts that {}, then scaled by how sensitive the {} is (σ′).",
            capitalise(&boss), roles.hidden, roles.hidden, roles.hidden
        );
        writer.line(&text);
    }
    for layer in e.layers[..count - 1].iter().rev() {
        if layer.units.len() > WIDE_LAYER_UNITS {
            summarise_deltas(writer, layer);
            continue;
        }
        for unit in &layer.units {
            hidden_unit(writer, layer, unit);
        }
    }
    writer.line("");
}

/// One hidden unit's δ by BP2: the feedback it hears, σ′ written out, and what δ asks of it.
fn hidden_unit(writer: &mut Writer<'_>, layer: &LayerStep, unit: &UnitStep) {
    let (l, j) = (layer.layer, unit.unit);
    let derivative = unit.activation_derivative.unwrap_or(f64::NAN);
    let listed = unit.feedback.len() <= WIDE_LAYER_UNITS;
    let name = writer.name(l, j);
    if writer.roles().is_some() {
        let heard = if listed {
            let parts: Vec<String> = unit
                .feedback
                .iter()
                .map(|t| {
                    format!(
                        "{}'s δ × trust = {} × {} = {}",
                        the(writer.name(l + 1, t.from_unit)),
                        operand_factor(t.delta),
                        operand_factor(t.weight),
                        format_number(t.product)
                    )
                })
                .collect();
            parts.join("; ")
        } else {
            format!(
                "the feedback of {} units sums to {}",
                unit.feedback.len(),
                format_number(unit.cost_gradient)
            )
        };
        let sum = if unit.feedback.len() > 1 {
            format!("; in all {}", format_number(unit.cost_gradient))
        } else {
            String::new()
        };
        let text = format!(
            "  {}: {heard}{sum}; times σ′({}) this gives δ = {}.",
            capitalise(&name),
            symbol("z", l, j),
            writer.signed(unit.delta)
        );
        writer.line(&text);
    }
    let gradient = symbol("∂C/∂a", l, j);
    let sum = if listed {
        let (symbols, numbers) = feedback_terms(unit, l, j);
        format!("{} = {}", symbols.join(" + "), numbers.join(" + "))
    } else {
        format!(
            "Σₖ w{}ₖ{} δ{}ₖ",
            superscript(l + 1),
            crate::format::subscript(j + 1),
            superscript(l + 1)
        )
    };
    writer.notation(&format!(
        "{gradient} = {sum} = {}",
        format_number(unit.cost_gradient)
    ));
    if unit.activation_derivative.is_some() {
        let sigma = derivative_equation(&layer.activation, l, j, unit.z, unit.a, derivative);
        writer.notation(&sigma);
    }
    writer.notation(&format!(
        "{} = {gradient} × σ′({}) = {} × {} = {}",
        symbol("δ", l, j),
        symbol("z", l, j),
        operand_factor(unit.cost_gradient),
        operand_factor(derivative),
        writer.signed(unit.delta)
    ));
    if writer.roles().is_some() {
        let text = wants(&the(name), unit.delta);
        writer.line(&format!("  {text}"));
    }
}

/// "manager 1's trust in salesperson 2", for the analogy.
/// BP2's sum for unit j of layer l, term by term: `w δ` symbols and `w × δ` numbers, one per
/// unit of the layer above.
pub(crate) fn feedback_terms(unit: &UnitStep, l: usize, j: usize) -> (Vec<String>, Vec<String>) {
    let symbols = unit
        .feedback
        .iter()
        .map(|t| {
            format!(
                "{} {}",
                weight_symbol(l + 1, t.from_unit, j),
                symbol("δ", l + 1, t.from_unit)
            )
        })
        .collect();
    let numbers = unit
        .feedback
        .iter()
        .map(|t| format!("{} × {}", operand_factor(t.weight), operand_factor(t.delta)))
        .collect();
    (symbols, numbers)
}

fn trust(writer: &Writer<'_>, l: usize, j: usize, k: usize) -> String {
    format!(
        "{}'s trust in {}",
        the(writer.name(l, j)),
        writer.name(l - 1, k)
    )
}

pub(crate) fn gradients(writer: &mut Writer<'_>) {
    writer.heading("5. Gradients: ∂C/∂bˡⱼ = δˡⱼ (BP3) and ∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ (BP4)");
    if writer.explanation.output.penalty > 0.0 {
        writer.line("  (∂C/∂w below also holds the weight penalty's ∂P/∂w, so it differs from aδ by that much)");
    }
    for layer in &writer.explanation.layers {
        let (l, i) = (layer.layer, layer.layer - 1);
        let fan_in = layer.input.len();
        if layer.units.len() > WIDE_LAYER_UNITS || fan_in > WIDE_LAYER_UNITS {
            let top: Vec<String> = layer
                .summary
                .largest_weight_gradients
                .iter()
                .map(|w| {
                    format!(
                        "∂C/∂{} = {} (layers.{i}.weight[{}, {}])",
                        weight_symbol(l, w.to_unit, w.from_unit),
                        writer.signed(w.value),
                        w.to_unit,
                        w.from_unit
                    )
                })
                .collect();
            let text = format!(
                "  layers.{i} ({}×{fan_in}): ‖∂C/∂w{}‖ = {}, ‖∂C/∂b{}‖ = ‖δ{}‖ = {}; the largest: {}",
                layer.units.len(),
                superscript(l),
                format_number(layer.summary.weight_gradient_norm),
                superscript(l),
                superscript(l),
                format_number(layer.summary.delta_norm),
                top.join(", ")
            );
            writer.line(&text);
            continue;
        }
        for unit in &layer.units {
            let j = unit.unit;
            let text = format!(
                "  ∂C/∂{} = {} = {}   (layers.{i}.bias[{j}])",
                symbol("b", l, j),
                symbol("δ", l, j),
                writer.signed(unit.bias_gradient)
            );
            writer.line(&text);
            for k in 0..fan_in {
                let about = if writer.roles().is_some() {
                    format!(": {}", trust(writer, l, j, k))
                } else {
                    String::new()
                };
                let text = format!(
                    "  ∂C/∂{} = {} {} = {} × {} = {}   (layers.{i}.weight[{j}, {k}]{about})",
                    weight_symbol(l, j, k),
                    symbol("a", l - 1, k),
                    symbol("δ", l, j),
                    operand_factor(layer.input[k]),
                    operand_factor(unit.delta),
                    writer.signed(unit.weight_gradients[k])
                );
                writer.line(&text);
            }
        }
    }
    writer.line("");
}
