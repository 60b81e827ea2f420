//! One training step of a network on one example, recorded number by number.
//!
//! [`explain_step`] runs [`Network::trace`] on one example (x, y) and keeps, for every layer l
//! and unit j:
//!
//! - the forward pass: zˡⱼ = Σₖ wˡⱼₖ aˡ⁻¹ₖ + bˡⱼ and aˡⱼ = σ(zˡⱼ);
//! - ∂C/∂aˡⱼ: ∇ₐC at the output, Σₖ wˡ⁺¹ₖⱼ δˡ⁺¹ₖ elsewhere (each term kept, see
//!   [`FeedbackTerm`]), and σ′(zˡⱼ);
//! - δˡⱼ = ∂C/∂aˡⱼ · σ′(zˡⱼ) (BP1 at the output, or the fused aᴸ − y; BP2 elsewhere);
//! - ∂C/∂bˡⱼ = δˡⱼ (BP3) and ∂C/∂wˡⱼₖ = aˡ⁻¹ₖ δˡⱼ (BP4);
//! - the plain SGD update w ← w − η ∂C/∂w, b ← b − η ∂C/∂b (the engine's
//!   `sgd_update`), and the cost before and after it, the latter
//!   recomputed by [`Network::loss`] on the updated network.
//!
//! For one example the batch mean is the example itself, so δ is exactly the textbook δ.
//! The only arithmetic done here is bookkeeping for display: the products wδ that BP2 sums,
//! a − y, and norms and rankings for the summaries of wide layers.

use crate::explanation::{
    Explanation, FeedbackTerm, LayerStep, LayerSummary, OutputError, UnitStep, UnitValue,
    UpdateSummary, WeightValue, COUNTING,
};
use backprop::dense::Dense;
use backprop::network::Network;
use backprop::optim::{sgd_update, SgdConfig, SgdState};
use backprop::trace::LayerTrace;
use backprop::{Error, Result};
use backprop_tensor::Matrix;

/// How many entries the summaries of a layer list (largest |δ|, strongest weights).
pub const SUMMARY_ENTRIES: usize = 3;

/// The indices of the `count` largest |values|, largest first (ties: lower index first).
pub(crate) fn largest(values: &[f64], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].abs().total_cmp(&values[a].abs()).then(a.cmp(&b)));
    order.truncate(count);
    order
}

/// The largest entries of `matrix`, a weight-shaped matrix of the tensor `layers.{tensor}`.
fn weight_values(matrix: &Matrix<f64>, tensor: usize) -> Vec<WeightValue> {
    let cols = matrix.cols();
    largest(matrix.as_slice(), SUMMARY_ENTRIES)
        .into_iter()
        .map(|i| {
            let (to_unit, from_unit) = (i / cols, i % cols);
            WeightValue {
                to_unit,
                from_unit,
                tensor_element: format!("layers.{tensor}.weight[{to_unit}, {from_unit}]"),
                value: matrix.as_slice()[i],
            }
        })
        .collect()
}

fn shape_error(context: &str, expected: usize, found: usize) -> Error {
    Error::Shape {
        context: context.into(),
        expected: format!("{expected} values"),
        found: format!("{found}"),
    }
}

/// Explains one plain SGD step of `network` on the example (`x_row`, `y_row`) at
/// `learning_rate` (see the module documentation for what is recorded).
///
/// # Errors
/// [`Error::Shape`] when `x_row` or `y_row` do not fit the network, [`Error::Training`] when
/// the learning rate is not positive and finite.
pub fn explain_step(
    network: &Network<f64>,
    x_row: &[f64],
    y_row: &[f64],
    learning_rate: f64,
) -> Result<Explanation> {
    if x_row.len() != network.input_width() {
        return Err(shape_error(
            "explain: the input row",
            network.input_width(),
            x_row.len(),
        ));
    }
    if y_row.len() != network.output_width() {
        return Err(shape_error(
            "explain: the target row",
            network.output_width(),
            y_row.len(),
        ));
    }
    if !(learning_rate > 0.0 && learning_rate.is_finite()) {
        return Err(Error::Training(format!(
            "the learning rate must be positive and finite, got {learning_rate}"
        )));
    }
    let (x, y) = (Matrix::row_vector(x_row), Matrix::row_vector(y_row));
    let trace = network.trace(&x, &y);
    // The update, with the engine's SGD rule and the trace's gradients.
    let mut after = network.clone();
    for (dense, layer) in after.dense_layers_mut().into_iter().zip(&trace.layers) {
        let config = SgdConfig::default();
        let (weight, bias) = (&mut dense.weight, &mut dense.bias);
        let (gw, gb) = (&layer.weight_gradient, &layer.bias_gradient);
        sgd_update(
            &config,
            learning_rate,
            weight.as_mut_slice(),
            gw.as_slice(),
            &mut SgdState::default(),
        );
        sgd_update(
            &config,
            learning_rate,
            bias.as_mut_slice(),
            gb.as_slice(),
            &mut SgdState::default(),
        );
    }
    let new_layers = after.dense_layers();
    let count = trace.layers.len();
    let layers = (0..count)
        .map(|index| {
            let layer = &trace.layers[index];
            // A dense-only network: dense layer l is the model file's layers.{l − 1}.
            let tensor = layer.layer - 1;
            LayerStep {
                layer: layer.layer,
                weight_tensor: format!("layers.{tensor}.weight"),
                bias_tensor: format!("layers.{tensor}.bias"),
                activation: layer.activation.to_string(),
                is_output: index + 1 == count,
                input: layer.input.row(0).to_vec(),
                units: unit_steps(layer, trace.layers.get(index + 1), new_layers[index]),
                summary: summarise(layer),
            }
        })
        .collect();
    let prediction = trace.output().row(0).to_vec();
    let cost_after = after.loss(&x, &y);
    let gradient_norm = trace
        .layers
        .iter()
        .map(|l| l.weight_gradient.norm().powi(2) + l.bias_gradient.norm().powi(2))
        .sum::<f64>()
        .sqrt();
    Ok(Explanation {
        counting: COUNTING,
        sizes: network.config().sizes.clone(),
        activations: network
            .config()
            .activations
            .iter()
            .map(|a| a.to_string())
            .collect(),
        cost: network.cost().to_string(),
        input: x_row.to_vec(),
        target: y_row.to_vec(),
        learning_rate,
        output: OutputError {
            difference: prediction.iter().zip(y_row).map(|(a, y)| a - y).collect(),
            prediction,
            target: y_row.to_vec(),
            cost: trace.cost,
            penalty: network.penalty(),
            fused: trace.fused_output,
        },
        update: UpdateSummary {
            cost_before: trace.cost,
            cost_after,
            change: cost_after - trace.cost,
            fell: cost_after < trace.cost,
            prediction_after: after.forward(&x).row(0).to_vec(),
            gradient_norm,
        },
        layers,
        before: network.clone(),
        after,
    })
}

