//! Self-contained HTML pages for explanations: the text, the diagram of the forward pass
//! (node shade = activation), of the backward pass (node = δ, arrows backward) and of the
//! update (line width ∝ |Δw|), all inline,
//! with no external files, scripts or fonts.

use crate::diagram::{diagram_svg, DiagramOptions};
use crate::explain_text::{render_steps_text, render_text, TextStyle};
use crate::explanation::Explanation;
use crate::format::{escape, fixed, format_number};
use crate::steps::StepsExplanation;
use crate::CompanyRoles;
use std::fmt::Write;

const STYLE: &str =
    "body{font-family:sans-serif;max-width:80em;margin:2em auto;padding:0 1em;color:#222}\
pre{background:#f6f6f6;padding:1em;white-space:pre-wrap;overflow-wrap:anywhere;font-size:0.85em;line-height:1.35}\
figure{margin:1.5em 0}figcaption{color:#555;font-size:0.9em}svg{max-width:100%;height:auto}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n{body}</body>\n</html>\n",
        escape(title),
        escape(title)
    )
}

fn figure(svg: &str, caption: &str) -> String {
    format!(
        "<figure>\n{svg}<figcaption>{}</figcaption>\n</figure>\n",
        escape(caption)
    )
}

fn diagram_options(roles: Option<&CompanyRoles>) -> DiagramOptions {
    DiagramOptions {
        roles: roles.cloned(),
        ..DiagramOptions::default()
    }
}

/// The figures of one step: the forward pass and the change the update made.
fn step_figures(explanation: &Explanation, roles: Option<&CompanyRoles>) -> String {
    let forward = diagram_options(roles)
        .with_activations_for(&explanation.input)
        .with_title("The forward pass");
    let deltas: Vec<Vec<f64>> = explanation
        .layers
        .iter()
        .map(|layer| layer.units.iter().map(|u| u.delta).collect())
        .collect();
    let backward = diagram_options(roles)
        .with_deltas(&deltas)
        .with_title("The backward pass");
    let change = diagram_options(roles)
        .with_before(explanation.network_before())
        .with_title("The update");
    let mut out = String::new();
    if let Ok(svg) = diagram_svg(explanation.network_before(), &forward) {
        out += &figure(&svg, "The forward pass: line width ∝ |w| on one scale for all layers, blue positive, orange negative; a node's shade is its activation for this example.");
    }
    if let Ok(svg) = diagram_svg(explanation.network_before(), &backward) {
        out += &figure(&svg, "The backward pass (BP1, BP2): each node's number and shade are its δ; δ starts at the output and flows back along the weights (arrows), each unit's δ weighed by the weight it travels along and scaled by σ′(z). No δ reaches the inputs, which do not learn; the first layer's weights still get ∂C/∂w = a⁰ₖ δ¹ⱼ. Line width ∝ |w| on one scale for all layers.");
    }
    if let Ok(svg) = diagram_svg(explanation.network_after(), &change) {
        out += &figure(&svg, "The update w ← w − η ∂C/∂w: line width ∝ |Δw| on one scale for all layers; green where the trust grew, red where it shrank; a node's shade and number are its new bias.");
    }
    out
}

/// One step as a self-contained HTML page: the diagrams and the text (no colour codes).
pub fn render_html(explanation: &Explanation, roles: Option<&CompanyRoles>) -> String {
    let style = TextStyle {
        colour: false,
        roles: roles.cloned(),
    };
    let mut body = step_figures(explanation, roles);
    let _ = writeln!(
        body,
        "<pre>{}</pre>",
        escape(&render_text(explanation, &style))
    );
    page("One step of backpropagation", &body)
}

/// C per step as an SVG line plot (linear axes).
pub(crate) fn cost_plot_svg(steps: &StepsExplanation) -> String {
    let (width, height, left, right, top, bottom) = (640.0, 300.0, 70.0, 20.0, 30.0, 45.0);
    let mut costs = vec![steps.initial_cost];
    costs.extend(steps.records.iter().map(|r| r.cost_after));
    let highest = costs
        .iter()
        .cloned()
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let count = (costs.len() - 1).max(1) as f64;
    let x = |i: usize| left + (width - left - right) * i as f64 / count;
    let y = |c: f64| top + (height - top - bottom) * (1.0 - c / highest);
    let points: Vec<String> = costs
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{},{}", fixed(x(i), 1), fixed(y(*c), 1)))
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">"##
    );
    let _ = writeln!(
        out,
        r##"<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>"##
    );
    let axes = format!(
        "M{left},{top} L{left},{} L{},{}",
        height - bottom,
        width - right,
        height - bottom
    );
    let _ = writeln!(
        out,
        r##"<path d="{axes}" fill="none" stroke="#333333" stroke-width="1"/>"##
    );
    let _ = writeln!(
        out,
        r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-width="2"/>"##,
        points.join(" ")
    );
    let labels = [
        (left - 6.0, top + 4.0, "end", format_number(highest)),
        (left - 6.0, height - bottom + 4.0, "end", "0".to_string()),
        (left, height - bottom + 18.0, "middle", "0".to_string()),
        (
            width - right,
            height - bottom + 18.0,
            "middle",
            (costs.len() - 1).to_string(),
        ),
        (width / 2.0, height - 8.0, "middle", "step".to_string()),
        (left, top - 12.0, "middle", "cost C".to_string()),
    ];
    for (lx, ly, anchor, label) in labels {
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" text-anchor="{anchor}" font-size="12">{}</text>"##,
            fixed(lx, 1),
            fixed(ly, 1),
            escape(&label)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// A sequence of steps as a self-contained HTML page: the cost per step, the first step in
/// full, and the network at the steps kept (0, 1, 2, 5, 10, …, the last), each shaded by its
/// activations, the last one drawn as the change from the start.
pub fn render_steps_html(steps: &StepsExplanation, roles: Option<&CompanyRoles>) -> String {
    let style = TextStyle {
        colour: false,
        roles: roles.cloned(),
    };
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<pre>{}</pre>",
        escape(&render_steps_text(steps, &style))
    );
    body += &figure(
        &cost_plot_svg(steps),
        "The cost after each step, computed by the engine.",
    );
    if let Some(first) = &steps.first {
        body += "<h2>The first step</h2>\n";
        body += &step_figures(first, roles);
        let _ = writeln!(body, "<pre>{}</pre>", escape(&render_text(first, &style)));
    }
    body += "<h2>The network, step by step</h2>\n";
    for (step, network) in steps.snapshots() {
        let options = diagram_options(roles)
            .with_activations_for(&steps.input)
            .with_title(&format!("After step {step}"));
        if let Ok(svg) = diagram_svg(network, &options) {
            body += &figure(&svg, &format!("After {step} steps."));
        }
    }
    if let (Some((_, start)), Some((last, end))) =
        (steps.snapshots().first(), steps.snapshots().last())
    {
        let options = diagram_options(roles)
            .with_before(start)
            .with_title(&format!("Steps 0 → {last}: the change"));
        if let Ok(svg) = diagram_svg(end, &options) {
            body += &figure(
                &svg,
                "Everything the steps changed: green where the trust grew, red where it shrank.",
            );
        }
    }
    page("Backpropagation, step after step", &body)
}
