//! The chain rule for one weight, written out with the numbers of one explained step.
//!
//! For a weight wˡⱼₖ of the output layer, ∂C/∂wᴸⱼₖ = ∂C/∂aᴸⱼ · σ′(zᴸⱼ) · aᴸ⁻¹ₖ; with the fused
//! softmax or sigmoid + cross-entropy output the first two factors are one, aᴸⱼ − yⱼ. For a
//! hidden layer the first factor comes through BP2, ∂C/∂aˡⱼ = Σₘ wˡ⁺¹ₘⱼ δˡ⁺¹ₘ: every route from
//! unit j to the cost. Every factor is read from the [`Explanation`], which read it from the
//! engine's trace; the result printed is the trace's ∂C/∂w, so a reader can check that the
//! product of the printed factors gives it.

use crate::explain_text::{derivative_equation, symbol, the, weight_symbol};
use crate::explanation::{Explanation, LayerStep, UnitStep};
use crate::format::{format_number, operand, operand_factor, subscript};
use crate::{unit_name, CompanyRoles};
use serde::Serialize;

/// A weight named as in the model file: `layers.1.weight[0,1]` (0-based, PyTorch's (out, in)).
///
/// Its JSON is for people: the file's name beside the 1-based numbers of the notation,
/// `{"name": "layers.1.weight[0, 1]", "layer": 2, "to_unit": 1, "from_unit": 2}` for w²₁₂.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightName {
    /// The dense layer's tensor index i in `layers.i` (layer l = i + 1).
    pub layer_index: usize,
    /// The row: the unit j of layer l the weight feeds (0-based).
    pub to_unit: usize,
    /// The column: the unit k of layer l − 1 it reads (0-based).
    pub from_unit: usize,
}

impl Serialize for WeightName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut fields = serializer.serialize_struct("WeightName", 4)?;
        fields.serialize_field("name", &self.to_string())?;
        fields.serialize_field("layer", &(self.layer_index + 1))?;
        fields.serialize_field("to_unit", &(self.to_unit + 1))?;
        fields.serialize_field("from_unit", &(self.from_unit + 1))?;
        fields.end()
    }
}

impl std::fmt::Display for WeightName {
    /// `layers.1.weight[0, 1]`, as the model file names it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "layers.{}.weight[{}, {}]",
            self.layer_index, self.to_unit, self.from_unit
        )
    }
}

impl WeightName {
    /// Parses `layers.I.weight[J,K]` (spaces after the comma allowed).
    ///
    /// # Errors
    /// A message saying what was expected, for anything else.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{text:?}: expected a weight named as in the model file, such as \
                 layers.1.weight[0,1] (0-based: layer tensor, row = the unit fed, column = \
                 the unit read)"
            )
        };
        let rest = text.trim().strip_prefix("layers.").ok_or_else(bad)?;
        let (index, rest) = rest.split_once(".weight[").ok_or_else(bad)?;
        let inside = rest.strip_suffix(']').ok_or_else(bad)?;
        let (row, column) = inside.split_once(',').ok_or_else(bad)?;
        let number = |s: &str| s.trim().parse::<usize>().map_err(|_| bad());
        Ok(Self {
            layer_index: number(index)?,
            to_unit: number(row)?,
            from_unit: number(column)?,
        })
    }
}

/// One weight's gradient by the chain rule, as data and as text.
#[derive(Clone, Debug, Serialize)]
pub struct ChainRule {
    /// The weight, as named in the model file.
    pub weight: WeightName,
    /// The weight in the notation, 1-based: `w²₁₂`.
    pub symbol: String,
    /// ∂C/∂aˡⱼ: a − y (quadratic cost) or ∇ₐC at the output; Σₘ wˡ⁺¹ₘⱼ δˡ⁺¹ₘ in a hidden layer.
    pub cost_gradient: f64,
    /// σ′(zˡⱼ); `None` where δ came from the fused output shortcut or from softmax's Jacobian.
    pub activation_derivative: Option<f64>,
    /// δˡⱼ = ∂C/∂zˡⱼ.
    pub delta: f64,
    /// aˡ⁻¹ₖ, what the weight multiplies.
    pub input: f64,
    /// ∂C/∂wˡⱼₖ from the engine's trace.
    pub gradient: f64,
    /// The text, lines joined by newlines.
    pub text: String,
}

