//! # backprop-teach
//!
//! Backpropagation shown at work, with every number taken from the engine (`backprop`): this
//! crate explains, compares and draws; the engine trains. Nothing here recomputes a gradient
//! or a loss for display.
//!
//! - [`explain`]: one training step of any network on one example, told in numbers and words —
//!   the forward pass zˡ = wˡ aˡ⁻¹ + bˡ, aˡ = σ(zˡ); the cost; δᴸ = ∇ₐC ⊙ σ′(zᴸ) (BP1);
//!   δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ) (BP2); ∂C/∂bˡ = δˡ (BP3); ∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ (BP4); and the
//!   update w ← w − η ∂C/∂w with the cost before and after. [`CompanyExample`] is the 2-3-1
//!   "company" network: 2 salespeople, 3 managers, 1 CEO.
//! - [`batch`]: a batch whose examples pull one weight different ways, settled by the mean.
//! - [`chain_rule()`]: the chain rule for one weight, written out with the step's numbers.
//! - [`steps`]: plain gradient-descent steps repeated until the output matches the target.
//! - [`diagram`]: SVG network diagrams, line width ∝ |w|, colour by sign, or the change
//!   between two networks.
//! - [`mod@compare`]: brute force against backprop, measured here and extrapolated.
//! - [`plot`]: pictures of training — loss and learning-speed charts, confusion matrices,
//!   decision boundaries and hidden-neuron heat maps over a [`plot::plane`] grid — and the
//!   self-contained HTML training report that gathers them.
//!
//! Every number comes from [`Network::trace`](backprop::Network::trace),
//! [`Network::loss`](backprop::Network::loss), the engine's SGD rule, a model's stored history
//! or a timed run. The library prints nothing and writes no files: each result is structured
//! data (serialisable to JSON) with rendering functions returning plain or ANSI-coloured text,
//! SVG or a self-contained HTML page.
//!
//! ```
//! use backprop_teach::{render_text, CompanyExample, TextStyle};
//! let explanation = CompanyExample::default().explain().unwrap();
//! let text = render_text(&explanation, &TextStyle::company(false));
//! assert!(text.contains("CEO"));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
pub mod chain_rule;
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
mod explain_text_steps;
mod explain_text_update;
pub mod explanation;
pub mod extrapolate;
pub mod feature_maps;
pub mod filters;
pub mod format;
pub mod plot;
mod roles;
mod search;
pub mod steps;

pub use batch::{batch_pull, BatchPull};
pub use chain_rule::{chain_rule, ChainRule, WeightName};
pub use company::CompanyExample;
pub use compare::{compare, CompareConfig, ComparisonReport, Method, MethodRun, WeightPosition};
pub use compare_plot::compare_plot_svg;
pub use diagram::{diagram_layout, diagram_svg, DiagramLayout, DiagramOptions, NetworkWeights};
pub use explain::{explain_step, unreachable_target};
pub use explain_html::{render_html, render_steps_html};
pub use explain_text::{render_steps_text, render_text, weights_table, TextStyle, ONE_SALE_NOTE};
pub use explanation::Explanation;
pub use feature_maps::{explain_feature_maps, FeatureMapExplanation};
pub use filters::{filters_svg, FilterOptions};
pub use format::format_duration;
pub(crate) use roles::plural;
pub use roles::{unit_name, CompanyRoles};
pub use steps::{explain_steps, StepsExplanation, StepsOptions};
