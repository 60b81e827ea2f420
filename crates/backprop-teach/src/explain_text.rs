//! Text for an [`Explanation`]: the step told in the company analogy (when roles are given) and
//! in the notation, plain or with ANSI colour.
//!
//! Sections: 1 the forward pass, 2 the error and the cost, 3 δ at the output (BP1), 4 δ in the
//! hidden layers (BP2), 5 the gradients (BP3, BP4), 6 the update and the cost after it. Layers
//! wider than [`WIDE_LAYER_UNITS`] are summarised by their norms and largest entries, and sums
//! over more than that many terms are written Σ. Every number printed is read from the
//! explanation, which read it from the engine.

use crate::explanation::Explanation;
use crate::format::{
    format_number, operand_factor, paint, signed, subscript, subscript_pair, superscript, Paint,
};
use crate::steps::StepsExplanation;
use crate::{plural, unit_name, CompanyRoles};

/// Layers with more units than this, and sums with more terms, are summarised.
pub const WIDE_LAYER_UNITS: usize = 8;

/// How to render text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TextStyle {
    /// ANSI colours (blue positive, orange negative, bold headings).
    pub colour: bool,
    /// Name units by role (salespeople, managers, CEO) and tell the analogy.
    pub roles: Option<CompanyRoles>,
}

impl TextStyle {
    /// The company's roles, with or without colour.
    pub fn company(colour: bool) -> Self {
        Self {
            colour,
            roles: Some(CompanyRoles::company()),
        }
    }
}

/// Builds the text of one explanation.
pub(crate) struct Writer<'a> {
    pub(crate) explanation: &'a Explanation,
    pub(crate) style: &'a TextStyle,
    pub(crate) out: String,
}

impl Writer<'_> {
    pub(crate) fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push('\n');
    }

    pub(crate) fn heading(&mut self, text: &str) {
        let text = paint(text, Paint::Bold, self.style.colour);
        self.line(&text);
    }

    /// A line of notation, indented and dimmed.
    pub(crate) fn notation(&mut self, text: &str) {
        let indent = if self.roles().is_some() {
            "      "
        } else {
            "  "
        };
        let text = paint(&format!("{indent}{text}"), Paint::Dim, self.style.colour);
        self.line(&text);
    }

    pub(crate) fn roles(&self) -> Option<&CompanyRoles> {
        self.style.roles.as_ref()
    }

    /// The name of unit `unit` in column `column` (0 = the input).
    pub(crate) fn name(&self, column: usize, unit: usize) -> String {
        unit_name(self.roles(), &self.explanation.sizes, column, unit)
    }

    /// A number coloured by its sign.
    pub(crate) fn signed(&self, value: f64) -> String {
        signed(value, self.style.colour)
    }
}

/// `symbol` with layer superscript and 1-based unit subscript: `z¹₂`.
pub(crate) fn symbol(symbol: &str, layer: usize, unit: usize) -> String {
    format!("{symbol}{}{}", superscript(layer), subscript(unit + 1))
}

/// wˡⱼₖ, 1-based.
pub(crate) fn weight_symbol(layer: usize, to: usize, from: usize) -> String {
    format!(
        "w{}{}",
        superscript(layer),
        subscript_pair(to + 1, from + 1)
    )
}

/// What the sign of a unit's δ asks of it, in company words: δ > 0 means a smaller z would
/// lower the cost, so the unit should report lower.
pub(crate) fn wants(who: &str, delta: f64) -> String {
    if delta > 0.0 {
        format!("So {who} should report lower: δ > 0, and a smaller z lowers the cost.")
    } else if delta < 0.0 {
        format!("So {who} should report higher: δ < 0, and a larger z lowers the cost.")
    } else {
        format!("So {who} need not change: δ = 0, and z does not move the cost.")
    }
}

/// σ′(zˡⱼ) written out from aˡⱼ where the activation allows it, with its formula:
/// `σ′(z²₁) = a²₁(1 − a²₁) = 0.458612 × (1 − 0.458612) = 0.2483` for the sigmoid.
pub(crate) fn derivative_equation(
    activation: &str,
    layer: usize,
    unit: usize,
    z: f64,
    a: f64,
    derivative: f64,
) -> String {
    let (zs, as_) = (symbol("z", layer, unit), symbol("a", layer, unit));
    let value = format_number(derivative);
    match activation {
        "sigmoid" => format!(
            "σ′({zs}) = σ({zs})(1 − σ({zs})) = {as_}(1 − {as_}) = {} × (1 − {}) = {value}",
            operand_factor(a),
            operand_factor(a)
        ),
        "tanh" => format!(
            "σ′({zs}) = 1 − tanh²({zs}) = 1 − {as_}² = 1 − {} × {} = {value}",
            operand_factor(a),
            operand_factor(a)
        ),
        "relu" if z > 0.0 => format!("σ′({zs}) = 1, since {zs} > 0 (relu passes changes through)"),
        "relu" => format!(
            "σ′({zs}) = 0, since {zs} ≤ 0 (relu is flat there: this unit is dead for this example)"
        ),
        "identity" => format!("σ′({zs}) = 1 (identity)"),
        _ => format!("σ′({zs}) = {value} ({activation})"),
    }
}

