//! Teaching: backpropagation shown at work, with every number taken from the engine.
//!
//! - [`explain`]: one training step of any network on one example, told in numbers and words —
//!   the forward pass zˡ = wˡ aˡ⁻¹ + bˡ, aˡ = σ(zˡ); the cost; δᴸ = ∇ₐC ⊙ σ′(zᴸ) (BP1);
//!   δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ) (BP2); ∂C/∂bˡ = δˡ (BP3); ∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ (BP4); and the
//!   update w ← w − η ∂C/∂w with the cost before and after. [`CompanyExample`] is the 2-3-1
//!   "company" network: 2 salespeople, 3 managers, 1 CEO.
//! - [`steps`]: plain gradient-descent steps repeated until the output matches the target.
//! - [`diagram`]: SVG network diagrams, line width ∝ |w|, colour by sign, or the change
//!   between two networks.
//! - [`mod@compare`]: brute force against backprop, measured here and extrapolated.
//!
//! Every number comes from [`Network::trace`](crate::Network::trace),
//! [`Network::loss`](crate::Network::loss), the engine's SGD rule or a timed run. The library
//! prints nothing: each result is structured data (serialisable to JSON) with rendering
//! functions returning plain or ANSI-coloured text, SVG or a self-contained HTML page.

pub mod company;
pub mod compare;
mod compare_plot;
mod compare_render;
pub mod diagram;
mod diagram_options;
mod diagram_render;
pub mod explain;
mod explain_html;
mod explain_text;
mod explain_text_backward;
mod explain_text_forward;
mod explain_text_update;
pub mod explanation;
pub mod extrapolate;
pub mod format;
mod search;
pub mod steps;

pub use company::CompanyExample;
pub use compare::{compare, CompareConfig, ComparisonReport, Method, MethodRun, WeightPosition};
pub use compare_plot::compare_plot_svg;
pub use diagram::{diagram_layout, diagram_svg, DiagramLayout, DiagramOptions, NetworkWeights};
pub use explain::explain_step;
pub use explain_html::{render_html, render_steps_html};
pub use explain_text::{render_steps_text, render_text, TextStyle};
pub use explanation::Explanation;
pub use format::format_duration;
pub use steps::{explain_steps, StepsExplanation, StepsOptions};

use serde::Serialize;

/// Names for the units of the company network: inputs are salespeople, hidden units
/// managers, the output the CEO.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompanyRoles {
    /// One input unit: `"salesperson"`.
    pub input: String,
    /// One hidden unit: `"manager"`.
    pub hidden: String,
    /// One output unit: `"CEO"`.
    pub output: String,
}

impl Default for CompanyRoles {
    fn default() -> Self {
        Self::company()
    }
}

impl CompanyRoles {
    /// Salespeople, managers and the CEO.
    pub fn company() -> Self {
        Self {
            input: "salesperson".into(),
            hidden: "manager".into(),
            output: "CEO".into(),
        }
    }

    /// The name of unit `unit` (0-based) in column `column` of a network with layer sizes
    /// `sizes` (column 0 is the input): `"salesperson 1"`, `"manager 2"`, `"CEO"` (a single
    /// output is not numbered). With more than one hidden layer, hidden units also name their
    /// layer: `"manager 2 of layer 1"`.
    pub fn unit_name(&self, sizes: &[usize], column: usize, unit: usize) -> String {
        let last = sizes.len() - 1;
        if column == 0 {
            format!("{} {}", self.input, unit + 1)
        } else if column == last {
            if sizes[last] == 1 {
                self.output.clone()
            } else {
                format!("{} {}", self.output, unit + 1)
            }
        } else if last > 2 {
            format!("{} {} of layer {column}", self.hidden, unit + 1)
        } else {
            format!("{} {}", self.hidden, unit + 1)
        }
    }
}

/// The plural of a role: `"salesperson"` → `"salespeople"`, `"manager"` → `"managers"`.
pub(crate) fn plural(role: &str) -> String {
    match role.strip_suffix("person") {
        Some(stem) => format!("{stem}people"),
        None => format!("{role}s"),
    }
}

/// The name of a unit with or without roles: `"manager 2"`, or `"input 3"`, `"unit 2 of
/// layer 1"`, `"output 1"` when there are none.
pub fn unit_name(
    roles: Option<&CompanyRoles>,
    sizes: &[usize],
    column: usize,
    unit: usize,
) -> String {
    match roles {
        Some(roles) => roles.unit_name(sizes, column, unit),
        None if column == 0 => format!("input {}", unit + 1),
        None if column == sizes.len() - 1 => format!("output {}", unit + 1),
        None => format!("unit {} of layer {column}", unit + 1),
    }
}
