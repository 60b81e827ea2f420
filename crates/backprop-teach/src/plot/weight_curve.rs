//! The cost as a function of one weight, with the tangent backprop computes and a
//! finite-difference nudge: what "∂C/∂w" means, drawn.
//!
//! All other parameters stay fixed at the model's values. The cost is the engine's
//! [`Network::loss`](backprop::Network::loss) on the labelled rows (the mean over them, penalty
//! included), computed at 81 values of w across w₀ ± max(1, |w₀|). The tangent's slope is the
//! trace's ∂C/∂w at w₀ (backprop); the nudge is the central difference
//! (C(w₀ + h) − C(w₀ − h)) / 2h, drawn as the secant through those two points with a visible
//! h (an eighth of the range) and reported, with h = 10⁻⁴ · max(1, |w₀|), beside the
//! backprop slope so the two can be compared.

use super::chart::{LineChart, Series};
use super::figures::{Figure, FigureData, FigureKind};
use crate::chain_rule::WeightName;
use crate::format::{format_number, operand};
use backprop::model::Model;
use backprop::network::Network;
use backprop_tensor::Matrix;
use serde::Serialize;

/// Points on the curve.
const SAMPLES: usize = 81;

/// The numbers behind the figure.
#[derive(Clone, Debug, Serialize)]
pub struct WeightCurve {
    /// The weight, as named in the model file.
    pub weight: WeightName,
    /// w₀, the model's value.
    pub value: f64,
    /// C(w₀).
    pub cost: f64,
    /// ∂C/∂w at w₀ from backprop (the trace).
    pub gradient: f64,
    /// h of the reported central difference.
    pub h: f64,
    /// (C(w₀ + h) − C(w₀ − h)) / 2h.
    pub numeric_gradient: f64,
    /// (w, C(w)) along the curve.
    pub curve: Vec<(f64, f64)>,
}

/// The network's inputs and targets for `data`: the model's scaler applied, classes one-hot
/// (or 0/1 for a single sigmoid output).
fn inputs_and_targets(
    model: &Model,
    data: &FigureData,
    outputs: usize,
) -> Result<(Matrix<f64>, Matrix<f64>), String> {
    let labels = data
        .labels
        .as_ref()
        .filter(|_| model.metadata.task == "classification");
    let labels = labels.ok_or("the weight-curve figure needs a classifier and labelled data")?;
    let features = match &model.metadata.preprocessing.input_scaler {
        Some(scaler) => scaler.transform(&data.features),
        None => data.features.clone(),
    };
    let x: Matrix<f64> = features.cast();
    let y = Matrix::from_fn(labels.len(), outputs, |row, column| {
        let class = labels[row];
        f64::from(u8::from(if outputs == 1 {
            class == 1
        } else {
            class == column
        }))
    });
    Ok((x, y))
}

/// The curve of the cost against `weight` on `data`, and its figure.
///
/// # Errors
/// In words: a weight that does not exist, or data without labels.
pub fn weight_curve(
    model: &Model,
    data: &FigureData,
    weight: WeightName,
) -> Result<(WeightCurve, Figure), String> {
    let network: Network<f64> = model.network.cast();
    let name = format!("layers.{}.weight", weight.layer_index);
    let matrix = network.parameter(&name).ok_or_else(|| {
        format!(
            "{name}: the network has dense layers layers.0 to layers.{}",
            network.dense_layers().len() - 1
        )
    })?;
    let (rows, columns) = (matrix.rows(), matrix.cols());
    if weight.to_unit >= rows || weight.from_unit >= columns {
        return Err(format!(
            "{name}[{},{}]: that tensor is {rows}×{columns} (rows 0 to {}, columns 0 to {})",
            weight.to_unit,
            weight.from_unit,
            rows - 1,
            columns - 1
        ));
    }
    let index = weight.to_unit * columns + weight.from_unit;
    let value = matrix.as_slice()[index];
    let (x, y) = inputs_and_targets(model, data, network.output_width())?;
    let mut probe = network.clone();
    let mut cost_at = |w: f64| {
        probe
            .parameter_mut(&name)
            .expect("checked above")
            .as_mut_slice()[index] = w;
        probe.loss(&x, &y)
    };
    let span = value.abs().max(1.0);
    let curve: Vec<(f64, f64)> = (0..SAMPLES)
        .map(|i| {
            let w = value - span + 2.0 * span * i as f64 / (SAMPLES - 1) as f64;
            (w, cost_at(w))
        })
        .collect();
    let h = 1e-4 * span;
    let numeric_gradient = (cost_at(value + h) - cost_at(value - h)) / (2.0 * h);
    let visible = span / 8.0;
    let secant = [
        (value - visible, cost_at(value - visible)),
        (value + visible, cost_at(value + visible)),
    ];
    let cost = network.loss(&x, &y);
    let trace = network.trace(&x, &y);
    let gradient = trace.layers[weight.layer_index].weight_gradient.as_slice()[index];
    let half = span / 2.0;
    let tangent = vec![
        (value - half, cost - gradient * half),
        (value + half, cost + gradient * half),
    ];
    let label = format!("{name}[{},{}]", weight.to_unit, weight.from_unit);
    let mut chart = LineChart::new(
        &format!("The cost against one weight, {label}"),
        &format!("{label} (every other parameter fixed)"),
        "cost C on the data",
    );
    // The y axis spans the curve and the tangent (not from 0), so the bend and the slope show.
    let (low, high) = curve.iter().chain(&tangent).fold(
        (f64::INFINITY, f64::NEG_INFINITY),
        |(low, high), &(_, c)| (low.min(c), high.max(c)),
    );
    let pad = ((high - low) * 0.08).max(1e-9);
    chart.y_range = Some((low - pad, high + pad));
    chart.series = vec![
        Series {
            label: "C(w), computed by the forward pass at each w".into(),
            colour: "#1f77b4".into(),
            points: curve.clone(),
            dashed: false,
        },
        Series {
            label: format!(
                "tangent at w₀ = {}: slope ∂C/∂w = {} (backprop)",
                format_number(value),
                format_number(gradient)
            ),
            colour: "#d62728".into(),
            points: tangent,
            dashed: false,
        },
        Series {
            label: format!(
                "nudge w₀ ± {}: secant slope {}",
                format_number(visible),
                format_number((secant[1].1 - secant[0].1) / (2.0 * visible))
            ),
            colour: "#2ca02c".into(),
            points: secant.to_vec(),
            dashed: true,
        },
    ];
    chart.note = Some(format!(
        "finite difference with h = {}: (C(w₀ + h) − C(w₀ − h)) / 2h = {}; backprop: {}",
        operand(h),
        operand(numeric_gradient),
        operand(gradient)
    ));
    let figure = Figure {
        kind: FigureKind::WeightCurve,
        title: chart.title.clone(),
        svg: chart.to_svg(),
    };
    Ok((
        WeightCurve {
            weight,
            value,
            cost,
            gradient,
            h,
            numeric_gradient,
            curve,
        },
        figure,
    ))
}