/// The cost's formula for one example, by the cost's name.
pub(crate) fn cost_formula(cost: &str) -> &'static str {
    match cost.split(':').next().unwrap_or(cost) {
        "quadratic" => "½ Σⱼ (aⱼ − yⱼ)²",
        "mse" => "(1/m) Σⱼ (aⱼ − yⱼ)²",
        "binary-cross-entropy" => "−Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)]",
        "cross-entropy" => "−Σⱼ yⱼ ln aⱼ",
        _ => "the Huber loss, mean over the outputs",
    }
}

/// Renders an explanation as text (see the module documentation).
pub fn render_text(explanation: &Explanation, style: &TextStyle) -> String {
    let mut writer = Writer {
        explanation,
        style,
        out: String::new(),
    };
    introduction(&mut writer);
    crate::explain_text_forward::forward(&mut writer);
    crate::explain_text_forward::output_error(&mut writer);
    crate::explain_text_forward::output_delta(&mut writer);
    crate::explain_text_backward::hidden_deltas(&mut writer);
    crate::explain_text_backward::gradients(&mut writer);
    crate::explain_text_update::update(&mut writer);
    writer.out
}

fn introduction(writer: &mut Writer<'_>) {
    let e = writer.explanation;
    let shape: Vec<String> = e.sizes.iter().map(|s| s.to_string()).collect();
    let values = |v: &[f64]| {
        v.iter()
            .map(|x| format_number(*x))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match writer.roles().cloned() {
        Some(roles) if e.sizes.len() == 3 => {
            let top = match e.sizes[2] {
                1 => format!("1 {}", roles.output),
                n => format!("{n} {}", plural(&roles.output)),
            };
            let text = format!(
                "The company network ({}): {} {} → {} {} → {} ({} units, {} cost).",
                shape.join("-"),
                e.sizes[0],
                plural(&roles.input),
                e.sizes[1],
                plural(&roles.hidden),
                top,
                e.activations[0],
                e.cost
            );
            writer.heading(&text);
            let signals: Vec<String> = (0..e.sizes[0])
                .map(|k| {
                    format!(
                        "{} signals {}",
                        writer.name(0, k),
                        format_number(e.input[k])
                    )
                })
                .collect();
            writer.line(&format!(
                "One sale: {}; the known result (the customer's verdict) is {}.",
                signals.join(", "),
                values(&e.target)
            ));
            company_legend(writer, &roles);
        }
        _ => {
            let text = format!(
                "Network {} ({}; {} cost).",
                shape.join("-"),
                e.activations.join(", "),
                e.cost
            );
            writer.heading(&text);
            writer.line(&format!(
                "One example: x = ({}), known result y = ({}).",
                values(&e.input),
                values(&e.target)
            ));
        }
    }
    writer.line(&format!(
        "Learning rate η = {}.",
        format_number(e.learning_rate)
    ));
    writer.line(
        "Results are rounded to 4 decimals; the numbers inside a calculation carry 6, so each \
         line checks by hand to within its last digit.",
    );
    writer.line(
        "Units count from 1 (δ¹₂ is unit 2 of layer 1); the model file's tensor names in \
         parentheses count from 0, so w¹₁₂ is layers.0.weight[0, 1].",
    );
    writer.line("");
}

/// What the company's words mean: who learns, what a weight's sign and size say, and which
/// way feedback flows.
fn company_legend(writer: &mut Writer<'_>, roles: &CompanyRoles) {
    let (input, hidden, output) = (plural(&roles.input), plural(&roles.hidden), &roles.output);
    writer.line(&format!(
        "The {input} are the inputs: they report what they saw and do not learn. The {hidden} \
         and the {output} learn, by changing their weights and biases."
    ));
    writer.line(
        "A weight is how one listener counts a report: its size |w| is how much the listener \
         trusts it; a positive weight means a higher report raises the listener's own report, \
         a negative one that a higher report pushes it the other way (lower).",
    );
    writer.line(&format!(
        "The customer's verdict is the known result; the feedback is what flows back, the \
         {output}'s δ sent to each {} and the {hidden}' δ that follow from it.",
        roles.hidden
    ));
}

/// "the CEO" for a single, unnumbered role name; the name itself otherwise.
pub(crate) fn the(name: String) -> String {
    if name.chars().any(|c| c.is_ascii_digit()) {
        name
    } else {
        format!("the {name}")
    }
}

pub(crate) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

pub use crate::explain_text_steps::{weights_table, ONE_SALE_NOTE};

/// Renders a sequence of steps: the cost at each kept step, and whether the output matched.
pub fn render_steps_text(steps: &StepsExplanation, style: &TextStyle) -> String {
    crate::explain_text_steps::steps_text(steps, style)
}
