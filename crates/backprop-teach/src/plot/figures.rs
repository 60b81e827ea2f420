//! The figures of a training report, built from a model file alone (loss, accuracy, learning
//! speed, saturation, the diagram) or from the model and labelled data (confusion matrix,
//! decision boundary, hidden neurons).
//!
//! The per-epoch figures read the history stored in the model's metadata
//! ([`EpochSummary`], with its per-layer [`LayerDiagnostics`](backprop::train::LayerDiagnostics)), so a report can be rebuilt
//! from the file at any time.

use super::chart::{LineChart, Series};
use super::svg::palette;
use backprop::model::EpochSummary;
use backprop_tensor::Matrix;

/// One picture of a report.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// What it shows.
    pub kind: FigureKind,
    /// Its title, as drawn.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// The pictures a report can hold; the names are `backprop plot --what`'s values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FigureKind {
    /// Loss per epoch, training and validation.
    Loss,
    /// Accuracy (classification) or R² (regression) per epoch.
    Accuracy,
    /// ‖δˡ‖ per layer per epoch.
    LearningSpeed,
    /// ‖∂C/∂wˡ‖ per layer per epoch.
    WeightGradients,
    /// The share of saturated sigmoid/tanh units per layer per epoch.
    Saturation,
    /// The network diagram.
    Diagram,
    /// The confusion matrix on labelled data.
    Confusion,
    /// The decision boundary over a 2-D input plane.
    Boundary,
    /// One heat map per hidden neuron over a 2-D input plane.
    Neurons,
    /// The cost against one weight, with backprop's tangent and a finite-difference nudge
    /// (needs a weight's name, so it is not in [`FigureKind::ALL`] or the report).
    WeightCurve,
}

impl FigureKind {
    /// Every kind, in report order.
    pub const ALL: [FigureKind; 9] = [
        FigureKind::Loss,
        FigureKind::Accuracy,
        FigureKind::Diagram,
        FigureKind::LearningSpeed,
        FigureKind::WeightGradients,
        FigureKind::Saturation,
        FigureKind::Confusion,
        FigureKind::Boundary,
        FigureKind::Neurons,
    ];

    /// The name on the command line and in file names: `loss`, `learning-speed`, …
    pub fn name(self) -> &'static str {
        match self {
            FigureKind::Loss => "loss",
            FigureKind::Accuracy => "accuracy",
            FigureKind::LearningSpeed => "learning-speed",
            FigureKind::WeightGradients => "weight-gradients",
            FigureKind::Saturation => "saturation",
            FigureKind::Diagram => "diagram",
            FigureKind::Confusion => "confusion",
            FigureKind::Boundary => "boundary",
            FigureKind::Neurons => "neurons",
            FigureKind::WeightCurve => "weight-curve",
        }
    }

    /// The kind named `name`.
    pub fn from_name(name: &str) -> Option<FigureKind> {
        FigureKind::ALL
            .into_iter()
            .chain([FigureKind::WeightCurve])
            .find(|kind| kind.name() == name)
    }

    /// True when the figure needs labelled data besides the model.
    pub fn needs_data(self) -> bool {
        matches!(
            self,
            FigureKind::Confusion
                | FigureKind::Boundary
                | FigureKind::Neurons
                | FigureKind::WeightCurve
        )
    }
}

/// Labelled rows to draw data figures with: raw features (the model's scaler is applied
/// here) and, for classification, class indices.
#[derive(Clone, Debug)]
pub struct FigureData {
    /// Raw feature rows, in the model's input order.
    pub features: Matrix<f32>,
    /// The true class of each row (classification).
    pub labels: Option<Vec<usize>>,
    /// What the rows are, e.g. `"circle (500 rows)"`.
    pub description: String,
}

/// Why a figure cannot be drawn, said in words.
pub type Unavailable = String;

fn summary_series(
    history: &[EpochSummary],
    label: &str,
    colour: &str,
    dashed: bool,
    value: impl Fn(&EpochSummary) -> Option<f64>,
) -> Option<Series> {
    let points: Vec<(f64, f64)> = history
        .iter()
        .filter_map(|summary| value(summary).map(|v| (summary.epoch as f64, v)))
        .collect();
    (!points.is_empty()).then(|| Series {
        label: label.into(),
        colour: colour.into(),
        points,
        dashed,
    })
}

