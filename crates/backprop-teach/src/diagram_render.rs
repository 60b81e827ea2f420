//! The pieces of a [`DiagramLayout`](crate::DiagramLayout) that are not geometry — which units
//! to draw, titles, notes, edge widths and colours — and its SVG text.

use crate::diagram::{
    Column, DiagramLayout, DiagramOptions, Edge, NetworkWeights, GREW, LINE_WIDTH_RANGE, NEGATIVE,
    POSITIVE, SHRANK, UNCHANGED,
};
use crate::format::{escape, fixed, format_count, format_number};
use crate::{plural, CompanyRoles};
use backprop::network::Network;
use backprop_tensor::{Float, Matrix};
use std::fmt::Write;

/// The units of column `column` to draw: all of them when they fit in `limit`, otherwise the
/// `limit` with the largest total magnitude over the weights into and out of them, in unit order.
pub(crate) fn strongest_units(
    magnitudes: &[Matrix<f64>],
    column: usize,
    size: usize,
    limit: usize,
) -> Vec<usize> {
    if size <= limit {
        return (0..size).collect();
    }
    let strength: Vec<f64> = (0..size)
        .map(|unit| {
            let into = if column > 0 {
                magnitudes[column - 1].row(unit).iter().sum()
            } else {
                0.0
            };
            let out_of = magnitudes
                .get(column)
                .map_or(0.0, |m| (0..m.rows()).map(|j| m[(j, unit)]).sum());
            into + out_of
        })
        .collect();
    let mut order: Vec<usize> = (0..size).collect();
    order.sort_by(|&a, &b| strength[b].total_cmp(&strength[a]).then(a.cmp(&b)));
    order.truncate(limit);
    order.sort_unstable();
    order
}

/// `"managers (3)"`, `"layer 1: sigmoid (30)"`, `"input (784)"`.
pub(crate) fn column_title<T: Float>(
    roles: Option<&CompanyRoles>,
    network: &Network<T>,
    column: usize,
    last: usize,
) -> String {
    let size = network.config().sizes[column];
    match roles {
        Some(roles) if column == last && size == 1 => roles.output.clone(),
        Some(roles) => {
            let role = match column {
                0 => &roles.input,
                c if c == last => &roles.output,
                _ => &roles.hidden,
            };
            format!("{} ({size})", plural(role))
        }
        None if column == 0 => format!("input ({size})"),
        None => format!(
            "layer {column}: {} ({size})",
            network.config().activations[column - 1]
        ),
    }
}

/// `"… 754 more units, 23,000 more weights not shown"`, or `None` when nothing was left out.
pub(crate) fn note(hidden_units: usize, hidden_weights: usize) -> Option<String> {
    let units = format!("{} more units", format_count(hidden_units as u64));
    let weights = format!("{} more weights", format_count(hidden_weights as u64));
    match (hidden_units > 0, hidden_weights > 0) {
        (true, true) => Some(format!("… {units}, {weights} not shown")),
        (true, false) => Some(format!("… {units} not shown")),
        (false, true) => Some(format!("… {weights} not shown")),
        (false, false) => None,
    }
}

/// The title when none was given.
pub(crate) fn default_title(options: &DiagramOptions, sizes: &[usize]) -> String {
    let name = match options.roles {
        Some(_) => "The company network".to_string(),
        None => format!(
            "Network {}",
            sizes
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join("-")
        ),
    };
    if options.before.is_some() {
        format!("{name}: the change from the earlier weights")
    } else if options.deltas.is_some() {
        format!("{name}: the backward pass")
    } else {
        name
    }
}

