//! Network diagrams: units in columns, one line per weight, as wide as the weight.
//!
//! - Line width is proportional to |wˡⱼₖ|, on one scale for the whole network:
//!   width = 0.5 + 7.5 · |w| / max|w| pixels, the maximum taken over every layer, so widths
//!   compare across layers. Colour gives the sign, as in TensorFlow
//!   Playground: blue `#1f77b4` for w ≥ 0, orange `#ff7f0e` for w < 0.
//! - With a `before` network the diagram shows the change instead: width ∝ |Δw| (scaled the
//!   same way), green `#2ca02c` where the trust grew (|w| larger than before), red `#d62728`
//!   where it shrank, grey where it stayed.
//! - A node's shade is its bias, or its activation aˡⱼ for a given input (computed by the
//!   engine's forward pass): blue for positive, orange for negative, on one absolute scale
//!   for every node (tint 0.85 · tanh |value|), so shades compare across columns.
//! - A column wider than `max_units_per_layer` shows only its strongest units (largest
//!   Σ|w|, or Σ|Δw|, over the weights into and out of them) and notes how many units and how
//!   many weights into it were left out.
//!
//! - Every line ends in an arrowhead at the unit it feeds: the forward direction. With
//!   `deltas` the diagram is the backward pass instead: nodes show δˡⱼ and the arrowheads
//!   point back, from each unit to the units that feed it, the way BP2 sends δ. With
//!   `show_values` each line also carries its value (or its change), about a fifth of the way
//!   from the unit it reads, where the lines of one source still fan apart.
//!
//! The SVG uses only lines, polygons, circles, rectangles and text with `font-family="sans-serif"`, and
//! prints numbers with fixed decimals, so the same network always gives the same text.

pub use crate::diagram_options::{DiagramOptions, NetworkWeights};
use crate::unit_name;
use backprop::network::Network;
use backprop::{Error, Result};
use backprop_tensor::{Float, Matrix};
use serde::Serialize;

/// Blue, for positive weights and values.
pub const POSITIVE: &str = "#1f77b4";
/// Orange, for negative weights and values.
pub const NEGATIVE: &str = "#ff7f0e";
/// Green, for weights whose magnitude grew.
pub const GREW: &str = "#2ca02c";
/// Red, for weights whose magnitude shrank.
pub const SHRANK: &str = "#d62728";
/// Grey, for weights that did not change.
pub const UNCHANGED: &str = "#999999";
/// The thinnest and the thickest line, in pixels.
pub const LINE_WIDTH_RANGE: (f64, f64) = (0.5, 8.0);

/// A laid-out diagram: what [`diagram_svg`] draws, as data.
#[derive(Clone, Debug, Serialize)]
pub struct DiagramLayout {
    /// Width in pixels.
    pub width: f64,
    /// Height in pixels.
    pub height: f64,
    /// The title.
    pub title: String,
    /// True when lines show the change from an earlier network.
    pub shows_change: bool,
    /// True when nodes are shaded by their activation for an input, not by their bias.
    pub shows_activations: bool,
    /// True when each line carries its value.
    pub shows_values: bool,
    /// True for the backward pass: nodes show δ, arrows point from a layer to the one before.
    pub shows_deltas: bool,
    /// Column 0 is the input, column l the output of dense layer l.
    pub columns: Vec<Column>,
    /// One per drawn weight, layer by layer, in (to, from) order.
    pub edges: Vec<Edge>,
}

/// One column of units.
#[derive(Clone, Debug, Serialize)]
pub struct Column {
    /// Heading, e.g. `"managers (3)"` or `"layer 1: sigmoid (30)"`.
    pub title: String,
    /// Centre x.
    pub x: f64,
    /// Units in the layer.
    pub size: usize,
    /// The drawn units, in unit order.
    pub nodes: Vec<Node>,
    /// Units of this layer not drawn.
    pub hidden_units: usize,
    /// Weights into this layer not drawn.
    pub hidden_weights: usize,
    /// `"… 754 more units, 23,000 more weights not shown"`, when something was left out.
    pub note: Option<String>,
}