/// Loss per epoch: training (accumulated over the epoch's batches) and validation.
pub fn loss_figure(history: &[EpochSummary]) -> std::result::Result<Figure, Unavailable> {
    if history.is_empty() {
        return Err("the model file holds no training history".into());
    }
    let mut chart = LineChart::new("Loss per epoch", "epoch", "loss (log scale)");
    chart.log_y = true;
    chart.series.extend(summary_series(
        history,
        "training",
        palette(0),
        false,
        |s| Some(s.loss),
    ));
    chart.series.extend(summary_series(
        history,
        "validation",
        palette(1),
        true,
        |s| s.validation_loss,
    ));
    Ok(figure(FigureKind::Loss, chart))
}

/// Accuracy per epoch (classification) or R² (regression), training and validation.
pub fn accuracy_figure(history: &[EpochSummary]) -> std::result::Result<Figure, Unavailable> {
    if history.is_empty() {
        return Err("the model file holds no training history".into());
    }
    let classification = history.iter().any(|s| s.accuracy.is_some());
    let mut chart = if classification {
        let mut chart = LineChart::new("Accuracy per epoch", "epoch", "accuracy");
        chart.percent = true;
        chart.series.extend(summary_series(
            history,
            "training",
            palette(0),
            false,
            |s| s.accuracy,
        ));
        chart.series.extend(summary_series(
            history,
            "validation",
            palette(1),
            true,
            |s| s.validation_accuracy,
        ));
        chart
    } else {
        let mut chart = LineChart::new("R² per epoch", "epoch", "R² (standardised targets)");
        chart.series.extend(summary_series(
            history,
            "training",
            palette(0),
            false,
            |s| s.r2,
        ));
        chart.series.extend(summary_series(
            history,
            "validation",
            palette(1),
            true,
            |s| s.validation_r2,
        ));
        chart
    };
    if chart.series.is_empty() {
        return Err("the history holds neither accuracy nor R²".into());
    }
    if classification {
        // From the tenth below the lowest point (at most 90%) up to 100%.
        let lowest = chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .fold(0.9, f64::min);
        chart.y_range = Some(((lowest * 10.0).floor() / 10.0, 1.0));
    }
    Ok(figure(FigureKind::Accuracy, chart))
}

/// Per-layer series from the stored diagnostics.
fn layer_chart(
    history: &[EpochSummary],
    kind: FigureKind,
    title: &str,
    y_label: &str,
    log_y: bool,
    value: impl Fn(&backprop::train::LayerDiagnostics) -> Option<f64>,
) -> std::result::Result<Figure, Unavailable> {
    let layers = history.iter().map(|s| s.layers.len()).max().unwrap_or(0);
    if layers == 0 {
        return Err("the model's history holds no per-layer diagnostics (it was trained before they were recorded)".into());
    }
    let mut chart = LineChart::new(title, "epoch", y_label);
    chart.log_y = log_y;
    if !log_y {
        chart.y_range = Some((0.0, 1.0));
        chart.percent = true;
    }
    for layer in 1..=layers {
        let points: Vec<(f64, f64)> = history
            .iter()
            .filter_map(|s| {
                s.layers
                    .iter()
                    .find(|d| d.layer == layer)
                    .and_then(&value)
                    .map(|v| (s.epoch as f64, v))
            })
            .collect();
        if !points.is_empty() {
            let name = if layer == layers {
                format!("layer {layer} (output)")
            } else {
                format!("layer {layer} (hidden)")
            };
            chart.series.push(Series {
                label: name,
                colour: palette(layer - 1).into(),
                points,
                dashed: false,
            });
        }
    }
    if chart.series.is_empty() {
        return Err(format!("no layer has figures for {}", kind.name()));
    }
    Ok(figure(kind, chart))
}

