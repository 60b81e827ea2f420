//! Pictures of training: SVG line charts, heat maps and confusion matrices, and the
//! self-contained HTML training report that gathers them.
//!
//! - [`figures`]: every figure of a model ([`FigureKind`]): loss and accuracy per epoch,
//!   per-layer learning speed ‖δˡ‖ and ‖∂C/∂wˡ‖, saturated units, the network diagram, and
//!   with labelled data the confusion matrix, the decision boundary and hidden-neuron heat
//!   maps (two input features).
//! - [`weight_curve`]: the cost against one weight, with backprop's tangent and a
//!   finite-difference nudge.
//! - [`report`]: one HTML page holding them inline (no external resources).
//! - [`plane`]: the heat-map grid, a network run over a rectangle of the input plane (the
//!   playground's live maps use it too).
//! - [`chart`], [`heatmap`], [`confusion`], [`svg`]: the drawing itself.
//!
//! The per-epoch figures read the model's stored history, so they can be rebuilt from the
//! file; the library writes no files and prints nothing.

pub mod chart;
pub mod confusion;
pub mod data_figures;
pub mod figures;
pub mod heatmap;
pub mod plane;
pub mod report;
pub mod svg;
pub mod weight_curve;

pub use figures::{Figure, FigureData, FigureKind};
pub use report::{report_html, ReportPage};

use backprop::model::Model;

/// The figure of `kind` for `model`, with `data` for the kinds that need it; an `Err` says
/// in words why it cannot be drawn (no history, no data, not two features, …).
pub fn figure(
    model: &Model,
    kind: FigureKind,
    data: Option<&FigureData>,
) -> Result<Figure, String> {
    let history = &model.metadata.history;
    let needs = || format!("the {} figure needs labelled data (--data)", kind.name());
    match kind {
        FigureKind::Loss => figures::loss_figure(history),
        FigureKind::Accuracy => figures::accuracy_figure(history),
        FigureKind::LearningSpeed => figures::learning_speed_figure(history),
        FigureKind::WeightGradients => figures::weight_gradient_figure(history),
        FigureKind::Saturation => figures::saturation_figure(history),
        FigureKind::Diagram => data_figures::diagram_figure(model),
        FigureKind::Confusion => data_figures::confusion_figure(model, data.ok_or_else(needs)?),
        FigureKind::Boundary => data_figures::boundary_figure(model, data.ok_or_else(needs)?),
        FigureKind::Neurons => data_figures::neurons_figure(model, data.ok_or_else(needs)?),
        FigureKind::WeightCurve => {
            Err("the weight-curve figure needs a weight: --weight layers.I.weight[J,K]".into())
        }
    }
}