/// One edge per drawn (to, from) pair, layer by layer.
pub(crate) fn edges(
    now: &NetworkWeights,
    before: Option<&NetworkWeights>,
    magnitudes: &[Matrix<f64>],
    columns: &[Column],
) -> Vec<Edge> {
    let (thinnest, thickest) = LINE_WIDTH_RANGE;
    let mut edges = Vec::new();
    // One scale for every layer: a line twice as wide is twice the |w| (or |Δw|) wherever it
    // is, so a small first-layer change never looks as large as the CEO's.
    let largest = magnitudes.iter().map(Matrix::max_abs).fold(0.0, f64::max);
    for (i, (weight, _)) in now.layers.iter().enumerate() {
        for to in &columns[i + 1].nodes {
            for from in &columns[i].nodes {
                let (j, k) = (to.unit, from.unit);
                let w = weight[(j, k)];
                let magnitude = magnitudes[i][(j, k)];
                let width = if largest > 0.0 {
                    thinnest + (thickest - thinnest) * magnitude / largest
                } else {
                    thinnest
                };
                let (change, colour) = match before {
                    Some(before) => {
                        let old = before.layers[i].0[(j, k)];
                        let grown = w.abs() - old.abs();
                        let colour = if grown > 0.0 {
                            GREW
                        } else if grown < 0.0 {
                            SHRANK
                        } else {
                            UNCHANGED
                        };
                        (Some(w - old), colour)
                    }
                    None => (None, if w < 0.0 { NEGATIVE } else { POSITIVE }),
                };
                edges.push(Edge {
                    layer: i,
                    to_unit: j,
                    from_unit: k,
                    name: format!("layers.{i}.weight[{j}, {k}]"),
                    weight: w,
                    change,
                    from: (from.x, from.y),
                    to: (to.x, to.y),
                    width,
                    colour: colour.to_string(),
                });
            }
        }
    }
    edges
}

fn text(out: &mut String, x: f64, y: f64, anchor: &str, size: u32, extra: &str, content: &str) {
    let _ = writeln!(
        out,
        r##"<text x="{}" y="{}" text-anchor="{anchor}" font-size="{size}"{extra}>{}</text>"##,
        fixed(x, 1),
        fixed(y, 1),
        escape(content)
    );
}

/// A change with its sign and 2 decimals: `+0.12`, `-0.03`, `0.00`.
fn signed_fixed(value: f64) -> String {
    let text = fixed(value, 2);
    if text.starts_with('-') || text == "0.00" {
        text
    } else {
        format!("+{text}")
    }
}

/// The opening of a picture: the `<svg>` element `width` × `height` pixels, its title, and a
/// white background.
pub(crate) fn svg_open(width: f64, height: f64, title: &str) -> String {
    let (w, h) = (fixed(width, 0), fixed(height, 0));
    let mut out = String::new();
    let _ = writeln!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif">"##
    );
    let _ = writeln!(out, r##"<title>{}</title>"##, escape(title));
    let _ = writeln!(
        out,
        r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>"##
    );
    out
}