/// One drawn unit.
#[derive(Clone, Debug, Serialize)]
pub struct Node {
    /// j, from 0.
    pub unit: usize,
    /// Centre x.
    pub x: f64,
    /// Centre y.
    pub y: f64,
    /// `"manager 2"`, `"input 3"`, ….
    pub label: String,
    /// Its bias or activation (none for inputs without an activation row).
    pub value: Option<f64>,
    /// Fill colour, `#rrggbb`.
    pub fill: String,
}

/// One drawn weight wˡⱼₖ.
#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    /// i in `layers.{i}` (the dense layer, from 0).
    pub layer: usize,
    /// j, the unit it feeds.
    pub to_unit: usize,
    /// k, the unit it reads.
    pub from_unit: usize,
    /// `layers.{i}.weight[j, k]`.
    pub name: String,
    /// w.
    pub weight: f64,
    /// w − w_before, when drawing a change.
    pub change: Option<f64>,
    /// Start (the reading unit).
    pub from: (f64, f64),
    /// End (the fed unit).
    pub to: (f64, f64),
    /// Line width in pixels.
    pub width: f64,
    /// Line colour, `#rrggbb`.
    pub colour: String,
}

const COLUMN_GAP: f64 = 220.0;
const ROW_GAP: f64 = 54.0;
const LEFT: f64 = 130.0;
const RIGHT: f64 = 130.0;
const TOP: f64 = 78.0;
const BOTTOM: f64 = 96.0;

/// Mixes white with `colour` (`#rrggbb`) by `amount` in [0, 1].
pub(crate) fn tint(colour: &str, amount: f64) -> String {
    let channel =
        |i: usize| u8::from_str_radix(&colour[1 + 2 * i..3 + 2 * i], 16).unwrap_or(0) as f64;
    let mix = |c: f64| (255.0 + (c - 255.0) * amount.clamp(0.0, 1.0)).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(channel(0)),
        mix(channel(1)),
        mix(channel(2))
    )
}

/// The activations of every column for one input row, from the engine's forward pass.
fn activations<T: Float>(network: &Network<T>, input: &[f64]) -> Vec<Vec<f64>> {
    let mut a = Matrix::row_vector(input).cast::<T>();
    let mut columns = vec![input.to_vec()];
    for layer in network.layers() {
        a = layer.infer(&a);
        if layer.as_dense().is_some() {
            columns.push(a.cast::<f64>().row(0).to_vec());
        }
    }
    columns
}

fn check(condition: bool, context: &str, expected: String, found: String) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(Error::Shape {
            context: context.into(),
            expected,
            found,
        })
    }
}

