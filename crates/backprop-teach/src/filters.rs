//! A convolutional network's filters as small images.
//!
//! Filter f of a convolution is C kernels of k×k weights, one per input channel, stored as row
//! f of `layers.{i}.weight` in PyTorch's (F, C, k, k) order. Each weight is drawn as one square
//! of its kernel, blue when positive and orange when negative (the diagrams' colours), the
//! colour's strength |w| / max |w| on one scale per layer, so that two filters of a layer
//! compare at a glance and a near-white square is a weight near 0. A learned first-layer filter
//! of MNIST reads as a stroke or edge detector: blue where it wants ink, orange where it wants
//! none.

use crate::diagram::{tint, NEGATIVE, POSITIVE};
use crate::diagram_render::svg_open;
use crate::format::{escape, fixed, format_number};
use backprop::layer::Layer;
use backprop::network::Network;
use std::fmt::Write;

/// Which convolutions to draw, and how large.
#[derive(Clone, Debug)]
pub struct FilterOptions {
    /// The picture's title.
    pub title: String,
    /// Draw only the first convolution (the training report's view).
    pub first_only: bool,
    /// The side of one weight's square, in pixels.
    pub cell: f64,
}

impl Default for FilterOptions {
    /// Every convolution, 8-pixel squares.
    fn default() -> Self {
        Self {
            title: "The filters of each convolution".into(),
            first_only: false,
            cell: 8.0,
        }
    }
}

const MARGIN: f64 = 20.0;
const MAX_WIDTH: f64 = 1100.0;
const HEADING: f64 = 44.0;

/// The SVG picture of the filters of `network`'s convolutions.
///
/// # Errors
/// When the network has no convolution.
pub fn filters_svg(network: &Network<f64>, options: &FilterOptions) -> Result<String, String> {
    let convolutions: Vec<(usize, &backprop::conv::Conv2d<f64>)> = network
        .layers()
        .iter()
        .enumerate()
        .filter_map(|(index, layer)| match layer {
            Layer::Convolution(conv) => Some((index, conv)),
            _ => None,
        })
        .take(if options.first_only { 1 } else { usize::MAX })
        .collect();
    if convolutions.is_empty() {
        return Err("the network has no convolution to draw filters of".into());
    }
    let mut body = String::new();
    let mut y = 56.0;
    let mut width: f64 = 480.0;
    for (index, conv) in convolutions {
        let geometry = conv.geometry();
        let (filters, channels, kernel) =
            (geometry.filters, geometry.input.channels, geometry.kernel);
        let weights = conv.weight.as_slice();
        let largest = weights.iter().fold(0.0_f64, |m, w| m.max(w.abs()));
        // Small kernels get larger squares, so a 3×3 filter is as easy to read as a 5×5 one.
        let cell = (options.cell * 5.0 / kernel as f64).max(options.cell);
        let _ = writeln!(
            body,
            r##"<text x="{MARGIN}" y="{}" font-size="13" font-weight="bold">layers.{index}.weight: {filters} filters, each {channels} × {kernel}×{kernel} ({})</text>"##,
            fixed(y, 1),
            conv.activation
        );
        let _ = writeln!(
            body,
            r##"<text x="{MARGIN}" y="{}" font-size="11" fill="#555555">{}</text>"##,
            fixed(y + 16.0, 1),
            escape(&format!(
                "one row of {channels} kernel{} per filter (one per input channel); full colour = |w| of {}, the layer's largest",
                if channels == 1 { "" } else { "s" },
                format_number(largest)
            ))
        );
        y += HEADING - 12.0;
        let kernel_side = kernel as f64 * cell;
        let filter_width = channels as f64 * (kernel_side + 2.0) + 34.0;
        let per_row =
            (((MAX_WIDTH - 2.0 * MARGIN) / filter_width).floor() as usize).clamp(1, filters);
        width = width.max(2.0 * MARGIN + per_row as f64 * filter_width);
        for filter in 0..filters {
            let (row, column) = (filter / per_row, filter % per_row);
            let left = MARGIN + column as f64 * filter_width;
            let top = y + row as f64 * (kernel_side + 10.0);
            let _ = writeln!(
                body,
                r##"<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#333333">{}</text>"##,
                fixed(left + 26.0, 1),
                fixed(top + kernel_side / 2.0 + 3.0, 1),
                filter + 1
            );
            let row_weights =
                &weights[filter * channels * kernel * kernel..][..channels * kernel * kernel];
            for channel in 0..channels {
                let x0 = left + 30.0 + channel as f64 * (kernel_side + 2.0);
                let _ = writeln!(
                    body,
                    r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#bbbbbb" stroke-width="0.5"/>"##,
                    fixed(x0 - 0.5, 1),
                    fixed(top - 0.5, 1),
                    fixed(kernel_side + 1.0, 1),
                    fixed(kernel_side + 1.0, 1)
                );
                for r in 0..kernel {
                    for c in 0..kernel {
                        let w = row_weights[(channel * kernel + r) * kernel + c];
                        let strength = if largest > 0.0 {
                            w.abs() / largest
                        } else {
                            0.0
                        };
                        let colour = tint(if w >= 0.0 { POSITIVE } else { NEGATIVE }, strength);
                        let _ = writeln!(
                            body,
                            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{colour}"><title>{}</title></rect>"##,
                            fixed(x0 + c as f64 * cell, 1),
                            fixed(top + r as f64 * cell, 1),
                            fixed(cell, 1),
                            fixed(cell, 1),
                            escape(&format!(
                                "layers.{index}.weight[{filter}, {channel}, {r}, {c}] = {w:.6}"
                            ))
                        );
                    }
                }
            }
        }
        let rows = filters.div_ceil(per_row);
        y += rows as f64 * (kernel_side + 10.0) + HEADING;
    }
    let height = y;
    // Wide enough for the title (about 9 pixels a character at 16 px).
    let width = width.max(2.0 * MARGIN + 9.0 * options.title.chars().count() as f64);
    let mut out = svg_open(width, height, &options.title);
    let _ = writeln!(
        out,
        r##"<text x="{MARGIN}" y="28" font-size="16" font-weight="bold">{}</text>"##,
        escape(&options.title)
    );
    out.push_str(&body);
    let legend_y = height - 22.0;
    for (offset, (colour, label)) in [(POSITIVE, "positive weight"), (NEGATIVE, "negative weight")]
        .into_iter()
        .enumerate()
    {
        let x = MARGIN + offset as f64 * 170.0;
        let _ = writeln!(
            out,
            r##"<rect x="{}" y="{}" width="12" height="12" fill="{colour}"/><text x="{}" y="{}" font-size="11" fill="#555555">{label}</text>"##,
            fixed(x, 1),
            fixed(legend_y - 10.0, 1),
            fixed(x + 18.0, 1),
            fixed(legend_y, 1)
        );
    }
    out.push_str("</svg>\n");
    Ok(out)
}