/// The chain rule for `weight` in `explanation`; `roles` names the units in company words.
///
/// # Errors
/// A message naming the valid range when the layer, row or column does not exist.
pub fn chain_rule(
    explanation: &Explanation,
    weight: WeightName,
    roles: Option<&CompanyRoles>,
) -> Result<ChainRule, String> {
    let layers = &explanation.layers;
    let layer = layers.get(weight.layer_index).ok_or_else(|| {
        format!(
            "layers.{}: the network has dense layers layers.0 to layers.{}",
            weight.layer_index,
            layers.len() - 1
        )
    })?;
    let (rows, columns) = (layer.units.len(), layer.input.len());
    if weight.to_unit >= rows || weight.from_unit >= columns {
        return Err(format!(
            "layers.{}.weight[{},{}]: that tensor is {rows}×{columns}, so rows run 0 to {} and \
             columns 0 to {}",
            weight.layer_index,
            weight.to_unit,
            weight.from_unit,
            rows - 1,
            columns - 1
        ));
    }
    let unit = &layer.units[weight.to_unit];
    let (l, j, k) = (layer.layer, weight.to_unit, weight.from_unit);
    let symbol_w = weight_symbol(l, j, k);
    let name = |column: usize, unit: usize| unit_name(roles, &explanation.sizes, column, unit);
    let mut lines = vec![format!(
        "The chain rule for {symbol_w} = layers.{}.weight[{j}, {k}] ({} counts {}'s report; \
         1-based in the notation, 0-based in the file):",
        weight.layer_index,
        the(name(l, j)),
        name(l - 1, k)
    )];
    let derivative = unit
        .activation_derivative
        .filter(|_| !explanation.output.fused || !layer.is_output);
    let (a_prev, delta, z) = (symbol("a", l - 1, k), symbol("δ", l, j), symbol("z", l, j));
    let gradient_symbol = symbol("∂C/∂a", l, j);
    match derivative {
        Some(_) => lines.push(format!(
            "  ∂C/∂{symbol_w} = ∂C/∂{} · ∂{}/∂{z} · ∂{z}/∂{symbol_w} = {gradient_symbol} · σ′({z}) · {a_prev}",
            symbol("a", l, j),
            symbol("a", l, j)
        )),
        None => lines.push(format!(
            "  ∂C/∂{symbol_w} = ∂C/∂{z} · ∂{z}/∂{symbol_w} = {delta} · {a_prev}"
        )),
    }
    lines.push(format!(
        "  ∂{z}/∂{symbol_w} = {a_prev} = {}: {z} = … + {symbol_w} {a_prev} + …, so nudging the \
         weight moves {z} by the report it multiplies",
        format_number(layer.input[k])
    ));
    first_factor(
        explanation,
        weight.layer_index,
        unit,
        derivative.is_some(),
        &mut lines,
    );
    if let Some(derivative) = derivative {
        lines.push(format!(
            "  {}",
            derivative_equation(&layer.activation, l, j, unit.z, unit.a, derivative)
        ));
        lines.push(format!(
            "  ∂C/∂{symbol_w} = {} × {} × {} = {}",
            operand_factor(unit.cost_gradient),
            operand_factor(derivative),
            operand_factor(layer.input[k]),
            format_number(unit.weight_gradients[k])
        ));
    } else {
        lines.push(format!(
            "  ∂C/∂{symbol_w} = {} × {} = {}",
            operand_factor(unit.delta),
            operand_factor(layer.input[k]),
            format_number(unit.weight_gradients[k])
        ));
    }
    if explanation.output.penalty > 0.0 {
        lines.push("  (the result also holds the weight penalty's ∂P/∂w)".into());
    }
    lines.push(format!(
        "  This is BP4's {a_prev} {delta} = {}, the number section 5 of `backprop explain` prints \
         for layers.{}.weight[{j}, {k}].",
        format_number(unit.weight_gradients[k]),
        weight.layer_index
    ));
    Ok(ChainRule {
        weight,
        symbol: symbol_w,
        cost_gradient: unit.cost_gradient,
        activation_derivative: derivative,
        delta: unit.delta,
        input: layer.input[k],
        gradient: unit.weight_gradients[k],
        text: lines.join("\n"),
    })
}

/// The first factor: a − y (or δ itself) at the output, BP2's sum with each δ of the layer
/// above in a hidden layer.
fn first_factor(
    explanation: &Explanation,
    index: usize,
    unit: &UnitStep,
    elementwise: bool,
    lines: &mut Vec<String>,
) {
    let layer: &LayerStep = &explanation.layers[index];
    let (l, j) = (layer.layer, unit.unit);
    let gradient_symbol = symbol("∂C/∂a", l, j);
    if layer.is_output {
        let (a, y) = (symbol("a", l, j), format!("y{}", subscript(j + 1)));
        if !elementwise {
            lines.push(format!(
                "  {} = {a} − {y} = {} − {} = {} (the fused output: σ′ cancels against the cost)",
                symbol("δ", l, j),
                operand(unit.a),
                operand_factor(explanation.target[j]),
                format_number(unit.delta)
            ));
        } else if explanation.cost == "quadratic" {
            lines.push(format!(
                "  {gradient_symbol} = {a} − {y} = {} − {} = {} (C = ½(a − y)²: how wrong the output is)",
                operand(unit.a),
                operand_factor(explanation.target[j]),
                format_number(unit.cost_gradient)
            ));
        } else {
            lines.push(format!(
                "  {gradient_symbol} = {} (the slope of the {} cost)",
                format_number(unit.cost_gradient),
                explanation.cost
            ));
        }
        return;
    }
    // BP2: every route from unit j to the cost runs through a unit m of the layer above.
    let above = &explanation.layers[index + 1];
    let (symbols, numbers) = crate::explain_text_backward::feedback_terms(unit, l, j);
    for t in &unit.feedback {
        let next = &above.units[t.from_unit];
        let (m, d) = (t.from_unit, symbol("δ", l + 1, t.from_unit));
        let how = match next.activation_derivative {
            Some(derivative) if !(above.is_output && explanation.output.fused) => format!(
                "{d} = ∂C/∂{} × σ′({}) = {} × {} = {}",
                symbol("a", l + 1, m),
                symbol("z", l + 1, m),
                operand_factor(next.cost_gradient),
                operand_factor(derivative),
                format_number(next.delta)
            ),
            _ => format!("{d} = {} (see section 3)", format_number(next.delta)),
        };
        lines.push(format!("  {how}"));
    }
    lines.push(format!(
        "  {gradient_symbol} = {} = {} = {} (BP2: the feedback from every unit above)",
        symbols.join(" + "),
        numbers.join(" + "),
        format_number(unit.cost_gradient)
    ));
}
