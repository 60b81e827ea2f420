//! The training report: one self-contained HTML page (inline CSS and SVG, no scripts, no
//! external resources) with a summary table of the model and every figure that could be
//! drawn, each figure left out saying why.

use super::figures::{Figure, FigureKind};
use crate::format::escape;
use backprop::model::Model;
use std::fmt::Write;

/// What a report page holds.
#[derive(Clone, Debug, Default)]
pub struct ReportPage {
    /// The page title.
    pub title: String,
    /// (name, value) rows of the summary table.
    pub summary: Vec<(String, String)>,
    /// Lines said under the summary (what data the figures use, …).
    pub notes: Vec<String>,
    /// The figures, in order.
    pub figures: Vec<Figure>,
    /// The figures left out, with the reason.
    pub missing: Vec<(FigureKind, String)>,
}

const STYLE: &str = "body{font-family:'DejaVu Sans',sans-serif;max-width:1100px;margin:2em auto;\
padding:0 1em;color:#222}h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px \
solid #ddd}table{border-collapse:collapse}td{padding:2px 12px 2px 0;vertical-align:top}\
td:first-child{color:#555}figure{margin:1em 0}svg{max-width:100%;height:auto}\
.missing{color:#777}";

/// The summary rows of a model: architecture, training, data and the last epoch's figures.
pub fn model_summary(model: &Model) -> Vec<(String, String)> {
    let metadata = &model.metadata;
    let sizes: Vec<String> = metadata
        .architecture
        .sizes
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut rows = vec![
        (
            "network".to_string(),
            format!(
                "{} ({} parameters)",
                sizes.join("-"),
                crate::format::format_count(model.network.parameter_count() as u64)
            ),
        ),
        (
            "activations".to_string(),
            metadata.architecture.activations.join(", "),
        ),
        ("cost".to_string(), metadata.cost.clone()),
        ("task".to_string(), metadata.task.clone()),
        (
            "training data".to_string(),
            format!("{} ({} rows)", metadata.data.source, metadata.data.rows),
        ),
    ];
    let setting = |key: &str| {
        metadata
            .hyperparameters
            .get(key)
            .filter(|v| !v.is_null())
            .map(|v| v.to_string().trim_matches('"').to_string())
    };
    let mut training = Vec::new();
    for key in [
        "optimizer",
        "learning_rate",
        "batch_size",
        "epochs_run",
        "schedule",
    ] {
        if let Some(value) = setting(key) {
            training.push(format!("{} {value}", key.replace('_', " ")));
        }
    }
    if !training.is_empty() {
        rows.push(("training".to_string(), training.join(", ")));
    }
    if let Some(last) = metadata.history.last() {
        let mut figures = vec![format!("loss {:.4}", last.loss)];
        if let Some(accuracy) = last.accuracy {
            figures.push(format!("accuracy {:.2}%", 100.0 * accuracy));
        }
        if let Some(loss) = last.validation_loss {
            figures.push(format!("validation loss {loss:.4}"));
        }
        if let Some(accuracy) = last.validation_accuracy {
            figures.push(format!("validation accuracy {:.2}%", 100.0 * accuracy));
        }
        rows.push((format!("epoch {}", last.epoch), figures.join(", ")));
    }
    rows.push(("written by".to_string(), metadata.created_by.clone()));
    rows
}

/// The caption under `figure`, saying only what is drawn: a loss chart without a validation
/// curve (a run with no validation part) does not promise one.
fn figure_caption(figure: &super::Figure) -> &'static str {
    if figure.kind == FigureKind::Loss && !figure.svg.contains(">validation</text>") {
        "The cost per epoch on the training part (the mean over the epoch's batches, each taken before its step). The run had no validation part, so no validation curve is drawn."
    } else if figure.kind == FigureKind::Diagram && figure.title.contains("convolution") {
        "Each filter of the first convolution as k×k squares, one per weight: blue positive, orange negative, the colour's strength |w| on one scale for the layer (hover a square for its value). A trained filter reads as the stroke or edge it responds to."
    } else {
        caption(figure.kind)
    }
}