/// The SVG text of a layout.
pub(crate) fn render(layout: &DiagramLayout) -> String {
    let mut out = svg_open(layout.width, layout.height, &layout.title);
    text(
        &mut out,
        layout.width / 2.0,
        28.0,
        "middle",
        16,
        r#" font-weight="bold""#,
        &layout.title,
    );
    for column in &layout.columns {
        text(
            &mut out,
            column.x,
            58.0,
            "middle",
            12,
            r##" fill="#333333""##,
            &column.title,
        );
    }
    for edge in &layout.edges {
        // The line stops where the arrowhead starts, just outside the unit it feeds (radius
        // 16), so the head is not hidden under the circle.
        let (dx, dy) = (edge.to.0 - edge.from.0, edge.to.1 - edge.from.1);
        let length = (dx * dx + dy * dy).sqrt().max(1.0);
        // Forward: the head at the unit fed; backward (δ): at the unit that fed it.
        let (tip, towards) = if layout.shows_deltas {
            (edge.from, (-dx, -dy))
        } else {
            (edge.to, (dx, dy))
        };
        let end = (
            tip.0 - towards.0 * 17.0 / length,
            tip.1 - towards.1 * 17.0 / length,
        );
        let base = (
            end.0 - towards.0 * 10.0 / length,
            end.1 - towards.1 * 10.0 / length,
        );
        // No δ reaches the inputs (they do not learn): the first layer's lines carry no head
        // in the backward pass, and run to the input's edge.
        let headless = layout.shows_deltas && edge.layer == 0;
        let (start, stop) = match (layout.shows_deltas, headless) {
            (true, true) => (edge.to, end),
            (true, false) => (edge.to, base),
            _ => (edge.from, base),
        };
        let tooltip = match edge.change {
            Some(change) => format!(
                "{}: {} → {} (Δ {})",
                edge.name,
                format_number(edge.weight - change),
                format_number(edge.weight),
                format_number(change)
            ),
            None => format!("{} = {}", edge.name, format_number(edge.weight)),
        };
        let _ = writeln!(
            out,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}" stroke-opacity="0.85" stroke-linecap="butt"><title>{}</title></line>"##,
            fixed(start.0, 1),
            fixed(start.1, 1),
            fixed(stop.0, 1),
            fixed(stop.1, 1),
            edge.colour,
            fixed(edge.width, 3),
            escape(&tooltip)
        );
        // The arrowhead, a triangle drawn as a plain polygon (no markers or references, so
        // the SVG stays self-contained for every renderer): tip at the unit's edge, at least
        // as wide as the line.
        if headless {
            continue;
        }
        let half = (edge.width * 0.75).max(4.5);
        let (ux, uy) = (towards.0 / length, towards.1 / length);
        let _ = writeln!(
            out,
            r##"<polygon points="{},{} {},{} {},{}" fill="{}" fill-opacity="0.85"/>"##,
            fixed(end.0, 1),
            fixed(end.1, 1),
            fixed(base.0 - uy * half, 1),
            fixed(base.1 + ux * half, 1),
            fixed(base.0 + uy * half, 1),
            fixed(base.1 - ux * half, 1),
            edge.colour
        );
    }
    if layout.shows_values {
        for edge in &layout.edges {
            let value = match edge.change {
                Some(change) => format!("Δ{}", signed_fixed(change)),
                None => fixed(edge.weight, 2),
            };
            let (x, y) = (
                edge.from.0 + 0.22 * (edge.to.0 - edge.from.0),
                edge.from.1 + 0.22 * (edge.to.1 - edge.from.1) - 3.0,
            );
            let halo =
                r##" fill="#222222" stroke="#ffffff" stroke-width="3" paint-order="stroke""##;
            text(&mut out, x, y, "middle", 9, halo, &value);
        }
    }
    let last = layout.columns.len() - 1;
    for (c, column) in layout.columns.iter().enumerate() {
        for node in &column.nodes {
            let _ = writeln!(
                out,
                r##"<circle cx="{}" cy="{}" r="16" fill="{}" stroke="#555555" stroke-width="1"/>"##,
                fixed(node.x, 1),
                fixed(node.y, 1),
                node.fill
            );
            if let Some(value) = node.value {
                text(
                    &mut out,
                    node.x,
                    node.y + 3.0,
                    "middle",
                    9,
                    "",
                    // δ is small: three decimals keep it readable.
                    &fixed(value, if layout.shows_deltas { 3 } else { 2 }),
                );
            }
            let (x, y, anchor) = match c {
                0 => (node.x - 22.0, node.y + 4.0, "end"),
                c if c == last => (node.x + 22.0, node.y + 4.0, "start"),
                _ => (node.x, node.y + 27.0, "middle"),
            };
            let halo =
                r##" fill="#333333" stroke="#ffffff" stroke-width="3" paint-order="stroke""##;
            text(&mut out, x, y, anchor, 10, halo, &node.label);
        }
        if let Some(note) = &column.note {
            // "… 18 more units, 23,376 more weights not shown" on two lines.
            let lines: Vec<&str> = note.split_inclusive(", ").collect();
            let top = layout.height - 58.0 - 14.0 * (lines.len() as f64 - 1.0);
            for (i, line) in lines.iter().enumerate() {
                let y = top + 14.0 * i as f64;
                text(
                    &mut out,
                    column.x,
                    y,
                    "middle",
                    11,
                    r##" fill="#555555""##,
                    line.trim_end(),
                );
            }
        }
    }
    let (legend, key): ([(&str, &str); 2], &str) = if layout.shows_change {
        (
            [
                (GREW, "trust grew (|w| larger)"),
                (SHRANK, "trust shrank (|w| smaller)"),
            ],
            "line width ∝ |Δw|, one scale for all layers; node: new bias b (shade, number)",
        )
    } else {
        (
            [(POSITIVE, "positive weight"), (NEGATIVE, "negative weight")],
            if layout.shows_deltas {
                "line width ∝ |w|, one scale; arrows: δ flowing back; node: δ"
            } else if layout.shows_activations {
                "line width ∝ |w|, one scale for all layers; node: activation a (shade, number)"
            } else {
                "line width ∝ |w|, one scale for all layers; node: bias b (shade, number)"
            },
        )
    };
    let mut x = 16.0;
    let y = layout.height - 26.0;
    for (colour, label) in legend {
        let _ = writeln!(
            out,
            r##"<rect x="{}" y="{}" width="22" height="6" fill="{colour}"/>"##,
            fixed(x, 1),
            fixed(y - 6.0, 1)
        );
        text(&mut out, x + 28.0, y, "start", 11, "", label);
        x += 40.0 + 6.0 * label.chars().count() as f64;
    }
    text(
        &mut out,
        x + 8.0,
        y,
        "start",
        11,
        r##" fill="#555555""##,
        key,
    );
    out.push_str("</svg>\n");
    out
}