/// A warning when a target lies outside what the network's output activation can produce
/// (a sigmoid gives 0 to 1, tanh −1 to 1, relu 0 and up): the prediction can then only creep
/// towards the nearest edge, so the cost never reaches 0 and "until it matches" may never come.
pub fn unreachable_target(network: &Network<f64>, target: &[f64]) -> Option<String> {
    let activation = network.config().activations.last()?.to_string();
    let (low, high) = match activation.as_str() {
        "sigmoid" | "softmax" => (0.0, 1.0),
        "tanh" => (-1.0, 1.0),
        "relu" => (0.0, f64::INFINITY),
        _ => return None,
    };
    let outside: Vec<String> = target
        .iter()
        .filter(|y| **y < low || **y > high)
        .map(|y| crate::format::format_number(*y))
        .collect();
    if outside.is_empty() {
        return None;
    }
    let range = if high.is_finite() {
        format!("between {low} and {high}")
    } else {
        format!("{low} or more")
    };
    Some(format!(
        "the target {} lies outside what a {activation} output can give ({range}): the \
         prediction can only approach the nearest edge, so the cost cannot fall to 0",
        outside.join(", ")
    ))
}

/// Each unit's step in `layer`, with BP2's terms read from the layer above (`next`) and the
/// updated weights from `new`.
fn unit_steps(
    layer: &LayerTrace<f64>,
    next: Option<&LayerTrace<f64>>,
    new: &Dense<f64>,
) -> Vec<UnitStep> {
    let feedback = |j: usize| -> Vec<FeedbackTerm> {
        let Some(next) = next else {
            return Vec::new();
        };
        (0..next.z.cols())
            .map(|k| {
                let (weight, delta) = (next.weight[(k, j)], next.delta[(0, k)]);
                let product = weight * delta;
                FeedbackTerm {
                    from_unit: k,
                    weight,
                    delta,
                    product,
                }
            })
            .collect()
    };
    (0..layer.z.cols())
        .map(|j| {
            let (z, a) = (layer.z[(0, j)], layer.a[(0, j)]);
            let elementwise = layer.activation.is_elementwise();
            UnitStep {
                unit: j,
                weights: layer.weight.row(j).to_vec(),
                bias: layer.bias[(0, j)],
                z,
                a,
                cost_gradient: layer.grad_output[(0, j)],
                activation_derivative: elementwise.then(|| layer.activation.derivative(z, a)),
                delta: layer.delta[(0, j)],
                feedback: feedback(j),
                bias_gradient: layer.bias_gradient[(0, j)],
                weight_gradients: layer.weight_gradient.row(j).to_vec(),
                new_bias: new.bias[(0, j)],
                new_weights: new.weight.row(j).to_vec(),
            }
        })
        .collect()
}

/// The norms and largest entries of a layer.
fn summarise(layer: &LayerTrace<f64>) -> LayerSummary {
    let largest_deltas = largest(layer.delta.as_slice(), SUMMARY_ENTRIES)
        .into_iter()
        .map(|j| UnitValue {
            unit: j,
            value: layer.delta[(0, j)],
        })
        .collect();
    LayerSummary {
        weight_norm: layer.weight.norm(),
        bias_norm: layer.bias.norm(),
        activation_norm: layer.a.norm(),
        delta_norm: layer.delta.norm(),
        weight_gradient_norm: layer.weight_gradient.norm(),
        largest_deltas,
        strongest_weights: weight_values(&layer.weight, layer.layer - 1),
        largest_weight_gradients: weight_values(&layer.weight_gradient, layer.layer - 1),
    }
}