/// ‖δˡ‖ = ‖∂C/∂bˡ‖ per layer per epoch, log scale: Nielsen's speed of learning. Earlier layers
/// far below later ones show vanishing gradients.
pub fn learning_speed_figure(history: &[EpochSummary]) -> std::result::Result<Figure, Unavailable> {
    layer_chart(
        history,
        FigureKind::LearningSpeed,
        "Learning speed per layer: ‖δˡ‖",
        "‖δˡ‖ = ‖∂C/∂bˡ‖ (log scale)",
        true,
        |d| Some(d.delta_norm),
    )
}

/// ‖∂C/∂wˡ‖ per layer per epoch, log scale.
pub fn weight_gradient_figure(
    history: &[EpochSummary],
) -> std::result::Result<Figure, Unavailable> {
    layer_chart(
        history,
        FigureKind::WeightGradients,
        "Weight gradient per layer: ‖∂C/∂wˡ‖",
        "‖∂C/∂wˡ‖ (log scale)",
        true,
        |d| Some(d.weight_gradient_norm),
    )
}

/// The share of saturated sigmoid/tanh units per layer per epoch.
pub fn saturation_figure(history: &[EpochSummary]) -> std::result::Result<Figure, Unavailable> {
    let result = layer_chart(
        history,
        FigureKind::Saturation,
        "Saturated units per layer",
        "saturated share (σ′(z) under 10% of its peak)",
        false,
        |d| d.saturated,
    );
    result.map_err(|reason| {
        if reason.starts_with("no layer") {
            "no layer uses sigmoid or tanh, the activations that saturate".to_string()
        } else {
            reason
        }
    })
}

fn figure(kind: FigureKind, chart: LineChart) -> Figure {
    Figure {
        kind,
        title: chart.title.clone(),
        svg: chart.to_svg(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backprop::train::LayerDiagnostics;

    fn summary(epoch: usize, layers: Vec<LayerDiagnostics>) -> EpochSummary {
        EpochSummary {
            epoch,
            loss: 1.0 / epoch as f64,
            accuracy: Some(0.5 + 0.1 * epoch as f64),
            mae: None,
            r2: None,
            validation_loss: Some(1.2 / epoch as f64),
            validation_accuracy: Some(0.5),
            validation_mae: None,
            validation_r2: None,
            learning_rate: 0.1,
            step: epoch as u64,
            seconds: 0.0,
            layers,
        }
    }

    fn layer(layer: usize, delta_norm: f64, saturated: Option<f64>) -> LayerDiagnostics {
        LayerDiagnostics {
            layer,
            delta_norm,
            weight_gradient_norm: 2.0 * delta_norm,
            saturated,
        }
    }

    #[test]
    fn history_figures_show_training_and_validation() {
        let history: Vec<EpochSummary> = (1..=3).map(|e| summary(e, Vec::new())).collect();
        let loss = loss_figure(&history).unwrap();
        assert!(loss.svg.contains(">training</text>") && loss.svg.contains(">validation</text>"));
        let accuracy = accuracy_figure(&history).unwrap();
        assert!(accuracy.svg.contains("100%"));
        let error = learning_speed_figure(&history).unwrap_err();
        assert!(error.contains("no per-layer diagnostics"), "{error}");
        assert!(loss_figure(&[]).is_err());
    }

    #[test]
    fn layer_figures_have_one_line_per_layer() {
        let history: Vec<EpochSummary> = (1..=3)
            .map(|e| summary(e, vec![layer(1, 1e-3, Some(0.25)), layer(2, 1e-1, None)]))
            .collect();
        let speed = learning_speed_figure(&history).unwrap();
        assert!(speed.svg.contains(">layer 1 (hidden)</text>"));
        assert!(speed.svg.contains(">layer 2 (output)</text>"));
        assert_eq!(speed.svg.matches("<polyline").count(), 2);
        let saturation = saturation_figure(&history).unwrap();
        assert_eq!(saturation.svg.matches("<polyline").count(), 1);
        let none: Vec<EpochSummary> = (1..=2)
            .map(|e| summary(e, vec![layer(1, 1e-3, None)]))
            .collect();
        let error = saturation_figure(&none).unwrap_err();
        assert!(error.contains("sigmoid or tanh"), "{error}");
    }
}