/// What each figure shows, said under it.
fn caption(kind: FigureKind) -> &'static str {
    match kind {
        FigureKind::Loss => "The cost per epoch: training (the mean over the epoch's batches, each taken before its step, solid) and validation (after the epoch, dashed).",
        FigureKind::Accuracy => "The share of examples classified right (R² for regression), per epoch.",
        FigureKind::Diagram => "Line width ∝ |w| on one scale for all layers, arrows in the forward direction; blue positive, orange negative; a node's shade is its bias.",
        FigureKind::LearningSpeed => "‖δˡ‖ = ‖∂C/∂bˡ‖ per layer on a fixed batch at the end of each epoch: how fast each layer's biases learn. Early layers far below later ones are Nielsen's vanishing gradients (chapter 5).",
        FigureKind::WeightGradients => "‖∂C/∂wˡ‖ per layer on the same batch (BP4: δˡ times the layer's input).",
        FigureKind::Saturation => "The share of sigmoid/tanh units whose σ′(z) is under a tenth of its peak, where they barely learn.",
        FigureKind::Confusion => "Rows: the true class; columns: the predicted one.",
        FigureKind::Boundary => "The network's prediction over the plane of the two input features (the background), with the data on top: a dot's colour is its true class.",
        FigureKind::Neurons => "What each hidden unit responds to: its activation over the input plane.",
        FigureKind::WeightCurve => "The cost against one weight, every other parameter fixed: backprop's ∂C/∂w is the slope of the tangent; a finite-difference nudge gives the same slope.",
    }
}

/// The page as HTML.
pub fn report_html(page: &ReportPage) -> String {
    let mut html = String::new();
    let _ = writeln!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    );
    let _ = writeln!(
        html,
        "<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        escape(&page.title)
    );
    let _ = writeln!(html, "<h1>{}</h1>\n<table>", escape(&page.title));
    for (name, value) in &page.summary {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(name),
            escape(value)
        );
    }
    html.push_str("</table>\n");
    for note in &page.notes {
        let _ = writeln!(html, "<p>{}</p>", escape(note));
    }
    for figure in &page.figures {
        let _ = writeln!(
            html,
            "<h2 id=\"{}\">{}</h2>\n<figure>\n{}<figcaption>{}</figcaption>\n</figure>",
            figure.kind.name(),
            escape(&figure.title),
            figure.svg,
            escape(figure_caption(figure))
        );
    }
    if !page.missing.is_empty() {
        html.push_str("<h2>Not drawn</h2>\n<ul class=\"missing\">\n");
        for (kind, reason) in &page.missing {
            let _ = writeln!(html, "<li>{}: {}</li>", kind.name(), escape(reason));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</body>\n</html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_holds_figures_inline_and_says_what_is_missing() {
        let page = ReportPage {
            title: "Report <1>".into(),
            summary: vec![("network".into(), "2-3-1".into())],
            notes: vec!["data: circle".into()],
            figures: vec![Figure {
                kind: FigureKind::Loss,
                title: "Loss per epoch".into(),
                svg: "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>\n".into(),
            }],
            missing: vec![(FigureKind::Boundary, "two features needed".into())],
        };
        let html = report_html(&page);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>Report &lt;1&gt;</title>"));
        assert!(html.contains("<h2 id=\"loss\">Loss per epoch</h2>"));
        assert!(html.contains("<li>boundary: two features needed</li>"));
        assert!(!html.contains("src=") && !html.contains("href="));
    }

    #[test]
    fn the_loss_caption_promises_only_the_curves_drawn() {
        let history = |validation: bool| -> Vec<backprop::model::EpochSummary> {
            (1..=3)
                .map(|epoch| {
                    let mut value = serde_json::json!({
                        "epoch": epoch, "loss": 1.0 / epoch as f64, "learning_rate": 0.1, "seconds": 0.01
                    });
                    if validation {
                        value["validation_loss"] = serde_json::json!(1.5 / epoch as f64);
                    }
                    serde_json::from_value(value).unwrap()
                })
                .collect()
        };
        for (validation, expected) in [
            (true, "and validation (after the epoch, dashed)"),
            (false, "no validation curve is drawn"),
        ] {
            let figure = super::super::figures::loss_figure(&history(validation)).unwrap();
            assert_eq!(figure.svg.contains(">validation</text>"), validation);
            assert!(figure_caption(&figure).contains(expected), "{validation}");
        }
    }
}