/// Lays out the diagram of `network` (see the module documentation).
///
/// # Errors
/// [`Error::Shape`] when the activation row or the `before` network do not fit the network.
pub fn diagram_layout<T: Float>(
    network: &Network<T>,
    options: &DiagramOptions,
) -> Result<DiagramLayout> {
    let now = NetworkWeights::of(network);
    let sizes = now.sizes.clone();
    if let Some(input) = &options.activations_for {
        check(
            input.len() == sizes[0],
            "diagram: the input row",
            format!("{} values", sizes[0]),
            input.len().to_string(),
        )?;
    }
    if let Some(before) = &options.before {
        check(
            before.sizes == sizes,
            "diagram: the earlier network",
            format!("{sizes:?}"),
            format!("{:?}", before.sizes),
        )?;
    }
    // What line widths show: |w|, or |Δw| against the earlier network.
    let magnitudes: Vec<Matrix<f64>> = now
        .layers
        .iter()
        .enumerate()
        .map(|(i, (w, _))| match &options.before {
            Some(before) => w.zip_map(&before.layers[i].0, |a, b| (a - b).abs()),
            None => w.map(f64::abs),
        })
        .collect();
    if let Some(deltas) = &options.deltas {
        let widths: Vec<usize> = deltas.iter().map(Vec::len).collect();
        check(
            widths == sizes[1..],
            "diagram: the δ of each layer",
            format!("{:?}", &sizes[1..]),
            format!("{widths:?}"),
        )?;
    }
    let values: Vec<Option<Vec<f64>>> = match (&options.deltas, &options.activations_for) {
        (Some(deltas), _) => std::iter::once(None)
            .chain(deltas.iter().cloned().map(Some))
            .collect(),
        (None, Some(input)) => activations(network, input).into_iter().map(Some).collect(),
        (None, None) => std::iter::once(None)
            .chain(now.layers.iter().map(|(_, b)| Some(b.row(0).to_vec())))
            .collect(),
    };
    let limit = options.max_units_per_layer.max(1);
    let shown: Vec<Vec<usize>> = (0..sizes.len())
        .map(|c| crate::diagram_render::strongest_units(&magnitudes, c, sizes[c], limit))
        .collect();
    let tallest = shown.iter().map(Vec::len).max().unwrap_or(1) as f64;
    let last = sizes.len() - 1;
    let mut columns = Vec::with_capacity(sizes.len());
    for (c, units) in shown.iter().enumerate() {
        let x = LEFT + c as f64 * COLUMN_GAP;
        let offset = TOP + (tallest - units.len() as f64) * ROW_GAP / 2.0 + ROW_GAP / 2.0;
        let column_values = &values[c];
        let nodes = units
            .iter()
            .enumerate()
            .map(|(row, &unit)| {
                let value = column_values.as_ref().map(|v| v[unit]);
                let fill = match value {
                    // One absolute scale for every node, tanh |v| (0.5 → 0.46, 1 → 0.76, 3 →
                    // 0.995): a bias of 0.02 stays nearly white even when it is the only node
                    // of its column.
                    Some(v) if v != 0.0 => tint(
                        if v < 0.0 { NEGATIVE } else { POSITIVE },
                        0.85 * v.abs().tanh(),
                    ),
                    _ => "#ffffff".to_string(),
                };
                Node {
                    unit,
                    x,
                    y: offset + row as f64 * ROW_GAP,
                    label: match options.roles {
                        None if c > 0 && c < last => format!("unit {}", unit + 1),
                        _ => unit_name(options.roles.as_ref(), &sizes, c, unit),
                    },
                    value,
                    fill,
                }
            })
            .collect();
        let hidden_units = sizes[c] - units.len();
        let hidden_weights = if c == 0 {
            0
        } else {
            sizes[c] * sizes[c - 1] - units.len() * shown[c - 1].len()
        };
        let title = crate::diagram_render::column_title(options.roles.as_ref(), network, c, last);
        let note = crate::diagram_render::note(hidden_units, hidden_weights);
        columns.push(Column {
            title,
            x,
            size: sizes[c],
            nodes,
            hidden_units,
            hidden_weights,
            note,
        });
    }
    let edges = crate::diagram_render::edges(&now, options.before.as_ref(), &magnitudes, &columns);
    let title = options
        .title
        .clone()
        .unwrap_or_else(|| crate::diagram_render::default_title(options, &sizes));
    Ok(DiagramLayout {
        width: LEFT + last as f64 * COLUMN_GAP + RIGHT,
        height: TOP + tallest * ROW_GAP + BOTTOM,
        title,
        shows_change: options.before.is_some(),
        shows_activations: options.activations_for.is_some(),
        shows_values: options.show_values,
        shows_deltas: options.deltas.is_some(),
        columns,
        edges,
    })
}

/// The diagram of `network` as SVG text (see the module documentation).
///
/// ```
/// use backprop_teach::{diagram_svg, CompanyExample, DiagramOptions};
/// let example = CompanyExample::default();
/// let options = DiagramOptions::default().with_roles(example.roles());
/// let svg = diagram_svg(&example.network(), &options).unwrap();
/// assert_eq!(svg.matches("<line").count(), 2 * 3 + 3 * 1);
/// assert!(svg.contains("manager 2") && svg.contains("CEO"));
/// ```
///
/// # Errors
/// As [`diagram_layout`].
pub fn diagram_svg<T: Float>(network: &Network<T>, options: &DiagramOptions) -> Result<String> {
    Ok(crate::diagram_render::render(&diagram_layout(
        network, options,
    )?))
}
